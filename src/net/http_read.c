/*
 * http_read: reading one request on a connection (the HEAD and BODY states of
 * http_server.c's design comment). The head is scanned for its end within
 * ALB's limits, copied once into req->head, classified by desync mitigation
 * and parsed by llhttp, whose callbacks only record spans and flags; the body
 * is parsed in place in the input buffer. The router sees the head through
 * on_head before any body byte is read.
 */
#include "net/http_conn.h"

#include <string.h>

#include <event2/buffer.h>

#include "base/log.h"

/* ALB: request line > 16 KB, a header > 16 KB or all headers > 64 KB → 400
 * (alb-listener-rules.md §4.3). */
#define LINE_MAX_BYTES (16 * 1024)
#define HEADERS_MAX_BYTES (64 * 1024)
#define HEAD_MAX_BYTES (LINE_MAX_BYTES + HEADERS_MAX_BYTES + 4)

/* --- llhttp callbacks: they only record spans and flags ------------------- */

static struct conn *parser_conn(llhttp_t *p)
{
	return p->data;
}

static int on_method(llhttp_t *p, const char *at, size_t n)
{
	struct http_request *req = &parser_conn(p)->req;

	req->method = (struct sv){ req->method.n ? req->method.p : at, req->method.n + n };
	return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t n)
{
	struct http_request *req = &parser_conn(p)->req;

	req->target = (struct sv){ req->target.n ? req->target.p : at, req->target.n + n };
	return 0;
}

/* The version is recorded as soon as the request line is read, so that the
 * access log of a head rejected later (501, 400) still names it. */
static int on_version_complete(llhttp_t *p)
{
	parser_conn(p)->req.version = p->http_major * 10 + p->http_minor;
	return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
	struct conn *c = parser_conn(p);
	struct http_request *req = &c->req;

	if (c->in_field) {
		req->headers[req->nheaders - 1].name.n += n;
		return 0;
	}
	c->in_field = true;
	http_request_add_header(req, (struct sv){ at, n }, SV_NULL);
	return 0;
}

