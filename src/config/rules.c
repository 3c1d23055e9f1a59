/*
 * rules: listener rules (priority, conditions, one routing action) read from
 * the files each listener's globs name, and the listeners' default actions.
 *
 * Every ALB limit is a named constant below (actions' at the top of
 * rules_action.c), with the section of reference/alb-listener-rules.md it
 * comes from, so that following AWS when a quota changes is a one-line edit. Condition types are rows of one table
 * (key, limits, value syntax); a rule's budget of values and wildcards is
 * counted as its conditions are read, so an error points at the first value
 * past the limit.
 *
 * Files are parsed one at a time and freed at once: whatever outlives them
 * (strings, positions) is copied into cfg->arena, and positions name the
 * rule file through a path string that lives there too. A listener's rules
 * are gathered in a malloc'd vector, sorted by priority and then copied into
 * the arena. This file owns nothing after rules_load returns.
 */
#include "config/rules.h"

#include <arpa/inet.h>
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/log.h"
#include "config/rules_action.h"
#include "config/rules_transform.h"

/* ALB's limits (alb-listener-rules.md §1, §1.1, §1.2, §7 item 3). */
enum {
	RULE_PRIORITY_MIN = 1,         /* §1: RulePriority 1-50000, unique per listener */
	RULE_PRIORITY_MAX = 50000,
	RULES_PER_LB_MAX = 100,        /* §1: per load balancer, default rules excluded */
	CONDITION_VALUES_MAX = 3,      /* §1.1: match evaluations per condition */
	SOURCE_IP_VALUES_MAX = 5,      /* §1.1: SourceIpConditionConfig.Values */
	RULE_VALUES_MAX = 5,           /* §1.1: condition values per rule */
	RULE_WILDCARDS_MAX = 5,        /* §1.1: unverified (ja_jp says 6); the reference says 5 */
	HOST_VALUE_MAX = 128,          /* §1.2 */
	PATH_VALUE_MAX = 128,          /* §1.2 */
	HEADER_NAME_MAX = 40,          /* §1.2 */
	HEADER_VALUE_MAX = 128,        /* §1.2 */
	METHOD_VALUE_MAX = 40,         /* §1.2 */
	QUERY_VALUE_MAX = 128,         /* §1.2: key and value each */
	REGEX_VALUE_MAX = 128,         /* §1.4: RegexValues, each */
};

struct rule_budget {
	size_t values;                 /* condition values so far (query pairs count one) */
	size_t wildcards;
	bool seen[COND_SOURCE_IP + 1]; /* condition types already used */
};

enum wildcards {
	WILD_NONE,                     /* '*' and '?' are plain characters (or not allowed) */
	WILD_PLAIN,                    /* '*' and '?' are wildcards */
	WILD_ESCAPABLE,                /* ... except "\*" and "\?", literals (query strings) */
};

struct cond_kind {
	const char *key;
	bool once;                     /* at most one such condition per rule (§1.1) */
	size_t max_values, max_len;
	enum wildcards wildcards;      /* §1.1: in host, path, header and query values */
	const struct yfield *fields;   /* the keys of its mapping */
	size_t nfields;
	int (*check)(const struct ynode *v, struct lb_err *err); /* value syntax, or NULL */
};

/* One file some glob matched; listeners may share it. */
struct rule_file {
	char *real;                    /* realpath: the file's identity */
	const char *path;              /* as globbed, in cfg->arena (positions point to it) */
	size_t loaded_by;              /* 1 + the last listener that read it; 0: none */
	bool taken;                    /* some listener kept its rules */
	struct src_pos skipped;        /* its `listener:` value while no listener took it */
	int port;                      /* that value */
};

struct rules_loader {
	struct config *cfg;
	struct lb_err *err;
	struct rule_file *files;
	size_t nfiles, files_cap;
	size_t nrules;                 /* over all listeners: ALB's quota is per load balancer */
	struct rule *rules;            /* the listener being loaded */
	size_t nlrules, rules_cap;
};

