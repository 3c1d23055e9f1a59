/*
 * h2_req_head: an HTTP/1.1 request head, as proxy_request_head writes it
 * toward a target, mapped to the header block of an HTTP/2 request for
 * targets of `protocol_version: HTTP2 | GRPC` groups
 * (alb-http-targets-and-tls.md §1.2): the request line becomes :method and
 * :path, Host becomes :authority, names are lower-cased, and the fields
 * HTTP/2 forbids (RFC 9113 §8.2.2: Connection, Keep-Alive,
 * Proxy-Connection, Transfer-Encoding, Upgrade, TE but "trailers") are
 * left out. Pure.
 */
#ifndef LB_ALB_H2_REQ_HEAD_H
#define LB_ALB_H2_REQ_HEAD_H

#include "alb/fwd_headers.h"

/*
 * Fills out (reset first) with the HTTP/2 fields of head[0..n): the four
 * pseudo-headers first (:method, :scheme, :authority, :path), then the
 * others in order. Views point into head or into out->mem. scheme: "http"
 * or "https". Returns 1 when a body follows the head (Content-Length
 * above 0, or Transfer-Encoding), 0 when none does, -1 when head is not a
 * request head.
 */
int h2_req_head_from_h1(struct header_list *out, const char *head, size_t n, const char *scheme);

/* Whether a request with this Content-Type is gRPC (application/grpc, +proto, ;...). */
bool h2_is_grpc_content_type(struct sv ct);

#endif
