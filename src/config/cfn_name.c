/*
 * cfn_name: the physical names and Ref values lb gives a template's
 * resources (reference/aws-integration.md §4.5, §7.2): a function is named by
 * its FunctionName or logical id and its Ref is that name; versions are
 * numbered per function in template order; aliases, layers, load balancers,
 * listeners, rules and target groups get ARNs of AWS's shapes with stable
 * ids. A listener's ARN is built on its load balancer's and a rule's on its
 * listener's, so naming one finds its parent, which must be the template's.
 * Naming a resource may evaluate its properties, and so name others;
 * a resource met again while it is being named is a reference cycle.
 */
#include <string.h>

#include "config/cfn.h"
#include "config/config_int.h"

static bool is_type(const struct cfn_res *r, const char *type)
{
	return strcmp(r->type, type) == 0;
}

static bool is_function(const struct cfn_res *r)
{
	return is_type(r, "AWS::Lambda::Function") || is_type(r, "AWS::Serverless::Function");
}

/* Letters, digits and hyphens of s, at most max: an ELB name from a logical id. */
static const char *elb_name(struct cfn *c, const char *s, size_t max)
{
	char *o = arena_alloc(c->a, max + 1);
	size_t n = 0;

	for (; *s && n < max; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		    (*s == '-' && n > 0))
			o[n++] = *s;
	}
	while (n > 0 && o[n - 1] == '-')
		o[--n] = '\0';
	return o;
}

/*
 * The name of r when its template gives none: its logical id (at most max
 * characters of an ELB name when max is not 0). Why: CloudFormation names a
 * nested stack's resources after that stack, so one template nested twice
 * makes distinct resources: in a nested stack, the id gets the stack's suffix.
 */
static const char *own_name(struct cfn *c, const struct cfn_res *r, size_t max)
{
	const struct cfn_stack *k = c->stacks[r->stack].res_id ? &c->stacks[r->stack] : NULL;
	const char *base = max ? elb_name(c, r->id, k ? max - 9 : max) : r->id;

	return k ? config_printf(c->a, "%s-%s", base, k->suffix) : base;
}

/* "NAME", "arn:aws:lambda:R:A:function:NAME" or its qualified form → NAME. */
static const char *function_of(struct cfn *c, const char *s)
{
	const char *p = strstr(s, ":function:"), *q;

	if (!p)
		return s;
	p += strlen(":function:");
	q = strchr(p, ':');
	return q ? arena_strndup(c->a, p, (size_t)(q - p)) : p;
}

/* Why: AWS's load-balancer ARNs name the type: loadbalancer/app/, /net/ or /gwy/. */
static const char *lb_kind(const char *type)
{
	if (type && strcmp(type, "network") == 0)
		return "loadbalancer/net";
	if (type && strcmp(type, "gateway") == 0)
		return "loadbalancer/gwy";
	return "loadbalancer/app";
}

static const char *elb_arn(struct cfn *c, const char *kind, const char *name, const char *key)
{
	char id[17];

	config_stable_id(key, id);
	return config_printf(c->a, "arn:aws:elasticloadbalancing:%s:%s:%s/%s/%s", c->region,
			     c->account, kind, name, id);
}

struct cfn_res *cfn_by_ref(struct cfn *c, const char *type, const char *ref)
{
	for (size_t i = 0; i < c->nres; i++) {
		struct cfn_res *r = &c->res[i];

		if (!r->off && is_type(r, type) && cfn_name(c, r) == 0 && strcmp(r->ref, ref) == 0)
			return r;
	}
	return NULL;
}

/* How a listener or a rule names its parent. */
struct parent_link {
	const char *what;              /* the child, in messages */
	const char *key;               /* the property holding the parent's ARN */
	const char *type, *type_what;  /* the parent's type, and in messages */
	const char *kind;              /* the child's kind in its ARN */
};

static const struct parent_link listener_link = {
	"listener", "LoadBalancerArn", "AWS::ElasticLoadBalancingV2::LoadBalancer",
	"load balancer", "listener",
};
static const struct parent_link rule_link = {
	"listener rule", "ListenerArn", "AWS::ElasticLoadBalancingV2::Listener", "listener",
	"listener-rule",
};

/*
 * Why: AWS builds a listener's ARN on its load balancer's, "...:listener/app/
 * LB-NAME/LB-ID/ID", and a rule's on its listener's, "...:listener-rule/app/
 * LB-NAME/LB-ID/LISTENER-ID/ID": the part after the parent's kind, then the
 * resource's own id.
 */
