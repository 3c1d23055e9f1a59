/*
 * tls_ca: lb's local certificate authority for `certificates: auto`
 * (DESIGN.md §14). The CA is made once per user under $XDG_DATA_HOME/lb
 * (~/.local/share/lb when XDG_DATA_HOME is unset): ca.pem and ca.key. Each
 * auto listener gets a fresh certificate from it at load, for localhost,
 * 127.0.0.1, ::1, the listener's address and the host names of its rules,
 * kept in memory only.
 */
#ifndef LB_NET_TLS_CA_H
#define LB_NET_TLS_CA_H

#include <stdio.h>

#include <openssl/ssl.h>

#include "base/err.h"
#include "config/config.h"

struct tls_ca_issued {
	X509 *cert;
	EVP_PKEY *key;
	X509 *ca;          /* the chain: lb's CA */
	char arn[160];
};

/* Issues the certificate for listener lc. -1 with err. */
int tls_ca_issue(const struct config *cfg, const struct listener_cfg *lc, struct tls_ca_issued *out,
		 struct lb_err *err);
void tls_ca_issued_release(struct tls_ca_issued *c);

/* The directory of the CA ($XDG_DATA_HOME/lb), as a new string. */
char *tls_ca_dir(void);
/* Creates the CA if it does not exist yet; the CA certificate's path (new
 * string), or NULL with err. */
char *tls_ca_ensure(struct lb_err *err);

/* `lb ca`: the CA certificate's path on the first line, then how to trust it. */
int tls_ca_explain(FILE *out, struct lb_err *err);

#endif
