/*
 * match: ALB's listener-rule evaluation (alb-listener-rules.md §1.2, §7).
 * Rules and conditions are built by hand, requests through http_msg's own
 * constructors, so each test pins one matching behaviour.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "alb/match.h"
#include "test.h"

#define VALUES(...) ((const char *[]){ __VA_ARGS__ })
#define NVALUES(...) (sizeof(VALUES(__VA_ARGS__)) / sizeof(const char *))
#define COND(t, ...) \
	((struct condition){ .type = (t), .nvalues = NVALUES(__VA_ARGS__), .values = VALUES(__VA_ARGS__) })
#define HEADER(name, ...)                                                                   \
	((struct condition){ .type = COND_HTTP_HEADER, .header_name = (name),                \
			     .nvalues = NVALUES(__VA_ARGS__), .values = VALUES(__VA_ARGS__) })
#define QUERY(...)                                                                          \
	((struct condition){ .type = COND_QUERY_STRING,                                      \
			     .nvalues = sizeof((struct query_kv[]){ __VA_ARGS__ }) / sizeof(struct query_kv), \
			     .query = (struct query_kv[]){ __VA_ARGS__ } })
#define SOURCE_IP(storage, ...) source_ip(storage, NVALUES(__VA_ARGS__), VALUES(__VA_ARGS__))

static bool glob(const char *pattern, const char *text)
{
	return glob_match(sv_from(pattern), sv_from(text), false, false);
}

static void parse_ip(const char *text, int *family, uint8_t addr[16])
{
	*family = strchr(text, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(*family, text, addr) != 1)
		abort();
}

/* "10.0.0.0/8" as rules.c would load it. */
static struct cidr parse_cidr(const char *text)
{
	struct cidr c = { 0 };
	const char *slash = strchr(text, '/');
	char *ip = xstrndup(text, (size_t)(slash - text));

	parse_ip(ip, &c.family, c.addr);
	c.prefix = atoi(slash + 1);
	free(ip);
	return c;
}

static bool in_block(const char *block, const char *ip)
{
	struct cidr c = parse_cidr(block);
	uint8_t addr[16] = { 0 };
	int family;

	parse_ip(ip, &family, addr);
	return cidr_contains(&c, family, addr);
}

static struct condition source_ip(struct cidr *storage, size_t n, const char **blocks)
{
	for (size_t i = 0; i < n; i++)
		storage[i] = parse_cidr(blocks[i]);
	return (struct condition){ .type = COND_SOURCE_IP, .nvalues = n, .cidrs = storage };
}

static void req_start(struct http_request *req, const char *method, const char *target)
{
	http_request_init(req);
	req->method = sv_from(method);
	http_request_set_target(req, sv_from(target));
	parse_ip("192.0.2.10", &req->peer_family, req->peer_addr);
}

static void req_header(struct http_request *req, const char *name, const char *value)
{
	http_request_add_header(req, sv_from(name), sv_from(value));
}

/* Whether condition c holds for "GET target" with one optional header. */
static bool cond_on(struct condition c, const char *target, const char *name, const char *value)
{
	struct http_request req;
	bool ok;

	req_start(&req, "GET", target);
	if (name)
		req_header(&req, name, value);
	ok = match_condition(&c, &req);
	http_request_release(&req);
	return ok;
}

static bool host_is(const char *pattern, const char *host)
{
	return cond_on(COND(COND_HOST_HEADER, pattern), "/", "Host", host);
}

static bool path_is(const char *pattern, const char *target)
{
	return cond_on(COND(COND_PATH_PATTERN, pattern), target, "Host", "a.example.com");
}

static bool query_on(struct condition c, const char *target)
{
	return cond_on(c, target, NULL, NULL);
}

/* ---- glob_match ---- */

TEST(glob_star_crosses_slash_and_dot)
{
	CHECK(glob("/api/*", "/api/v1/users.json"));
	CHECK(glob("*", "a.b/c.d"));
	CHECK(glob("/a*z", "/a/b.c/z"));
}

TEST(glob_star_matches_empty_run)
{
	CHECK(glob("/api/*", "/api/"));
	CHECK(glob("*", ""));
	CHECK(glob("a**b", "ab"));
}

