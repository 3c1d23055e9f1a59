/*
 * http_msg: the request as the rest of lb reads it, and the pieces of a
 * response ALB writes itself: reason phrases, nginx-style error pages and the
 * response head.
 *
 * A struct http_request owns its header array and two buffers (head, body);
 * every view in it points into those or into static storage ("/" and "*" for
 * targets without a path). The struct is reused for every request on a
 * connection: http_request_reset forgets the request but keeps the memory and
 * the connection's own fields (peer, listener, https, tls, conn_trace_id, io),
 * which stay true for the next request on the same connection. head.max (a
 * server-wide limit) is kept too; body.max is cleared, the server sets it per
 * request.
 *
 * Reason phrases and error pages come from one table indexed by status code,
 * all static storage: answering with an error never allocates.
 * http_response_head runs for every response, so it appends fixed pieces and
 * formats integers by hand instead of going through printf.
 */
#include "alb/http_msg.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void http_request_init(struct http_request *req)
{
	memset(req, 0, sizeof(*req));
	buf_init(&req->head, 0);
	buf_init(&req->body, 0);
	buf_init(&req->trailers, HTTP_TRAILERS_MAX);
}

#define BODY_KEEP_MAX (64 * 1024)

void http_request_reset(struct http_request *req)
{
	struct http_request keep = *req;

	memset(req, 0, sizeof(*req));
	req->headers = keep.headers;
	req->cap_headers = keep.cap_headers;
	req->head = keep.head;
	req->body = keep.body;
	req->trailers = keep.trailers;
	buf_reset(&req->trailers);
	buf_reset(&req->head);
	/* A body buffer past BODY_KEEP_MAX is given back, not kept for the
	 * connection's next request: every idle keep-alive connection would hold
	 * the largest body it ever carried (an SDK's pool of 50, 6 MB each). */
	if (req->body.cap > BODY_KEEP_MAX)
		buf_release(&req->body);
	buf_reset(&req->body);
	req->body.max = 0;

	req->peer_family = keep.peer_family;
	memcpy(req->peer_addr, keep.peer_addr, sizeof(req->peer_addr));
	memcpy(req->peer_ip, keep.peer_ip, sizeof(req->peer_ip));
	req->peer_port = keep.peer_port;
	req->local_port = keep.local_port;
	req->listener = keep.listener;
	req->https = keep.https;
	req->tls = keep.tls;
	req->conn_trace_id = keep.conn_trace_id;
	req->io = keep.io;
}

void http_request_release(struct http_request *req)
{
	free(req->headers);
	buf_release(&req->head);
	buf_release(&req->body);
	buf_release(&req->trailers);
	http_request_init(req);
}

struct sv http_request_trailer(const struct http_request *req, const char *name)
{
	const char *p = req->trailers.p, *end = p ? p + req->trailers.len : NULL;   /* none kept: NULL */
	size_t n = strlen(name);

	while (p && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *colon;

		if (!eol)
			break;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon && (size_t)(colon - p) == n && strncasecmp(p, name, n) == 0) {
			struct sv v = { colon + 1, (size_t)(eol - colon - 1) };

			while (v.n && (*v.p == ' ' || *v.p == '\t'))
				v = (struct sv){ v.p + 1, v.n - 1 };
			while (v.n && (v.p[v.n - 1] == ' ' || v.p[v.n - 1] == '\t'))
				v.n--;
			return v;
		}
		p = eol + 1;
	}
	return SV_NULL;
}

void http_request_add_header(struct http_request *req, struct sv name, struct sv value)
{
	xgrow(&req->headers, &req->cap_headers, req->nheaders + 1, sizeof(*req->headers));
	req->headers[req->nheaders++] = (struct http_header){ name, value };
}

void http_reply_init(struct http_reply *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->head, 0);
}

void http_reply_reset(struct http_reply *r)
{
	struct http_reply keep = *r;

	memset(r, 0, sizeof(*r));
	r->headers = keep.headers;
	r->cap_headers = keep.cap_headers;
	r->head = keep.head;
	buf_reset(&r->head);
}

