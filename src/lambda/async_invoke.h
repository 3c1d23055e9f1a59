/*
 * async_invoke: asynchronous invocation (X-Amz-Invocation-Type: Event;
 * DESIGN.md §18): events queued per function, retried after a function
 * error, timeout or crash (event_invoke_config's maximum_retry_attempts,
 * Lambda's delays), retried while throttled, dropped past their maximum
 * age, and their invocation records sent to the destinations.
 */
#ifndef LB_ASYNC_INVOKE_H
#define LB_ASYNC_INVOKE_H

#include <stddef.h>

#include "config/config.h"

struct event_base;
struct lambda;
struct rng;
struct async_invoke;

/* lb holds at most this many bytes of queued events (payloads, kept responses
 * and each event's own cost: async_invoke.c). */
#define ASYNC_QUEUED_MAX (128u * 1024 * 1024)

/* LB_ASYNC_RETRY_DELAYS=A,B (seconds) replaces Lambda's delays, for tests;
 * LB_ASYNC_MAX_AGE=S caps every function's maximum event age (seconds), for tests;
 * LB_ASYNC_QUEUED_MAX=BYTES replaces ASYNC_QUEUED_MAX, for tests. */
struct async_invoke *async_invoke_new(struct event_base *base, struct lambda *lambda, struct rng *rng);
/*
 * Queues an event for fn (from cfg, referenced while the event lives) and
 * writes its request id (the 202's x-amzn-RequestId) into request_id.
 * False, with nothing queued, when the queued events would pass
 * lb's bound on their memory.
 * qualifier NULL or "" is $LATEST; payload, trace and client_context (the
 * decoded X-Amz-Client-Context, or NULL) are copied.
 */
bool async_invoke_submit(struct async_invoke *a, struct config *cfg, const struct function_cfg *fn,
			 const char *qualifier, const char *payload, size_t len, const char *trace,
			 const char *client_context, char request_id[37]);
/* Later attempts run the functions of cfg (takes a reference). */
void async_invoke_set_config(struct async_invoke *a, struct config *cfg);
/* Attempts running now (events waiting for a retry are not counted). */
size_t async_invoke_running(const struct async_invoke *a);
/* Drops every event (running attempts are cancelled) and frees a. NULL-safe. */
void async_invoke_free(struct async_invoke *a);

#endif
