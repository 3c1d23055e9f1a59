/*
 * h1_read: one HTTP/1 message at a time, from bytes given in any pieces.
 *
 * Phases of a message:
 *   head   bytes are appended to the message's head buffer as they are
 *          scanned line by line, within the limits (a line past line_max or
 *          header lines past headers_max fail at once, so a head never holds
 *          more than the limits allow). At the empty line the head is
 *          complete: requests are classified by desync mitigation, then llhttp
 *          parses the copy; its callbacks only record spans and flags, and it
 *          pauses at the end of the head (H1_HEAD).
 *   body   llhttp runs over the caller's bytes in place; body spans go to
 *          on_body; it pauses at the end of the message (H1_END), so bytes
 *          of a pipelined next message stay with the caller.
 *
 * Nothing here reads a socket or allocates per message once the head and
 * header buffers have grown to their working size.
 */
#include "net/h1_read.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/util.h"

const struct h1_limits h1_limits_alb_request = {
	.line_max = 16 * 1024,
	.headers_max = 64 * 1024,
	.desync = true,
	.desync_mode = DESYNC_MODE_DEFENSIVE,
};

const struct h1_limits h1_limits_alb_response = {
	.line_max = 32 * 1024,
	.headers_max = 32 * 1024,
};

static llhttp_settings_t request_settings, reply_settings;

/* --- llhttp callbacks: they only record spans and flags ------------------- */

static struct h1_reader *reader_of(llhttp_t *p)
{
	return p->data;
}

static void add_header(struct h1_reader *r, struct sv name)
{
	if (r->req) {
		http_request_add_header(r->req, name, SV_NULL);
		return;
	}
	xgrow(&r->reply->headers, &r->reply->cap_headers, r->reply->nheaders + 1, sizeof(*r->reply->headers));
	r->reply->headers[r->reply->nheaders++] = (struct http_header){ name, SV_NULL };
}

static struct http_header *last_header(struct h1_reader *r)
{
	return r->req ? &r->req->headers[r->req->nheaders - 1] : &r->reply->headers[r->reply->nheaders - 1];
}

static struct sv extend(struct sv v, const char *at, size_t n)
{
	return (struct sv){ v.p ? v.p : at, v.n + n };
}

static int on_method(llhttp_t *p, const char *at, size_t n)
{
	struct http_request *req = reader_of(p)->req;

	req->method = extend(req->method, at, n);
	return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t n)
{
	struct http_request *req = reader_of(p)->req;

	req->target = extend(req->target, at, n);
	return 0;
}

static int on_status(llhttp_t *p, const char *at, size_t n)
{
	struct http_reply *reply = reader_of(p)->reply;

	reply->reason = extend(reply->reason, at, n);
	return 0;
}

/* The version is recorded as soon as the request line is read, so that the
 * access log of a head rejected later (501, 400) still names it. */
static int on_version_complete(llhttp_t *p)
{
	struct h1_reader *r = reader_of(p);

	if (r->req)
		r->req->version = p->http_major * 10 + p->http_minor;
	return 0;
}

/* Trailer fields (after a chunked body) are copied only for a request that
 * keeps them (keep_trailers: the Runtime API's streamed errors); else dropped:
 * their bytes are the caller's, gone by the time the message ends. */
static void keep_trailer(struct h1_reader *r, const char *at, size_t n)
{
	if (r->req && r->req->keep_trailers)
		buf_append(&r->req->trailers, at, n);   /* past HTTP_TRAILERS_MAX: dropped */
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
	struct h1_reader *r = reader_of(p);

	if (r->head_done) {
		keep_trailer(r, at, n);
		return 0;
	}
	if (r->in_field) {
		last_header(r)->name.n += n;
		return 0;
	}
	r->in_field = true;
	add_header(r, (struct sv){ at, n });
	return 0;
}

