/*
 * tls: HTTPS listeners' OpenSSL contexts (alb-http-targets-and-tls.md §3.3).
 *
 * A tls_listener holds one SSL_CTX per certificate, all set up alike from
 * the listener's security policy; the first is the default, and every
 * connection starts on it. The servername callback picks the certificate
 * for the client's SNI (tls_sni_choose, ALB's rules) and moves the
 * connection to that certificate's context. The ALPN callback picks the
 * application protocol. What the callbacks need (the certificates and
 * their contexts, the ALPN list, the mTLS mode) is a struct tls_shared,
 * which owns the contexts and is referenced by the listener and by every
 * connection's SSL (OpenSSL ex_data, released by SSL_free): connections
 * accepted before a reload keep all of it, SNI switching included, after
 * their listener got new certificates.
 *
 * Session tickets: every context of a listener encrypts them with the same
 * key, derived from a secret made once per process, the configuration and
 * the listener (ticket_keys). Each event loop (`workers: N`) builds its own
 * contexts from the same configuration, so a ticket one loop issued resumes
 * on any other; a reload (a new configuration) starts new tickets.
 */
#include "net/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <pthread.h>

#include "alb/tls_policy.h"
#include "alb/tls_sni.h"
#include "base/log.h"
#include "base/util.h"
#include "net/tls_ca.h"
#include "net/tls_mtls.h"

/* One certificate: its context and what SNI selection needs to know. */
struct tls_cert {
	SSL_CTX *ctx;
	char arn[160];
	char **names;
	size_t nnames;
	struct tls_sni_cert sni;
};

/* A listener's TLS state, shared with its connections (which may outlive the listener). */
struct tls_shared {
	int refs;
	struct tls_cert *certs;
	size_t ncerts;
	struct tls_sni_cert *sni;
	unsigned char alpn[32];   /* the server's ALPN preference list, wire format */
	size_t alpn_len;
	enum mtls_mode mtls;
	bool ignore_expiry;
};

struct tls_listener {
	struct tls_shared *sh;
};

static int ssl_idx = -1;    /* SSL ex_data: its tls_shared (a reference) */

const char *tls_last_error(char *buf, size_t n)
{
	unsigned long e = ERR_get_error();

	if (!e)
		snprintf(buf, n, "unknown TLS error");
	else
		ERR_error_string_n(e, buf, n);
	ERR_clear_error();
	return buf;
}

static void shared_unref(struct tls_shared *sh)
{
	if (!sh || --sh->refs > 0)
		return;
	for (size_t i = 0; i < sh->ncerts; i++) {
		SSL_CTX_free(sh->certs[i].ctx);
		for (size_t k = 0; k < sh->certs[i].nnames; k++)
			free(sh->certs[i].names[k]);
		free(sh->certs[i].names);
	}
	free(sh->certs);
	free(sh->sni);
	free(sh);
}

/* ex_data free callback: a connection's SSL is freed, and its reference with it. */
static void on_ssl_data_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			     void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	shared_unref(ptr);
}

static struct tls_shared *ssl_shared(SSL *ssl)
{
	return SSL_get_ex_data(ssl, ssl_idx);
}

/*
 * The certificate for the client's SNI. Runs early in the handshake, on the
 * default context: a match moves the connection to its certificate.
 */
static int on_servername(SSL *ssl, int *alert, void *arg)
{
	struct tls_shared *sh = arg;
	const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	int i;

	(void)alert;
	i = tls_sni_choose(sni, sh->sni, sh->ncerts);
	if (i > 0)
		SSL_set_SSL_CTX(ssl, sh->certs[i].ctx);
	return SSL_TLSEXT_ERR_OK;
}

/*
 * ALPN: the first protocol of the server's list the client offers. ALB has
 * no ALPN policy on HTTPS listeners; it speaks HTTP/1.1, and HTTP/2 when
 * routing.http2.enabled (§2.4). The list is built in tls_listener_new
 * (alpn_list): that is where "h2" goes first when HTTP/2 is served.
 * A client whose list shares nothing gets no ALPN and speaks HTTP/1.1.
 */
