/*
 * tf_map: the JSON of `terraform show -json` (a state, or a saved plan) as
 * lb.yaml's tree (DESIGN.md §16). lb's keys already follow the Terraform AWS
 * provider's spelling, so most values move across unchanged; blocks, which
 * Terraform's JSON writes as lists of one object, are unwrapped.
 *
 * Resources link through ARNs: in a state the listener's load_balancer_arn
 * is the aws_lb's arn. In a plan those ARNs are not known yet, so the link
 * comes from the configuration's expression references instead
 * ("aws_lb.main.arn"), walked in parallel with the values. Paths
 * (filename, source_dir) are relative to the JSON file's directory, which
 * should be the Terraform root module's. Resources of modules are read too.
 */
#include <stdlib.h>
#include <string.h>

#include "config/cfn.h"
#include "config/config_int.h"
#include "config/tf.h"
#include "base/log.h"

/* A module (instance): the root, or one a module call makes. */
struct tf_mod {
	const char *prefix;        /* "", "module.m." or "module.m[\"k\"]." (addresses') */
	const char *idx;           /* "[\"k\"]" of a count/for_each instance, or "" */
	const struct ynode *conf;  /* its configuration (module_calls.m.module), or NULL */
	const struct ynode *call;  /* module_calls.m in its caller's configuration, or NULL */
	const struct tf_mod *up;   /* its caller; NULL for the root */
};

struct tf_res {
	const char *addr, *type;
	bool data;
	const struct ynode *at;              /* the resource's object, for errors */
	const struct ynode *values, *expr;   /* expr: the configuration's, or NULL */
	const struct tf_mod *m;              /* its module */
};

struct tf {
	struct cfn *c;
	struct tf_res *res;
	size_t nres, cap;
	bool plan;
};

static bool is_null(const struct ynode *n)
{
	return !n || ydoc_is_null(n) || (n->type == YNODE_SEQUENCE && n->n == 0);
}

