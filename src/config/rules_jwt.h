/*
 * rules_jwt: the jwt-validation action's configuration (AWS's
 * JwtValidationActionConfig in snake_case) and the JWKS it names, read at
 * load. Part of config_load, with rules_action.
 */
#ifndef LB_RULES_JWT_H
#define LB_RULES_JWT_H

#include "config/config.h"
#include "config/yaml_doc.h"

/* Reads `jwt_validation:` body into a new configuration in cfg's arena. */
int rules_jwt_load(struct config *cfg, const struct ynode *body, struct jwt_validation_cfg **out,
		   struct lb_err *err);

/*
 * Parses a JWKS document (JSON text) into its RSA keys (others are skipped:
 * ALB verifies RS256 only), in cfg's arena. Returns 0, or -1 with a message
 * in msg.
 */
int rules_jwks_parse(struct arena *a, const char *text, size_t len, struct jwk_rsa **keys,
		     size_t *nkeys, char *msg, size_t msglen);

#endif
