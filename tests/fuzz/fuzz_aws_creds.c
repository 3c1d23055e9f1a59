/* Fuzzes the shared AWS files (~/.aws/credentials and ~/.aws/config): the input
 * splits at the first NUL into the two files' text; the first byte picks the
 * profile. Whatever they hold, resolving returns 0 with both keys or -1 with a
 * reason, and the SigV4 canonical forms of the text take any bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alb/aws_creds.h"
#include "alb/sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	static const char *const profiles[] = { NULL, "dev", "default", "a b" };
	struct aws_env env = { 0 };
	struct aws_creds c;
	struct buf why = BUF_INIT, b = BUF_INIT;
	char *creds, *config, *nul;

	if (n < 1)
		return 0;
	env.profile = profiles[data[0] & 3];
	creds = malloc(n + 1);
	memcpy(creds, data + 1, n - 1);
	creds[n - 1] = '\0';
	nul = memchr(creds, '\0', n - 1);
	config = nul && nul < creds + n - 1 ? nul + 1 : "";
	struct aws_files files = { "credentials", creds, "config", config };
	if (aws_creds_resolve(&env, &files, &c, &why) == 0) {
		if (!c.access_key || !c.secret_key)
			abort();
	} else if (!why.len) {
		abort();
	}
	aws_creds_release(&c);
	sigv4_canonical_uri(&b, (struct sv){ creds, strlen(creds) });
	sigv4_canonical_query(&b, (struct sv){ config, strlen(config) });
	buf_release(&b);
	buf_release(&why);
	free(creds);
	return 0;
}
