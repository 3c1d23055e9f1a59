/*
 * auth_flow: the authenticate actions at request time.
 *
 * A session lives only in the client's cookies, sealed with the process's
 * AES key (one for every event loop, net/auth_keys.h): lb keeps no session table, and a restart logs everyone out. The
 * login state sent to the IdP is sealed the same way and names the rule by
 * priority, the original URL, the nonce and when the login began (ALB: 15
 * minutes to finish).
 *
 * A callback is two exchanges with the IdP, one after the other, through
 * lb's HTTP client (TLS toward https:// endpoints, verified against the
 * system store and SSL_CERT_FILE): the code for tokens at the token
 * endpoint, then the access token for claims at the user info endpoint.
 * Status codes and error reasons follow alb-listener-rules.md §4.4, §5.3:
 * a bad callback 401, an IdP's error 561, an IdP out of reach 500. What the
 * IdP answers reaches headers (the Authorization toward it, x-amzn-oidc-*
 * toward targets) only once checked: an access token that is not a bearer
 * token or a sub with a control character fails the login, so an IdP can
 * never inject a header.
 */
#include "auth_flow.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alb/auth_oidc.h"
#include "base/base64.h"
#include "base/log.h"
#include "net/auth_keys.h"
#include "net/http_client.h"

enum {
	IDP_BODY_MAX = 64 * 1024,
	IDP_CONNECT_TIMEOUT = 10,   /* seconds */
	IDP_IDLE_TIMEOUT = 10,
	DATA_TTL = 120,             /* x-amzn-oidc-data lives 2 minutes (unverified: seen on ALB) */
};

struct auth_flow {
	struct http_client *hc;
	struct auth_keys *keys;
};

enum login_step { STEP_TOKEN, STEP_USERINFO };

struct auth_login {
	struct auth_flow *af;
	const struct auth_cfg *a;
	auth_done_fn done;
	void *cookie;
	struct http_exchange *x;
	enum login_step step;
	int status;                 /* the IdP's answer */
	bool too_big;
	struct buf body;
	int64_t now;
	int old_shards;             /* session shards the client has now */
	char nonce[33];
	struct buf host, url, code, token, out;
	struct http_header hdrs[2 * AUTH_SHARDS_MAX + 1];
};

struct auth_flow *auth_flow_new(struct http_client *hc)
{
	struct auth_flow *af;
	struct auth_keys *k = auth_keys_get();

	if (!k)
		return NULL;
	af = xcalloc(1, sizeof(*af));
	af->hc = hc;
	af->keys = k;
	return af;
}

void auth_flow_free(struct auth_flow *af)
{
	if (!af)
		return;
	auth_keys_put(af->keys);
	free(af);
}

const char *auth_flow_key_pem(const struct auth_flow *af, struct sv kid)
{
	return af && sv_eq_cstr(kid, auth_keys_kid(af->keys)) ? auth_keys_pem(af->keys) : NULL;
}

void auth_req_init(struct auth_req *ar)
{
	buf_init(&ar->mem, 0);
	ar->nhdrs = 0;
}

void auth_req_release(struct auth_req *ar)
{
	buf_release(&ar->mem);
}

/* --- the session ----------------------------------------------------------------- */

bool auth_flow_session(struct auth_flow *af, struct auth_req *ar, const struct http_request *req,
		       const struct auth_cfg *a, const char *signer, int64_t now)
{
	struct buf sealed, plain, mem, jwt;
	struct auth_session s;
	uint8_t sig[64];
	size_t at_off, id_off, data_off;
	bool ok = false;

	ar->nhdrs = 0;
	buf_init(&sealed, 0);
	buf_init(&plain, 0);
	buf_init(&mem, 0);
	buf_init(&jwt, 0);
	if (auth_cookie_join(req, a->session_cookie_name, &sealed) == 0 ||
	    auth_open(af->keys, sealed.p, sealed.len, &plain) ||
	    auth_session_read(plain.p, plain.len, &s, &mem) || s.exp <= now ||
	    strcmp(s.issuer, a->issuer) != 0 || strcmp(s.client_id, a->client_id) != 0)
		goto out;
	if (auth_jwt_input(&jwt, auth_keys_kid(af->keys), signer, a->issuer, a->client_id,
			   now + DATA_TTL, s.claims) ||
	    auth_sign_es256(af->keys, jwt.p, jwt.len, sig))
		goto out;
	buf_append(&jwt, ".", 1);
	auth_b64url(&jwt, sig, sizeof(sig), true);
	buf_reset(&ar->mem);
	at_off = ar->mem.len;
	buf_append(&ar->mem, s.access_token, strlen(s.access_token) + 1);
	id_off = ar->mem.len;
	{
		struct buf sub;
		buf_init(&sub, 0);
		auth_claims_sub(s.claims, &sub);
		buf_append(&ar->mem, buf_cstr(&sub), sub.len + 1);
		buf_release(&sub);
	}
	data_off = ar->mem.len;
	buf_append(&ar->mem, jwt.p, jwt.len + 1);
	ar->hdrs[0] = (struct http_header){ SV("x-amzn-oidc-accesstoken"), sv_from(ar->mem.p + at_off) };
	ar->hdrs[1] = (struct http_header){ SV("x-amzn-oidc-identity"), sv_from(ar->mem.p + id_off) };
	ar->hdrs[2] = (struct http_header){ SV("x-amzn-oidc-data"), sv_from(ar->mem.p + data_off) };
	ar->nhdrs = 3;
	ok = true;
out:
	buf_release(&sealed);
	buf_release(&plain);
	buf_release(&mem);
	buf_release(&jwt);
	return ok;
}

