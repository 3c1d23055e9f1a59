/*
 * config: lb.yaml read into one immutable struct config (DESIGN.md §5).
 *
 * Loading goes top-down in dependency order: the load balancer, functions,
 * target groups (which name functions), listeners and finally their rules
 * (which name target groups), so every reference is resolved to a pointer
 * the moment it is read. The first problem stops the load with
 * "file:line:col: message"; nothing is half-applied because nothing is
 * shared until config_load returns.
 *
 * Ownership: the struct config is malloc'd; everything it points to lives in
 * cfg->arena (or is a string literal), so config_unref frees it all in one
 * go. The YAML trees are freed before config_load returns. Reference counts
 * are atomic (`workers` event loops share one configuration), and a reload
 * swaps configurations between requests while requests in flight hold their
 * own reference.
 *
 * Names and defaults follow the AWS API (alb-listener-rules.md §3, §4.1);
 * the splits are config_fn.c (functions), config_tg.c (target groups),
 * rules.c and rules_action.c.
 */
#include "config/config.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_admin.h"
#include "config/config_fn.h"
#include "config/config_int.h"
#include "config/config_tg.h"
#include "config/rules.h"
#include "config/stack.h"
#include "config/yaml_doc.h"

#define ELB_NAME_MAX 32        /* target-group (and lb) names: 1-32 characters */

#define ATTR_DESYNC "routing.http.desync_mitigation_mode"
#define ATTR_XFF "routing.http.xff_header_processing.mode"

static const struct yfield top_fields[] = {
	YFIELD_NODE("load_balancer"),
	YFIELD_NODE("listeners", .required = true),
	YFIELD_NODE("target_groups"),
	YFIELD_NODE("functions"),
	YFIELD_NODE("lambda_api"),
	YFIELD_NODE("admin"),
};

static const struct yfield lb_fields[] = {
	YFIELD_STR("name", struct load_balancer_cfg, name),
	YFIELD_STR("region", struct load_balancer_cfg, region),
	YFIELD_STR("account_id", struct load_balancer_cfg, account_id),
	YFIELD_NODE("access_log"),
	YFIELD_NODE("workers"),
	YFIELD_NODE("attributes"),
};

/* Why: AWS's attribute keys, ranges and defaults, verbatim (alb-listener-rules.md §4.1). */
static const struct yfield lb_attr_fields[] = {
	YFIELD_INT("idle_timeout.timeout_seconds", struct lb_attributes, idle_timeout, 1, 4000),
	YFIELD_INT("client_keep_alive.seconds", struct lb_attributes, client_keep_alive, 60,
		   604800),
	YFIELD_NODE(ATTR_DESYNC),
	YFIELD_NODE(ATTR_XFF),
	YFIELD_BOOL("routing.http.xff_client_port.enabled", struct lb_attributes, xff_client_port),
	YFIELD_BOOL("routing.http.preserve_host_header.enabled", struct lb_attributes,
		    preserve_host),
	YFIELD_BOOL("routing.http.drop_invalid_header_fields.enabled", struct lb_attributes,
		    drop_invalid_headers),
	YFIELD_BOOL("routing.http2.enabled", struct lb_attributes, http2),
	YFIELD_BOOL("routing.http.x_amzn_tls_version_and_cipher_suite.enabled",
		    struct lb_attributes, tls_headers),
};

static const struct yfield lambda_api_fields[] = {
	YFIELD_INT("port", struct lambda_api_cfg, port, 0, 65535, .required = true),
	YFIELD_STR("address", struct lambda_api_cfg, address),
};

static const char *const desync_modes[] = {
	[DESYNC_MODE_MONITOR] = "monitor",
	[DESYNC_MODE_DEFENSIVE] = "defensive",
	[DESYNC_MODE_STRICTEST] = "strictest",
};
static const char *const xff_modes[] = {
	[XFF_APPEND] = "append",
	[XFF_PRESERVE] = "preserve",
	[XFF_REMOVE] = "remove",
};

static const struct load_balancer_cfg lb_defaults = {
	.name = "local-alb",
	.region = "us-east-1",
	.account_id = "123456789012",
	.workers = 1,
	.attrs = {
		.idle_timeout = 60,
		.client_keep_alive = 3600,
		.desync_mode = DESYNC_MODE_DEFENSIVE,
		.xff_mode = XFF_APPEND,
		.http2 = true,
	},
};