static int on_header_field_complete(llhttp_t *p)
{
	struct h1_reader *r = reader_of(p);
	struct http_header *h;

	r->in_field = false;
	if (r->head_done) {
		keep_trailer(r, ":", 1);
		return 0;
	}
	h = last_header(r);
	/* "Content-Length : 5" (desync mitigation's call: llhttp, lenient, frames
	 * by it): the name loses its whitespace, or the header would reach the
	 * target as is, beside lb's own framing header, and rules and hop-by-hop
	 * filtering would miss it (RFC 9112 §5.1). */
	while (r->req && h->name.n && (h->name.p[h->name.n - 1] == ' ' || h->name.p[h->name.n - 1] == '\t'))
		h->name.n--;
	/* RFC 9110 §5.1: a field name is a token. llhttp 8.1, built loose, takes
	 * "X-A : a", "X A: 1" and ": x" in an answer, which lb would pass on as
	 * they are, and HTTP/2 clients reset the stream for. */
	if (r->reply && !sv_is_token(h->name))
		r->bad_head = "a header name that is not a token";
	return 0;
}

/* RFC 9112 §5.2: a folded value (obs-fold) is unfolded, each CR and LF
 * replaced by a space, before it is used or forwarded: passed on, a target
 * without folding would read the continuation line as a header of its own. */
static void unfold(struct h1_reader *r, struct http_header *h)
{
	char *v = r->head->p + (h->value.p - r->head->p);

	/* Every value of every request passes here: two memchr scans, not a loop. */
	if (!memchr(v, '\n', h->value.n) && !memchr(v, '\r', h->value.n))
		return;
	for (size_t i = 0; i < h->value.n; i++)
		if (v[i] == '\r' || v[i] == '\n')
			v[i] = ' ';
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
	struct http_header *h;

	if (reader_of(p)->head_done) {
		keep_trailer(reader_of(p), at, n);
		return 0;
	}
	h = last_header(reader_of(p));
	if (h->value.p == NULL)
		h->value = (struct sv){ at, n };
	else
		h->value.n = (size_t)(at + n - h->value.p);
	return 0;
}

/* Whether a Transfer-Encoding value lists only codings ALB accepts. */
static bool te_supported(struct sv value)
{
	struct sv rest = value, token;

	while (rest.p) {
		rest = sv_cut(rest, ',', &token);
		token = sv_trim(token);
		if (!sv_eq_cstr_nocase(token, "chunked") && !sv_eq_cstr_nocase(token, "identity"))
			return false;
	}
	return true;
}

/* Whether a Transfer-Encoding value's last coding is chunked (RFC 9112 §6.3). */
static bool te_chunked_last(struct sv value)
{
	struct sv rest = value, token = SV_NULL;

	while (rest.p)
		rest = sv_cut(rest, ',', &token);
	return sv_eq_cstr_nocase(sv_trim(token), "chunked");
}

static int on_header_value_complete(llhttp_t *p)
{
	struct h1_reader *r = reader_of(p);
	struct http_header *h;
	bool te;

	if (r->head_done) {
		keep_trailer(r, "\n", 1);
		return 0;
	}
	h = last_header(r);
	te = h->name.n == 17 && sv_eq_cstr_nocase(h->name, "transfer-encoding");
	if (h->value.p == NULL)
		h->value = (struct sv){ h->name.p + h->name.n, 0 };
	/* RFC 9112 §5: a field's value excludes the whitespace around it (llhttp
	 * drops the leading run only): "Host: a.com " names a.com. */
	while (h->value.n && (h->value.p[h->value.n - 1] == ' ' || h->value.p[h->value.n - 1] == '\t'))
		h->value.n--;
	if (r->req)
		unfold(r, h);
	else if (memchr(h->value.p, '\r', h->value.n) || memchr(h->value.p, '\n', h->value.n))
		r->bad_head = "a folded header line";
	/* lb frames answers itself and drops their Transfer-Encoding: another
	 * coding (gzip) would reach the client undeclared, as plain body. */
	else if (te && !te_supported(h->value))
		r->bad_head = "a Transfer-Encoding other than chunked";
	if (!te)
		return 0;
	r->te_chunked = te_chunked_last(h->value);
	/* ALB: a request Transfer-Encoding other than chunked or identity → 501
	 * (alb-listener-rules.md §4.4). */
	if (r->req && !te_supported(h->value)) {
		r->te_unsupported = true;
		return -1;
	}
	return 0;
}

