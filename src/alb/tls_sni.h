/*
 * tls_sni: which certificate of an HTTPS listener answers a client's SNI,
 * by ALB's rules (alb-http-targets-and-tls.md §2.3). Pure: the caller
 * describes each certificate (its names, key and expiry).
 */
#ifndef LB_ALB_TLS_SNI_H
#define LB_ALB_TLS_SNI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tls_key_type { TLS_KEY_RSA, TLS_KEY_ECDSA, TLS_KEY_OTHER };

struct tls_sni_cert {
	const char *const *names;  /* DNS names (subjectAltName, else the CN); "*.example.com" allowed */
	size_t nnames;
	enum tls_key_type key_type;
	int key_bits;
	int64_t not_after;         /* seconds since the epoch */
};

/* Whether host (an SNI value) matches name: equal ignoring case, or name is
 * "*.rest" and host is one label followed by ".rest". */
bool tls_sni_name_matches(const char *name, const char *host);

/* Whether one of c's names matches host. */
bool tls_sni_cert_matches(const struct tls_sni_cert *c, const char *host);

/*
 * The index of the certificate to present for sni among certs[0..n)
 * (certs[0] is the listener's default), or -1 when none matches (present
 * the default; the access log's domain_name is then "-"). Exact names win
 * over wildcards; among several matches ALB picks "the best": ECDSA over
 * RSA, then the longer key, then the later expiry.
 */
int tls_sni_choose(const char *sni, const struct tls_sni_cert *certs, size_t n);

#endif
