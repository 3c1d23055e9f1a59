/*
 * mtls_headers: the TLS headers ALB adds toward targets on HTTPS listeners
 * (alb-http-targets-and-tls.md §2.6.2, §2.7): the mutual-TLS headers of the
 * connection's client certificate (values made at the handshake, in struct
 * http_tls) under the listener's names, x-amzn-tls-version and
 * x-amzn-tls-cipher-suite when enabled; and the encodings those values use.
 * Pure.
 */
#ifndef LB_ALB_MTLS_HEADERS_H
#define LB_ALB_MTLS_HEADERS_H

#include <stddef.h>
#include <time.h>

#include "alb/fwd_headers.h"
#include "base/buf.h"
#include "config/config.h"

/*
 * Completes the headers toward a target (after fwd_headers_build): drops
 * every copy the client sent of a header this adds (X-Amzn-Mtls-*, the
 * listener's renamed ones, the x-amzn-tls-* names), then, for an HTTPS
 * request, appends the mTLS values present and, when lba enables them,
 * the TLS version and cipher. la: the request's listener's attributes.
 */
void mtls_headers_apply(struct header_list *out, const struct http_request *req,
			const struct lb_attributes *lba, const struct listener_attrs *la);

/* Appends pem URL-encoded as ALB sends certificates: every byte but
 * unreserved characters and "+=/" percent-encoded ("%20", "%0A"). */
void mtls_url_encode(struct buf *out, const char *pem, size_t n);

/* Appends "NotBefore=2023-09-21T01:50:17Z;NotAfter=2024-09-20T01:50:17Z". */
void mtls_validity(struct buf *out, const struct tm *not_before, const struct tm *not_after);

#endif
