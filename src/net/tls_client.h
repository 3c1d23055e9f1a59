/*
 * tls_client: the OpenSSL side of lb's outbound TLS (http_client's HTTPS
 * connections). Two client contexts: one that verifies (the system trust
 * store plus an optional CA file, the host name, SNI) for remote Lambda
 * endpoints, one that does not, for HTTPS targets.
 */
#ifndef LB_NET_TLS_CLIENT_H
#define LB_NET_TLS_CLIENT_H

#include <openssl/ssl.h>

struct tls_client;

/* on_session: OpenSSL's new-session callback (return 1 to keep the session), for
 * resumption; ca_file (PEM, may be NULL) is trusted besides the system store.
 * Returns NULL with err filled when ca_file cannot be loaded. */
struct tls_client *tls_client_new(int (*on_session)(SSL *, SSL_SESSION *), const char *ca_file, char *err,
				  size_t errn);
void tls_client_free(struct tls_client *t);
/*
 * A new SSL for one connection. host: verify the certificate for it and send
 * it as SNI; NULL: neither. app: the SSL's app data (SSL_get_app_data). A
 * session to resume is set by the caller once the socket is attached.
 */
SSL *tls_client_ssl(struct tls_client *t, const char *host, void *app);
/* Why a handshake failed, from the SSL and OpenSSL's error queue, into buf. */
void tls_client_why(SSL *ssl, unsigned long err, char *buf, size_t n);

#endif