void http_reply_release(struct http_reply *r)
{
	free(r->headers);
	buf_release(&r->head);
	http_reply_init(r);
}

/* name's length is taken once, so most headers are passed over on their
 * length alone: this runs for every header lb looks up in every request. */
const struct http_header *http_header_find(const struct http_header *h, size_t n, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < n; i++)
		if (h[i].name.n == len && sv_eq_cstr_nocase(h[i].name, name))
			return &h[i];
	return NULL;
}

/* The length of the longest prefix of s free of the (non-NUL) bytes in stop:
 * one memchr per stop byte, not a strchr per byte of s. */
static size_t span_until(struct sv s, const char *stop)
{
	size_t n = s.n;

	for (; *stop && n; stop++) {
		const char *hit = memchr(s.p, *stop, n);
		if (hit)
			n = (size_t)(hit - s.p);
	}
	return n;
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* "scheme://" with scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
 * (RFC 3986 §3.1); returns the length including "://", or 0. */
static size_t scheme_len(struct sv t)
{
	size_t i = 1;

	if (!t.n || !is_alpha(t.p[0]))
		return 0;
	while (i < t.n && (is_alpha(t.p[i]) || (t.p[i] >= '0' && t.p[i] <= '9') ||
			   t.p[i] == '+' || t.p[i] == '-' || t.p[i] == '.'))
		i++;
	if (t.n - i < 3 || memcmp(t.p + i, "://", 3) != 0)
		return 0;
	return i + 3;
}

/* Splits rest ("/p?q#f") into path and query; a '#' ends both. */
static void request_set_path_query(struct http_request *req, struct sv rest)
{
	size_t path_n = span_until(rest, "?#");

	req->path = (struct sv){ rest.p, path_n };
	if (path_n < rest.n && rest.p[path_n] == '?') {
		struct sv after = { rest.p + path_n + 1, rest.n - path_n - 1 };
		req->has_query = true;
		req->query = (struct sv){ after.p, span_until(after, "#") };
	}
}

void http_request_set_target(struct http_request *req, struct sv target)
{
	size_t skip = scheme_len(target);

	req->target = target;
	req->path = req->query = req->uri_host = SV_NULL;
	req->has_query = false;
	if (target.n == 1 && target.p[0] == '*') {
		req->path = target;
		return;
	}
	if (skip) {
		struct sv rest = { target.p + skip, target.n - skip };
		size_t auth_n = span_until(rest, "/?#");

		req->uri_host = (struct sv){ rest.p, auth_n };
		target = (struct sv){ rest.p + auth_n, rest.n - auth_n };
	}
	request_set_path_query(req, target);
	/* An empty path is "/" in origin-form (RFC 9112 §3.2.1). */
	if (skip && !req->path.n)
		req->path = SV("/");
}

const struct http_header *http_request_header(const struct http_request *req, const char *name)
{
	return http_header_find(req->headers, req->nheaders, name);
}

/*
 * host[:port], [v6][:port] or userinfo@host[:port] → host; "[v6]" keeps its
 * brackets. A bare IPv6 address (two colons or more, no brackets) is invalid
 * in Host but is kept whole rather than cut at its first colon.
 */
static struct sv host_without_port(struct sv a)
{
	const char *at = a.n ? memrchr(a.p, '@', a.n) : NULL;
	const char *colon;

	if (at) {
		a.n -= (size_t)(at + 1 - a.p);
		a.p = at + 1;
	}
	if (a.n && a.p[0] == '[') {
		const char *close = memchr(a.p, ']', a.n);
		if (close)
			a.n = (size_t)(close + 1 - a.p);
		return a;
	}
	colon = a.n ? memchr(a.p, ':', a.n) : NULL;
	if (colon && !memchr(colon + 1, ':', (size_t)(a.p + a.n - colon - 1)))
		a.n = (size_t)(colon - a.p);
	return a;
}

struct sv http_request_host(const struct http_request *req)
{
	const struct http_header *h;

	/* An absolute-form target's authority overrides Host (RFC 9112 §3.2.2);
	 * otherwise ALB uses the first Host header only (alb-http-targets-and-tls.md §1.4). */
	if (req->uri_host.n)
		return host_without_port(req->uri_host);
	h = http_request_header(req, "host");
	return h ? host_without_port(h->value) : SV_NULL;
}

const char *http_version_str(int version)
{
	switch (version) {
	case 9:
		return "HTTP/0.9";
	case 10:
		return "HTTP/1.0";
	case 11:
		return "HTTP/1.1";
	case 20:
		return "HTTP/2.0";  /* how ALB logs h2 (alb-http-targets-and-tls.md §2.5) */
	default:
		return "-";
	}
}

/*
 * Status table. ALB_PAGE(title) is the nginx-style page ALB sends with an
 * error it generates itself, CRLF line ends, no bgcolor (the 2020+ variant;
 * alb-lambda-targets.md §2.7: 122 bytes for "502 Bad Gateway" and "400 Bad
 * Request", 162 for "503 Service Temporarily Unavailable").
 */
#define ALB_PAGE(title)                                                               \
	"<html>\r\n<head><title>" title "</title></head>\r\n<body>\r\n<center><h1>" title \
	"</h1></center>\r\n</body>\r\n</html>\r\n"

struct status_info {
	const char *reason;
	struct sv page;
};

/* A phrase only; a phrase and ALB's page; ALB's page for a code without a phrase. */
#define REASON(code, phrase) [code] = { phrase, { NULL, 0 } }
#define PAGE(code, phrase) [code] = { phrase, SV(ALB_PAGE(#code " " phrase)) }
#define PAGE_BARE(code) [code] = { "", SV(ALB_PAGE(#code)) }

/*
 * RFC 9110 §15 phrases (plus 428/429/431 of RFC 6585, 451 of RFC 7725),
 * except where ALB speaks nginx. 503's "Service Temporarily Unavailable" is
 * captured (alb-lambda-targets.md §2.7). 405, 408, 413, 414 and 504 follow
 * nginx by the same analogy, which the reference marks UNVERIFIED (§2.7
 * suggests it for 405, 413 and 504). 302 keeps RFC 9110's "Found" rather than
 * nginx's "Moved Temporarily": the reference has no capture of ALB's redirect
 * status line, so this is lb's choice. lb sends the 301 and 302 pages as the
 * body of its redirects (unverified: no capture of an ALB redirect body
 * either). 460, 463, 464 and 561 are ALB's own
 * codes without a phrase (alb-listener-rules.md §4.4): the status line ends
 * in "463 " and the page title is the bare code.
 */
static const struct status_info status_table[600] = {
	REASON(100, "Continue"),
	REASON(101, "Switching Protocols"),
	REASON(200, "OK"),
	REASON(201, "Created"),
	REASON(202, "Accepted"),
	REASON(203, "Non-Authoritative Information"),
	REASON(204, "No Content"),
	REASON(205, "Reset Content"),
	REASON(206, "Partial Content"),
	REASON(300, "Multiple Choices"),
	PAGE(301, "Moved Permanently"),
	PAGE(302, "Found"),
	REASON(303, "See Other"),
	REASON(304, "Not Modified"),
	REASON(305, "Use Proxy"),
	REASON(307, "Temporary Redirect"),
	REASON(308, "Permanent Redirect"),
	PAGE(400, "Bad Request"),
	PAGE(401, "Unauthorized"),
	REASON(402, "Payment Required"),
	PAGE(403, "Forbidden"),
	REASON(404, "Not Found"),
	PAGE(405, "Not Allowed"),
	REASON(406, "Not Acceptable"),
	REASON(407, "Proxy Authentication Required"),
	PAGE(408, "Request Time-out"),
	REASON(409, "Conflict"),
	REASON(410, "Gone"),
	REASON(411, "Length Required"),
	REASON(412, "Precondition Failed"),
	PAGE(413, "Request Entity Too Large"),
	PAGE(414, "Request-URI Too Large"),
	REASON(415, "Unsupported Media Type"),
	REASON(416, "Range Not Satisfiable"),
	REASON(417, "Expectation Failed"),
	REASON(421, "Misdirected Request"),
	REASON(422, "Unprocessable Content"),
	REASON(426, "Upgrade Required"),
	REASON(428, "Precondition Required"),
	REASON(429, "Too Many Requests"),
	REASON(431, "Request Header Fields Too Large"),
	REASON(451, "Unavailable For Legal Reasons"),
	PAGE_BARE(460),
	PAGE_BARE(463),
	PAGE_BARE(464),
	PAGE(500, "Internal Server Error"),
	PAGE(501, "Not Implemented"),
	PAGE(502, "Bad Gateway"),
	PAGE(503, "Service Temporarily Unavailable"),
	PAGE(504, "Gateway Time-out"),
	PAGE(505, "HTTP Version Not Supported"),
	REASON(511, "Network Authentication Required"),
	PAGE_BARE(561),
};

static const struct status_info *status_lookup(int status)
{
	if (status < 0 || (size_t)status >= ARRAY_LEN(status_table))
		return NULL;
	return &status_table[status];
}

const char *http_reason(int status)
{
	const struct status_info *s = status_lookup(status);

	return s && s->reason ? s->reason : "";
}

struct sv http_error_page(int status)
{
	const struct status_info *s = status_lookup(status);

	return s ? s->page : SV_NULL;
}

bool http_response_has_body(int status, bool head_request)
{
	return !head_request && status >= 200 && status != 204 && status != 304;
}

/*
 * The head is bounded by the caller's headers, so out is expected to have no
 * maximum; appends are not checked one by one.
 */
#define PUT_LIT(out, lit) buf_append(out, lit, sizeof(lit) - 1)

static void put_sv(struct buf *out, struct sv s)
{
	buf_append(out, s.p, s.n);
}

static void put_u64(struct buf *out, uint64_t v)
{
	char tmp[20], *p = tmp + sizeof(tmp);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	buf_append(out, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void put_status_line(struct buf *out, const struct http_response *resp)
{
	PUT_LIT(out, "HTTP/1.1 ");
	put_u64(out, (uint64_t)(resp->status > 0 ? resp->status : 0));
	PUT_LIT(out, " ");
	put_sv(out, resp->reason.n ? resp->reason : sv_from(http_reason(resp->status)));
	PUT_LIT(out, "\r\n");
}

/*
 * ALB's order is Server, Date, Content-Type, Content-Length, Connection, then
 * the target's headers (alb-lambda-targets.md §2.5, captured). A Date the
 * target set stays in the target's position instead (same capture). A HEAD
 * answer still states the body's length, as nginx does; 1xx, 204 and 304
 * carry no Content-Length (RFC 9110 §8.6).
 */
void http_response_head(struct buf *out, const struct http_response *resp, const char *date,
			bool keep_alive, bool head_request)
{
	(void)head_request;  /* HEAD changes nothing in the head, only whether a body follows */
	put_status_line(out, resp);
	if (!resp->bare)
		PUT_LIT(out, "Server: awselb/2.0\r\n");
	if (!resp->has_date) {
		PUT_LIT(out, "Date: ");
		buf_puts(out, date);
		PUT_LIT(out, "\r\n");
	}
	if (resp->content_type.n) {
		PUT_LIT(out, "Content-Type: ");
		put_sv(out, resp->content_type);
		PUT_LIT(out, "\r\n");
	}
	if (http_response_has_body(resp->status, false)) {
		PUT_LIT(out, "Content-Length: ");
		put_u64(out, resp->body.n);
		PUT_LIT(out, "\r\n");
	}
	if (keep_alive && !resp->close)
		PUT_LIT(out, "Connection: keep-alive\r\n");
	else
		PUT_LIT(out, "Connection: close\r\n");
	for (size_t i = 0; i < resp->nheaders; i++) {
		put_sv(out, resp->headers[i].name);
		PUT_LIT(out, ": ");
		put_sv(out, resp->headers[i].value);
		PUT_LIT(out, "\r\n");
	}
	PUT_LIT(out, "\r\n");
}
