/*
 * tls_mtls: mutual TLS on an HTTPS listener (alb-http-targets-and-tls.md
 * §2.6): the context's verification settings per mode, and the client
 * certificate's header values once the handshake is done.
 */
#ifndef LB_NET_TLS_MTLS_H
#define LB_NET_TLS_MTLS_H

#include <stdbool.h>

#include <openssl/ssl.h>

#include "alb/http_msg.h"
#include "base/err.h"
#include "config/config.h"

/* Sets ctx up for m's mode (off: nothing). -1 with err on a bad trust store. */
int tls_mtls_setup(SSL_CTX *ctx, const struct mtls_cfg *m, struct lb_err *err);
/* The header values for ssl's client certificate into out[HTTP_MTLS_COUNT]
 * (new strings; NULL where a header is not sent). verify: the five verify
 * headers, else the passthrough chain. */
void tls_mtls_values(SSL *ssl, bool verify, char **out);

#endif
