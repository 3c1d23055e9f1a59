/*
 * tls_sni: ALB's certificate selection (alb-http-targets-and-tls.md §2.3).
 *
 * AWS: "If the hostname matches multiple certificates, the load balancer
 * selects the best certificate that the client can support", ranked by
 * public-key algorithm (ECDSA over RSA), hash, key length and validity.
 * lb's choices where AWS is silent (§4.1 #15): the default certificate
 * takes part in matching like the others; an exact name beats a wildcard;
 * a later expiry ranks higher; the client is assumed to support ECDSA.
 */
#include "alb/tls_sni.h"

#include <strings.h>
#include <string.h>

bool tls_sni_name_matches(const char *name, const char *host)
{
	const char *dot;

	if (!*host)
		return false;
	if (strncmp(name, "*.", 2) != 0)
		return strcasecmp(name, host) == 0;
	/* A wildcard covers exactly one label (RFC 6125 §6.4.3). */
	dot = strchr(host, '.');
	return dot && dot != host && strcasecmp(name + 1, dot) == 0;
}

static int key_rank(enum tls_key_type t)
{
	return t == TLS_KEY_ECDSA ? 2 : t == TLS_KEY_RSA ? 1 : 0;
}

/* Whether a is a better certificate than b. */
static bool better(const struct tls_sni_cert *a, const struct tls_sni_cert *b)
{
	if (key_rank(a->key_type) != key_rank(b->key_type))
		return key_rank(a->key_type) > key_rank(b->key_type);
	if (a->key_bits != b->key_bits)
		return a->key_bits > b->key_bits;
	return a->not_after > b->not_after;
}

/* 2: an exact name of c matches, 1: a wildcard does, 0: none. */
static int match_kind(const struct tls_sni_cert *c, const char *sni)
{
	int kind = 0;

	for (size_t i = 0; i < c->nnames; i++) {
		if (!tls_sni_name_matches(c->names[i], sni))
			continue;
		if (strncmp(c->names[i], "*.", 2) != 0)
			return 2;
		kind = 1;
	}
	return kind;
}

bool tls_sni_cert_matches(const struct tls_sni_cert *c, const char *host)
{
	return host && match_kind(c, host) > 0;
}

int tls_sni_choose(const char *sni, const struct tls_sni_cert *certs, size_t n)
{
	int best = -1, best_kind = 0;

	if (!sni || !*sni)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int kind = match_kind(&certs[i], sni);

		if (kind == 0 || kind < best_kind)
			continue;
		if (best < 0 || kind > best_kind || better(&certs[i], &certs[best])) {
			best = (int)i;
			best_kind = kind;
		}
	}
	return best;
}