static int on_header_field_complete(llhttp_t *p)
{
	parser_conn(p)->in_field = false;
	return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
	struct http_request *req = &parser_conn(p)->req;
	struct http_header *h = &req->headers[req->nheaders - 1];

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

static int on_header_value_complete(llhttp_t *p)
{
	struct conn *c = parser_conn(p);
	struct http_header *h = &c->req.headers[c->req.nheaders - 1];

	if (h->value.p == NULL)
		h->value = (struct sv){ h->name.p + h->name.n, 0 };
	/* ALB: a Transfer-Encoding other than chunked or identity → 501
	 * (alb-listener-rules.md §4.4). */
	if (sv_eq_cstr_nocase(h->name, "transfer-encoding") && !te_supported(h->value)) {
		c->te_unsupported = true;
		return -1;
	}
	return 0;
}

static int on_headers_complete(llhttp_t *p)
{
	struct conn *c = parser_conn(p);

	c->head_parsed = true;
	c->req.version = p->http_major * 10 + p->http_minor;
	c->req.keep_alive = llhttp_should_keep_alive(p);
	/* Parsing pauses here so the router sees the head before any body byte. */
	return HPE_PAUSED;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
	struct http_request *req = &parser_conn(p)->req;

	req->body_bytes += n;
	if (req->keep_body && !req->body_too_large && buf_append(&req->body, at, n) < 0)
		req->body_too_large = true;
	return 0;
}

static int on_message_complete(llhttp_t *p)
{
	struct conn *c = parser_conn(p);

	c->message_done = true;
	c->req.keep_alive = c->req.keep_alive && llhttp_should_keep_alive(p);
	return HPE_PAUSED;
}

void conn_parser_settings_init(llhttp_settings_t *s)
{
	llhttp_settings_init(s);
	s->on_method = on_method;
	s->on_url = on_url;
	s->on_version_complete = on_version_complete;
	s->on_header_field = on_header_field;
	s->on_header_field_complete = on_header_field_complete;
	s->on_header_value = on_header_value;
	s->on_header_value_complete = on_header_value_complete;
	s->on_headers_complete = on_headers_complete;
	s->on_body = on_body;
	s->on_message_complete = on_message_complete;
}

void conn_parser_init(struct conn *c)
{
	llhttp_init(&c->parser, HTTP_REQUEST, &c->srv->parser_settings);
	c->parser.data = c;
	/* Desync mitigation, not the parser, judges odd header bytes and a
	 * Content-Length next to chunked (ALB forwards those in defensive mode);
	 * llhttp then frames by chunked, as HTTP/1.1 requires. */
	llhttp_set_lenient_headers(&c->parser, 1);
	llhttp_set_lenient_chunked_length(&c->parser, 1);
}

/* --- reading a request ------------------------------------------------------ */

void conn_start_request(struct conn *c)
{
	struct http_request *req = &c->req;

	http_request_reset(req);
	req->io = c;
	req->listener = c->listener_index;
	req->local_port = c->local_port;
	req->https = false;
	req->peer_family = c->peer_family;
	memcpy(req->peer_addr, c->peer_addr, sizeof(c->peer_addr));
	memcpy(req->peer_ip, c->peer_ip, sizeof(c->peer_ip));
	req->peer_port = c->peer_port;
	req->conn_trace_id = c->tid;
	c->state = CONN_HEAD;
	c->started = false;
	c->scan = c->line_start = c->headers_start = 0;
	c->head_parsed = c->message_done = c->te_unsupported = c->in_field = false;
}

/*
 * Scans the head bytes p[0..n) from where the last call stopped. Returns the
 * head's length once its empty line is found, 0 when more bytes are needed,
 * -1 when a line or the header block is over ALB's limit.
 */
static ssize_t head_scan(struct conn *c, const char *p, size_t n)
{
	while (c->scan < n) {
		const char *nl = memchr(p + c->scan, '\n', n - c->scan);
		size_t end = nl ? (size_t)(nl - p) : n;

		/* A line is its bytes before CRLF: 16 KB of them, plus the CR. */
		if (end - c->line_start > LINE_MAX_BYTES + 1)
			return -1;
		if (!nl) {
			/* The header lines so far, with their CRLFs; one more byte
			 * is allowed, a CR that may start the final empty line. */
			if (c->headers_start && n - c->headers_start > HEADERS_MAX_BYTES + 1)
				return -1;
			c->scan = n;
			return 0;
		}
		size_t len = end - c->line_start;
		if (len && p[end - 1] == '\r')
			len--;
		if (!c->headers_start)
			c->headers_start = end + 1;
		else if (len == 0)
			return (ssize_t)(end + 1);
		else if (end + 1 - c->headers_start > HEADERS_MAX_BYTES)
			return -1;   /* the header lines, CRLFs included, pass 64 KB */
		c->scan = c->line_start = end + 1;
	}
	return 0;
}

/* Moves a complete head from the input into req->head. 1: done, 0: need more, -1: failed. */
int conn_read_head(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t avail, want;
	const char *p;
	ssize_t h;

	if (!c->started) {
		/* RFC 9112 §2.2: ignore empty lines before a request line. */
		while ((avail = evbuffer_get_length(in)) > 0) {
			unsigned char ch;
			evbuffer_copyout(in, &ch, 1);
			if (ch != '\r' && ch != '\n')
				break;
			evbuffer_drain(in, 1);
			/* They were received: the next request's log line counts them. */
			c->req.received_bytes++;
		}
		if (avail == 0)
			return 0;
		c->started = true;
		c->req.start_wall_us = time_wall_us();
		c->req.start_mono_us = time_mono_us();
	}
	avail = evbuffer_get_length(in);
	want = avail < HEAD_MAX_BYTES ? avail : HEAD_MAX_BYTES;
	p = (const char *)evbuffer_pullup(in, (ssize_t)want);
	h = head_scan(c, p, want);
	if (h == 0 && want == HEAD_MAX_BYTES)
		h = -1;
	if (h <= 0)
		return (int)h;
	buf_append(&c->req.head, p, (size_t)h);
	evbuffer_drain(in, (size_t)h);
	c->req.received_bytes += (uint64_t)h;
	return 1;
}

/* Classifies the head and applies the desync mitigation mode. 0: go on, -1: blocked. */
static int conn_check_desync(struct conn *c)
{
	struct http_request *req = &c->req;

	req->desync = desync_classify_head(req->head.p, req->head.len, &c->dhdrs, &c->dcap);
	switch (desync_decide(c->srv->set.desync_mode, req->desync.cls)) {
	case DESYNC_BLOCK:
		return -1;
	case DESYNC_ALLOW_CLOSE:
		/* ALB (defensive): serve an Ambiguous request, then close the connection. */
		c->close_after = true;
		break;
	case DESYNC_ALLOW:
		break;
	}
	return 0;
}

/* Parses the head in req->head. 0: parsed, -1: failed (answered). */
/* An RFC 9110 token character (what a method is made of). */
static bool is_tchar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/*
 * ALB takes any token as a method (a rule's http_request_method may name a
 * custom one); llhttp 8.1 knows a fixed list. A method it does not know is
 * parsed as GET, whose framing is the same (Content-Length or chunked), and
 * the original, kept after the head, is what routing and the log see.
 */
static bool parse_custom_method(struct conn *c)
{
	struct http_request *req = &c->req;
	size_t len = req->head.len, m = 0;
	char method[64];

	while (m < len && m < sizeof(method) && is_tchar(req->head.p[m]))
		m++;
	if (m < 3 || m >= len || req->head.p[m] != ' ')
		return false;
	memcpy(method, req->head.p, m);
	buf_append(&req->head, method, m);
	memcpy(req->head.p + m - 3, "GET", 3);
	llhttp_reset(&c->parser);
	c->head_parsed = false;
	llhttp_execute(&c->parser, req->head.p + m - 3, len - (m - 3));
	req->method = (struct sv){ req->head.p + len, m };
	return c->head_parsed;
}

static int conn_parse_head(struct conn *c)
{
	struct http_request *req = &c->req;
	llhttp_errno_t e;

	e = llhttp_execute(&c->parser, req->head.p, req->head.len);
	if (e == HPE_INVALID_METHOD && parse_custom_method(c))
		e = HPE_PAUSED;
	if (e != HPE_PAUSED || !c->head_parsed) {
		if (c->te_unsupported) {
			conn_fail(c, 501);
			return -1;
		}
		log_debug("malformed request from %s:%u: %s", c->peer_ip, c->peer_port,
			  llhttp_get_error_reason(&c->parser));
		/* ALB logs a request it could not parse as "- http://host:port- -". */
		req->method = SV_NULL;
		conn_fail(c, 400);
		return -1;
	}
	http_request_set_target(req, req->target);
	for (size_t i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];
		if (sv_eq_cstr_nocase(h->name, "expect") && sv_eq_cstr_nocase(h->value, "100-continue"))
			req->expect_continue = true;
	}
	return 0;
}

