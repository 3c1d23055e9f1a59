/*
 * auth_oidc: the pure parts of ALB's authenticate actions
 * (alb-listener-rules.md §2.5): the authorization redirect, the login state
 * and session formats (sealed by the caller), the sharded session cookies,
 * the x-amzn-oidc-data JWT's signing input, and the form and URL encodings
 * they need. No crypto and no I/O here: sealing and signing are
 * net/auth_keys.c's.
 */
#ifndef LB_ALB_AUTH_OIDC_H
#define LB_ALB_AUTH_OIDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alb/fwd_headers.h"
#include "alb/http_msg.h"
#include "base/buf.h"
#include "config/config.h"

/* ALB's callback path on every listener with an authenticate action. */
#define AUTH_CALLBACK_PATH "/oauth2/idpresponse"
/* The cookie that ties a login's callback to the browser that started it (ALB's
 * error reasons AuthMissingAWSALBAuthNonce, AuthInvalidAWSALBAuthNonce). */
#define AUTH_NONCE_COOKIE "AWSALBAuthNonce"
/* A session cookie's value is cut into shards of at most this many bytes
 * (ALB: "sharded if larger than 4K", §2.5), named NAME-0, NAME-1, ... */
#define AUTH_SHARD_MAX 4000
#define AUTH_SHARDS_MAX 16
/* ALB: the login must finish within 15 minutes, else 401 (§2.5). */
#define AUTH_LOGIN_MAX_S 900
/* ALB: claims larger than 11K give 500 (§2.5). */
#define AUTH_CLAIMS_MAX (11 * 1024)

/* Appends base64url of in; padded: with '=' as ALB's x-amzn-oidc-data has it. */
void auth_b64url(struct buf *out, const void *in, size_t n, bool padded);
/* Appends the bytes of base64url s (padding optional); -1 if s is not base64url. */
int auth_b64url_decode(struct buf *out, const char *s, size_t n);
/* Appends s percent-encoded for a query or form value (RFC 3986 unreserved kept). */
void auth_url_encode(struct buf *out, const char *s, size_t n);
/* The value of name in an application/x-www-form-urlencoded string, decoded
 * into out (reset first). -1 if absent. */
int auth_form_get(struct sv form, const char *name, struct buf *out);

/* The login state: where to go back to and which rule, sealed into state=. */
struct auth_state {
	int64_t issued;          /* unix seconds */
	int priority;            /* the rule's; 0: the listener's default rule */
	char nonce[33];
	const char *url;         /* the original request-target ("/a?b=1") */
};
/* Appends the state's plaintext (JSON). */
void auth_state_write(struct buf *out, const struct auth_state *st);
/* Reads plaintext p into st; st->url points into urlbuf. -1 if malformed. */
int auth_state_read(const char *p, size_t n, struct auth_state *st, struct buf *urlbuf);

/* Appends the authorization endpoint URL with ALB's parameters: client_id,
 * redirect_uri, response_type=code, scope, state, nonce, then extra params. */
void auth_authorize_url(struct buf *out, const struct auth_cfg *a, const char *redirect_uri,
			const char *state, const char *nonce);

/* The session as sealed in the cookie: expiry, access token, user claims (JSON). */
struct auth_session {
	int64_t exp;
	const char *access_token;
	const char *claims;      /* a JSON object's text */
	const char *issuer, *client_id;  /* whose session: another action's does not count */
};
void auth_session_write(struct buf *out, const struct auth_session *s);
/* Fills s from plaintext p (strings copied into mem, reset first). -1 if malformed. */
int auth_session_read(const char *p, size_t n, struct auth_session *s, struct buf *mem);

/* Whether the request has cookie name; *out borrows its value from req. */
bool auth_cookie_get(const struct http_request *req, const char *name, struct sv *out);
/* Appends the request's NAME-0, NAME-1, ... cookie values, joined; returns how many (0: none). */
int auth_cookie_join(const struct http_request *req, const char *name, struct buf *out);
/*
 * Appends Set-Cookie values for value, sharded, each NUL-terminated; returns
 * how many. expires: unix seconds; a shard past AUTH_SHARDS_MAX is not made
 * (the caller checks the size first).
 */
size_t auth_cookie_set(struct buf *out, const char *name, const char *value, size_t n,
		       int64_t expires);

/* Appends the x-amzn-oidc-data signing input: base64url(header) "." base64url(payload),
 * padded as ALB does. claims: user info JSON object. */
int auth_jwt_input(struct buf *out, const char *kid, const char *signer, const char *issuer,
		   const char *client, int64_t exp, const char *claims);
/* The "sub" claim of claims JSON, copied into out (reset first); -1 if none. */
int auth_claims_sub(const char *claims, struct buf *out);

/* Whether the ID token's payload has a nonce claim equal to nonce. The token
 * is not verified otherwise (see auth_flow.c). */
bool auth_id_token_nonce_ok(const char *id_token, const char *nonce);

/* Whether s may be sent as a Bearer credential: RFC 6750 §2.1 b64token
 * (token68), so it can be neither empty nor break a header. */
bool auth_bearer_token_ok(const char *s);
/* Whether s may be a header field's value: no control character but HTAB
 * (RFC 9110 §5.5), so no CR, LF or NUL. */
bool auth_field_value_ok(const char *s);

/* Completes the headers toward a target: drops every x-amzn-oidc-* header the
 * client sent (only lb may set them), then appends add[0..n). */
void auth_headers_apply(struct header_list *out, const struct http_header *add, size_t n);

#endif
