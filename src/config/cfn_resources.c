/*
 * cfn_resources: a template's resources (or those of each stack of a cloud
 * assembly) read into struct cfn, and the checks CloudFormation and SAM's
 * transform make of the template before they create anything: a value for
 * every parameter, no --parameter the template does not declare, SAM's
 * transform only, Globals.Function as SAM takes it, each resource's
 * Condition (cfn_eval.c evaluates them), and with several stacks, no export
 * name twice.
 */
#include <string.h>

#include "base/log.h"
#include "config/cfn.h"
#include "config/config_int.h"

/*
 * Why: CDK's legacy synthesizer (every CDK v1 app) gives each asset three
 * parameters without a Default (AssetParameters<hash>S3Bucket..., S3VersionKey,
 * ArtifactHash) that `cdk deploy` fills in. lb finds the code through the
 * aws:asset:path metadata instead, so they need a value only if lb reads one.
 */
static bool cdk_asset_param(const char *name, const struct ynode *p)
{
	const struct ynode *d = ydoc_get(p, "Description");

	return strncmp(name, "AssetParameters", 15) == 0 && d && d->type == YNODE_SCALAR &&
	       (strncmp(d->str, "S3 bucket for asset ", 20) == 0 ||
		strncmp(d->str, "S3 key for asset version ", 25) == 0 ||
		strncmp(d->str, "Artifact hash for asset ", 24) == 0);
}

/*
 * Why: CloudFormation needs a value for every parameter and refuses names the
 * template does not declare, whether or not anything uses them.
 */
static int params_check(struct cfn *c)
{
	const struct ynode *ps = ydoc_get(c->root, "Parameters");
	struct ynode *v;

	for (size_t i = 0; ps && ps->type == YNODE_MAPPING && i < ps->n; i++) {
		const struct ynode *type = ydoc_get(ps->pairs[i].value, "Type");

		/* lb's choice: values of AWS-specific types (subnets, a VPC) name
		 * things in an account; they need a value only when lb reads one. */
		if (type && type->type == YNODE_SCALAR && (strncmp(type->str, "AWS::", 5) == 0 ||
							   strncmp(type->str, "List<AWS::", 10) == 0))
			continue;
		if (cdk_asset_param(ps->pairs[i].key->str, ps->pairs[i].value))
			continue;
		/* A nested stack's parent passes it: evaluated where it is used. */
		if (c->stacks[c->cur].res_id &&
		    ydoc_get(c->stacks[c->cur].params, ps->pairs[i].key->str))
			continue;
		if (cfn_param(c, ps->pairs[i].key, ps->pairs[i].key->str, &v))
			return -1;
	}
	return 0;
}

/* Why: as CloudFormation, a --parameter no template declares is refused (with
 * several stacks, one declaring it is enough: each reads its own; a nested
 * stack takes its parent's values, not these). */
static int params_declared(struct cfn *c)
{
	size_t n = c->nstacks;

	for (size_t i = 0; c->opts && i < c->opts->nparams; i++) {
		const char *p = c->opts->params[i], *eq = strchr(p, '=');
		char *name = arena_strndup(c->a, p, eq ? (size_t)(eq - p) : strlen(p));
		bool found = strncmp(name, "AWS::", 5) == 0;

		for (size_t s = 0; s < n && !found; s++)
			found = !c->stacks[s].res_id &&
				ydoc_get(ydoc_get(c->stacks[s].root, "Parameters"), name) != NULL;
		if (!found)
			return lb_err_set(c->err, "--parameter %s: the %s declares no parameter "
					  "'%s'", p, n > 1 ? "cloud assembly's stacks" : "template",
					  name);
	}
	return 0;
}

/*
 * Why: a transform rewrites the template before CloudFormation reads it; lb
 * knows SAM's only (aws-integration.md §5.1), and reading a template another
 * macro would rewrite would serve something else than AWS does.
 */
static int transforms_check(struct cfn *c)
{
	const struct ynode *t = ydoc_get(c->root, "Transform");
	size_t n = t && t->type == YNODE_SEQUENCE ? t->n : 1;

	for (size_t i = 0; t && i < n; i++) {
		const struct ynode *v = t->type == YNODE_SEQUENCE ? t->items[i] : t;

		if (v->type != YNODE_SCALAR || strcmp(v->str, "AWS::Serverless-2016-10-31") != 0)
			return cfn_err(c, v, "transform '%s' is not supported (lb reads SAM's, "
				       "AWS::Serverless-2016-10-31)", v->type == YNODE_SCALAR ?
				       v->str : "...");
	}
	return 0;
}

/* Why: what SAM's Globals.Function takes (aws-integration.md §5.4, SAM's globals.py). */
static const char *const sam_globals[] = {
	"Handler", "Runtime", "CodeUri", "DeadLetterQueue", "Description", "MemorySize", "Timeout",
	"VpcConfig", "Environment", "Tags", "PropagateTags", "Tracing", "KmsKeyArn", "Layers",
	"AutoPublishAlias", "AutoPublishAliasAllProperties", "DeploymentPreference", "RolePath",
	"PermissionsBoundary", "ReservedConcurrentExecutions", "ProvisionedConcurrencyConfig",
	"AssumeRolePolicyDocument", "EventInvokeConfig", "FileSystemConfigs", "CodeSigningConfigArn",
	"Architectures", "SnapStart", "EphemeralStorage", "FunctionUrlConfig",
	"RuntimeManagementConfig", "LoggingConfig", "RecursiveLoop", "SourceKMSKeyArn",
};
static const char *const sam_not_global[] = { "Role", "Policies", "FunctionName", "Events" };

