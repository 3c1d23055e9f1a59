/*
 * tls_mtls: mutual TLS (alb-http-targets-and-tls.md §2.6, §3.3).
 *
 * passthrough: the client is asked for a certificate, any (or none) is
 * accepted, and the chain goes to the target in one header. verify: the
 * certificate must chain to the trust store (a client without one fails
 * the handshake, as AWS's demo shows); an expired one passes only with
 * ignore_client_certificate_expiry. Session resumption is off on both, as
 * on ALB. The trust store's CA names are advertised only with
 * advertise_trust_store_ca_names: on (AWS's default is off).
 */
#include "net/tls_mtls.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "alb/mtls_headers.h"
#include "base/buf.h"
#include "base/util.h"
#include "net/tls.h"

/* passthrough: whatever the client presents is the target's to judge. */
static int on_verify_any(int ok, X509_STORE_CTX *x)
{
	(void)ok, (void)x;
	return 1;
}

/* verify with ignore_client_certificate_expiry: an expired certificate passes. */
static int on_verify_ignore_expiry(int ok, X509_STORE_CTX *x)
{
	if (!ok && X509_STORE_CTX_get_error(x) == X509_V_ERR_CERT_HAS_EXPIRED) {
		X509_STORE_CTX_set_error(x, X509_V_OK);
		return 1;
	}
	return ok;
}

int tls_mtls_setup(SSL_CTX *ctx, const struct mtls_cfg *m, struct lb_err *err)
{
	char e[256];

	if (m->mode == MTLS_OFF)
		return 0;
	/* Why: "Session resumption is not supported in passthrough or verify mode" (§2.6.1). */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 0);
	if (m->mode == MTLS_PASSTHROUGH) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, on_verify_any);
		return 0;
	}
	if (!SSL_CTX_load_verify_locations(ctx, m->trust_store, NULL))
		return lb_err_at(err, m->pos.file, m->pos.line, m->pos.col, "trust_store '%s': %s",
				 m->trust_store, tls_last_error(e, sizeof(e)));
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			   m->ignore_expiry ? on_verify_ignore_expiry : NULL);
	/* advertise_trust_store_ca_names: the CA names go into the CertificateRequest. */
	if (m->advertise_ca_names) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(m->trust_store);

		if (!names)
			return lb_err_at(err, m->pos.file, m->pos.line, m->pos.col, "trust_store "
					 "'%s': no CA names: %s", m->trust_store,
					 tls_last_error(e, sizeof(e)));
		SSL_CTX_set_client_CA_list(ctx, names);
	}
	return 0;
}

static void append_pem(struct buf *b, X509 *x)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;

	PEM_write_bio_X509(bio, x);
	n = BIO_get_mem_data(bio, &p);
	if (n > 0)
		mtls_url_encode(b, p, (size_t)n);
	BIO_free(bio);
}

static char *name_rfc2253(const X509_NAME *name)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p, *s;
	long n;

	X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
	/* Why: an empty name (a client certificate's subject may be, RFC 5280
	 * §4.1.2.6) prints nothing, and the memory BIO then has no buffer: p is NULL. */
	n = BIO_get_mem_data(bio, &p);
	s = n > 0 ? xstrndup(p, (size_t)n) : xstrdup("");
	BIO_free(bio);
	return s;
}

static char *serial_hex(X509 *x)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *h = bn ? BN_bn2hex(bn) : NULL, *s;

	/* BN_bn2hex gives upper-case whole bytes ("03A5B1"), AWS's example's form. */
	s = xstrdup(h ? h : "");
	OPENSSL_free(h);
	BN_free(bn);
	return s;
}

static char *validity(X509 *x)
{
	struct tm nb, na;
	struct buf b = BUF_INIT;
	char *s;

	memset(&nb, 0, sizeof(nb));
	memset(&na, 0, sizeof(na));
	ASN1_TIME_to_tm(X509_get0_notBefore(x), &nb);
	ASN1_TIME_to_tm(X509_get0_notAfter(x), &na);
	mtls_validity(&b, &nb, &na);
	s = xstrdup(buf_cstr(&b));
	buf_release(&b);
	return s;
}

static char *take(struct buf *b)
{
	char *s = xstrdup(buf_cstr(b));

	buf_release(b);
	return s;
}

void tls_mtls_values(SSL *ssl, bool verify, char **out)
{
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	struct buf b = BUF_INIT;

	if (!leaf)
		return;
	if (!verify) {
		/* The whole chain presented, leaf first; on a server
		 * SSL_get_peer_cert_chain leaves the leaf out (§3.5). */
		STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);

		append_pem(&b, leaf);
		for (int i = 0; chain && i < sk_X509_num(chain); i++) {
			X509 *x = sk_X509_value(chain, i);

			if (X509_cmp(x, leaf) != 0)
				append_pem(&b, x);
		}
		out[HTTP_MTLS_CLIENTCERT] = take(&b);
		return;
	}
	out[HTTP_MTLS_SERIAL] = serial_hex(leaf);
	out[HTTP_MTLS_ISSUER] = name_rfc2253(X509_get_issuer_name(leaf));
	out[HTTP_MTLS_SUBJECT] = name_rfc2253(X509_get_subject_name(leaf));
	out[HTTP_MTLS_VALIDITY] = validity(leaf);
	append_pem(&b, leaf);
	out[HTTP_MTLS_LEAF] = take(&b);
}
