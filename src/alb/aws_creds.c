/*
 * aws_creds: the standard credential chain's static sources, and the INI
 * dialect of ~/.aws/credentials and ~/.aws/config: "[name]" sections in the
 * first, "[profile name]" (but "[default]") in the second; "#" and ";" start
 * comment lines; "key = value" with spaces trimmed; indented lines belong to
 * a nested setting (s3 = ...) and are skipped. [default] supplies nothing to
 * other profiles (AWS's shared-files guide).
 */
#include "alb/aws_creds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

/* Whether the header's text (between the brackets) names section, words compared with any spacing. */
static bool section_is(struct sv head, const char *section)
{
	struct sv want = sv_from(section);

	head = sv_trim(head);
	while (head.n && want.n) {
		struct sv hw, ww;
		head = sv_trim(sv_cut(head, ' ', &hw));
		want = sv_trim(sv_cut(want, ' ', &ww));
		if (!sv_eq(sv_trim(hw), ww))
			return false;
	}
	return !head.n && !want.n;
}

char *aws_ini_get(const char *text, const char *section, const char *key)
{
	struct sv rest = sv_from(text ? text : "");
	bool in = false;
	char *found = NULL;

	while (rest.n) {
		struct sv line, name, value;
		rest = sv_cut(rest, '\n', &line);
		if (line.n && line.p[line.n - 1] == '\r')
			line.n--;
		if (line.n && (line.p[0] == ' ' || line.p[0] == '\t'))
			continue;          /* a nested setting's line */
		line = sv_trim(line);
		if (!line.n || line.p[0] == '#' || line.p[0] == ';')
			continue;
		if (line.p[0] == '[') {
			const char *close = memchr(line.p, ']', line.n);
			in = close && section_is((struct sv){ line.p + 1, (size_t)(close - line.p - 1) }, section);
			continue;
		}
		if (!in)
			continue;
		value = sv_cut(line, '=', &name);
		if (name.n == line.n || !sv_eq_cstr_nocase(sv_trim(name), key))
			continue;
		/* A later duplicate wins, as in Python's configparser with strict=False. */
		free(found);
		found = sv_dup(sv_trim(value));
	}
	if (found && !*found) {
		free(found);
		found = NULL;
	}
	return found;
}

static char *dup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

/* Static keys of section in one file: 0 when both keys are there. */
static int from_file(struct aws_creds *out, const char *text, const char *path, const char *section)
{
	char *id = aws_ini_get(text, section, "aws_access_key_id");
	char *secret = aws_ini_get(text, section, "aws_secret_access_key");

	if (!id || !secret) {
		free(id);
		free(secret);
		return -1;
	}
	out->access_key = id;
	out->secret_key = secret;
	out->session_token = aws_ini_get(text, section, "aws_session_token");
	snprintf(out->source, sizeof(out->source), "profile '%s' in %s", out->profile, path);
	return 0;
}

int aws_creds_resolve(const struct aws_env *env, const struct aws_files *files, struct aws_creds *out,
		      struct buf *why)
{
	const char *profile = env->profile && *env->profile	      ? env->profile
			      : env->default_profile && *env->default_profile ? env->default_profile
									      : "default";
	char config_section[160];

	memset(out, 0, sizeof(*out));
	out->profile = xstrdup(profile);
	/* The config file names profiles "[profile NAME]", except "[default]". */
	snprintf(config_section, sizeof(config_section), "%s%s", strcmp(profile, "default") ? "profile " : "",
		 profile);

	/* Region: AWS_REGION (the SDKs), AWS_DEFAULT_REGION (the CLI), then the profile's. */
	out->region = dup_or_null(env->region);
	if (!out->region)
		out->region = dup_or_null(env->default_region);
	if (!out->region)
		out->region = aws_ini_get(files->config, config_section, "region");

	/* Environment keys win even when AWS_PROFILE is set (botocore). */
	if (env->access_key_id && *env->access_key_id && env->secret_access_key && *env->secret_access_key) {
		out->access_key = xstrdup(env->access_key_id);
		out->secret_key = xstrdup(env->secret_access_key);
		out->session_token = dup_or_null(env->session_token);
		if (!out->session_token)
			out->session_token = dup_or_null(env->security_token);
		snprintf(out->source, sizeof(out->source), "environment (AWS_ACCESS_KEY_ID)");
		return 0;
	}
	if (from_file(out, files->credentials, files->credentials_path, profile) == 0)
		return 0;
	if (from_file(out, files->config, files->config_path, config_section) == 0)
		return 0;
	buf_printf(why, "no AWS credentials: tried AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profile '%s' in %s%s and %s%s",
		   profile, files->credentials_path, files->credentials ? "" : " (absent)", files->config_path,
		   files->config ? "" : " (absent)");
	return -1;
}

void aws_creds_release(struct aws_creds *c)
{
	if (c->secret_key)
		memset(c->secret_key, 0, strlen(c->secret_key));
	free(c->access_key);
	free(c->secret_key);
	free(c->session_token);
	free(c->region);
	free(c->profile);
	memset(c, 0, sizeof(*c));
}
