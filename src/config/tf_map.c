/*
 * tf_map: the JSON of `terraform show -json` (a state, or a saved plan) as
 * lb.yaml's tree (DESIGN.md §16). lb's keys already follow the Terraform AWS
 * provider's spelling, so most values move across unchanged; blocks, which
 * Terraform's JSON writes as lists of one object, are unwrapped.
 *
 * Resources link through ARNs in a state and through the configuration's
 * expression references in a plan (tf_link.c). Paths
 * (filename, source_dir) are relative to the JSON file's directory, which
 * should be the Terraform root module's. Resources of modules are read too.
 */
#include <stdlib.h>
#include <string.h>

#include "config/cfn.h"
#include "config/config_int.h"
#include "config/tf.h"
#include "config/tf_int.h"
#include "base/log.h"

static bool is_null(const struct ynode *n)
{
	return !n || ydoc_is_null(n) || (n->type == YNODE_SEQUENCE && n->n == 0);
}

/* A block: Terraform writes it as a list of one object. */
static const struct ynode *block(const struct ynode *v, const char *key)
{
	const struct ynode *b = ydoc_get(v, key);

	if (b && b->type == YNODE_SEQUENCE)
		return b->n ? b->items[0] : NULL;
	return is_null(b) ? NULL : b;
}

static const char *const kind_name[] = {
	[YNODE_SCALAR] = "a string", [YNODE_SEQUENCE] = "a list", [YNODE_MAPPING] = "a map",
};

/*
 * Key of in (r's object or its values), which lb needs and which must be of
 * the given kind; NULL with the error set when it is absent, null, empty or
 * of another kind. In a plan, an attribute missing from planned_values is
 * one known only after apply, which lb cannot wait for.
 */
static const struct ynode *need_in(struct tf *t, const struct tf_res *r, const struct ynode *in,
				   const char *key, enum ynode_type kind)
{
	const struct ynode *v = ydoc_get(in, key);

	if (is_null(v)) {
		cfn_err(t->c, v ? v : in, "%s needs %s%s", r->addr, key,
			t->plan && in != r->at ? " (a value known only after apply is left out of a "
			"plan)" : "");
		return NULL;
	}
	if (v->type != kind) {
		cfn_err(t->c, v, "%s: %s must be %s", r->addr, key, kind_name[kind]);
		return NULL;
	}
	return v;
}

static const struct ynode *need(struct tf *t, const struct tf_res *r, const char *key,
				enum ynode_type kind)
{
	return need_in(t, r, r->values, key, kind);
}

/* Every item of list is a map (a block's objects); else the error, naming what. */
static int map_items(struct tf *t, const struct tf_res *r, const struct ynode *list,
		     const char *what)
{
	for (size_t i = 0; i < list->n; i++) {
		if (list->items[i]->type != YNODE_MAPPING)
			return cfn_err(t->c, list->items[i], "%s: each %s must be a map", r->addr,
				       what);
	}
	return 0;
}

static const struct ynode *expr_block(const struct ynode *e, const char *key, size_t i)
{
	const struct ynode *b = ydoc_get(e, key);

	if (b && b->type == YNODE_SEQUENCE)
		return i < b->n ? b->items[i] : NULL;
	return b;
}

static void put(struct cfn *c, struct ynode *o, const char *key, const struct ynode *v)
{
	if (!is_null(v))
		cfn_put(c->a, o, key, (struct ynode *)v);
}

static const char *name_of(const struct tf_res *r)
{
	const char *n = tf_str(ydoc_get(r->values, "name"));

	return n ? n : tf_str(ydoc_get(r->values, "function_name"));
}

static struct ynode *tg_name(struct tf *t, const struct tf_res *from, const struct ynode *v,
			     const struct ynode *e, const char *attr, const struct ynode *at)
{
	struct tf_res *r = tf_link(t, from, v, e, attr, "_target_group");

	if (!r || !name_of(r)) {
		cfn_err(t->c, at, "'%s' names no target group of this %s", attr, "document");
		return NULL;
	}
	return cfn_scalar(t->c->a, at, name_of(r));
}

