/*
 * sandbox: a runtime process and everything lb keeps about it.
 *
 * Start: the Runtime API port is opened first (its address goes into the
 * environment), then the process is spawned (spawn.c) into a new process
 * group, in the function's code directory, its code and layers read-only,
 * with stdout and stderr on pipes. Each line it writes becomes "[name] line"
 * on lb's stderr (sandbox_log.c, with START/END/REPORT and the log tail;
 * memory is sandbox_mem.c's; sandbox_int.h lists what they share).
 *
 * States: STARTING until the runtime's first /next (its init is done),
 * then IDLE (waiting on /next) or BUSY (running an invocation), DEAD once
 * killed or exited. An invocation given to a STARTING sandbox waits for its
 * first /next; its timer covers Lambda's 10-second init limit plus the
 * function timeout, then just the timeout once the runtime has it.
 *
 * Log tail: an invocation that asks for it (the Invoke API's X-Amz-Log-Type:
 * Tail) gets the last 4 KB of its log kept in a ring, allocated on first use;
 * others cost nothing beyond one branch per line.
 *
 * Teardown: sandbox_kill signals the whole process group; lambda.c reaps
 * children (SIGCHLD) and calls sandbox_reaped, which fails a running
 * invocation (Runtime.ExitError) and reports on_exit. Nothing here frees
 * the sandbox from inside a Runtime API callback: callers free it from
 * on_exit, which runs from the SIGCHLD event.
 */
#include "lambda/sandbox_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "base/buf.h"
#include "base/log.h"
#include "lambda/extensions.h"
#include "lambda/platform_log.h"
#include "lambda/proc_mem.h"
#include "lambda/runtime_api.h"
#include "lambda/spawn.h"
#include "lambda/telemetry.h"

/* Lambda gives a runtime 10 seconds to initialize (on-demand init phase). */
#define INIT_LIMIT_SECONDS 10

/* --- invocations --------------------------------------------------------------- */

static void set_timer(struct sandbox *sb, int seconds)
{
	struct timeval tv = { seconds, 0 };

	event_add(sb->timer, &tv);
}

/*
 * Arms the timer for what is left until sb->deadline_us. libevent measures
 * a timeout from its cached loop time, which is stale by however long the
 * current loop pass has run: refresh it first.
 */
static void arm_until_deadline(struct sandbox *sb)
{
	int64_t left = sb->deadline_us - time_mono_us();
	struct timeval tv = { 0, 0 };

	if (left > 0) {
		tv.tv_sec = left / 1000000;
		tv.tv_usec = left % 1000000;
	}
	event_base_update_cache_time(event_get_base(sb->timer));
	event_add(sb->timer, &tv);
}

/*
 * Lambda never stops a function before its deadline (REPORT's Duration is
 * at least the timeout). libevent's clock may be coarse, so its timer can
 * fire a little early: if so, re-arm for the rest and say so.
 */
static bool deadline_ahead(struct sandbox *sb)
{
	if (time_mono_us() >= sb->deadline_us)
		return false;
	arm_until_deadline(sb);
	return true;
}

static void deliver(struct sandbox *sb)
{
	int64_t now_ms = time_wall_us() / 1000;
	struct runtime_invocation ri = {
		.request_id = sb->request_id,
		.deadline_ms = now_ms + (int64_t)sb->timeout * 1000,
		.function_arn = sb->inv_arn,
		.trace_id = sb->inv_trace,
		.client_context = sb->inv_context,
		.payload = sb->inv_payload.p,
		.payload_len = sb->inv_payload.len,
	};

	sb->delivered = true;
	sb->state = SB_BUSY;
	sb->started_us = time_mono_us();
	sb->deadline_us = sb->started_us + (int64_t)sb->timeout * 1000000;
	sb->runtime_waiting = false;
	telemetry_start(extensions_telemetry(sb->ext), sb->request_id, sb->version);
	/* Lambda sends INVOKE to the extensions as the runtime gets the event. */
	extensions_invoke(sb->ext, sb->request_id, ri.deadline_ms, sb->inv_arn, sb->inv_trace);
	arm_until_deadline(sb);
	sandbox_mem_watch(sb);
	if (!sb->json_logs)
		sandbox_log_start(sb);
	else if (sb->system_info) {
		char t[28], line[256];

		platform_time(time_wall_us(), t);
		sandbox_log_line(sb, line, platform_start(line, sizeof(line), t, sb->request_id, sb->version));
	}
	runtime_api_deliver(sb->ra, &ri);
}

