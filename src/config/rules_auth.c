/*
 * rules_auth: authenticate-oidc / authenticate-cognito configuration.
 *
 * OIDC names every endpoint; Cognito derives them from the user pool domain
 * the way Cognito's hosted UI lays them out (https://DOMAIN.auth.REGION.
 * amazoncognito.com/oauth2/authorize, /oauth2/token, /oauth2/userInfo, issuer
 * https://cognito-idp.REGION.amazonaws.com/POOL_ID). lb's one addition: a
 * Cognito action may also name the endpoints and issuer, so any local OpenID
 * provider can stand in for Cognito.
 */
#include "config/rules_auth.h"

#include <stdio.h>
#include <string.h>

enum {
	SESSION_TIMEOUT_MIN = 1,          /* AuthenticateOidcActionSessionTimeout: 1-604800 */
	SESSION_TIMEOUT_MAX = 604800,
	SESSION_TIMEOUT_DEFAULT = 604800, /* §2.5: 7 days */
	EXTRA_PARAMS_MAX = 10,            /* lb's cap; AWS states none (unverified) */
};

static const struct yfield oidc_fields[] = {
	YFIELD_STR("issuer", struct auth_cfg, issuer, .required = true),
	YFIELD_STR("authorization_endpoint", struct auth_cfg, authorization_endpoint, .required = true),
	YFIELD_STR("token_endpoint", struct auth_cfg, token_endpoint, .required = true),
	YFIELD_STR("user_info_endpoint", struct auth_cfg, user_info_endpoint, .required = true),
	YFIELD_STR("client_id", struct auth_cfg, client_id, .required = true),
	YFIELD_STR("client_secret", struct auth_cfg, client_secret),
	YFIELD_NODE("use_existing_client_secret"),
	YFIELD_STR("session_cookie_name", struct auth_cfg, session_cookie_name),
	YFIELD_INT("session_timeout", struct auth_cfg, session_timeout, SESSION_TIMEOUT_MIN,
		   SESSION_TIMEOUT_MAX),
	YFIELD_STR("scope", struct auth_cfg, scope),
	YFIELD_NODE("on_unauthenticated_request"),
	YFIELD_NODE("authentication_request_extra_params"),
};

static const struct yfield cognito_fields[] = {
	YFIELD_STR("user_pool_arn", struct auth_cfg, user_pool_arn, .required = true),
	YFIELD_STR("user_pool_client_id", struct auth_cfg, client_id, .required = true),
	YFIELD_STR("user_pool_domain", struct auth_cfg, user_pool_domain, .required = true),
	YFIELD_STR("client_secret", struct auth_cfg, client_secret),
	YFIELD_STR("issuer", struct auth_cfg, issuer),
	YFIELD_STR("authorization_endpoint", struct auth_cfg, authorization_endpoint),
	YFIELD_STR("token_endpoint", struct auth_cfg, token_endpoint),
	YFIELD_STR("user_info_endpoint", struct auth_cfg, user_info_endpoint),
	YFIELD_STR("session_cookie_name", struct auth_cfg, session_cookie_name),
	YFIELD_INT("session_timeout", struct auth_cfg, session_timeout, SESSION_TIMEOUT_MIN,
		   SESSION_TIMEOUT_MAX),
	YFIELD_STR("scope", struct auth_cfg, scope),
	YFIELD_NODE("on_unauthenticated_request"),
	YFIELD_NODE("authentication_request_extra_params"),
};

static const char *const unauth_names[] = { "authenticate", "deny", "allow" };

static bool is_endpoint(const char *s)
{
	return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

static int endpoints_check(const struct ynode *n, const struct auth_cfg *a, struct lb_err *err)
{
	static const char *const keys[] = { "authorization_endpoint", "token_endpoint",
					    "user_info_endpoint" };
	const char *vals[] = { a->authorization_endpoint, a->token_endpoint, a->user_info_endpoint };

	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		/* AWS wants https:// endpoints; lb also takes http:// for a local IdP. */
		if (vals[i] && !is_endpoint(vals[i]))
			return ydoc_err(err, ydoc_get(n, keys[i]), "'%s' must be an https:// or "
					"http:// URL, not '%s'", keys[i], vals[i]);
	}
	return 0;
}

static int extra_load(struct config *cfg, const struct ynode *n, struct auth_cfg *a,
		      struct lb_err *err)
{
	if (ydoc_mapping(n, "authentication_request_extra_params", err))
		return -1;
	if (n->n > EXTRA_PARAMS_MAX)
		return ydoc_err(err, n, "'authentication_request_extra_params' takes at most %d "
				"parameters", EXTRA_PARAMS_MAX);
	a->extra = arena_alloc(&cfg->arena, (n->n ? n->n : 1) * sizeof(*a->extra));
	for (; a->nextra < n->n; a->nextra++) {
		const char *v;

		if (ydoc_str(n->pairs[a->nextra].value, n->pairs[a->nextra].key->str, &v, err))
			return -1;
		a->extra[a->nextra].name = arena_strdup(&cfg->arena, n->pairs[a->nextra].key->str);
		a->extra[a->nextra].value = arena_strdup(&cfg->arena, v);
	}
	return 0;
}