/* --- the redirect to the IdP ------------------------------------------------------ */

static void redirect_uri(struct buf *out, struct sv host)
{
	/* ALB's redirect_uri: https://HOST/oauth2/idpresponse, HOST as the client sent it. */
	buf_printf(out, "https://%.*s%s", (int)host.n, host.p, AUTH_CALLBACK_PATH);
}

void auth_flow_login_url(struct auth_flow *af, const struct http_request *req,
			 const struct auth_cfg *a, int priority, struct sv host, int64_t now,
			 struct buf *out, char set_cookie[AUTH_NONCE_SET_COOKIE_MAX])
{
	struct buf st, sealed, uri, url;
	struct auth_state s = { .issued = now, .priority = priority };
	uint8_t rnd[16];
	char nonce[33];

	buf_init(&st, 0);
	buf_init(&sealed, 0);
	buf_init(&uri, 0);
	buf_init(&url, 0);
	arc4random_buf(rnd, sizeof(rnd));
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(nonce + 2 * i, 3, "%02x", rnd[i]);
	memcpy(s.nonce, nonce, sizeof(nonce));
	/* Why: the state alone is no proof that this browser began the login (a state and
	 * code from the attacker's own login would sign the victim in as the attacker);
	 * ALB checks an AWSALBAuthNonce cookie at the callback. Its attributes are unverified. */
	snprintf(set_cookie, AUTH_NONCE_SET_COOKIE_MAX, "%s=%s; Path=/; Secure; HttpOnly",
		 AUTH_NONCE_COOKIE, nonce);
	/* The path and query (an absolute-form target's too), for the return after login. */
	buf_append(&url, req->path.p, req->path.n);
	if (req->has_query) {
		buf_append(&url, "?", 1);
		buf_append(&url, req->query.p, req->query.n);
	}
	s.url = buf_cstr(&url);
	auth_state_write(&st, &s);
	auth_seal(af->keys, st.p, st.len, &sealed);
	redirect_uri(&uri, host);
	auth_authorize_url(out, a, buf_cstr(&uri), buf_cstr(&sealed), nonce);
	buf_release(&st);
	buf_release(&sealed);
	buf_release(&uri);
	buf_release(&url);
}

/* --- the callback ----------------------------------------------------------------- */

static void login_free(struct auth_login *lg)
{
	buf_release(&lg->body);
	buf_release(&lg->host);
	buf_release(&lg->url);
	buf_release(&lg->code);
	buf_release(&lg->token);
	buf_release(&lg->out);
	free(lg);
}

void auth_login_cancel(struct auth_login *lg)
{
	if (!lg)
		return;
	http_exchange_cancel(lg->x);
	login_free(lg);
}

/* Ends the login with an error page status, logging why if given: done, then freed. */
static void login_fail_why(struct auth_login *lg, int status, const char *reason, const char *why)
{
	log_warn("authenticate: %s (%d)%s%s", reason, status, why ? ": " : "", why ? why : "");
	lg->done(lg->cookie, status, NULL, 0, reason);
	login_free(lg);
}

void auth_login_cut(struct auth_login *lg)
{
	http_exchange_cancel(lg->x);
	lg->x = NULL;
	/* ALB has no shutdown of its own. The reason is ALB's for an IdP
	 * exchange that failed (§5.3), as this one did, given up by lb; the
	 * status is 502, as for every request lb cuts when it stops (ALB answers
	 * an unreachable IdP with 500, but the IdP did nothing wrong here). */
	login_fail_why(lg, 502, lg->step == STEP_TOKEN ? "AuthTokenEpRequestFailed" : "AuthUserinfoEpRequestFailed",
		       "the identity provider had not answered when lb stopped");
}

