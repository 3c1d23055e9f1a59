/*
 * cfn_eval: CloudFormation's intrinsic functions, conditions, parameters,
 * mappings and pseudo-parameters, evaluated over flipped template nodes
 * (reference/aws-integration.md §4.2-§4.5, §5.3).
 *
 * Evaluation is lazy: a property is evaluated when the mapping asks for it,
 * so a template whose Subnets use Fn::ImportValue still loads as long as
 * nothing lb needs depends on it. The value of Ref and GetAtt on a resource
 * is a synthetic name or ARN built from its logical id and properties
 * (cfn_name); naming one resource may name others, and a cycle is an error.
 * Results are new nodes in c->a carrying the position of the expression.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "config/cfn.h"
#include "config/config_int.h"

#define EVAL_DEPTH_MAX 64

int cfn_err(struct cfn *c, const struct ynode *at, const char *fmt, ...)
{
	char msg[sizeof(c->err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return lb_err_at(c->err, at->file, at->line, at->col, "%s", msg);
}

/* Why: a logical id names a resource of its own template only; another stack's
 * is reached through its exports (Fn::ImportValue), and may reuse the id. */
struct cfn_res *cfn_find(struct cfn *c, const char *id)
{
	for (size_t i = 0; i < c->nres; i++) {
		if (c->res[i].stack == c->cur && strcmp(c->res[i].id, id) == 0)
			return &c->res[i];
	}
	return NULL;
}

size_t cfn_enter(struct cfn *c, size_t i)
{
	size_t was = c->cur;
	struct cfn_stack *s;

	if (i == was)
		return was;
	c->stacks[was].conds = c->conds;
	s = &c->stacks[i];
	c->cur = i;
	c->file = s->file;
	c->root = s->root;
	c->stack = s->stack;
	c->conds = s->conds;
	return was;
}

const char *cfn_file(const struct cfn *c, const struct cfn_res *r)
{
	return c->stacks[r->stack].file;
}

size_t cfn_top(const struct cfn *c, size_t s)
{
	while (c->stacks[s].res_id)
		s = c->stacks[s].parent;
	return s;
}

static bool is_type(const struct cfn_res *r, const char *type)
{
	return strcmp(r->type, type) == 0;
}

static bool is_function(const struct cfn_res *r)
{
	return is_type(r, "AWS::Lambda::Function") || is_type(r, "AWS::Serverless::Function");
}

static const char *option(const struct cfn *c, const char *key)
{
	size_t n = strlen(key);

	for (size_t i = 0; c->opts && i < c->opts->nparams; i++) {
		const char *p = c->opts->params[i];

		if (strncmp(p, key, n) == 0 && p[n] == '=')
			return p + n + 1;
	}
	return NULL;
}

/* The stack being evaluated is nested in another (cfn_stack.res_id). */
static const struct cfn_stack *nested(const struct cfn *c)
{
	return c->stacks[c->cur].res_id ? &c->stacks[c->cur] : NULL;
}

static const char *pseudo(struct cfn *c, const char *name)
{
	const char *v;

	if (strncmp(name, "AWS::", 5) != 0)
		return NULL;
	/* A nested stack has its own name, whatever the top stack is called. */
	if ((v = option(c, name)) && !(nested(c) && strncmp(name, "AWS::Stack", 10) == 0))
		return v;
	if (strcmp(name, "AWS::Region") == 0)
		return c->region;
	if (strcmp(name, "AWS::AccountId") == 0)
		return c->account;
	if (strcmp(name, "AWS::Partition") == 0)
		return "aws";
	if (strcmp(name, "AWS::URLSuffix") == 0)
		return "amazonaws.com";
	if (strcmp(name, "AWS::StackName") == 0)
		return c->stack;
	if (strcmp(name, "AWS::StackId") == 0)
		return config_printf(c->a, "arn:aws:cloudformation:%s:%s:stack/%s/"
				     "00000000-0000-0000-0000-000000000000", c->region,
				     c->account, c->stack);
	return NULL;
}

static struct ynode *split(struct cfn *c, const struct ynode *at, const char *s, const char *delim)
{
	struct ynode *seq = cfn_seq(c->a, at);
	size_t dn = strlen(delim);

