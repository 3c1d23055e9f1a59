/*
 * tls_client: client SSL_CTXs for http_client. Both accept TLS 1.2 and 1.3
 * and treat a TCP close without close_notify as a clean end
 * (SSL_OP_IGNORE_UNEXPECTED_EOF: libevent 2.1.12 would report it as an
 * error under OpenSSL 3, alb-http-targets-and-tls.md §3.5). Sessions are
 * cached by the caller (one per pool) through the new-session callback, so
 * a keep-alive pool's next connection resumes instead of a full handshake.
 */
#include "net/tls_client.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "base/util.h"

struct tls_client {
	SSL_CTX *verify;     /* Lambda endpoints */
	SSL_CTX *noverify;   /* HTTPS targets */
};

static SSL_CTX *ctx_new(int (*on_session)(SSL *, SSL_SESSION *))
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, on_session);
	return ctx;
}

struct tls_client *tls_client_new(int (*on_session)(SSL *, SSL_SESSION *), const char *ca_file, char *err,
				  size_t errn)
{
	struct tls_client *t = xcalloc(1, sizeof(*t));

	t->verify = ctx_new(on_session);
	t->noverify = ctx_new(on_session);
	if (!t->verify || !t->noverify) {
		snprintf(err, errn, "cannot create a TLS context");
		goto fail;
	}
	/* The system trust store (and SSL_CERT_FILE/SSL_CERT_DIR, as OpenSSL reads them). */
	SSL_CTX_set_default_verify_paths(t->verify);
	if (ca_file && SSL_CTX_load_verify_locations(t->verify, ca_file, NULL) != 1) {
		snprintf(err, errn, "cannot load CA file '%s'", ca_file);
		goto fail;
	}
	SSL_CTX_set_verify(t->verify, SSL_VERIFY_PEER, NULL);
	/* ALB does not validate target certificates: self-signed or expired ones
	 * work (alb-http-targets-and-tls.md §1.3), so neither does lb toward targets. */
	SSL_CTX_set_verify(t->noverify, SSL_VERIFY_NONE, NULL);
	return t;
fail:
	ERR_clear_error();
	tls_client_free(t);
	return NULL;
}

void tls_client_free(struct tls_client *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->verify);
	SSL_CTX_free(t->noverify);
	free(t);
}

SSL *tls_client_ssl(struct tls_client *t, const char *host, void *app)
{
	SSL *ssl = SSL_new(host ? t->verify : t->noverify);
	unsigned char ip[16];

	SSL_set_app_data(ssl, app);
	if (host) {
		bool numeric = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
		/* SNI carries names only (RFC 6066); an address is checked against the certificate's IPs. */
		if (!numeric)
			SSL_set_tlsext_host_name(ssl, host);
		if (numeric)
			X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
		else
			SSL_set1_host(ssl, host);
	}
	return ssl;
}

void tls_client_why(SSL *ssl, unsigned long err, char *buf, size_t n)
{
	long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;

	if (v != X509_V_OK)
		snprintf(buf, n, "certificate verification failed: %s", X509_verify_cert_error_string(v));
	else if (err)
		snprintf(buf, n, "TLS handshake failed: %s", ERR_reason_error_string(err) ? ERR_reason_error_string(err) : "unknown");
	else
		snprintf(buf, n, "TLS handshake failed (connection closed)");
}
