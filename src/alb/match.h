/*
 * match: ALB's listener-rule evaluation (alb-listener-rules.md §1). Rules are
 * tried by ascending priority; a rule matches when all its conditions match
 * (AND), a condition when any of its values matches (OR); the default rule
 * matches when no other does. Pure: a function of the rules and the request.
 */
#ifndef LB_MATCH_H
#define LB_MATCH_H

#include <stdbool.h>

#include "config/config.h"
#include "alb/http_msg.h"

/*
 * Called for each rule that did not match, with the first condition that
 * failed, in evaluation order (for `lb explain`).
 */
typedef void (*match_miss_fn)(void *cookie, const struct rule *rule, const struct condition *failed);

/* The rule whose actions apply: a rule of l, or &l->default_rule. Never NULL. */
const struct rule *match_rules(const struct listener_cfg *l, const struct http_request *req,
			       match_miss_fn on_miss, void *cookie);

bool match_condition(const struct condition *c, const struct http_request *req);

/*
 * ALB's wildcard match of a whole text: '*' any run of characters (including
 * none, '/' and '.'), '?' exactly one. nocase: ASCII case-insensitive.
 * escapes: "\*" and "\?" match a literal '*' and '?' (query-string values).
 */
bool glob_match(struct sv pattern, struct sv text, bool nocase, bool escapes);

/* Whether the address (family, 4 or 16 bytes) lies in the block. */
bool cidr_contains(const struct cidr *block, int family, const uint8_t *addr);

#endif