/* r's actions (attr: action or default_action), which lb needs. */
static int actions(struct tf *t, const struct tf_res *r, const char *attr, struct ynode **out)
{
	struct cfn *c = t->c;
	const struct ynode *list = need(t, r, attr, YNODE_SEQUENCE);
	const struct ynode *elist = ydoc_get(r->expr, attr);

	if (!list || map_items(t, r, list, attr))
		return -1;
	*out = cfn_seq(c->a, list);
	for (size_t i = 0; i < list->n; i++) {
		const struct ynode *a = list->items[i], *e = elist && elist->type == YNODE_SEQUENCE &&
								     i < elist->n ? elist->items[i] : NULL;
		const char *type = tf_str(ydoc_get(a, "type"));
		struct ynode *o = cfn_map(c->a, a), *name;

		put(c, o, "type", ydoc_get(a, "type"));
		if (type && strcmp(type, "forward") == 0 &&
		    (tf_str(ydoc_get(a, "target_group_arn")) ||
		     ydoc_get(ydoc_get(e, "target_group_arn"), "references"))) {
			if (!(name = tg_name(t, r, a, e, "target_group_arn", a)))
				return -1;
			cfn_put(c->a, o, "target_group", name);
		} else if (type && strcmp(type, "forward") == 0) {
			const struct ynode *f = block(a, "forward"), *fe = expr_block(e, "forward", 0);
			const struct ynode *tgs = ydoc_get(f, "target_group");
			const struct ynode *etgs = ydoc_get(fe, "target_group");
			struct ynode *fo = cfn_map(c->a, a), *list2 = cfn_seq(c->a, a);
			const struct ynode *st = block(f, "stickiness");

			if (f && f->type != YNODE_MAPPING)
				return cfn_err(c, f, "%s: forward must be a map", r->addr);
			if (tgs && tgs->type == YNODE_SEQUENCE && map_items(t, r, tgs, "target_group"))
				return -1;
			for (size_t j = 0; tgs && tgs->type == YNODE_SEQUENCE && j < tgs->n; j++) {
				struct ynode *g = cfn_map(c->a, tgs->items[j]);

				if (!(name = tg_name(t, r, tgs->items[j], etgs && etgs->type ==
						     YNODE_SEQUENCE && j < etgs->n ? etgs->items[j]
						     : NULL, "arn", tgs->items[j])))
					return -1;
				cfn_put(c->a, g, "name", name);
				put(c, g, "weight", ydoc_get(tgs->items[j], "weight"));
				cfn_push(c->a, list2, g);
			}
			cfn_put(c->a, fo, "target_groups", list2);
			if (st && tf_str(ydoc_get(st, "enabled")) &&
			    strcmp(tf_str(ydoc_get(st, "enabled")), "true") == 0) {
				struct ynode *so = cfn_map(c->a, st);

				put(c, so, "enabled", ydoc_get(st, "enabled"));
				put(c, so, "duration", ydoc_get(st, "duration"));
				cfn_put(c->a, fo, "stickiness", so);
			}
			cfn_put(c->a, o, "forward", fo);
		} else if (type) {
			const char *key = strcmp(type, "fixed-response") == 0 ? "fixed_response" :
					  strcmp(type, "redirect") == 0 ? "redirect" : NULL;
			const struct ynode *b = key ? block(a, key) : NULL;
			struct ynode *bo = cfn_map(c->a, a);

			if (b && b->type != YNODE_MAPPING)
				return cfn_err(c, b, "%s: %s must be a map", r->addr, key);
			for (size_t j = 0; b && j < b->n; j++)
				put(c, bo, b->pairs[j].key->str, b->pairs[j].value);
			if (!key)
				return cfn_err(c, a, "action type '%s' is not supported", type);
			cfn_put(c->a, o, key, bo);
		}
		cfn_push(c->a, *out, o);
	}
	return 0;
}

static const char *const cond_keys[] = {
	"host_header", "path_pattern", "http_header", "http_request_method", "query_string",
	"source_ip",
};

/* The rule r's conditions, which lb needs: NULL with the error set. */
static struct ynode *conditions(struct tf *t, const struct tf_res *r)
{
	struct cfn *c = t->c;
	const struct ynode *list = need(t, r, "condition", YNODE_SEQUENCE);
	struct ynode *out;

