/*
 * lambda_pool: each function's pool of sandboxes, and the invocations it
 * dispatches to them (the policy is described in lambda.c).
 *
 * An entry is one sandbox of a pool: started for an invocation or ahead of
 * demand (provisioned concurrency), reused while warm, stopped when idle too
 * long, when its configuration is replaced or to make room for another
 * version. Its sandbox's callbacks keep the entry's state and pump the pool's
 * queue whenever a sandbox becomes idle or goes away. An entry is freed only
 * after its process has been reaped, never from inside one of its own
 * callbacks.
 */
#include "lambda/lambda_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "base/log.h"
#include "lambda/image.h"
#include "lambda/layer_fs.h"
#include "lambda/layers.h"
#include "lambda/spawn.h"

static void pool_pump(struct pool *p);

/* --- sandboxes --------------------------------------------------------------------- */

static void on_idle_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct entry *e = arg;

	(void)fd;
	(void)what;
	if (e->state == E_IDLE)
		lambda_pool_entry_stop(e);
}

void lambda_pool_entry_stop(struct entry *e)
{
	if (e->state == E_DEAD)
		return;
	e->state = E_DEAD;
	e->pool->nlive--;
	event_del(e->idle_timer);
	sandbox_kill(e->sb);
}

static void entry_run(struct entry *e, struct invocation *inv)
{
	struct sandbox_invocation si = {
		.request_id = inv->request_id,
		.function_arn = inv->arn,
		.trace_id = inv->trace,
		.client_context = inv->client_context,
		.payload = inv->payload,
		.payload_len = inv->len,
		.timeout = inv->settings->timeout,
		.capture_log = inv->log_tail,
	};

	event_del(e->idle_timer);
	e->inv = inv;
	inv->run_us = time_mono_us();
	if (e->state == E_IDLE || e->state == E_FINISHING)
		e->state = E_BUSY;
	sandbox_invoke(e->sb, &si);
}

static void sb_on_idle(void *cookie, struct sandbox *sb)
{
	struct entry *e = cookie;
	struct timeval tv = { e->pool->l->idle_seconds, 0 };

	(void)sb;
	if (e->state == E_DEAD)
		return;
	/* A sandbox started under an older configuration is retired. */
	if (e->cfg != e->pool->l->cfg) {
		lambda_pool_entry_stop(e);
		return;
	}
	e->state = E_IDLE;
	e->was_ready = true;
	/* Provisioned environments stay initialized until the configuration changes. */
	if (!e->provisioned)
		event_add(e->idle_timer, &tv);
	pool_pump(e->pool);
}

static void sb_on_done(void *cookie, struct sandbox *sb, enum invoke_status status, const char *body, size_t n,
		       const char *error_type)
{
	struct entry *e = cookie;
	struct invocation *inv = e->inv;

	e->inv = NULL;
	if (inv && inv->log_tail && status != INVOKE_NOT_DELIVERED)
		inv->log = sandbox_log_tail(sb);    /* valid while the result is reported */
	if (status == INVOKE_NOT_DELIVERED && inv && !inv->done) {
		lambda_invocation_free(inv);   /* cancelled meanwhile */
		inv = NULL;
	} else if (status == INVOKE_NOT_DELIVERED && inv) {
		/* Back to the head of the queue; on_exit pumps it to another sandbox. */
		inv->queued = true;
		inv->next = e->pool->queue;
		if (!e->pool->queue)
			e->pool->queue_tail = &inv->next;
		e->pool->queue = inv;
		e->pool->nqueued++;
		inv = NULL;
	}
	if (status == INVOKE_TIMEOUT || status == INVOKE_INIT_ERROR || status == INVOKE_EXIT ||
	    status == INVOKE_NOT_DELIVERED) {
		/* The sandbox is being killed or has died: never reuse it. */
		if (e->state != E_DEAD) {
			e->state = E_DEAD;
			e->pool->nlive--;
		}
	} else if (e->state != E_DEAD) {
		e->state = E_FINISHING;
	}
	if (inv)
		lambda_invocation_finish(inv, status, body, n, error_type);
}

/* Frees what an entry holds (its sandbox's process is gone or being killed). */
void lambda_pool_entry_release(struct entry *e)
{
	sandbox_free(e->sb);
	event_free(e->idle_timer);
	layers_release(e->layers);
	if (layer_fs_remove(e->tmpdir) < 0)
		log_warn("function %s: cannot remove %s: %s", e->pool->name, e->tmpdir, strerror(errno));
	free(e->tmpdir);
	config_unref(e->cfg);
	free(e);
}