static int on_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		   const unsigned char *in, unsigned int inlen, void *arg)
{
	struct tls_shared *sh = arg;
	unsigned char *o;

	(void)ssl;
	if (SSL_select_next_proto(&o, outlen, sh->alpn, (unsigned int)sh->alpn_len, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = o;
	return SSL_TLSEXT_ERR_OK;
}

/* The server's ALPN list, most preferred first. */
static void alpn_list(struct tls_shared *sh, const struct config *cfg)
{
	size_t n = 0;

	/* routing.http2.enabled: clients may use HTTP/2 or HTTP/1.1 (§2.4);
	 * ALB's preference when both are offered is unverified: h2 first, as
	 * browsers and curl expect. conn_tls_ready hands "h2" to h2_conn_start. */
	if (cfg->lb.attrs.http2) {
		memcpy(sh->alpn + n, "\x02h2", 3);
		n += 3;
	}
	memcpy(sh->alpn + n, "\x08http/1.1", 9);
	n += 9;
	sh->alpn_len = n;
}

/* The security policy's protocols, ciphers and options (§3.3). */
static int ctx_apply_policy(SSL_CTX *ctx, const struct tls_policy *p, struct lb_err *err)
{
	char e[256];

	SSL_CTX_set_min_proto_version(ctx, p->min_version);
	SSL_CTX_set_max_proto_version(ctx, p->max_version);
	/* Why: OpenSSL 3's default security level refuses the SHA-1 signatures
	 * TLS 1.0/1.1 need (§3.5); only policies that allow them lower it. */
	if (p->min_version < TLS_V1_2)
		SSL_CTX_set_security_level(ctx, 0);
	if (*p->ciphers && !SSL_CTX_set_cipher_list(ctx, p->ciphers))
		return lb_err_set(err, "%s: cipher list refused: %s", p->name,
				  tls_last_error(e, sizeof(e)));
	if (!SSL_CTX_set_ciphersuites(ctx, p->ciphersuites))
		return lb_err_set(err, "%s: TLS 1.3 suites refused: %s", p->name,
				  tls_last_error(e, sizeof(e)));
	if (!SSL_CTX_set1_groups_list(ctx, p->groups))
		return lb_err_set(err, "%s: groups refused: %s", p->name,
				  tls_last_error(e, sizeof(e)));
	/* Why: ALB picks "the first cipher on the server's list" the client
	 * supports, and allows no client renegotiation (§2.1). A client that
	 * closes without close_notify is a clean close (§3.5). */
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION |
				 SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return 0;
}

/* What SNI selection needs to know of a loaded certificate. */
static void cert_describe(struct tls_cert *c)
{
	X509 *x = SSL_CTX_get0_certificate(c->ctx);
	EVP_PKEY *k = X509_get0_pubkey(x);
	GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	const ASN1_TIME *na = X509_get0_notAfter(x);
	struct tm tm;

	int nsans = sans ? sk_GENERAL_NAME_num(sans) : 0;

	c->names = xcalloc((size_t)nsans + 1, sizeof(*c->names));
	for (int i = 0; i < nsans; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);

		if (g->type != GEN_DNS)
			continue;
		c->names[c->nnames++] = xstrndup((const char *)ASN1_STRING_get0_data(g->d.dNSName),
						 (size_t)ASN1_STRING_length(g->d.dNSName));
	}
	GENERAL_NAMES_free(sans);
	if (c->nnames == 0) {
		char cn[256];

		if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
					      sizeof(cn)) > 0) {
			c->names[c->nnames++] = xstrdup(cn);
		}
	}
	c->sni.names = (const char *const *)c->names;
	c->sni.nnames = c->nnames;
	c->sni.key_type = EVP_PKEY_base_id(k) == EVP_PKEY_EC ? TLS_KEY_ECDSA
			  : EVP_PKEY_base_id(k) == EVP_PKEY_RSA ? TLS_KEY_RSA : TLS_KEY_OTHER;
	c->sni.key_bits = EVP_PKEY_bits(k);
	if (na && ASN1_TIME_to_tm(na, &tm))
		c->sni.not_after = (int64_t)timegm(&tm);
}

static int cert_load(SSL_CTX *ctx, const char *cert, const char *key, const struct src_pos *pos,
		     struct lb_err *err)
{
	char e[256];
	EVP_PKEY *k;