static void login_fail(struct auth_login *lg, int status, const char *reason)
{
	login_fail_why(lg, status, reason, NULL);
}

static void on_idp_head(void *cookie, struct http_reply *reply)
{
	struct auth_login *lg = cookie;

	lg->status = reply->status;
}

static void on_idp_body(void *cookie, const char *p, size_t n)
{
	struct auth_login *lg = cookie;

	if (buf_append(&lg->body, p, n))
		lg->too_big = true;
}

static void on_idp_end(void *cookie);
static void on_idp_error(void *cookie, enum http_client_error e);

static const struct http_exchange_cbs idp_cbs = {
	.on_head = on_idp_head,
	.on_body = on_idp_body,
	.on_end = on_idp_end,
	.on_error = on_idp_error,
};

/* One exchange with the IdP: method to url, with an Authorization and a form body. */
static int idp_fetch(struct auth_login *lg, const char *method, const char *url,
		     const char *authorization, const char *form)
{
	struct http_exchange_opts opt = { .connect_timeout = IDP_CONNECT_TIMEOUT,
					  .idle_timeout = IDP_IDLE_TIMEOUT };
	struct http_origin origin;
	struct url_parts u;
	struct buf head;

	if (url_split(url, &u) || http_client_resolve(lg->af->hc, &origin, u.host, u.port))
		return -1;
	opt.tls = u.https;
	opt.tls_host = u.https ? u.host : NULL;
	buf_init(&head, 0);
	buf_printf(&head, "%s %s HTTP/1.1\r\nHost: %.*s\r\nAccept: application/json\r\n"
		   "User-Agent: ELB-Authentication\r\n", method, u.path, (int)u.authority.n, u.authority.p);
	if (authorization)
		buf_printf(&head, "Authorization: %s\r\n", authorization);
	if (form)
		buf_printf(&head, "Content-Type: application/x-www-form-urlencoded\r\n"
			   "Content-Length: %zu\r\n", strlen(form));
	buf_append(&head, "\r\n", 2);
	lg->status = 0;
	lg->too_big = false;
	buf_reset(&lg->body);
	lg->x = http_client_start(lg->af->hc, &origin, head.p, head.len, &opt, &idp_cbs, lg);
	if (form)
		http_exchange_send(lg->x, form, strlen(form));
	http_exchange_request_done(lg->x);
	buf_release(&head);
	return 0;
}

static void on_idp_error(void *cookie, enum http_client_error e)
{
	struct auth_login *lg = cookie;
	bool timeout = e == HTTP_CLIENT_TIMEOUT || e == HTTP_CLIENT_CONNECT_TIMEOUT;

	lg->x = NULL;
	/* ALB: the token or user info endpoint out of reach → 500 (§4.4). */
	if (lg->step == STEP_TOKEN)
		login_fail(lg, 500, timeout ? "AuthTokenEpRequestTimeout" : "AuthTokenEpRequestFailed");
	else
		login_fail(lg, 500, timeout ? "AuthUserinfoEpRequestTimeout"
					    : "AuthUserinfoEpRequestFailed");
}

static void token_answer(struct auth_login *lg)
{
	json_t *j = json_loadb(lg->body.p ? lg->body.p : "", lg->body.len, 0, NULL);
	json_t *at = json_object_get(j, "access_token"), *idt = json_object_get(j, "id_token");
	char auth[IDP_BODY_MAX / 8];

	/* ALB: the IdP's error answer (invalid_grant, ...) → 561 (§4.4). */
	if (lg->status < 200 || lg->status > 299) {
		json_decref(j);
		login_fail(lg, 561, "AuthInvalidGrantError");
		return;
	}
	if (!json_is_string(at)) {
		json_decref(j);
		login_fail(lg, 561, "AuthInvalidTokenResponse");
		return;
	}
	/* The token goes into the user info request's Authorization and the
	 * target's x-amzn-oidc-accesstoken: a CR/LF in it would inject headers. */
	if (!auth_bearer_token_ok(json_string_value(at))) {
		json_decref(j);
		login_fail_why(lg, 561, "AuthInvalidTokenResponse",
			       "access_token is not an RFC 6750 bearer token");
		return;
	}
	/* ALB: a scope that yields no ID token → 401 (§4.4). The ID token is
	 * otherwise unverified: it came straight from the token endpoint over the
	 * connection lb opened, as ALB trusts it. */
	if (!json_is_string(idt) || !auth_id_token_nonce_ok(json_string_value(idt), lg->nonce)) {
		json_decref(j);
		login_fail(lg, 401, "AuthInvalidIdToken");
		return;
	}
	buf_reset(&lg->token);
	buf_append(&lg->token, json_string_value(at), strlen(json_string_value(at)));
	json_decref(j);
	snprintf(auth, sizeof(auth), "Bearer %s", buf_cstr(&lg->token));
	lg->step = STEP_USERINFO;
	if (strlen(auth) >= sizeof(auth) - 1 ||
	    idp_fetch(lg, "GET", lg->a->user_info_endpoint, auth, NULL))
		login_fail(lg, 500, "AuthUserinfoEpRequestFailed");
}

