/* tls_ca: see tls_ca.h. */
#include "net/tls_ca.h"

#include <stdlib.h>

int tls_ca_issue(const struct config *cfg, const struct listener_cfg *lc, struct tls_ca_issued *out,
		 struct lb_err *err)
{
	(void)cfg, (void)out;
	return lb_err_at(err, lc->pos.file, lc->pos.line, lc->pos.col,
			 "certificates: auto is not supported yet");
}

void tls_ca_issued_release(struct tls_ca_issued *c)
{
	free(c->cert_path);
	free(c->key_path);
	free(c->arn);
}

char *tls_ca_path(struct lb_err *err)
{
	lb_err_set(err, "not yet");
	return NULL;
}