TEST(glob_question_matches_exactly_one_char)
{
	CHECK(glob("/v?", "/v1"));
	CHECK(glob("/v?", "/v/"));
	CHECK(!glob("/v?", "/v"));
	CHECK(!glob("/v?", "/v12"));
}

TEST(glob_is_anchored_at_both_ends)
{
	CHECK(!glob("/api", "/api/x"));
	CHECK(!glob("api", "/api"));
	CHECK(!glob("", "x"));
	CHECK(glob("", ""));
}

TEST(glob_backtracks_to_the_last_star)
{
	CHECK(glob("*ab", "aab"));
	CHECK(glob("a*b*c", "aXbYbZc"));
	CHECK(glob("*.json", "x.json.json"));
	CHECK(!glob("a*b*c", "aXbYbZ"));
}

TEST(glob_nocase_folds_ascii_case_only_when_asked)
{
	CHECK(glob_match(SV("A*C"), SV("abc"), true, false));
	CHECK(!glob_match(SV("A*C"), SV("abc"), false, false));
	CHECK(!glob_match(SV("\xc3\x89"), SV("\xc3\xa9"), true, false));
}

TEST(glob_escaped_star_and_question_are_literal)
{
	CHECK(glob_match(SV("a\\*b"), SV("a*b"), true, true));
	CHECK(!glob_match(SV("a\\*b"), SV("axb"), true, true));
	CHECK(glob_match(SV("a\\?"), SV("a?"), true, true));
	CHECK(!glob_match(SV("a\\?"), SV("ab"), true, true));
	/* Without escapes the backslash is an ordinary character. */
	CHECK(glob_match(SV("a\\*"), SV("a\\xyz"), true, false));
}

TEST(glob_other_backslash_is_an_ordinary_character)
{
	CHECK(glob_match(SV("a\\b"), SV("a\\b"), true, true));
	CHECK(glob_match(SV("a\\"), SV("a\\"), true, true));
}

TEST(glob_pathological_pattern_finishes_instantly)
{
	size_t n = 1 << 16;
	char *text = xmalloc(n + 1);
	int64_t start = time_mono_us();

	memset(text, 'a', n);
	text[n] = '\0';
	/* A recursive matcher explores every way to split the a's among the stars. */
	CHECK(!glob("*a*a*a*a*a*a*a*a*a*a*a*a*b", text));
	CHECK(glob("*a*a*a*a*a*a*a*a*a*a*a*a*", text));
	text[n - 1] = 'b';
	CHECK(glob("*a*a*a*a*a*a*a*a*a*a*a*a*b", text));
	CHECK(time_mono_us() - start < 1000000);
	free(text);
}

/* ---- cidr_contains ---- */

TEST(cidr_v4_slash8_contains_its_addresses_only)
{
	CHECK(in_block("10.0.0.0/8", "10.0.0.0"));
	CHECK(in_block("10.0.0.0/8", "10.255.255.255"));
	CHECK(!in_block("10.0.0.0/8", "11.0.0.0"));
	CHECK(!in_block("10.0.0.0/8", "9.255.255.255"));
}

TEST(cidr_v4_slash32_is_one_address)
{
	CHECK(in_block("192.0.2.7/32", "192.0.2.7"));
	CHECK(!in_block("192.0.2.7/32", "192.0.2.6"));
}

TEST(cidr_v4_slash0_contains_every_v4_address)
{
	CHECK(in_block("0.0.0.0/0", "203.0.113.9"));
	CHECK(in_block("0.0.0.0/0", "255.255.255.255"));
}

TEST(cidr_v4_prefix_inside_a_byte)
{
	CHECK(in_block("172.16.0.0/12", "172.31.255.1"));
	CHECK(!in_block("172.16.0.0/12", "172.32.0.1"));
}

TEST(cidr_v6_slash128_is_one_address)
{
	CHECK(in_block("::1/128", "::1"));
	CHECK(!in_block("::1/128", "::2"));
}

TEST(cidr_v6_slash64_contains_its_subnet_only)
{
	CHECK(in_block("2001:db8:1:2::/64", "2001:db8:1:2:ffff:ffff:ffff:ffff"));
	CHECK(!in_block("2001:db8:1:2::/64", "2001:db8:1:3::1"));
}

