/*
 * config_tg: the `target_groups:` part of config_load (DESIGN.md §5, §13).
 * Internal to config_load; everything else reads struct target_group.
 */
#ifndef LB_CONFIG_TG_H
#define LB_CONFIG_TG_H

#include "config/config.h"
#include "config/yaml_doc.h"

/* Fills cfg->target_groups from the `target_groups:` list seq (NULL: none).
 * Functions must already be loaded. Returns 0, or -1 with err set. */
int config_tg_load(struct config *cfg, const struct ynode *seq, struct lb_err *err);

#endif
