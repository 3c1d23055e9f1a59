/*
 * cfn: a CloudFormation (SAM, CDK) template turned into lb's configuration
 * tree (DESIGN.md §16, reference/aws-integration.md §4-§6). Internal to
 * stack.c; nothing else reads these structs.
 *
 * The template is read by yaml_doc (YAML with short-form tags, or JSON),
 * flipped to long forms (cfn_node.c), evaluated lazily one property at a
 * time (cfn_eval.c) and mapped onto the keys of lb.yaml (cfn_map.c,
 * cfn_fn.c). Every node built keeps the position of the template node it
 * came from, so config_load's own checks report "template.yaml:12:7".
 */
#ifndef LB_CFN_H
#define LB_CFN_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "config/config.h"
#include "config/yaml_doc.h"

struct cfn_res {
	const char *id;              /* logical id */
	const char *type;            /* "AWS::Lambda::Function" */
	const struct ynode *node;    /* the resource's mapping (flipped) */
	const struct ynode *props;   /* Properties (SAM Globals merged); NULL when absent */
	bool off;                    /* its Condition is false */
	bool busy;                   /* being named: a reference cycle */
	bool named;
	const char *name;            /* physical name (functions, groups, aliases) */
	const char *ref;             /* what Ref returns */
	const char *fn;              /* versions, aliases: the function's name */
	const char *version;         /* versions: "1", "2", ... per function */
	struct cfn_res *parent;      /* listeners: their load balancer; rules: their listener */
	size_t stack;                /* its template: index in cfn.stacks */
};

/* One template read in this load: a cloud assembly's stacks are read together,
 * each evaluated in its own scope (its Parameters, Conditions, Mappings, logical
 * ids, file and name), joined by Fn::ImportValue. */
struct cfn_stack {
	const char *file;
	const struct ynode *root;    /* flipped */
	const char *stack;           /* AWS::StackName */
	unsigned char *conds;
	/* A nested stack: the resource of stacks[parent] that creates it, and that
	 * resource's Parameters (in the parent's terms); res_id NULL otherwise. */
	const char *res_id;
	const char *suffix;          /* 8 characters of its name, in its resources' names */
	size_t parent;
	const struct ynode *params;
	bool off;                    /* its resource is not created (cfn_resources) */
};

#define CFN_STACKS_MAX 32  /* an assembly's stacks and the stacks they nest */

struct cfn {
	struct arena *a;             /* every node and string built */
	/* The stack being evaluated (stacks[cur]'s, swapped by cfn_enter). */
	const char *file;            /* the template's path */
	const struct ynode *root;    /* flipped */
	const struct stack_opts *opts;
	const char *region, *account, *stack;
	struct cfn_stack *stacks;    /* stacks[0]: the template given; up to CFN_STACKS_MAX */
	size_t nstacks, cur;
	struct cfn_res *res;
	size_t nres;
	struct buf *skipped;         /* resources lb does not emulate, listed once */
	struct lb_err *err;
	int depth;
	unsigned char *conds;        /* per Conditions entry: its state (cfn_eval.c) */
	uint64_t ports_used;         /* bit i: --port-map i named a listener's port (cfn_port) */
};

/* cfn_node.c: nodes built at a template position. */
struct ynode *cfn_scalar(struct arena *a, const struct ynode *at, const char *s);
struct ynode *cfn_map(struct arena *a, const struct ynode *at);
struct ynode *cfn_seq(struct arena *a, const struct ynode *at);
/* Appends (value may be NULL: nothing happens). */
void cfn_put(struct arena *a, struct ynode *map, const char *key, struct ynode *value);
void cfn_push(struct arena *a, struct ynode *seq, struct ynode *item);
/* The tree with every short form ("!Ref X") as its long form ({Ref: X}). */
struct ynode *cfn_flip(struct arena *a, const struct ynode *n);
/* SAM Globals: base under over (scalars replaced, maps merged, lists prepended). */
const struct ynode *cfn_merge(struct arena *a, const struct ynode *base, const struct ynode *over);
/* The hash of the CDK file asset whose S3 URL expression n is: a string in it
 * ending in "/<sha256>.json", as CDK writes a nested stack's TemplateURL. New
 * in a, or NULL. */
const char *cfn_asset_hash(struct arena *a, const struct ynode *n);
/* "Fn::Sub" etc. when n is {one intrinsic key: arg}; NULL otherwise. */
const char *cfn_intrinsic(const struct ynode *n, const struct ynode **arg);

/* cfn_resources.c: makes stacks[0] of c->file, c->root and c->stack, which must
 * be set; other stacks follow it. */