/*
 * Why: SAM's transform refuses a Globals section or Globals.Function that is
 * not a mapping, and the properties that cannot be global (one role, name or
 * event per function). lb warns of a key it does not know SAM to take (a typo
 * such as Tiemout would apply nowhere) rather than refuse one SAM added lately.
 */
static int globals_check(struct cfn *c, struct lb_err *err)
{
	const struct ynode *g = ydoc_get(c->root, "Globals"), *fn;

	if (!g)
		return 0;
	if (g->type != YNODE_MAPPING)
		return ydoc_err(err, g, "'Globals' must be a mapping");
	if (!(fn = ydoc_get(g, "Function")))
		return 0;
	if (fn->type != YNODE_MAPPING)
		return ydoc_err(err, fn, "'Globals.Function' must be a mapping");
	for (size_t i = 0; i < fn->n; i++) {
		const struct ynode *k = fn->pairs[i].key;
		bool known = false;

		for (size_t j = 0; j < ARRAY_LEN(sam_not_global); j++) {
			if (strcmp(k->str, sam_not_global[j]) == 0)
				return ydoc_err(err, k, "'%s' cannot be in Globals.Function: SAM takes it "
						"only on each function", k->str);
		}
		for (size_t j = 0; j < ARRAY_LEN(sam_globals); j++)
			known |= strcmp(k->str, sam_globals[j]) == 0;
		if (!known)
			log_warn("%s:%d:%d: '%s' is not a property SAM takes in Globals.Function: "
				 "no function gets it", k->file, k->line, k->col, k->str);
	}
	return 0;
}

/* The resources of the stack being evaluated, appended to c->res. */
static int stack_resources(struct cfn *c, struct lb_err *err)
{
	const struct ynode *res = ydoc_get(c->root, "Resources");
	const struct ynode *globals = ydoc_get(ydoc_get(c->root, "Globals"), "Function");

	/* Why: CDK writes a stack with no constructs in it without Resources; beside
	 * the load balancer's stack, it is one with nothing to serve. */
	if (!res && c->cur > 0 && c->root && c->root->type == YNODE_MAPPING)
		return 0;
	if (!res || res->type != YNODE_MAPPING)
		return ydoc_err(err, c->root, "a template needs a 'Resources' mapping");
	if (globals_check(c, err))
		return -1;
	for (size_t i = 0; i < res->n; i++) {
		const struct ynode *n = res->pairs[i].value, *type = ydoc_get(n, "Type");
		struct cfn_res *r = &c->res[c->nres++];

		if (n->type != YNODE_MAPPING || !type || type->type != YNODE_SCALAR)
			return ydoc_err(err, n, "resource '%s' needs a Type",
					res->pairs[i].key->str);
		r->id = res->pairs[i].key->str;
		r->type = type->str;
		r->node = n;
		r->stack = c->cur;
		r->props = ydoc_get(n, "Properties");
		if (r->props && r->props->type != YNODE_MAPPING)
			return ydoc_err(err, r->props, "'Properties' must be a mapping");
		/* Why: SAM applies Globals.Function to every AWS::Serverless::Function (§5.4). */
		if (globals && strcmp(r->type, "AWS::Serverless::Function") == 0)
			r->props = cfn_merge(c->a, globals, r->props);
	}
	return params_check(c) || transforms_check(c) ? -1 : 0;
}

void cfn_stacks_init(struct cfn *c)
{
	c->stacks = arena_alloc(c->a, CFN_STACKS_MAX * sizeof(*c->stacks));
	c->stacks[0] = (struct cfn_stack){ .file = c->file, .root = c->root, .stack = c->stack };
	c->nstacks = 1;
	c->cur = 0;
}

int cfn_resources(struct cfn *c, struct lb_err *err)
{
	size_t n = c->nstacks, total = 0;

	c->err = err;
	for (size_t s = 0; s < n; s++) {
		const struct ynode *res = ydoc_get(c->stacks[s].root, "Resources");

		total += res && res->type == YNODE_MAPPING ? res->n : 0;
	}
	c->res = arena_alloc(c->a, (total + 1) * sizeof(*c->res));
	for (size_t s = 0; s < n; s++) {
		cfn_enter(c, s);
		if (stack_resources(c, err))
			return -1;
	}
	cfn_enter(c, 0);
	if (params_declared(c))
		return -1;
	for (size_t i = 0; i < c->nres; i++) {
		const struct ynode *cond = ydoc_get(c->res[i].node, "Condition");
		bool on;

		if (!cond)
			continue;
		if (cond->type != YNODE_SCALAR)
			return ydoc_err(err, cond, "'Condition' must be a condition's name");
		cfn_enter(c, c->res[i].stack);
		if (cfn_condition(c, cond, cond->str, &on))
			return -1;
		c->res[i].off = !on;
	}
	cfn_enter(c, 0);
	/* Why: a nested stack whose resource is not created (its Condition, or its
	 * parent's) creates nothing. Parents come before the stacks they nest. */
	for (size_t s = 1; s < c->nstacks; s++) {
		struct cfn_stack *k = &c->stacks[s];

		for (size_t i = 0; k->res_id && i < c->nres; i++)
			if (c->res[i].stack == k->parent && strcmp(c->res[i].id, k->res_id) == 0)
				k->off = c->res[i].off || c->stacks[k->parent].off;
	}
	for (size_t i = 0; i < c->nres; i++)
		c->res[i].off |= c->stacks[c->res[i].stack].off;
	return c->nstacks > 1 ? cfn_exports_check(c) : 0;
}