static void userinfo_answer(struct auth_login *lg)
{
	json_t *j, *sub;
	char *claims;
	struct auth_session s;
	struct buf plain, sealed;
	size_t n, k = 0, off = 0;

	if (lg->too_big || lg->body.len > AUTH_CLAIMS_MAX) {
		/* ALB: claims larger than 11K → 500 (§2.5). */
		login_fail(lg, 500, "AuthUserinfoResponseSizeExceeded");
		return;
	}
	j = json_loadb(lg->body.p ? lg->body.p : "", lg->body.len, 0, NULL);
	if (lg->status < 200 || lg->status > 299 || !json_is_object(j)) {
		json_decref(j);
		login_fail(lg, 561, "AuthInvalidUserinfoResponse");
		return;
	}
	/* sub becomes the target's x-amzn-oidc-identity: a CR/LF in it would
	 * inject headers. Checked here, once: the sealed session keeps it. */
	sub = json_object_get(j, "sub");
	/* Why: OpenID Connect Core §5.3.2, "The sub Claim MUST always be returned
	 * in the UserInfo Response"; without it the identity header would be empty. */
	if (!json_is_string(sub) || !json_string_length(sub)) {
		json_decref(j);
		login_fail_why(lg, 561, "AuthInvalidUserinfoResponse", "no sub claim");
		return;
	}
	if (!auth_field_value_ok(json_string_value(sub))) {
		json_decref(j);
		login_fail_why(lg, 561, "AuthInvalidUserinfoResponse",
			       "sub holds a control character");
		return;
	}
	claims = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	s = (struct auth_session){ lg->now + lg->a->session_timeout, buf_cstr(&lg->token), claims,
				  lg->a->issuer, lg->a->client_id };
	buf_init(&plain, 0);
	buf_init(&sealed, 0);
	auth_session_write(&plain, &s);
	free(claims);
	auth_seal(lg->af->keys, plain.p, plain.len, &sealed);
	buf_release(&plain);
	if (sealed.len > (size_t)AUTH_SHARD_MAX * AUTH_SHARDS_MAX) {
		buf_release(&sealed);
		login_fail(lg, 500, "AuthUserinfoResponseSizeExceeded");
		return;
	}
	buf_reset(&lg->out);
	buf_printf(&lg->out, "https://%s%s", buf_cstr(&lg->host), buf_cstr(&lg->url));
	buf_append(&lg->out, "", 1);
	n = auth_cookie_set(&lg->out, lg->a->session_cookie_name, sealed.p, sealed.len,
			    s.exp);
	/* Shards the client still has past the new last one would corrupt the
	 * joined value: expire them. */
	for (int i = (int)n; i < lg->old_shards; i++) {
		buf_printf(&lg->out, "%s-%d=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Secure; "
			   "HttpOnly", lg->a->session_cookie_name, i);
		buf_append(&lg->out, "", 1);
		n++;
	}
	buf_release(&sealed);
	/* The buffer is complete: point the headers into it. */
	lg->hdrs[k++] = (struct http_header){ SV("Location"), sv_from(lg->out.p) };
	off = strlen(lg->out.p) + 1;
	for (size_t i = 0; i < n && k < ARRAY_LEN(lg->hdrs); i++) {
		lg->hdrs[k++] = (struct http_header){ SV("Set-Cookie"), sv_from(lg->out.p + off) };
		off += strlen(lg->out.p + off) + 1;
	}
	lg->done(lg->cookie, 302, lg->hdrs, k, NULL);
	login_free(lg);
}

static void on_idp_end(void *cookie)
{
	struct auth_login *lg = cookie;

	lg->x = NULL;
	if (lg->step == STEP_TOKEN)
		token_answer(lg);
	else
		userinfo_answer(lg);
}

