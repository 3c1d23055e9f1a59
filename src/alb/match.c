/*
 * match: listener-rule evaluation, ALB's way (alb-listener-rules.md §1.2,
 * §7 item 1-2).
 *
 * Everything here is a pure function of a loaded configuration and a parsed
 * request: no allocation, no I/O, no state. Strings are compared as the
 * client sent them (views into the request); nothing is decoded or
 * normalised. The rules arrive sorted by ascending priority (config_load's
 * invariant), so evaluation is a plain scan that stops at the first rule
 * whose conditions all hold.
 *
 * glob_match is the one wildcard matcher for every condition that takes
 * patterns. It backtracks only to the most recent '*', so its cost is at
 * most pattern length times text length and never exponential, whatever a
 * rule file contains.
 */
#include "alb/match.h"

#include <string.h>
#include <sys/socket.h>

/* One pattern element: a star, a '?' or a literal character. */
enum glob_tok { GLOB_STAR, GLOB_ONE, GLOB_LIT };

/* Reads the pattern element at p[i]: its kind, its width in the pattern and,
 * for a literal, the character. */
static enum glob_tok glob_token(struct sv pat, size_t i, bool escapes, char *lit, size_t *width)
{
	char c = pat.p[i];

	*width = 1;
	/* Why: query-string values take "\*" and "\?" for a literal '*' or '?'
	 * (§1.2 query-string); any other backslash is an ordinary character. */
	if (escapes && c == '\\' && i + 1 < pat.n && (pat.p[i + 1] == '*' || pat.p[i + 1] == '?')) {
		*lit = pat.p[i + 1];
		*width = 2;
		return GLOB_LIT;
	}
	if (c == '*')
		return GLOB_STAR;
	if (c == '?')
		return GLOB_ONE;
	*lit = c;
	return GLOB_LIT;
}

static bool glob_char_eq(char a, char b, bool nocase)
{
	return nocase ? ascii_lower(a) == ascii_lower(b) : a == b;
}

/*
 * The classic two-cursor wildcard match. On a mismatch after a '*', the star
 * is made to swallow one more character and matching resumes right after it;
 * earlier stars never need revisiting, because whatever the later star would
 * have to skip it can skip just as well. Anchored at both ends: the whole
 * text must match (§1.3: implied by "*.example.com" not matching the apex).
 */
bool glob_match(struct sv pattern, struct sv text, bool nocase, bool escapes)
{
	size_t p = 0, t = 0;
	size_t star_p = 0, star_t = 0;
	bool have_star = false;

	while (t < text.n) {
		if (p < pattern.n) {
			char lit = 0;
			size_t w;
			enum glob_tok k = glob_token(pattern, p, escapes, &lit, &w);

			if (k == GLOB_STAR) {
				have_star = true;
				star_p = ++p;
				star_t = t;
				continue;
			}
			if (k == GLOB_ONE || glob_char_eq(lit, text.p[t], nocase)) {
				p += w;
				t++;
				continue;
			}
		}
		if (!have_star)
			return false;
		p = star_p;
		t = ++star_t;
	}
	while (p < pattern.n && pattern.p[p] == '*')
		p++;
	return p == pattern.n;
}

