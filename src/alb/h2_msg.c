/*
 * h2_msg: HTTP/2 fields to lb's request, and lb's answers to HTTP/2 fields.
 *
 * Field bytes are copied into req->head as they arrive and remembered as
 * offsets, since the buffer may move while it grows; views are made only
 * once the head is complete and the buffer stops growing. How ALB maps
 * cookie crumbs, :authority and bodies without content-length onto its
 * HTTP/1.1 request is not documented (alb-http-targets-and-tls.md §4.1
 * #17); lb does what RFC 9113 §8.2.3 and §8.3.1 ask of an intermediary.
 */
#include "alb/h2_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void h2_req_build_init(struct h2_req_build *b)
{
	memset(b, 0, sizeof(*b));
}

void h2_req_build_release(struct h2_req_build *b)
{
	free(b->names);
	free(b->values);
	memset(b, 0, sizeof(*b));
}

void h2_req_begin(struct h2_req_build *b, struct http_request *req)
{
	b->req = req;
	b->n = 0;
	b->has_method = b->has_path = b->has_authority = false;
	b->cookie_at = SIZE_MAX;
	b->total = 0;
	b->too_large = b->bad = false;
	http_request_reset(req);
	req->version = 20;
}

static struct h2_span store(struct h2_req_build *b, struct sv s)
{
	struct h2_span sp = { (uint32_t)b->req->head.len, (uint32_t)s.n };

	buf_append(&b->req->head, s.p, s.n);
	return sp;
}

static struct sv view(const struct h2_req_build *b, struct h2_span sp)
{
	return (struct sv){ b->req->head.p ? b->req->head.p + sp.off : "", sp.len };
}

static void pseudo_field(struct h2_req_build *b, struct sv name, struct sv value)
{
	if (sv_eq_cstr(name, ":method")) {
		b->method = store(b, value);
		b->has_method = true;
	} else if (sv_eq_cstr(name, ":path")) {
		b->path = store(b, value);
		b->has_path = true;
	} else if (sv_eq_cstr(name, ":authority")) {
		b->authority = store(b, value);
		b->has_authority = true;
	} else if (sv_eq_cstr(name, ":scheme")) {
		b->scheme = store(b, value);
	} else {
		b->bad = true;   /* :protocol (extended CONNECT) is not offered */
	}
}

void h2_req_field(struct h2_req_build *b, struct sv name, struct sv value)
{
	size_t sz = name.n + value.n;
	bool crumb = b->cookie_at != SIZE_MAX && sv_eq_cstr(name, "cookie");

	/* Each field counts as the HTTP/1.1 line it becomes (": " and CRLF; a
	 * later cookie crumb "; " and its value), as lb's HTTP/1 limit counts
	 * lines: by name and value alone, 60 KB of one-byte HPACK indexes were
	 * 60,000 empty headers, 4 MB of lb's memory, 128 streams of them 560 MB. */
	b->total += crumb ? value.n + 2 : sz + 4;
	/* ALB's limits on HTTP/1 heads, applied to the decoded fields: 16 KB a
	 * field, 64 KB in all → 400 (alb-listener-rules.md §4.3). */
	if (sz > H2_FIELD_MAX || b->total > H2_HEADERS_MAX)
		b->too_large = true;
	if (b->too_large)
		return;
	if (name.n && name.p[0] == ':') {
		pseudo_field(b, name, value);
		return;
	}
	if (b->cookie_at == SIZE_MAX && sv_eq_cstr(name, "cookie"))
		b->cookie_at = b->n;
	if (b->n == b->cap) {
		/* Only when names grew: a realloc per field copies the array
		 * each time under ASan, quadratic in the number of fields. */
		xgrow(&b->names, &b->cap, b->n + 1, sizeof(*b->names));
		b->values = xrealloc(b->values, b->cap * sizeof(*b->values));
	}
	b->names[b->n] = store(b, name);
	b->values[b->n] = store(b, value);
	b->n++;
}

/* Cookie crumbs joined with "; " into one value (RFC 9113 §8.2.3), stored last. */
static struct h2_span join_cookies(struct h2_req_build *b)
{
	struct h2_span sp = { (uint32_t)b->req->head.len, 0 };
	bool first = true;

	for (size_t i = b->cookie_at; i < b->n; i++) {
		struct h2_span v = b->values[i];

		if (!sv_eq_cstr(view(b, b->names[i]), "cookie"))
			continue;
		if (!first)
			buf_append(&b->req->head, "; ", 2);
		/* The value may move while head grows: append from its offset. */
		buf_reserve(&b->req->head, v.len);
		buf_append(&b->req->head, b->req->head.p + v.off, v.len);
		first = false;
	}
	sp.len = (uint32_t)(b->req->head.len - sp.off);
	return sp;
}

static void set_framing(struct http_request *req, bool end_stream)
{
	const struct http_header *cl = http_request_header(req, "content-length");
	uint64_t n;

	if (end_stream) {
		req->framing = HTTP_FRAMING_NONE;
	} else if (cl && sv_to_u64(cl->value, &n) == 0) {
		/* nghttp2 checks that the DATA frames add up to it. */
		req->framing = n ? HTTP_FRAMING_LENGTH : HTTP_FRAMING_NONE;
		req->content_length = n;
	} else {
		req->framing = HTTP_FRAMING_CHUNKED;
	}
}

