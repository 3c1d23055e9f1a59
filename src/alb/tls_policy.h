/*
 * tls_policy: ALB's security policies by AWS's names, each with its
 * protocol versions and cipher lists (alb-http-targets-and-tls.md §2.2).
 * A pure table: net/tls.c turns a policy into OpenSSL settings.
 */
#ifndef LB_ALB_TLS_POLICY_H
#define LB_ALB_TLS_POLICY_H

#include <stdbool.h>
#include <stddef.h>

/* TLS wire versions, the values of OpenSSL's TLS1_VERSION ... TLS1_3_VERSION. */
#define TLS_V1_0 0x0301
#define TLS_V1_1 0x0302
#define TLS_V1_2 0x0303
#define TLS_V1_3 0x0304

struct tls_policy {
	const char *name;          /* "ELBSecurityPolicy-TLS13-1-2-2021-06" */
	int min_version, max_version;
	const char *ciphers;       /* TLS 1.0-1.2, OpenSSL names in priority order; "" when 1.3 only */
	const char *ciphersuites;  /* TLS 1.3 suites; "" when the policy has no TLS 1.3 */
	const char *groups;        /* key-exchange groups as OpenSSL names them */
	bool post_quantum;         /* AWS adds ML-KEM hybrid groups, which OpenSSL 3.0 lacks */
};

/* The policy named name (exact, case-sensitive as AWS's API), or NULL. */
const struct tls_policy *tls_policy_find(const char *name);
/* Every policy, for tests and `lb check`: *n gets the count. */
const struct tls_policy *tls_policy_all(size_t *n);
/* The policy lb uses when a listener names none: the API's default. */
const char *tls_policy_default_name(void);
/* "TLSv1.2" for TLS_V1_2, as OpenSSL and ALB's access log spell it. */
const char *tls_version_name(int version);

#endif
