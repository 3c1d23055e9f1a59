/*
 * config_fn: functions, their versions and aliases (DESIGN.md §5, §7).
 *
 * A local function's own keys are $LATEST's settings. A version starts as a
 * copy of $LATEST and overrides what it names, so every struct
 * function_version holds a full snapshot and nothing downstream needs to
 * know about inheritance. Aliases name $LATEST or a version, plus at most one
 * weighted extra version, as Lambda's weighted aliases do.
 *
 * An endpoint function is only a URL, a name for the Invoke path and a
 * timeout: keys that describe code lb would run are rejected for it rather
 * than ignored. Paths (code, layers) are resolved against lb.yaml's directory
 * and must exist when the configuration is loaded; code names a directory or
 * a .zip file whose central directory reads (nothing is extracted here).
 *
 * Everything is allocated in cfg->arena; this file holds no state.
 */
#include "config/config_fn.h"
#include "config/config_async.h"
#include "config/config_logging.h"
#include "base/zip_dir.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define LETTERS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGITS "0123456789"

#define FN_NAME_MAX 64        /* Lambda function names */
#define ALIAS_NAME_MAX 128    /* Lambda alias names */
#define REMOTE_NAME_MAX 256   /* Invoke's FunctionName: aws-integration.md §1.1 */
#define LAYERS_MAX 5          /* Lambda: at most five layers per function */

/*
 * The keys a function and a version share: what $LATEST or a version runs.
 * Why: Lambda's Timeout is 1-900 s and MemorySize 128-10240 MB
 * (aws-integration.md §4.5 gives the defaults, 3 s and 128 MB, and the
 * 900 s maximum).
 */
#define SETTINGS_FIELDS(T, m)                                                 \
	YFIELD_STR("runtime", T, m.runtime),                                  \
	YFIELD_STR("handler", T, m.handler),                                  \
	YFIELD_NODE("code"),                                                  \
	YFIELD_STR_LIST("command", T, m.command, m.ncommand),                 \
	YFIELD_INT("timeout", T, m.timeout, 1, 900),                          \
	YFIELD_INT("memory_size", T, m.memory_size, 128, 10240),              \
	YFIELD_NODE("environment"),                                           \
	YFIELD_NODE("layers"),                                                \
	YFIELD_NODE("logging_config"),                                        \
	YFIELD_NODE("ephemeral_storage"),                                     \
	YFIELD_NODE("image"),                                                 \
	YFIELD_NODE("image_config")

static const struct yfield function_fields[] = {
	YFIELD_STR("name", struct function_cfg, name, .required = true),
	YFIELD_NODE("endpoint"),
	YFIELD_NODE("function_name"),
	YFIELD_NODE("region"),
	YFIELD_INT("reserved_concurrent_executions", struct function_cfg, reserved_concurrency, 0,
		   INT_MAX),
	YFIELD_NODE("versions"),
	YFIELD_NODE("aliases"),
	YFIELD_NODE("event_invoke_config"),
	SETTINGS_FIELDS(struct function_cfg, latest),
};

static const struct yfield version_fields[] = {
	YFIELD_STR("version", struct function_version, version, .required = true),
	YFIELD_INT("provisioned_concurrent_executions", struct function_version, provisioned, 1,
		   INT_MAX),
	SETTINGS_FIELDS(struct function_version, settings),
};

static const struct yfield alias_fields[] = {
	YFIELD_STR("name", struct function_alias, name, .required = true),
	YFIELD_STR("function_version", struct function_alias, function_version, .required = true),
	YFIELD_NODE("routing_config"),
	YFIELD_INT("provisioned_concurrent_executions", struct function_alias, provisioned, 1, INT_MAX),
};

static const struct yfield env_fields[] = { YFIELD_NODE("variables") };
static const struct yfield routing_fields[] = { YFIELD_NODE("additional_version_weights") };
/* Why: Lambda's ephemeral storage (/tmp) is 512-10240 MB. */
static const struct yfield storage_fields[] = {
	YFIELD_INT("size", struct function_settings, ephemeral_mb, 512, 10240, .required = true),
};

