/*
 * config_admin: the `admin:` key of lb.yaml — where lb serves its console,
 * /metrics and /api (DESIGN.md §17). Internal to config_load.
 */
#ifndef LB_CONFIG_ADMIN_H
#define LB_CONFIG_ADMIN_H

#include "config/config.h"
#include "config/yaml_doc.h"

/* Loads n (NULL: no admin listener) into cfg->admin; after the listeners
 * and lambda_api, so a port they already take is reported. -1 with err. */
int config_admin_load(struct config *cfg, const struct ynode *n, struct lb_err *err);

#endif
