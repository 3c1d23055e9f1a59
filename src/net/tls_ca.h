/*
 * tls_ca: lb's local certificate authority for `certificates: auto`
 * (DESIGN.md §14). The CA is made once per user under $XDG_DATA_HOME/lb
 * (~/.local/share/lb) and issues each auto listener a certificate for
 * localhost, 127.0.0.1, ::1 and the host names of its rules.
 */
#ifndef LB_NET_TLS_CA_H
#define LB_NET_TLS_CA_H

#include "base/err.h"
#include "config/config.h"

struct tls_ca_issued {
	char *cert_path;   /* PEM: the leaf, then the CA */
	char *key_path;
	char *arn;
};

/* Issues (or reuses) the certificate for listener lc. -1 with err. */
int tls_ca_issue(const struct config *cfg, const struct listener_cfg *lc, struct tls_ca_issued *out,
		 struct lb_err *err);
void tls_ca_issued_release(struct tls_ca_issued *c);

/* The CA certificate's path (new string), creating the CA if needed; NULL with err. */
char *tls_ca_path(struct lb_err *err);

#endif