static void sb_on_exit(void *cookie, struct sandbox *sb)
{
	struct entry *e = cookie;
	struct pool *p = e->pool;
	/* Lambda replaces a provisioned environment that dies (one that never
	 * initialized is not retried in a loop: on-demand ones take over); any other
	 * exit frees room that provisioning may have lacked (sandboxes of an older
	 * configuration still counted when a reload provisioned). */
	bool provision = !(e->provisioned && !e->was_ready && e->cfg == p->l->cfg);

	(void)sb;
	if (e->state != E_DEAD)
		p->nlive--;
	if (e->prev)
		e->prev->next = e->next;
	else
		p->entries = e->next;
	if (e->next)
		e->next->prev = e->prev;
	lambda_pool_entry_release(e);
	if (p->l->closing)
		return;   /* lb is exiting (shutdown_extensions) */
	if (provision)
		lambda_pool_provision(p);
	pool_pump(p);
}

static const struct sandbox_cbs sb_cbs = {
	.on_idle = sb_on_idle,
	.on_done = sb_on_done,
	.on_exit = sb_on_exit,
};

static struct entry *entry_start(struct pool *p, const struct start_ctx *c)
{
	struct lambda *l = p->l;
	struct strvec argv = { 0 }, env = { 0 };
	char log_name[160];
	struct lb_err err = { "" };
	struct entry *e = xcalloc(1, sizeof(*e));
	struct sandbox_spec spec;
	struct layer_dir *unpacked = NULL;
	const char *opt = NULL, *task = c->settings->code;
	const struct image *img = NULL;
	char ext_dir[4096];

	/* Lambda unpacks the version's .zip code into /var/task and its layers
	 * into /opt before its runtime starts; a failure is one line here. */
	if (layers_unpacks(c->settings)) {
		if (!(unpacked = layers_acquire(l->layers, c->cfg, p->name, c->version, c->settings,
						&err))) {
			log_error("function %s: %s", p->name, err.msg);
			free(e);
			return NULL;
		}
		opt = layer_dir_path(unpacked);
		if (layer_dir_task(unpacked))
			task = layer_dir_task(unpacked);
	}
	/* Lambda starts the executables in /opt/extensions beside the runtime. */
	snprintf(ext_dir, sizeof(ext_dir), "%s/extensions", opt ? opt : "");
	if (!(e->tmpdir = lambda_env_tmpdir(&err))) {
		log_error("function %s: %s", p->name, err.msg);
		layers_release(unpacked);
		free(e);
		return NULL;
	}
	if (c->settings->image ? lambda_env_image_argv(l, c->settings, e->tmpdir, &img, &argv, &err) < 0 :
	    lambda_env_argv(l, p->name, c->settings, task, opt, &argv, &err) < 0) {
		if (c->settings->image)
			log_error("function %s: %s", p->name, err.msg);
		else
			log_error("%s", err.msg);
		layers_release(unpacked);
		layer_fs_remove(e->tmpdir);
		free(e->tmpdir);
		free(e);
		return NULL;
	}
	lambda_env_build(l, c, task, opt, e->tmpdir, img, &env);
	if (c->settings->runtime && strncmp(c->settings->runtime, "nodejs", 6) == 0)
		lambda_env_bin_first(argv.v[0], c->settings, &env);
	if (strcmp(c->version, "$LATEST") == 0)
		snprintf(log_name, sizeof(log_name), "%s", p->name);
	else
		snprintf(log_name, sizeof(log_name), "%s:%s", p->name, c->version);
	spec = (struct sandbox_spec){ .argv = (const char *const *)argv.v, .envp = (const char *const *)env.v,
				      .cwd = img ? img->root : task, .log_name = log_name, .version = c->version,
				      .memory_size = c->settings->memory_size, .provisioned = c->provisioned,
				      .extensions_dir = opt ? ext_dir : NULL,
				      .function_name = p->name, .handler = c->settings->handler,
				      .account_id = c->cfg->lb.account_id,
				      .json_logs = c->settings->logging.json,
				      .system_level = c->settings->logging.system_level };
	/* Lambda's /var/task and /opt are read-only (an image's root already is). */
	if (!img) {
		spec.read_only[0] = task;
		spec.read_only[1] = opt;
		if (spawn_path_within(e->tmpdir, task) || (opt && spawn_path_within(e->tmpdir, opt)))
			spec.writable = e->tmpdir;
	}
	e->sb = sandbox_start(l->base, &spec, &sb_cbs, e, &err);
	lambda_env_release(&argv);
	lambda_env_release(&env);
	if (!e->sb) {
		log_error("function %s: %s", p->name, err.msg);
		layers_release(unpacked);
		layer_fs_remove(e->tmpdir);
		free(e->tmpdir);
		free(e);
		return NULL;
	}
	e->layers = unpacked;
	e->pool = p;
	e->cfg = config_ref(c->cfg);
	e->settings = c->settings;
	e->version = c->version;
	e->provisioned = c->provisioned;
	e->state = E_STARTING;
	e->idle_timer = evtimer_new(l->base, on_idle_timeout, e);
	e->next = p->entries;
	if (p->entries)
		p->entries->prev = e;
	p->entries = e;
	p->nlive++;
	return e;
}