/* How a reply's body is delimited, from what llhttp saw of its head. */
static void reply_framing(struct h1_reader *r, llhttp_t *p)
{
	struct http_reply *reply = r->reply;
	int st = p->status_code;

	reply->status = st;
	reply->version = p->http_major * 10 + p->http_minor;
	reply->upgrade = st == 101;
	if (p->flags & F_CHUNKED)
		reply->framing = HTTP_FRAMING_CHUNKED;
	else if (p->flags & F_CONTENT_LENGTH) {
		reply->framing = HTTP_FRAMING_LENGTH;
		reply->content_length = p->content_length;
	} else if (llhttp_message_needs_eof(p) || (p->flags & F_TRANSFER_ENCODING))
		reply->framing = HTTP_FRAMING_CLOSE;
	else
		reply->framing = HTTP_FRAMING_NONE;
	/* RFC 9112 §6.3: 1xx, 204 and 304 answers, and answers to HEAD, have no
	 * body whatever their headers say. */
	if (r->skip_body || st < 200 || st == 204 || st == 304) {
		reply->no_body = true;
		p->flags |= F_SKIPBODY;
	}
	reply->keep_alive = llhttp_should_keep_alive(p) && reply->framing != HTTP_FRAMING_CLOSE;
}

static int on_headers_complete(llhttp_t *p)
{
	struct h1_reader *r = reader_of(p);

	/* A request Transfer-Encoding without chunked is "identity" alone (other
	 * codings got 501, and llhttp refuses chunked before another). ALB accepts
	 * it: no coding at all, framed as if absent. Left set, llhttp (lenient, for
	 * desync mitigation) would read the body to the end of the connection. */
	/* llhttp 8.1 takes "chunked" followed by a tab for another coding; RFC
	 * 9110 §5.5 trims that tab, and so does any other server: framed without
	 * chunked, the body would be read as the next request (smuggling). */
	if (r->te_chunked && (p->flags & F_TRANSFER_ENCODING))
		p->flags |= F_CHUNKED;
	if (r->req && (p->flags & F_TRANSFER_ENCODING) && !(p->flags & F_CHUNKED))
		p->flags &= ~F_TRANSFER_ENCODING;
	if (r->req) {
		r->req->version = p->http_major * 10 + p->http_minor;
		r->req->keep_alive = llhttp_should_keep_alive(p);
		if (p->flags & F_CHUNKED) {
			r->req->framing = HTTP_FRAMING_CHUNKED;
		} else if ((p->flags & F_CONTENT_LENGTH) && p->content_length) {
			r->req->framing = HTTP_FRAMING_LENGTH;
			r->req->content_length = p->content_length;
		}
	} else {
		reply_framing(r, p);
	}
	r->head_done = true;
	/* Parsing pauses here so the caller sees the head before any body byte. */
	return HPE_PAUSED;
}

/*
 * Checks the bytes after a chunk's data, which must be its CRLF (RFC 9112
 * §7.1): llhttp 8.1, built without LLHTTP_STRICT_MODE, skips any two, so
 * "5\r\nhelloXX0\r\n\r\n" passed for a whole body. p[0..n) are the next
 * bytes of the stream; false at the first wrong one.
 */
static bool chunk_crlf(struct h1_reader *r, const char *p, size_t n)
{
	for (size_t k = 0; r->crlf_left && k < n; k++, r->crlf_left--)
		if (p[k] != (r->crlf_left == 2 ? '\r' : '\n'))
			return false;
	return true;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
	struct h1_reader *r = reader_of(p);

	if (r->req)
		r->req->body_bytes += n;
	else
		r->reply->body_bytes += n;
	if (r->on_body)
		r->on_body(r->cookie, at, n);
	if ((p->flags & F_CHUNKED) && p->content_length == 0) {
		/* The chunk's data ends here; its CRLF follows, here or in the next bytes. */
		r->crlf_left = 2;
		if (!chunk_crlf(r, at + n, (size_t)(r->exec_end - (at + n))))
			return -1;
	}
	return 0;
}

static int on_message_complete(llhttp_t *p)
{
	struct h1_reader *r = reader_of(p);

	r->message_done = true;
	if (r->req)
		r->req->keep_alive = r->req->keep_alive && llhttp_should_keep_alive(p);
	return HPE_PAUSED;
}