static const struct yfield values_fields[] = {
	YFIELD_NODE("values"),
};
/* §1.4: regex_values exists for host-header, path-pattern and http-header only. */
static const struct yfield regex_fields[] = {
	YFIELD_NODE("values"),
	YFIELD_NODE("regex_values"),
};
static const struct yfield header_fields[] = {
	YFIELD_NODE("http_header_name", .required = true),
	YFIELD_NODE("values"),
	YFIELD_NODE("regex_values"),
};
static const struct yfield query_pair_fields[] = {
	YFIELD_NODE("key"),
	YFIELD_NODE("value", .required = true),
};
static const struct yfield rule_fields[] = {
	YFIELD_INT("priority", struct rule, priority, RULE_PRIORITY_MIN, RULE_PRIORITY_MAX,
		   .required = true),
	YFIELD_NODE("conditions", .required = true),
	YFIELD_NODE("actions", .required = true),
	YFIELD_NODE("transforms"),
};
static const struct yfield file_fields[] = {
	YFIELD_NODE("listener"),
	YFIELD_NODE("rules", .required = true),
};

#define ALPHA "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define DIGIT "0123456789"

/*
 * Why: host-header patterns may hold A-Z a-z 0-9 - . * ?, need a '.', and
 * only letters may follow the last '.' (alb-listener-rules.md §1.2). A
 * wildcard after the last dot ("example.*") leaves the TLD open, so lb does
 * not hold it to the letters-only rule.
 */
static int host_check(const struct ynode *v, struct lb_err *err)
{
	const char *dot = strrchr(v->str, '.');

	if (strspn(v->str, ALPHA DIGIT "-.*?") != v->len)
		return ydoc_err(err, v, "host_header value '%s' may hold only letters, digits, "
				"'-', '.', '*' and '?'", v->str);
	if (!dot)
		return ydoc_err(err, v, "host_header value '%s' needs a '.'", v->str);
	if (!strpbrk(dot, "*?") && strspn(dot + 1, ALPHA) != strlen(dot + 1))
		return ydoc_err(err, v, "host_header value '%s' must end in letters after its "
				"last '.'", v->str);
	return 0;
}

/*
 * Why: path patterns allow A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & * ? (§1.2),
 * and '%': paths are matched raw, and non-ASCII paths are written
 * percent-encoded in ALB rules (§1.3, "/caf%C3%A9").
 */
static int path_check(const struct ynode *v, struct lb_err *err)
{
	if (strspn(v->str, ALPHA DIGIT "_-.$/~\"'@:+&*?%") != v->len)
		return ydoc_err(err, v, "path_pattern value '%s' may hold only letters, digits "
				"and _-.$/~\"'@:+&*?%%", v->str);
	return 0;
}

/* Why: methods are A-Z, '-' and '_' and match exactly (§1.2). */
static int method_check(const struct ynode *v, struct lb_err *err)
{
	if (strspn(v->str, "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_") != v->len)
		return ydoc_err(err, v, "http_request_method value '%s' may hold only A-Z, '-' "
				"and '_'", v->str);
	return 0;
}

static const struct cond_kind cond_kinds[] = {
	[COND_HOST_HEADER] = { "host_header", true, CONDITION_VALUES_MAX, HOST_VALUE_MAX,
			       WILD_PLAIN, regex_fields, ARRAY_LEN(regex_fields), host_check },
	[COND_PATH_PATTERN] = { "path_pattern", true, CONDITION_VALUES_MAX, PATH_VALUE_MAX,
				WILD_PLAIN, regex_fields, ARRAY_LEN(regex_fields), path_check },
	[COND_HTTP_HEADER] = { "http_header", false, CONDITION_VALUES_MAX, HEADER_VALUE_MAX,
			       WILD_PLAIN, header_fields, ARRAY_LEN(header_fields), NULL },
	[COND_HTTP_REQUEST_METHOD] = { "http_request_method", true, CONDITION_VALUES_MAX,
				       METHOD_VALUE_MAX, WILD_NONE, values_fields,
				       ARRAY_LEN(values_fields), method_check },
	[COND_QUERY_STRING] = { "query_string", false, CONDITION_VALUES_MAX, QUERY_VALUE_MAX,
				WILD_ESCAPABLE, values_fields, ARRAY_LEN(values_fields), NULL },
	[COND_SOURCE_IP] = { "source_ip", true, SOURCE_IP_VALUES_MAX, 0, WILD_NONE, values_fields,
			     ARRAY_LEN(values_fields), NULL },
};

