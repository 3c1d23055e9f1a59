/*
 * regex_rule: the regular expressions of ALB's regex conditions and rule
 * transforms (alb-listener-rules.md §1.4, §2.6), compiled with PCRE2.
 *
 * A pattern is checked against the features ALB refuses (lookaround,
 * backreferences, atomic groups, possessive quantifiers, subroutines and
 * recursion, Unicode classes), compiled once at configuration load and freed
 * with the configuration's arena. Each compiled regex owns its match data,
 * so matching a request allocates nothing. Matching is a search (unanchored:
 * write ^ and $ to anchor) and case-sensitive ((?i) makes it insensitive);
 * ALB documents neither (§1.3, unverified), these follow its suggestion.
 * lb is single-threaded: one match at a time per regex.
 */
#ifndef LB_REGEX_RULE_H
#define LB_REGEX_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

struct regex;

/*
 * The first construct of pattern ALB does not support, as a short phrase
 * ("a lookahead"), with *at its offset; NULL when there is none, and when
 * PCRE2 rejects the pattern (regex_compile gives PCRE2's reason).
 */
const char *regex_unsupported(const char *pattern, size_t *at);

/*
 * Compiles pattern (NUL-terminated). Returns a regex owned by the arena (freed
 * by arena_release), or NULL with a one-line reason in msg ("a lookbehind at
 * offset 2", "missing closing parenthesis at offset 4").
 */
struct regex *regex_compile(struct arena *a, const char *pattern, char *msg, size_t msglen);

/* Number of capture groups ($1 .. $n in a replacement). */
uint32_t regex_capture_count(const struct regex *re);

/*
 * Searches subject. Returns 1 on a match, 0 on none, -1 when the match gave
 * up (PCRE2's match or heap limit: a pathological pattern and subject).
 * After a match, regex_group gives the groups' spans until the next call.
 */
int regex_search(struct regex *re, struct sv subject);

/* Group n (0: the whole match) of the last successful search: false when
 * it did not take part in the match (an optional group). */
bool regex_group(const struct regex *re, uint32_t n, size_t *start, size_t *end);

/* Frees the calling thread's match data (a `workers` thread, before it ends). */
void regex_thread_release(void);

#endif