void sandbox_invoke(struct sandbox *sb, const struct sandbox_invocation *inv)
{
	str_copy(sb->request_id, sizeof(sb->request_id), inv->request_id);
	sb->timeout = inv->timeout;
	buf_reset(&sb->inv_payload);
	buf_append(&sb->inv_payload, inv->payload, inv->payload_len);
	free(sb->inv_arn);
	free(sb->inv_trace);
	free(sb->inv_context);
	sb->inv_arn = xstrdup(inv->function_arn);
	sb->inv_trace = xstrdup(inv->trace_id);
	sb->inv_context = inv->client_context ? xstrdup(inv->client_context) : NULL;
	sb->has_inv = true;
	sb->delivered = false;
	sb->capturing = inv->capture_log;
	sb->tail_ready = false;
	if (sb->capturing && !sb->tail)
		sb->tail = xmalloc(sizeof(*sb->tail));
	if (sb->tail)
		sb->tail->end = sb->tail->len = 0;
	if (sb->state == SB_IDLE) {
		deliver(sb);
		return;
	}
	/* Extensions still finishing the last invocation keep their deadline. */
	if (sb->state == SB_BUSY && evtimer_pending(sb->timer, NULL))
		return;
	/* Not initialized yet: the event waits for the first /next. */
	set_timer(sb, INIT_LIMIT_SECONDS + inv->timeout);
}

/* platform.runtimeDone and platform.report for Telemetry API subscribers. */
static void telemetry_end(struct sandbox *sb, bool cold)
{
	int64_t us = time_mono_us() - sb->started_us;

	telemetry_report(extensions_telemetry(sb->ext), &(struct telemetry_report){
		sb->request_id, sb->end_status, (double)us / 1000.0, (long)((us + 999) / 1000), sb->memory_size,
		(int)sb->peak_mb, cold ? sb->init_ms : -1 });
}

/* Ends the current invocation and tells its owner (lambda_pool.c). */
static void finish(struct sandbox *sb, enum invoke_status status, const char *body, size_t n,
		   const char *error_type)
{
	bool delivered = sb->delivered, cold = !sb->init_reported;

	event_del(sb->timer);
	sb->has_inv = false;
	sb->end_status = sandbox_record_status(status);
	if (sb->delivered) {
		sandbox_log_waiting(sb);
		sandbox_log_end(sb, status, n, error_type);
	}
	sb->delivered = false;
	if (delivered)
		telemetry_end(sb, cold);
	/* on_done may hand this sandbox its next invocation: stop first. */
	sb->tail_ready = sb->capturing;
	sb->capturing = false;
	sb->cbs->on_done(sb->cookie, sb, status, body, n, error_type);
	/* Lambda's invoke phase includes the extensions' work after the response,
	 * and the runtime's until its next /next, within the function's timeout:
	 * past it the environment is reset (an invocation handed over meanwhile
	 * waits for that, not for ever). */
	if (sb->state == SB_BUSY && (!extensions_ready(sb->ext) || !sb->runtime_waiting))
		arm_until_deadline(sb);
}

/* --- Runtime API callbacks --------------------------------------------------------- */

/*
 * The runtime waits for work and so does every extension: init is complete
 * (Lambda's init phase ends when the runtime and all registered extensions
 * have called next), or the previous invocation is over.
 */