int h2_req_end(struct h2_req_build *b, bool end_stream)
{
	struct http_request *req = b->req;
	struct h2_span cookie = { 0, 0 };
	int status = b->too_large || b->bad || !b->has_method || !b->has_path || !b->path.len ? 400 : 0;

	if (b->cookie_at != SIZE_MAX)
		cookie = join_cookies(b);
	/* head stops growing here: views are safe from now on. A refused
	 * request keeps what arrived, for its access-log line. */
	if (b->has_method)
		req->method = view(b, b->method);
	if (b->has_path && b->path.len)
		http_request_set_target(req, view(b, b->path));
	if (b->has_authority)
		/* ALB names the Host header in mixed case toward HTTP/1.1
		 * targets (alb-http-targets-and-tls.md §1.4). */
		http_request_add_header(req, SV("Host"), view(b, b->authority));
	for (size_t i = 0; i < b->n; i++) {
		struct sv name = view(b, b->names[i]);

		if (sv_eq_cstr(name, "cookie")) {
			if (i == b->cookie_at)
				http_request_add_header(req, name, view(b, cookie));
			continue;
		}
		/* :authority wins over a host field (RFC 9113 §8.3.1). */
		if (b->has_authority && sv_eq_cstr(name, "host"))
			continue;
		http_request_add_header(req, name, view(b, b->values[i]));
	}
	req->keep_alive = true;
	set_framing(req, end_stream);
	return status;
}

/* --- answers -------------------------------------------------------------------- */

void h2_fields_init(struct h2_fields *f)
{
	memset(f, 0, sizeof(*f));
	buf_init(&f->mem, 0);
}

void h2_fields_release(struct h2_fields *f)
{
	free(f->v);
	buf_release(&f->mem);
	memset(f, 0, sizeof(*f));
}

/*
 * Names (lower-cased) and lb's own values are copied into mem, which is
 * reserved once for the whole answer so that it never moves while the
 * views into it are made.
 */
static struct sv put(struct h2_fields *f, struct sv s, bool lower)
{
	char *p = f->mem.p + f->mem.len;

	for (size_t i = 0; i < s.n; i++)
		p[i] = lower ? ascii_lower(s.p[i]) : s.p[i];
	buf_commit(&f->mem, s.n);
	return (struct sv){ p, s.n };
}

static void add(struct h2_fields *f, struct sv name, struct sv value, bool copy_value)
{
	xgrow(&f->v, &f->cap, f->n + 1, sizeof(*f->v));
	f->v[f->n].name = put(f, name, true);
	f->v[f->n].value = copy_value ? put(f, value, false) : value;
	f->n++;
}

/* Room for every name plus the values lb makes (:status, date, content-length). */
static void reserve(struct h2_fields *f, const struct http_header *h, size_t n)
{
	size_t need = 128;

	for (size_t i = 0; i < n; i++)
		need += h[i].name.n;
	buf_reset(&f->mem);
	buf_reserve(&f->mem, need);
}

static void begin(struct h2_fields *f, int status)
{
	char s[4];

	f->n = 0;
	s[0] = (char)('0' + status / 100 % 10);
	s[1] = (char)('0' + status / 10 % 10);
	s[2] = (char)('0' + status % 10);
	s[3] = 0;
	add(f, SV(":status"), (struct sv){ s, 3 }, true);
}

/* Connection-specific fields, which HTTP/2 forbids (RFC 9113 §8.2.2). */
static bool is_connection_specific(struct sv name)
{
	return sv_eq_cstr_nocase(name, "connection") || sv_eq_cstr_nocase(name, "keep-alive") ||
	       sv_eq_cstr_nocase(name, "proxy-connection") || sv_eq_cstr_nocase(name, "transfer-encoding") ||
	       sv_eq_cstr_nocase(name, "upgrade");
}

static void add_headers(struct h2_fields *f, const struct http_header *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_connection_specific(h[i].name))
			add(f, h[i].name, h[i].value, false);
}

void h2_fields_response(struct h2_fields *f, const struct http_response *resp, const char *date)
{
	char len[24];
	int k;

	reserve(f, resp->headers, resp->nheaders);
	begin(f, resp->status);
	if (!resp->bare)
		add(f, SV("server"), SV("awselb/2.0"), false);
	if (!resp->has_date)
		add(f, SV("date"), sv_from(date), true);
	if (resp->content_type.n)
		add(f, SV("content-type"), resp->content_type, false);
	if (http_response_has_body(resp->status, false)) {
		k = snprintf(len, sizeof(len), "%zu", resp->body.n);
		add(f, SV("content-length"), (struct sv){ len, (size_t)k }, true);
	}
	add_headers(f, resp->headers, resp->nheaders);
}

void h2_fields_head(struct h2_fields *f, int status, const struct http_header *h, size_t n)
{
	reserve(f, h, n);
	begin(f, status);
	add_headers(f, h, n);
}