/* The rule of priority on l, if it still authenticates (a reload may have changed it). */
static const struct auth_cfg *rule_auth(const struct listener_cfg *l, int priority)
{
	if (priority == 0)
		return l->default_rule.action.auth;
	for (size_t i = 0; i < l->nrules; i++)
		if (l->rules[i].priority == priority)
			return l->rules[i].action.auth;
	return NULL;
}

static int count_shards(const struct http_request *req, const char *name)
{
	struct buf tmp;
	int n;

	buf_init(&tmp, 0);
	n = auth_cookie_join(req, name, &tmp);
	buf_release(&tmp);
	return n;
}

struct auth_login *auth_flow_callback(struct auth_flow *af, const struct http_request *req,
				      const struct listener_cfg *l, struct sv host, int64_t now,
				      auth_done_fn done, void *cookie)
{
	struct auth_login *lg = xcalloc(1, sizeof(*lg));
	struct buf state, plain, form, basic, cred;
	struct auth_state st;
	struct sv nonce_cookie;
	const char *reason = NULL;
	int status = 401;

	lg->af = af;
	lg->done = done;
	lg->cookie = cookie;
	lg->now = now;
	buf_init(&lg->body, IDP_BODY_MAX);
	buf_init(&lg->host, 0);
	buf_init(&lg->url, 0);
	buf_init(&lg->code, 0);
	buf_init(&lg->token, 0);
	buf_init(&lg->out, 0);
	buf_init(&state, 0);
	buf_init(&plain, 0);
	buf_init(&form, 0);
	buf_init(&basic, 0);
	buf_init(&cred, 0);
	buf_append(&lg->host, host.p, host.n);
	if (!auth_cookie_get(req, AUTH_NONCE_COOKIE, &nonce_cookie)) {
		reason = "AuthMissingAWSALBAuthNonce";
	} else if (auth_form_get(req->query, "state", &state)) {
		reason = "AuthMissingStateParam";
	} else if (auth_open(af->keys, state.p, state.len, &plain) ||
		   auth_state_read(plain.p, plain.len, &st, &lg->url) ||
		   now - st.issued > AUTH_LOGIN_MAX_S || now < st.issued ||
		   !(lg->a = rule_auth(l, st.priority))) {
		/* ALB: a state it did not make, or a login older than 15 minutes → 401. */
		reason = "AuthInvalidStateParam";
	} else if (!sv_eq_cstr(nonce_cookie, st.nonce)) {
		/* A state made for another browser's login. */
		reason = "AuthInvalidAWSALBAuthNonce";
	} else if (auth_form_get(req->query, "error", &form) == 0) {
		/* ALB: the IdP answered the authorization request with an error → 561. */
		status = 561;
		reason = "AuthInvalidGrantError";
	} else if (auth_form_get(req->query, "code", &lg->code)) {
		reason = "AuthMissingCodeParam";
	}
	if (reason) {
		login_fail(lg, status, reason);
		lg = NULL;
		goto out;
	}
	memcpy(lg->nonce, st.nonce, sizeof(lg->nonce));
	lg->old_shards = count_shards(req, lg->a->session_cookie_name);
	/* The code exchange: client_secret_basic when there is a secret (the
	 * OpenID default for the token endpoint), else the client id in the form. */
	buf_reset(&form);
	buf_append(&form, "grant_type=authorization_code&code=", 35);
	auth_url_encode(&form, lg->code.p, lg->code.len);
	buf_append(&form, "&redirect_uri=", 14);
	{
		struct buf uri;
		buf_init(&uri, 0);
		redirect_uri(&uri, host);
		auth_url_encode(&form, uri.p, uri.len);
		buf_release(&uri);
	}
	if (lg->a->client_secret) {
		auth_url_encode(&cred, lg->a->client_id, strlen(lg->a->client_id));
		buf_append(&cred, ":", 1);
		auth_url_encode(&cred, lg->a->client_secret, strlen(lg->a->client_secret));
		buf_append(&basic, "Basic ", 6);
		base64_encode_buf(cred.p, cred.len, &basic);
	} else {
		buf_append(&form, "&client_id=", 11);
		auth_url_encode(&form, lg->a->client_id, strlen(lg->a->client_id));
	}
	lg->step = STEP_TOKEN;
	if (idp_fetch(lg, "POST", lg->a->token_endpoint, basic.len ? buf_cstr(&basic) : NULL,
		      buf_cstr(&form))) {
		login_fail(lg, 500, "AuthTokenEpRequestFailed");
		lg = NULL;
	}
out:
	buf_release(&state);
	buf_release(&plain);
	buf_release(&form);
	buf_release(&basic);
	buf_release(&cred);
	return lg;
}
