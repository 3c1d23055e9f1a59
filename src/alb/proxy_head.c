/* proxy_head: request and answer heads across the proxy, without I/O. */
#include "alb/proxy_head.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether name is one of RFC 9110's hop-by-hop fields: by length first, so
 * most names cost one comparison or none. */
static bool is_hop_by_hop_name(struct sv name)
{
	switch (name.n) {
	case 2:
		return sv_eq_cstr_nocase(name, "te");
	case 7:
		return sv_eq_cstr_nocase(name, "trailer") || sv_eq_cstr_nocase(name, "upgrade");
	case 10:
		return sv_eq_cstr_nocase(name, "connection") || sv_eq_cstr_nocase(name, "keep-alive");
	case 16:
		return sv_eq_cstr_nocase(name, "proxy-connection");
	case 17:
		return sv_eq_cstr_nocase(name, "transfer-encoding");
	default:
		return false;
	}
}

/*
 * Whether a Connection token makes the field it names hop-by-hop. Not the
 * fields ALB sets on every forwarded request (Host, X-Forwarded-*, the
 * X-Amzn-* ones: alb-http-targets-and-tls.md §1.4): a client listing them
 * would otherwise strip them, and blind a target to its real address.
 */
static bool conn_token_counts(struct sv token)
{
	return token.n && !sv_eq_cstr_nocase(token, "close") && !sv_eq_cstr_nocase(token, "host") &&
	       !sv_starts_with_nocase(token, "x-forwarded-") && !sv_starts_with_nocase(token, "x-amzn-");
}

/* Case-insensitive order of names, for the sorted token list. */
static int sv_cmp_nocase(const void *a, const void *b)
{
	const struct sv *x = a, *y = b;
	size_t n = x->n < y->n ? x->n : y->n;

	for (size_t i = 0; i < n; i++) {
		int d = (unsigned char)ascii_lower(x->p[i]) - (unsigned char)ascii_lower(y->p[i]);
		if (d)
			return d;
	}
	return (x->n > y->n) - (x->n < y->n);
}

/*
 * The other names a message's Connection headers list, gathered once per
 * message: up to CONN_TOKENS_MAX in place, more in a sorted heap array. A
 * head of 64 KB can list 8,000 names and hold 12,000 headers, and looking
 * each header up in the Connection values again cost seconds of the event
 * loop per request.
 */
#define CONN_TOKENS_MAX 16
struct conn_tokens {
	struct sv small[CONN_TOKENS_MAX];
	struct sv *v;       /* small, or the heap array once more were listed */
	size_t n, cap;
};

static void conn_tokens_init(struct conn_tokens *t, const struct http_header *h, size_t n)
{
	t->v = t->small;
	t->n = 0;
	t->cap = CONN_TOKENS_MAX;
	for (size_t i = 0; i < n; i++) {
		struct sv rest = h[i].value, token;

		if (!sv_eq_cstr_nocase(h[i].name, "connection"))
			continue;
		while (rest.p) {
			rest = sv_cut(rest, ',', &token);
			token = sv_trim(token);
			if (is_hop_by_hop_name(token) || !conn_token_counts(token))
				continue;
			if (t->n == t->cap) {
				if (t->v == t->small) {
					t->v = xmalloc(sizeof(*t->v) * 2 * CONN_TOKENS_MAX);
					memcpy(t->v, t->small, sizeof(t->small));
					t->cap = 2 * CONN_TOKENS_MAX;
				} else {
					xgrow(&t->v, &t->cap, t->n + 1, sizeof(*t->v));
				}
			}
			t->v[t->n++] = token;
		}
	}
	if (t->v != t->small)
		qsort(t->v, t->n, sizeof(*t->v), sv_cmp_nocase);
}

static void conn_tokens_release(struct conn_tokens *t)
{
	if (t->v != t->small)
		free(t->v);
}

static bool conn_listed(const struct conn_tokens *t, struct sv name)
{
	if (t->v != t->small)
		return bsearch(&name, t->v, t->n, sizeof(*t->v), sv_cmp_nocase) != NULL;
	for (size_t i = 0; i < t->n; i++)
		if (sv_eq_nocase(t->v[i], name))
			return true;
	return false;
}