/* Lambda's ImageConfig (Terraform's image_config block): command, entry_point, working_directory. */
static const struct yfield image_config_fields[] = {
	YFIELD_STR_LIST("command", struct image_config, command, ncommand),
	YFIELD_STR_LIST("entry_point", struct image_config, entry_point, nentry_point),
	YFIELD_STR("working_directory", struct image_config, working_directory),
};

/* What an endpoint function may say: the rest describes code lb would run. */
static const char *const endpoint_keys[] = { "name", "endpoint", "function_name", "timeout", "region",
					     "event_invoke_config" };

/*
 * Why: Lambda rejects these variable names in a function's configuration
 * because the runtime environment defines them (lambda-runtime-api.md §2.5,
 * "Defined runtime environment variables").
 */
static const char *const reserved_env[] = {
	"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
	"AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
	"AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY",
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
};

static const struct function_settings settings_defaults = {
	.timeout = 3,        /* Lambda's default timeout, seconds */
	.memory_size = 128,  /* Lambda's default memory, MB */
	.ephemeral_mb = 512, /* Lambda's default /tmp, MB */
};

static bool in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(s, list[i]) == 0)
			return true;
	}
	return false;
}

/* 1..max characters of [A-Za-z0-9_-]: Lambda's function and alias names. */
static bool lambda_name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n >= 1 && n <= max && strspn(s, LETTERS DIGITS "_-") == n;
}

static bool all_digits(const char *s)
{
	return *s && strspn(s, DIGITS) == strlen(s);
}

static bool runtime_is_provided(const char *rt)
{
	return rt && strncmp(rt, "provided.", 9) == 0;
}

/* "12" then `tail`: digits and nothing after them but tail. */
static bool digits_then(const char *s, const char *tail)
{
	size_t n = strspn(s, DIGITS);

	return n > 0 && n < 4 && strcmp(s + n, tail) == 0;
}

/* Why: Lambda's runtime identifiers carry the version lb runs: nodejs20.x is Node 20,
 * python3.12 is Python 3.12 (DESIGN.md §18), so the number must be there. */
static int runtime_check(const struct ynode *at, const char *rt, struct lb_err *err)
{
	if ((strncmp(rt, "nodejs", 6) == 0 && digits_then(rt + 6, ".x")) ||
	    (strncmp(rt, "python3.", 8) == 0 && digits_then(rt + 8, "")) ||
	    strcmp(rt, "provided.al2023") == 0 || strcmp(rt, "provided.al2") == 0)
		return 0;
	return ydoc_err(err, at,
			"runtime '%s' is not supported (use nodejsNN.x, python3.N, provided.al2023 "
			"or provided.al2)", rt);
}

/*
 * Resolves the path at `at` (relative to the file naming it), checks it
 * exists, and makes it absolute: function processes run in their own code
 * directory, so a relative path would mean something else to them.
 */
static int path_load(struct config *cfg, const struct ynode *at, const char **out,
		     struct lb_err *err)
{
	char *path = ydoc_path(at, false, &cfg->arena), *real;
	struct stat st;

	if (stat(path, &st) != 0)
		return ydoc_err(err, at, "cannot access '%s': %s", path, strerror(errno));
	real = realpath(path, NULL);
	*out = real ? arena_strdup(&cfg->arena, real) : path;
	free(real);
	return 0;
}

static int env_var_load(struct config *cfg, const struct ypair *p, struct env_var *out,
			struct lb_err *err)
{
	const char *name = p->key->str, *value;

	if (!name[0] || !strchr(LETTERS, name[0]) ||
	    strspn(name, LETTERS DIGITS "_") != p->key->len)
		return ydoc_err(err, p->key,
				"environment variable name '%s' must be a letter followed by "
				"letters, digits or '_'", name);
	if (in_list(name, reserved_env, ARRAY_LEN(reserved_env)))
		return ydoc_err(err, p->key, "environment variable '%s' is reserved by Lambda",
				name);
	if (ydoc_str(p->value, name, &value, err))
		return -1;
	out->name = arena_strdup(&cfg->arena, name);
	out->value = arena_strndup(&cfg->arena, value, p->value->len);
	return 0;
}

