/*
 * rules_action: a rule's `actions:` (or a listener's `default_actions:`)
 * read into its one routing action: forward, redirect or fixed-response
 * (reference/alb-listener-rules.md §2). Part of config_load, with rules.
 */
#ifndef LB_RULES_ACTION_H
#define LB_RULES_ACTION_H

#include "config/config.h"
#include "config/yaml_doc.h"

/*
 * Reads the action list seq, written under the key what, into *out. Target
 * groups must already be loaded (forward names them). Returns 0, or -1 with
 * err set.
 */
int rules_action_load(struct config *cfg, const struct ynode *seq, const char *what,
		      struct action *out, struct lb_err *err);

#endif