static void settings_init(void)
{
	static bool done;
	llhttp_settings_t *s[] = { &request_settings, &reply_settings };

	if (done)
		return;
	done = true;
	for (size_t i = 0; i < ARRAY_LEN(s); i++) {
		llhttp_settings_init(s[i]);
		s[i]->on_version_complete = on_version_complete;
		s[i]->on_header_field = on_header_field;
		s[i]->on_header_field_complete = on_header_field_complete;
		s[i]->on_header_value = on_header_value;
		s[i]->on_header_value_complete = on_header_value_complete;
		s[i]->on_headers_complete = on_headers_complete;
		s[i]->on_body = on_body;
		s[i]->on_message_complete = on_message_complete;
	}
	request_settings.on_method = on_method;
	request_settings.on_url = on_url;
	reply_settings.on_status = on_status;
}

/* --- lifecycle ----------------------------------------------------------------- */

static void reader_reset(struct h1_reader *r)
{
	r->fail_status = 0;
	r->fail_detail = NULL;
	r->close_after = false;
	r->started = false;
	r->line_start = r->headers_start = 0;
	r->head_done = r->message_done = r->in_field = r->te_unsupported = r->paused = false;
	r->te_chunked = false;
	r->bad_head = NULL;
	r->crlf_left = 0;
}

void h1_reader_init_request(struct h1_reader *r, struct http_request *req, const struct h1_limits *lim)
{
	settings_init();
	memset(r, 0, sizeof(*r));
	r->lim = *lim;
	r->req = req;
	r->head = &req->head;
	llhttp_init(&r->parser, HTTP_REQUEST, &request_settings);
	r->parser.data = r;
	/* Desync mitigation, not the parser, judges odd header bytes and a
	 * Content-Length next to chunked (ALB forwards those in defensive mode);
	 * llhttp then frames by chunked, as HTTP/1.1 requires. */
	llhttp_set_lenient_headers(&r->parser, 1);
	llhttp_set_lenient_chunked_length(&r->parser, 1);
}

void h1_reader_init_reply(struct h1_reader *r, struct http_reply *reply, const struct h1_limits *lim)
{
	settings_init();
	memset(r, 0, sizeof(*r));
	r->lim = *lim;
	r->reply = reply;
	r->head = &reply->head;
	llhttp_init(&r->parser, HTTP_RESPONSE, &reply_settings);
	r->parser.data = r;
}

void h1_reader_release(struct h1_reader *r)
{
	free(r->dhdrs);
	r->dhdrs = NULL;
	r->dcap = 0;
}

void h1_reader_next(struct h1_reader *r)
{
	bool skip = r->skip_body;

	if (r->req)
		http_request_reset(r->req);
	else
		http_reply_reset(r->reply);
	/* Afresh, also after a reply read up to its head only (HEAD, 1xx). */
	llhttp_reset(&r->parser);
	reader_reset(r);
	r->skip_body = r->req ? false : skip;
}

bool h1_reader_busy(const struct h1_reader *r)
{
	return r->started && !r->message_done;
}

bool h1_reader_upgrade(const struct h1_reader *r)
{
	return r->parser.upgrade;
}

/* --- the head ------------------------------------------------------------------ */

static enum h1_event fail(struct h1_reader *r, int status, const char *detail)
{
	r->fail_status = status;
	r->fail_detail = detail;
	return H1_FAIL;
}

/*
 * Appends head bytes from p[0..n) line by line, checking the limits as each
 * line grows. Returns 1 when the empty line ending the head was taken, 0
 * when every byte was taken and more are needed, -1 past a limit. *used:
 * bytes taken.
 */
static int head_scan(struct h1_reader *r, const char *p, size_t n, size_t *used)
{
	struct buf *h = r->head;
	size_t i = 0;

	while (i < n) {
		/* A line is its bytes before CRLF: line_max of them, plus the CR. */
		size_t so_far = h->len - r->line_start, room = r->lim.line_max + 2 - so_far;
		size_t window = n - i < room ? n - i : room;
		const char *nl = memchr(p + i, '\n', window);
		size_t take = nl ? (size_t)(nl - (p + i)) + 1 : window, end, len;

		buf_append(h, p + i, take);
		i += take;
		*used = i;
		if (!nl) {
			if (window == room)
				return -1;
			/* The header lines so far, with their CRLFs; one more byte
			 * is allowed, a CR that may start the final empty line. */
			if (r->headers_start && h->len - r->headers_start > r->lim.headers_max + 1)
				return -1;
			return 0;
		}
		end = h->len - 1;
		len = end - r->line_start;
		if (len && h->p[end - 1] == '\r')
			len--;
		if (!r->headers_start)
			r->headers_start = end + 1;
		else if (len == 0)
			return 1;
		else if (end + 1 - r->headers_start > r->lim.headers_max)
			return -1;   /* the header lines, CRLFs included, pass the limit */
		r->line_start = end + 1;
	}
	*used = i;
	return 0;
}