TEST(cidr_v4_and_v6_never_match_each_other)
{
	CHECK(!in_block("0.0.0.0/0", "::1"));
	CHECK(!in_block("::/0", "10.0.0.1"));
	/* The same 4 leading bytes in the other family still do not match. */
	CHECK(!in_block("a00:1::/32", "10.0.0.1"));
}

/* ---- host_header ---- */

TEST(host_header_is_case_insensitive)
{
	CHECK(host_is("api.example.com", "API.Example.COM"));
	CHECK(host_is("*.EXAMPLE.com", "api.example.com"));
}

TEST(host_header_wildcard_subdomain_does_not_match_apex)
{
	CHECK(host_is("*.example.com", "test.example.com"));
	CHECK(host_is("*.example.com", "a.b.example.com"));
	CHECK(!host_is("*.example.com", "example.com"));
}

TEST(host_header_ignores_port)
{
	CHECK(host_is("api.example.com", "api.example.com:8080"));
	CHECK(!host_is("*:8080", "api.example.com:8080"));
}

TEST(host_header_uses_only_the_first_host)
{
	struct condition c = COND(COND_HOST_HEADER, "second.example.com");
	struct http_request req;

	req_start(&req, "GET", "/");
	req_header(&req, "Host", "first.example.com");
	req_header(&req, "Host", "second.example.com");
	CHECK(!match_condition(&c, &req));
	http_request_release(&req);
}

TEST(host_header_prefers_absolute_form_authority)
{
	CHECK(cond_on(COND(COND_HOST_HEADER, "abs.example.com"), "http://abs.example.com/x", "Host",
		      "other.example.com"));
}

TEST(host_header_absent_never_matches)
{
	CHECK(!cond_on(COND(COND_HOST_HEADER, "*"), "/", NULL, NULL));
}

/* ---- path_pattern ---- */

TEST(path_pattern_is_case_sensitive)
{
	CHECK(path_is("/api/*", "/api/x"));
	CHECK(!path_is("/api/*", "/API/x"));
}

TEST(path_pattern_excludes_query)
{
	CHECK(path_is("/search", "/search?q=1"));
	CHECK(!path_is("*q=1", "/search?q=1"));
}

TEST(path_pattern_matches_percent_encoded_path_raw)
{
	CHECK(path_is("/caf%C3%A9", "/caf%C3%A9"));
	CHECK(path_is("/a%2Fb", "/a%2Fb"));
	CHECK(!path_is("/a/b", "/a%2Fb"));
	CHECK(!path_is("/caf%c3%a9", "/caf%C3%A9"));
}

TEST(path_pattern_absolute_form_uses_only_the_path)
{
	CHECK(path_is("/x/*", "http://h.example.com/x/y?z=1"));
}

/* ---- http_header ---- */

TEST(http_header_name_and_value_are_case_insensitive)
{
	CHECK(cond_on(HEADER("X-Env", "beta"), "/", "x-env", "BETA"));
	CHECK(cond_on(HEADER("x-ENV", "Gamma*"), "/", "X-Env", "gamma-2"));
}

TEST(http_header_value_is_a_whole_glob)
{
	CHECK(!cond_on(HEADER("X-Env", "beta"), "/", "X-Env", "beta2"));
	CHECK(!cond_on(HEADER("X-Env", "beta"), "/", "X-Envy", "beta"));
}

TEST(http_header_repeated_second_instance_matches)
{
	struct condition c = HEADER("X-Env", "gamma");
	struct http_request req;

	req_start(&req, "GET", "/");
	req_header(&req, "X-Env", "beta");
	req_header(&req, "Accept", "gamma");
	req_header(&req, "x-env", "gamma");
	CHECK(match_condition(&c, &req));
	http_request_release(&req);
}

TEST(http_header_absent_never_matches)
{
	CHECK(!cond_on(HEADER("X-Env", "*"), "/", "Accept", "*/*"));
}

/* ---- http_request_method ---- */

TEST(http_request_method_is_exact_and_case_sensitive)
{
	struct condition c = COND(COND_HTTP_REQUEST_METHOD, "GET", "CUSTOM-M");
	struct http_request req;
	const struct {
		const char *method;
		bool match;
	} cases[] = { { "GET", true }, { "CUSTOM-M", true }, { "get", false }, { "GETS", false }, { "GE", false } };

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		req_start(&req, cases[i].method, "/");
		if (match_condition(&c, &req) != cases[i].match)
			FAIL_AT("method %s", cases[i].method);
		http_request_release(&req);
	}
}