/* environment: {variables: {NAME: value}}: replaces the whole set. */
static int env_load(struct config *cfg, const struct ynode *n, struct function_settings *s,
		    struct lb_err *err)
{
	const struct ynode *vars = ydoc_get(n, "variables");

	if (ydoc_fields(n, "environment", env_fields, ARRAY_LEN(env_fields), NULL, NULL, err))
		return -1;
	s->nenv = 0;
	s->env = NULL;
	if (!vars)
		return 0;
	if (ydoc_mapping(vars, "variables", err))
		return -1;
	s->env = arena_alloc(&cfg->arena, vars->n * sizeof(*s->env));
	for (; s->nenv < vars->n; s->nenv++) {
		if (env_var_load(cfg, &vars->pairs[s->nenv], &s->env[s->nenv], err))
			return -1;
	}
	return 0;
}

/*
 * code: a directory, or a .zip file as Lambda deploys code (any name: the
 * content decides). Why: Lambda refuses a package it cannot unzip
 * (InvalidZipFileException) when it is uploaded, so a zip whose central
 * directory does not read is an error now; its entries are checked when a
 * sandbox extracts it (layers.c), where a zip bomb or a '..' fails the
 * invocation as a damaged layer does.
 */
static int code_load(struct config *cfg, const struct ynode *v, struct function_settings *s,
		     struct lb_err *err)
{
	struct lb_err why = { "" };
	const char *code;
	struct stat st;

	if (ydoc_str(v, "code", &code, err) || path_load(cfg, v, &s->code, err))
		return -1;
	if (stat(s->code, &st) != 0)
		return ydoc_err(err, v, "cannot access '%s': %s", code, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return 0;
	if (!S_ISREG(st.st_mode))
		return ydoc_err(err, v, "code '%s' is neither a directory nor a .zip file", code);
	if (zip_dir_check_file(s->code, &why))
		return ydoc_err(err, v, "code '%s': %s", code, why.msg);
	return 0;
}

/* Why: a Lambda layer is a .zip archive; lb also takes the directory one is made from. */
static bool layer_kind_ok(const char *path)
{
	struct stat st;
	size_t n = strlen(path);

	return stat(path, &st) == 0 &&
	       (S_ISDIR(st.st_mode) ||
		(S_ISREG(st.st_mode) && n > 4 && strcasecmp(path + n - 4, ".zip") == 0));
}

static int layers_load(struct config *cfg, const struct ynode *n, struct function_settings *s,
		       struct lb_err *err)
{
	if (ydoc_list(n, "layers", YNODE_SCALAR, err))
		return -1;
	if (n->n > LAYERS_MAX)
		return ydoc_err(err, n->items[LAYERS_MAX], "a function has at most %d layers",
				LAYERS_MAX);
	s->layers = arena_alloc(&cfg->arena, n->n * sizeof(*s->layers));
	for (s->nlayers = 0; s->nlayers < n->n; s->nlayers++) {
		const struct ynode *item = n->items[s->nlayers];

		if (path_load(cfg, item, &s->layers[s->nlayers], err))
			return -1;
		if (!layer_kind_ok(s->layers[s->nlayers]))
			return ydoc_err(err, item, "layer '%s' is neither a directory nor a .zip file",
					item->str);
	}
	return 0;
}

/* The settings keys of n (a function or a version) that need more than ydoc_fields. */
static int settings_load(struct config *cfg, const struct ynode *n, struct function_settings *s,
			 struct lb_err *err)
{
	const struct ynode *v;