/* '*' and '?', except "\*" and "\?" where escapes are literal (query strings, §1.2). */
static size_t count_wildcards(const char *s, bool escapes)
{
	size_t n = 0;

	for (; *s; s++) {
		if (escapes && s[0] == '\\' && (s[1] == '*' || s[1] == '?'))
			s++;
		else if (*s == '*' || *s == '?')
			n++;
	}
	return n;
}

/* Why: rules apply only to visible ASCII, no control characters (§1.1). */
static bool visible_ascii(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	}
	return true;
}

/* Checks one string of a condition of kind k and charges it to the rule's budget. */
static int text_load(struct rules_loader *ld, const struct cond_kind *k, const struct ynode *v,
		     struct rule_budget *b, const char **out)
{
	const char *s;

	if (ydoc_str(v, k->key, &s, ld->err))
		return -1;
	/* Why: "The value for a condition can't be empty" (§1, RuleCondition). */
	if (!*s)
		return ydoc_err(ld->err, v, "condition values can't be empty");
	if (v->len > k->max_len)
		return ydoc_err(ld->err, v, "%s values are at most %zu characters", k->key,
				k->max_len);
	if (!visible_ascii(s))
		return ydoc_err(ld->err, v, "%s values must be visible ASCII", k->key);
	if (k->check && k->check(v, ld->err))
		return -1;
	if (k->wildcards != WILD_NONE) {
		b->wildcards += count_wildcards(s, k->wildcards == WILD_ESCAPABLE);
		if (b->wildcards > RULE_WILDCARDS_MAX)
			return ydoc_err(ld->err, v, "a rule has at most %d wildcards ('*' or '?')",
					RULE_WILDCARDS_MAX);
	}
	*out = arena_strdup(&ld->cfg->arena, s);
	return 0;
}

int rules_regex_text(struct config *cfg, const struct ynode *v, const char *key, size_t max_len,
		     const char **out, struct lb_err *err)
{
	const char *s;

	if (ydoc_str(v, key, &s, err))
		return -1;
	if (!*s)
		return ydoc_err(err, v, "'%s' can't be empty", key);
	if (v->len > max_len)
		return ydoc_err(err, v, "'%s' is at most %zu characters", key, max_len);
	if (!visible_ascii(s))
		return ydoc_err(err, v, "'%s' must be visible ASCII", key);
	*out = arena_strdup(&cfg->arena, s);
	return 0;
}

static int query_load(struct rules_loader *ld, const struct ynode *item, struct rule_budget *b,
		      struct query_kv *kv)
{
	const struct cond_kind *k = &cond_kinds[COND_QUERY_STRING];
	const struct ynode *key = ydoc_get(item, "key");

	if (ydoc_fields(item, "values", query_pair_fields, ARRAY_LEN(query_pair_fields), NULL,
			NULL, ld->err))
		return -1;
	/* A pair without a key matches the value under any key (§1.2). */
	if (key && text_load(ld, k, key, b, &kv->key))
		return -1;
	return text_load(ld, k, ydoc_get(item, "value"), b, &kv->value);
}

static int cidr_parse(const char *s, struct cidr *out)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : 0;
	char *end;
	long prefix;

	if (!slash || len == 0 || len >= sizeof(addr) || !(slash[1] >= '0' && slash[1] <= '9'))
		return -1;
	memcpy(addr, s, len);
	addr[len] = '\0';
	memset(out, 0, sizeof(*out));
	out->family = inet_pton(AF_INET, addr, out->addr) == 1 ? AF_INET : AF_INET6;
	if (out->family == AF_INET6 && inet_pton(AF_INET6, addr, out->addr) != 1)
		return -1;
	prefix = strtol(slash + 1, &end, 10);
	if (*end || prefix > (out->family == AF_INET ? 32 : 128))
		return -1;
	out->prefix = (int)prefix;
	/* Keep the network address only: 10.1.2.3/8 is 10.0.0.0/8. */
	for (int bit = out->prefix; bit < 128; bit++)
		out->addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
	return 0;
}