static char *fmt(struct config *cfg, const char *f, const char *x, const char *y)
{
	char tmp[512];

	snprintf(tmp, sizeof(tmp), f, x, y);
	return arena_strdup(&cfg->arena, tmp);
}

/* Cognito's endpoints from the pool's domain and ARN, unless given. */
static int cognito_fill(struct config *cfg, const struct ynode *n, struct auth_cfg *a,
			struct lb_err *err)
{
	/* arn:aws:cognito-idp:REGION:ACCOUNT:userpool/POOL_ID */
	const char *arn = a->user_pool_arn, *region, *pool;
	char reg[64];
	size_t rn;

	if (strncmp(arn, "arn:aws:cognito-idp:", 20) != 0 || !(pool = strstr(arn, ":userpool/")))
		return ydoc_err(err, ydoc_get(n, "user_pool_arn"), "'user_pool_arn' must be "
				"arn:aws:cognito-idp:REGION:ACCOUNT:userpool/POOL_ID, not '%s'", arn);
	region = arn + 20;
	rn = strcspn(region, ":");
	if (rn == 0 || rn >= sizeof(reg))
		return ydoc_err(err, ydoc_get(n, "user_pool_arn"), "'user_pool_arn' has no region");
	memcpy(reg, region, rn);
	reg[rn] = '\0';
	pool += 10;
	if (!a->issuer)
		a->issuer = fmt(cfg, "https://cognito-idp.%s.amazonaws.com/%s", reg, pool);
	/* A domain prefix lives under amazoncognito.com; a custom domain is taken whole. */
	if (strchr(a->user_pool_domain, '.')) {
		const char *d = a->user_pool_domain;
		if (!a->authorization_endpoint)
			a->authorization_endpoint = fmt(cfg, "https://%s%s/oauth2/authorize", d, "");
		if (!a->token_endpoint)
			a->token_endpoint = fmt(cfg, "https://%s%s/oauth2/token", d, "");
		if (!a->user_info_endpoint)
			a->user_info_endpoint = fmt(cfg, "https://%s%s/oauth2/userInfo", d, "");
	} else {
		const char *d = a->user_pool_domain;
		if (!a->authorization_endpoint)
			a->authorization_endpoint = fmt(cfg, "https://%s.auth.%s.amazoncognito.com/oauth2/authorize", d, reg);
		if (!a->token_endpoint)
			a->token_endpoint = fmt(cfg, "https://%s.auth.%s.amazoncognito.com/oauth2/token", d, reg);
		if (!a->user_info_endpoint)
			a->user_info_endpoint = fmt(cfg, "https://%s.auth.%s.amazoncognito.com/oauth2/userInfo", d, reg);
	}
	return 0;
}

struct auth_cfg *rules_auth_load(struct config *cfg, const struct ynode *n, bool cognito,
				 struct lb_err *err)
{
	struct auth_cfg *a = arena_alloc(&cfg->arena, sizeof(*a));
	const char *what = cognito ? "authenticate_cognito" : "authenticate_oidc";
	const struct ynode *unauth = ydoc_get(n, "on_unauthenticated_request");
	const struct ynode *extra = ydoc_get(n, "authentication_request_extra_params");
	int u = AUTH_AUTHENTICATE;

	memset(a, 0, sizeof(*a));
	a->pos = (struct src_pos){ n->file, n->line, n->col };
	a->cognito = cognito;
	/* AWS's defaults (§2.5): cookie name, 7 days, scope openid. */
	a->session_cookie_name = "AWSELBAuthSessionCookie";
	a->session_timeout = SESSION_TIMEOUT_DEFAULT;
	a->scope = "openid";
	if (cognito ? ydoc_fields(n, what, cognito_fields, ARRAY_LEN(cognito_fields), a,
				  &cfg->arena, err)
		    : ydoc_fields(n, what, oidc_fields, ARRAY_LEN(oidc_fields), a, &cfg->arena, err))
		return NULL;
	if (unauth && ydoc_enum(unauth, "on_unauthenticated_request", unauth_names,
				ARRAY_LEN(unauth_names), &u, err))
		return NULL;
	a->on_unauthenticated = (enum auth_unauth)u;
	if (extra && extra_load(cfg, extra, a, err))
		return NULL;
	if (cognito && cognito_fill(cfg, n, a, err))
		return NULL;
	if (endpoints_check(n, a, err))
		return NULL;
	if (!a->session_cookie_name[0] || strpbrk(a->session_cookie_name, " ;=,\t"))
		return ydoc_err(err, ydoc_get(n, "session_cookie_name"), "'session_cookie_name' "
				"must be a cookie name, not '%s'", a->session_cookie_name),
		       NULL;
	return a;
}