	if (!list || map_items(t, r, list, "condition"))
		return NULL;
	out = cfn_seq(c->a, list);
	for (size_t i = 0; i < list->n; i++) {
		for (size_t k = 0; k < ARRAY_LEN(cond_keys); k++) {
			const struct ynode *v = ydoc_get(list->items[i], cond_keys[k]);
			struct ynode *o, *body;

			if (is_null(v))
				continue;
			o = cfn_map(c->a, v);
			body = cfn_map(c->a, v);
			if (strcmp(cond_keys[k], "query_string") == 0) {
				struct ynode *vals = cfn_seq(c->a, v);

				if (v->type == YNODE_SEQUENCE && map_items(t, r, v, "query_string"))
					return NULL;
				for (size_t j = 0; v->type == YNODE_SEQUENCE && j < v->n; j++) {
					struct ynode *kv = cfn_map(c->a, v->items[j]);

					put(c, kv, "key", ydoc_get(v->items[j], "key"));
					put(c, kv, "value", ydoc_get(v->items[j], "value"));
					cfn_push(c->a, vals, kv);
				}
				cfn_put(c->a, body, "values", vals);
			} else {
				const struct ynode *b = block(list->items[i], cond_keys[k]);

				put(c, body, "http_header_name", ydoc_get(b, "http_header_name"));
				put(c, body, "values", ydoc_get(b, "values"));
			}
			cfn_put(c->a, o, cond_keys[k], body);
			cfn_push(c->a, out, o);
		}
	}
	return out;
}

static int listener(struct tf *t, struct tf_res *l, struct ynode *list)
{
	struct cfn *c = t->c;
	struct ynode *o = cfn_map(c->a, l->values), *acts, *rules = cfn_seq(c->a, l->values);

	cfn_put(c->a, o, "port", cfn_port(c, ydoc_get(l->values, "port")));
	put(c, o, "protocol", ydoc_get(l->values, "protocol"));
	if (actions(t, l, "default_action", &acts))
		return -1;
	for (size_t i = 0; i < t->nres; i++) {
		struct tf_res *r = &t->res[i];
		struct ynode *ro, *ra, *conds;

		if (!strstr(r->type, "_listener_rule") || tf_link(t, r, r->values, r->expr, "listener_arn",
							       "_listener") != l)
			continue;
		ro = cfn_map(c->a, r->values);
		put(c, ro, "priority", ydoc_get(r->values, "priority"));
		if (!(conds = conditions(t, r)) || actions(t, r, "action", &ra))
			return -1;
		cfn_put(c->a, ro, "conditions", conds);
		cfn_put(c->a, ro, "actions", ra);
		cfn_push(c->a, rules, ro);
	}
	if (rules->n)
		cfn_put(c->a, o, "rules", rules);
	cfn_put(c->a, o, "default_actions", acts);
	cfn_push(c->a, list, o);
	return 0;
}

static void attr_put(struct cfn *c, struct ynode *attrs, const char *key, const struct ynode *v)
{
	put(c, attrs, key, v);
}

