/*
 * config_fn: the `functions:` part of config_load (DESIGN.md §5, §7):
 * local functions with their versions and aliases, and endpoint functions.
 * Internal to config_load; everything else reads struct function_cfg.
 */
#ifndef LB_CONFIG_FN_H
#define LB_CONFIG_FN_H

#include <stdbool.h>
#include <stdio.h>

#include "config/config.h"
#include "config/yaml_doc.h"

/* Fills cfg->functions from the `functions:` list seq (NULL: none); -1 with err set. */
int config_fn_load(struct config *cfg, const struct ynode *seq, struct lb_err *err);

/* Whether q names a version or an alias of fn ($LATEST is neither). */
bool config_fn_qualifier_ok(const struct function_cfg *fn, const char *q);

/* The function's lines of `lb check`'s summary. */
void config_fn_summary(const struct function_cfg *fn, FILE *out);

#endif
