/*
 * console: lb's admin listener (DESIGN.md §17) — a web console, /metrics in
 * Prometheus's text format with CloudWatch's metric names, and /api/...,
 * JSON for the console and for tests: the requests lb served most recently
 * (each with the exact event its function received and the result it
 * returned), rules with hit counts, target groups with target health,
 * functions with their sandboxes, and `lb explain` for a URL.
 *
 * It is served by lb's HTTP/1 server (net/http_server) on its own listener,
 * `admin: {port, address}`; without that key the router records nothing and
 * the request path pays one NULL test. Secrets are masked (inspect/mask.h)
 * unless `mask_secrets: false`.
 */
#ifndef LB_CONSOLE_CONSOLE_H
#define LB_CONSOLE_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "alb/alog_fmt.h"
#include "alb/http_msg.h"
#include "base/err.h"
#include "config/config.h"

struct event_base;
struct console;
struct forward;
struct health;
struct lambda;
struct router;
struct targets;

/* A finished request, as the router hands it over (all borrowed, valid during the call). */
struct console_req {
	const struct http_request *req;
	/* Its access-log fields; without an access log only these are filled: type,
	 * client_ip/port, the three processing times, elb_status, target_status, target,
	 * received/sent_bytes, method, host, request_target, trace_id,
	 * matched_rule_priority, actions_executed, redirect_url, error_reason. */
	const struct alog_entry *log;
	const struct rule *rule;            /* matched, or NULL (a front-end answer) */
	const struct target_group *tg;      /* forwarded to, or NULL */
	const struct forward *f;            /* the forward's state, or NULL */
};

/* Everything is borrowed and must outlive the console; free it after lambda_free. */
struct console *console_new(struct event_base *base, struct router *router, struct lambda *lambda,
			    struct targets *targets, struct health *health);

/*
 * A configuration's admin listener, in two steps so a reload changes
 * nothing when anything fails: console_prepare binds a new listener if cfg
 * asks for another address or port (-1 with err when it cannot);
 * console_commit then serves cfg (printing "lb: console on http://ADDR:PORT"
 * for a new listener, hooking the router and lambda in or out), or
 * console_cancel drops what console_prepare bound. ports (copied) are the
 * ports cfg's listeners are bound to, by index: `lb explain` in the console
 * finds a listener by the port a URL names, `port: 0` ones included.
 */
int console_prepare(struct console *c, const struct config *cfg, struct lb_err *err);
void console_commit(struct console *c, struct config *cfg, const uint16_t *ports);
void console_cancel(struct console *c);

/* `workers`: other threads record too (console_record takes a lock; the live
 * streams are fed from main's loop). Call once, before they start. */
void console_set_threaded(struct console *c);
/* Records a finished request (the router's hook); any thread once threaded. */
void console_record(struct console *c, const struct console_req *q);
/* The bytes a forward keeps of each body for the console: its limit + 1. */
size_t console_record_limit(const struct console *c);

/* Stops accepting and closes the console's connections (live streams too). */
void console_shutdown(struct console *c);
void console_free(struct console *c);

#endif