/* --- scheduling ------------------------------------------------------------------ */

/* The function's concurrency under the current configuration (0 once removed). */
size_t lambda_pool_capacity(const struct pool *p)
{
	const struct function_cfg *fn = config_function(p->l->cfg, p->name);
	int rc = fn ? fn->reserved_concurrency : 0;

	return rc >= 0 ? (size_t)rc : CONFIG_FN_DEFAULT_CONCURRENCY;
}

/*
 * A sandbox for this version and configuration that can take an invocation
 * now: an idle one, else one finishing its last invocation (its runtime asks
 * for the next within moments), else a provisioned one still initializing —
 * each beats a cold start.
 */
static struct entry *find_warm(struct pool *p, const char *version, const struct config *cfg)
{
	struct entry *finishing = NULL, *starting = NULL;

	for (struct entry *e = p->entries; e; e = e->next) {
		if (e->cfg != cfg || strcmp(e->version, version) != 0)
			continue;
		if (e->state == E_IDLE)
			return e;
		if (e->state == E_FINISHING && !finishing)
			finishing = e;
		if (e->state == E_STARTING && !e->inv && !starting)
			starting = e;
	}
	return finishing ? finishing : starting;
}

static struct entry *find_idle_other(struct pool *p)
{
	for (struct entry *e = p->entries; e; e = e->next)
		if (e->state == E_IDLE)
			return e;
	return NULL;
}

/* Runs inv now if the pool can; false when it must wait. */
bool lambda_pool_dispatch(struct pool *p, struct invocation *inv)
{
	struct entry *e = find_warm(p, inv->version, inv->cfg), *other;

	if (e) {
		entry_run(e, inv);
		return true;
	}
	if (p->nlive >= lambda_pool_capacity(p) && (other = find_idle_other(p)) != NULL)
		lambda_pool_entry_stop(other);    /* make room for this version */
	if (p->nlive < lambda_pool_capacity(p)) {
		struct start_ctx c = { inv->cfg, inv->fn, inv->settings, inv->version, false };

		e = entry_start(p, &c);
		if (!e) {
			lambda_defer_finish(inv, INVOKE_INIT_ERROR,
				     "{\"errorMessage\":\"the runtime could not be started\","
				     "\"errorType\":\"Runtime.InvalidEntrypoint\"}",
				     "Runtime.InvalidEntrypoint");
			return true;
		}
		inv->cold = true;
		entry_run(e, inv);
		return true;
	}
	return false;
}

static void pool_pump(struct pool *p)
{
	while (p->queue) {
		struct invocation *inv = p->queue;
		p->queue = inv->next;
		if (!p->queue)
			p->queue_tail = &p->queue;
		p->nqueued--;
		inv->queued = false;
		if (!lambda_pool_dispatch(p, inv)) {
			/* Put it back at the head and wait for the next change. */
			inv->queued = true;
			inv->next = p->queue;
			if (!p->queue)
				p->queue_tail = &inv->next;
			p->queue = inv;
			p->nqueued++;
			return;
		}
	}
}

/*
 * Starts the sandboxes provisioned concurrency asks for under the current
 * configuration, as Lambda initializes them ahead of demand
 * (AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency), within the
 * function's concurrency.
 */
void lambda_pool_provision(struct pool *p)
{
	struct lambda *l = p->l;
	const struct function_cfg *fn = config_function(l->cfg, p->name);

	for (size_t i = 0; fn && i < fn->nversions; i++) {
		struct start_ctx c = { l->cfg, fn, &fn->versions[i].settings, fn->versions[i].version, true };
		int want = config_fn_provisioned(fn, c.version);

		for (struct entry *e = p->entries; e; e = e->next)
			if (e->provisioned && e->state != E_DEAD && e->cfg == l->cfg &&
			    strcmp(e->version, c.version) == 0)
				want--;
		while (want-- > 0 && p->nlive < lambda_pool_capacity(p) && entry_start(p, &c))
			;
	}
}

struct pool *lambda_pool_get(struct lambda *l, const struct function_cfg *fn)
{
	struct pool *p;

	for (p = l->pools; p; p = p->next)
		if (strcmp(p->name, fn->name) == 0)
			return p;
	p = xcalloc(1, sizeof(*p));
	p->l = l;
	p->name = xstrdup(fn->name);
	p->queue_tail = &p->queue;
	p->next = l->pools;
	l->pools = p;
	return p;
}

void lambda_pool_stats(const struct lambda *l, const char *function, struct lambda_pool_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (const struct pool *p = l->pools; p; p = p->next) {
		if (strcmp(p->name, function) != 0)
			continue;
		out->queued = p->nqueued;
		for (const struct entry *e = p->entries; e; e = e->next) {
			if (e->state == E_STARTING)
				out->starting++;
			else if (e->state == E_IDLE)
				out->idle++;
			else if (e->state == E_BUSY || e->state == E_FINISHING)
				out->busy++;
		}
	}
}