	for (;;) {
		const char *e = dn ? strstr(s, delim) : NULL;

		if (!e) {
			cfn_push(c->a, seq, cfn_scalar(c->a, at, s));
			return seq;
		}
		cfn_push(c->a, seq, cfn_scalar(c->a, at, arena_strndup(c->a, s, (size_t)(e - s))));
		s = e + dn;
	}
}

/*
 * Why: a nested stack's parameters are what its parent's resource passes
 * (Properties.Parameters, evaluated in the parent's template), else their
 * Default; CloudFormation's own parameters do not reach it. A string.
 */
static int given(struct cfn *c, const struct cfn_stack *k, const char *name, const char **v)
{
	const struct ynode *n = ydoc_get(k->params, name);
	struct ynode *val;
	size_t was;
	int rc;

	*v = NULL;
	if (!n)
		return 0;
	was = cfn_enter(c, k->parent);
	rc = cfn_eval(c, n, &val);
	if (rc == 0 && val && val->type != YNODE_SCALAR)
		rc = cfn_err(c, n, "nested stack '%s': parameter '%s' takes a string (Fn::Join a "
			     "list)", k->res_id, name);
	cfn_enter(c, was);
	if (rc == 0 && val)
		*v = val->str;
	return rc;
}

/* Why: a parameter's value is --parameter K=V, else its Default; list types split at ','. */
int cfn_param(struct cfn *c, const struct ynode *at, const char *name, struct ynode **out)
{
	const struct ynode *p = ydoc_get(ydoc_get(c->root, "Parameters"), name);
	const struct ynode *type = ydoc_get(p, "Type"), *def = ydoc_get(p, "Default");
	const struct ynode *allowed = ydoc_get(p, "AllowedValues");
	const struct cfn_stack *k = nested(c);
	const char *v = NULL;

	if (k && given(c, k, name, &v))
		return -1;
	if (!k)
		v = option(c, name);
	if (!v && k && (!def || def->type != YNODE_SCALAR))
		return cfn_err(c, at, "parameter '%s' has no Default, and nested stack '%s' of %s "
			       "does not pass it", name, k->res_id, c->stacks[k->parent].file);
	if (!v && (!def || def->type != YNODE_SCALAR))
		return cfn_err(c, at, "parameter '%s' has no Default: pass --parameter %s=VALUE",
			       name, name);
	if (!v)
		v = def->str;
	if (allowed && allowed->type == YNODE_SEQUENCE) {
		bool ok = false;

		for (size_t i = 0; i < allowed->n; i++)
			ok |= allowed->items[i]->type == YNODE_SCALAR &&
			      strcmp(allowed->items[i]->str, v) == 0;
		if (!ok)
			return cfn_err(c, at, "parameter '%s' is '%s', not one of its AllowedValues",
				       name, v);
	}
	if (type && type->type == YNODE_SCALAR &&
	    (strncmp(type->str, "List<", 5) == 0 || strcmp(type->str, "CommaDelimitedList") == 0))
		*out = split(c, at, v, ",");
	else
		*out = cfn_scalar(c->a, at, v);
	return 0;
}

/* SAM's "Fn.Alias" and "Fn.Version" (aws-integration.md §5.3). */
static struct cfn_res *sam_ref(struct cfn *c, const char *name, const char **part)
{
	const char *dot = strchr(name, '.');
	struct cfn_res *r;
	char *id;

	if (!dot)
		return NULL;
	id = arena_strndup(c->a, name, (size_t)(dot - name));
	r = cfn_find(c, id);
	*part = dot + 1;
	if (!r || !is_type(r, "AWS::Serverless::Function") || !ydoc_get(r->props, "AutoPublishAlias"))
		return NULL;
	return r;
}

const char *cfn_fn_arn(struct cfn *c, const char *fn)
{
	return config_printf(c->a, "arn:aws:lambda:%s:%s:function:%s", c->region, c->account, fn);
}

