/*
 * tls_policy: the security-policy table (alb-http-targets-and-tls.md §2.2).
 *
 * The rows of the classical policies are AWS's published tables (the 2023
 * guide's order, taken as the server's preference order, since ALB picks
 * "the first cipher on the server's list" the client supports). The
 * post-quantum (2025-09) policies are AWS's classical lists plus ML-KEM
 * hybrid groups that OpenSSL 3.0 cannot offer: lb serves them with their
 * classical groups (post_quantum marks them so lb can say so). FIPS rows
 * use their non-FIPS twin without CHACHA20 (not a FIPS cipher); their exact
 * lists are unverified.
 */
#include "alb/tls_policy.h"

#include <string.h>

/* TLS 1.3 suites, in AWS's order. */
#define TLS13 "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
#define TLS13_FIPS "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384"

/* Building blocks of AWS's cipher lists, in the guide's order. */
#define E_AES128_GCM "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"
#define E_AES128_SHA256 "ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256"
#define E_AES128_SHA "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA"
#define E_AES256_GCM "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384"
#define E_AES256_SHA384 "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384"
#define E_AES256_SHA "ECDHE-RSA-AES256-SHA:ECDHE-ECDSA-AES256-SHA"
#define R_128 "AES128-GCM-SHA256:AES128-SHA256"
#define R_128_SHA "AES128-SHA"
#define R_256 "AES256-GCM-SHA384:AES256-SHA256"
#define R_256_SHA "AES256-SHA"

/* Forward secrecy, GCM only (…-Res-2020-10, TLS13-1-2-Res-2021-06). */
#define FS_RES E_AES128_GCM ":" E_AES256_GCM
/* Forward secrecy with CBC-SHA2 (FS-1-2-Res-2019-08, TLS13-1-2-2021-06). */
#define FS_SHA2 E_AES128_GCM ":" E_AES128_SHA256 ":" E_AES256_GCM ":" E_AES256_SHA384
/* Forward secrecy with SHA-1 CBC too (FS-*-2019-08, FS-2018-06). */
#define FS_ALL E_AES128_GCM ":" E_AES128_SHA256 ":" E_AES128_SHA ":" E_AES256_GCM ":" \
	E_AES256_SHA384 ":" E_AES256_SHA
/* TLS-1-2-2017-01 and TLS13-1-2-Ext1-2021-06: no SHA-1, RSA key exchange allowed. */
#define TLS12_SHA2 E_AES128_GCM ":" E_AES128_SHA256 ":" E_AES256_GCM ":" E_AES256_SHA384 ":" \
	R_128 ":" R_256
/* ELBSecurityPolicy-2016-08's eighteen. */
#define ALL18 E_AES128_GCM ":" E_AES128_SHA256 ":" E_AES128_SHA ":" E_AES256_GCM ":" \
	E_AES256_SHA384 ":" E_AES256_SHA ":" R_128 ":" R_128_SHA ":" R_256 ":" R_256_SHA

/* Groups ALB offers are not published (§4.1 #14): the common classical ones. */
#define GROUPS "X25519:P-256:P-384:P-521"

#define P(n, lo, hi, c, s) { "ELBSecurityPolicy-" n, lo, hi, c, s, GROUPS, false }
#define PQ(n, lo, hi, c, s) { "ELBSecurityPolicy-" n, lo, hi, c, s, GROUPS, true }

