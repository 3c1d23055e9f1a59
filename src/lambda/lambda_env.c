/*
 * lambda_env: what a sandbox runs. The command that starts a function's
 * runtime (a managed runtime's bootstrap under the Node or Python its version
 * needs, a command, a custom runtime's bootstrap, or an image's entrypoint),
 * the environment Lambda gives it, and its private /tmp.
 *
 * Builds strings only: starting, running and stopping the process is
 * lambda_pool.c's and sandbox.c's. Reads lb's own environment (PATH, HOME,
 * credentials, TMPDIR) and creates the /tmp directory; nothing else touches
 * the system.
 */
#include "lambda/lambda_int.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "lambda/image.h"
#include "lambda/layers.h"
#include "lambda/runtime_fetch.h"
#include "lambda/tmp_dirs.h"

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

void lambda_env_release(struct strvec *sv)
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
 * The command that runs a function's runtime; task: its task root (the code
 * directory, or its extracted .zip); opt: its merged layers, or NULL.
 * -1 with err when the interpreter its runtime version needs is missing.
 */
int lambda_env_argv(const struct lambda *l, const char *fn_name, const struct function_settings *s,
		    const char *task, const char *opt, struct strvec *argv, struct lb_err *err)
{
	/* Lambda runs nodejsNN.x on Node NN and python3.N on Python 3.N (runtime_fetch.h);
	 * lambda_set_config resolved it already, so this starts no probe on a request. */
	const char *prog = runtimes_interpreter(l->runtimes, s->runtime, fn_name, err);

	if (!prog)
		return -1;
	if (strncmp(s->runtime, "nodejs", 6) == 0) {
		/* Why: Lambda's Node.js bootstrap starts node with these flags: gc()
		 * exposed, 80 KiB of HTTP headers, and V8's heap sized from the memory
		 * (a tenth for the new space, half of that per semi-space, the rest old). */
		int new_space = s->memory_size / 10;

		strvec_pushf(argv, "%s", prog);
		strvec_pushf(argv, "--expose-gc");
		strvec_pushf(argv, "--max-http-header-size");
		strvec_pushf(argv, "81920");
		strvec_pushf(argv, "--max-semi-space-size=%d", new_space / 2);
		strvec_pushf(argv, "--max-old-space-size=%d", s->memory_size - new_space);
		strvec_pushf(argv, "%s/node/bootstrap.mjs", l->runtimes_dir);
	} else if (strncmp(s->runtime, "python", 6) == 0) {
		strvec_pushf(argv, "%s", prog);
		strvec_pushf(argv, "-u");
		strvec_pushf(argv, "%s/python/bootstrap.py", l->runtimes_dir);
	} else if (s->ncommand) {
		for (size_t i = 0; i < s->ncommand; i++)
			strvec_pushf(argv, "%s", s->command[i]);
	} else if (opt && !has_bootstrap(task) && has_bootstrap(opt)) {
		/* Lambda's next choice is /opt/bootstrap: a custom runtime from a layer. */
		strvec_pushf(argv, "%s/bootstrap", opt);
	} else {
		/* provided.* without a command runs the task root's bootstrap, as Lambda
		 * runs /var/task/bootstrap (the zip's own, with the mode it was zipped with). */
		strvec_pushf(argv, "%s/bootstrap", task);
	}
	return 0;
}

/*
 * An image function's command: its entrypoint and command (or ImageConfig's)
 * run isolated in the unpacked image, in ImageConfig's working directory,
 * else the image's WORKDIR, else "/" (image.h). *img is borrowed.
 */
int lambda_env_image_argv(struct lambda *l, const struct function_settings *s, const char *tmpdir,
			  const struct image **img, struct strvec *argv, struct lb_err *err)
{
	const struct image_config *ic = &s->image_config;
	const char *workdir;
	char **run, **full;
	struct lb_err why = { "" };

	if (!(*img = images_get(l->images, s->image, err)))
		return -1;
	run = oci_run_argv(&(*img)->cfg, ic->entry_point, ic->nentry_point, ic->command, ic->ncommand);
	if (!run)
		return lb_err_set(err, "image '%s' has no ENTRYPOINT or CMD (set image_config's command)",
				  s->image);
	workdir = ic->working_directory ? ic->working_directory : (*img)->cfg.workdir ? (*img)->cfg.workdir : "/";
	/* Why: Lambda, as Docker, starts in a working directory the image lacks, created empty. */
	if (image_mkdir(*img, workdir, &why) < 0) {
		oci_argv_free(run);
		return lb_err_set(err, "image '%s': working directory '%s': %s", s->image, workdir, why.msg);
	}
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
 * variables; task: its task root (LAMBDA_TASK_ROOT; unused for an image);
 * opt: its merged layers, or NULL (then nothing about layers).
 * A variable the function sets itself replaces lb's value, as a configured
 * PATH or NODE_PATH replaces Lambda's default.
 */
void lambda_env_build(struct lambda *l, const struct start_ctx *c, const char *task,
		      const char *opt, const char *tmpdir, const struct image *img, struct strvec *env)
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
		strvec_pushf(env, "LAMBDA_TASK_ROOT=%s", task);
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
void lambda_env_bin_first(const char *prog, const struct function_settings *s, struct strvec *env)
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
char *lambda_env_tmpdir(struct lb_err *err)
{
	const char *base = tmp_dirs_base();
	char dir[PATH_MAX];

	if (tmp_dirs_make(dir, sizeof(dir), base, TMP_DIRS_TMP) < 0) {
		lb_err_set(err, "cannot create a /tmp for it in %s: %s", base, strerror(errno));
		return NULL;
	}
	return xstrdup(dir);
}