static int target_group(struct tf *t, struct tf_res *g, struct ynode *list)
{
	struct cfn *c = t->c;
	const struct ynode *v = g->values, *hc = block(v, "health_check"), *st = block(v, "stickiness");
	const char *type = tf_str(ydoc_get(v, "target_type"));
	bool lambda = type && strcmp(type, "lambda") == 0;
	struct ynode *o = cfn_map(c->a, v), *attrs = cfn_map(c->a, v), *targets = cfn_seq(c->a, v);
	struct ynode *h = cfn_map(c->a, v);

	put(c, o, "name", ydoc_get(v, "name"));
	/* Why: the provider's default target_type is instance, as AWS's. */
	cfn_put(c->a, o, "target_type", cfn_scalar(c->a, v, type ? type : "instance"));
	if (lambda) {
		attr_put(c, attrs, "lambda.multi_value_headers.enabled",
			 ydoc_get(v, "lambda_multi_value_headers_enabled"));
		if (hc && tf_str(ydoc_get(hc, "enabled")) && strcmp(tf_str(ydoc_get(hc, "enabled")), "true") == 0) {
			static const char *const keys[] = { "enabled", "path", "interval", "timeout",
				"healthy_threshold", "unhealthy_threshold", "matcher" };

			for (size_t i = 0; i < ARRAY_LEN(keys); i++)
				put(c, h, keys[i], ydoc_get(hc, keys[i]));
		}
	} else {
		static const char *const keys[] = { "path", "interval", "timeout",
			"healthy_threshold", "unhealthy_threshold", "matcher", "protocol" };
		const char *hport = tf_str(ydoc_get(hc, "port"));

		put(c, o, "protocol", ydoc_get(v, "protocol"));
		put(c, o, "port", ydoc_get(v, "port"));
		put(c, o, "protocol_version", ydoc_get(v, "protocol_version"));
		attr_put(c, attrs, "deregistration_delay.timeout_seconds",
			 ydoc_get(v, "deregistration_delay"));
		attr_put(c, attrs, "slow_start.duration_seconds", ydoc_get(v, "slow_start"));
		attr_put(c, attrs, "load_balancing.algorithm.type",
			 ydoc_get(v, "load_balancing_algorithm_type"));
		if (st && tf_str(ydoc_get(st, "enabled")) && strcmp(tf_str(ydoc_get(st, "enabled")), "true") == 0) {
			const char *stype = tf_str(ydoc_get(st, "type"));
			bool app = stype && strcmp(stype, "app_cookie") == 0;

			attr_put(c, attrs, "stickiness.enabled", ydoc_get(st, "enabled"));
			attr_put(c, attrs, "stickiness.type", ydoc_get(st, "type"));
			attr_put(c, attrs, app ? "stickiness.app_cookie.duration_seconds"
					       : "stickiness.lb_cookie.duration_seconds",
				 ydoc_get(st, "cookie_duration"));
			if (app)
				attr_put(c, attrs, "stickiness.app_cookie.cookie_name",
					 ydoc_get(st, "cookie_name"));
		}
		for (size_t i = 0; hc && i < ARRAY_LEN(keys); i++)
			put(c, h, keys[i], ydoc_get(hc, keys[i]));
		if (hport && strcmp(hport, "traffic-port") != 0)
			put(c, h, "port", ydoc_get(hc, "port"));
	}
	for (size_t i = 0; i < t->nres; i++) {
		struct tf_res *a = &t->res[i];
		const struct ynode *id = ydoc_get(a->values, "target_id");

		if (strcmp(a->type, "aws_lb_target_group_attachment") != 0 &&
		    strcmp(a->type, "aws_alb_target_group_attachment") != 0)
			continue;
		if (tf_link(t, a, a->values, a->expr, "target_group_arn", "_target_group") != g)
			continue;
		if (lambda) {
			struct tf_res *fn = tf_link(t, a, a->values, a->expr, "target_id", "aws_lambda_");
			const char *target = tf_str(id) ? cfn_lambda_target(c, tf_str(id)) : NULL;

			if (!target && fn && strcmp(fn->type, "aws_lambda_alias") == 0) {
				const char *of = tf_str(ydoc_get(fn->values, "function_name"));
				struct tf_res *base = of ? NULL : tf_link(t, fn, fn->values, fn->expr,
								       "function_name",
								       "aws_lambda_function");

				if (base)
					of = name_of(base);
				if (of && strncmp(of, "arn:", 4) == 0)
					of = cfn_lambda_target(c, of);
				if (of && tf_str(ydoc_get(fn->values, "name")))
					target = config_printf(c->a, "%s:%s", of,
							       tf_str(ydoc_get(fn->values, "name")));
			}
			else if (!target && fn)
				target = name_of(fn);
			if (!target)
				return cfn_err(c, a->values, "'%s' attaches no Lambda function", a->addr);
			/* a function name may itself be an ARN (alias function_name) */
			if (strncmp(target, "arn:", 4) == 0)
				target = cfn_lambda_target(c, target);
			cfn_push(c->a, targets, cfn_scalar(c->a, a->values, target));
		} else {
			struct ynode *m = cfn_map(c->a, a->values);

			put(c, m, "id", id);
			put(c, m, "port", ydoc_get(a->values, "port"));
			cfn_push(c->a, targets, m);
		}
	}
	if (targets->n)
		cfn_put(c->a, o, "targets", targets);
	if (attrs->n)
		cfn_put(c->a, o, "attributes", attrs);
	if (h->n)
		cfn_put(c->a, o, "health_check", h);
	cfn_push(c->a, list, o);
	return 0;
}

