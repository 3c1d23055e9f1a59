/*
 * stack: lb's configuration read from a definition of the stack instead of
 * lb.yaml (DESIGN.md §16): a CloudFormation or SAM template (YAML with
 * short forms, or JSON), or a CDK cloud assembly directory (cdk.out).
 */
#ifndef LB_STACK_H
#define LB_STACK_H

#include "config/config.h"
#include "config/yaml_doc.h"

/*
 * The document config_parse reads for cfg->path: lb.yaml as it is, or a
 * template translated into lb.yaml's tree (positions point into the
 * template). Returns a new document (ydoc_free), or NULL with err set.
 */
struct ydoc *stack_load(struct config *cfg, const struct stack_opts *opts, struct lb_err *err);

#endif