static const char *str(const struct ynode *n)
{
	return n && n->type == YNODE_SCALAR && !ydoc_is_null(n) ? n->str : NULL;
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

/* The module call name of "module.m" or "module.m[...]" in c->a, and its
 * instance index ("[...]", or "") in *idx; NULL if s is not one. */
static const char *call_name(struct tf *t, const char *s, const char **idx)
{
	size_t n;

	if (strncmp(s, "module.", 7) != 0)
		return NULL;
	s += 7;
	n = strcspn(s, ".[");
	*idx = "";
	if (s[n] == '[') {
		const char *end = strstr(s + n, "].");

		*idx = arena_strndup(t->c->a, s + n, end ? (size_t)(end + 1 - (s + n))
						     : strlen(s + n));
	}
	return arena_strndup(t->c->a, s, n);
}

/* The module call (module_calls.NAME) of up's configuration, as a module. */
static const struct tf_mod *callee(struct tf *t, const struct tf_mod *up, const char *name,
				   const char *idx)
{
	struct tf_mod *m = arena_alloc(t->c->a, sizeof(*m));

	m->call = ydoc_get(ydoc_get(up->conf, "module_calls"), name);
	m->conf = ydoc_get(m->call, "module");
	m->prefix = config_printf(t->c->a, "%smodule.%s%s.", up->prefix, name, idx);
	m->idx = idx;
	m->up = up;
	return m;
}

/* Module resources: "module.m.aws_lb.x" in planned values; configuration
 * resources say "aws_lb.x" inside module_calls.m.module. Only data sources
 * when data_only. */
static void collect(struct tf *t, const struct ynode *mod, const struct tf_mod *m, bool data_only)
{
	const struct ynode *rs = ydoc_get(mod, "resources"), *kids = ydoc_get(mod, "child_modules");
	const struct ynode *crs = ydoc_get(m->conf, "resources");
	const char *prefix = m->prefix;

	for (size_t i = 0; rs && rs->type == YNODE_SEQUENCE && i < rs->n; i++) {
		const struct ynode *r = rs->items[i];
		struct tf_res *o;
		const char *addr = str(ydoc_get(r, "address")), *local;

		if (!addr || !str(ydoc_get(r, "type")) ||
		    (data_only && !(str(ydoc_get(r, "mode")) &&
				    strcmp(str(ydoc_get(r, "mode")), "data") == 0)))
			continue;
		xgrow(&t->res, &t->cap, t->nres + 1, sizeof(*t->res));
		o = &t->res[t->nres++];
		*o = (struct tf_res){ .addr = addr, .type = str(ydoc_get(r, "type")), .at = r,
				      .data = str(ydoc_get(r, "mode")) &&
					      strcmp(str(ydoc_get(r, "mode")), "data") == 0,
				      .values = ydoc_get(r, "values"), .m = m };
		local = strncmp(addr, prefix, strlen(prefix)) == 0 ? addr + strlen(prefix) : addr;
		for (size_t j = 0; crs && crs->type == YNODE_SEQUENCE && j < crs->n; j++) {
			const char *ca = str(ydoc_get(crs->items[j], "address"));
			size_t n = ca ? strlen(ca) : 0;

			/* count/for_each instances: "aws_lb.x[0]" in values, "aws_lb.x" here */
			if (ca && strncmp(local, ca, n) == 0 && (!local[n] || local[n] == '['))
				o->expr = ydoc_get(crs->items[j], "expressions");
		}
	}
	for (size_t i = 0; kids && kids->type == YNODE_SEQUENCE && i < kids->n; i++) {
		const char *a = str(ydoc_get(kids->items[i], "address")), *idx = "";
		/* "module.m.module.n[\"k\"]": the call "n" of m, instance ["k"] */
		const char *name = a && strncmp(a, prefix, strlen(prefix)) == 0 ?
				   call_name(t, a + strlen(prefix), &idx) : NULL;

		if (name) {
			collect(t, kids->items[i], callee(t, m, name, idx), data_only);
		} else if (a) { /* not Terraform's: its resources, without configuration */
			struct tf_mod *odd = arena_alloc(t->c->a, sizeof(*odd));

			*odd = (struct tf_mod){ .prefix = config_printf(t->c->a, "%s.", a),
						.idx = "", .up = m };
			collect(t, kids->items[i], odd, data_only);
		}
	}
}

/* "aws_x.y[\"k\"]" after its module prefix -> the "[...]" of a count/for_each
 * instance, or "" for a resource without. */
static const char *index_of(const struct tf_res *r)
{
	const char *b = strchr(r->addr + strlen(r->m->prefix), '[');

	return b ? b : "";
}

static struct tf_res *resolve(struct tf *t, const struct tf_mod *m, const char *ref,
			      const char *type, const char *idx, int depth);

/* The first of refs (a configuration's "references") that resolves in m. */
static struct tf_res *resolve_any(struct tf *t, const struct tf_mod *m, const struct ynode *refs,
				  const char *type, const char *idx, int depth)
{
	for (size_t k = 0; refs && refs->type == YNODE_SEQUENCE && k < refs->n; k++) {
		struct tf_res *r = str(refs->items[k]) ? resolve(t, m, str(refs->items[k]), type,
								 idx, depth) : NULL;
		if (r)
			return r;
	}
	return NULL;
}

/*
 * The resource of module m a plan's reference names, as seen from the
 * instance index idx of the referrer. Why: a plan's references are
 * module-local ("aws_lb_target_group.svc", with "each.key" beside it for
 * svc[each.key]); a module's output is reached as "module.m.out", whose
 * expression the module's configuration holds; and an input variable
 * ("var.listener_arn") is set by the expression of that name in the call of
 * the module (module_calls.m.expressions), written in the caller's terms,
 * where each.key is the module instance's key.
 */
static struct tf_res *resolve(struct tf *t, const struct tf_mod *m, const char *ref,
			      const char *type, const char *idx, int depth)
{
	struct tf_res *one = NULL;
	size_t n = strcspn(ref, ".["), nmatch = 0;
	const char *call, *cidx;

	if (depth >= 16) /* nested modules deeper than that, or a cycle */
		return NULL;
	if ((call = call_name(t, ref, &cidx))) {
		const struct tf_mod *sub = callee(t, m, call, cidx);
		const char *dot = strchr(ref + 7 + strlen(call) + strlen(cidx), '.');
		const char *out = dot ? arena_strndup(t->c->a, dot + 1, strcspn(dot + 1, ".[")) : NULL;

		if (!out)
			return NULL;
		return resolve_any(t, sub, ydoc_get(ydoc_get(ydoc_get(ydoc_get(sub->conf, "outputs"),
								     out), "expression"), "references"),
				   type, "", depth + 1);
	}
	if (strncmp(ref, "var.", 4) == 0) {
		const char *var = arena_strndup(t->c->a, ref + 4, strcspn(ref + 4, ".["));

		if (!m->up)
			return NULL;
		return resolve_any(t, m->up, ydoc_get(ydoc_get(ydoc_get(m->call, "expressions"), var),
						     "references"), type, m->idx, depth + 1);
	}
	if (!strchr(ref, '.'))
		return NULL; /* each.key, count.index...: no resource */
	n += strcspn(ref + n + 1, ".[") + 1; /* "aws_x.y" */
	for (size_t i = 0; i < t->nres; i++) {
		struct tf_res *r = &t->res[i];
		const char *local = r->addr + strlen(r->m->prefix);

		if (strcmp(r->m->prefix, m->prefix) != 0 || (type && !strstr(r->type, type)) ||
		    strncmp(local, ref, n) != 0 || (local[n] && local[n] != '['))
			continue;
		if (ref[n] == '[') { /* "aws_x.y[0]": that instance */
			if (strncmp(local + n, ref + n, strlen(local + n)) == 0)
				return r;
			continue;
		}
		if (strcmp(index_of(r), idx) == 0 && *idx)
			return r; /* svc[each.key] from svc["k"]: svc["k"] */
		one = r;
		nmatch++;
	}
	return nmatch == 1 ? one : NULL;
}

/* The resource an attribute of from (values v, expressions e) names: by its
 * ARN (or id, or function name) in a state, else by the expression's
 * reference in a plan. */
static struct tf_res *link(struct tf *t, const struct tf_res *from, const struct ynode *v,
			   const struct ynode *e, const char *attr, const char *type)
{
	const char *s = str(ydoc_get(v, attr));
	const struct ynode *refs = ydoc_get(ydoc_get(e, attr), "references");

	for (size_t i = 0; s && i < t->nres; i++) {
		const struct ynode *rv = t->res[i].values;

		if ((!type || strstr(t->res[i].type, type)) &&
		    ((str(ydoc_get(rv, "arn")) && strcmp(str(ydoc_get(rv, "arn")), s) == 0) ||
		     (str(ydoc_get(rv, "id")) && strcmp(str(ydoc_get(rv, "id")), s) == 0) ||
		     (str(ydoc_get(rv, "function_name")) &&
		      strcmp(str(ydoc_get(rv, "function_name")), s) == 0)))
			return &t->res[i];
	}
	/* Why: Terraform references are module-local ("aws_lb_target_group.this" inside
	 * module.b is module.b's), so only resolve() looks: a name alone would match
	 * a same-named resource of another module. */
	for (size_t k = 0; from && refs && refs->type == YNODE_SEQUENCE && k < refs->n; k++) {
		const char *ref = str(refs->items[k]);
		struct tf_res *r = ref ? resolve(t, from->m, ref, type, index_of(from), 0) : NULL;

		if (r)
			return r;
	}
	return NULL;
}

static const char *name_of(const struct tf_res *r)
{
	const char *n = str(ydoc_get(r->values, "name"));

	return n ? n : str(ydoc_get(r->values, "function_name"));
}

static struct ynode *tg_name(struct tf *t, const struct tf_res *from, const struct ynode *v,
			     const struct ynode *e, const char *attr, const struct ynode *at)
{
	struct tf_res *r = link(t, from, v, e, attr, "_target_group");

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
		const char *type = str(ydoc_get(a, "type"));
		struct ynode *o = cfn_map(c->a, a), *name;

		put(c, o, "type", ydoc_get(a, "type"));
		if (type && strcmp(type, "forward") == 0 &&
		    (str(ydoc_get(a, "target_group_arn")) ||
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
			if (st && str(ydoc_get(st, "enabled")) &&
			    strcmp(str(ydoc_get(st, "enabled")), "true") == 0) {
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

		if (!strstr(r->type, "_listener_rule") || link(t, r, r->values, r->expr, "listener_arn",
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
	const char *type = str(ydoc_get(v, "target_type"));
	bool lambda = type && strcmp(type, "lambda") == 0;
	struct ynode *o = cfn_map(c->a, v), *attrs = cfn_map(c->a, v), *targets = cfn_seq(c->a, v);
	struct ynode *h = cfn_map(c->a, v);

	put(c, o, "name", ydoc_get(v, "name"));
	/* Why: the provider's default target_type is instance, as AWS's. */
	cfn_put(c->a, o, "target_type", cfn_scalar(c->a, v, type ? type : "instance"));
	if (lambda) {
		attr_put(c, attrs, "lambda.multi_value_headers.enabled",
			 ydoc_get(v, "lambda_multi_value_headers_enabled"));
		if (hc && str(ydoc_get(hc, "enabled")) && strcmp(str(ydoc_get(hc, "enabled")), "true") == 0) {
			static const char *const keys[] = { "enabled", "path", "interval", "timeout",
				"healthy_threshold", "unhealthy_threshold", "matcher" };

			for (size_t i = 0; i < ARRAY_LEN(keys); i++)
				put(c, h, keys[i], ydoc_get(hc, keys[i]));
		}
	} else {
		static const char *const keys[] = { "path", "interval", "timeout",
			"healthy_threshold", "unhealthy_threshold", "matcher", "protocol" };
		const char *hport = str(ydoc_get(hc, "port"));

		put(c, o, "protocol", ydoc_get(v, "protocol"));
		put(c, o, "port", ydoc_get(v, "port"));
		put(c, o, "protocol_version", ydoc_get(v, "protocol_version"));
		attr_put(c, attrs, "deregistration_delay.timeout_seconds",
			 ydoc_get(v, "deregistration_delay"));
		attr_put(c, attrs, "slow_start.duration_seconds", ydoc_get(v, "slow_start"));
		attr_put(c, attrs, "load_balancing.algorithm.type",
			 ydoc_get(v, "load_balancing_algorithm_type"));
		if (st && str(ydoc_get(st, "enabled")) && strcmp(str(ydoc_get(st, "enabled")), "true") == 0) {
			const char *stype = str(ydoc_get(st, "type"));
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
		if (link(t, a, a->values, a->expr, "target_group_arn", "_target_group") != g)
			continue;
		if (lambda) {
			struct tf_res *fn = link(t, a, a->values, a->expr, "target_id", "aws_lambda_");
			const char *target = str(id) ? cfn_lambda_target(c, str(id)) : NULL;

			if (!target && fn && strcmp(fn->type, "aws_lambda_alias") == 0) {
				const char *of = str(ydoc_get(fn->values, "function_name"));
				struct tf_res *base = of ? NULL : link(t, fn, fn->values, fn->expr,
								       "function_name",
								       "aws_lambda_function");

				if (base)
					of = name_of(base);
				if (of && strncmp(of, "arn:", 4) == 0)
					of = cfn_lambda_target(c, of);
				if (of && str(ydoc_get(fn->values, "name")))
					target = config_printf(c->a, "%s:%s", of,
							       str(ydoc_get(fn->values, "name")));
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
	const char *file = str(ydoc_get(r->values, "filename"));

	for (size_t i = 0; i < t->nres; i++) {
		const struct ynode *av = t->res[i].values;

		if (strcmp(t->res[i].type, "archive_file") == 0 && str(ydoc_get(av, "source_dir")) &&
		    ((file && str(ydoc_get(av, "output_path")) &&
		      strcmp(str(ydoc_get(av, "output_path")), file) == 0) ||
		     link(t, r, r->values, r->expr, "filename", "archive_file") == &t->res[i]))
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
		const char *ref = str(els->items[*next]);

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
		const char *arn = str(ls->items[i]);
		struct tf_res *l = NULL;

		/* Why: a plan writes an element known only after apply as null, in its
		 * place in the list (Terraform's omitUnknowns): its reference says which. */
		if (!arn && t->plan && (dir = next_layer_ref(t, els, &next))) {
			cfn_push(t->c->a, out, dir);
			continue;
		}
		for (size_t j = 0; arn && j < t->nres && !l; j++) {
			if (strcmp(t->res[j].type, "aws_lambda_layer_version") == 0 &&
			    str(ydoc_get(t->res[j].values, "arn")) &&
			    strcmp(str(ydoc_get(t->res[j].values, "arn")), arn) == 0)
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
	const char *rc = str(ydoc_get(v, "reserved_concurrent_executions"));

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
		const char *afn = str(ydoc_get(av, "function_name"));
		struct ynode *m;

		if (strcmp(a->type, "aws_lambda_alias") != 0)
			continue;
		if (afn && strncmp(afn, "arn:", 4) == 0)
			afn = cfn_lambda_target(c, afn);
		if (!(afn ? strcmp(afn, fname) == 0 : link(t, a, av, a->expr, "function_name",
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
		const char *ver = str(ydoc_get(aliases->items[i], "function_version"));
		const struct ynode *w = ydoc_get(ydoc_get(aliases->items[i], "routing_config"),
						 "additional_version_weights");

		for (size_t j = 0; j < 1 + (w ? w->n : 0); j++) {
			const char *vv = j == 0 ? ver : w->pairs[j - 1].key->str;
			bool dup = !vv || strcmp(vv, "$LATEST") == 0;

			for (size_t k = 0; !dup && k < versions->n; k++)
				dup = strcmp(str(ydoc_get(versions->items[k], "version")), vv) == 0;
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

	if (link(t, r, r->values, r->expr, attr, type))
		return 0;
	if (str(v)) {
		log_warn("%s:%d:%d: %s: %s '%s' names no %s of this document: lb leaves %s out",
			 v->file, v->line, v->col, r->addr, attr, str(v), what, r->addr);
		return 0;
	}
	if (!t->plan)
		return need(t, r, attr, YNODE_SCALAR) ? 0 : -1;
	for (size_t k = 0; refs && refs->type == YNODE_SEQUENCE && k < refs->n; k++)
		if (str(refs->items[k]))
			list = config_printf(t->c->a, "%s%s%s", list, *list ? ", " : "",
					     str(refs->items[k]));
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
		const char *type = str(ydoc_get(t->res[i].values, "load_balancer_type"));

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

	collect(&t, ydoc_get(vals, "root_module"), &top, false);
	/* Why: a plan's data sources are read into prior_state, beside the managed
	 * resources as they were before the plan, which planned_values replaces. */
	collect(&t, ydoc_get(ydoc_get(ydoc_get(doc, "prior_state"), "values"), "root_module"),
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
		    !r->data && link(&t, r, r->values, r->expr, "load_balancer_arn", "aws_") == lb &&
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
