/*
 * cfg_index: numbers for a configuration's rules and target groups, so the
 * console can keep per-rule and per-target-group tables (series numbers,
 * hit slots) that the request path reads by index — no string work per
 * request. Pure.
 *
 * Rules are numbered listener by listener: a listener's rules in their
 * order, then its default rule. A rule or target group of another
 * configuration (a request that began before a reload) has no number here.
 */
#ifndef LB_INSPECT_CFG_INDEX_H
#define LB_INSPECT_CFG_INDEX_H

#include <stddef.h>

#include "config/config.h"

struct cfg_index {
	const struct config *cfg;   /* borrowed */
	size_t *rule_at;            /* listener i's first rule number; [nlisteners]: the total */
	size_t nlisteners, nrules, ntgs;
};

void cfg_index_init(struct cfg_index *x, const struct config *cfg);
void cfg_index_free(struct cfg_index *x);
/* The number of a rule of listener (an index into cfg's listeners), -1 when it is not one of them. */
long cfg_index_rule(const struct cfg_index *x, int listener, const struct rule *rule);
/* The number of a target group (its index in cfg), -1 when it is not one of cfg's. */
long cfg_index_tg(const struct cfg_index *x, const struct target_group *tg);

#endif
