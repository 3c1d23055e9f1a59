/*
 * tf_int: what tf_map.c (Terraform resources as lb.yaml's tree) and
 * tf_link.c (how a resource names another, within its module) share.
 * Private to those two files; everything else uses tf.h.
 */
#ifndef LB_CONFIG_TF_INT_H
#define LB_CONFIG_TF_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "config/cfn.h"
#include "config/yaml_doc.h"

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

/* n's string, or NULL when n is not a scalar or is null. */
static inline const char *tf_str(const struct ynode *n)
{
	return n && n->type == YNODE_SCALAR && !ydoc_is_null(n) ? n->str : NULL;
}

/* tf_link.c */
/* The resources of mod (a state's or plan's module, m) into t->res, those of
 * its child modules after them; only data sources when data_only. */
void tf_collect(struct tf *t, const struct ynode *mod, const struct tf_mod *m, bool data_only);
/* The resource an attribute of from (values v, expressions e) names, of a
 * type containing type (any if NULL); NULL if none of this document. */
struct tf_res *tf_link(struct tf *t, const struct tf_res *from, const struct ynode *v,
		       const struct ynode *e, const char *attr, const char *type);

#endif
