/*
 * http_client_tls: HTTPS toward targets and endpoints (http_client_int.h).
 *
 * An HTTPS connection goes through an OpenSSL bufferevent, which reads and
 * writes for it: its read callback does the read event's work, its read
 * timeout is the idle timeout, and "connected" means the handshake is done.
 * The TLS client context (tls_client.h) is made with the first HTTPS
 * connection; each pool keeps the last session its server issued.
 */
#include "net/http_client_int.h"

#include <errno.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "base/log.h"
#include "net/tls_client.h"

/* TLS: decrypted bytes arrived (the read event's work for plain connections). */
void hc_on_tls_read(struct bufferevent *bev, void *arg)
{
	struct hc_conn *c = arg;

	(void)bev;
	if (!c->x) {
		hc_conn_close(c);     /* idle: a byte it was not asked for */
		return;
	}
	hc_conn_parse(c);
}

/* TLS: the end of the connection, a timeout, or a failed handshake. */
void hc_on_tls_event(struct hc_conn *c, short what)
{
	if (!c->connected) {
		int sock_err = EVUTIL_SOCKET_ERROR();
		SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
		unsigned long e = bufferevent_get_openssl_error(c->bev);
		/* libevent queues OpenSSL's packed errors, or for a socket error SSL_get_error's code. */
		bool tls_failed = (e && ERR_GET_LIB(e)) || SSL_get_verify_result(ssl) != X509_V_OK;
		char why[256];

		while (bufferevent_get_openssl_error(c->bev))
			;
		if (!tls_failed && hc_conn_fall_back(c))
			return;
		/* A refused connection is the caller's to report; a handshake that failed is said here. */
		if (tls_failed || sock_err != ECONNREFUSED) {
			tls_client_why(ssl, tls_failed ? e : 0, why, sizeof(why));
			log_warn("%s %s: %s", c->pool->host ? "endpoint" : "target",
				 c->pool->host ? c->pool->host : c->pool->key, why);
		}
		hc_exchange_fail(c, tls_failed ? HTTP_CLIENT_TLS : HTTP_CLIENT_REFUSED);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT) {
		hc_conn_timed_out(c);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		hc_conn_on_eof(c);
		return;
	}
	while (bufferevent_get_openssl_error(c->bev))
		;
	if (c->x)
		hc_exchange_fail(c, HTTP_CLIENT_CLOSED);
	else
		hc_conn_close(c);
}

/* TLS: the server issued a session; the pool keeps the latest for the next connection. */
static int on_tls_session(SSL *ssl, SSL_SESSION *sess)
{
	struct hc_conn *c = SSL_get_app_data(ssl);

	if (!c || !c->pool)
		return 0;
	if (c->pool->session)
		SSL_SESSION_free(c->pool->session);
	c->pool->session = sess;
	return 1;
}

struct bufferevent *hc_tls_bev(struct hc_conn *c, const struct http_exchange_opts *opt)
{
	struct http_client *hc = c->hc;
	struct bufferevent *bev;
	SSL *ssl;

	if (!hc->tls) {
		char err[256];
		hc->tls = tls_client_new(on_tls_session, hc->ca_file, err, sizeof(err));
		if (!hc->tls) {
			log_warn("%s; using the system trust store only", err);
			hc->tls = tls_client_new(on_tls_session, NULL, err, sizeof(err));
			if (!hc->tls)
				return NULL;
		}
	}
	ssl = tls_client_ssl(hc->tls, opt->tls_sni_only ? NULL : opt->tls_host, c);
	if (opt->tls_sni_only && opt->tls_host)
		SSL_set_tlsext_host_name(ssl, opt->tls_host);
	/* The bufferevent owns the SSL from here, and frees it even when this fails. */
	bev = bufferevent_openssl_socket_new(hc->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	c->tls = bev != NULL;
	return bev;
}