bool cidr_contains(const struct cidr *block, int family, const uint8_t *addr)
{
	int max_prefix = family == AF_INET ? 32 : 128;
	size_t whole = (size_t)block->prefix / 8;
	int rest = block->prefix % 8;

	/* Why: a source-ip block of one family never matches a peer of the
	 * other (§1.2 source-ip: IPv4 and IPv6 blocks are separate values). */
	if (family != block->family || block->prefix < 0 || block->prefix > max_prefix)
		return false;
	if (memcmp(addr, block->addr, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (addr[whole] & mask) == (block->addr[whole] & mask);
}

/*
 * Whether any of the condition's patterns matches text: globs match the
 * whole text; regex_values search it, case-sensitively, as written (§1.3:
 * unanchored, case-sensitive suggested; a regex anchors itself with ^ and $
 * and turns case off with (?i)). A regex that gives up (its backtracking
 * cap) does not match.
 */
static bool match_any_value(const struct condition *c, struct sv text, bool nocase)
{
	for (size_t i = 0; i < c->nvalues; i++) {
		if (c->regexes ? regex_search(c->regexes[i], text) == 1
			       : glob_match(sv_from(c->values[i]), text, nocase, false))
			return true;
	}
	return false;
}

/* The Host as the client wrote it, port included: an absolute-form
 * target's authority, else the first Host header. */
static struct sv host_as_sent(const struct http_request *req)
{
	const struct http_header *h;

	if (req->uri_host.n)
		return req->uri_host;
	h = http_request_header(req, "host");
	return h ? h->value : SV_NULL;
}

static bool match_host(const struct condition *c, const struct http_request *req)
{
	/* Why: host-header globs are case-insensitive and look at the first
	 * Host header only (§1.2); http_request_host picks that one and strips
	 * ":port" (§1.3, unverified, stripping suggested). No host, no match.
	 * A regex sees the header as sent, port included: AWS points users to
	 * regex_values "to match host headers containing a non-standard port". */
	struct sv host = c->regexes ? host_as_sent(req) : http_request_host(req);

	return host.n > 0 && match_any_value(c, host, true);
}

static bool match_path(const struct condition *c, const struct http_request *req)
{
	/* Why: path-pattern is case-sensitive and excludes the query (§1.2).
	 * Raw versus decoded is unverified (§1.3); we follow its suggestion and
	 * match the path bytes as sent, percent-escapes kept. */
	return match_any_value(c, req->path, false);
}

static bool match_header(const struct condition *c, const struct http_request *req)
{
	/* Why: header name and value are both case-insensitive, and "if the same
	 * header appears multiple times in the request, we search them in order
	 * until a match is found" (§1.2 http-header). */
	for (size_t i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];

		if (sv_eq_cstr_nocase(h->name, c->header_name) && match_any_value(c, h->value, true))
			return true;
	}
	return false;
}

static bool match_method(const struct condition *c, const struct http_request *req)
{
	/* Why: http-request-method is an exact, case-sensitive match with no
	 * wildcards (§1.2). */
	for (size_t i = 0; i < c->nvalues; i++)
		if (sv_eq_cstr(req->method, c->values[i]))
			return true;
	return false;
}

/* Whether one configured {key?, value} entry matches one key=value pair. */
static bool match_query_pair(const struct query_kv *kv, struct sv key, struct sv value)
{
	/* Why: query-string matching is case-insensitive with "\*" and "\?" as
	 * literals, and an entry without a key matches any key (§1.2). */
	if (kv->key && !glob_match(sv_from(kv->key), key, true, true))
		return false;
	return glob_match(sv_from(kv->value), value, true, true);
}

/*
 * Why: ALB documents "&"-separated pairs but not decoding, bare keys or
 * repeated keys (§1.3, unverified). lb's choice: pairs are matched raw (no
 * percent-decoding, '+' stays '+', like the Lambda event), "flag" without
 * '=' is key "flag" with value "", empty pieces ("a=1&&b=2") are skipped,
 * and every instance of a repeated key is tried.
 */
static bool match_query(const struct condition *c, const struct http_request *req)
{
	struct sv rest = req->query;

	while (rest.n > 0) {
		struct sv piece, key, value;

		rest = sv_cut(rest, '&', &piece);
		if (piece.n == 0)
			continue;
		value = sv_cut(piece, '=', &key);
		for (size_t i = 0; i < c->nvalues; i++)
			if (match_query_pair(&c->query[i], key, value))
				return true;
	}
	return false;
}

static bool match_source_ip(const struct condition *c, const struct http_request *req)
{
	/* Why: source-ip tests the TCP peer address; X-Forwarded-For is not
	 * consulted (§1.2 source-ip). */
	for (size_t i = 0; i < c->nvalues; i++)
		if (cidr_contains(&c->cidrs[i], req->peer_family, req->peer_addr))
			return true;
	return false;
}

bool match_condition(const struct condition *c, const struct http_request *req)
{
	switch (c->type) {
	case COND_HOST_HEADER:
		return match_host(c, req);
	case COND_PATH_PATTERN:
		return match_path(c, req);
	case COND_HTTP_HEADER:
		return match_header(c, req);
	case COND_HTTP_REQUEST_METHOD:
		return match_method(c, req);
	case COND_QUERY_STRING:
		return match_query(c, req);
	case COND_SOURCE_IP:
		return match_source_ip(c, req);
	}
	return false;
}

/* The rule's first condition that fails, in the order written; NULL when
 * all hold (conditions in a rule are AND, §1.1). */
static const struct condition *rule_first_failure(const struct rule *rule, const struct http_request *req)
{
	for (size_t i = 0; i < rule->nconditions; i++)
		if (!match_condition(&rule->conditions[i], req))
			return &rule->conditions[i];
	return NULL;
}

const struct rule *match_rules(const struct listener_cfg *l, const struct http_request *req,
			       match_miss_fn on_miss, void *cookie)
{
	/* Why: rules run lowest priority first, the first whose conditions all
	 * match wins, and the default rule runs only when none does (§1). */
	for (size_t i = 0; i < l->nrules; i++) {
		const struct rule *rule = &l->rules[i];
		const struct condition *failed = rule_first_failure(rule, req);

		if (!failed)
			return rule;
		if (on_miss)
			on_miss(cookie, rule, failed);
	}
	return &l->default_rule;
}