static void runtime_ready(struct sandbox *sb)
{
	if (sb->state == SB_DEAD)
		return;
	if (sb->state == SB_STARTING) {
		sb->init_ms = (double)(time_mono_us() - sb->spawned_us) / 1000.0;
		extensions_close_registration(sb->ext);
		runtime_api_init_done(sb->ra);
		telemetry_init_done(extensions_telemetry(sb->ext), sb->init_reported);
	}
	sb->state = SB_IDLE;
	if (sb->has_inv && !sb->delivered) {
		deliver(sb);
		return;
	}
	sb->cbs->on_idle(sb->cookie, sb);
}

static void on_next(void *arg)
{
	struct sandbox *sb = arg;

	sb->runtime_waiting = true;
	/* Lambda's next invocation waits for every extension to finish this one. */
	if (extensions_ready(sb->ext))
		runtime_ready(sb);
}

static void ext_on_ready(void *arg)
{
	struct sandbox *sb = arg;

	if (sb->runtime_waiting && sb->state != SB_IDLE)
		runtime_ready(sb);
}

void sandbox_kill_processes(struct sandbox *sb)
{
	if (sb->pid <= 0)
		return;
	/* Why the trees too: a process that left the group (setsid, as Node's
	 * `detached` spawn does for puppeteer's Chrome) would outlive its sandbox,
	 * and lb; on Lambda nothing outlives its environment. */
	proc_tree_kill_below(sb->pid);
	for (size_t i = 0; i < sb->next_pids; i++)
		if (sb->ext_pids[i] > 0)
			proc_tree_kill_below(sb->ext_pids[i]);
	kill(-sb->pid, SIGKILL);
}

static void kill_now(struct sandbox *sb)
{
	event_del(sb->kill_timer);
	sandbox_kill_processes(sb);
}

static void ext_on_shutdown_done(void *arg)
{
	kill_now(arg);
}

static void on_kill_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	kill_now(arg);
}

static void on_init_error(void *arg, const char *body, size_t n, const char *error_type);

/* An extension's /init/error or /exit/error fails the environment as on Lambda. */
static void ext_on_error(void *arg, bool init, const char *body, size_t n, const char *error_type)
{
	struct sandbox *sb = arg;

	sandbox_log_frame(sb, "EXTENSION %s error: %s", init ? "init" : "exit", error_type);
	if (sb->state == SB_STARTING || init) {
		on_init_error(sb, body, n, error_type);
		return;
	}
	sb->shutdown_reason = "failure";
	if (sb->has_inv)
		finish(sb, INVOKE_EXIT, body, n, error_type);
	sandbox_kill(sb);
}

static const struct extensions_cbs ext_cbs = {
	.on_ready = ext_on_ready,
	.on_shutdown_done = ext_on_shutdown_done,
	.on_error = ext_on_error,
};

static void on_response(void *arg, const char *body, size_t n)
{
	struct sandbox *sb = arg;

	if (sb->has_inv)
		finish(sb, INVOKE_OK, body, n, NULL);
}

static void on_error(void *arg, const char *body, size_t n, const char *error_type)
{
	struct sandbox *sb = arg;

	if (sb->has_inv)
		finish(sb, INVOKE_FUNCTION_ERROR, body, n, error_type);
}

/* INIT_REPORT of a failed init phase, or its JSON twin. */
static void log_init_error(struct sandbox *sb, const char *type)
{
	double init_ms = (double)(time_mono_us() - sb->spawned_us) / 1000.0;
	char t[28], line[512];

	if (!sb->json_logs) {
		sandbox_log_frame(sb, "INIT_REPORT Init Duration: %.2f ms\tPhase: init\tStatus: error\tError Type: %s",
			  init_ms, type);
	} else if (sb->system_info) {
		platform_time(time_wall_us(), t);
		sandbox_log_line(sb, line, platform_init_error(line, sizeof(line), t, init_ms, type));
	}
}