TEST(http_request_method_has_no_wildcards)
{
	struct condition c = COND(COND_HTTP_REQUEST_METHOD, "G*");
	struct http_request req;

	req_start(&req, "GET", "/");
	CHECK(!match_condition(&c, &req));
	http_request_release(&req);
}

/* ---- query_string ---- */

TEST(query_string_key_and_value_match)
{
	CHECK(query_on(QUERY({ "version", "v1" }), "/?a=b&version=v1"));
	CHECK(!query_on(QUERY({ "version", "v1" }), "/?version=v2"));
	CHECK(!query_on(QUERY({ "version", "v1" }), "/?other=v1"));
}

TEST(query_string_value_only_matches_any_key)
{
	CHECK(query_on(QUERY({ NULL, "*legacy*" }), "/?a=1&mode=old-legacy-x"));
	CHECK(!query_on(QUERY({ NULL, "*legacy*" }), "/?legacy=1"));
}

TEST(query_string_escaped_star_matches_literal_star)
{
	CHECK(query_on(QUERY({ "q", "a\\*" }), "/?q=a*"));
	CHECK(!query_on(QUERY({ "q", "a\\*" }), "/?q=ab"));
	CHECK(query_on(QUERY({ "q\\?", "1" }), "/?q?=1"));
}

TEST(query_string_bare_key_has_empty_value)
{
	CHECK(query_on(QUERY({ "flag", "*" }), "/?flag"));
	CHECK(!query_on(QUERY({ NULL, "flag" }), "/?flag"));
	CHECK(!query_on(QUERY({ "flag", "?*" }), "/?flag"));
}

TEST(query_string_repeated_key_any_instance_matches)
{
	CHECK(query_on(QUERY({ "v", "2" }), "/?v=1&v=2"));
	CHECK(query_on(QUERY({ "v", "1" }), "/?v=1&v=2"));
}

TEST(query_string_is_case_insensitive)
{
	CHECK(query_on(QUERY({ "version", "v1" }), "/?VERSION=V1"));
	CHECK(query_on(QUERY({ "VerSion", "*V*" }), "/?version=xv1"));
}

TEST(query_string_is_matched_raw_not_decoded)
{
	CHECK(query_on(QUERY({ "q", "a%20b" }), "/?q=a%20b"));
	CHECK(!query_on(QUERY({ "q", "a b" }), "/?q=a%20b"));
	CHECK(query_on(QUERY({ "q", "a+b" }), "/?q=a+b"));
}

TEST(query_string_value_keeps_later_equals_signs)
{
	CHECK(query_on(QUERY({ "a", "b=c" }), "/?a=b=c"));
}

TEST(query_string_empty_pieces_are_not_pairs)
{
	CHECK(!query_on(QUERY({ NULL, "*" }), "/?&&"));
	CHECK(query_on(QUERY({ "b", "2" }), "/?a=1&&b=2&"));
}

TEST(query_string_absent_never_matches)
{
	CHECK(!query_on(QUERY({ NULL, "*" }), "/path"));
	CHECK(!query_on(QUERY({ NULL, "*" }), "/path?"));
}

TEST(query_string_any_entry_satisfies_the_condition)
{
	CHECK(query_on(QUERY({ "version", "v1" }, { NULL, "*legacy*" }), "/?x=legacy"));
}

/* ---- source_ip ---- */

TEST(source_ip_matches_the_tcp_peer)
{
	struct cidr blocks[2];
	struct condition c = SOURCE_IP(blocks, "127.0.0.0/8", "::1/128");
	struct http_request req;

	req_start(&req, "GET", "/");
	parse_ip("127.0.0.1", &req.peer_family, req.peer_addr);
	CHECK(match_condition(&c, &req));
	parse_ip("::1", &req.peer_family, req.peer_addr);
	CHECK(match_condition(&c, &req));
	parse_ip("::2", &req.peer_family, req.peer_addr);
	CHECK(!match_condition(&c, &req));
	http_request_release(&req);
}