static int ref(struct cfn *c, const struct ynode *at, const char *name, struct ynode **out)
{
	const char *v = pseudo(c, name), *part;
	struct cfn_res *r;

	*out = NULL;
	if (strcmp(name, "AWS::NoValue") == 0)
		return 0;
	if (strcmp(name, "AWS::NotificationARNs") == 0) {
		*out = cfn_seq(c->a, at);
		return 0;
	}
	if (v) {
		*out = cfn_scalar(c->a, at, v);
		return 0;
	}
	if (ydoc_get(ydoc_get(c->root, "Parameters"), name))
		return cfn_param(c, at, name, out);
	if ((r = cfn_find(c, name))) {
		if (r->off)
			return cfn_err(c, at, "'%s' is not created: its condition is false", name);
		if (cfn_name(c, r))
			return -1;
		*out = cfn_scalar(c->a, at, r->ref);
		return 0;
	}
	if ((r = sam_ref(c, name, &part)) && (strcmp(part, "Alias") == 0 ||
					      strcmp(part, "Version") == 0)) {
		const char *alias;

		if (cfn_name(c, r) || cfn_prop_str(c, r, "AutoPublishAlias", &alias))
			return -1;
		*out = cfn_scalar(c->a, at, config_printf(c->a, "%s:%s", cfn_fn_arn(c, r->name),
							  *part == 'A' ? alias : "1"));
		return 0;
	}
	return cfn_err(c, at, "unresolved reference '%s': not a parameter, resource or "
		       "pseudo-parameter", name);
}

static int getatt(struct cfn *c, const struct ynode *at, const char *id, const char *attr,
		  struct ynode **out)
{
	struct cfn_res *r = cfn_find(c, id);
	const char *v = NULL, *part;

	if (!r && (r = sam_ref(c, id, &part))) {
		const char *alias;

		if (cfn_name(c, r) || cfn_prop_str(c, r, "AutoPublishAlias", &alias))
			return -1;
		if (strcmp(part, "Alias") == 0 && strcmp(attr, "Name") == 0)
			v = alias;
		else if (strcmp(part, "Version") == 0 && strcmp(attr, "Version") == 0)
			v = "1";
		if (!v)
			return cfn_err(c, at, "unknown attribute '%s' of '%s'", attr, id);
		*out = cfn_scalar(c->a, at, v);
		return 0;
	}
	/* "!GetAtt Fn.Alias.Name" splits at the first dot into [Fn, Alias.Name]. */
	if (r && strcmp(r->type, "AWS::Serverless::Function") == 0 && strchr(attr, '.') &&
	    (strncmp(attr, "Alias.", 6) == 0 || strncmp(attr, "Version.", 8) == 0)) {
		const char *dot = strchr(attr, '.');

		return getatt(c, at, config_printf(c->a, "%s.%.*s", id, (int)(dot - attr), attr),
			      dot + 1, out);
	}
	if (!r)
		return cfn_err(c, at, "Fn::GetAtt names '%s', which is not a resource", id);
	if (r->off)
		return cfn_err(c, at, "'%s' is not created: its condition is false", id);
	if ((is_type(r, "AWS::CloudFormation::Stack") || is_type(r, "AWS::Serverless::Application")) &&
	    strncmp(attr, "Outputs.", 8) == 0)
		return cfn_nested_output(c, at, r, attr + 8, out);
	if (cfn_name(c, r))
		return -1;
	if (is_function(r) && strcmp(attr, "Arn") == 0)
		v = cfn_fn_arn(c, r->name);
	else if (is_type(r, "AWS::Lambda::Version") && strcmp(attr, "Version") == 0)
		v = r->version;
	else if (is_type(r, "AWS::Lambda::Version") && strcmp(attr, "FunctionArn") == 0)
		v = cfn_fn_arn(c, r->fn);
	else if (is_type(r, "AWS::Lambda::Alias") && (strcmp(attr, "Name") == 0))
		v = r->name;
	else if (is_type(r, "AWS::Lambda::Alias") && (strcmp(attr, "AliasArn") == 0))
		v = r->ref;
	else if (strstr(r->type, "LayerVersion") && strcmp(attr, "LayerVersionArn") == 0)
		v = r->ref;
	else if (is_type(r, "AWS::ElasticLoadBalancingV2::LoadBalancer")) {
		char id16[17];

		config_stable_id(r->name, id16);
		if (strcmp(attr, "LoadBalancerFullName") == 0)
			v = strchr(r->ref, '/') + 1; /* "app/NAME/ID", "net/NAME/ID" */
		else if (strcmp(attr, "LoadBalancerName") == 0)
			v = r->name;
		else if (strcmp(attr, "LoadBalancerArn") == 0)
			v = r->ref;
		else if (strcmp(attr, "DNSName") == 0)
			v = config_printf(c->a, "%s-%s.%s.elb.amazonaws.com", r->name, id16,
					  c->region);
		else if (strcmp(attr, "CanonicalHostedZoneID") == 0)
			v = "Z35SXDOTRQ7X7K";
	} else if (is_type(r, "AWS::ElasticLoadBalancingV2::Listener") &&
		   strcmp(attr, "ListenerArn") == 0) {
		v = r->ref;
	} else if (is_type(r, "AWS::ElasticLoadBalancingV2::ListenerRule") &&
		   strcmp(attr, "RuleArn") == 0) {
		v = r->ref;
	} else if (is_type(r, "AWS::ElasticLoadBalancingV2::TargetGroup")) {
		if (strcmp(attr, "TargetGroupArn") == 0)
			v = r->ref;
		else if (strcmp(attr, "TargetGroupName") == 0)
			v = r->name;
		else if (strcmp(attr, "TargetGroupFullName") == 0)
			v = strchr(r->ref, '/') - strlen("targetgroup");
	} else if (!strstr(r->type, "Lambda") && !strstr(r->type, "ElasticLoadBalancingV2") &&
		   !strstr(r->type, "Serverless")) {
		/* lb's choice: resources lb does not emulate (a table, a role) get a
		 * placeholder, so an environment variable naming one still loads. */
		v = config_printf(c->a, "%s.%s", id, attr);
	}
	if (!v)
		return cfn_err(c, at, "unknown attribute '%s' of '%s' (%s)", attr, id, r->type);
	*out = cfn_scalar(c->a, at, v);
	return 0;
}