static void on_init_error(void *arg, const char *body, size_t n, const char *error_type)
{
	struct sandbox *sb = arg;

	/* Why: the environment is already failed (an earlier /init/error, pipelined
	 * or not): one INIT_REPORT per init, as on Lambda, not one per post. */
	if (sb->state == SB_DEAD)
		return;
	log_init_error(sb, *error_type ? error_type : "Runtime.Unknown");
	/* Lambda discards an environment whose init failed; the next request gets a fresh one. */
	sb->shutdown_reason = "failure";
	if (sb->has_inv)
		finish(sb, INVOKE_INIT_ERROR, body, n, error_type);
	sandbox_kill(sb);
}

/*
 * The runtime's result broke off mid-body. The client's answer is the one a
 * runtime that exits mid-invocation gets (a Runtime.* error, 502 at the
 * listener), in Lambda's "RequestId: ... Error: ..." words, and the sandbox
 * is reset as after Runtime.ExitError. Why: Lambda resets an environment
 * after a Runtime.* platform error; for a cut result that is unverified, and
 * a runtime that drops its connection mid-result is rarely one to reuse.
 */
static void on_broken(void *arg, const char *error_type, const char *message)
{
	struct sandbox *sb = arg;
	char msg[384];
	int n;

	if (!sb->has_inv)
		return;
	if (!sb->json_logs)
		sandbox_log_frame(sb, "RequestId: %s Error: %s", sb->request_id, message);
	n = snprintf(msg, sizeof(msg), "{\"errorMessage\":\"RequestId: %s Error: %s\",\"errorType\":\"%s\"}",
		     sb->request_id, message, error_type);
	sb->shutdown_reason = "failure";
	finish(sb, INVOKE_EXIT, msg, n < (int)sizeof(msg) ? (size_t)n : sizeof(msg) - 1, error_type);
	sandbox_kill(sb);
}

static const struct runtime_api_cbs ra_cbs = {
	.on_next = on_next,
	.on_response = on_response,
	.on_error = on_error,
	.on_init_error = on_init_error,
	.on_broken = on_broken,
};

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sandbox *sb = arg;
	char msg[128];
	int n;

	(void)fd;
	(void)what;
	if (!sb->has_inv || (!sb->delivered && sb->state == SB_BUSY)) {
		/* The extensions' time after the last invocation ran out (a next one
		 * may wait for them: it will run elsewhere). */
		if (sb->state == SB_BUSY && (!extensions_ready(sb->ext) || !sb->runtime_waiting)) {
			if (deadline_ahead(sb))
				return;
			sandbox_log_frame(sb, "%s did not ask for its next event within the function's timeout: "
				  "resetting the sandbox", sb->runtime_waiting ? "EXTENSION" : "Runtime");
			sb->shutdown_reason = "timeout";
			sandbox_kill(sb);
		}
		return;
	}
	/* The init limit's timer (not yet delivered) keeps its plain timeout. */
	if (sb->delivered && deadline_ahead(sb))
		return;
	/* Lambda's own message, as the runtime interface emulator prints it. */
	n = snprintf(msg, sizeof(msg),
		     "{\"errorMessage\":\"Task timed out after %d.00 seconds\",\"errorType\":\"Sandbox.Timedout\"}",
		     sb->timeout);
	/* In JSON format the timeout is the records' status "timeout" instead; in
	 * text, Lambda's line starts with its time, as a runtime's own lines do. */
	if (!sb->json_logs) {
		char t[28];

		platform_time(time_wall_us(), t);
		sandbox_log_frame(sb, "%s %s Task timed out after %d.00 seconds", t, sb->request_id, sb->timeout);
	}
	runtime_api_drop(sb->ra);
	sb->shutdown_reason = "timeout";
	finish(sb, INVOKE_TIMEOUT, msg, (size_t)n, "Sandbox.Timedout");
	sandbox_kill(sb);
}

/* --- process --------------------------------------------------------------------- */

