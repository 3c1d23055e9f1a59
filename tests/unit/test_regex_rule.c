/*
 * regex_rule and regex conditions (alb-listener-rules.md §1.4): which
 * constructs ALB refuses, PCRE2's own errors, search semantics (unanchored,
 * case-sensitive), groups, the backtracking cap, and regex_values through
 * match_condition for host-header, path-pattern and http-header.
 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "alb/match.h"
#include "alb/regex_rule.h"
#include "test.h"

static struct arena arena;

/* The phrase regex_unsupported gives, or "" when the pattern is accepted. */
static const char *refused(const char *pattern)
{
	size_t at = 0;
	const char *what = regex_unsupported(pattern, &at);

	return what ? what : "";
}

static struct regex *compile(const char *pattern)
{
	char msg[256];
	struct regex *re = regex_compile(&arena, pattern, msg, sizeof(msg));

	if (!re)
		printf("    compile '%s': %s\n", pattern, msg);
	return re;
}

static int search(const char *pattern, const char *text)
{
	struct regex *re = compile(pattern);

	return re ? regex_search(re, sv_from(text)) : -2;
}

TEST(lookaround_is_refused)
{
	CHECK_STR(refused("^/a(?=b)"), "a lookahead");
	CHECK_STR(refused("^/a(?!b)"), "a lookahead");
	CHECK_STR(refused("(?<=a)b"), "a lookbehind");
	CHECK_STR(refused("(?<!a)b"), "a lookbehind");
	CHECK_STR(refused("(*pla:a)b"), "a (*...) verb or assertion");
}

TEST(backreferences_are_refused)
{
	CHECK_STR(refused("(a)\\1"), "a backreference");
	CHECK_STR(refused("(a)\\g1"), "a backreference");
	CHECK_STR(refused("(a)\\g{-1}"), "a backreference");
	CHECK_STR(refused("(?<n>a)\\k<n>"), "a backreference");
	CHECK_STR(refused("(?P<n>a)(?P=n)"), "a backreference");
}

TEST(atomic_possessive_subroutines_recursion_are_refused)
{
	CHECK_STR(refused("(?>ab)c"), "an atomic group");
	CHECK_STR(refused("a++"), "a possessive quantifier");
	CHECK_STR(refused("a*+b"), "a possessive quantifier");
	CHECK_STR(refused("a?+b"), "a possessive quantifier");
	CHECK_STR(refused("a{2,3}+"), "a possessive quantifier");
	CHECK_STR(refused("(a)(?1)"), "recursion or a subroutine call");
	CHECK_STR(refused("a(?R)?"), "recursion or a subroutine call");
	CHECK_STR(refused("(?<n>a)(?&n)"), "recursion or a subroutine call");
	CHECK_STR(refused("(a)\\g<1>"), "a subroutine call");
	CHECK_STR(refused("(?C1)a"), "a callout");
}

TEST(unicode_classes_are_refused)
{
	CHECK_STR(refused("\\p{L}+"), "a Unicode class");
	CHECK_STR(refused("[\\P{Lu}]"), "a Unicode class");
	CHECK_STR(refused("\\X"), "a Unicode class");
}

TEST(ordinary_syntax_is_accepted)
{
	CHECK_STR(refused("^/api/v[0-9]+/(users|orders)/?$"), "");
	CHECK_STR(refused("a+?b*?c??"), "");                  /* lazy, not possessive */
	CHECK_STR(refused("\\++"), "");                       /* a literal '+', repeated */
	CHECK_STR(refused("[+]+"), "");
	CHECK_STR(refused("[a+]+"), "");
	CHECK_STR(refused("(?i)^www\\.example\\.com$"), "");
	CHECK_STR(refused("(?:a|b){2}"), "");
	CHECK_STR(refused("(?<year>[0-9]{4})"), "");          /* a named group */
	CHECK_STR(refused("\\Q(?=a)\\E"), "");                /* quoted: literal */
	CHECK_STR(refused("[(?=]"), "");                      /* in a class: literal */
	CHECK_STR(refused("a{,"), "");                        /* a literal brace */
	CHECK_STR(refused("\\d\\w\\s\\b"), "");
	/* PCRE2 gives an empty option setting an item reaching past the end (a
	 * fuzzer's find: read one byte past the pattern) */
	CHECK_STR(refused("(?-)"), "");
	CHECK_STR(refused("a(?-)"), "");
}