static int source_ip_load(struct rules_loader *ld, const struct ynode *v, struct cidr *out)
{
	static const uint8_t broadcast[4] = { 255, 255, 255, 255 };

	if (cidr_parse(v->str, out))
		return ydoc_err(ld->err, v, "source_ip value '%s' must be an IPv4 or IPv6 CIDR "
				"block", v->str);
	/* Why: ALB refuses 255.255.255.255/32 as a source-ip value (§1.2). */
	if (out->family == AF_INET && out->prefix == 32 && memcmp(out->addr, broadcast, 4) == 0)
		return ydoc_err(ld->err, v, "source_ip value '%s' is not allowed", v->str);
	return 0;
}

/* http_header_name: a token of at most 40 characters, no wildcards, never Host. */
static int header_name_load(struct rules_loader *ld, const struct ynode *v, struct condition *c)
{
	const char *s;

	if (ydoc_str(v, "http_header_name", &s, ld->err))
		return -1;
	if (!*s || v->len > HEADER_NAME_MAX ||
	    strspn(s, ALPHA DIGIT "!#$%&'+-.^_`|~") != v->len)
		return ydoc_err(ld->err, v, "'http_header_name' must be 1-%d token characters "
				"without wildcards, not '%s'", HEADER_NAME_MAX, s);
	/* Why: "This condition cannot match the Host header; use host-header" (§1.2). */
	if (strcasecmp(s, "host") == 0)
		return ydoc_err(ld->err, v, "http_header can't match 'Host': use host_header");
	c->header_name = arena_strdup(&ld->cfg->arena, s);
	return 0;
}

/* Charges a list of values (or regex_values) to the condition's and the rule's limits. */
static int values_count(struct rules_loader *ld, const struct cond_kind *k, const char *key,
			const struct ynode *values, struct rule_budget *b)
{
	size_t n = values->n;

	if (n == 0)
		return ydoc_err(ld->err, values, "'%s' needs at least one value", key);
	if (n > k->max_values)
		return ydoc_err(ld->err, values->items[k->max_values],
				"a %s condition has at most %zu values", k->key, k->max_values);
	if (b->values + n > RULE_VALUES_MAX)
		return ydoc_err(ld->err, values->items[RULE_VALUES_MAX - b->values],
				"a rule has at most %d condition values", RULE_VALUES_MAX);
	b->values += n;
	return 0;
}

/*
 * regex_values (§1.4): at most 128 visible ASCII characters each, counted
 * like values against the condition's 3 and the rule's 5 match evaluations
 * (lb's reading: a regex is one match evaluation), but not against the
 * wildcard budget ('*' and '?' are regex syntax there). Compiled here, once.
 */
static int regex_values_load(struct rules_loader *ld, const struct cond_kind *k,
			     const struct ynode *values, struct rule_budget *b, struct condition *c)
{
	struct arena *a = &ld->cfg->arena;

	if (values_count(ld, k, "regex_values", values, b))
		return -1;
	c->nvalues = values->n;
	c->values = arena_alloc(a, values->n * sizeof(*c->values));
	c->regexes = arena_alloc(a, values->n * sizeof(*c->regexes));
	for (size_t i = 0; i < values->n; i++) {
		const struct ynode *v = values->items[i];
		char msg[256];

		if (rules_regex_text(ld->cfg, v, "regex_values", REGEX_VALUE_MAX, &c->values[i],
				     ld->err))
			return -1;
		if (!(c->regexes[i] = regex_compile(a, c->values[i], msg, sizeof(msg))))
			return ydoc_err(ld->err, v, "regex '%s': %s", c->values[i], msg);
	}
	return 0;
}

static int values_load(struct rules_loader *ld, const struct cond_kind *k,
		       const struct ynode *values, struct rule_budget *b, struct condition *c)
{
	struct arena *a = &ld->cfg->arena;
	size_t n = values->n;

	if (values_count(ld, k, "values", values, b))
		return -1;
	c->nvalues = n;
	if (c->type == COND_QUERY_STRING)
		c->query = arena_alloc(a, n * sizeof(*c->query));
	else if (c->type == COND_SOURCE_IP)
		c->cidrs = arena_alloc(a, n * sizeof(*c->cidrs));
	else
		c->values = arena_alloc(a, n * sizeof(*c->values));
	for (size_t i = 0; i < n; i++) {
		const struct ynode *v = values->items[i];
		int rc;

		if (c->type == COND_QUERY_STRING)
			rc = query_load(ld, v, b, &c->query[i]);
		else if (c->type == COND_SOURCE_IP)
			rc = source_ip_load(ld, v, &c->cidrs[i]);
		else
			rc = text_load(ld, k, v, b, &c->values[i]);
		if (rc)
			return -1;
	}
	return 0;
}