/*
 * Runs llhttp over input bytes until the message is complete. Resumes the
 * parser first (it pauses after the head and after each message).
 * 1: complete, 0: need more, -1: failed (answered).
 */
static int conn_read_body(struct conn *c, const char *p, size_t n, size_t *used)
{
	llhttp_errno_t e;

	llhttp_resume(&c->parser);
	e = llhttp_execute(&c->parser, p, n);
	*used = n;
	if (e == HPE_PAUSED) {
		*used = (size_t)(llhttp_get_error_pos(&c->parser) - p);
		return c->message_done ? 1 : 0;
	}
	if (e != HPE_OK) {
		log_debug("malformed request body from %s:%u: %s", c->peer_ip, c->peer_port,
			  llhttp_get_error_reason(&c->parser));
		conn_fail(c, 400);
		return -1;
	}
	return 0;
}

/*
 * Feeds buffered input to llhttp until the message is complete. With no input
 * it still runs once on zero bytes: that is how a message without a body
 * completes after the pause at its head.
 */
int conn_pump_body(struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	int r;

	do {
		struct evbuffer_iovec v = { (void *)"", 0 };
		size_t used;

		evbuffer_peek(in, -1, NULL, &v, 1);
		r = conn_read_body(c, v.iov_base, v.iov_len, &used);
		if (r < 0)
			return -1;
		evbuffer_drain(in, used);
		c->req.received_bytes += used;
	} while (r == 0 && evbuffer_get_length(in) > 0);
	return r;
}

/* The head is in; classify, parse, show it to the router. 0: go on, -1: answered. */
int conn_handle_head(struct conn *c)
{
	struct http_request *req = &c->req;
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (conn_check_desync(c) < 0) {
		/* Parse what we can so the access log shows the request line. */
		llhttp_execute(&c->parser, req->head.p, req->head.len);
		if (c->head_parsed)
			http_request_set_target(req, req->target);
		conn_fail(c, 400);
		return -1;
	}
	if (conn_parse_head(c) < 0)
		return -1;
	c->srv->cbs->on_head(c->srv->cookie, req);
	if (c->state != CONN_HEAD)
		return -1;      /* the router answered already */
	/* ALB answers "100 Continue" at once without checking Content-Length,
	 * and does not forward Expect (alb-http-targets-and-tls.md §1.6). */
	if (req->expect_continue && req->version == 11) {
		evbuffer_add(out, "HTTP/1.1 100 Continue\r\n\r\n", 25);
		conn_flush(c);
	}
	c->state = CONN_BODY;
	return 0;
}