int cfn_eval_str(struct cfn *c, const struct ynode *n, const char *what, const char **out)
{
	struct ynode *v;

	if (cfn_eval(c, n, &v))
		return -1;
	if (!v || v->type != YNODE_SCALAR)
		return cfn_err(c, n, "%s must be a string", what);
	*out = v->str;
	return 0;
}

static int eval_list(struct cfn *c, const struct ynode *n, const char *what, struct ynode **out)
{
	if (cfn_eval(c, n, out))
		return -1;
	if (!*out || (*out)->type != YNODE_SEQUENCE)
		return cfn_err(c, n, "%s must be a list", what);
	return 0;
}

static int args(struct cfn *c, const struct ynode *arg, const char *fn, size_t lo, size_t hi)
{
	if (arg->type != YNODE_SEQUENCE || arg->n < lo || arg->n > hi)
		return lo == hi ? cfn_err(c, arg, "%s takes a list of %zu values", fn, lo)
				: cfn_err(c, arg, "%s takes a list of %zu to %zu values", fn, lo, hi);
	return 0;
}

/* ${Name}, ${Res.Attr}, ${!Literal} (aws-integration.md §4.2). */
static int sub(struct cfn *c, const struct ynode *arg, struct ynode **out)
{
	const struct ynode *tmpl = arg, *vars = NULL;
	struct buf b = BUF_INIT;
	const char *s;
	int rc = -1;

	if (arg->type == YNODE_SEQUENCE) {
		if (args(c, arg, "Fn::Sub", 2, 2))
			return -1;
		tmpl = arg->items[0];
		vars = arg->items[1];
	}
	if (tmpl->type != YNODE_SCALAR)
		return cfn_err(c, tmpl, "Fn::Sub takes a string");
	for (s = tmpl->str; *s;) {
		const char *open = strstr(s, "${"), *close;
		char *name;
		struct ynode *v;

		if (!open) {
			buf_puts(&b, s);
			break;
		}
		buf_append(&b, s, (size_t)(open - s));
		if (!(close = strchr(open, '}'))) {
			cfn_err(c, tmpl, "Fn::Sub: '${' without '}'");
			goto out;
		}
		name = arena_strndup(c->a, open + 2, (size_t)(close - open - 2));
		s = close + 1;
		if (*name == '!') {
			buf_printf(&b, "${%s}", name + 1);
			continue;
		}
		if (vars && ydoc_get(vars, name)) {
			const char *vs;

			if (cfn_eval_str(c, ydoc_get(vars, name), name, &vs))
				goto out;
			buf_puts(&b, vs);
			continue;
		}
		if (strchr(name, '.') && !cfn_find(c, name) && strncmp(name, "AWS::", 5) != 0) {
			const char *part, *dot = strchr(name, '.');

			if (sam_ref(c, name, &part) && !strchr(part, '.'))
				rc = ref(c, tmpl, name, &v);
			else
				rc = getatt(c, tmpl, arena_strndup(c->a, name, (size_t)(dot - name)),
					    dot + 1, &v);
		} else {
			rc = ref(c, tmpl, name, &v);
		}
		if (rc)
			goto out;
		rc = -1;
		if (!v || v->type != YNODE_SCALAR) {
			cfn_err(c, tmpl, "Fn::Sub: '${%s}' is not a string", name);
			goto out;
		}
		buf_puts(&b, v->str);
	}
	*out = cfn_scalar(c->a, tmpl, buf_cstr(&b));
	rc = 0;
out:
	buf_release(&b);
	return rc;
}

