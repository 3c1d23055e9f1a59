/*
 * rules_auth: the authenticate-oidc and authenticate-cognito actions' config
 * (alb-listener-rules.md §2.5), AWS's AuthenticateOidcActionConfig and
 * AuthenticateCognitoActionConfig in snake_case, with AWS's defaults.
 * Part of config_load, with rules_action.
 */
#ifndef LB_RULES_AUTH_H
#define LB_RULES_AUTH_H

#include "config/config.h"
#include "config/yaml_doc.h"

/*
 * Reads the config n (under authenticate_oidc, or authenticate_cognito when
 * cognito) into a new auth_cfg in cfg->arena. Returns it, or NULL with err set.
 */
struct auth_cfg *rules_auth_load(struct config *cfg, const struct ynode *n, bool cognito,
				 struct lb_err *err);

#endif