char *config_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	p = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

/* FNV-1a, 64 bits. */
void config_stable_id(const char *name, char out[17])
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	snprintf(out, 17, "%016" PRIx64, h);
}

/*
 * Why: target-group names are 1-32 alphanumerics and hyphens, not starting
 * or ending with a hyphen. lb holds the load balancer's name to the same
 * rule so that "app/NAME/ID" and ARNs stay well-formed (AWS's own rule for
 * load-balancer names is not in the reference).
 */
static bool elb_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= ELB_NAME_MAX && s[0] != '-' && s[n - 1] != '-' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == n;
}

int config_elb_name_check(const struct ynode *n, const char *what, const char *name,
			  struct lb_err *err)
{
	if (elb_name_ok(name))
		return 0;
	return ydoc_err(err, ydoc_get(n, "name"), "%s name '%s' must be 1-%d letters, digits or "
			"hyphens, not starting or ending with a hyphen", what, name, ELB_NAME_MAX);
}

static int lb_attrs_load(struct config *cfg, const struct ynode *n, struct lb_err *err)
{
	struct lb_attributes *a = &cfg->lb.attrs;
	const struct ynode *desync = ydoc_get(n, ATTR_DESYNC), *xff = ydoc_get(n, ATTR_XFF);
	int mode;

	if (ydoc_fields(n, "attributes", lb_attr_fields, ARRAY_LEN(lb_attr_fields), a, NULL, err))
		return -1;
	if (desync) {
		if (ydoc_enum(desync, ATTR_DESYNC, desync_modes, ARRAY_LEN(desync_modes), &mode,
			      err))
			return -1;
		a->desync_mode = (enum desync_mode)mode;
	}
	if (xff) {
		if (ydoc_enum(xff, ATTR_XFF, xff_modes, ARRAY_LEN(xff_modes), &mode, err))
			return -1;
		a->xff_mode = (enum xff_mode)mode;
	}
	return 0;
}