/* spec's environment plus AWS_LAMBDA_RUNTIME_API for this sandbox's port. */
static char **spawn_env(const struct sandbox *sb, const struct sandbox_spec *spec, char *api_var)
{
	size_t n = 0;
	char **env;

	while (spec->envp[n])
		n++;
	env = xcalloc(n + 2, sizeof(*env));
	memcpy(env, spec->envp, n * sizeof(*env));
	snprintf(api_var, 64, "AWS_LAMBDA_RUNTIME_API=127.0.0.1:%u", runtime_api_port(sb->ra));
	env[n] = api_var;
	return env;
}

static int spawn(struct sandbox *sb, const struct sandbox_spec *spec, const char *const *argv, pid_t pgroup,
		 pid_t *pid, int out_fd, int err_fd, struct lb_err *err)
{
	char api_var[64];
	char **env = spawn_env(sb, spec, api_var);
	struct spawn_req r = { argv, env, spec->cwd, pgroup, out_fd, err_fd,
			       { spec->read_only[0], spec->read_only[1] }, spec->writable };
	int rc = spawn_process(&r, pid, err);

	free(env);
	return rc;
}

/*
 * Lambda starts every executable in /opt/extensions beside the runtime, in
 * its environment, during the init phase. Here they join the runtime's
 * process group (killed with it) and write to its log. Returns how many
 * started.
 */
static size_t spawn_extensions(struct sandbox *sb, const struct sandbox_spec *spec, int out_fd, int err_fd)
{
	char **paths = spec->extensions_dir ? extensions_find(spec->extensions_dir) : NULL;
	size_t started = 0;

	for (size_t i = 0; paths && paths[i] && started < ARRAY_LEN(sb->ext_pids); i++) {
		const char *argv[2] = { paths[i], NULL };
		struct lb_err err = { "" };
		pid_t pid;

		if (spawn(sb, spec, argv, sb->pid, &pid, out_fd, err_fd, &err) == 0)
			sb->ext_pids[started++] = pid;
		else
			log_warn("[%s] extension %s: %s", sb->log_name, paths[i], err.msg);
	}
	extensions_find_free(paths);
	sb->next_pids = started;
	return started;
}

static struct bufferevent *pipe_reader(struct event_base *base, int fd, struct sandbox *sb)
{
	struct bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);

	bufferevent_setcb(bev, sandbox_on_output, NULL, sandbox_on_output_event, sb);
	bufferevent_enable(bev, EV_READ);
	return bev;
}

struct sandbox *sandbox_start(struct event_base *base, const struct sandbox_spec *spec,
			      const struct sandbox_cbs *cbs, void *cookie, struct lb_err *err)
{
	struct sandbox *sb = xcalloc(1, sizeof(*sb));
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, xp[2];
	struct extensions_info info = { spec->function_name ? spec->function_name : spec->log_name, spec->version,
					spec->handler, spec->account_id, 0 };

	sb->cbs = cbs;
	sb->cookie = cookie;
	sb->log_name = xstrdup(spec->log_name);
	sb->log_head_len = strlen(spec->log_name) + 3;
	sb->log_head = xcalloc(1, sb->log_head_len + 1);
	snprintf(sb->log_head, sb->log_head_len + 1, "[%s] ", spec->log_name);
	sb->version = xstrdup(spec->version);
	sb->memory_size = spec->memory_size;
	/* Lambda reports a cold start's init on the first invocation, which a
	 * provisioned environment's invocations never are. */
	sb->init_reported = spec->provisioned;
	sb->json_logs = spec->json_logs;
	/* Lambda's platform start/runtimeDone/report records are INFO: WARN filters them. */
	sb->system_info = !spec->json_logs || !spec->system_level || strcmp(spec->system_level, "WARN") != 0;
	sb->state = SB_STARTING;
	sb->pid = -1;
	buf_init(&sb->inv_payload, 0);
	sb->timer = evtimer_new(base, on_timer, sb);
	sb->kill_timer = evtimer_new(base, on_kill_timer, sb);
	sb->mem_ev = event_new(base, -1, EV_PERSIST, sandbox_on_mem_sample, sb);
	if (!(sb->ra = runtime_api_new(base, spec->log_name, &ra_cbs, sb, err)))
		goto fail;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		lb_err_set(err, "cannot create pipes: %s", strerror(errno));
		goto fail;
	}
	sb->spawned_us = time_mono_us();
	if (spawn(sb, spec, spec->argv, 0, &sb->pid, out[1], errp[1], err) < 0)
		goto fail;
	if (spec->extensions_dir && pipe2(xp, O_CLOEXEC) == 0) {
		info.expected = spawn_extensions(sb, spec, xp[1], xp[1]);
		close(xp[1]);
		evutil_make_socket_nonblocking(xp[0]);
		sb->xout = pipe_reader(base, xp[0], sb);
	}
	sb->ext = extensions_new(base, &info, &ext_cbs, sb);
	runtime_api_set_extensions(sb->ra, sb->ext);
	telemetry_init_start(extensions_telemetry(sb->ext), spec->provisioned, info.function_name, spec->version);
	close(out[1]);
	close(errp[1]);
	evutil_make_socket_nonblocking(out[0]);
	evutil_make_socket_nonblocking(errp[0]);
	sb->out = pipe_reader(base, out[0], sb);
	sb->err = pipe_reader(base, errp[0], sb);
	sandbox_mem_watch(sb);
	return sb;