	if ((v = ydoc_get(n, "runtime")) && runtime_check(v, s->runtime, err))
		return -1;
	if ((v = ydoc_get(n, "code")) && code_load(cfg, v, s, err))
		return -1;
	if ((v = ydoc_get(n, "environment")) && env_load(cfg, v, s, err))
		return -1;
	if ((v = ydoc_get(n, "layers")) && layers_load(cfg, v, s, err))
		return -1;
	if ((v = ydoc_get(n, "ephemeral_storage")) &&
	    ydoc_fields(v, "ephemeral_storage", storage_fields, ARRAY_LEN(storage_fields), s, &cfg->arena,
			err))
		return -1;
	if ((v = ydoc_get(n, "logging_config")) && config_logging_load(cfg, v, &s->logging, err))
		return -1;
	if ((v = ydoc_get(n, "image")) && path_load(cfg, v, &s->image, err))
		return -1;
	if ((v = ydoc_get(n, "image_config"))) {
		if (ydoc_fields(v, "image_config", image_config_fields, ARRAY_LEN(image_config_fields),
				&s->image_config, &cfg->arena, err))
			return -1;
		if (s->image_config.working_directory && s->image_config.working_directory[0] != '/')
			return ydoc_err(err, v, "image_config: working_directory must be an absolute path");
	}
	return 0;
}

/*
 * Why: a Lambda function of package type Image has no runtime, handler,
 * code or layers — the image brings them (ImageConfig adjusts how it runs).
 */
static int image_check(const struct ynode *n, const struct function_settings *s, struct lb_err *err)
{
	static const char *const not_with_image[] = { "runtime", "handler", "code", "command", "layers" };
	const struct ynode *at;

	if (!s->image) {
		if ((at = ydoc_key(n, "image_config")))
			return ydoc_err(err, at, "'image_config' is only for 'image' functions");
		return 1;
	}
	for (size_t i = 0; i < ARRAY_LEN(not_with_image); i++)
		if ((at = ydoc_key(n, not_with_image[i])))
			return ydoc_err(err, at, "'%s' can't be used with 'image' (the image brings its own)",
					not_with_image[i]);
	if (s->runtime || s->code || s->nlayers)
		return ydoc_err(err, n, "a version can't switch between an image and a runtime");
	return 0;
}

/* What a complete snapshot needs, checked after a version inherits from $LATEST. */
static int settings_check(const struct ynode *n, const struct function_settings *s,
			  struct lb_err *err)
{
	const struct ynode *at;
	int rc = image_check(n, s, err);

	if (rc <= 0)
		return rc;
	if (!s->runtime)
		return ydoc_err(err, n, "missing key 'runtime' (or 'image')");
	if (!s->code)
		return ydoc_err(err, n, "missing key 'code'");
	if (!s->handler && !runtime_is_provided(s->runtime))
		return ydoc_err(err, n, "missing key 'handler' (runtime '%s' needs one)",
				s->runtime);
	if (s->command && !runtime_is_provided(s->runtime)) {
		at = ydoc_key(n, "command") ? ydoc_key(n, "command") : ydoc_key(n, "runtime");
		return ydoc_err(err, at ? at : n, "'command' is only for provided.* runtimes");
	}
	return 0;
}

/* "http[s]://host[:port][/path]": the base URL of a Lambda Invoke API. */
static bool endpoint_ok(const char *url)
{
	const char *host, *end, *port;
	char *stop;
	long num;

	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return false;
	host = url + (url[4] == 's' ? 8 : 7);
	end = host + strcspn(host, "/?#");
	if (end == host || (*end && *end != '/'))
		return false;
	if (*host == '[') {
		const char *close = memchr(host, ']', (size_t)(end - host));

		if (!close || close == host + 1)
			return false;
		port = close + 1 < end ? close + 1 : NULL;
		if (port && *port != ':')
			return false;
	} else {
		port = memchr(host, ':', (size_t)(end - host));
		if (port == host)
			return false;
	}
	if (!port)
		return true;
	if (!(port[1] >= '0' && port[1] <= '9'))
		return false;
	num = strtol(port + 1, &stop, 10);
	return stop == end && num >= 1 && num <= 65535;
}

/* region: for `endpoint: aws` only, a region name such as eu-west-1. */
static int region_load(struct config *cfg, const struct ynode *n, struct function_cfg *fn, struct lb_err *err)
{
	const struct ynode *r = ydoc_get(n, "region");
	const char *s;

	if (!r)
		return 0;
	if (strcmp(fn->endpoint, "aws") != 0)
		return ydoc_err(err, r, "'region' is only for 'endpoint: aws'");
	if (ydoc_str(r, "region", &s, err))
		return -1;
	if (!*s || strlen(s) > 32 || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(s))
		return ydoc_err(err, r, "'region' must be a region name such as us-east-1, not '%s'", s);
	fn->region = arena_strdup(&cfg->arena, s);
	return 0;
}

/* An endpoint function: a URL (or aws), the name to invoke there, and a timeout. */
static int endpoint_load(struct config *cfg, const struct ynode *n, struct function_cfg *fn,
			 struct lb_err *err)
{
	const struct ynode *url = ydoc_get(n, "endpoint"), *remote = ydoc_get(n, "function_name");
	const char *s;

	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *key = n->pairs[i].key;

