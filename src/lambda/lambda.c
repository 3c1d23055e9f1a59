/*
 * lambda: invocations, and the sandboxes that run them.
 *
 * One pool per function name. A pool's sandboxes each run one version of the
 * function (the settings of the configuration they were started under); the
 * function's concurrency — reserved_concurrent_executions, as in Lambda, for
 * all its versions together — bounds how many exist. An invocation goes to
 * an idle sandbox of its version, else to a new one while the pool has room
 * (an idle sandbox of another version is stopped to make room), else waits in
 * the pool's queue (QUEUE_MAX), else is throttled. Whenever a sandbox becomes
 * idle or goes away, the queue is pumped.
 *
 * Lifetimes: entries and invocations hold a reference to the configuration
 * whose settings they use; an entry of a function with layers or .zip code
 * also holds its version's merged layer directory and extracted code
 * (layers.c), built at its cold start. A
 * sandbox is freed only after its process has been reaped (SIGCHLD), never
 * from inside one of its own callbacks. Results are delivered from event
 * callbacks, never from inside lambda_invoke.
 *
 * Files: this one has invocations (ids, versions, results, the Invoke API
 * client for endpoint functions), reaping processes, configurations and
 * lifecycle; lambda_pool.c the pools and their sandboxes; lambda_env.c what a
 * sandbox runs (lambda_int.h has what they share).
 */
#include "lambda/lambda_int.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "lambda/image.h"
#include "lambda/invoke_client.h"
#include "lambda/layers.h"
#include "lambda/runtime_fetch.h"
#include "base/log.h"
#include "net/http_client.h"

/* Invocations that may wait for a sandbox, per function, before throttling. */
#define QUEUE_MAX 100
/* A warm sandbox unused this long is stopped (LB_LAMBDA_IDLE_SECONDS overrides). */
#define IDLE_SECONDS 600

/* --- helpers ------------------------------------------------------------------ */

/* The version an invocation runs, and its settings. An alias picks by its weights. */
static const char *resolve_version(const struct function_cfg *fn, const char *qualifier, struct rng *rng,
				   const struct function_settings **settings)
{
	const char *v = qualifier;

	for (size_t i = 0; v && i < fn->naliases; i++) {
		const struct function_alias *a = &fn->aliases[i];
		if (strcmp(a->name, v) != 0)
			continue;
		/* Lambda alias routing: the additional version gets its weight's share. */
		v = a->extra_version && rng_unit(rng) < a->extra_weight ? a->extra_version : a->function_version;
		break;
	}
	for (size_t i = 0; v && i < fn->nversions; i++) {
		if (strcmp(fn->versions[i].version, v) == 0) {
			*settings = &fn->versions[i].settings;
			return fn->versions[i].version;
		}
	}
	*settings = &fn->latest;
	return "$LATEST";
}

static char *invoked_arn(const struct config *cfg, const struct function_cfg *fn, const char *qualifier)
{
	return str_join("arn:aws:lambda:", cfg->lb.region, ":", cfg->lb.account_id, ":function:", fn->name,
			qualifier ? ":" : "", qualifier ? qualifier : "", NULL);
}

/* "Root=...;Parent=<16 hex>;Sampled=0" from the X-Amzn-Trace-Id toward the target. */
static char *runtime_trace_id(struct rng *rng, const char *trace)
{
	const char *root = strstr(trace, "Root=");
	char r[65], parent[17];
	uint8_t b[8];
	size_t n;

	rng_bytes(rng, b, sizeof(b));
	hex_encode(b, sizeof(b), parent);
	root = root ? root + 5 : "";
	n = strcspn(root, ";");
	str_copy(r, (n < 64 ? n : 64) + 1, root);   /* the root, at most 64 bytes of it */
	return str_join("Root=", r, ";Parent=", parent, ";Sampled=0", NULL);
}

void lambda_invocation_free(struct invocation *inv)
{
	invoke_client_free(inv->remote);
	config_unref(inv->cfg);
	free(inv->arn);
	free(inv->trace);
	free(inv->client_context);
	free(inv);
}

