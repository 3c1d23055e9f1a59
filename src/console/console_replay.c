/*
 * console_replay: POST /api/requests/ID/replay sends a recorded request
 * again, byte for byte as it was received (plus `X-Lb-Replay-Of: ID` after
 * the request line, so the copy can be told apart), to the listener it came
 * on, over lb's HTTP client; the answer's status comes back as JSON once the
 * copy's answer has ended. The copy goes through lb like any request: it is
 * routed, logged and recorded anew.
 *
 * A request that came on an HTTPS listener goes again over TLS, with the
 * server name (SNI) its client sent and no verification of the certificate
 * (lb's own). An HTTP/2 request goes as HTTP/1.1 (lb's client speaks no h2):
 * its fields as its recorded head shows them, its body with a Content-Length.
 *
 * Refused with 409: a request whose head or body the console did not keep
 * whole (a body over the limit, or streamed to an HTTP target), and one
 * whose listener required a client certificate (mutual TLS, verify), which
 * a replay has none to present.
 */
#include "console/console_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_client.h"
#include "net/http_server.h"

#define REPLAY_TIMEOUT 60

static void replay_answer(struct subscriber *s, int status, json_t *doc)
{
	struct http_request *req = s->req;

	req->route = NULL;
	s->replay = NULL;
	console_respond_json(s->c, req, status, doc);
	free(s);
}

static void on_head(void *cookie, struct http_reply *reply)
{
	struct subscriber *s = cookie;

	s->status = reply->status;
}

static void on_body(void *cookie, const char *p, size_t n)
{
	(void)cookie;
	(void)p;
	(void)n;
}

static void on_end(void *cookie)
{
	struct subscriber *s = cookie;

	replay_answer(s, 200, json_pack("{s:I,s:i}", "replayed", (json_int_t)s->replay_of, "status", s->status));
}

static void on_error(void *cookie, enum http_client_error e)
{
	struct subscriber *s = cookie;
	static const char *const why[] = { "refused", "connect timeout", "closed before its answer ended",
					   "timed out", "malformed answer", "TLS handshake failed" };

	replay_answer(s, 502, json_pack("{s:s}", "error", why[e]));
}

static const struct http_exchange_cbs replay_cbs = { on_head, on_body, on_end, on_error, NULL };

void console_replay_abort(struct subscriber *s)
{
	http_exchange_cancel(s->replay);
	s->req->route = NULL;
	free(s);
}

/* The value of a header in a head (case-insensitive name), or SV_NULL. */
static struct sv head_value(struct sv head, const char *name)
{
	struct sv line, n, v;

	for (size_t i = 0; sv_next_line(head, &i, &line);) {
		v = sv_cut(line, ':', &n);
		if (v.p && sv_eq_cstr_nocase(n, name))
			return sv_trim(v);
	}
	return SV_NULL;
}

static void refuse(struct console *c, struct http_request *req, int status, const char *why)
{
	console_respond_json(c, req, status, json_pack("{s:s}", "error", why));
}

/* The copy's head into c->scratch: the recorded one, with X-Lb-Replay-Of after
 * the request line; an HTTP/2 one as HTTP/1.1, its body framed by a length. */
static void replay_head(struct console *c, const struct reqrec *r, uint64_t id, bool h2, size_t body_n)
{
	struct sv head = rec_get(r, RF_HEAD);
	const char *eol = memchr(head.p, '\n', head.n);
	const char *version = h2 ? memrchr(head.p, ' ', (size_t)(eol - head.p)) : NULL;

	buf_reset(&c->scratch);
	if (version)
		buf_printf(&c->scratch, "%.*s HTTP/1.1\r\n", (int)(version - head.p), head.p);
	else
		buf_append(&c->scratch, head.p, (size_t)(eol + 1 - head.p));
	buf_printf(&c->scratch, "X-Lb-Replay-Of: %llu\r\n", (unsigned long long)id);
	/* the header lines, without the blank line that ends them */
	buf_append(&c->scratch, eol + 1, (size_t)(head.p + head.n - 2 - eol - 1));
	if (h2 && r->body_follows && !head_value(head, "content-length").p)
		buf_printf(&c->scratch, "Content-Length: %zu\r\n", body_n);
	buf_append(&c->scratch, "\r\n", 2);
}