/* The keys of load_balancer: beyond ydoc_fields' types. */
static int lb_check(struct config *cfg, const struct ynode *n, struct lb_err *err)
{
	struct load_balancer_cfg *lb = &cfg->lb;
	const struct ynode *v;

	if (ydoc_key(n, "name") && config_elb_name_check(n, "load balancer", lb->name, err))
		return -1;
	/* lb's choice: the region goes into ARNs verbatim, so it must look like one. */
	if ((v = ydoc_get(n, "region")) &&
	    (!*lb->region || strspn(lb->region, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
				     strlen(lb->region)))
		return ydoc_err(err, v, "'region' must be lower-case letters, digits and hyphens, "
				"not '%s'", lb->region);
	/* Why: an AWS account ID is 12 digits, as in every ARN (alb-listener-rules.md §5.4). */
	if ((v = ydoc_get(n, "account_id")) &&
	    (strlen(lb->account_id) != 12 || strspn(lb->account_id, "0123456789") != 12))
		return ydoc_err(err, v, "'account_id' must be 12 digits, not '%s'", lb->account_id);
	if ((v = ydoc_get(n, "access_log"))) {
		const char *s;

		if (ydoc_str(v, "access_log", &s, err))
			return -1;
		if (!*s)
			return ydoc_err(err, v, "'access_log' must be a path or \"-\"");
		lb->access_log = strcmp(s, "-") == 0 ? "-" : ydoc_path(v, false, &cfg->arena);
	}
	/* lb's own setting (not ALB's): event loops sharing one configuration and one sandbox pool. */
	if ((v = ydoc_get(n, "workers"))) {
		lb->workers_pos = (struct src_pos){ v->file, v->line, v->col };
		if (v->type == YNODE_SCALAR && strcmp(v->str, "auto") == 0)
			lb->workers = 0;
		else if (ydoc_int(v, "workers", 1, 64, &lb->workers, err))
			return ydoc_err(err, v, "'workers' must be a number from 1 to 64 or \"auto\"");
	}
	return 0;
}

static int lb_load(struct config *cfg, const struct ynode *n, struct lb_err *err)
{
	struct load_balancer_cfg *lb = &cfg->lb;
	const struct ynode *attrs = ydoc_get(n, "attributes");

	*lb = lb_defaults;
	if (n && (ydoc_fields(n, "load_balancer", lb_fields, ARRAY_LEN(lb_fields), lb, &cfg->arena,
			      err) ||
		  lb_check(cfg, n, err) || (attrs && lb_attrs_load(cfg, attrs, err))))
		return -1;
	config_stable_id(lb->name, lb->id);
	/* Why: access logs name the load balancer app/NAME/ID (alb-listener-rules.md §5.1). */
	lb->elb = config_printf(&cfg->arena, "app/%s/%s", lb->name, lb->id);
	return 0;
}

/*
 * lambda_api: {port, address}. Loaded after the listeners so that a port
 * both would bind is reported here, before lb binds anything.
 */
static int lambda_api_load(struct config *cfg, const struct ynode *n, struct lb_err *err)
{
	struct lambda_api_cfg *api = &cfg->lambda_api;
	uint8_t key[17], other[17];

	if (!n)
		return 0;
	api->enabled = true;
	api->pos = (struct src_pos){ n->file, n->line, n->col };
	api->address = "127.0.0.1";
	if (ydoc_fields(n, "lambda_api", lambda_api_fields, ARRAY_LEN(lambda_api_fields), api,
			&cfg->arena, err))
		return -1;
	if (config_address_key(api->address, key))
		return ydoc_err(err, ydoc_get(n, "address"), "'address' must be an IPv4 or IPv6 "
				"address, not '%s'", api->address);
	for (size_t i = 0; api->port != 0 && i < cfg->nlisteners; i++) {
		const struct listener_cfg *l = &cfg->listeners[i];

		if (l->port == api->port && config_address_key(l->address, other) == 0 &&
		    memcmp(key, other, sizeof(key)) == 0)
			return ydoc_err(err, ydoc_get(n, "port"), "%s:%d is already the listener on "
					"line %d", api->address, api->port, l->pos.line);
	}
	return 0;
}

static int config_parse(struct config *cfg, const struct ynode *root, struct lb_err *err)
{
	const struct ynode *listeners = ydoc_get(root, "listeners");

	if (ydoc_fields(root, NULL, top_fields, ARRAY_LEN(top_fields), NULL, NULL, err) ||
	    lb_load(cfg, ydoc_get(root, "load_balancer"), err) ||
	    config_fn_load(cfg, ydoc_get(root, "functions"), err) ||
	    config_tg_load(cfg, ydoc_get(root, "target_groups"), err) ||
	    config_listeners_load(cfg, listeners, err) ||
	    lambda_api_load(cfg, ydoc_get(root, "lambda_api"), err) ||
	    config_admin_load(cfg, ydoc_get(root, "admin"), err))
		return -1;
	return rules_load(cfg, listeners, err);
}

struct config *config_load(const char *path, struct lb_err *err)
{
	return config_load_stack(path, NULL, err);
}

struct config *config_load_stack(const char *path, const struct stack_opts *opts,
				 struct lb_err *err)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	const char *slash = strrchr(path, '/');
	struct ydoc *doc;

	char *dir, *real;

	cfg->refs = 1;
	cfg->path = arena_strdup(&cfg->arena, path);
	if (!slash)
		dir = xstrdup(".");
	else /* "/lb.yaml" lives in "/" */
		dir = xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
	/* Absolute, so paths stay right for processes that run in other directories
	 * (a function's code directory is its working directory). */
	real = realpath(dir, NULL);
	cfg->dir = arena_strdup(&cfg->arena, real ? real : dir);
	free(real);
	free(dir);
	doc = stack_load(cfg, opts, err);
	if (!doc || config_parse(cfg, doc->root, err)) {
		config_unref(cfg);
		cfg = NULL;
	}
	ydoc_free(doc);
	return cfg;
}

struct config *config_ref(struct config *cfg)
{
	__atomic_add_fetch(&cfg->refs, 1, __ATOMIC_RELAXED);
	return cfg;
}

void config_unref(struct config *cfg)
{
	if (!cfg || __atomic_sub_fetch(&cfg->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	arena_release(&cfg->arena);
	free(cfg);
}

struct target_group *config_target_group(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->ntarget_groups; i++) {
		if (strcmp(cfg->target_groups[i].name, name) == 0)
			return &cfg->target_groups[i];
	}
	return NULL;
}

struct function_cfg *config_function(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nfunctions; i++) {
		if (strcmp(cfg->functions[i].name, name) == 0)
			return &cfg->functions[i];
	}
	return NULL;
}
