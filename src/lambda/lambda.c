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
 * whose settings they use; an entry of a function with layers also holds its
 * version's merged layer directory (layers.c), built at its cold start. A
 * sandbox is freed only after its process has been reaped (SIGCHLD), never
 * from inside one of its own callbacks. Results are delivered from event
 * callbacks, never from inside lambda_invoke.
 */
#include "lambda/lambda.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/buf.h"
#include "lambda/image.h"
#include "lambda/invoke_client.h"
#include "lambda/layer_fs.h"
#include "lambda/layers.h"
#include "lambda/runtime_fetch.h"
#include "base/log.h"
#include "net/http_client.h"

/* Invocations that may wait for a sandbox, per function, before throttling. */
#define QUEUE_MAX 100
/* A warm sandbox unused this long is stopped (LB_LAMBDA_IDLE_SECONDS overrides). */
#define IDLE_SECONDS 600

/* FINISHING: its invocation is over and its runtime has not asked for the next yet. */
enum entry_state { E_STARTING, E_IDLE, E_BUSY, E_FINISHING, E_DEAD };

struct entry {
	struct pool *pool;
	struct entry *prev, *next;
	struct sandbox *sb;
	struct config *cfg;
	const struct function_settings *settings;
	const char *version;
	enum entry_state state;
	struct invocation *inv;
	struct event *idle_timer;
	struct layer_dir *layers;        /* its merged layers (/opt), or NULL */
	char *tmpdir;                    /* its private /tmp (TMPDIR), removed with it */
	bool provisioned;                /* provisioned concurrency: started ahead, never idles out */
	bool was_ready;                  /* its runtime initialized */
};

/* What a sandbox runs: a version of a function under a configuration. */
struct start_ctx {
	struct config *cfg;
	const struct function_cfg *fn;
	const struct function_settings *settings;
	const char *version;
	bool provisioned;
};

struct pool {
	struct lambda *l;
	struct pool *next;
	char *name;
	struct entry *entries;
	size_t nlive;                    /* entries not yet dead */
	struct invocation *queue, **queue_tail;
	size_t nqueued;
};

struct invocation {
	struct lambda *l;
	struct pool *pool;
	struct invocation *next;         /* queue or deferred list */
	struct config *cfg;
	const struct function_cfg *fn;
	const struct function_settings *settings;
	const char *version;
	const char *payload;
	size_t len;
	char request_id[37];
	char *arn, *trace;
	invoke_done_fn done;
	void *cookie;
	struct invoke_client *remote;
	bool log_tail;
	struct sv log;                   /* the sandbox's log tail, during invocation_finish */
	int remote_status;
	enum invoke_status deferred_status;
	const char *deferred_body;
	const char *deferred_type;
	bool queued;
	bool cold;                       /* started a sandbox */
	int64_t start_us, run_us;        /* monotonic: lambda_invoke, delivery to a sandbox */
};

struct lambda {
	struct event_base *base;
	struct rng *rng;
	char *runtimes_dir;
	struct config *cfg;
	struct pool *pools;
	struct event *sigchld;
	struct event *defer_ev;
	struct invocation *deferred;
	int idle_seconds;
	bool closing;                  /* lb is exiting: start nothing */
	struct layers *layers;
	struct http_client *remote;    /* Invoke API calls of endpoint functions: pooled, TLS sessions kept */
	invoke_observer_fn observer;
	void *observer_cookie;
	struct runtimes *runtimes;       /* which node or python runs each runtime */
	struct images *images;           /* unpacked container images (image.h) */
};

static void pool_pump(struct pool *p);
static void pool_provision(struct pool *p);
static void entry_stop(struct entry *e);

/* --- helpers ------------------------------------------------------------------ */

static void request_id_new(struct rng *rng, char out[37])
{
	uint8_t b[16];
	char hex[33];

	rng_bytes(rng, b, sizeof(b));
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);  /* UUID version 4, as Lambda's request ids */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	hex_encode(b, sizeof(b), hex);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

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
	char arn[512];

	snprintf(arn, sizeof(arn), "arn:aws:lambda:%s:%s:function:%s%s%s", cfg->lb.region, cfg->lb.account_id,
		 fn->name, qualifier ? ":" : "", qualifier ? qualifier : "");
	return xstrdup(arn);
}

