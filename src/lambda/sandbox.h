/*
 * sandbox: one Lambda execution environment — a runtime process in its own
 * process group, its own Runtime API port, its output captured line by line
 * into lb's log, and the Lambda log frame around each invocation (START,
 * END, REPORT with Duration, Billed Duration, Memory Size, Max Memory Used
 * and, on a cold start, Init Duration) — or, for a function whose
 * logging_config is JSON, Lambda's JSON platform records (platform.start,
 * platform.runtimeDone, platform.report), dropped at system_log_level WARN.
 *
 * It runs one invocation at a time and reports what happened through its
 * callbacks; which invocation runs where is lambda_pool.c's business.
 */
#ifndef LB_SANDBOX_H
#define LB_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/err.h"
#include "base/util.h"

struct event_base;
struct sandbox;

enum invoke_status {
	INVOKE_OK,              /* the function returned a result */
	INVOKE_FUNCTION_ERROR,  /* it reported an error (/error) */
	INVOKE_TIMEOUT,         /* "Task timed out after N.00 seconds" */
	INVOKE_EXIT,            /* the runtime exited mid-invocation (Runtime.ExitError) */
	INVOKE_INIT_ERROR,      /* the runtime failed to start (/init/error, or exited first) */
	INVOKE_THROTTLED,       /* no capacity (reserved concurrency and queue full) */
	INVOKE_UNREACHABLE,     /* a remote endpoint did not answer */
	INVOKE_NOT_DELIVERED,   /* a warm runtime exited before taking it: run it elsewhere */
	INVOKE_REJECTED,        /* a remote endpoint refused it with an error status (404, 400, ...) */
};

struct sandbox_cbs {
	/* The runtime waits for work: the sandbox is idle. */
	void (*on_idle)(void *cookie, struct sandbox *sb);
	/* The invocation ended; body is the result or error document (valid during the call). */
	void (*on_done)(void *cookie, struct sandbox *sb, enum invoke_status status, const char *body,
			size_t n, const char *error_type);
	/* The process has exited and been reaped; free the sandbox from here on. */
	void (*on_exit)(void *cookie, struct sandbox *sb);
};

struct sandbox_spec {
	const char *const *argv;   /* argv[0] looked up in PATH */
	const char *const *envp;   /* without AWS_LAMBDA_RUNTIME_API, which the sandbox adds */
	const char *cwd;
	/* Read-only to it as on Lambda (its code, its layers; NULL: none), and
	 * its /tmp, which stays writable even inside them (spawn.h). */
	const char *read_only[2];
	const char *writable;
	const char *log_name;      /* prefix of its log lines: "api", "api:3" */
	const char *version;       /* for START lines */
	int memory_size;           /* MB, for REPORT lines */
	bool provisioned;          /* initialized ahead of demand: REPORT has no Init Duration */
	bool json_logs;            /* logging_config JSON: platform records as JSON lines */
	const char *system_level;  /* its system_log_level (DEBUG, INFO, WARN) or NULL */
	/* External extensions (extensions.c): the executables in extensions_dir
	 * (the merged layers' /opt/extensions, or NULL) start beside the runtime. */
	const char *extensions_dir;
	const char *function_name; /* for the Extensions API's registration answer */
	const char *handler;
	const char *account_id;
};

/* Starts the process. cbs is borrowed. NULL with err if it cannot be started. */
struct sandbox *sandbox_start(struct event_base *base, const struct sandbox_spec *spec,
			      const struct sandbox_cbs *cbs, void *cookie, struct lb_err *err);
pid_t sandbox_pid(const struct sandbox *sb);

struct sandbox_invocation {
	const char *request_id;
	const char *function_arn;
	const char *trace_id;
	const char *client_context; /* the decoded JSON (copied), or NULL */
	const char *payload;       /* copied */
	size_t payload_len;
	int timeout;               /* seconds */
	bool capture_log;          /* keep its log's tail for sandbox_log_tail */
};

/* Lambda's Invoke API returns the last 4 KB of an invocation's log (X-Amz-Log-Type: Tail). */
#define SANDBOX_LOG_TAIL_MAX 4096

/* Runs inv: delivered at once when the runtime waits on /next, else when it asks. */
void sandbox_invoke(struct sandbox *sb, const struct sandbox_invocation *inv);
/*
 * The last SANDBOX_LOG_TAIL_MAX bytes of the current invocation's log, one
 * "\n"-ended line each: what the process wrote while it had the invocation
 * (init output too when the invocation waited for a cold start) and the
 * START/END/REPORT lines, without lb's "[name] " prefix. Empty unless the
 * invocation set capture_log. Valid during on_done only.
 */
struct sv sandbox_log_tail(struct sandbox *sb);
/* Whether the runtime has asked for work at least once (its init is done). */
bool sandbox_initialized(const struct sandbox *sb);
/* Kills the process group (after SHUTDOWN to its extensions, which get up to
 * 2 seconds); on_exit follows once it is reaped. */
void sandbox_kill(struct sandbox *sb);
/* Whether its extensions are still handling SHUTDOWN (the kill is pending). */
bool sandbox_stopping(const struct sandbox *sb);
/* Tells the sandbox its process exited with wait status, having used at most
 * max_rss_kb (wait4's ru_maxrss); lambda.c reaps. */
void sandbox_reaped(struct sandbox *sb, int wstatus, long max_rss_kb);
/* Tells the sandbox that a child that is not its runtime exited: true if it
 * was one of its extensions (an exit before SHUTDOWN fails it: Extension.Crash). */
bool sandbox_extension_exited(struct sandbox *sb, pid_t pid, int wstatus);
void sandbox_free(struct sandbox *sb);

#endif
