/*
 * config_async: a function's `event_invoke_config` (Lambda's
 * FunctionEventInvokeConfig, Terraform's aws_lambda_function_event_invoke_config
 * names; DESIGN.md §18). Internal to config_load.
 */
#ifndef LB_CONFIG_ASYNC_H
#define LB_CONFIG_ASYNC_H

#include "config/config.h"
#include "config/yaml_doc.h"

/* Lambda's defaults: two retries, six hours. */
#define ASYNC_DEFAULT_RETRIES 2
#define ASYNC_DEFAULT_MAX_AGE 21600

/* Reads n (the value of event_invoke_config) into out; -1 with err set. */
int config_async_load(struct config *cfg, const struct ynode *n, struct event_invoke_cfg *out,
		      struct lb_err *err);
/* Once every function is loaded: a function destination names one of them
 * (n is fn's mapping in lb.yaml); -1 with err set. */
int config_async_check(const struct config *cfg, const struct function_cfg *fn, const struct ynode *n,
		       struct lb_err *err);

#endif
