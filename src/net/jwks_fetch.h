/*
 * jwks_fetch: the JWKS of a jwt-validation action whose jwks_endpoint is a URL
 * (AWS's kind: "the load balancer acquires the public key published by the
 * IdP in a well-known location that you configure"). lb fetches every such
 * JWKS before a configuration serves (at start and on reload, so a bad
 * endpoint fails the load as a bad file does), and again in the background
 * when a token's signature matches no key it holds (the IdP rotated its
 * keys). Outbound TLS verifies the endpoint's certificate (system store,
 * SSL_CERT_FILE / SSL_CERT_DIR).
 *
 * Workers share a configuration, and with it every jwt-validation action's
 * keys: a refresh started by any loop replaces them for every loop. One
 * process-wide lock guards what changes after load: an action's keys and
 * refresh state, the RSA key objects made on first use (auth/jwt_rsa.c),
 * and the configuration's arena, where both are allocated.
 */
#ifndef LB_NET_JWKS_FETCH_H
#define LB_NET_JWKS_FETCH_H

#include "base/err.h"
#include "config/config.h"

struct http_client;

void jwks_lock(void);
void jwks_unlock(void);
/* A copy of j to check a token against (j's keys as they are now; they stay
 * valid as long as the configuration does). */
void jwks_snapshot(const struct jwt_validation_cfg *j, struct jwt_validation_cfg *out);

/* Fetches every remote JWKS of cfg, blocking (each bounded by 10 s timeouts). */
int jwks_fetch_all(struct config *cfg, struct lb_err *err);

/*
 * Starts a background refresh of j's JWKS through hc, unless one is in
 * flight or the last fetch was under JWKS_REFRESH_MIN_US ago. cfg (which
 * holds j) is kept alive until it ends; the new keys replace j's.
 */
void jwks_refresh(struct config *cfg, struct jwt_validation_cfg *j, struct http_client *hc);

/* Cancels the calling loop's refreshes in flight (lb stopping, before their http_client goes). */
void jwks_refresh_cancel_all(void);

#endif
