/*
 * cfn_outputs: a stack's Outputs as other stacks read them (cfn.h): a nested
 * stack's through its parent's Fn::GetAtt [Nested, Outputs.NAME], and
 * exports through Fn::ImportValue, with CloudFormation's rule that an export
 * name is given once. An output whose Condition is false does neither.
 */
#include <string.h>

#include "config/cfn.h"
#include "config/config_int.h"

/* Why: an output whose Condition is false is not created, nor its export.
 * *on for output o of the stack being evaluated. */
static int output_created(struct cfn *c, const struct ynode *o, bool *on)
{
	const struct ynode *cond = ydoc_get(o, "Condition");

	*on = true;
	if (!cond)
		return 0;
	if (cond->type != YNODE_SCALAR)
		return cfn_err(c, cond, "'Condition' must be a condition's name");
	return cfn_condition(c, cond, cond->str, on);
}

/* The Value of output o of the stack being evaluated, read at at: a message
 * about the value then points where it is used. */
static int output_value(struct cfn *c, const struct ynode *o, const struct ynode *at,
			struct ynode **out)
{
	if (cfn_eval(c, ydoc_get(o, "Value"), out))
		return -1;
	if (*out && (*out)->type == YNODE_SCALAR)
		*out = cfn_scalar(c->a, at, (*out)->str);
	return 0;
}

/*
 * Why: a parent reads what its nested stack outputs as Fn::GetAtt [Nested,
 * Outputs.NAME] (how CDK hands a NestedStack's values back); the output's
 * Value is evaluated in the nested template.
 */
int cfn_nested_output(struct cfn *c, const struct ynode *at, const struct cfn_res *r,
		      const char *name, struct ynode **out)
{
	const struct ynode *o;
	size_t s = 1, was;
	bool on;
	int rc;

	while (s < c->nstacks && !(c->stacks[s].res_id && c->stacks[s].parent == r->stack &&
				   strcmp(c->stacks[s].res_id, r->id) == 0))
		s++;
	if (s == c->nstacks)
		return cfn_err(c, at, "'%s' is a nested stack lb does not read: write the value "
			       "here", r->id);
	was = cfn_enter(c, s);
	o = ydoc_get(ydoc_get(c->root, "Outputs"), name);
	if (!ydoc_get(o, "Value"))
		rc = cfn_err(c, at, "nested stack '%s' (%s) has no output '%s'", r->id, c->file, name);
	else if ((rc = output_created(c, o, &on)) == 0 && !on)
		rc = cfn_err(c, at, "output '%s' of nested stack '%s' is not created: its "
			     "condition is false", name, r->id);
	else if (rc == 0)
		rc = output_value(c, o, at, out);
	cfn_enter(c, was);
	return rc;
}

/* The Export.Name node of output o; NULL if it has none. */
static const struct ynode *export_node(const struct ynode *o)
{
	return ydoc_get(ydoc_get(o, "Export"), "Name");
}

/* The evaluated Export.Name of output o of stacks[s] in *name; NULL when o
 * exports nothing (no Export, or its Condition or its stack's is false). */
static int export_name(struct cfn *c, size_t s, const struct ynode *o, const char **name)
{
	const struct ynode *en = export_node(o);
	size_t was;
	bool on;
	int rc;

	*name = NULL;
	if (!en || c->stacks[s].off)
		return 0;
	was = cfn_enter(c, s);
	if ((rc = output_created(c, o, &on)) == 0 && on)
		rc = cfn_eval_str(c, en, "an export's Name", name);
	cfn_enter(c, was);
	return rc;
}

/* The Value of output o of stacks[s] when its Export.Name is name: 1, 0 if not, -1. */
static int exported(struct cfn *c, size_t s, const struct ynode *o, const char *name,
		    const struct ynode *at, struct ynode **out)
{
	const char *v;
	size_t was;
	int rc;

	if (export_name(c, s, o, &v))
		return -1;
	if (!v || strcmp(v, name) != 0)
		return 0;
	if (!ydoc_get(o, "Value"))
		return cfn_err(c, o, "the output exporting '%s' needs a Value", name);
	was = cfn_enter(c, s);
	rc = output_value(c, o, at, out) ? -1 : 1;
	cfn_enter(c, was);
	return rc;
}

/*
 * Why: an export name is unique in an account's region: CloudFormation refuses
 * to create a second export of a name (a stack's, or a nested stack's), whether
 * or not a stack imports it. So an import finds one export at most.
 */
int cfn_exports_check(struct cfn *c)
{
	struct seen_export {
		const char *name;
		size_t stack;
		const struct ynode *at;
	} *seen;
	size_t n = 0, total = 0;

	for (size_t s = 0; s < c->nstacks; s++) {
		const struct ynode *outs = ydoc_get(c->stacks[s].root, "Outputs");

		total += outs && outs->type == YNODE_MAPPING ? outs->n : 0;
	}
	seen = arena_alloc(c->a, (total + 1) * sizeof(*seen));
	for (size_t s = 0; s < c->nstacks; s++) {
		const struct ynode *outs = ydoc_get(c->stacks[s].root, "Outputs");

		for (size_t i = 0; outs && outs->type == YNODE_MAPPING && i < outs->n; i++) {
			const struct ynode *o = outs->pairs[i].value;
			const char *name;

			if (export_name(c, s, o, &name))
				return -1;
			for (size_t k = 0; name && k < n; k++) {
				if (strcmp(seen[k].name, name) == 0)
					return cfn_err(c, export_node(o), "export '%s' of stack %s: "
						       "stack %s exports it already (%s:%d:%d), and "
						       "CloudFormation refuses a second export of one "
						       "name", name, c->stacks[s].stack,
						       c->stacks[seen[k].stack].stack, seen[k].at->file,
						       seen[k].at->line, seen[k].at->col);
			}
			if (name)
				seen[n++] = (struct seen_export){ name, s, export_node(o) };
		}
	}
	return 0;
}

/*
 * Why: a stack reads what another stack exports (Outputs.NAME.Export.Name) with
 * Fn::ImportValue, which is how CDK joins the stacks of one app; never its own
 * exports, which exist only once it is deployed. One template alone has none.
 */
int cfn_import_value(struct cfn *c, const struct ynode *n, const struct ynode *arg, struct ynode **out)
{
	const char *name;
	int rc;

	if (c->nstacks < 2)
		return cfn_err(c, n, "Fn::ImportValue reads another stack's exports, which lb cannot "
			       "see: write the value here");
	if (cfn_eval_str(c, arg, "Fn::ImportValue's name", &name))
		return -1;
	/* Unique: cfn_exports_check refused a second export of one name. */
	for (size_t s = 0; s < c->nstacks; s++) {
		const struct ynode *outs = ydoc_get(c->stacks[s].root, "Outputs");

		for (size_t i = 0; s != c->cur && outs && outs->type == YNODE_MAPPING && i < outs->n;
		     i++) {
			if ((rc = exported(c, s, outs->pairs[i].value, name, n, out)) != 0)
				return rc < 0 ? -1 : 0;
		}
	}
	return cfn_err(c, n, "Fn::ImportValue: no other stack of the cloud assembly exports '%s'",
		       name);
}