/* "Root=...;Parent=<16 hex>;Sampled=0" from the X-Amzn-Trace-Id toward the target. */
static char *runtime_trace_id(struct rng *rng, const char *trace)
{
	const char *root = strstr(trace, "Root=");
	char out[160], parent[17];
	uint8_t b[8];
	size_t n;

	rng_bytes(rng, b, sizeof(b));
	hex_encode(b, sizeof(b), parent);
	root = root ? root + 5 : "";
	n = strcspn(root, ";");
	snprintf(out, sizeof(out), "Root=%.*s;Parent=%s;Sampled=0", (int)(n < 64 ? n : 64), root, parent);
	return xstrdup(out);
}

static void invocation_free(struct invocation *inv)
{
	invoke_client_free(inv->remote);
	config_unref(inv->cfg);
	free(inv->arn);
	free(inv->trace);
	free(inv);
}

/* Reports the result to the caller (unless cancelled) and frees inv. */
static void invocation_finish(struct invocation *inv, enum invoke_status status, const char *body, size_t n,
			      const char *error_type)
{
	struct invoke_result res = { status, body, n, error_type, inv->version, inv->request_id,
				     inv->log.p ? inv->log.p : "", inv->log.n, inv->remote_status, inv->cold,
				     inv->run_us ? inv->run_us - inv->start_us : 0,
				     inv->run_us ? time_mono_us() - inv->run_us : 0 };

	if (inv->l->observer)
		inv->l->observer(inv->l->observer_cookie, inv->fn->name, &res);
	if (inv->done)
		inv->done(inv->cookie, &res);
	invocation_free(inv);
}

static void on_deferred(evutil_socket_t fd, short what, void *arg)
{
	struct lambda *l = arg;

	(void)fd;
	(void)what;
	while (l->deferred) {
		struct invocation *inv = l->deferred;
		l->deferred = inv->next;
		invocation_finish(inv, inv->deferred_status, inv->deferred_body, strlen(inv->deferred_body),
				  inv->deferred_type);
	}
}

/* Ends inv from an event callback: results never arrive inside lambda_invoke. */
static void defer_finish(struct invocation *inv, enum invoke_status status, const char *body,
			 const char *error_type)
{
	inv->deferred_status = status;
	inv->deferred_body = body;
	inv->deferred_type = error_type;
	inv->next = inv->l->deferred;
	inv->l->deferred = inv;
	event_active(inv->l->defer_ev, EV_TIMEOUT, 0);
}

/* --- sandboxes --------------------------------------------------------------------- */

static void on_idle_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct entry *e = arg;

	(void)fd;
	(void)what;
	if (e->state == E_IDLE)
		entry_stop(e);
}

static void entry_stop(struct entry *e)
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
		entry_stop(e);
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
		invocation_free(inv);   /* cancelled meanwhile */
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
		invocation_finish(inv, status, body, n, error_type);
}

/* Frees what an entry holds (its sandbox's process is gone or being killed). */
static void entry_release(struct entry *e)
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
	 * initialized is not retried in a loop: on-demand ones take over). */
	bool replace = e->provisioned && e->was_ready && e->cfg == p->l->cfg && !p->l->closing;

	(void)sb;
	if (e->state != E_DEAD)
		p->nlive--;
	if (e->prev)
		e->prev->next = e->next;
	else
		p->entries = e->next;
	if (e->next)
		e->next->prev = e->prev;
	entry_release(e);
	if (p->l->closing)
		return;   /* lb is exiting (shutdown_extensions) */
	if (replace)
		pool_provision(p);
	pool_pump(p);
}

static const struct sandbox_cbs sb_cbs = {
	.on_idle = sb_on_idle,
	.on_done = sb_on_done,
	.on_exit = sb_on_exit,
};

/* --- process environment -------------------------------------------------------- */

struct strvec {
	char **v;
	size_t n, cap;
};