TEST(lookalikes_in_comments_quotes_escapes_and_classes_are_accepted)
{
	static const char *const patterns[] = {
		"^/a(?#(?=x)b",            /* a comment */
		"(?x)^/a #(?=b) \\1",      /* (?x): a comment to the end */
		"(?x)^/a # (?=b)\n c",
		"\\(?=a",                  /* an escaped '(', made optional */
		"[\\Q]\\E(?=]",            /* \Q...\E inside a class */
		"[\\Q\\p\\E]",
		"[[:alpha:](?=]",
		"\\c\\1",                  /* \c\ is one character, then '1' */
		"\\x{41}+",                /* the braces belong to the escape */
		"(?(1)a|b)(x)",            /* a condition on a group, no backreference */
	};

	for (size_t i = 0; i < ARRAY_LEN(patterns); i++) {
		CHECK_STR(refused(patterns[i]), "");
		CHECK(compile(patterns[i]) != NULL);
	}
}

TEST(constructs_a_text_scan_missed_are_refused)
{
	size_t at = 0;

	CHECK_STR(refused("(?x)a+ +b"), "a possessive quantifier");   /* (?x) space between */
	CHECK_STR(refused("a+\\Q\\E+b"), "a possessive quantifier");  /* an empty \Q\E between */
	CHECK_STR(refused("a{2}(?#c)+"), "a possessive quantifier");
	CHECK_STR(refused("\\Q\\\\E++"), "a possessive quantifier");  /* a quoted '\' made possessive */
	CHECK_STR(refused("\\x{41}++"), "a possessive quantifier");
	CHECK_STR(refused("(?*a)b"), "a lookahead");                   /* PCRE2's non-atomic spelling */
	CHECK_STR(refused("(?<*a)b"), "a lookbehind");
	CHECK_STR(refused("(?(?=a)b|c)"), "a lookahead");              /* as a condition */
	CHECK_STR(refused("(*CR)a"), "a (*...) verb or assertion");
	CHECK_STR(refused("(?C255)a"), "a callout");
	CHECK_STR(refused("(?x)(?-x)# (?=a)"), "a lookahead");         /* '#' is a literal again */
	CHECK_STR(regex_unsupported("^/a(?#(?=x)(?=b)", &at), "a lookahead");
	CHECK_INT(at, 11);
	CHECK_STR(regex_unsupported("a(?C\"(?C\")b", &at), "a callout");
	CHECK_INT(at, 1);
	CHECK_STR(regex_unsupported("(?x)a # x\n(?=a)", &at), "a lookahead");
	CHECK_INT(at, 10);
}

TEST(refusal_reports_the_offset)
{
	size_t at = 99;

	CHECK(regex_unsupported("^/ab(?=c)", &at));
	CHECK_INT(at, 4);
}

TEST(compile_errors_name_the_problem_and_offset)
{
	char msg[256];

	CHECK(!regex_compile(&arena, "^/a(b", msg, sizeof(msg)));
	CHECK_STR(msg, "missing closing parenthesis at offset 5");
	CHECK(!regex_compile(&arena, "a(?=b)", msg, sizeof(msg)));
	CHECK_STR(msg, "a lookahead at offset 1 is not supported");
	CHECK(!regex_compile(&arena, "[z-a]", msg, sizeof(msg)));
	CHECK(strstr(msg, "range out of order") != NULL);
	CHECK(!regex_compile(&arena, "a\\C", msg, sizeof(msg)));
	/* PCRE2's complaint comes first: the pattern is checked over its parse. */
	CHECK(!regex_compile(&arena, "(?<=a+)b", msg, sizeof(msg)));
	CHECK_STR(msg, "lookbehind assertion is not fixed length at offset 0");
	CHECK(!regex_compile(&arena, "(?:ab){3000}", msg, sizeof(msg)));
	CHECK_STR(msg, "a pattern too large for lb to check at offset 0 is not supported");
	CHECK(regex_compile(&arena, "(?:ab){1000}", msg, sizeof(msg)) != NULL);
}

TEST(search_is_unanchored_unless_anchored)
{
	CHECK_INT(search("api", "/v1/api/users"), 1);
	CHECK_INT(search("^api", "/v1/api/users"), 0);
	CHECK_INT(search("^/v1/", "/v1/api/users"), 1);
	CHECK_INT(search("users$", "/v1/api/users"), 1);
	CHECK_INT(search("^/v1$", "/v1/api"), 0);
}

TEST(search_is_case_sensitive_unless_asked)
{
	CHECK_INT(search("^/API", "/api"), 0);
	CHECK_INT(search("(?i)^/API", "/api"), 1);
}

TEST(search_of_an_empty_subject)
{
	CHECK_INT(search("^$", ""), 1);
	CHECK_INT(search("a", ""), 0);
	{
		struct regex *re = compile("^$");
		CHECK(re && regex_search(re, SV_NULL) == 1);
	}
}