TEST(source_ip_ignores_x_forwarded_for)
{
	struct cidr blocks[1];
	struct condition c = SOURCE_IP(blocks, "203.0.113.0/24");
	struct http_request req;

	req_start(&req, "GET", "/");
	req_header(&req, "X-Forwarded-For", "203.0.113.5");
	CHECK(!match_condition(&c, &req));
	http_request_release(&req);
}

/* ---- match_rules ---- */

struct misses {
	size_t n;
	int priority[4];
	const struct condition *failed[4];
};

static void on_miss(void *cookie, const struct rule *rule, const struct condition *failed)
{
	struct misses *m = cookie;

	if (m->n < ARRAY_LEN(m->priority)) {
		m->priority[m->n] = rule->priority;
		m->failed[m->n] = failed;
	}
	m->n++;
}

#define RULE(prio, conds_) { .priority = (prio), .nconditions = ARRAY_LEN(conds_), .conditions = (conds_) }
#define LISTENER(rules_) { .nrules = ARRAY_LEN(rules_), .rules = (rules_), .default_rule = { .priority = 0 } }

/* The priority of the rule "GET target" (Host a.example.com) selects. */
static int matched_priority(const struct listener_cfg *l, const char *target, struct misses *m)
{
	struct http_request req;
	int priority;

	req_start(&req, "GET", target);
	req_header(&req, "Host", "a.example.com");
	priority = match_rules(l, &req, m ? on_miss : NULL, m)->priority;
	http_request_release(&req);
	return priority;
}

TEST(rule_requires_all_conditions)
{
	struct condition c[] = { COND(COND_PATH_PATTERN, "/api/*"), COND(COND_HTTP_REQUEST_METHOD, "GET"),
				 COND(COND_HOST_HEADER, "a.example.com") };
	struct condition c_post[] = { COND(COND_PATH_PATTERN, "/api/*"), COND(COND_HTTP_REQUEST_METHOD, "POST") };
	struct rule all[] = { RULE(10, c) };
	struct rule one_fails[] = { RULE(10, c_post) };
	struct listener_cfg l_all = LISTENER(all), l_fails = LISTENER(one_fails);

	CHECK_INT(matched_priority(&l_all, "/api/x", NULL), 10);
	CHECK_INT(matched_priority(&l_fails, "/api/x", NULL), 0);
}

TEST(condition_matches_any_of_its_values)
{
	struct condition c[] = { COND(COND_PATH_PATTERN, "/a", "/b", "/c/*") };
	struct rule rules[] = { RULE(5, c) };
	struct listener_cfg l = LISTENER(rules);

	CHECK_INT(matched_priority(&l, "/b", NULL), 5);
	CHECK_INT(matched_priority(&l, "/c/d", NULL), 5);
	CHECK_INT(matched_priority(&l, "/d", NULL), 0);
}

TEST(rules_first_match_wins_in_priority_order)
{
	struct condition narrow[] = { COND(COND_PATH_PATTERN, "/api/v1/*") };
	struct condition broad[] = { COND(COND_PATH_PATTERN, "/api/*") };
	struct rule rules[] = { RULE(3, narrow), RULE(7, broad) };
	struct listener_cfg l = LISTENER(rules);

	CHECK_INT(matched_priority(&l, "/api/v1/x", NULL), 3);
	CHECK_INT(matched_priority(&l, "/api/v2/x", NULL), 7);
}

TEST(default_rule_when_no_rule_matches)
{
	struct condition c[] = { COND(COND_PATH_PATTERN, "/api/*") };
	struct rule rules[] = { RULE(1, c) };
	struct listener_cfg l = LISTENER(rules);
	struct listener_cfg empty = { .nrules = 0 };
	struct http_request req;

	req_start(&req, "GET", "/other");
	CHECK(match_rules(&l, &req, NULL, NULL) == &l.default_rule);
	CHECK(match_rules(&empty, &req, NULL, NULL) == &empty.default_rule);
	http_request_release(&req);
}