/*
 * Why: Terraform zips source_dir with archive_file and uploads the zip; lb
 * runs the directory, so an edit shows without terraform apply. Otherwise
 * filename itself: the .zip Lambda is given (lb extracts a function's, as
 * Lambda does, and takes a layer's), or a directory. NULL when there is no
 * filename (code in S3, or an image).
 */
static struct ynode *code_dir(struct tf *t, const struct tf_res *r)
{
	const char *file = tf_str(ydoc_get(r->values, "filename"));

	for (size_t i = 0; i < t->nres; i++) {
		const struct ynode *av = t->res[i].values;

		if (strcmp(t->res[i].type, "archive_file") == 0 && tf_str(ydoc_get(av, "source_dir")) &&
		    ((file && tf_str(ydoc_get(av, "output_path")) &&
		      strcmp(tf_str(ydoc_get(av, "output_path")), file) == 0) ||
		     tf_link(t, r, r->values, r->expr, "filename", "archive_file") == &t->res[i]))
			return (struct ynode *)ydoc_get(av, "source_dir");
	}
	return file ? (struct ynode *)ydoc_get(r->values, "filename") : NULL;
}

/*
 * The local directory of the layer version a plan's configuration reference
 * names, taking references[*next...] in order; NULL when none is left.
 */
static struct ynode *next_layer_ref(struct tf *t, const struct ynode *els, size_t *next)
{
	for (; els && els->type == YNODE_SEQUENCE && *next < els->n; (*next)++) {
		const char *ref = tf_str(els->items[*next]);

		for (size_t j = 0; ref && j < t->nres; j++) {
			size_t n = strlen(t->res[j].addr);
			struct ynode *dir;

			if (strcmp(t->res[j].type, "aws_lambda_layer_version") == 0 &&
			    strncmp(ref, t->res[j].addr, n) == 0 && strcmp(ref + n, ".arn") == 0 &&
			    (dir = code_dir(t, &t->res[j]))) {
				(*next)++;
				return dir;
			}
		}
	}
	return NULL;
}

static int layers(struct tf *t, const struct tf_res *f, struct ynode *o)
{
	const struct ynode *ls = ydoc_get(f->values, "layers");
	const struct ynode *els = ydoc_get(ydoc_get(f->expr, "layers"), "references");
	struct ynode *out = cfn_seq(t->c->a, f->values), *dir;
	size_t next = 0;

	for (size_t i = 0; ls && ls->type == YNODE_SEQUENCE && i < ls->n; i++) {
		const char *arn = tf_str(ls->items[i]);
		struct tf_res *l = NULL;

		/* Why: a plan writes an element known only after apply as null, in its
		 * place in the list (Terraform's omitUnknowns): its reference says which. */
		if (!arn && t->plan && (dir = next_layer_ref(t, els, &next))) {
			cfn_push(t->c->a, out, dir);
			continue;
		}
		for (size_t j = 0; arn && j < t->nres && !l; j++) {
			if (strcmp(t->res[j].type, "aws_lambda_layer_version") == 0 &&
			    tf_str(ydoc_get(t->res[j].values, "arn")) &&
			    strcmp(tf_str(ydoc_get(t->res[j].values, "arn")), arn) == 0)
				l = &t->res[j];
		}
		if (!l && arn && cfn_layer_arn(arn)) {
			cfn_layer_skipped(ls->items[i], arn, "document", f->addr);
			continue;
		}
		if (!l || !(dir = code_dir(t, l)))
			return cfn_err(t->c, ls->items[i], "layer '%s' is not an aws_lambda_layer_version "
				       "of this document with a local filename", arn ? arn : "?");
		cfn_push(t->c->a, out, dir);
	}
	/* In a plan, a list of layers all unknown is left out: follow the references. */
	while (!ls && (dir = next_layer_ref(t, els, &next)))
		cfn_push(t->c->a, out, dir);
	if (out->n)
		cfn_put(t->c->a, o, "layers", out);
	return 0;
}