		if (!in_list(key->str, endpoint_keys, ARRAY_LEN(endpoint_keys)))
			return ydoc_err(err, key, "'%s' can't be used with 'endpoint'", key->str);
	}
	if (ydoc_str(url, "endpoint", &s, err))
		return -1;
	if (strcmp(s, "aws") != 0 && !endpoint_ok(s))
		return ydoc_err(err, url, "'endpoint' must be 'aws' or an http:// or https:// URL, not '%s'", s);
	fn->endpoint = arena_strdup(&cfg->arena, s);
	if (region_load(cfg, n, fn, err))
		return -1;
	/*
	 * Why: the name in the Invoke path is the function's own unless told
	 * otherwise; AWS's runtime interface emulator serves only "function"
	 * (lambda-runtime-api.md §3), hence function_name.
	 */
	fn->remote_name = fn->name;
	if (!remote)
		return 0;
	if (ydoc_str(remote, "function_name", &s, err))
		return -1;
	if (!*s || strlen(s) > REMOTE_NAME_MAX)
		return ydoc_err(err, remote, "'function_name' must be 1-%d characters",
				REMOTE_NAME_MAX);
	fn->remote_name = arena_strdup(&cfg->arena, s);
	return 0;
}

static const struct function_version *version_find(const struct function_cfg *fn,
						   const char *version)
{
	for (size_t i = 0; i < fn->nversions; i++) {
		if (strcmp(fn->versions[i].version, version) == 0)
			return &fn->versions[i];
	}
	return NULL;
}

static int version_load(struct config *cfg, struct function_cfg *fn, const struct ynode *n,
			struct function_version *v, struct lb_err *err)
{
	const struct ynode *num = ydoc_get(n, "version");
	const struct function_version *dup;

	v->settings = fn->latest;
	v->pos = (struct src_pos){ n->file, n->line, n->col };
	if (ydoc_fields(n, "versions", version_fields, ARRAY_LEN(version_fields), v, &cfg->arena,
			err))
		return -1;
	/* Why: Lambda numbers published versions 1, 2, 3, ... */
	if (!all_digits(v->version) || v->version[0] == '0')
		return ydoc_err(err, num, "'version' must be a positive integer, not '%s'",
				v->version);
	if ((dup = version_find(fn, v->version)))
		return ydoc_err(err, num, "duplicate version '%s' (first on line %d)", v->version,
				dup->pos.line);
	if (settings_load(cfg, n, &v->settings, err) || settings_check(n, &v->settings, err))
		return -1;
	fn->nversions++;
	return 0;
}

bool config_fn_qualifier_ok(const struct function_cfg *fn, const char *q)
{
	if (version_find(fn, q))
		return true;
	for (size_t i = 0; i < fn->naliases; i++) {
		if (strcmp(fn->aliases[i].name, q) == 0)
			return true;
	}
	return false;
}

