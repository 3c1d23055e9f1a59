/*
 * jwt_rsa: RS256 verification with OpenSSL 3's EVP interface. A JWK's
 * modulus and exponent become an EVP_PKEY through EVP_PKEY_fromdata the
 * first time a token names the key; the key object is cached in the
 * configuration (key->pkey) and released by arena_defer when the
 * configuration goes, so a reload never frees a key under a request.
 * Workers share the configuration: the cache and the arena are used under
 * the JWKS lock (net/jwks_fetch.h).
 */
#include "auth/jwt_rsa.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "net/jwks_fetch.h"

static void pkey_free(void *p)
{
	EVP_PKEY_free(p);
}

static EVP_PKEY *pkey_make(struct config *cfg, struct jwk_rsa *key)
{
	OSSL_PARAM_BLD *bld;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *n = NULL, *e = NULL;

	if (key->pkey)
		return key->pkey;
	n = BN_bin2bn(key->n, (int)key->n_len, NULL);
	e = BN_bin2bn(key->e, (int)key->e_len, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (n && e && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
		params = OSSL_PARAM_BLD_to_param(bld);
	if (params && (pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) &&
	    EVP_PKEY_fromdata_init(pctx) == 1)
		EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	if (pkey) {
		key->pkey = pkey;
		arena_defer(&cfg->arena, pkey_free, pkey);
	}
	return pkey;
}

static EVP_PKEY *pkey_of(struct config *cfg, struct jwk_rsa *key)
{
	EVP_PKEY *pkey;

	jwks_lock();
	pkey = pkey_make(cfg, key);
	jwks_unlock();
	return pkey;
}

int jwt_rsa_verify(void *ctx, struct jwk_rsa *key, struct sv input, const uint8_t *sig, size_t sig_len)
{
	EVP_PKEY *pkey = pkey_of(ctx, key);
	EVP_MD_CTX *md;
	int ok = 0;

	if (!pkey || !(md = EVP_MD_CTX_new()))
		return 0;
	if (EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) == 1 &&
	    EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)input.p, input.n) == 1)
		ok = 1;
	EVP_MD_CTX_free(md);
	return ok;
}