static int function(struct tf *t, struct tf_res *f, struct ynode *list)
{
	struct cfn *c = t->c;
	const struct ynode *v = f->values, *env = block(v, "environment");
	const struct ynode *fn = need(t, f, "function_name", YNODE_SCALAR);
	const char *fname = fn ? fn->str : NULL;
	struct ynode *o = cfn_map(c->a, v), *code = NULL, *versions = cfn_seq(c->a, v);
	struct ynode *aliases = cfn_seq(c->a, v);
	static const char *const keys[] = { "runtime", "handler", "timeout", "memory_size" };
	const char *rc = tf_str(ydoc_get(v, "reserved_concurrent_executions"));

	if (!fname)
		return -1;
	put(c, o, "name", fn);
	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		put(c, o, keys[i], ydoc_get(v, keys[i]));
	code = code_dir(t, f);
	if (!code)
		return cfn_err(c, v, "function '%s' (%s) has no local code: give it a filename (a .zip "
			       "file or a directory, or archive_file's output_path)", fname, f->addr);
	cfn_put(c->a, o, "code", code);
	if (env)
		put(c, o, "environment", env);
	if (layers(t, f, o))
		return -1;
	if (rc && strcmp(rc, "-1") != 0)
		put(c, o, "reserved_concurrent_executions", ydoc_get(v, "reserved_concurrent_executions"));
	for (size_t i = 0; i < t->nres; i++) {
		struct tf_res *a = &t->res[i];
		const struct ynode *av = a->values, *rcfg = block(av, "routing_config");
		const char *afn = tf_str(ydoc_get(av, "function_name"));
		struct ynode *m;

		if (strcmp(a->type, "aws_lambda_alias") != 0)
			continue;
		if (afn && strncmp(afn, "arn:", 4) == 0)
			afn = cfn_lambda_target(c, afn);
		if (!(afn ? strcmp(afn, fname) == 0 : tf_link(t, a, av, a->expr, "function_name",
							    "aws_lambda_function") == f))
			continue;
		m = cfn_map(c->a, av);
		put(c, m, "name", ydoc_get(av, "name"));
		put(c, m, "function_version", ydoc_get(av, "function_version"));
		if (rcfg && !is_null(ydoc_get(rcfg, "additional_version_weights"))) {
			const struct ynode *w = ydoc_get(rcfg, "additional_version_weights");
			struct ynode *r = cfn_map(c->a, rcfg);

			if (w->type != YNODE_MAPPING)
				return cfn_err(c, w, "%s: additional_version_weights must be a map",
					       a->addr);
			put(c, r, "additional_version_weights", w);
			cfn_put(c->a, m, "routing_config", r);
		}
		cfn_push(c->a, aliases, m);
	}
	/* lb's choice: the published versions aliases name, all as the function is now. */
	for (size_t i = 0; i < aliases->n; i++) {
		const char *ver = tf_str(ydoc_get(aliases->items[i], "function_version"));
		const struct ynode *w = ydoc_get(ydoc_get(aliases->items[i], "routing_config"),
						 "additional_version_weights");

		for (size_t j = 0; j < 1 + (w ? w->n : 0); j++) {
			const char *vv = j == 0 ? ver : w->pairs[j - 1].key->str;
			bool dup = !vv || strcmp(vv, "$LATEST") == 0;

			for (size_t k = 0; !dup && k < versions->n; k++)
				dup = strcmp(tf_str(ydoc_get(versions->items[k], "version")), vv) == 0;
			if (!dup) {
				struct ynode *m = cfn_map(c->a, aliases->items[i]);

				cfn_put(c->a, m, "version", cfn_scalar(c->a, aliases->items[i], vv));
				cfn_push(c->a, versions, m);
			}
		}
	}
	if (versions->n)
		cfn_put(c->a, o, "versions", versions);
	if (aliases->n)
		cfn_put(c->a, o, "aliases", aliases);
	cfn_push(c->a, list, o);
	return 0;
}

/*
 * r's attr (a listener's load_balancer_arn, a rule's listener_arn, an
 * attachment's target_group_arn, linked with type) when it links to no
 * resource of the document: what r is joined to is then not served, and the
 * requests it would take go elsewhere, so lb says so. A known ARN is a
 * warning (a resource outside this document: another state, or one made by
 * hand); a plan's value known only after apply is an error, since the
 * configuration's references were lb's only way to it.
 */
