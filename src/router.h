/*
 * router: one request in flight, from its head to its access-log line. It is
 * the only module that knows every action and target kind: it applies ALB's
 * front-end checks, matches the listener's rules, runs the action (fixed
 * response, redirect, forward to a target group) and logs the result.
 */
#ifndef LB_ROUTER_H
#define LB_ROUTER_H

#include "config/config.h"
#include "net/http_server.h"
#include "base/util.h"

struct access_log;
struct console;
struct router;
struct targets;

/* rng and targets are borrowed and must outlive the router. */
struct router *router_new(struct rng *rng, struct targets *targets);
/* The callbacks to give http_server, with the router as cookie. */
const struct http_server_cbs *router_http_callbacks(void);
/* Serves cfg from now on (takes a reference); requests in flight keep theirs. */
void router_set_config(struct router *r, struct config *cfg);
/* Where access-log lines go (borrowed); NULL for none. */
void router_set_access_log(struct router *r, struct access_log *al);
/* Where each finished request is recorded (borrowed); NULL for none (then
 * nothing is kept for it: the request path costs one test). */
void router_set_console(struct router *r, struct console *c);
/* lb stops and its drain ran out: every request still waiting on a Lambda
 * function (lambda_fwd_cut) or on an IdP (auth_login_cut) is answered 502
 * and logged. Returns how many. */
unsigned router_cut(struct router *r);
/* Frees the router; call after http_server_free (which aborts requests in flight). */
void router_free(struct router *r);
/* The PEM public key that signs x-amzn-oidc-data under kid, or NULL. */
const char *router_auth_key_pem(const struct router *r, struct sv kid);

#endif