fail:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	sb->pid = -1;
	sandbox_free(sb);
	return NULL;
}

pid_t sandbox_pid(const struct sandbox *sb)
{
	return sb->pid;
}

bool sandbox_initialized(const struct sandbox *sb)
{
	return sb->state == SB_IDLE || sb->state == SB_BUSY;
}

/* Lambda gives extensions 2 seconds after SHUTDOWN (more with more memory). */
#define SHUTDOWN_MS 2000

void sandbox_kill(struct sandbox *sb)
{
	struct timeval tv = { SHUTDOWN_MS / 1000, (SHUTDOWN_MS % 1000) * 1000 };

	if (sb->state == SB_DEAD)
		return;
	sb->state = SB_DEAD;
	if (sb->pid > 0 && sb->ext &&
	    extensions_shutdown(sb->ext, sb->shutdown_reason ? sb->shutdown_reason : "spindown",
				time_wall_us() / 1000 + SHUTDOWN_MS)) {
		event_add(sb->kill_timer, &tv);
		return;
	}
	sandbox_kill_processes(sb);
}

bool sandbox_stopping(const struct sandbox *sb)
{
	return sb->pid > 0 && evtimer_pending(sb->kill_timer, NULL);
}

static void describe_exit(int wstatus, char *out, size_t n)
{
	if (WIFEXITED(wstatus))
		snprintf(out, n, "exit status %d", WEXITSTATUS(wstatus));
	else if (WIFSIGNALED(wstatus)) {
		/* Lambda's runtime manager is Go: "signal: killed", "signal: segmentation fault". */
		int len = snprintf(out, n, "signal: %s", strsignal(WTERMSIG(wstatus)));
		if (len > 8 && (size_t)len < n)
			out[8] = (char)tolower((unsigned char)out[8]);
	}
	else
		snprintf(out, n, "status %d", wstatus);
}