/* Reports the result to the caller (unless cancelled) and frees inv. */
void lambda_invocation_finish(struct invocation *inv, enum invoke_status status, const char *body, size_t n,
			      const char *error_type)
{
	struct invoke_result res = { status, body, n, error_type, inv->version, inv->request_id,
				     inv->log.p ? inv->log.p : "", inv->log.n, inv->remote_status,
				     inv->remote_delivered, inv->cold,
				     inv->run_us ? inv->run_us - inv->start_us : 0,
				     inv->run_us ? time_mono_us() - inv->run_us : 0 };

	if (inv->l->observer)
		inv->l->observer(inv->l->observer_cookie, inv->fn->name, &res);
	if (inv->done)
		inv->done(inv->cookie, &res);
	lambda_invocation_free(inv);
}

static void on_deferred(evutil_socket_t fd, short what, void *arg)
{
	struct lambda *l = arg;

	(void)fd;
	(void)what;
	while (l->deferred) {
		struct invocation *inv = l->deferred;
		l->deferred = inv->next;
		lambda_invocation_finish(inv, inv->deferred_status, inv->deferred_body, strlen(inv->deferred_body),
				  inv->deferred_type);
	}
}

/* Ends inv from an event callback: results never arrive inside lambda_invoke. */
void lambda_defer_finish(struct invocation *inv, enum invoke_status status, const char *body,
			 const char *error_type)
{
	inv->deferred_status = status;
	inv->deferred_body = body;
	inv->deferred_type = error_type;
	inv->next = inv->l->deferred;
	inv->l->deferred = inv;
	event_active(inv->l->defer_ev, EV_TIMEOUT, 0);
}

/* The remote exchange is over; the client frees itself after this returns. */
static void on_remote_done(void *cookie, enum invoke_status status, const char *body, size_t n,
			   const char *error_type)
{
	struct invocation *inv = cookie;
	const char *version = invoke_client_executed_version(inv->remote);

	/* What the endpoint said ran, and its log: valid while the result is reported. */
	if (version)
		inv->version = version;
	if (inv->log_tail)
		inv->log = invoke_client_log_tail(inv->remote);
	inv->remote_status = invoke_client_http_status(inv->remote);
	inv->remote_delivered = invoke_client_delivered(inv->remote);
	inv->remote = NULL;
	lambda_invocation_finish(inv, status, body, n, error_type);
}

struct invocation *lambda_invoke(struct lambda *l, const struct invoke_request *req, invoke_done_fn done,
				 void *cookie)
{
	return lambda_invoke_as(l, req, NULL, done, cookie);
}

struct invocation *lambda_invoke_as(struct lambda *l, const struct invoke_request *req, const char *request_id,
				    invoke_done_fn done, void *cookie)
{
	struct invocation *inv = xcalloc(1, sizeof(*inv));
	struct pool *p;

	inv->l = l;
	inv->cfg = config_ref(req->cfg);
	inv->fn = req->fn;
	inv->version = resolve_version(req->fn, req->qualifier, l->rng, &inv->settings);
	inv->payload = req->payload;
	inv->len = req->len;
	inv->done = done;
	inv->cookie = cookie;
	inv->log_tail = req->log_tail;
	inv->start_us = time_mono_us();
	if (request_id)
		str_copy(inv->request_id, sizeof(inv->request_id), request_id);
	else
		rng_uuid(l->rng, inv->request_id);
	inv->arn = invoked_arn(req->cfg, req->fn, req->qualifier);
	inv->trace = runtime_trace_id(l->rng, req->trace_id);
	if (req->client_context)
		inv->client_context = xstrdup(req->client_context);
	if (req->fn->endpoint) {
		inv->remote = invoke_client_start(l->base, l->remote, req->cfg->lb.region, req->fn, req->qualifier, req->payload, req->len,
						  req->trace_id, req->client_context, req->log_tail, on_remote_done, inv);
		inv->run_us = inv->start_us;
		return inv;
	}
	p = inv->pool = lambda_pool_get(l, req->fn);
	if (p->queue || !lambda_pool_dispatch(p, inv)) {
		if (p->nqueued >= QUEUE_MAX || lambda_pool_capacity(p) == 0) {
			/* Lambda throttles past its concurrency: ALB answers 502 LambdaThrottling. */
			lambda_defer_finish(inv, INVOKE_THROTTLED,
				     "{\"errorMessage\":\"Rate Exceeded.\",\"errorType\":\"TooManyRequestsException\"}",
				     "TooManyRequestsException");
			return inv;
		}
		inv->queued = true;
		*p->queue_tail = inv;
		p->queue_tail = &inv->next;
		p->nqueued++;
	}
	return inv;
}