static void strvec_push(struct strvec *sv, char *s)
{
	xgrow(&sv->v, &sv->cap, sv->n + 2, sizeof(*sv->v));
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

static void strvec_pushf(struct strvec *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void strvec_pushf(struct strvec *sv, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	strvec_push(sv, buf_detach(&b, NULL));
}

static void strvec_release(struct strvec *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
}

static bool has_bootstrap(const char *dir)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/bootstrap", dir);
	return access(path, F_OK) == 0;
}

/*
 * The command that runs a function's runtime; opt: its merged layers, or NULL.
 * -1 with err when the interpreter its runtime version needs is missing.
 */
static int build_argv(const struct lambda *l, const char *fn_name, const struct function_settings *s,
		      const char *opt, struct strvec *argv, struct lb_err *err)
{
	/* Lambda runs nodejsNN.x on Node NN and python3.N on Python 3.N (runtime_fetch.h). */
	const char *prog = runtimes_interpreter(l->runtimes, s->runtime, fn_name, err);

	if (!prog)
		return -1;
	if (strncmp(s->runtime, "nodejs", 6) == 0) {
		strvec_pushf(argv, "%s", prog);
		strvec_pushf(argv, "%s/node/bootstrap.mjs", l->runtimes_dir);
	} else if (strncmp(s->runtime, "python", 6) == 0) {
		strvec_pushf(argv, "%s", prog);
		strvec_pushf(argv, "-u");
		strvec_pushf(argv, "%s/python/bootstrap.py", l->runtimes_dir);
	} else if (s->ncommand) {
		for (size_t i = 0; i < s->ncommand; i++)
			strvec_pushf(argv, "%s", s->command[i]);
	} else if (opt && !has_bootstrap(s->code) && has_bootstrap(opt)) {
		/* Lambda's next choice is /opt/bootstrap: a custom runtime from a layer. */
		strvec_pushf(argv, "%s/bootstrap", opt);
	} else {
		/* provided.* without a command runs code/bootstrap, as Lambda does. */
		strvec_pushf(argv, "%s/bootstrap", s->code);
	}
	return 0;
}

/*
 * An image function's command: its entrypoint and command (or ImageConfig's)
 * run isolated in the unpacked image, in ImageConfig's working directory,
 * else the image's WORKDIR, else "/" (image.h). *img is borrowed.
 */
static int build_image_argv(struct lambda *l, const struct function_settings *s, const char *tmpdir,
			    const struct image **img, struct strvec *argv, struct lb_err *err)
{
	const struct image_config *ic = &s->image_config;
	const char *workdir;
	char **run, **full;

	if (!(*img = images_get(l->images, s->image, err)))
		return -1;
	run = oci_run_argv(&(*img)->cfg, ic->entry_point, ic->nentry_point, ic->command, ic->ncommand);
	if (!run)
		return lb_err_set(err, "image '%s' has no ENTRYPOINT or CMD (set image_config's command)",
				  s->image);
	workdir = ic->working_directory ? ic->working_directory : (*img)->cfg.workdir ? (*img)->cfg.workdir : "/";
	full = image_argv(*img, run, workdir, tmpdir, err);
	oci_argv_free(run);
	if (!full)
		return -1;
	for (size_t i = 0; full[i]; i++)
		strvec_push(argv, full[i]);
	free(full);
	return 0;
}

/* Whether the function's own variables set the first len bytes of name. */
static bool function_sets(const struct function_settings *s, const char *name, size_t len)
{
	for (size_t i = 0; i < s->nenv; i++)
		if (strlen(s->env[i].name) == len && memcmp(s->env[i].name, name, len) == 0)
			return true;
	return false;
}

/* Whether env already sets the variable of "NAME=value" var. */
static bool env_has(const struct strvec *env, const char *var)
{
	size_t n = strcspn(var, "=");

	for (size_t i = 0; i < env->n; i++)
		if (strncmp(env->v[i], var, n) == 0 && env->v[i][n] == '=')
			return true;
	return false;
}

/* An image's value of NAME, or NULL. */
static const char *image_env_get(const struct image *img, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < img->cfg.nenv; i++)
		if (strncmp(img->cfg.env[i], name, n) == 0 && img->cfg.env[i][n] == '=')
			return img->cfg.env[i] + n + 1;
	return NULL;
}

/*
 * An image function's _HANDLER and LAMBDA_TASK_ROOT. An image has no handler
 * setting: in AWS's base images the command's first word is the handler the
 * runtime client gets, so lb's choice is that word; LAMBDA_TASK_ROOT is the
 * image's, else /var/task, where Lambda's images keep the function.
 */
static void image_env_task(const struct image *img, const struct image_config *ic, struct strvec *env)
{
	const char *root = image_env_get(img, "LAMBDA_TASK_ROOT");
	const char *handler = ic->ncommand ? ic->command[0] : img->cfg.ncmd ? img->cfg.cmd[0] : "";

	strvec_pushf(env, "_HANDLER=%s", handler);
	strvec_pushf(env, "LAMBDA_TASK_ROOT=%s", root ? root : "/var/task");
}

