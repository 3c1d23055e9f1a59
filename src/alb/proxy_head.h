/*
 * proxy_head: the heads ALB writes when it forwards to an HTTP target — the
 * request toward the target and the answer's headers toward the client
 * (alb-http-targets-and-tls.md §1.3-§1.5, §1.14). Pure.
 *
 * Hop-by-hop headers (RFC 9110 §7.6.1: Connection, Keep-Alive,
 * Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade and every name
 * the Connection header lists) belong to one connection and are not passed
 * on either way; AWS publishes no list of its own (§1.5, unverified), this
 * is the RFC's. A WebSocket upgrade keeps Upgrade and Connection: Upgrade,
 * which the target must see (§1.5).
 */
#ifndef LB_ALB_PROXY_HEAD_H
#define LB_ALB_PROXY_HEAD_H

#include <stdbool.h>

#include "alb/fwd_headers.h"
#include "alb/http_msg.h"
#include "base/buf.h"

/* Whether the request asks for a WebSocket upgrade (Upgrade: websocket, HTTP/1.1). */
bool proxy_is_websocket(const struct http_request *req);

/*
 * Appends the request head toward an HTTP target: "METHOD target HTTP/1.1",
 * the headers toward the target (fwd, from fwd_headers_build) without the
 * hop-by-hop ones, the body's framing as it came (Content-Length, or
 * chunked; a request with both is framed by chunked, as it was read), and
 * Connection: Upgrade for a WebSocket upgrade. An absolute-form target is
 * sent in origin form. A request without Host (HTTP/1.0) gets one naming
 * lb: its listener's lb_address and port. The host name is lower-cased
 * unless preserve_host.
 */
void proxy_request_head(struct buf *out, const struct http_request *req, const struct header_list *fwd,
			const char *lb_address, bool preserve_host);

/*
 * Fills out (reset first) with the target's answer headers passed on to the
 * client: all but the hop-by-hop ones (a 101 keeps Upgrade and Connection),
 * in the target's order, names and values as sent; Content-Length is kept.
 * Views point into reply.
 */
void proxy_response_headers(const struct http_reply *reply, struct header_list *out);

#endif