static const struct cond_kind *cond_kind_find(struct rules_loader *ld, const struct ynode *key)
{
	const char *names[ARRAY_LEN(cond_kinds)];

	for (size_t i = 0; i < ARRAY_LEN(cond_kinds); i++) {
		if (strcmp(key->str, cond_kinds[i].key) == 0)
			return &cond_kinds[i];
		names[i] = cond_kinds[i].key;
	}
	ydoc_unknown_key(ld->err, key, names, ARRAY_LEN(names));
	return NULL;
}

/* One item of `conditions:`: {TYPE: {values: [...]}}. */
static int condition_load(struct rules_loader *ld, const struct ynode *item,
			  struct rule_budget *b, struct condition *c)
{
	const struct cond_kind *k;
	const struct ynode *key, *body, *values, *regexes;

	if (item->n != 1)
		return ydoc_err(ld->err, item, "a condition has exactly one key: host_header, "
				"path_pattern, http_header, http_request_method, query_string or "
				"source_ip");
	key = item->pairs[0].key;
	body = item->pairs[0].value;
	if (!(k = cond_kind_find(ld, key)))
		return -1;
	c->type = (enum cond_type)(k - cond_kinds);
	c->pos = (struct src_pos){ key->file, key->line, key->col };
	if (k->once && b->seen[c->type])
		return ydoc_err(ld->err, key, "a rule has at most one %s condition", k->key);
	b->seen[c->type] = true;
	if (ydoc_fields(body, k->key, k->fields, k->nfields, NULL, NULL, ld->err))
		return -1;
	values = ydoc_get(body, "values");
	regexes = ydoc_get(body, "regex_values");
	/* Why: a condition uses either values or regex_values, "conflicts
	 * with values" (§1.4). */
	if (values && regexes)
		return ydoc_err(ld->err, ydoc_key(body, "regex_values"),
				"a condition takes 'values' or 'regex_values', not both");
	if (!values && !regexes)
		return ydoc_err(ld->err, body, "missing key 'values'");
	if (ydoc_list(values ? values : regexes, values ? "values" : "regex_values",
		      c->type == COND_QUERY_STRING ? YNODE_MAPPING : YNODE_SCALAR, ld->err))
		return -1;
	if (c->type == COND_HTTP_HEADER &&
	    header_name_load(ld, ydoc_get(body, "http_header_name"), c))
		return -1;
	if (regexes)
		return regex_values_load(ld, k, regexes, b, c);
	return values_load(ld, k, values, b, c);
}

static int conditions_load(struct rules_loader *ld, const struct ynode *seq, struct rule *r)
{
	struct rule_budget budget = { 0 };

	if (ydoc_list(seq, "conditions", YNODE_MAPPING, ld->err))
		return -1;
	/* Why: a rule has "one or more conditions" (§1). */
	if (seq->n == 0)
		return ydoc_err(ld->err, seq, "a rule needs at least one condition");
	r->conditions = arena_alloc(&ld->cfg->arena, seq->n * sizeof(*r->conditions));
	for (; r->nconditions < seq->n; r->nconditions++) {
		if (condition_load(ld, seq->items[r->nconditions], &budget,
				   &r->conditions[r->nconditions]))
			return -1;
	}
	return 0;
}

static int rule_add(struct rules_loader *ld, const struct ynode *prio, const struct rule *r)
{
	for (size_t i = 0; i < ld->nlrules; i++) {
		const struct src_pos *p = &ld->rules[i].pos;

		if (ld->rules[i].priority == r->priority)
			return ydoc_err(ld->err, prio, "duplicate priority %d (also at %s:%d:%d)",
					r->priority, p->file, p->line, p->col);
	}
	if (++ld->nrules > RULES_PER_LB_MAX)
		return ydoc_err(ld->err, prio, "a load balancer has at most %d rules (default "
				"rules excluded)", RULES_PER_LB_MAX);
	xgrow(&ld->rules, &ld->rules_cap, ld->nlrules + 1, sizeof(*ld->rules));
	ld->rules[ld->nlrules++] = *r;
	return 0;
}

