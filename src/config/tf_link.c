/*
 * tf_link: how one Terraform resource names another. A state links by
 * value (the listener's load_balancer_arn is the aws_lb's arn); a plan's
 * ARNs are known only after apply, so it links through the configuration's
 * expression references ("aws_lb.main.arn"), which are local to their
 * module: module outputs, input variables (var.X) and count/for_each
 * instances are followed to the resource they stand for.
 */
#include <string.h>

#include "config/config_int.h"
#include "config/tf_int.h"

/* The length of the instance index at b ("[0]", "[\"k\"]"): a for_each key
 * is a quoted string, with backslash escapes, that may hold "]" and ".". */
static size_t index_len(const char *b)
{
	const char *p = b + 1;

	if (*p == '"') {
		for (p++; *p && *p != '"'; p++)
			if (*p == '\\' && p[1])
				p++;
	}
	p += strcspn(p, "]");
	return *p ? (size_t)(p + 1 - b) : strlen(b);
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
	*idx = s[n] == '[' ? arena_strndup(t->c->a, s + n, index_len(s + n)) : "";
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
void tf_collect(struct tf *t, const struct ynode *mod, const struct tf_mod *m, bool data_only)
{
	const struct ynode *rs = ydoc_get(mod, "resources"), *kids = ydoc_get(mod, "child_modules");
	const struct ynode *crs = ydoc_get(m->conf, "resources");
	const char *prefix = m->prefix;

	for (size_t i = 0; rs && rs->type == YNODE_SEQUENCE && i < rs->n; i++) {
		const struct ynode *r = rs->items[i];
		struct tf_res *o;
		const char *addr = tf_str(ydoc_get(r, "address")), *local;

		if (!addr || !tf_str(ydoc_get(r, "type")) ||
		    (data_only && !(tf_str(ydoc_get(r, "mode")) &&
				    strcmp(tf_str(ydoc_get(r, "mode")), "data") == 0)))
			continue;
		xgrow(&t->res, &t->cap, t->nres + 1, sizeof(*t->res));
		o = &t->res[t->nres++];
		*o = (struct tf_res){ .addr = addr, .type = tf_str(ydoc_get(r, "type")), .at = r,
				      .data = tf_str(ydoc_get(r, "mode")) &&
					      strcmp(tf_str(ydoc_get(r, "mode")), "data") == 0,
				      .values = ydoc_get(r, "values"), .m = m };
		local = strncmp(addr, prefix, strlen(prefix)) == 0 ? addr + strlen(prefix) : addr;
		for (size_t j = 0; crs && crs->type == YNODE_SEQUENCE && j < crs->n; j++) {
			const char *ca = tf_str(ydoc_get(crs->items[j], "address"));
			size_t n = ca ? strlen(ca) : 0;

			/* count/for_each instances: "aws_lb.x[0]" in values, "aws_lb.x" here */
			if (ca && strncmp(local, ca, n) == 0 && (!local[n] || local[n] == '['))
				o->expr = ydoc_get(crs->items[j], "expressions");
		}
	}
	for (size_t i = 0; kids && kids->type == YNODE_SEQUENCE && i < kids->n; i++) {
		const char *a = tf_str(ydoc_get(kids->items[i], "address")), *idx = "";
		/* "module.m.module.n[\"k\"]": the call "n" of m, instance ["k"] */
		const char *name = a && strncmp(a, prefix, strlen(prefix)) == 0 ?
				   call_name(t, a + strlen(prefix), &idx) : NULL;

		if (name) {
			tf_collect(t, kids->items[i], callee(t, m, name, idx), data_only);
		} else if (a) { /* not Terraform's: its resources, without configuration */
			struct tf_mod *odd = arena_alloc(t->c->a, sizeof(*odd));

			*odd = (struct tf_mod){ .prefix = config_printf(t->c->a, "%s.", a),
						.idx = "", .up = m };
			tf_collect(t, kids->items[i], odd, data_only);
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
		struct tf_res *r = tf_str(refs->items[k]) ? resolve(t, m, tf_str(refs->items[k]), type,
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
struct tf_res *tf_link(struct tf *t, const struct tf_res *from, const struct ynode *v,
		       const struct ynode *e, const char *attr, const char *type)
{
	const char *s = tf_str(ydoc_get(v, attr));
	const struct ynode *refs = ydoc_get(ydoc_get(e, attr), "references");

	for (size_t i = 0; s && i < t->nres; i++) {
		const struct ynode *rv = t->res[i].values;

		if ((!type || strstr(t->res[i].type, type)) &&
		    ((tf_str(ydoc_get(rv, "arn")) && strcmp(tf_str(ydoc_get(rv, "arn")), s) == 0) ||
		     (tf_str(ydoc_get(rv, "id")) && strcmp(tf_str(ydoc_get(rv, "id")), s) == 0) ||
		     (tf_str(ydoc_get(rv, "function_name")) &&
		      strcmp(tf_str(ydoc_get(rv, "function_name")), s) == 0)))
			return &t->res[i];
	}
	/* Why: Terraform references are module-local ("aws_lb_target_group.this" inside
	 * module.b is module.b's), so only resolve() looks: a name alone would match
	 * a same-named resource of another module. */
	for (size_t k = 0; from && refs && refs->type == YNODE_SEQUENCE && k < refs->n; k++) {
		const char *ref = tf_str(refs->items[k]);
		struct tf_res *r = ref ? resolve(t, from->m, ref, type, index_of(from), 0) : NULL;

		if (r)
			return r;
	}
	return NULL;
}