static const struct tls_policy policies[] = {
	/* TLS 1.3 family (2021-06) */
	P("TLS13-1-2-2021-06", TLS_V1_2, TLS_V1_3, FS_SHA2, TLS13),
	P("TLS13-1-2-Res-2021-06", TLS_V1_2, TLS_V1_3, FS_RES, TLS13),
	P("TLS13-1-2-Ext1-2021-06", TLS_V1_2, TLS_V1_3, TLS12_SHA2, TLS13),
	P("TLS13-1-2-Ext2-2021-06", TLS_V1_2, TLS_V1_3, ALL18, TLS13),
	P("TLS13-1-1-2021-06", TLS_V1_1, TLS_V1_3, ALL18, TLS13),
	P("TLS13-1-0-2021-06", TLS_V1_0, TLS_V1_3, ALL18, TLS13),
	P("TLS13-1-3-2021-06", TLS_V1_3, TLS_V1_3, "", TLS13),
	/* FIPS (2023-04): the twin above without CHACHA20 */
	P("TLS13-1-3-FIPS-2023-04", TLS_V1_3, TLS_V1_3, "", TLS13_FIPS),
	P("TLS13-1-2-Res-FIPS-2023-04", TLS_V1_2, TLS_V1_3, FS_RES, TLS13_FIPS),
	P("TLS13-1-2-FIPS-2023-04", TLS_V1_2, TLS_V1_3, FS_SHA2, TLS13_FIPS),
	P("TLS13-1-2-Ext0-FIPS-2023-04", TLS_V1_2, TLS_V1_3, FS_ALL, TLS13_FIPS),
	P("TLS13-1-2-Ext1-FIPS-2023-04", TLS_V1_2, TLS_V1_3, TLS12_SHA2, TLS13_FIPS),
	P("TLS13-1-2-Ext2-FIPS-2023-04", TLS_V1_2, TLS_V1_3, ALL18, TLS13_FIPS),
	P("TLS13-1-1-FIPS-2023-04", TLS_V1_1, TLS_V1_3, ALL18, TLS13_FIPS),
	P("TLS13-1-0-FIPS-2023-04", TLS_V1_0, TLS_V1_3, ALL18, TLS13_FIPS),
	/* Hybrid post-quantum (2025-09): the classical lists, ML-KEM unavailable */
	PQ("TLS13-1-2-Res-PQ-2025-09", TLS_V1_2, TLS_V1_3, FS_RES, TLS13),
	PQ("TLS13-1-2-PQ-2025-09", TLS_V1_2, TLS_V1_3, FS_SHA2, TLS13),
	PQ("TLS13-1-2-Ext1-PQ-2025-09", TLS_V1_2, TLS_V1_3, TLS12_SHA2, TLS13),
	PQ("TLS13-1-2-Ext2-PQ-2025-09", TLS_V1_2, TLS_V1_3, ALL18, TLS13),
	PQ("TLS13-1-3-PQ-2025-09", TLS_V1_3, TLS_V1_3, "", TLS13),
	PQ("TLS13-1-0-PQ-2025-09", TLS_V1_0, TLS_V1_3, ALL18, TLS13),
	PQ("TLS13-1-2-Res-FIPS-PQ-2025-09", TLS_V1_2, TLS_V1_3, FS_RES, TLS13_FIPS),
	PQ("TLS13-1-2-FIPS-PQ-2025-09", TLS_V1_2, TLS_V1_3, FS_SHA2, TLS13_FIPS),
	PQ("TLS13-1-2-Ext0-FIPS-PQ-2025-09", TLS_V1_2, TLS_V1_3, FS_ALL, TLS13_FIPS),
	PQ("TLS13-1-2-Ext1-FIPS-PQ-2025-09", TLS_V1_2, TLS_V1_3, TLS12_SHA2, TLS13_FIPS),
	PQ("TLS13-1-2-Ext2-FIPS-PQ-2025-09", TLS_V1_2, TLS_V1_3, ALL18, TLS13_FIPS),
	PQ("TLS13-1-3-FIPS-PQ-2025-09", TLS_V1_3, TLS_V1_3, "", TLS13_FIPS),
	PQ("TLS13-1-0-FIPS-PQ-2025-09", TLS_V1_0, TLS_V1_3, ALL18, TLS13_FIPS),
	/* Forward secrecy */
	P("FS-1-2-Res-2020-10", TLS_V1_2, TLS_V1_2, FS_RES, ""),
	P("FS-1-2-Res-2019-08", TLS_V1_2, TLS_V1_2, FS_SHA2, ""),
	P("FS-1-2-2019-08", TLS_V1_2, TLS_V1_2, FS_ALL, ""),
	P("FS-1-1-2019-08", TLS_V1_1, TLS_V1_2, FS_ALL, ""),
	P("FS-2018-06", TLS_V1_0, TLS_V1_2, FS_ALL, ""),
	/* TLS (legacy) */
	P("TLS-1-2-Ext-2018-06", TLS_V1_2, TLS_V1_2, ALL18, ""),
	P("TLS-1-2-2017-01", TLS_V1_2, TLS_V1_2, TLS12_SHA2, ""),
	P("TLS-1-1-2017-01", TLS_V1_1, TLS_V1_2, ALL18, ""),
	P("2016-08", TLS_V1_0, TLS_V1_2, ALL18, ""),
	/* Why: -TLS-1-0-2015-04 alone still has 3DES (§2.2.2). Debian's
	 * OpenSSL 3 is built without 3DES, so lb serves the other 18. */
	P("TLS-1-0-2015-04", TLS_V1_0, TLS_V1_2, ALL18 ":DES-CBC3-SHA", ""),
	/* Why: AWS documents -2015-05 as identical to -2016-08. */
	P("2015-05", TLS_V1_0, TLS_V1_2, ALL18, ""),
};

const struct tls_policy *tls_policy_find(const char *name)
{
	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
		if (strcmp(policies[i].name, name) == 0)
			return &policies[i];
	}
	return NULL;
}

const struct tls_policy *tls_policy_all(size_t *n)
{
	*n = sizeof(policies) / sizeof(policies[0]);
	return policies;
}

/* Why: the API, CloudFormation, CDK and Terraform default to -2016-08 (§2.2.1);
 * only the console picks a TLS 1.3 policy. */
const char *tls_policy_default_name(void)
{
	return "ELBSecurityPolicy-2016-08";
}

const char *tls_version_name(int version)
{
	switch (version) {
	case TLS_V1_0: return "TLSv1";
	case TLS_V1_1: return "TLSv1.1";
	case TLS_V1_2: return "TLSv1.2";
	case TLS_V1_3: return "TLSv1.3";
	default: return "-";
	}
}