static int qualifier_check(const struct function_cfg *fn, const struct ynode *at,
			   const char *version, struct lb_err *err)
{
	if (strcmp(version, "$LATEST") == 0 || version_find(fn, version))
		return 0;
	return ydoc_err(err, at, "function '%s' has no version '%s'", fn->name, version);
}

static int weight_parse(const struct ynode *v, double *out, struct lb_err *err)
{
	char *end;

	if (v->type != YNODE_SCALAR)
		return ydoc_err(err, v, "weight must be between 0.0 and 1.0");
	errno = 0;
	*out = strtod(v->str, &end);
	if (end == v->str || *end || errno || !(*out >= 0.0 && *out <= 1.0))
		return ydoc_err(err, v, "weight must be between 0.0 and 1.0, not '%s'", v->str);
	return 0;
}

/* routing_config: {additional_version_weights: {"2": 0.1}}: at most one entry. */
static int routing_load(struct config *cfg, const struct function_cfg *fn, const struct ynode *n,
			struct function_alias *a, struct lb_err *err)
{
	const struct ynode *w = ydoc_get(n, "additional_version_weights");
	const struct ypair *p;

	if (ydoc_fields(n, "routing_config", routing_fields, ARRAY_LEN(routing_fields), NULL,
			NULL, err))
		return -1;
	if (!w)
		return 0;
	if (ydoc_mapping(w, "additional_version_weights", err))
		return -1;
	if (w->n == 0)
		return 0;
	if (w->n > 1)
		return ydoc_err(err, w->pairs[1].key,
				"an alias routes to at most one additional version");
	p = &w->pairs[0];
	if (!version_find(fn, p->key->str))
		return ydoc_err(err, p->key, "function '%s' has no version '%s'", fn->name,
				p->key->str);
	if (strcmp(p->key->str, a->function_version) == 0)
		return ydoc_err(err, p->key, "the additional version must differ from "
				"function_version '%s'", a->function_version);
	if (weight_parse(p->value, &a->extra_weight, err))
		return -1;
	a->extra_version = arena_strdup(&cfg->arena, p->key->str);
	return 0;
}

static int alias_load(struct config *cfg, struct function_cfg *fn, const struct ynode *n,
		      struct function_alias *a, struct lb_err *err)
{
	const struct ynode *name = ydoc_get(n, "name"), *rc = ydoc_get(n, "routing_config");

	a->pos = (struct src_pos){ n->file, n->line, n->col };
	if (ydoc_fields(n, "aliases", alias_fields, ARRAY_LEN(alias_fields), a, &cfg->arena, err))
		return -1;
	if (strcmp(a->name, "$LATEST") == 0)
		return ydoc_err(err, name, "'$LATEST' can't be an alias name");
	/* Why: Lambda alias names match (?!^[0-9]+$)([a-zA-Z0-9-_]+), 1-128 long
	 * (aws-integration.md §5.2). */
	if (!lambda_name_ok(a->name, ALIAS_NAME_MAX) || all_digits(a->name))
		return ydoc_err(err, name, "alias name '%s' must be 1-%d letters, digits, '-' or "
				"'_', and not all digits", a->name, ALIAS_NAME_MAX);
	for (size_t i = 0; i < fn->naliases; i++) {
		if (strcmp(fn->aliases[i].name, a->name) == 0)
			return ydoc_err(err, name, "duplicate alias '%s' (first on line %d)",
					a->name, fn->aliases[i].pos.line);
	}
	if (qualifier_check(fn, ydoc_get(n, "function_version"), a->function_version, err))
		return -1;
	if (rc && routing_load(cfg, fn, rc, a, err))
		return -1;
	fn->naliases++;
	return 0;
}

