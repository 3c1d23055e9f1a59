/*
 * auth_keys: AES-256-GCM sealing and ES256 signing with libcrypto (OpenSSL 3).
 * Sealed values are base64url without padding so they fit cookie values and
 * URL parameters as they are.
 */
#include "net/auth_keys.h"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alb/auth_oidc.h"
#include "base/util.h"

enum { KEY_LEN = 32, IV_LEN = 12, TAG_LEN = 16 };

struct auth_keys {
	int refs;                 /* under keys_mu */
	uint8_t aes[KEY_LEN];
	EVP_PKEY *ec;
	char kid[37];
	char *pem;
};

static void keys_free(struct auth_keys *k);

/* The process's keys while any loop holds them (workers: one set for every loop). */
static pthread_mutex_t keys_mu = PTHREAD_MUTEX_INITIALIZER;
static struct auth_keys *keys_shared;

static struct auth_keys *keys_new(void)
{
	struct auth_keys *k = xcalloc(1, sizeof(*k));
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
	BIO *bio = BIO_new(BIO_s_mem());
	uint8_t id[16];
	char *p;
	long n;

	if (!ctx || !bio || RAND_bytes(k->aes, KEY_LEN) != 1 || RAND_bytes(id, sizeof(id)) != 1 ||
	    EVP_PKEY_keygen_init(ctx) <= 0 ||
	    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, NID_X9_62_prime256v1) <= 0 ||
	    EVP_PKEY_keygen(ctx, &k->ec) <= 0 || PEM_write_bio_PUBKEY(bio, k->ec) != 1) {
		EVP_PKEY_CTX_free(ctx);
		BIO_free(bio);
		keys_free(k);
		return NULL;
	}
	snprintf(k->kid, sizeof(k->kid), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x", id[0], id[1], id[2], id[3], id[4], id[5], id[6],
		 id[7], id[8], id[9], id[10], id[11], id[12], id[13], id[14], id[15]);
	n = BIO_get_mem_data(bio, &p);
	k->pem = xmalloc((size_t)n + 1);
	memcpy(k->pem, p, (size_t)n);
	k->pem[n] = '\0';
	EVP_PKEY_CTX_free(ctx);
	BIO_free(bio);
	return k;
}

struct auth_keys *auth_keys_get(void)
{
	struct auth_keys *k;

	pthread_mutex_lock(&keys_mu);
	if (!keys_shared)
		keys_shared = keys_new();
	if ((k = keys_shared))
		k->refs++;
	pthread_mutex_unlock(&keys_mu);
	return k;
}

void auth_keys_put(struct auth_keys *k)
{
	bool last;

	if (!k)
		return;
	pthread_mutex_lock(&keys_mu);
	last = --k->refs == 0;
	if (last)
		keys_shared = NULL;
	pthread_mutex_unlock(&keys_mu);
	if (last)
		keys_free(k);
}

static void keys_free(struct auth_keys *k)
{
	EVP_PKEY_free(k->ec);
	free(k->pem);
	OPENSSL_cleanse(k->aes, sizeof(k->aes));
	free(k);
}

const char *auth_keys_kid(const struct auth_keys *k)
{
	return k->kid;
}

const char *auth_keys_pem(const struct auth_keys *k)
{
	return k->pem;
}

void auth_seal(const struct auth_keys *k, const void *pt, size_t n, struct buf *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t *raw = xmalloc(IV_LEN + n + TAG_LEN);
	int len = 0, fin = 0;

	if (!c || RAND_bytes(raw, IV_LEN) != 1 ||
	    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, k->aes, raw) != 1 ||
	    EVP_EncryptUpdate(c, raw + IV_LEN, &len, pt, (int)n) != 1 ||
	    EVP_EncryptFinal_ex(c, raw + IV_LEN + len, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, raw + IV_LEN + n) != 1)
		abort();   /* out of memory in libcrypto: fatal, as xmalloc */
	auth_b64url(out, raw, IV_LEN + n + TAG_LEN, false);
	EVP_CIPHER_CTX_free(c);
	free(raw);
}

int auth_open(const struct auth_keys *k, const char *s, size_t n, struct buf *out)
{
	struct buf raw;
	EVP_CIPHER_CTX *c = NULL;
	int len = 0, fin = 0, rc = -1;
	size_t ctn;
	uint8_t *pt = NULL;

	buf_init(&raw, 64 * 1024);
	if (auth_b64url_decode(&raw, s, n) || raw.len < IV_LEN + TAG_LEN)
		goto out;
	ctn = raw.len - IV_LEN - TAG_LEN;
	pt = xmalloc(ctn + 1);
	if (!(c = EVP_CIPHER_CTX_new()) ||
	    EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, k->aes, (uint8_t *)raw.p) != 1 ||
	    EVP_DecryptUpdate(c, pt, &len, (uint8_t *)raw.p + IV_LEN, (int)ctn) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN, raw.p + IV_LEN + ctn) != 1 ||
	    EVP_DecryptFinal_ex(c, pt + len, &fin) != 1)
		goto out;
	buf_append(out, pt, ctn);
	rc = 0;
out:
	EVP_CIPHER_CTX_free(c);
	free(pt);
	buf_release(&raw);
	return rc;
}

int auth_sign_es256(const struct auth_keys *k, const void *in, size_t n, uint8_t sig[64])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[80];
	const unsigned char *p = der;
	size_t dlen = sizeof(der);
	ECDSA_SIG *es = NULL;
	int rc = -1;

	if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, k->ec) != 1 ||
	    EVP_DigestSign(md, der, &dlen, in, n) != 1 || !(es = d2i_ECDSA_SIG(NULL, &p, (long)dlen)))
		goto out;
	/* JWS wants r and s as fixed 32-byte big-endian integers, not DER (RFC 7518 §3.4). */
	if (BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, 32) != 32 ||
	    BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + 32, 32) != 32)
		goto out;
	rc = 0;
out:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	return rc;
}