const char *lambda_request_id(const struct invocation *inv)
{
	return inv->request_id;
}

void lambda_cancel(struct invocation *inv)
{
	struct pool *p = inv->pool;

	inv->done = NULL;
	if (inv->remote) {
		lambda_invocation_free(inv);
		return;
	}
	if (!inv->queued)
		return;      /* running or about to be reported: freed when it ends */
	for (struct invocation **pp = &p->queue; *pp; pp = &(*pp)->next) {
		if (*pp == inv) {
			*pp = inv->next;
			if (p->queue_tail == &inv->next)
				p->queue_tail = pp;
			break;
		}
	}
	p->nqueued--;
	lambda_invocation_free(inv);
}

void lambda_set_observer(struct lambda *l, invoke_observer_fn fn, void *cookie)
{
	l->observer = fn;
	l->observer_cookie = cookie;
}

/* --- processes ---------------------------------------------------------------------- */

static struct entry *entry_by_pid(struct lambda *l, pid_t pid)
{
	for (struct pool *p = l->pools; p; p = p->next)
		for (struct entry *e = p->entries; e; e = e->next)
			if (sandbox_pid(e->sb) == pid)
				return e;
	return NULL;
}

/* A sandbox's extension process exited. */
static void extension_reaped(struct lambda *l, pid_t pid, int status)
{
	for (struct pool *p = l->pools; p; p = p->next)
		for (struct entry *e = p->entries; e; e = e->next)
			if (sandbox_extension_exited(e->sb, pid, status))
				return;
}

static void on_sigchld(evutil_socket_t fd, short what, void *arg)
{
	struct lambda *l = arg;
	struct rusage ru;
	int status;
	pid_t pid;

	(void)fd;
	(void)what;
	/* wait4: the child's peak memory, which /proc no longer has once it is reaped. */
	while ((pid = wait4(-1, &status, WNOHANG, &ru)) > 0) {
		struct entry *e = entry_by_pid(l, pid);
		if (e)
			sandbox_reaped(e->sb, status, ru.ru_maxrss);
		else
			extension_reaped(l, pid, status);
	}
}

struct lambda *lambda_new(struct event_base *base, struct rng *rng, const char *runtimes_dir)
{
	struct lambda *l = xcalloc(1, sizeof(*l));
	const char *idle = getenv("LB_LAMBDA_IDLE_SECONDS");

	l->base = base;
	l->rng = rng;
	l->runtimes_dir = xstrdup(runtimes_dir);
	l->idle_seconds = idle && atoi(idle) > 0 ? atoi(idle) : IDLE_SECONDS;
	l->sigchld = evsignal_new(base, SIGCHLD, on_sigchld, l);
	event_add(l->sigchld, NULL);
	l->defer_ev = event_new(base, -1, 0, on_deferred, l);
	l->layers = layers_new();
	l->remote = http_client_new(base);
	/* AWS_CA_BUNDLE: the SDKs' variable for a CA file trusted besides the system store. */
	if (getenv("AWS_CA_BUNDLE") && *getenv("AWS_CA_BUNDLE"))
		http_client_set_ca_file(l->remote, getenv("AWS_CA_BUNDLE"));
	l->runtimes = runtimes_new(runtimes_dir);
	l->images = images_new();
	return l;
}

/*
 * A configuration's images are unpacked before lb serves it (blocking, once
 * per image file: an unchanged one costs a stat), so no request waits for it.
 */