TEST(groups_give_spans_of_the_last_match)
{
	struct regex *re = compile("^/dp/([a-z]+)(/x)?(/y)?$");
	size_t s = 0, e = 0;

	if (!re)
		return;
	CHECK_INT(regex_capture_count(re), 3);
	CHECK_INT(regex_search(re, SV("/dp/book")), 1);
	CHECK(regex_group(re, 0, &s, &e));
	CHECK_INT(s, 0);
	CHECK_INT(e, 8);
	CHECK(regex_group(re, 1, &s, &e));
	CHECK_INT(s, 4);
	CHECK_INT(e, 8);
	CHECK(!regex_group(re, 2, &s, &e));   /* did not take part */
	CHECK(!regex_group(re, 3, &s, &e));
	CHECK(!regex_group(re, 4, &s, &e));   /* no such group */
	CHECK_INT(regex_search(re, SV("/other")), 0);
	CHECK(!regex_group(re, 0, &s, &e));
}

TEST(pathological_backtracking_gives_up_instead_of_stalling)
{
	char text[4096];

	memset(text, 'a', sizeof(text) - 2);
	text[sizeof(text) - 2] = 'b';
	text[sizeof(text) - 1] = '\0';
	/* Nested quantifiers: exponential without a cap. */
	CHECK_INT(search("^(a|aa)*$", text), -1);
}

/* ---- regex_values through match_condition ---- */

static struct condition regex_cond(enum cond_type type, const char *header, const char *pattern)
{
	static const char *values[1];
	static struct regex *regexes[1];

	values[0] = pattern;
	regexes[0] = compile(pattern);
	return (struct condition){ .type = type, .header_name = header, .nvalues = 1,
				   .values = values, .regexes = regexes };
}

static bool holds(struct condition c, const char *target, const char *name, const char *value)
{
	struct http_request req;
	bool ok;

	if (!c.regexes[0])
		return false;
	http_request_init(&req);
	req.method = SV("GET");
	http_request_set_target(&req, sv_from(target));
	if (name)
		http_request_add_header(&req, sv_from(name), sv_from(value));
	ok = match_condition(&c, &req);
	http_request_release(&req);
	return ok;
}

TEST(path_regex_sees_the_path_without_query)
{
	struct condition c = regex_cond(COND_PATH_PATTERN, NULL, "^/img/[0-9]+\\.png$");

	CHECK(holds(c, "/img/12.png", NULL, NULL));
	CHECK(holds(c, "/img/12.png?size=2", NULL, NULL));
	CHECK(!holds(c, "/img/12.PNG", NULL, NULL));
	c = regex_cond(COND_PATH_PATTERN, NULL, "size");
	CHECK(!holds(c, "/img/12.png?size=2", NULL, NULL));
}

TEST(host_regex_sees_the_port_as_sent)
{
	/* AWS: use regex_values "to match host headers containing a non-standard port". */
	struct condition c = regex_cond(COND_HOST_HEADER, NULL, "^api\\.example\\.com:8443$");

	CHECK(holds(c, "/", "Host", "api.example.com:8443"));
	CHECK(!holds(c, "/", "Host", "api.example.com"));
	CHECK(holds(c, "http://api.example.com:8443/", "Host", "other.example.com"));
	c = regex_cond(COND_HOST_HEADER, NULL, "^api\\.");
	CHECK(!holds(c, "/", NULL, NULL));                /* no Host: no match */
	CHECK(!holds(c, "/", "Host", "API.example.com"));  /* case-sensitive */
}

TEST(header_regex_tries_each_instance_in_order)
{
	struct condition c = regex_cond(COND_HTTP_HEADER, "X-Env", "^(beta|gamma)-[0-9]+$");
	struct http_request req;

	CHECK(holds(c, "/", "x-env", "beta-2"));
	CHECK(!holds(c, "/", "x-env", "prod-2"));
	CHECK(!holds(c, "/", "X-Other", "beta-2"));
	http_request_init(&req);
	req.method = SV("GET");
	http_request_set_target(&req, SV("/"));
	http_request_add_header(&req, SV("X-Env"), SV("prod"));
	http_request_add_header(&req, SV("X-Env"), SV("gamma-7"));
	CHECK(match_condition(&c, &req));
	http_request_release(&req);
}

int main(void)
{
	RUN(lookaround_is_refused);
	RUN(backreferences_are_refused);
	RUN(atomic_possessive_subroutines_recursion_are_refused);
	RUN(unicode_classes_are_refused);
	RUN(ordinary_syntax_is_accepted);
	RUN(lookalikes_in_comments_quotes_escapes_and_classes_are_accepted);
	RUN(constructs_a_text_scan_missed_are_refused);
	RUN(refusal_reports_the_offset);
	RUN(compile_errors_name_the_problem_and_offset);
	RUN(search_is_unanchored_unless_anchored);
	RUN(search_is_case_sensitive_unless_asked);
	RUN(search_of_an_empty_subject);
	RUN(groups_give_spans_of_the_last_match);
	RUN(pathological_backtracking_gives_up_instead_of_stalling);
	RUN(path_regex_sees_the_path_without_query);
	RUN(host_regex_sees_the_port_as_sent);
	RUN(header_regex_tries_each_instance_in_order);
	arena_release(&arena);
	return test_done();
}
