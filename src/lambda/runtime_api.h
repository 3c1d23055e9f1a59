/*
 * runtime_api: the Lambda Runtime API (lambda-runtime-api.md §2) that one
 * sandbox's runtime process talks to, on its own loopback port. The runtime
 * long-polls /next for an invocation, then posts /response or /error for it;
 * /init/error reports a failed start.
 *
 * It holds at most one invocation. The sandbox hands one over with
 * runtime_api_deliver and hears back through the callbacks; request ids,
 * states, sizes and response modes are checked here as AWS does (400, 403,
 * 413), and a result whose body breaks off fails its invocation at once.
 */
#ifndef LB_RUNTIME_API_H
#define LB_RUNTIME_API_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

struct event_base;
struct runtime_api;

/* Lambda accepts responses up to 6 MB (RIE: 6 MiB + 100 bytes); larger → 413. */
#define RUNTIME_API_PAYLOAD_MAX (6 * 1024 * 1024 + 100)

struct runtime_api_cbs {
	/* The runtime asks for work (the first time: its init is done). */
	void (*on_next)(void *cookie);
	/* The current invocation's result. */
	void (*on_response)(void *cookie, const char *body, size_t n);
	/* The current invocation failed; error_type from Lambda-Runtime-Function-Error-Type or "". */
	void (*on_error)(void *cookie, const char *body, size_t n, const char *error_type);
	/* The runtime could not start. */
	void (*on_init_error)(void *cookie, const char *body, size_t n, const char *error_type);
	/* The current invocation's result broke off mid-body (the connection
	 * closed, or its chunks were malformed): it fails with error_type
	 * (Runtime.TruncatedResponse); message says what happened, in one line. */
	void (*on_broken)(void *cookie, const char *error_type, const char *message);
};

struct runtime_invocation {
	const char *request_id;
	int64_t deadline_ms;          /* Unix epoch milliseconds */
	const char *function_arn;     /* the invoked ARN (with its qualifier) */
	const char *trace_id;         /* "Root=...;Parent=...;Sampled=0" */
	const char *client_context;   /* JSON text, or NULL: no Lambda-Runtime-Client-Context */
	const char *payload;          /* the event JSON (copied) */
	size_t payload_len;
};

/* Binds 127.0.0.1:0. cbs is borrowed; log_name (copied) names the sandbox
 * in lb's warnings. NULL with err on failure. */
struct runtime_api *runtime_api_new(struct event_base *base, const char *log_name, const struct runtime_api_cbs *cbs,
				    void *cookie, struct lb_err *err);
/* The init phase is over: /init/error is refused from now on. */
void runtime_api_init_done(struct runtime_api *ra);
uint16_t runtime_api_port(const struct runtime_api *ra);
/* Serves x's Extensions and Telemetry API routes too (borrowed; NULL: none). */
struct extensions;
void runtime_api_set_extensions(struct runtime_api *ra, struct extensions *x);
/* Hands inv to the runtime: answers its pending /next now, or its next one. */
void runtime_api_deliver(struct runtime_api *ra, const struct runtime_invocation *inv);
/* Forgets the current invocation (timed out, cancelled): a late /response gets 400. */
void runtime_api_drop(struct runtime_api *ra);
/* Closes the port and every connection. NULL-safe. */
void runtime_api_free(struct runtime_api *ra);

#endif
