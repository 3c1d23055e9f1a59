/*
 * tls: the TLS side of HTTPS listeners on OpenSSL 3 (DESIGN.md §14,
 * alb-http-targets-and-tls.md §2, §3.3): one SSL_CTX per certificate,
 * configured from the listener's security policy, SNI selection, ALPN,
 * mutual TLS, and what a finished handshake negotiated.
 */
#ifndef LB_NET_TLS_H
#define LB_NET_TLS_H

#include <stdbool.h>

#include <openssl/ssl.h>

#include "alb/http_msg.h"
#include "base/err.h"
#include "config/config.h"

struct tls_listener;

/*
 * Builds the TLS side of the HTTPS listener lc of cfg: reads its
 * certificates and keys (or issues one from lb's local CA for
 * `certificates: auto`), its trust store, and applies its policy. Borrows
 * cfg only during the call. NULL with err ("file:line:col: ...") on failure.
 */
struct tls_listener *tls_listener_new(const struct config *cfg, const struct listener_cfg *lc,
				      struct lb_err *err);
void tls_listener_free(struct tls_listener *t);
/* `lb check`: loads the certificates, keys and trust stores of cfg's HTTPS
 * listeners (not `certificates: auto`, which would create the local CA). -1 with err. */
int tls_check(const struct config *cfg, struct lb_err *err);

/* A new SSL for a connection accepted on t (its owner frees it). */
SSL *tls_listener_ssl(struct tls_listener *t);

/* After the handshake: fills info (its mtls values are new strings). */
void tls_info_fill(struct http_tls *info, SSL *ssl);
/* Frees info's strings. */
void tls_info_release(struct http_tls *info);

/* The last OpenSSL error as text (for one log line), and clears the queue. */
const char *tls_last_error(char *buf, size_t n);

#endif