static int unlinked(struct tf *t, const struct tf_res *r, const char *attr, const char *type,
		    const char *what)
{
	const struct ynode *v = ydoc_get(r->values, attr), *e = ydoc_get(r->expr, attr);
	const struct ynode *refs = ydoc_get(e, "references");
	const char *list = "";

	if (tf_link(t, r, r->values, r->expr, attr, type))
		return 0;
	if (tf_str(v)) {
		log_warn("%s:%d:%d: %s: %s '%s' names no %s of this document: lb leaves %s out",
			 v->file, v->line, v->col, r->addr, attr, tf_str(v), what, r->addr);
		return 0;
	}
	if (!t->plan)
		return need(t, r, attr, YNODE_SCALAR) ? 0 : -1;
	for (size_t k = 0; refs && refs->type == YNODE_SEQUENCE && k < refs->n; k++)
		if (tf_str(refs->items[k]))
			list = config_printf(t->c->a, "%s%s%s", list, *list ? ", " : "",
					     tf_str(refs->items[k]));
	if (!*list)
		return cfn_err(t->c, e ? e : r->values, "%s: %s is known only after apply, and the "
			       "configuration has no reference linking it to a %s of this plan",
			       r->addr, attr, what);
	return cfn_err(t->c, e, "%s: %s is known only after apply, and lb cannot link its "
		       "references (%s) to a %s of this plan", r->addr, attr, list, what);
}

/* Every listener, rule and attachment is joined to something lb serves. */
static int links(struct tf *t)
{
	static const struct { const char *type, *attr, *link, *what; } joins[] = {
		{ "aws_lb_listener", "load_balancer_arn", "aws_", "load balancer" },
		{ "aws_alb_listener", "load_balancer_arn", "aws_", "load balancer" },
		{ "aws_lb_listener_rule", "listener_arn", "_listener", "listener" },
		{ "aws_alb_listener_rule", "listener_arn", "_listener", "listener" },
		{ "aws_lb_target_group_attachment", "target_group_arn", "_target_group", "target group" },
		{ "aws_alb_target_group_attachment", "target_group_arn", "_target_group", "target group" },
	};

	for (size_t i = 0; i < t->nres; i++)
		for (size_t j = 0; !t->res[i].data && j < ARRAY_LEN(joins); j++)
			if (strcmp(t->res[i].type, joins[j].type) == 0 &&
			    unlinked(t, &t->res[i], joins[j].attr, joins[j].link, joins[j].what))
				return -1;
	return 0;
}

static const char *const emulated[] = {
	"aws_lb", "aws_alb", "aws_lb_listener", "aws_alb_listener", "aws_lb_listener_rule",
	"aws_alb_listener_rule", "aws_lb_target_group", "aws_alb_target_group",
	"aws_lb_target_group_attachment", "aws_alb_target_group_attachment",
	"aws_lambda_function", "aws_lambda_alias", "aws_lambda_layer_version", "archive_file",
	/* Why: locally ALB may always invoke; this only grants that on AWS. */
	"aws_lambda_permission",
};

static bool is_emulated(const char *type)
{
	for (size_t i = 0; i < ARRAY_LEN(emulated); i++)
		if (strcmp(emulated[i], type) == 0)
			return true;
	return false;
}

static int tf_lb(struct tf *t, struct tf_res **lb, struct ynode *root)
{
	struct cfn *c = t->c;
	struct ynode *o, *attrs;
	static const struct { const char *tf, *lb; } keys[] = {
		{ "idle_timeout", "idle_timeout.timeout_seconds" },
		{ "client_keep_alive", "client_keep_alive.seconds" },
		{ "desync_mitigation_mode", "routing.http.desync_mitigation_mode" },
		{ "xff_header_processing_mode", "routing.http.xff_header_processing.mode" },
		{ "enable_xff_client_port", "routing.http.xff_client_port.enabled" },
		{ "preserve_host_header", "routing.http.preserve_host_header.enabled" },
		{ "drop_invalid_header_fields", "routing.http.drop_invalid_header_fields.enabled" },
	};

	const struct tf_res *data = NULL;

	*lb = NULL;
	for (size_t i = 0; i < t->nres; i++) {
		const char *type = tf_str(ydoc_get(t->res[i].values, "load_balancer_type"));

		if (strcmp(t->res[i].type, "aws_lb") && strcmp(t->res[i].type, "aws_alb"))
			continue;
		if (type && strcmp(type, "application") != 0)
			continue;
		/* Why: a data source reads an ALB that exists already, deployed
		 * elsewhere; this configuration does not create it, so lb does not run it. */
		if (t->res[i].data) {
			data = data ? data : &t->res[i];
			continue;
		}
		if (*lb)
			return cfn_err(c, t->res[i].values, "lb serves one load balancer; '%s' is a "
				       "second one (first: '%s')", t->res[i].addr, (*lb)->addr);
		*lb = &t->res[i];
	}
	if (!*lb && data)
		return cfn_err(c, data->values ? data->values : data->at, "no application load "
			       "balancer (aws_lb) in it: '%s' is a data source, an ALB deployed "
			       "elsewhere, which lb does not run", data->addr);
	if (!*lb)
		return cfn_err(c, c->root, "no application load balancer (aws_lb) in it");
	o = cfn_map(c->a, (*lb)->values);
	attrs = cfn_map(c->a, (*lb)->values);
	put(c, o, "name", ydoc_get((*lb)->values, "name"));
	cfn_put(c->a, o, "region", cfn_scalar(c->a, (*lb)->values, c->region));
	for (size_t i = 0; i < ARRAY_LEN(keys); i++)
		put(c, attrs, keys[i].lb, ydoc_get((*lb)->values, keys[i].tf));
	if (attrs->n)
		cfn_put(c->a, o, "attributes", attrs);
	cfn_put(c->a, root, "load_balancer", o);
	return 0;
}