static int versions_and_aliases(struct config *cfg, struct function_cfg *fn,
				const struct ynode *n, struct lb_err *err)
{
	const struct ynode *versions = ydoc_get(n, "versions"), *aliases = ydoc_get(n, "aliases");

	if (versions) {
		if (ydoc_list(versions, "versions", YNODE_MAPPING, err))
			return -1;
		fn->versions = arena_alloc(&cfg->arena, versions->n * sizeof(*fn->versions));
		for (size_t i = 0; i < versions->n; i++) {
			if (version_load(cfg, fn, versions->items[i], &fn->versions[i], err))
				return -1;
		}
	}
	if (aliases) {
		if (ydoc_list(aliases, "aliases", YNODE_MAPPING, err))
			return -1;
		fn->aliases = arena_alloc(&cfg->arena, aliases->n * sizeof(*fn->aliases));
		for (size_t i = 0; i < aliases->n; i++) {
			if (alias_load(cfg, fn, aliases->items[i], &fn->aliases[i], err))
				return -1;
		}
	}
	return 0;
}

int config_fn_provisioned(const struct function_cfg *fn, const char *version)
{
	int n = 0;

	for (size_t i = 0; i < fn->nversions; i++)
		if (strcmp(fn->versions[i].version, version) == 0)
			n += fn->versions[i].provisioned;
	for (size_t i = 0; i < fn->naliases; i++)
		if (strcmp(fn->aliases[i].function_version, version) == 0)
			n += fn->aliases[i].provisioned;
	return n;
}

/* Why: Lambda refuses more provisioned concurrency than the function's
 * concurrency (its reserved concurrency, when set). */
static int provisioned_check(const struct function_cfg *fn, const struct ynode *n, struct lb_err *err)
{
	int total = 0, limit = fn->reserved_concurrency >= 0 ? fn->reserved_concurrency
							     : CONFIG_FN_DEFAULT_CONCURRENCY;

	for (size_t i = 0; i < fn->nversions; i++)
		total += fn->versions[i].provisioned;
	for (size_t i = 0; i < fn->naliases; i++)
		total += fn->aliases[i].provisioned;
	if (total > limit)
		return ydoc_err(err, n, "provisioned concurrency %d is over the function's concurrency %d",
				total, limit);
	return 0;
}

static int function_load(struct config *cfg, const struct ynode *n, struct function_cfg *fn,
			 struct lb_err *err)
{
	const struct ynode *runtime = ydoc_key(n, "runtime"), *endpoint = ydoc_key(n, "endpoint");
	const struct ynode *image = ydoc_key(n, "image");
	const struct function_cfg *dup;

	fn->pos = (struct src_pos){ n->file, n->line, n->col };
	fn->reserved_concurrency = -1;
	fn->latest = settings_defaults;
	fn->async = (struct event_invoke_cfg){ .max_retries = ASYNC_DEFAULT_RETRIES,
					       .max_age = ASYNC_DEFAULT_MAX_AGE };
	if (ydoc_fields(n, "functions", function_fields, ARRAY_LEN(function_fields), fn,
			&cfg->arena, err))
		return -1;
	if (ydoc_get(n, "event_invoke_config") &&
	    config_async_load(cfg, ydoc_get(n, "event_invoke_config"), &fn->async, err))
		return -1;
	if (!lambda_name_ok(fn->name, FN_NAME_MAX))
		return ydoc_err(err, ydoc_get(n, "name"),
				"function name '%s' must be 1-%d letters, digits, '-' or '_'",
				fn->name, FN_NAME_MAX);
	if ((dup = config_function(cfg, fn->name)))
		return ydoc_err(err, ydoc_get(n, "name"),
				"duplicate function '%s' (first on line %d)", fn->name,
				dup->pos.line);
	if (runtime && endpoint)
		return ydoc_err(err, endpoint, "'runtime' and 'endpoint' can't be used together");
	if (image && endpoint)
		return ydoc_err(err, endpoint, "'image' and 'endpoint' can't be used together");
	if (!runtime && !endpoint && !image)
		return ydoc_err(err, n, "a function needs 'runtime', 'image' or 'endpoint'");
	if (endpoint)
		return endpoint_load(cfg, n, fn, err);
	if (ydoc_key(n, "region"))
		return ydoc_err(err, ydoc_key(n, "region"), "'region' is only for 'endpoint: aws'");
	if (ydoc_key(n, "function_name"))
		return ydoc_err(err, ydoc_key(n, "function_name"),
				"'function_name' is only for endpoint functions");
	if (settings_load(cfg, n, &fn->latest, err) || settings_check(n, &fn->latest, err))
		return -1;
	if (versions_and_aliases(cfg, fn, n, err))
		return -1;
	return provisioned_check(fn, n, err);
}