void console_replay(struct console *c, struct http_request *req, uint64_t id)
{
	const struct reqrec *r = reqlog_find(c->log, id);
	struct http_exchange_opts opt = { .connect_timeout = 10, .idle_timeout = REPLAY_TIMEOUT, .fresh = true };
	struct http_origin origin;
	struct sv head, body, listener, te, cl, port, sni;
	const char *colon, *eol;
	struct subscriber *s;
	bool chunked, has_body, h2;
	uint64_t port_n;
	char addr[64];

	if (!r) {
		refuse(c, req, 404, "no such request (it may have left the history)");
		return;
	}
	head = rec_get(r, RF_HEAD);
	body = rec_get(r, RF_BODY);
	listener = rec_get(r, RF_LISTENER);
	h2 = sv_eq_cstr(rec_get(r, RF_VERSION), "HTTP/2.0");
	te = head_value(head, "transfer-encoding");
	cl = head_value(head, "content-length");
	chunked = te.n > 0;
	has_body = chunked || (cl.n && !sv_eq_cstr(cl, "0")) || (h2 && r->body_follows);
	colon = listener.n ? memrchr(listener.p, ':', listener.n) : NULL;
	eol = head.n ? memchr(head.p, '\n', head.n) : NULL;
	if (!colon || !eol || rec_truncated(r, RF_HEAD) || head.n < 4 || memcmp(head.p + head.n - 4, "\r\n\r\n", 4) != 0) {
		refuse(c, req, 409, "the request's head was not kept whole");
		return;
	}
	if (has_body && (!rec_has(r, RF_BODY) || rec_truncated(r, RF_BODY))) {
		refuse(c, req, 409, "the request's body was not kept whole (over the body limit, or streamed)");
		return;
	}
	if (r->client_cert_required) {
		refuse(c, req, 409, "the request's listener requires a client certificate (mutual TLS, verify), "
				    "which a replay cannot present");
		return;
	}
	port = (struct sv){ colon + 1, (size_t)(listener.p + listener.n - colon - 1) };
	snprintf(addr, sizeof(addr), "%.*s", (int)(colon - listener.p), listener.p);
	if (sv_to_u64(port, &port_n) < 0 || http_origin_numeric(&origin, addr, (int)port_n) < 0) {
		refuse(c, req, 409, "the request's listener is unknown");
		return;
	}
	replay_head(c, r, id, h2, body.n);
	opt.head_request = sv_eq_cstr(rec_get(r, RF_METHOD), "HEAD");
	if (!c->client)
		c->client = http_client_new(c->base);
	s = xcalloc(1, sizeof(*s));
	s->c = c;
	s->req = req;
	s->replay_of = id;
	req->route = s;
	if (r->https) {
		/* The name its client sent, kept here: the record may be reused before the copy ends. */
		sni = rec_get(r, RF_SNI);
		snprintf(s->sni, sizeof(s->sni), "%.*s", SV_ARG(sni));
		opt.tls = true;
		opt.tls_host = s->sni[0] ? s->sni : NULL;
		opt.tls_sni_only = true;
	}
	s->replay = http_client_start(c->client, &origin, c->scratch.p, c->scratch.len, &opt, &replay_cbs, s);
	/* The body as it was framed: lb keeps it de-chunked, so a chunked one goes as one chunk. */
	if (chunked && body.n) {
		char size[24];
		int n = snprintf(size, sizeof(size), "%zx\r\n", body.n);
		http_exchange_send(s->replay, size, (size_t)n);
		http_exchange_send(s->replay, body.p, body.n);
		http_exchange_send(s->replay, "\r\n0\r\n\r\n", 7);
	} else if (chunked) {
		http_exchange_send(s->replay, "0\r\n\r\n", 5);
	} else if (has_body) {
		http_exchange_send(s->replay, body.p, body.n);
	}
	http_exchange_request_done(s->replay);
}