/*
 * The image's Env after Lambda's variables and the function's: those win,
 * as on Lambda, where the function's configuration overrides the image's
 * ENV. PATH is Docker's default when nobody sets it.
 */
static void image_env_rest(const struct image *img, struct strvec *env)
{
	for (size_t i = 0; i < img->cfg.nenv; i++)
		if (strchr(img->cfg.env[i], '=') && !env_has(env, img->cfg.env[i]))
			strvec_pushf(env, "%s", img->cfg.env[i]);
	if (!env_has(env, "PATH="))
		strvec_pushf(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
}

/*
 * Lambda's environment (lambda-runtime-api.md §2.5) plus the function's
 * variables; opt: its merged layers, or NULL (then nothing about layers).
 * A variable the function sets itself replaces lb's value, as a configured
 * PATH or NODE_PATH replaces Lambda's default.
 */
static void build_env(struct lambda *l, const struct start_ctx *c, const char *opt, const char *tmpdir,
		      const struct image *img, struct strvec *env)
{
	const struct config *cfg = c->cfg;
	const struct function_cfg *fn = c->fn;
	const struct function_settings *s = c->settings;
	const char *version = c->version;
	uint8_t id[16];
	char hex[33], day[28], *layer_env[LAYERS_ENV_MAX];
	size_t nlayer = opt ? layers_env(opt, s->runtime, getenv("PATH"), getenv("LD_LIBRARY_PATH"),
					 layer_env) : 0;
	static const char *const inherited[] = { "PATH", "HOME", "LANG", "LD_LIBRARY_PATH", "TMPDIR",
						 "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
						 "AWS_SESSION_TOKEN" };

	for (size_t i = 0; i < ARRAY_LEN(inherited); i++) {
		const char *v = getenv(inherited[i]);
		bool by_layers = opt && (strcmp(inherited[i], "PATH") == 0 ||
					 strcmp(inherited[i], "LD_LIBRARY_PATH") == 0);
		/* An image brings its own PATH, HOME, ...: only the credentials come from lb. */
		bool host_only = img && strncmp(inherited[i], "AWS_", 4) != 0;
		if (v && !by_layers && !host_only && strcmp(inherited[i], "TMPDIR") != 0 &&
		    !function_sets(s, inherited[i], strlen(inherited[i])))
			strvec_pushf(env, "%s=%s", inherited[i], v);
	}
	/* Each Lambda environment has its own /tmp (ephemeral storage); an image's is /tmp itself. */
	if (!img && !function_sets(s, "TMPDIR", 6))
		strvec_pushf(env, "TMPDIR=%s", tmpdir);
	for (size_t i = 0; i < nlayer; i++) {
		if (function_sets(s, layer_env[i], strcspn(layer_env[i], "=")))
			free(layer_env[i]);
		else
			strvec_push(env, layer_env[i]);
	}
	if (img)
		image_env_task(img, &s->image_config, env);
	else {
		strvec_pushf(env, "_HANDLER=%s", s->handler ? s->handler : "");
		strvec_pushf(env, "LAMBDA_TASK_ROOT=%s", s->code);
	}
	strvec_pushf(env, "AWS_LAMBDA_FUNCTION_NAME=%s", fn->name);
	strvec_pushf(env, "AWS_LAMBDA_FUNCTION_VERSION=%s", version);
	strvec_pushf(env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=%d", s->memory_size);
	strvec_pushf(env, "AWS_REGION=%s", cfg->lb.region);
	strvec_pushf(env, "AWS_DEFAULT_REGION=%s", cfg->lb.region);
	if (s->logging.log_group)
		strvec_pushf(env, "AWS_LAMBDA_LOG_GROUP_NAME=%s", s->logging.log_group);
	else
		strvec_pushf(env, "AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/%s", fn->name);
	/* Lambda tells the runtime its LoggingConfig; its managed runtimes format and filter by it. */
	strvec_pushf(env, "AWS_LAMBDA_LOG_FORMAT=%s", s->logging.json ? "JSON" : "Text");
	if (s->logging.app_level)
		strvec_pushf(env, "AWS_LAMBDA_LOG_LEVEL=%s", s->logging.app_level);
	/* One log stream per execution environment, named as Lambda names them. */
	rng_bytes(l->rng, id, sizeof(id));
	hex_encode(id, sizeof(id), hex);
	time_iso8601_us(time_wall_us(), day);
	strvec_pushf(env, "AWS_LAMBDA_LOG_STREAM_NAME=%.4s/%.2s/%.2s/[%s]%s", day, day + 5, day + 8, version, hex);
	/* Lambda sets AWS_EXECUTION_ENV for its managed runtimes, not for OS-only ones. */
	if (s->runtime && strncmp(s->runtime, "provided", 8) != 0)
		strvec_pushf(env, "AWS_EXECUTION_ENV=AWS_Lambda_%s", s->runtime);
	strvec_pushf(env, "AWS_LAMBDA_INITIALIZATION_TYPE=%s",
		     c->provisioned ? "provisioned-concurrency" : "on-demand");
	strvec_pushf(env, "TZ=:UTC");
	for (size_t i = 0; i < s->nenv; i++)
		strvec_pushf(env, "%s=%s", s->env[i].name, s->env[i].value);
	if (img)
		image_env_rest(img, env);
}

/*
 * A Node run from lb's cache also comes first on PATH, as Lambda's runtime's own
 * bin directory (/var/lang/bin) does: a function that starts `node` gets its own
 * version. Nothing changes when the function sets PATH itself.
 */
static void runtime_bin_first(const char *prog, const struct function_settings *s, struct strvec *env)
{
	const char *slash = strrchr(prog, '/');

	if (prog[0] != '/' || !slash || function_sets(s, "PATH", 4))
		return;
	for (size_t i = 0; i < env->n; i++) {
		if (strncmp(env->v[i], "PATH=", 5) == 0) {
			struct buf b = BUF_INIT;

			buf_printf(&b, "PATH=%.*s:%s", (int)(slash - prog), prog, env->v[i] + 5);
			free(env->v[i]);
			env->v[i] = buf_detach(&b, NULL);
			return;
		}
	}
}

/* A private directory for the sandbox's /tmp, under lb's TMPDIR; NULL with err. */
static char *tmpdir_new(struct lb_err *err)
{
	const char *base = getenv("TMPDIR");
	char dir[PATH_MAX];

	if (!base || !*base)
		base = "/tmp";
	snprintf(dir, sizeof(dir), "%s/lb-tmp-XXXXXX", base);
	if (!mkdtemp(dir)) {
		lb_err_set(err, "cannot create a /tmp for it in %s: %s", base, strerror(errno));
		return NULL;
	}
	return xstrdup(dir);
}

static struct entry *entry_start(struct pool *p, const struct start_ctx *c)
{
	struct lambda *l = p->l;
	struct strvec argv = { 0 }, env = { 0 };
	char log_name[160];
	struct lb_err err = { "" };
	struct entry *e = xcalloc(1, sizeof(*e));
	struct sandbox_spec spec;
	struct layer_dir *opt = NULL;
	const struct image *img = NULL;
	char ext_dir[4096];

	/* Lambda unpacks the version's layers into /opt before its runtime starts. */
	if (c->settings->nlayers &&
	    !(opt = layers_acquire(l->layers, c->cfg, p->name, c->version, c->settings, &err))) {
		log_error("function %s: %s", p->name, err.msg);
		free(e);
		return NULL;
	}
	/* Lambda starts the executables in /opt/extensions beside the runtime. */
	snprintf(ext_dir, sizeof(ext_dir), "%s/extensions", opt ? layer_dir_path(opt) : "");
	if (!(e->tmpdir = tmpdir_new(&err))) {
		log_error("function %s: %s", p->name, err.msg);
		layers_release(opt);
		free(e);
		return NULL;
	}
	if (c->settings->image ? build_image_argv(l, c->settings, e->tmpdir, &img, &argv, &err) < 0 :
	    build_argv(l, p->name, c->settings, opt ? layer_dir_path(opt) : NULL, &argv, &err) < 0) {
		if (c->settings->image)
			log_error("function %s: %s", p->name, err.msg);
		else
			log_error("%s", err.msg);
		layers_release(opt);
		layer_fs_remove(e->tmpdir);
		free(e->tmpdir);
		free(e);
		return NULL;
	}
	build_env(l, c, opt ? layer_dir_path(opt) : NULL, e->tmpdir, img, &env);
	if (c->settings->runtime && strncmp(c->settings->runtime, "nodejs", 6) == 0)
		runtime_bin_first(argv.v[0], c->settings, &env);
	if (strcmp(c->version, "$LATEST") == 0)
		snprintf(log_name, sizeof(log_name), "%s", p->name);
	else
		snprintf(log_name, sizeof(log_name), "%s:%s", p->name, c->version);
	spec = (struct sandbox_spec){ (const char *const *)argv.v, (const char *const *)env.v,
				      img ? img->root : c->settings->code, log_name, c->version, c->settings->memory_size,
				      c->provisioned, .extensions_dir = opt ? ext_dir : NULL,
				      .function_name = p->name, .handler = c->settings->handler,
				      .account_id = c->cfg->lb.account_id,
				      .json_logs = c->settings->logging.json,
				      .system_level = c->settings->logging.system_level };
	e->sb = sandbox_start(l->base, &spec, &sb_cbs, e, &err);
	strvec_release(&argv);
	strvec_release(&env);
	if (!e->sb) {
		log_error("function %s: %s", p->name, err.msg);
		layers_release(opt);
		layer_fs_remove(e->tmpdir);
		free(e->tmpdir);
		free(e);
		return NULL;
	}
	e->layers = opt;
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
static size_t pool_capacity(const struct pool *p)
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
static bool try_dispatch(struct pool *p, struct invocation *inv)
{
	struct entry *e = find_warm(p, inv->version, inv->cfg), *other;

	if (e) {
		entry_run(e, inv);
		return true;
	}
	if (p->nlive >= pool_capacity(p) && (other = find_idle_other(p)) != NULL)
		entry_stop(other);    /* make room for this version */
	if (p->nlive < pool_capacity(p)) {
		struct start_ctx c = { inv->cfg, inv->fn, inv->settings, inv->version, false };

		e = entry_start(p, &c);
		if (!e) {
			defer_finish(inv, INVOKE_INIT_ERROR,
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
		if (!try_dispatch(p, inv)) {
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
static void pool_provision(struct pool *p)
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
		while (want-- > 0 && p->nlive < pool_capacity(p) && entry_start(p, &c))
			;
	}
}

static struct pool *pool_get(struct lambda *l, const struct function_cfg *fn)
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
	inv->remote = NULL;
	invocation_finish(inv, status, body, n, error_type);
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
		snprintf(inv->request_id, sizeof(inv->request_id), "%s", request_id);
	else
		request_id_new(l->rng, inv->request_id);
	inv->arn = invoked_arn(req->cfg, req->fn, req->qualifier);
	inv->trace = runtime_trace_id(l->rng, req->trace_id);
	if (req->fn->endpoint) {
		inv->remote = invoke_client_start(l->base, l->remote, req->cfg->lb.region, req->fn, req->qualifier, req->payload, req->len,
						  req->trace_id, req->log_tail, on_remote_done, inv);
		inv->run_us = inv->start_us;
		return inv;
	}
	p = inv->pool = pool_get(l, req->fn);
	if (p->queue || !try_dispatch(p, inv)) {
		if (p->nqueued >= QUEUE_MAX || pool_capacity(p) == 0) {
			/* Lambda throttles past its concurrency: ALB answers 502 LambdaThrottling. */
			defer_finish(inv, INVOKE_THROTTLED,
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
		invocation_free(inv);
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
	invocation_free(inv);
}

void lambda_set_observer(struct lambda *l, invoke_observer_fn fn, void *cookie)
{
	l->observer = fn;
	l->observer_cookie = cookie;
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
	int status;
	pid_t pid;

	(void)fd;
	(void)what;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct entry *e = entry_by_pid(l, pid);
		if (e)
			sandbox_reaped(e->sb, status);
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
	images_prefetch(l, cfg);
	l->cfg = config_ref(cfg);
	layers_set_config(l->layers, cfg);
	for (struct pool *p = l->pools; p; p = p->next) {
		/* Idle sandboxes of the old configuration stop now, busy ones when done. */
		for (struct entry *e = p->entries; e; e = e->next)
			if (e->state == E_IDLE)
				entry_stop(e);
	}
	for (size_t i = 0; i < cfg->nfunctions; i++)
		for (size_t v = 0; v < cfg->functions[i].nversions; v++)
			if (config_fn_provisioned(&cfg->functions[i], cfg->functions[i].versions[v].version)) {
				pool_provision(pool_get(l, &cfg->functions[i]));
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
			invocation_free(inv);
		}
		while (p->entries) {
			struct entry *e = p->entries;
			pid_t pid = sandbox_pid(e->sb);
			p->entries = e->next;
			if (e->inv)
				invocation_free(e->inv);
			entry_release(e);      /* kills the process group */
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
