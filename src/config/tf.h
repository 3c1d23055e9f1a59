/*
 * tf: lb's configuration from the JSON of `terraform show -json` (a state
 * or a saved plan) — aws_lb, aws_lb_listener, aws_lb_listener_rule,
 * aws_lb_target_group (+ _attachment), aws_lambda_function, aws_lambda_alias
 * (DESIGN.md §16). Internal to stack.c.
 */
#ifndef LB_TF_H
#define LB_TF_H

#include "config/cfn.h"

/* doc is the parsed JSON; *out gets lb.yaml's tree (nodes in c->a). 0 or -1 with c->err. */
int tf_config(struct cfn *c, const struct ynode *doc, struct ynode **out);

#endif
