/*
 * config_tg: the `target_groups:` part of config_load (DESIGN.md §5, §13):
 * config_tg.c reads groups and targets, config_tg_attrs.c their attributes,
 * config_tg_hc.c their health checks.
 * Internal to config_load; everything else reads struct target_group.
 */
#ifndef LB_CONFIG_TG_H
#define LB_CONFIG_TG_H

#include "config/config.h"
#include "config/yaml_doc.h"

/* Fills cfg->target_groups from the `target_groups:` list seq (NULL: none).
 * Functions must already be loaded. Returns 0, or -1 with err set. */
int config_tg_load(struct config *cfg, const struct ynode *seq, struct lb_err *err);

/* config_tg_attrs.c: the group's `attributes:` mapping map (NULL: absent) into
 * tg (its target_type already set); AWS's defaults first. -1 with err set. */
int config_tg_attrs_load(struct config *cfg, const struct ynode *map, struct target_group *tg,
			 struct lb_err *err);

/* config_tg_hc.c: the group's `health_check:` mapping n (NULL: absent) into
 * tg (its kind and protocol_version already set); AWS's defaults first. */
int config_tg_hc_load(struct config *cfg, const struct ynode *n, struct target_group *tg,
		      struct lb_err *err);

/* YAML names of the enums, indexed by their values (for summaries). */
extern const char *const config_tg_protocols[2];
extern const char *const config_tg_protocol_versions[3];
extern const char *const config_tg_algorithms[3];

#endif