bool proxy_is_websocket(const struct http_request *req)
{
	const struct http_header *up = http_request_header(req, "upgrade");

	/* RFC 9110 §7.8: an Upgrade in an HTTP/1.0 request is ignored (and
	 * HTTP/2 has none): only HTTP/1.1 can switch to a WebSocket. */
	return req->version == 11 && up && sv_eq_cstr_nocase(sv_trim(up->value), "websocket");
}

static void put_header(struct buf *out, struct sv name, struct sv value)
{
	buf_append(out, name.p, name.n);
	buf_puts(out, ": ");
	buf_append(out, value.p, value.n);
	buf_puts(out, "\r\n");
}

/* The request-target in origin form: an absolute-form target loses its
 * scheme and authority (its empty path is "/"); the fragment never goes. */
static void put_target(struct buf *out, const struct http_request *req)
{
	if (!req->uri_host.n) {
		buf_append(out, req->target.p, req->target.n);
		return;
	}
	buf_append(out, req->path.p, req->path.n);
	if (req->has_query) {
		buf_putc(out, '?');
		buf_append(out, req->query.p, req->query.n);
	}
}

void proxy_request_head(struct buf *out, const struct http_request *req, const struct header_list *fwd,
			const char *lb_address, bool preserve_host)
{
	bool websocket = proxy_is_websocket(req), has_host = false;
	struct conn_tokens conn;

	conn_tokens_init(&conn, req->headers, req->nheaders);
	buf_append(out, req->method.p, req->method.n);
	buf_putc(out, ' ');
	put_target(out, req);
	buf_puts(out, " HTTP/1.1\r\n");
	for (size_t i = 0; i < fwd->n; i++) {
		const struct http_header *h = &fwd->v[i];

		if ((h->name.n == 14 && sv_eq_cstr_nocase(h->name, "content-length")) || is_hop_by_hop_name(h->name) ||
		    conn_listed(&conn, h->name)) {
			if (!(websocket && sv_eq_cstr_nocase(h->name, "upgrade")))
				continue;
		}
		if (sv_eq_cstr_nocase(h->name, "host")) {
			has_host = true;
			if (!preserve_host) {
				/* ALB lower-cases host names toward targets
				 * (alb-http-targets-and-tls.md §1.4, "HTTP headers"). */
				char *p;
				buf_append(out, h->name.p, h->name.n);
				buf_puts(out, ": ");
				p = buf_reserve(out, h->value.n);
				for (size_t k = 0; k < h->value.n; k++)
					p[k] = ascii_lower(h->value.p[k]);
				buf_commit(out, h->value.n);
				buf_puts(out, "\r\n");
				continue;
			}
		}
		put_header(out, h->name, h->value);
	}
	/* ALB gives an HTTP/1.0 request without Host one naming the load
	 * balancer, since HTTP/1.1 toward the target needs it (§1.3). */
	if (!has_host) {
		bool v6 = strchr(lb_address, ':') != NULL;
		buf_printf(out, "Host: %s%s%s:%u\r\n", v6 ? "[" : "", lb_address, v6 ? "]" : "", req->local_port);
	}
	if (req->framing == HTTP_FRAMING_CHUNKED)
		buf_puts(out, "Transfer-Encoding: chunked\r\n");
	else if (req->framing == HTTP_FRAMING_LENGTH)
		buf_printf(out, "Content-Length: %llu\r\n", (unsigned long long)req->content_length);
	if (websocket)
		buf_puts(out, "Connection: Upgrade\r\n");
	buf_puts(out, "\r\n");
	conn_tokens_release(&conn);
}

void proxy_response_headers(const struct http_reply *reply, struct header_list *out)
{
	struct conn_tokens conn;

	conn_tokens_init(&conn, reply->headers, reply->nheaders);
	header_list_reset(out);
	for (size_t i = 0; i < reply->nheaders; i++) {
		const struct http_header *h = &reply->headers[i];

		if (is_hop_by_hop_name(h->name) || conn_listed(&conn, h->name)) {
			/* A switch of protocols names the new one to the client. */
			bool keep = reply->upgrade && (sv_eq_cstr_nocase(h->name, "upgrade") ||
						       sv_eq_cstr_nocase(h->name, "connection"));
			if (!keep)
				continue;
		}
		header_list_add(out, h->name, h->value);
	}
	conn_tokens_release(&conn);
}