static int join(struct cfn *c, const struct ynode *arg, struct ynode **out)
{
	struct ynode *list;
	const char *delim;
	struct buf b = BUF_INIT;

	if (args(c, arg, "Fn::Join", 2, 2) || cfn_eval_str(c, arg->items[0], "the delimiter", &delim) ||
	    eval_list(c, arg->items[1], "Fn::Join's values", &list))
		return -1;
	for (size_t i = 0; i < list->n; i++) {
		if (list->items[i]->type != YNODE_SCALAR) {
			buf_release(&b);
			return cfn_err(c, list->items[i], "Fn::Join joins strings only");
		}
		if (i)
			buf_puts(&b, delim);
		buf_puts(&b, list->items[i]->str);
	}
	*out = cfn_scalar(c->a, arg, buf_cstr(&b));
	buf_release(&b);
	return 0;
}

static int select_fn(struct cfn *c, const struct ynode *arg, struct ynode **out)
{
	struct ynode *list;
	const char *idx;
	char *end;
	long i;

	if (args(c, arg, "Fn::Select", 2, 2) || cfn_eval_str(c, arg->items[0], "the index", &idx) ||
	    eval_list(c, arg->items[1], "Fn::Select's values", &list))
		return -1;
	i = strtol(idx, &end, 10);
	if (!*idx || *end || i < 0 || (size_t)i >= list->n)
		return cfn_err(c, arg->items[0], "Fn::Select: index '%s' is not in 0-%zu", idx,
			       list->n ? list->n - 1 : 0);
	*out = list->items[i];
	return 0;
}

static int find_in_map(struct cfn *c, const struct ynode *arg, struct ynode **out)
{
	const char *k[3];
	const struct ynode *v = ydoc_get(c->root, "Mappings");

	if (args(c, arg, "Fn::FindInMap", 3, 3))
		return -1;
	for (int i = 0; i < 3; i++) {
		if (cfn_eval_str(c, arg->items[i], "a Fn::FindInMap key", &k[i]))
			return -1;
		if (!(v = ydoc_get(v, k[i])))
			return cfn_err(c, arg->items[i], "Fn::FindInMap: no key '%s'", k[i]);
	}
	return cfn_eval(c, v, out);
}

static int cond_eval(struct cfn *c, const struct ynode *n, bool *out);

enum { COND_UNKNOWN, COND_BUSY, COND_FALSE, COND_TRUE };

/*
 * The named condition of the Conditions section. Why: evaluated once per template load,
 * as CloudFormation does; a chain referring to the previous one N times was exponential.
 */
int cfn_condition(struct cfn *c, const struct ynode *at, const char *name, bool *out)
{
	const struct ynode *conds = ydoc_get(c->root, "Conditions");
	const struct ynode *def = ydoc_get(conds, name);
	unsigned char *st;
	size_t i = 0;

	if (!def)
		return cfn_err(c, at, "no condition '%s' in Conditions", name);
	while (conds->pairs[i].value != def)
		i++;
	if (!c->conds)
		c->conds = arena_alloc(c->a, conds->n);
	st = &c->conds[i];
	if (*st == COND_TRUE || *st == COND_FALSE) {
		*out = *st == COND_TRUE;
		return 0;
	}
	/* Why: met again while busy is a cycle; evaluating on lets the depth guard report it. */
	if (*st == COND_BUSY)
		return cond_eval(c, def, out);
	*st = COND_BUSY;
	if (cond_eval(c, def, out)) {
		*st = COND_UNKNOWN;
		return -1;
	}
	*st = *out ? COND_TRUE : COND_FALSE;
	return 0;
}