	if (!SSL_CTX_use_certificate_chain_file(ctx, cert))
		return lb_err_at(err, pos->file, pos->line, pos->col, "certificate '%s': %s", cert,
				 tls_last_error(e, sizeof(e)));
	if (!SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM))
		return lb_err_at(err, pos->file, pos->line, pos->col, "private_key '%s': %s", key,
				 tls_last_error(e, sizeof(e)));
	if (!SSL_CTX_check_private_key(ctx))
		return lb_err_at(err, pos->file, pos->line, pos->col, "private_key '%s' does not "
				 "match certificate '%s'", key, cert);
	k = SSL_CTX_get0_privatekey(ctx);
	/* Why: ALB does not support ED25519 keys (§2.1). */
	if (k && (EVP_PKEY_base_id(k) == EVP_PKEY_ED25519 || EVP_PKEY_base_id(k) == EVP_PKEY_ED448))
		return lb_err_at(err, pos->file, pos->line, pos->col, "certificate '%s': ALB "
				 "supports RSA and ECDSA keys, not EdDSA", cert);
	return 0;
}

enum { TICKET_KEYS_LEN = 80 };   /* OpenSSL's ticket keys: name 16, HMAC 32, AES 32 */

static uint8_t ticket_secret[32];
static bool ticket_secret_ok;
static pthread_once_t ticket_once = PTHREAD_ONCE_INIT;

static void ticket_secret_make(void)
{
	ticket_secret_ok = RAND_bytes(ticket_secret, sizeof(ticket_secret)) == 1;
}

/*
 * The ticket keys of listener lc of cfg: HMAC-SHA256(process secret, what
 * names them), the same in every loop (they share cfg). -1 if libcrypto fails.
 */
static int ticket_keys(const struct config *cfg, const struct listener_cfg *lc,
		       uint8_t out[TICKET_KEYS_LEN])
{
	uint8_t mac[32];
	char id[96];
	unsigned int n;

	pthread_once(&ticket_once, ticket_secret_make);
	if (!ticket_secret_ok)
		return -1;
	for (int part = 0; part < 3; part++) {
		int len = snprintf(id, sizeof(id), "%d %p %zu", part, (const void *)cfg,
				   (size_t)(lc - cfg->listeners));

		n = sizeof(mac);
		if (!HMAC(EVP_sha256(), ticket_secret, sizeof(ticket_secret), (uint8_t *)id,
			  (size_t)len, mac, &n))
			return -1;
		memcpy(out + (part == 0 ? 0 : 16 + 32 * (part - 1)), mac, part == 0 ? 16 : 32);
	}
	return 0;
}

/* A context for one certificate, with the listener's policy, callbacks and mTLS. */
static SSL_CTX *ctx_new(struct tls_shared *sh, const struct config *cfg,
		       const struct listener_cfg *lc, struct lb_err *err)
{
	static const unsigned char sid[] = "lb";
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	uint8_t keys[TICKET_KEYS_LEN];

	if (!ctx) {
		lb_err_set(err, "cannot create a TLS context");
		return NULL;
	}
	if (ctx_apply_policy(ctx, tls_policy_find(lc->ssl_policy), err) ||
	    tls_mtls_setup(ctx, &lc->mtls, err)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* Why: ALB resumes TLS sessions; every loop's contexts share the listener's ticket keys. */
	if (ticket_keys(cfg, lc, keys) || SSL_CTX_set_tlsext_ticket_keys(ctx, keys, sizeof(keys)) != 1) {
		OPENSSL_cleanse(keys, sizeof(keys));
		SSL_CTX_free(ctx);
		lb_err_set(err, "cannot set the TLS session ticket keys");
		return NULL;
	}
	OPENSSL_cleanse(keys, sizeof(keys));
	SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
	SSL_CTX_set_tlsext_servername_callback(ctx, on_servername);
	SSL_CTX_set_tlsext_servername_arg(ctx, sh);
	SSL_CTX_set_alpn_select_cb(ctx, on_alpn, sh);
	return ctx;
}

struct tls_listener *tls_listener_new(const struct config *cfg, const struct listener_cfg *lc,
				      struct lb_err *err)
{
	struct tls_listener *t = xcalloc(1, sizeof(*t));
	struct tls_shared *sh = xcalloc(1, sizeof(*sh));
	struct tls_ca_issued auto_cert = { 0 };
	size_t n = lc->auto_certificate ? 1 : lc->ncertificates;

	if (ssl_idx < 0)
		ssl_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, on_ssl_data_free);
	t->sh = sh;
	sh->refs = 1;
	sh->mtls = lc->mtls.mode;
	sh->ignore_expiry = lc->mtls.ignore_expiry;
	alpn_list(sh, cfg);
	if (lc->auto_certificate && tls_ca_issue(cfg, lc, &auto_cert, err))
		goto fail;
	sh->certs = xcalloc(n, sizeof(*sh->certs));
	sh->sni = xcalloc(n, sizeof(*sh->sni));
	for (size_t i = 0; i < n; i++) {
		struct tls_cert *c = &sh->certs[i];
		const struct certificate_cfg *cc = lc->auto_certificate ? NULL : &lc->certificates[i];

		c->ctx = ctx_new(sh, cfg, lc, err);
		sh->ncerts++;
		if (!c->ctx)
			goto fail;
		if (cc && cert_load(c->ctx, cc->certificate, cc->private_key, &cc->pos, err))
			goto fail;
		if (!cc && (!SSL_CTX_use_certificate(c->ctx, auto_cert.cert) ||
			    !SSL_CTX_use_PrivateKey(c->ctx, auto_cert.key) ||
			    !SSL_CTX_add1_chain_cert(c->ctx, auto_cert.ca))) {
			lb_err_at(err, lc->pos.file, lc->pos.line, lc->pos.col,
				  "cannot use the local CA's certificate");
			goto fail;
		}
		snprintf(c->arn, sizeof(c->arn), "%s", cc ? cc->arn : auto_cert.arn);
		cert_describe(c);
		sh->sni[i] = c->sni;
	}
	tls_ca_issued_release(&auto_cert);
	return t;
fail:
	tls_ca_issued_release(&auto_cert);
	tls_listener_free(t);
	return NULL;
}