static int rule_load(struct rules_loader *ld, const struct ynode *n)
{
	struct rule r = { .pos = { n->file, n->line, n->col } };

	if (ydoc_fields(n, "rules", rule_fields, ARRAY_LEN(rule_fields), &r, &ld->cfg->arena,
			ld->err))
		return -1;
	if (conditions_load(ld, ydoc_get(n, "conditions"), &r) ||
	    rules_action_load(ld->cfg, ydoc_get(n, "actions"), "actions", &r.action, ld->err) ||
	    rules_transform_load(ld->cfg, ydoc_get(n, "transforms"), &r, ld->err))
		return -1;
	return rule_add(ld, ydoc_get(n, "priority"), &r);
}

/* Reads f for listener l: its rules, unless its `listener:` names another port. */
static int file_load(struct rules_loader *ld, const struct listener_cfg *l, struct rule_file *f)
{
	struct ydoc *doc = ydoc_load(f->path, ld->err);
	const struct ynode *root, *port, *rules;
	int rc = -1;

	if (!doc)
		return -1;
	root = doc->root;
	if (ydoc_fields(root, NULL, file_fields, ARRAY_LEN(file_fields), NULL, NULL, ld->err))
		goto out;
	port = ydoc_get(root, "listener");
	rules = ydoc_get(root, "rules");
	if (port && ydoc_int(port, "listener", 0, 65535, &f->port, ld->err))
		goto out;
	if (port && f->port != l->port) {
		if (!f->taken)
			f->skipped = (struct src_pos){ port->file, port->line, port->col };
		rc = 0;
		goto out;
	}
	f->taken = true;
	if (ydoc_list(rules, "rules", YNODE_MAPPING, ld->err))
		goto out;
	for (size_t i = 0; i < rules->n; i++) {
		if (rule_load(ld, rules->items[i]))
			goto out;
	}
	rc = 0;
out:
	ydoc_free(doc);
	return rc;
}

static struct rule_file *file_find(struct rules_loader *ld, const char *path)
{
	char *real = realpath(path, NULL);
	struct rule_file *f;

	if (!real)
		real = xstrdup(path);
	for (size_t i = 0; i < ld->nfiles; i++) {
		if (strcmp(ld->files[i].real, real) == 0) {
			free(real);
			return &ld->files[i];
		}
	}
	xgrow(&ld->files, &ld->files_cap, ld->nfiles + 1, sizeof(*ld->files));
	f = &ld->files[ld->nfiles++];
	*f = (struct rule_file){ .real = real, .path = arena_strdup(&ld->cfg->arena, path) };
	return f;
}

/* A wildcard that matched nothing because its directory does not exist
 * ("rulez/" for "rules/") is most likely a typo: said, though it loads. */
static void warn_missing_dir(const struct ynode *pattern, const char *path)
{
	size_t wild = strcspn(path, "*?["), slash = wild;
	char dir[PATH_MAX];
	struct stat st;

	while (slash > 0 && path[slash - 1] != '/')
		slash--;
	if (slash == 0 || slash >= sizeof(dir))
		return;
	memcpy(dir, path, slash);
	dir[slash] = '\0';
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		log_warn("%s:%d:%d: '%s' matches no file: there is no directory '%s'", pattern->file,
			 pattern->line, pattern->col, pattern->str, dir);
}

/* Loads, for listener li, every file one glob matches (sorted, as glob(3) does). */
static int glob_load(struct rules_loader *ld, size_t li, const struct ynode *pattern)
{
	const char *path = ydoc_path(pattern, true, &ld->cfg->arena);
	glob_t g;
	size_t nfiles = 0;
	int grc = glob(path, GLOB_MARK, NULL, &g), rc = 0;

	if (grc != 0 && grc != GLOB_NOMATCH) {
		globfree(&g);
		return ydoc_err(ld->err, pattern, "cannot read the files '%s' matches",
				pattern->str);
	}
	for (size_t i = 0; grc == 0 && rc == 0 && i < g.gl_pathc; i++) {
		const char *p = g.gl_pathv[i];
		struct rule_file *f;

		if (p[strlen(p) - 1] == '/')
			continue; /* GLOB_MARK: a directory */
		nfiles++;
		f = file_find(ld, p);
		if (f->loaded_by == li + 1)
			continue; /* two globs of one listener matched it */
		f->loaded_by = li + 1;
		rc = file_load(ld, &ld->cfg->listeners[li], f);
	}
	globfree(&g);
	/* A wildcard may match nothing (an empty rules directory); a plain
	 * path must name a file, so a typo does not pass unnoticed. */
	if (rc == 0 && nfiles == 0 && !strpbrk(pattern->str, "*?["))
		return ydoc_err(ld->err, pattern, "'%s' matches no file", pattern->str);
	if (rc == 0 && nfiles == 0)
		warn_missing_dir(pattern, path);
	return rc;
}

