/*
 * rules_transform: a rule's `transforms:` (alb-listener-rules.md §2.6), read
 * into its host-header-rewrite and url-rewrite. Part of config_load, with rules.
 */
#ifndef LB_RULES_TRANSFORM_H
#define LB_RULES_TRANSFORM_H

#include "config/config.h"
#include "config/yaml_doc.h"

/*
 * Reads the list seq (NULL: no transforms) into r->host_rewrite and
 * r->url_rewrite, regexes compiled into cfg's arena. Returns 0, or -1 with
 * err set to "file:line:col: ...".
 */
int rules_transform_load(struct config *cfg, const struct ynode *seq, struct rule *r,
			 struct lb_err *err);

#endif