static int cond_eval(struct cfn *c, const struct ynode *n, bool *out)
{
	const struct ynode *arg;
	const char *fn = cfn_intrinsic(n, &arg);
	int rc = -1;

	if (++c->depth > EVAL_DEPTH_MAX) {
		rc = cfn_err(c, n, "conditions nest deeper than %d (a cycle?)", EVAL_DEPTH_MAX);
		goto out;
	}
	if (fn && strcmp(fn, "Condition") == 0) {
		rc = arg->type == YNODE_SCALAR ? cfn_condition(c, arg, arg->str, out)
					       : cfn_err(c, arg, "Condition takes a name");
	} else if (fn && strcmp(fn, "Fn::Equals") == 0) {
		struct ynode *a, *b;

		if (args(c, arg, fn, 2, 2) || cfn_eval(c, arg->items[0], &a) ||
		    cfn_eval(c, arg->items[1], &b))
			goto out;
		*out = a && b && a->type == YNODE_SCALAR && b->type == YNODE_SCALAR &&
		       strcmp(a->str, b->str) == 0;
		rc = 0;
	} else if (fn && (strcmp(fn, "Fn::And") == 0 || strcmp(fn, "Fn::Or") == 0)) {
		bool and = fn[4] == 'A', v;

		if (args(c, arg, fn, 2, 10))
			goto out;
		*out = and;
		for (size_t i = 0; i < arg->n; i++) {
			if (cond_eval(c, arg->items[i], &v))
				goto out;
			*out = and ? (*out && v) : (*out || v);
		}
		rc = 0;
	} else if (fn && strcmp(fn, "Fn::Not") == 0) {
		if (args(c, arg, fn, 1, 1) || cond_eval(c, arg->items[0], out))
			goto out;
		*out = !*out;
		rc = 0;
	} else {
		const char *s;

		/* A condition may also be a value that evaluates to "true"/"false". */
		if (cfn_eval_str(c, n, "a condition", &s))
			goto out;
		if (strcmp(s, "true") && strcmp(s, "false")) {
			rc = cfn_err(c, n, "a condition must be Fn::Equals, Fn::And, Fn::Or, "
				     "Fn::Not or Condition");
			goto out;
		}
		*out = strcmp(s, "true") == 0;
		rc = 0;
	}
out:
	c->depth--;
	return rc;
}