static int cmp_priority(const void *a, const void *b)
{
	const struct rule *x = a, *y = b;

	return (x->priority > y->priority) - (x->priority < y->priority);
}

static int listener_load(struct rules_loader *ld, size_t li, const struct ynode *n)
{
	struct listener_cfg *l = &ld->cfg->listeners[li];
	const struct ynode *globs = ydoc_get(n, "rules");

	l->default_rule.pos = l->pos;
	if (rules_action_load(ld->cfg, ydoc_get(n, "default_actions"), "default_actions",
			      &l->default_rule.action, ld->err))
		return -1;
	ld->nlrules = 0;
	/* A template (stack.c) writes its rules inline: a list of rule mappings. */
	if (globs && globs->type == YNODE_SEQUENCE && globs->n &&
	    globs->items[0]->type == YNODE_MAPPING) {
		if (ydoc_list(globs, "rules", YNODE_MAPPING, ld->err))
			return -1;
		for (size_t i = 0; i < globs->n; i++) {
			if (rule_load(ld, globs->items[i]))
				return -1;
		}
		globs = NULL;
	}
	if (globs && ydoc_list(globs, "rules", YNODE_SCALAR, ld->err))
		return -1;
	for (size_t i = 0; globs && i < globs->n; i++) {
		if (glob_load(ld, li, globs->items[i]))
			return -1;
	}
	for (size_t i = 0; i <= ld->nlrules; i++) {
		const struct action *act = i < ld->nlrules ? &ld->rules[i].action : &l->default_rule.action;
		const struct auth_cfg *a = act->auth;

		/* Why: authenticate actions run only on HTTPS listeners (§2.5). */
		if (a && l->protocol != PROTO_HTTPS)
			return lb_err_at(ld->err, a->pos.file, a->pos.line, a->pos.col,
					 "authentication actions need an HTTPS listener");
		/* Why: "You cannot redirect HTTPS to HTTP" (RedirectActionConfig, §2.3). */
		if (act->type == ACTION_REDIRECT && l->protocol == PROTO_HTTPS &&
		    act->redirect.protocol && strcmp(act->redirect.protocol, "HTTP") == 0)
			return lb_err_at(ld->err, act->pos.file, act->pos.line, act->pos.col,
					 "a redirect cannot go from HTTPS to HTTP");
	}
	if (ld->nlrules == 0)
		return 0;
	qsort(ld->rules, ld->nlrules, sizeof(*ld->rules), cmp_priority);
	l->nrules = ld->nlrules;
	l->rules = arena_alloc(&ld->cfg->arena, ld->nlrules * sizeof(*l->rules));
	memcpy(l->rules, ld->rules, ld->nlrules * sizeof(*l->rules));
	return 0;
}

const char *rules_condition_key(enum cond_type type)
{
	return cond_kinds[type].key;
}

int rules_load(struct config *cfg, const struct ynode *listeners, struct lb_err *err)
{
	struct rules_loader ld = { .cfg = cfg, .err = err };
	int rc = -1;

	for (size_t i = 0; i < cfg->nlisteners; i++) {
		if (listener_load(&ld, i, listeners->items[i]))
			goto out;
	}
	for (size_t i = 0; i < ld.nfiles; i++) {
		const struct rule_file *f = &ld.files[i];

		if (!f->taken) {
			lb_err_at(err, f->skipped.file, f->skipped.line, f->skipped.col,
				  "no listener with port %d loads this file", f->port);
			goto out;
		}
	}
	rc = 0;
out:
	for (size_t i = 0; i < ld.nfiles; i++)
		free(ld.files[i].real);
	free(ld.files);
	free(ld.rules);
	return rc;
}
