/*
 * router_int: what router.c (a request's way through lb) and route_log.c
 * (its access-log line and console record) share. Private to those two
 * files; everything else uses router.h.
 */
#ifndef LB_ROUTER_INT_H
#define LB_ROUTER_INT_H

#include "router.h"

#include "auth_flow.h"
#include "alb/transform.h"
#include "base/buf.h"
#include "targets/target.h"

/* What happened to a request, for its log line. */
struct outcome {
	int status;
	size_t sent;
	const char *actions;
	struct sv redirect_url;
	const char *error_reason;
	const struct target_group *tg;
	const char *target;
	int target_status;
	double t_request, t_target, t_response;  /* seconds; -1 when not dispatched */
	int priority;
	bool websocket;
};

struct route {
	struct route *next_free;
	struct route *prev_busy, *next_busy; /* the router's requests in flight */
	struct router *router;
	struct config *cfg;
	const struct listener_cfg *listener;
	const struct rule *rule;
	int front_status;        /* an answer decided by the front-end checks, or 0 */
	const char *front_reason; /* its error_reason, or NULL */
	struct buf trace;        /* X-Amzn-Trace-Id toward targets and in the log */
	bool forwarding;         /* the target kind has the request (between head and forward_done) */
	const char *sticky_error; /* "AWSALBTGCookieInvalid", or NULL */
	struct buf cookies;      /* the AWSALBTG cookie decoded, then the Set-Cookie values */
	struct forward f;
	enum { AUTH_NONE, AUTH_DENY_401, AUTH_REDIRECT, AUTH_CALLBACK } auth_mode;
	struct auth_req auth;    /* the x-amzn-oidc-* headers of a valid session */
	struct auth_login *login; /* a callback's exchanges with the IdP */
	struct buf xform_mem;    /* the rule transforms' results (req points into it) */
	struct transform_out xf;
	struct sv log_host, log_target; /* the request as received, once transformed */
	bool auth_ran;           /* the rule's jwt-validation ran (logged as "authenticate") */
	const char *www_auth;    /* its 401's WWW-Authenticate, when it failed */
	struct outcome held;     /* the line of an answer still in lb (route_finish, on_sent) */
	struct buf held_mem;     /* the strings held names */
};

struct router {
	struct rng *rng;
	struct targets *targets;
	struct config *cfg;
	struct access_log *alog;
	struct console *console;
	struct route *free_routes;
	struct route *busy;      /* routes of requests in flight (router_cut) */
	int64_t date_s;
	char date[30];
	struct buf scratch;      /* the Location of a redirect */
	struct auth_flow *auth;  /* authenticate actions; NULL if its keys could not be made */
};

/* route_log.c */
/* The finished request to the access log and the console. */
void route_log(struct router *r, const struct http_request *req, const struct outcome *o);
/* An outcome of status, not dispatched to a target, under rt's rule (rt may be NULL). */
void outcome_init(struct outcome *o, int status, const struct route *rt);
/* A request without Host names lb by its listener's address, as toward
 * targets (proxy_head.c): an IPv6 one in brackets (RFC 3986 §3.2.2). */
struct sv route_listener_host(const char *address, char out[48]);
/* The request target as the log shows it: origin-form. */
struct sv route_log_target(const struct http_request *req);

#endif
