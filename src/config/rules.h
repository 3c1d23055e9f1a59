/*
 * rules: listeners' rules and actions, parsed and checked against ALB's
 * limits (reference/alb-listener-rules.md §1, §2). Part of config_load:
 * everything else reads struct listener_cfg.
 *
 * A listener's `rules:` is a list of globs relative to lb.yaml; each file
 * they match holds `rules:` and, optionally, `listener: PORT`. A listener
 * skips a file meant for another port, and a file that no listener takes is
 * an error, as is a glob that matches nothing.
 */
#ifndef LB_RULES_H
#define LB_RULES_H

#include "config/config.h"
#include "config/yaml_doc.h"

/*
 * Fills the default rule and the rules of every listener in cfg from the
 * `listeners:` list they were read from (item i is cfg->listeners[i], its own
 * keys already checked). Target groups must already be loaded. Rules end up
 * sorted by priority. Returns 0, or -1 with err set to "file:line:col: ...".
 */
int rules_load(struct config *cfg, const struct ynode *listeners, struct lb_err *err);

/*
 * A regex or replacement string of a rule (regex_values, transforms): a
 * non-empty scalar of at most max_len visible ASCII characters, copied into
 * cfg's arena. Returns 0, or -1 with err set at v.
 */
int rules_regex_text(struct config *cfg, const struct ynode *v, const char *key, size_t max_len,
		     const char **out, struct lb_err *err);

/* The YAML key of a condition type ("path_pattern"). */
const char *rules_condition_key(enum cond_type type);

#endif