/*
 * ALB takes any token as a method (a rule's http_request_method may name a
 * custom one); llhttp 8.1 knows a fixed list. A method it does not know is
 * parsed as GET, whose framing is the same (Content-Length or chunked), and
 * the original, kept after the head, is what routing and the log see.
 */
static bool parse_custom_method(struct h1_reader *r)
{
	struct http_request *req = r->req;
	size_t len = req->head.len, m = 0;
	char method[64];

	while (m < len && m < sizeof(method) && is_tchar((unsigned char)req->head.p[m]))
		m++;
	if (m < 3 || m >= len || req->head.p[m] != ' ')
		return false;
	memcpy(method, req->head.p, m);
	buf_append(&req->head, method, m);
	memcpy(req->head.p + m - 3, "GET", 3);
	llhttp_reset(&r->parser);
	req->nheaders = 0;
	req->target = SV_NULL;
	r->head_done = r->in_field = false;
	llhttp_execute(&r->parser, req->head.p + m - 3, len - (m - 3));
	req->method = (struct sv){ req->head.p + len, m };
	return r->head_done;
}

/* Classifies a request head and applies the desync mode. 0: go on, -1: blocked. */
static int check_desync(struct h1_reader *r)
{
	struct http_request *req = r->req;

	req->desync = desync_classify_head(req->head.p, req->head.len, &r->dhdrs, &r->dcap);
	switch (desync_decide(r->lim.desync_mode, req->desync.cls)) {
	case DESYNC_BLOCK:
		return -1;
	case DESYNC_ALLOW_CLOSE:
		/* ALB (defensive): serve an Ambiguous request, then close the connection. */
		r->close_after = true;
		break;
	case DESYNC_ALLOW:
		break;
	}
	return 0;
}

/* A head that cannot be served: 400, but ALB answers an HTTP/2 request on an
 * HTTP/1 connection ("PRI * HTTP/2.0", the prior-knowledge preface, or any
 * request line naming HTTP/2.0) with 505 (alb-listener-rules.md §4.4). */
static int refusal_status(const struct http_request *req)
{
	return req->version == 20 ? 505 : 400;
}

static enum h1_event parse_request_head(struct h1_reader *r)
{
	struct http_request *req = r->req;
	llhttp_errno_t e;

	req->received_bytes += req->head.len;
	if (r->lim.desync && check_desync(r) < 0) {
		/* Parse what we can so the access log shows the request line. */
		llhttp_execute(&r->parser, req->head.p, req->head.len);
		if (r->head_done)
			http_request_set_target(req, req->target);
		return fail(r, refusal_status(req), "blocked by desync mitigation");
	}
	e = llhttp_execute(&r->parser, req->head.p, req->head.len);
	if (e == HPE_INVALID_METHOD && parse_custom_method(r))
		e = HPE_PAUSED;
	if (e != HPE_PAUSED || !r->head_done) {
		r->head_done = false;
		if (r->te_unsupported)
			return fail(r, 501, "unsupported Transfer-Encoding");
		/* ALB logs a request it could not parse as "- http://host:port- -". */
		req->method = SV_NULL;
		return fail(r, refusal_status(req), llhttp_get_error_reason(&r->parser));
	}
	r->paused = true;
	http_request_set_target(req, req->target);
	if (refusal_status(req) == 505)
		return fail(r, 505, "HTTP/2.0 request line");
	for (size_t i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];
		if (sv_eq_cstr_nocase(h->name, "expect") && sv_eq_cstr_nocase(h->value, "100-continue"))
			req->expect_continue = true;
	}
	return H1_HEAD;
}

