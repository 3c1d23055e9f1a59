/*
 * aws_env: the I/O half of the credential chain. The files are read on each
 * call (they are small; a profile edited while lb runs takes effect, as it
 * does for the CLI), capped at 1 MB.
 */
#include "lambda/aws_env.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/util.h"

#define FILE_MAX (1024 * 1024)

static char *read_small(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	buf_init(&b, FILE_MAX);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(&b, chunk, n) < 0)
			break;
	fclose(f);
	buf_putc(&b, '\0');
	return buf_detach(&b, NULL);
}

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

int aws_env_credentials(struct aws_creds *out, struct buf *why)
{
	const char *home = env("HOME");
	char cred_path[1024], config_path[1024];
	struct aws_env e = { env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"), env("AWS_SESSION_TOKEN"),
			     env("AWS_SECURITY_TOKEN"),	 env("AWS_PROFILE"),	       env("AWS_DEFAULT_PROFILE"),
			     env("AWS_REGION"),		 env("AWS_DEFAULT_REGION") };
	struct aws_files f;
	char *cred_text, *config_text;
	int rc;

	snprintf(cred_path, sizeof(cred_path), "%s", env("AWS_SHARED_CREDENTIALS_FILE") ? env("AWS_SHARED_CREDENTIALS_FILE") : "");
	if (!*cred_path)
		snprintf(cred_path, sizeof(cred_path), "%s/.aws/credentials", home ? home : "");
	snprintf(config_path, sizeof(config_path), "%s", env("AWS_CONFIG_FILE") ? env("AWS_CONFIG_FILE") : "");
	if (!*config_path)
		snprintf(config_path, sizeof(config_path), "%s/.aws/config", home ? home : "");
	cred_text = read_small(cred_path);
	config_text = read_small(config_path);
	f = (struct aws_files){ cred_path, cred_text, config_path, config_text };
	rc = aws_creds_resolve(&e, &f, out, why);
	free(cred_text);
	free(config_text);
	return rc;
}

const char *aws_env_endpoint_url(void)
{
	/* The SDKs' service-specific variable first, then the global one. */
	return env("AWS_ENDPOINT_URL_LAMBDA") ? env("AWS_ENDPOINT_URL_LAMBDA") : env("AWS_ENDPOINT_URL");
}