TEST(on_miss_reports_each_failed_rule_with_its_first_failing_condition)
{
	struct condition c1[] = { COND(COND_PATH_PATTERN, "/api/*"), COND(COND_HTTP_REQUEST_METHOD, "POST"),
				  HEADER("X-Env", "beta") };
	struct condition c2[] = { COND(COND_HOST_HEADER, "b.example.com") };
	struct condition c3[] = { COND(COND_PATH_PATTERN, "/api/*") };
	struct condition c4[] = { COND(COND_PATH_PATTERN, "*") };
	struct rule rules[] = { RULE(1, c1), RULE(2, c2), RULE(3, c3), RULE(4, c4) };
	struct listener_cfg l = LISTENER(rules);
	struct misses m = { 0 };

	CHECK_INT(matched_priority(&l, "/api/x", &m), 3);
	CHECK_INT(m.n, 2);
	CHECK_INT(m.priority[0], 1);
	CHECK(m.failed[0] == &c1[1]);
	CHECK_INT(m.priority[1], 2);
	CHECK(m.failed[1] == &c2[0]);
}

TEST(on_miss_reports_every_rule_before_the_default)
{
	struct condition c1[] = { COND(COND_PATH_PATTERN, "/a") };
	struct condition c2[] = { COND(COND_PATH_PATTERN, "/b") };
	struct rule rules[] = { RULE(1, c1), RULE(2, c2) };
	struct listener_cfg l = LISTENER(rules);
	struct misses m = { 0 };

	CHECK_INT(matched_priority(&l, "/c", &m), 0);
	CHECK_INT(m.n, 2);
	CHECK(m.failed[1] == &c2[0]);
}

int main(void)
{
	RUN(glob_star_crosses_slash_and_dot);
	RUN(glob_star_matches_empty_run);
	RUN(glob_question_matches_exactly_one_char);
	RUN(glob_is_anchored_at_both_ends);
	RUN(glob_backtracks_to_the_last_star);
	RUN(glob_nocase_folds_ascii_case_only_when_asked);
	RUN(glob_escaped_star_and_question_are_literal);
	RUN(glob_other_backslash_is_an_ordinary_character);
	RUN(glob_pathological_pattern_finishes_instantly);
	RUN(cidr_v4_slash8_contains_its_addresses_only);
	RUN(cidr_v4_slash32_is_one_address);
	RUN(cidr_v4_slash0_contains_every_v4_address);
	RUN(cidr_v4_prefix_inside_a_byte);
	RUN(cidr_v6_slash128_is_one_address);
	RUN(cidr_v6_slash64_contains_its_subnet_only);
	RUN(cidr_v4_and_v6_never_match_each_other);
	RUN(host_header_is_case_insensitive);
	RUN(host_header_wildcard_subdomain_does_not_match_apex);
	RUN(host_header_ignores_port);
	RUN(host_header_uses_only_the_first_host);
	RUN(host_header_prefers_absolute_form_authority);
	RUN(host_header_absent_never_matches);
	RUN(path_pattern_is_case_sensitive);
	RUN(path_pattern_excludes_query);
	RUN(path_pattern_matches_percent_encoded_path_raw);
	RUN(path_pattern_absolute_form_uses_only_the_path);
	RUN(http_header_name_and_value_are_case_insensitive);
	RUN(http_header_value_is_a_whole_glob);
	RUN(http_header_repeated_second_instance_matches);
	RUN(http_header_absent_never_matches);
	RUN(http_request_method_is_exact_and_case_sensitive);
	RUN(http_request_method_has_no_wildcards);
	RUN(query_string_key_and_value_match);
	RUN(query_string_value_only_matches_any_key);
	RUN(query_string_escaped_star_matches_literal_star);
	RUN(query_string_bare_key_has_empty_value);
	RUN(query_string_repeated_key_any_instance_matches);
	RUN(query_string_is_case_insensitive);
	RUN(query_string_is_matched_raw_not_decoded);
	RUN(query_string_value_keeps_later_equals_signs);
	RUN(query_string_empty_pieces_are_not_pairs);
	RUN(query_string_absent_never_matches);
	RUN(query_string_any_entry_satisfies_the_condition);
	RUN(source_ip_matches_the_tcp_peer);
	RUN(source_ip_ignores_x_forwarded_for);
	RUN(rule_requires_all_conditions);
	RUN(condition_matches_any_of_its_values);
	RUN(rules_first_match_wins_in_priority_order);
	RUN(default_rule_when_no_rule_matches);
	RUN(on_miss_reports_each_failed_rule_with_its_first_failing_condition);
	RUN(on_miss_reports_every_rule_before_the_default);
	return test_done();
}