void sandbox_reaped(struct sandbox *sb, int wstatus, long max_rss_kb)
{
	bool was_starting = sb->state == SB_STARTING;
	char why[64], msg[256];
	int n;

	sb->state = SB_DEAD;
	event_del(sb->mem_ev);
	event_del(sb->kill_timer);
	sandbox_mem_reaped(sb, max_rss_kb);
	sandbox_log_pending(sb, sb->out, true);
	sandbox_log_pending(sb, sb->err, true);
	sandbox_log_pending(sb, sb->xout, true);
	if (sb->has_inv && !sb->delivered && !was_starting) {
		/* Given to a runtime that had finished its last invocation and then
		 * exited (as a runtime does after a fatal error): it never ran. */
		finish(sb, INVOKE_NOT_DELIVERED, "", 0, NULL);
	} else {
		/* A runtime that exits during init fails its init phase (a sandbox lb
		 * stops is SB_DEAD by now, so this is the runtime's own exit). */
		if (was_starting)
			log_init_error(sb, sb->oom_killed ? "Runtime.OutOfMemory" : "Runtime.ExitError");
		if (sb->has_inv) {
			describe_exit(wstatus, why, sizeof(why));
			/* Lambda logs a runtime's death mid-invocation before END. */
			if (!was_starting && !sb->json_logs) {
				sandbox_log_frame(sb, "RequestId: %s Error: Runtime exited with error: %s",
						  sb->request_id, why);
				sandbox_log_frame(sb, "Runtime.ExitError");
			}
			/* Lambda's report when a runtime dies mid-invocation. */
			n = snprintf(msg, sizeof(msg),
				     "{\"errorMessage\":\"RequestId: %s Error: Runtime exited with error: %s\","
				     "\"errorType\":\"Runtime.ExitError\"}",
				     sb->request_id, why);
			finish(sb, was_starting ? INVOKE_INIT_ERROR : INVOKE_EXIT, msg, (size_t)n,
			       "Runtime.ExitError");
		}
	}
	/* The leader is gone; whatever it started goes with it. */
	kill(-sb->pid, SIGKILL);
	sb->pid = -1;
	sb->cbs->on_exit(sb->cookie, sb);
}

bool sandbox_extension_exited(struct sandbox *sb, pid_t pid, int wstatus)
{
	char why[64], msg[256];
	size_t i;
	int n;

	for (i = 0; i < sb->next_pids && sb->ext_pids[i] != pid; i++)
		;
	if (i == sb->next_pids)
		return false;
	sb->ext_pids[i] = -1;
	if (sb->state == SB_DEAD) {
		/* After SHUTDOWN: once every extension has exited there is nothing to wait for. */
		for (i = 0; i < sb->next_pids && sb->ext_pids[i] < 0; i++)
			;
		if (i == sb->next_pids && sandbox_stopping(sb))
			kill_now(sb);
		return true;
	}
	describe_exit(wstatus, why, sizeof(why));
	/* Lambda resets the environment when an extension exits before SHUTDOWN:
	 * the init or invocation under way fails with Extension.Crash. */
	n = snprintf(msg, sizeof(msg),
		     "{\"errorMessage\":\"RequestId: %s Error: an extension exited with error: %s\","
		     "\"errorType\":\"Extension.Crash\"}", sb->has_inv ? sb->request_id : "", why);
	sandbox_log_frame(sb, "EXTENSION exited with error: %s", why);
	if (sb->state == SB_STARTING) {
		on_init_error(sb, msg, (size_t)n, "Extension.Crash");
		return true;
	}
	sb->shutdown_reason = "failure";
	if (sb->has_inv && sb->delivered) {
		runtime_api_drop(sb->ra);
		finish(sb, INVOKE_EXIT, msg, (size_t)n, "Extension.Crash");
	}
	sandbox_kill(sb);
	return true;
}

void sandbox_free(struct sandbox *sb)
{
	if (!sb)
		return;
	sandbox_kill_processes(sb);
	runtime_api_free(sb->ra);      /* aborts the extensions' waiting requests too */
	extensions_free(sb->ext);
	if (sb->out)
		bufferevent_free(sb->out);
	if (sb->err)
		bufferevent_free(sb->err);
	if (sb->xout)
		bufferevent_free(sb->xout);
	event_free(sb->timer);
	event_free(sb->kill_timer);
	if (sb->mem_ev)
		event_free(sb->mem_ev);
	buf_release(&sb->inv_payload);
	free(sb->inv_arn);
	free(sb->inv_trace);
	free(sb->inv_context);
	free(sb->tail);
	free(sb->log_name);
	free(sb->log_head);
	free(sb->version);
	free(sb);
}
