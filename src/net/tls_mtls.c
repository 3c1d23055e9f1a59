/* tls_mtls: see tls_mtls.h. */
#include "net/tls_mtls.h"

int tls_mtls_setup(SSL_CTX *ctx, const struct mtls_cfg *m, struct lb_err *err)
{
	(void)ctx, (void)err;
	if (m->mode == MTLS_OFF)
		return 0;
	return lb_err_set(err, "mutual_authentication is not supported yet");
}

void tls_mtls_values(SSL *ssl, bool verify, char **out)
{
	(void)ssl, (void)verify, (void)out;
}