int config_fn_load(struct config *cfg, const struct ynode *seq, struct lb_err *err)
{
	if (!seq)
		return 0;
	if (ydoc_list(seq, "functions", YNODE_MAPPING, err))
		return -1;
	cfg->functions = arena_alloc(&cfg->arena, seq->n * sizeof(*cfg->functions));
	for (size_t i = 0; i < seq->n; i++) {
		/* nfunctions counts the loaded ones, so config_function finds only those. */
		if (function_load(cfg, seq->items[i], &cfg->functions[i], err))
			return -1;
		cfg->nfunctions++;
	}
	for (size_t i = 0; i < seq->n; i++)
		if (config_async_check(cfg, &cfg->functions[i], seq->items[i], err))
			return -1;
	return 0;
}

static void settings_summary(const struct function_settings *s, FILE *out)
{
	if (s->image) {
		fprintf(out, "image %s, timeout %ds, memory %d MB", s->image, s->timeout, s->memory_size);
		return;
	}
	fprintf(out, "%s", s->runtime);
	if (s->handler)
		fprintf(out, " %s", s->handler);
	fprintf(out, ", code %s", s->code);
	if (s->ncommand) {
		fputs(", command", out);
		for (size_t i = 0; i < s->ncommand; i++)
			fprintf(out, " %s", s->command[i]);
	}
	fprintf(out, ", timeout %ds, memory %d MB", s->timeout, s->memory_size);
	if (s->nenv)
		fprintf(out, ", %zu environment variable%s", s->nenv, s->nenv == 1 ? "" : "s");
	if (s->nlayers)
		fprintf(out, ", %zu layer%s", s->nlayers, s->nlayers == 1 ? "" : "s");
	if (s->logging.json)
		fprintf(out, ", JSON logs (application %s, system %s)", s->logging.app_level,
			s->logging.system_level);
}

static void async_summary(const struct event_invoke_cfg *a, FILE *out)
{
	if (a->max_retries == ASYNC_DEFAULT_RETRIES && a->max_age == ASYNC_DEFAULT_MAX_AGE &&
	    !a->on_success.raw && !a->on_failure.raw)
		return;
	fprintf(out, ", Event retries %d, max age %ds", a->max_retries, a->max_age);
	if (a->on_success.raw)
		fprintf(out, ", on success %s", a->on_success.raw);
	if (a->on_failure.raw)
		fprintf(out, ", on failure %s", a->on_failure.raw);
}

void config_fn_summary(const struct function_cfg *fn, FILE *out)
{
	fprintf(out, "function %s: ", fn->name);
	if (fn->endpoint) {
		fprintf(out, "endpoint %s%s%s (invoked as '%s'), timeout %ds\n", fn->endpoint,
			fn->region ? " region " : "", fn->region ? fn->region : "", fn->remote_name,
			fn->latest.timeout);
		return;
	}
	settings_summary(&fn->latest, out);
	if (fn->reserved_concurrency >= 0)
		fprintf(out, ", reserved concurrency %d", fn->reserved_concurrency);
	async_summary(&fn->async, out);
	fputc('\n', out);
	for (size_t i = 0; i < fn->nversions; i++) {
		fprintf(out, "  version %s: ", fn->versions[i].version);
		settings_summary(&fn->versions[i].settings, out);
		fputc('\n', out);
	}
	for (size_t i = 0; i < fn->naliases; i++) {
		const struct function_alias *a = &fn->aliases[i];

		fprintf(out, "  alias %s -> %s", a->name, a->function_version);
		if (a->extra_version)
			fprintf(out, " (%s at %g%%)", a->extra_version, a->extra_weight * 100);
		fputc('\n', out);
	}
}