static int intrinsic(struct cfn *c, const struct ynode *n, const char *fn, const struct ynode *arg,
		     struct ynode **out)
{
	if (strcmp(fn, "Ref") == 0) {
		if (arg->type != YNODE_SCALAR)
			return cfn_err(c, arg, "Ref takes a name");
		return ref(c, arg, arg->str, out);
	}
	if (strcmp(fn, "Fn::GetAtt") == 0) {
		const char *id, *attr;

		if (arg->type == YNODE_SCALAR && strchr(arg->str, '.')) {
			const char *dot = strchr(arg->str, '.');

			return getatt(c, arg, arena_strndup(c->a, arg->str,
							    (size_t)(dot - arg->str)), dot + 1, out);
		}
		if (args(c, arg, fn, 2, 2) || cfn_eval_str(c, arg->items[0], "a resource", &id) ||
		    cfn_eval_str(c, arg->items[1], "an attribute", &attr))
			return -1;
		return getatt(c, arg, id, attr, out);
	}
	if (strcmp(fn, "Fn::Sub") == 0)
		return sub(c, arg, out);
	if (strcmp(fn, "Fn::Join") == 0)
		return join(c, arg, out);
	if (strcmp(fn, "Fn::Select") == 0)
		return select_fn(c, arg, out);
	if (strcmp(fn, "Fn::FindInMap") == 0)
		return find_in_map(c, arg, out);
	if (strcmp(fn, "Fn::Split") == 0) {
		const char *d, *s;

		if (args(c, arg, fn, 2, 2) || cfn_eval_str(c, arg->items[0], "the delimiter", &d) ||
		    cfn_eval_str(c, arg->items[1], "Fn::Split's string", &s))
			return -1;
		*out = split(c, n, s, d);
		return 0;
	}
	if (strcmp(fn, "Fn::If") == 0) {
		bool v;

		if (args(c, arg, fn, 3, 3))
			return -1;
		if (arg->items[0]->type != YNODE_SCALAR)
			return cfn_err(c, arg->items[0], "Fn::If takes a condition name first");
		if (cfn_condition(c, arg->items[0], arg->items[0]->str, &v))
			return -1;
		return cfn_eval(c, arg->items[v ? 1 : 2], out);
	}
	if (strcmp(fn, "Fn::Base64") == 0) {
		const char *s;
		char *enc;
		size_t len;

		if (cfn_eval_str(c, arg, "Fn::Base64's value", &s))
			return -1;
		len = strlen(s);
		enc = arena_alloc(c->a, base64_encoded_len(len) + 1);
		base64_encode(s, len, enc);
		*out = cfn_scalar(c->a, n, enc);
		return 0;
	}
	if (strcmp(fn, "Fn::GetAZs") == 0) {
		const char *region;
		struct ynode *seq = cfn_seq(c->a, n);

		if (cfn_eval_str(c, arg, "Fn::GetAZs's region", &region))
			return -1;
		if (!*region)
			region = c->region;
		/* lb's choice: three zones named as AWS names them, a to c. */
		for (char z = 'a'; z <= 'c'; z++)
			cfn_push(c->a, seq, cfn_scalar(c->a, n, config_printf(c->a, "%s%c", region, z)));
		*out = seq;
		return 0;
	}
	if (strcmp(fn, "Condition") == 0 || strcmp(fn, "Fn::Equals") == 0 ||
	    strcmp(fn, "Fn::And") == 0 || strcmp(fn, "Fn::Or") == 0 || strcmp(fn, "Fn::Not") == 0) {
		bool v;

		if (cond_eval(c, n, &v))
			return -1;
		*out = cfn_scalar(c->a, n, v ? "true" : "false");
		return 0;
	}
	if (strcmp(fn, "Fn::ImportValue") == 0)
		return cfn_import_value(c, n, arg, out);
	return cfn_err(c, n, "%s is not supported", fn);
}

int cfn_eval(struct cfn *c, const struct ynode *n, struct ynode **out)
{
	const struct ynode *arg;
	const char *fn = cfn_intrinsic(n, &arg);
	struct ynode *r, *v;
	int rc = -1;

	*out = NULL;
	if (++c->depth > EVAL_DEPTH_MAX) {
		cfn_err(c, n, "expressions nest deeper than %d (a reference cycle?)", EVAL_DEPTH_MAX);
		goto out;
	}
	if (fn) {
		rc = intrinsic(c, n, fn, arg, out);
		goto out;
	}
	if (n->type == YNODE_SCALAR) {
		*out = (struct ynode *)n;
		rc = 0;
		goto out;
	}
	r = n->type == YNODE_SEQUENCE ? cfn_seq(c->a, n) : cfn_map(c->a, n);
	for (size_t i = 0; i < n->n; i++) {
		if (cfn_eval(c, n->type == YNODE_SEQUENCE ? n->items[i] : n->pairs[i].value, &v))
			goto out;
		if (n->type == YNODE_SEQUENCE) {
			cfn_push(c->a, r, v);
		} else if (v) {
			cfn_put(c->a, r, n->pairs[i].key->str, v);
			r->pairs[r->n - 1].key = n->pairs[i].key; /* keep the key's position */
		}
	}
	*out = r;
	rc = 0;
out:
	c->depth--;
	return rc;
}

int cfn_prop(struct cfn *c, const struct cfn_res *r, const char *key, struct ynode **out)
{
	const struct ynode *n = ydoc_get(r->props, key);
	size_t was;
	int rc;

	*out = NULL;
	if (!n)
		return 0;
	was = cfn_enter(c, r->stack);
	rc = cfn_eval(c, n, out);
	cfn_enter(c, was);
	return rc;
}

int cfn_prop_str(struct cfn *c, const struct cfn_res *r, const char *key, const char **out)
{
	struct ynode *v;

	*out = NULL;
	if (cfn_prop(c, r, key, &v))
		return -1;
	if (v && v->type != YNODE_SCALAR)
		return cfn_err(c, v, "'%s' of '%s' must be a string", key, r->id);
	if (v)
		*out = v->str;
	return 0;
}
