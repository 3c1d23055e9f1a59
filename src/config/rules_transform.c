/*
 * rules_transform: rule transforms (alb-listener-rules.md §2.6).
 *
 *   transforms:
 *     - type: host-header-rewrite        # or url-rewrite
 *       rewrites: [{regex: "^www\\.(.+)$", replace: "$1"}]
 *
 * AWS's own nesting (`host_header_rewrite_config: {rewrites: [...]}`,
 * `url_rewrite_config: {...}`, the API's HostHeaderRewriteConfig and
 * UrlRewriteConfig in snake_case) is read too, so a rule copied from
 * Terraform or the API keeps its shape. Everything is checked here, at load:
 * the regex (ALB's unsupported features, PCRE2's syntax) and every $N of
 * the replacement against the regex's groups, so a request never meets a
 * rewrite that cannot work.
 */
#include "config/rules_transform.h"

#include <stdio.h>
#include <string.h>

#include "alb/transform.h"
#include "config/rules.h"

/* ALB's limits (§2.6). */
enum {
	REWRITE_TEXT_MAX = 1024,       /* Regex and Replace, each */
	REWRITES_PER_TRANSFORM = 1,    /* lb's reading of RewriteConfigList (unverified) */
	QUOTE_MAX = 40,                /* longest text an error quotes whole */
};

static const char *const transform_types[] = { "host-header-rewrite", "url-rewrite" };
static const char *const config_keys[] = { "host_header_rewrite_config", "url_rewrite_config" };

static const struct yfield transform_fields[] = {
	YFIELD_NODE("type", .required = true),
	YFIELD_NODE("rewrites"),
	YFIELD_NODE("host_header_rewrite_config"),
	YFIELD_NODE("url_rewrite_config"),
};
static const struct yfield config_fields[] = {
	YFIELD_NODE("rewrites", .required = true),
};
static const struct yfield rewrite_fields[] = {
	YFIELD_NODE("regex", .required = true),
	YFIELD_NODE("replace", .required = true),
};

/* s[0..n) for an error message: whole, or its start and "...", so a long
 * regex or reference cannot push the reason out of lb_err's 1024 bytes. */
static const char *quote(char buf[QUOTE_MAX + 4], const char *s, size_t n)
{
	snprintf(buf, QUOTE_MAX + 4, "%.*s%s", (int)(n > QUOTE_MAX ? QUOTE_MAX : n), s,
		 n > QUOTE_MAX ? "..." : "");
	return buf;
}

static int rewrite_load(struct config *cfg, const struct ynode *n, struct rule_rewrite *rw,
			struct lb_err *err)
{
	const struct ynode *regex = ydoc_get(n, "regex"), *replace = ydoc_get(n, "replace");
	char msg[256], shown[QUOTE_MAX + 4];
	unsigned group;
	struct sv ref;

	if (ydoc_fields(n, "rewrites", rewrite_fields, ARRAY_LEN(rewrite_fields), NULL, NULL, err))
		return -1;
	rw->pos = (struct src_pos){ n->file, n->line, n->col };
	if (rules_regex_text(cfg, regex, "regex", REWRITE_TEXT_MAX, &rw->regex, err) ||
	    rules_regex_text(cfg, replace, "replace", REWRITE_TEXT_MAX, &rw->replace, err))
		return -1;
	if (!(rw->re = regex_compile(&cfg->arena, rw->regex, msg, sizeof(msg))))
		return ydoc_err(err, regex, "regex '%s': %s",
				quote(shown, rw->regex, strlen(rw->regex)), msg);
	/* Why: Replace "may use capture groups $1, $2, ..." (§2.6); one the
	 * regex does not have is a mistake lb reports at load, quoted as
	 * written. */
	group = transform_max_group(rw->replace, &ref);
	if (group > regex_capture_count(rw->re))
		return ydoc_err(err, replace, "'replace' refers to group %s, but the regex has %u",
				quote(shown, ref.p, ref.n), regex_capture_count(rw->re));
	return 0;
}

/* One item of `transforms:`. */
static int transform_load(struct config *cfg, const struct ynode *n, struct rule *r,
			  struct lb_err *err)
{
	const struct ynode *type = ydoc_get(n, "type"), *rewrites, *nested[2];
	const struct rule_rewrite **slot;
	struct rule_rewrite *rw;
	int t;

	if (ydoc_fields(n, "transforms", transform_fields, ARRAY_LEN(transform_fields), NULL,
			NULL, err) ||
	    ydoc_enum(type, "type", transform_types, ARRAY_LEN(transform_types), &t, err))
		return -1;
	nested[0] = ydoc_get(n, config_keys[0]);
	nested[1] = ydoc_get(n, config_keys[1]);
	if (nested[!t])
		return ydoc_err(err, ydoc_key(n, config_keys[!t]), "a %s transform takes no '%s'",
				transform_types[t], config_keys[!t]);
	rewrites = ydoc_get(n, "rewrites");
	if (rewrites && nested[t])
		return ydoc_err(err, ydoc_key(n, config_keys[t]),
				"give 'rewrites' or '%s', not both", config_keys[t]);
	if (nested[t]) {
		if (ydoc_fields(nested[t], config_keys[t], config_fields, ARRAY_LEN(config_fields),
				NULL, NULL, err))
			return -1;
		rewrites = ydoc_get(nested[t], "rewrites");
	}
	if (!rewrites)
		return ydoc_err(err, n, "missing key 'rewrites'");
	if (ydoc_list(rewrites, "rewrites", YNODE_MAPPING, err))
		return -1;
	if (rewrites->n != REWRITES_PER_TRANSFORM)
		return ydoc_err(err, rewrites, "a transform has exactly %d rewrite",
				REWRITES_PER_TRANSFORM);
	/* Why: "at most one host-header rewrite and one URL rewrite per rule" (§2.6). */
	slot = t == 0 ? &r->host_rewrite : &r->url_rewrite;
	if (*slot)
		return ydoc_err(err, type, "a rule has at most one %s transform", transform_types[t]);
	rw = arena_alloc(&cfg->arena, sizeof(*rw));
	if (rewrite_load(cfg, rewrites->items[0], rw, err))
		return -1;
	*slot = rw;
	return 0;
}

int rules_transform_load(struct config *cfg, const struct ynode *seq, struct rule *r,
			 struct lb_err *err)
{
	if (!seq)
		return 0;
	if (ydoc_list(seq, "transforms", YNODE_MAPPING, err))
		return -1;
	for (size_t i = 0; i < seq->n; i++) {
		if (transform_load(cfg, seq->items[i], r, err))
			return -1;
	}
	return 0;
}
