/*
 * aws_creds: where AWS credentials and the region come from, decided from
 * values already read (pure): the environment's variables and the text of
 * the shared credentials and config files (aws-integration.md §3.1, §3.2).
 * lambda/aws_env.c reads them.
 */
#ifndef LB_ALB_AWS_CREDS_H
#define LB_ALB_AWS_CREDS_H

#include "base/buf.h"

/* The variables the SDKs read; NULL when unset. */
struct aws_env {
	const char *access_key_id;        /* AWS_ACCESS_KEY_ID */
	const char *secret_access_key;    /* AWS_SECRET_ACCESS_KEY */
	const char *session_token;        /* AWS_SESSION_TOKEN */
	const char *security_token;       /* AWS_SECURITY_TOKEN (legacy alias) */
	const char *profile;              /* AWS_PROFILE */
	const char *default_profile;      /* AWS_DEFAULT_PROFILE (botocore) */
	const char *region;               /* AWS_REGION */
	const char *default_region;       /* AWS_DEFAULT_REGION */
};

/* The shared files: a path for messages, the text (NULL: absent or unreadable). */
struct aws_files {
	const char *credentials_path, *credentials;
	const char *config_path, *config;
};

struct aws_creds {
	char *access_key, *secret_key;
	char *session_token;     /* NULL for long-term keys */
	char *region;            /* NULL when nothing names one */
	char *profile;           /* the profile used */
	char source[256];        /* where the keys came from, for logs */
};

/*
 * Resolves as botocore does: environment keys, then the profile's static
 * keys in the credentials file, then in the config file. Returns 0, or -1
 * with why saying what was tried. out is filled either way (region, profile).
 */
int aws_creds_resolve(const struct aws_env *env, const struct aws_files *files, struct aws_creds *out,
		      struct buf *why);
void aws_creds_release(struct aws_creds *c);

/* The value of key in [section] of INI text (returns new, or NULL). section "profile dev"
 * matches "[profile dev]" with any spacing. */
char *aws_ini_get(const char *text, const char *section, const char *key);

#endif