static void images_prefetch(struct lambda *l, const struct config *cfg)
{
	for (size_t i = 0; i < cfg->nfunctions; i++) {
		const struct function_cfg *fn = &cfg->functions[i];
		struct lb_err err = { "" };

		for (size_t v = 0; v <= fn->nversions; v++) {
			const struct function_settings *s = v ? &fn->versions[v - 1].settings : &fn->latest;
			if (s->image && !images_get(l->images, s->image, &err))
				log_error("function %s: %s; it fails every invocation", fn->name, err.msg);
		}
	}
}

void lambda_set_config(struct lambda *l, struct config *cfg)
{
	struct config *old = l->cfg;

	/* The first configuration's Node versions are fetched before lb serves (blocking, once). */
	if (!old)
		runtimes_prefetch(l->runtimes, cfg);
	runtimes_resolve(l->runtimes, cfg);   /* probes now: a cold start must not block the loop */
	images_prefetch(l, cfg);
	l->cfg = config_ref(cfg);
	layers_set_config(l->layers, cfg);
	for (struct pool *p = l->pools; p; p = p->next) {
		/* Idle sandboxes of the old configuration stop now, busy ones when done; so do
		 * provisioned ones still initializing, or each reload of a burst would add a set. */
		for (struct entry *e = p->entries; e; e = e->next)
			if (e->state == E_IDLE || (e->state == E_STARTING && !e->inv))
				lambda_pool_entry_stop(e);
	}
	for (size_t i = 0; i < cfg->nfunctions; i++)
		for (size_t v = 0; v < cfg->functions[i].nversions; v++)
			if (config_fn_provisioned(&cfg->functions[i], cfg->functions[i].versions[v].version)) {
				lambda_pool_provision(lambda_pool_get(l, &cfg->functions[i]));
				break;
			}
	config_unref(old);
}

/*
 * Lambda sends SHUTDOWN to extensions before it stops an environment and
 * gives them 2 seconds: lb's exit stops every idle sandbox this way, and
 * the caller keeps the loop running while this says some are stopping.
 */
bool lambda_stop_sandboxes(struct lambda *l)
{
	bool waiting = false;

	l->closing = true;
	for (struct pool *p = l->pools; p; p = p->next)
		for (struct entry *e = p->entries; e; e = e->next) {
			if (!e->inv)
				sandbox_kill(e->sb);
			waiting = waiting || sandbox_stopping(e->sb);
		}
	return waiting;
}

void lambda_free(struct lambda *l)
{
	if (!l)
		return;
	on_deferred(-1, 0, l);
	l->closing = true;
	while (l->pools) {
		struct pool *p = l->pools;
		l->pools = p->next;
		while (p->queue) {
			struct invocation *inv = p->queue;
			p->queue = inv->next;
			lambda_invocation_free(inv);
		}
		while (p->entries) {
			struct entry *e = p->entries;
			pid_t pid = sandbox_pid(e->sb);
			p->entries = e->next;
			if (e->inv)
				lambda_invocation_free(e->inv);
			lambda_pool_entry_release(e);      /* kills the process group */
			if (pid > 0)
				waitpid(pid, NULL, 0);
		}
		free(p->name);
		free(p);
	}
	event_free(l->sigchld);
	event_free(l->defer_ev);
	layers_free(l->layers);            /* after every sandbox is gone */
	http_client_free(l->remote);
	config_unref(l->cfg);
	runtimes_free(l->runtimes);
	images_free(l->images);
	free(l->runtimes_dir);
	free(l);
}

char *lambda_find_runtimes(const char *exe_path)
{
	const char *env = getenv("LB_RUNTIMES_DIR");
	char dir[PATH_MAX], probe[PATH_MAX + 64];

	if (env)
		return xstrdup(env);
	if (!realpath(exe_path, dir))
		snprintf(dir, sizeof(dir), "%s", exe_path);
	/* ./lb at the top of the repository, or build/asan/lb two levels down. */
	for (int up = 0; up < 4; up++) {
		char *slash = strrchr(dir, '/');
		if (!slash)
			break;
		*slash = '\0';
		snprintf(probe, sizeof(probe), "%s/runtimes/node/bootstrap.mjs", dir);
		if (access(probe, R_OK) == 0) {
			snprintf(probe, sizeof(probe), "%s/runtimes", dir);
			return xstrdup(probe);
		}
	}
	return xstrdup("runtimes");
}