int tf_config(struct cfn *c, const struct ynode *doc, struct ynode **out)
{
	struct tf t = { .c = c, .plan = !ydoc_get(doc, "values") };
	const struct ynode *vals = ydoc_get(doc, "values") ? ydoc_get(doc, "values")
							   : ydoc_get(doc, "planned_values");
	struct ynode *root = cfn_map(c->a, doc), *ls = cfn_seq(c->a, doc);
	struct ynode *tgs = cfn_seq(c->a, doc), *fns = cfn_seq(c->a, doc);
	struct tf_mod top = { .prefix = "", .idx = "",
			      .conf = ydoc_get(ydoc_get(doc, "configuration"), "root_module") };
	struct tf_res *lb;
	int rc = -1;

	tf_collect(&t, ydoc_get(vals, "root_module"), &top, false);
	/* Why: a plan's data sources are read into prior_state, beside the managed
	 * resources as they were before the plan, which planned_values replaces. */
	tf_collect(&t, ydoc_get(ydoc_get(ydoc_get(doc, "prior_state"), "values"), "root_module"),
		&top, true);
	/* what lb reads is in values: from here on those of emulated resources are maps */
	for (size_t i = 0; i < t.nres; i++) {
		struct tf_res *r = &t.res[i];

		if (is_emulated(r->type) && strcmp(r->type, "aws_lambda_permission") &&
		    !need_in(&t, r, r->at, "values", YNODE_MAPPING))
			goto out;
	}
	if (tf_lb(&t, &lb, root))
		goto out;
	if (links(&t))
		goto out;
	for (size_t i = 0; i < t.nres; i++) {
		struct tf_res *r = &t.res[i];

		if (!is_emulated(r->type) && !r->data)
			buf_printf(c->skipped, "%s%s", c->skipped->len ? ", " : "", r->addr);
		if ((!strcmp(r->type, "aws_lb_listener") || !strcmp(r->type, "aws_alb_listener")) &&
		    !r->data && tf_link(&t, r, r->values, r->expr, "load_balancer_arn", "aws_") == lb &&
		    listener(&t, r, ls))
			goto out;
	}
	for (size_t i = 0; i < t.nres; i++) {
		if ((!strcmp(t.res[i].type, "aws_lb_target_group") ||
		     !strcmp(t.res[i].type, "aws_alb_target_group")) && !t.res[i].data &&
		    target_group(&t, &t.res[i], tgs))
			goto out;
		if (!strcmp(t.res[i].type, "aws_lambda_function") && !t.res[i].data &&
		    function(&t, &t.res[i], fns))
			goto out;
	}
	if (ls->n == 0) {
		cfn_err(c, lb->values, "load balancer '%s' has no listener", lb->addr);
		goto out;
	}
	cfn_put(c->a, root, "listeners", ls);
	if (tgs->n)
		cfn_put(c->a, root, "target_groups", tgs);
	if (fns->n)
		cfn_put(c->a, root, "functions", fns);
	*out = root;
	rc = 0;
out:
	free(t.res);
	return rc;
}
