/*
 * config_logging: a function's `logging_config` (Lambda's LoggingConfig,
 * Terraform's logging_config block; DESIGN.md §18). Internal to config_load.
 */
#ifndef LB_CONFIG_LOGGING_H
#define LB_CONFIG_LOGGING_H

#include "config/config.h"
#include "config/yaml_doc.h"

/* Reads n (the value of logging_config) into out; -1 with err set. */
int config_logging_load(struct config *cfg, const struct ynode *n, struct logging_cfg *out,
			struct lb_err *err);

#endif