/* RFC 9112 §4: reason-phrase = *( HTAB / SP / VCHAR / obs-text ). */
static bool reason_ok(struct sv reason)
{
	for (size_t i = 0; i < reason.n; i++) {
		unsigned char c = (unsigned char)reason.p[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

static enum h1_event parse_reply_head(struct h1_reader *r)
{
	llhttp_errno_t e = llhttp_execute(&r->parser, r->head->p, r->head->len);
	const char *bad = NULL;

	if (e != HPE_PAUSED || !r->head_done)
		bad = llhttp_get_error_reason(&r->parser);
	/* RFC 9110 §15: a status is 100-599; llhttp takes any three digits.
	 * Anything else is a malformed answer (502, §1.12). */
	else if (r->reply->status < 100 || r->reply->status > 599)
		bad = "status outside 100-599";
	/* A 101 the request did not ask for would turn the connection, and the
	 * client's next requests, into a tunnel (RFC 9110 §15.2.2): malformed. */
	else if (r->reply->upgrade && !r->upgrade_asked)
		bad = "101 to a request that asked for no upgrade";
	/* RFC 9112 §5.1, §5.2 and §4: a proxy must not pass on any of these,
	 * nor control bytes in the reason it copies into its status line. */
	else if (r->bad_head || !reason_ok(r->reply->reason))
		bad = r->bad_head ? r->bad_head : "a control character in the reason phrase";
	if (bad) {
		r->head_done = false;
		return fail(r, 502, bad);
	}
	r->paused = true;
	return H1_HEAD;
}

static enum h1_event read_head(struct h1_reader *r, const char *p, size_t n, size_t *used)
{
	size_t taken = 0;
	int rc;

	if (!r->started) {
		/* RFC 9112 §2.2: ignore empty lines before a request line. */
		while (r->req && *used < n && (p[*used] == '\r' || p[*used] == '\n')) {
			(*used)++;
			/* They were received: the request's log line counts them. */
			r->req->received_bytes++;
		}
		if (*used == n)
			return H1_MORE;
		r->started = true;
		if (r->req) {
			r->req->start_wall_us = time_wall_us();
			r->req->start_mono_us = time_mono_us();
		}
	}
	rc = head_scan(r, p + *used, n - *used, &taken);
	*used += taken;
	if (rc < 0) {
		if (r->req)
			r->req->received_bytes += r->head->len;
		return fail(r, r->req ? 400 : 502, "head over the size limit");
	}
	if (rc == 0)
		return H1_MORE;
	return r->req ? parse_request_head(r) : parse_reply_head(r);
}

/* --- the body ------------------------------------------------------------------ */

static enum h1_event read_body(struct h1_reader *r, const char *p, size_t n, size_t *used)
{
	llhttp_errno_t e;

	if (r->paused) {
		llhttp_resume(&r->parser);
		r->paused = false;
	}
	if (!chunk_crlf(r, p, n))
		return fail(r, r->req ? 400 : 502, "chunk data not followed by CRLF");
	r->exec_end = p + n;
	e = llhttp_execute(&r->parser, p, n);
	if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE) {
		*used = (size_t)(llhttp_get_error_pos(&r->parser) - p);
		r->paused = true;
	} else if (e == HPE_OK) {
		*used = n;
	} else {
		*used = n;
		return fail(r, r->req ? 400 : 502, r->crlf_left ? "chunk data not followed by CRLF"
							 : llhttp_get_error_reason(&r->parser));
	}
	if (r->req)
		r->req->received_bytes += *used;
	return r->message_done ? H1_END : H1_MORE;
}

enum h1_event h1_read(struct h1_reader *r, const char *p, size_t n, size_t *used)
{
	*used = 0;
	if (r->fail_status)
		return H1_FAIL;
	if (r->message_done)
		return H1_END;
	if (!r->head_done)
		return read_head(r, p, n, used);
	/* A reply without a body ends at its head; llhttp is not asked, so
	 * an upgrade or an interim answer leaves the bytes after it alone. */
	if (r->reply && r->reply->no_body) {
		r->message_done = true;
		return H1_END;
	}
	return read_body(r, p, n, used);
}

enum h1_event h1_read_eof(struct h1_reader *r)
{
	if (r->message_done)
		return H1_END;
	if (!r->started)
		return H1_MORE;
	if (r->reply && r->head_done && r->reply->framing == HTTP_FRAMING_CLOSE && !r->reply->no_body) {
		size_t used;

		/* An answer without a length ends with the connection (its
		 * body may not have been started: step llhttp into it first). */
		if (read_body(r, "", 0, &used) == H1_MORE)
			llhttp_finish(&r->parser);
		if (r->message_done)
			return H1_END;
	}
	return fail(r, r->req ? 400 : 502, "connection closed mid-message");
}
