/*
 * lambda: runs the configuration's Lambda functions for the router
 * (DESIGN.md §7). Local functions run in sandboxes (one runtime process
 * each): started on demand, reused while warm, at most
 * reserved_concurrent_executions per function, a bounded queue beyond that
 * and throttling past it, idle ones stopped after a while. Functions with an
 * `endpoint:` are invoked through a remote Invoke API (invoke_client).
 */
#ifndef LB_LAMBDA_H
#define LB_LAMBDA_H

#include <stddef.h>

#include "config/config.h"
#include "lambda/sandbox.h"
#include "base/util.h"

struct event_base;
struct lambda;
struct invocation;

struct invoke_result {
	enum invoke_status status;
	const char *payload;       /* the result, or the error document; valid during the callback */
	size_t len;
	const char *error_type;    /* for errors: "Runtime.ExitError", "Sandbox.Timedout", ... */
	const char *version;       /* the version that ran */
	const char *request_id;    /* the invocation's request id (its START/END/REPORT lines') */
	const char *log;           /* with invoke_request.log_tail: its log's last 4 KB, else "" */
	size_t log_len;
	int remote_status;         /* INVOKE_REJECTED: the endpoint's HTTP status */
	bool remote_delivered;     /* INVOKE_UNREACHABLE: the request reached the endpoint, which
				    * then closed, answered late or garbled: the function may have run */
	bool cold;                 /* a sandbox was started for it (a cold start) */
	int64_t wait_us;           /* queued, waiting for a sandbox */
	int64_t run_us;            /* from its sandbox taking it (or sending it, remote) to its end,
				    * a cold start's init included; 0: it never ran */
};

typedef void (*invoke_done_fn)(void *cookie, const struct invoke_result *res);

/* runtimes_dir: where runtimes/node and runtimes/python live. rng is borrowed. */
struct lambda *lambda_new(struct event_base *base, struct rng *rng, const char *runtimes_dir);
/* Serves cfg's functions from now on (takes a reference). Sandboxes started
 * under an older configuration finish their invocation and stop. */
void lambda_set_config(struct lambda *l, struct config *cfg);

struct invoke_request {
	struct config *cfg;              /* the configuration fn is from (referenced while it runs) */
	const struct function_cfg *fn;
	const char *qualifier;           /* NULL/"$LATEST", a version or an alias */
	const char *payload;             /* borrowed until done or lambda_cancel */
	size_t len;
	const char *trace_id;            /* the X-Amzn-Trace-Id toward the target */
	bool log_tail;                   /* report the log's tail (X-Amz-Log-Type: Tail) */
	const char *client_context;      /* X-Amz-Client-Context's decoded JSON (copied), or NULL */
};

/*
 * Starts an invocation; done is called exactly once, later (never from
 * inside this call), unless the invocation is cancelled first.
 */
struct invocation *lambda_invoke(struct lambda *l, const struct invoke_request *req,
				 invoke_done_fn done, void *cookie);
/* The same, under a request id of the caller's (an asynchronous event keeps
 * its id through retries, as Lambda's do); NULL for a new one. */
struct invocation *lambda_invoke_as(struct lambda *l, const struct invoke_request *req, const char *request_id,
				    invoke_done_fn done, void *cookie);
/* The request id inv runs under (valid until done or lambda_cancel). */
const char *lambda_request_id(const struct invocation *inv);
/* The caller no longer wants the result (its client left). A running
 * invocation finishes in its sandbox; a queued one is dropped. */
void lambda_cancel(struct invocation *inv);
/*
 * For the console (DESIGN.md §17): an observer told of every invocation's
 * end, whoever asked for it (a Lambda target, a health check, the Invoke
 * API), with the function's name; NULL for none. Borrowed.
 */
typedef void (*invoke_observer_fn)(void *cookie, const char *function, const struct invoke_result *res);
void lambda_set_observer(struct lambda *l, invoke_observer_fn fn, void *cookie);

/* A function's sandboxes by state, and its invocations waiting. */
struct lambda_pool_stats {
	size_t starting, idle, busy, queued;
};
void lambda_pool_stats(const struct lambda *l, const char *function, struct lambda_pool_stats *out);

/* Stops every sandbox (in-flight invocations are dropped) and frees l. NULL-safe. */
/* Stops idle sandboxes, sending SHUTDOWN to their extensions first (lb is
 * exiting); true while some extension still has its 2 seconds. */
bool lambda_stop_sandboxes(struct lambda *l);
void lambda_free(struct lambda *l);

/* The directory of runtimes/ for an lb executable at exe_path (or $LB_RUNTIMES_DIR). */
char *lambda_find_runtimes(const char *exe_path);

#endif