void tls_listener_free(struct tls_listener *t)
{
	struct tls_shared *sh;

	if (!t)
		return;
	sh = t->sh;
	shared_unref(sh);   /* live connections keep theirs */
	free(t);
}

int tls_check(const struct config *cfg, struct lb_err *err)
{
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		const struct listener_cfg *lc = &cfg->listeners[i];
		struct tls_listener *t;

		if (lc->protocol != PROTO_HTTPS || lc->auto_certificate)
			continue;
		if (!(t = tls_listener_new(cfg, lc, err)))
			return -1;
		tls_listener_free(t);
	}
	return 0;
}

SSL *tls_listener_ssl(struct tls_listener *t)
{
	SSL *ssl = SSL_new(t->sh->certs[0].ctx);

	if (ssl && SSL_set_ex_data(ssl, ssl_idx, t->sh))
		t->sh->refs++;
	return ssl;
}

void tls_info_fill(struct http_tls *info, SSL *ssl)
{
	struct tls_shared *sh = ssl_shared(ssl);
	const char *sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	const unsigned char *alpn = NULL;
	unsigned int alpn_len = 0;
	SSL_CTX *ctx = SSL_get_SSL_CTX(ssl);

	info->protocol = SSL_get_version(ssl);
	info->cipher = SSL_CIPHER_get_name(SSL_get_current_cipher(ssl));
	snprintf(info->sni, sizeof(info->sni), "%s", sni ? sni : "");
	info->sni_matched = false;
	info->cert_arn[0] = 0;
	for (size_t i = 0; sh && i < sh->ncerts; i++) {
		if (sh->certs[i].ctx != ctx)
			continue;
		snprintf(info->cert_arn, sizeof(info->cert_arn), "%s", sh->certs[i].arn);
		/* Why: domain_name is the SNI only when it chose the certificate;
		 * "-" when the default answered a name it does not carry (§2.3). */
		info->sni_matched = sni && tls_sni_cert_matches(&sh->sni[i], sni);
	}
	/* Why: ALB logs chosen_cert_arn "session-reused" for a resumed session (§2.3). */
	if (SSL_session_reused(ssl))
		snprintf(info->cert_arn, sizeof(info->cert_arn), "session-reused");
	SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
	if (alpn_len >= sizeof(info->alpn))
		alpn_len = 0;
	memcpy(info->alpn, alpn ? (const char *)alpn : "", alpn_len);
	info->alpn[alpn_len] = 0;
	info->mtls_mode = sh ? (int)sh->mtls : 0;
	if (sh && sh->mtls != MTLS_OFF)
		tls_mtls_values(ssl, sh->mtls == MTLS_VERIFY, info->mtls);
}

void tls_info_release(struct http_tls *info)
{
	for (int i = 0; i < HTTP_MTLS_COUNT; i++) {
		free(info->mtls[i]);
		info->mtls[i] = NULL;
	}
}