static int name_child(struct cfn *c, struct cfn_res *r, const struct parent_link *l)
{
	struct ynode *arn;

	if (cfn_prop(c, r, l->key, &arn))
		return -1;
	if (!arn || arn->type != YNODE_SCALAR)
		return cfn_err(c, r->node, "%s '%s' needs %s", l->what, r->id, l->key);
	if (!(r->parent = cfn_by_ref(c, l->type, arn->str)))
		return cfn_err(c, arn, "'%s' is not a %s of this %s", arn->str, l->type_what,
			       c->nstacks > 1 ? "template or the stacks read with it" : "template");
	r->name = own_name(c, r, 0);
	r->ref = elb_arn(c, l->kind, strchr(r->parent->ref, '/') + 1, r->name);
	return 0;
}

static int name_version(struct cfn *c, struct cfn_res *r)
{
	const char *fn;
	int n = 0;

	if (cfn_prop_str(c, r, "FunctionName", &fn))
		return -1;
	if (!fn)
		return cfn_err(c, r->node, "'%s' needs FunctionName", r->id);
	r->fn = function_of(c, fn);
	/* Why: Lambda numbers a function's versions 1, 2, ... in publishing order;
	 * lb publishes them in template order. */
	for (struct cfn_res *o = c->res; o < r; o++) {
		if (is_type(o, "AWS::Lambda::Version") && !o->off) {
			if (cfn_name(c, o))
				return -1;
			n += strcmp(o->fn, r->fn) == 0;
		}
	}
	r->version = config_printf(c->a, "%d", n + 1);
	r->name = r->version;
	r->ref = config_printf(c->a, "%s:%s", cfn_fn_arn(c, r->fn), r->version);
	return 0;
}

static int name_of(struct cfn *c, struct cfn_res *r)
{
	const char *s = NULL;

	if (is_function(r)) {
		if (cfn_prop_str(c, r, "FunctionName", &s))
			return -1;
		r->name = s ? s : own_name(c, r, 0);
		r->ref = r->name; /* Why: Ref of a function is its name, not its ARN (§4.5) */
	} else if (is_type(r, "AWS::Lambda::Version")) {
		return name_version(c, r);
	} else if (is_type(r, "AWS::Lambda::Alias")) {
		if (cfn_prop_str(c, r, "FunctionName", &s) || cfn_prop_str(c, r, "Name", &r->name))
			return -1;
		if (!s || !r->name)
			return cfn_err(c, r->node, "'%s' needs FunctionName and Name", r->id);
		r->fn = function_of(c, s);
		r->ref = config_printf(c->a, "%s:%s", cfn_fn_arn(c, r->fn), r->name);
	} else if (strstr(r->type, "::LayerVersion")) {
		if (cfn_prop_str(c, r, "LayerName", &s))
			return -1;
		r->name = s ? s : own_name(c, r, 0);
		r->ref = config_printf(c->a, "arn:aws:lambda:%s:%s:layer:%s:1", c->region,
				       c->account, r->name);
	} else if (is_type(r, "AWS::ElasticLoadBalancingV2::LoadBalancer")) {
		const char *type;

		if (cfn_prop_str(c, r, "Name", &s) || cfn_prop_str(c, r, "Type", &type))
			return -1;
		r->name = s ? s : own_name(c, r, 32);
		r->ref = elb_arn(c, lb_kind(type), r->name, r->name);
	} else if (is_type(r, "AWS::ElasticLoadBalancingV2::TargetGroup")) {
		if (cfn_prop_str(c, r, "Name", &s))
			return -1;
		r->name = s ? s : own_name(c, r, 32);
		r->ref = elb_arn(c, "targetgroup", r->name, r->name);
	} else if (is_type(r, "AWS::ElasticLoadBalancingV2::Listener")) {
		return name_child(c, r, &listener_link);
	} else if (is_type(r, "AWS::ElasticLoadBalancingV2::ListenerRule")) {
		return name_child(c, r, &rule_link);
	} else {
		r->name = r->ref = r->id; /* lb's choice: a resource lb does not emulate */
	}
	return 0;
}

int cfn_name(struct cfn *c, struct cfn_res *r)
{
	size_t was;
	int rc;

	if (r->named)
		return 0;
	if (r->busy)
		return cfn_err(c, r->node, "'%s' refers to itself through its references", r->id);
	r->busy = true;
	was = cfn_enter(c, r->stack);
	rc = name_of(c, r);
	cfn_enter(c, was);
	r->busy = false;
	r->named = rc == 0;
	return rc;
}