void cfn_stacks_init(struct cfn *c);
/* cfn_resources.c: reads the resources of every stack into c->res and checks
 * the template as CloudFormation would. 0 or -1 with err set. */
int cfn_resources(struct cfn *c, struct lb_err *err);

/* cfn_eval.c */
/* The resource id of the stack being evaluated; NULL if none. */
struct cfn_res *cfn_find(struct cfn *c, const char *id);
/* Makes stacks[i] the one being evaluated; returns the one that was (for the way back). */
size_t cfn_enter(struct cfn *c, size_t i);
/* The template file resource r is in. */
const char *cfn_file(const struct cfn *c, const struct cfn_res *r);
/* The stack at the top of stacks[s]'s nesting (s when it is not nested). */
size_t cfn_top(const struct cfn *c, size_t s);
/* Parameter name of the stack being evaluated (--parameter, else its Default), at for errors. */
int cfn_param(struct cfn *c, const struct ynode *at, const char *name, struct ynode **out);
/* Condition name of the stack being evaluated (its Conditions section), evaluated once. */
int cfn_condition(struct cfn *c, const struct ynode *at, const char *name, bool *out);
/* Evaluates n into *out (NULL: AWS::NoValue removed it). 0 or -1 with c->err set. */
int cfn_eval(struct cfn *c, const struct ynode *n, struct ynode **out);
/* The evaluated property key of r (NULL when absent or removed). */
int cfn_prop(struct cfn *c, const struct cfn_res *r, const char *key, struct ynode **out);
/* Same, which must be a string (numbers and booleans are strings too). */
int cfn_prop_str(struct cfn *c, const struct cfn_res *r, const char *key, const char **out);
/* n evaluated, which must be a string (what names it in the error). */
int cfn_eval_str(struct cfn *c, const struct ynode *n, const char *what, const char **out);
/* cfn_outputs.c: Outputs.NAME of the nested stack resource r, read at at. */
int cfn_nested_output(struct cfn *c, const struct ynode *at, const struct cfn_res *r, const char *name,
		      struct ynode **out);
/* Fn::ImportValue n (argument arg): the value another stack exports under its name. */
int cfn_import_value(struct cfn *c, const struct ynode *n, const struct ynode *arg, struct ynode **out);
/* Refuses, at its place, an export name a second output exports (two stacks,
 * a nested one, or one stack twice). 0 or -1 with c->err set. */
int cfn_exports_check(struct cfn *c);
/* cfn_name.c: names r (name, ref, fn, version, parent), once. */
int cfn_name(struct cfn *c, struct cfn_res *r);
/* The resource of type whose Ref is ref (naming each on the way); NULL if none. */
struct cfn_res *cfn_by_ref(struct cfn *c, const char *type, const char *ref);
/* "arn:aws:lambda:REGION:ACCOUNT:function:fn" in c->a. */
const char *cfn_fn_arn(struct cfn *c, const char *fn);
int cfn_err(struct cfn *c, const struct ynode *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* cfn_map.c: the whole configuration tree. */
int cfn_config(struct cfn *c, struct ynode **out);
/* cfn_map.c: a listener's port as lb serves it (--port-map, or 80 -> 8080), logged. */
struct ynode *cfn_port(struct cfn *c, const struct ynode *port);
/* cfn_fn.c: the functions: list. */
int cfn_functions(struct cfn *c, struct ynode *list);
/* cfn_fn.c: -1 with an error at the first SAM function event of a type SAM does not have. */
int cfn_sam_events(struct cfn *c);
/* cfn_fn.c: s is a layer-version ARN ("arn:aws:lambda:R:A:layer:NAME:3"). */
bool cfn_layer_arn(const char *s);
/* cfn_fn.c: warns that function fn runs without layer arn (one lb cannot fetch). */
void cfn_layer_skipped(const struct ynode *at, const char *arn, const char *where,
		       const char *fn);
/* "arn:aws:lambda:R:A:function:NAME[:Q]" → "NAME[:Q]" in c->a; NULL if not one. */
const char *cfn_lambda_target(struct cfn *c, const char *arn);

/* stack.c: the source.path of the CDK file asset hash (NULL: none) that the
 * assets manifest beside the template top lists, relative to top's folder, new
 * in a; NULL when none is listed, or, with file_only, when it is a directory
 * (packaging zip). */
const char *stack_cdk_asset(struct arena *a, const char *top, const char *hash, bool file_only);
/* stack.c: code written inline (ZipFile, InlineCode) as a directory; NULL with err. */
const char *stack_inline_code(struct cfn *c, const struct ynode *at, const char *runtime,
			      const char *source);

#endif
