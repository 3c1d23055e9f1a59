/*
 * auth_flow: ALB's authenticate-oidc / authenticate-cognito flow
 * (alb-listener-rules.md §2.5) at request time: the session check that
 * yields the x-amzn-oidc-* headers, the redirect to the IdP, and the
 * /oauth2/idpresponse callback (code exchange at the token endpoint, user
 * info, session cookies, back to the original URL) through lb's HTTP client.
 * Owns the process's auth keys (net/auth_keys.h).
 */
#ifndef LB_AUTH_FLOW_H
#define LB_AUTH_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "alb/http_msg.h"
#include "base/buf.h"
#include "config/config.h"

struct auth_flow;
struct auth_login;
struct http_client;

/* Returns a new flow using hc (borrowed) for the IdP; NULL if keys can't be made. */
struct auth_flow *auth_flow_new(struct http_client *hc);
void auth_flow_free(struct auth_flow *af);   /* NULL-safe */

/* The PEM public key for kid, or NULL if kid is not lb's. */
const char *auth_flow_key_pem(const struct auth_flow *af, struct sv kid);

/* Per-request state (the router's route embeds one). */
struct auth_req {
	struct buf mem;
	struct http_header hdrs[3];
	size_t nhdrs;
};
void auth_req_init(struct auth_req *ar);
void auth_req_release(struct auth_req *ar);

/*
 * Whether req carries a valid, unexpired session for a; if so fills ar->hdrs
 * with x-amzn-oidc-accesstoken, -identity and -data (signed for signer).
 */
bool auth_flow_session(struct auth_flow *af, struct auth_req *ar, const struct http_request *req,
		       const struct auth_cfg *a, const char *signer, int64_t now);

/* Appends the IdP authorization URL that starts a login for req on the rule of
 * priority (host: the request's Host), and fills set_cookie with the
 * AWSALBAuthNonce Set-Cookie value the same answer must carry. */
#define AUTH_NONCE_SET_COOKIE_MAX 96
void auth_flow_login_url(struct auth_flow *af, const struct http_request *req,
			 const struct auth_cfg *a, int priority, struct sv host, int64_t now,
			 struct buf *out, char set_cookie[AUTH_NONCE_SET_COOKIE_MAX]);

/* How a callback ended: status, its headers (Location, Set-Cookie...) and the
 * access log's error_reason (NULL on success). */
typedef void (*auth_done_fn)(void *cookie, int status, const struct http_header *hdrs,
			     size_t n, const char *error_reason);

/*
 * Handles a request to /oauth2/idpresponse on listener l. Returns a login in
 * progress (done is called later, once), or NULL after calling done already.
 */
struct auth_login *auth_flow_callback(struct auth_flow *af, const struct http_request *req,
				      const struct listener_cfg *l, struct sv host, int64_t now,
				      auth_done_fn done, void *cookie);
/* Stops a login without calling done (the client left). NULL-safe. */
void auth_login_cancel(struct auth_login *lg);
/* lb stops and its drain ran out with lg waiting on the IdP: the exchange
 * is dropped and done called with 502, one warning line; lg is freed. */
void auth_login_cut(struct auth_login *lg);

#endif
