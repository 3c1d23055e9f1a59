/*
 * h2_msg: HTTP/2 header fields to and from lb's messages, without I/O.
 *
 * A request's fields (pseudo-headers first, as nghttp2 delivers them) become
 * the same struct http_request the HTTP/1 reader fills, so an HTTP/2
 * request is routed, logged and delivered to Lambda exactly as its HTTP/1.1
 * twin: version 20 ("HTTP/2.0" in the access log), :method and :path as the
 * request line, :authority as a Host header (first, where HTTP/1.1 clients
 * put it), cookie crumbs joined with "; " into one cookie header (RFC 9113
 * §8.2.3), other names as they arrive (lower case). A body without
 * content-length is framed as chunked toward HTTP/1.1 targets.
 *
 * Answers go the other way: a status and header list become HTTP/2 fields
 * with lower-case names, minus the connection-specific ones HTTP/2 forbids.
 */
#ifndef LB_ALB_H2_MSG_H
#define LB_ALB_H2_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alb/http_msg.h"
#include "base/buf.h"

/* ALB's request header limits, as on HTTP/1 (alb-listener-rules.md §4.3). */
#define H2_FIELD_MAX (16 * 1024)
#define H2_HEADERS_MAX (64 * 1024)

struct h2_span {
	uint32_t off, len;
};

/* Builds one request from its fields; reusable (init once, begin per request). */
struct h2_req_build {
	struct http_request *req;    /* borrowed */
	struct h2_span *names, *values;   /* regular fields, offsets into req->head */
	size_t n, cap;
	struct h2_span method, path, authority, scheme;
	bool has_method, has_path, has_authority;
	size_t cookie_at;            /* index among fields of the first cookie crumb; SIZE_MAX: none */
	size_t total;                /* bytes of every field as an HTTP/1.1 header line */
	bool too_large;
	bool bad;
};

void h2_req_build_init(struct h2_req_build *b);
void h2_req_build_release(struct h2_req_build *b);
/* Starts a request in req (reset first). */
void h2_req_begin(struct h2_req_build *b, struct http_request *req);
/* One header field as received (pseudo-headers included). */
void h2_req_field(struct h2_req_build *b, struct sv name, struct sv value);
/*
 * The head is complete: fills req's method, target, headers, version and
 * framing (end_stream: no body follows). Returns 0, or the status ALB
 * answers: 400 for fields over ALB's limits or a request without :method
 * or :path (CONNECT included, which lb does not tunnel); req then holds
 * what arrived (for the access log).
 */
int h2_req_end(struct h2_req_build *b, bool end_stream);

/* One answer field: name lower-cased into storage the list owns. */
struct h2_field {
	struct sv name, value;
};

struct h2_fields {
	struct h2_field *v;
	size_t n, cap;
	struct buf mem;              /* lower-cased names, :status, content-length */
};

void h2_fields_init(struct h2_fields *f);
void h2_fields_release(struct h2_fields *f);
/*
 * The fields of a whole answer lb writes (ALB's order, as http_response_head:
 * :status, server, date, content-type, content-length, then resp's headers).
 * head_request changes nothing but that no body follows.
 */
void h2_fields_response(struct h2_fields *f, const struct http_response *resp, const char *date);
/* The fields of a streamed answer's head: :status then headers, minus the
 * connection-specific ones (RFC 9113 §8.2.2). */
void h2_fields_head(struct h2_fields *f, int status, const struct http_header *h, size_t n);

#endif
