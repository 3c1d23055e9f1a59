/*
 * Loading regex_values and transforms (rules.c, rules_transform.c;
 * alb-listener-rules.md §1.4, §2.6): what lb check accepts and the exact
 * "file:line:col: message" of what it refuses. Real files in a temporary
 * directory, as in test_config.c.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "test.h"

static char fixture_dir[] = "/tmp/lb-test-rules-regex-XXXXXX";
static char old_cwd[4096];
static struct lb_err err;

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

#define LB_YAML                                                                            \
	"listeners:\n"                                                                     \
	"  - port: 8080\n"                                                                 \
	"    rules: [\"../rules/r.yaml\"]\n"                                               \
	"    default_actions: [{type: fixed-response, fixed_response: {status_code: \"404\"}}]\n" \
	"target_groups:\n"                                                                 \
	"  - {name: api, target_type: lambda}\n"

#define R "config/../rules/r.yaml:"
#define FWD "actions: [{type: forward, target_group: api}]"

/* Loads a rule file holding one rule (priority 10) whose body is text,
 * indented under "  - priority: 10\n": the error, or "(loaded)". */
static const char *rule_err(const char *body)
{
	char text[8192];
	struct config *cfg;

	snprintf(text, sizeof(text), "rules:\n  - priority: 10\n%s", body);
	put("rules/r.yaml", text);
	put("config/lb.yaml", LB_YAML);
	cfg = config_load("config/lb.yaml", &err);
	if (!cfg)
		return err.msg;
	config_unref(cfg);
	return "(loaded)";
}

static struct config *load_rule(const char *body)
{
	if (strcmp(rule_err(body), "(loaded)") != 0) {
		printf("    load failed: %s\n", err.msg);
		return NULL;
	}
	return config_load("config/lb.yaml", &err);
}

/* ---- regex_values ---- */

TEST(regex_values_load_compiled_beside_their_text)
{
	struct config *cfg = load_rule("    conditions:\n"
				       "      - path_pattern: {regex_values: [\"^/a/[0-9]+$\", \"x\"]}\n"
				       "      - host_header: {regex_values: [\"(?i)^api\\\\.\"]}\n"
				       "      - http_header: {http_header_name: X-Env, regex_values: [beta]}\n"
				       "    " FWD "\n");
	const struct condition *c;

	if (!cfg)
		return;
	c = cfg->listeners[0].rules[0].conditions;
	CHECK_INT(c[0].nvalues, 2);
	CHECK_STR(c[0].values[0], "^/a/[0-9]+$");
	CHECK(c[0].regexes && c[0].regexes[0] && c[0].regexes[1]);
	CHECK_STR(c[1].values[0], "(?i)^api\\.");
	CHECK(c[1].regexes != NULL);
	CHECK_STR(c[2].header_name, "X-Env");
	CHECK(c[2].regexes != NULL);
	config_unref(cfg);
}

TEST(refused_regex_features_are_config_errors_at_the_value)
{
	CHECK_STR(rule_err("    conditions: [{path_pattern: {regex_values: [\"^/a(?=b)\"]}}]\n    " FWD "\n"),
		  R "3:49: regex '^/a(?=b)': a lookahead at offset 3 is not supported");
	CHECK_STR(rule_err("    conditions:\n      - host_header: {regex_values: ['(a)\\1']}\n    " FWD "\n"),
		  R "4:38: regex '(a)\\1': a backreference at offset 3 is not supported");
	CHECK_STR(rule_err("    conditions:\n      - path_pattern: {regex_values: [\"\\\\p{L}\"]}\n    " FWD "\n"),
		  R "4:39: regex '\\p{L}': a Unicode class at offset 0 is not supported");
}

TEST(the_check_reads_the_regex_as_pcre2_does)
{
	/* Text in a comment is no construct; a space (?x) skips still is between. */
	CHECK_STR(rule_err("    conditions:\n      - path_pattern: {regex_values: [\"^/a(?#(?=b)x\"]}\n    " FWD "\n"),
		  "(loaded)");
	CHECK_STR(rule_err("    conditions:\n      - path_pattern: {regex_values: [\"(?x)^/a+ +\"]}\n    " FWD "\n"),
		  R "4:39: regex '(?x)^/a+ +': a possessive quantifier at offset 9 is not supported");
}

TEST(regex_syntax_errors_are_config_errors_with_pcre2s_message)
{
	CHECK_STR(rule_err("    conditions:\n      - path_pattern: {regex_values: [\"^/a(b\"]}\n    " FWD "\n"),
		  R "4:39: regex '^/a(b': missing closing parenthesis at offset 5");
}

TEST(regex_values_conflict_with_values)
{
	CHECK_STR(rule_err("    conditions:\n      - path_pattern: {values: [/a], regex_values: [a]}\n"
			   "    " FWD "\n"),
		  R "4:38: a condition takes 'values' or 'regex_values', not both");
}

TEST(regex_values_have_albs_limits)
{
	char body[2048], long_re[200];

	/* 3 per condition, 5 per rule, 128 characters each, not empty, visible ASCII. */
	CHECK_STR(rule_err("    conditions:\n      - path_pattern: {regex_values: [a, b, c, d]}\n    " FWD "\n"),
		  R "4:48: a path_pattern condition has at most 3 values");
	CHECK_STR(rule_err("    conditions:\n      - path_pattern: {regex_values: [a, b, c]}\n"
			   "      - http_header: {http_header_name: X, regex_values: [d, e]}\n"
			   "      - host_header: {regex_values: [f]}\n    " FWD "\n"),
		  R "6:38: a rule has at most 5 condition values");
	memset(long_re, 'a', 129);
	long_re[129] = '\0';
	snprintf(body, sizeof(body), "    conditions:\n      - path_pattern: {regex_values: [%s]}\n    " FWD "\n",
		 long_re);
	CHECK_STR(rule_err(body), R "4:39: 'regex_values' is at most 128 characters");
	long_re[128] = '\0';
	snprintf(body, sizeof(body), "    conditions:\n      - path_pattern: {regex_values: [%s]}\n    " FWD "\n",
		 long_re);
	CHECK_STR(rule_err(body), "(loaded)");
	CHECK_STR(rule_err("    conditions:\n      - path_pattern: {regex_values: [\"\"]}\n    " FWD "\n"),
		  R "4:39: 'regex_values' can't be empty");
	CHECK_STR(rule_err("    conditions:\n      - path_pattern: {regex_values: [\"a\\tb\"]}\n    " FWD "\n"),
		  R "4:39: 'regex_values' must be visible ASCII");
	CHECK_STR(rule_err("    conditions:\n      - path_pattern: {regex_values: []}\n    " FWD "\n"),
		  R "4:38: 'regex_values' needs at least one value");
}

TEST(regex_values_do_not_spend_the_wildcard_budget)
{
	/* Six '*' and '?' in regexes: wildcards are a glob limit (§1.1). */
	CHECK_STR(rule_err("    conditions:\n      - path_pattern: {regex_values: [\"^/a*b*c?d?e*f?$\"]}\n"
			   "    " FWD "\n"),
		  "(loaded)");
}

TEST(regex_values_only_on_host_path_and_header)
{
	CHECK_STR(rule_err("    conditions:\n      - http_request_method: {regex_values: [GET]}\n    " FWD "\n"),
		  R "4:31: unknown key 'regex_values' (it takes: values)");
	CHECK_STR(rule_err("    conditions:\n      - source_ip: {regex_values: [GET]}\n    " FWD "\n"),
		  R "4:21: unknown key 'regex_values' (it takes: values)");
}

/* ---- transforms ---- */

#define PATH_COND "    conditions: [{path_pattern: {values: [\"/a*\"]}}]\n    " FWD "\n"

TEST(transforms_load_in_both_shapes)
{
	struct config *cfg = load_rule(PATH_COND
				       "    transforms:\n"
				       "      - type: url-rewrite\n"
				       "        rewrites: [{regex: \"^/a/(.*)$\", replace: \"/b/$1\"}]\n"
				       "      - type: host-header-rewrite\n"
				       "        host_header_rewrite_config:\n"
				       "          rewrites: [{regex: \"^(.+)\\\\.example\\\\.com$\", replace: \"${1}.internal\"}]\n");
	const struct rule *r;

	if (!cfg)
		return;
	r = &cfg->listeners[0].rules[0];
	CHECK(r->url_rewrite && r->host_rewrite);
	if (r->url_rewrite && r->host_rewrite) {
		CHECK_STR(r->url_rewrite->regex, "^/a/(.*)$");
		CHECK_STR(r->url_rewrite->replace, "/b/$1");
		CHECK_STR(r->host_rewrite->replace, "${1}.internal");
		CHECK_INT(r->host_rewrite->pos.line, 10);
	}
	config_unref(cfg);
}

TEST(at_most_one_transform_of_each_type)
{
	CHECK_STR(rule_err(PATH_COND "    transforms:\n"
			   "      - {type: url-rewrite, rewrites: [{regex: a, replace: /b}]}\n"
			   "      - {type: url-rewrite, rewrites: [{regex: c, replace: /d}]}\n"),
		  R "7:16: a rule has at most one url-rewrite transform");
}

TEST(transform_fields_are_checked)
{
	CHECK_STR(rule_err(PATH_COND "    transforms: [{type: path-rewrite, rewrites: [{regex: a, replace: b}]}]\n"),
		  R "5:25: 'type' must be host-header-rewrite or url-rewrite, not 'path-rewrite'");
	CHECK_STR(rule_err(PATH_COND "    transforms: [{type: url-rewrite}]\n"),
		  R "5:18: missing key 'rewrites'");
	CHECK_STR(rule_err(PATH_COND "    transforms: [{type: url-rewrite, rewrites: [{regex: a}]}]\n"),
		  R "5:49: missing key 'replace'");
	CHECK_STR(rule_err(PATH_COND "    transforms: [{type: url-rewrite, rewrites: []}]\n"),
		  R "5:48: a transform has exactly 1 rewrite");
	CHECK_STR(rule_err(PATH_COND "    transforms:\n      - type: url-rewrite\n"
			   "        host_header_rewrite_config: {rewrites: [{regex: a, replace: b}]}\n"),
		  R "7:9: a url-rewrite transform takes no 'host_header_rewrite_config'");
	CHECK_STR(rule_err(PATH_COND "    transforms: [{type: url-rewrite, rewrites: [{regex: a, replace: b, x: 1}]}]\n"),
		  R "5:72: unknown key 'x' (it takes: regex, replace)");
}

TEST(replace_may_only_name_groups_the_regex_has)
{
	CHECK_STR(rule_err(PATH_COND "    transforms: [{type: url-rewrite, rewrites: [{regex: \"^/a/(.*)$\", replace: /b/$2}]}]\n"),
		  R "5:79: 'replace' refers to group $2, but the regex has 1");
	CHECK_STR(rule_err(PATH_COND "    transforms: [{type: url-rewrite, rewrites: [{regex: \"^/a/(.*)$\", replace: \"/b/${2}\"}]}]\n"),
		  R "5:79: 'replace' refers to group ${2}, but the regex has 1");
	/* Not a number wrapped or cut to fit: the reference as written. */
	CHECK_STR(rule_err(PATH_COND "    transforms: [{type: url-rewrite, rewrites: [{regex: \"^/a/(.*)$\", replace: \"/b/$999999999999\"}]}]\n"),
		  R "5:79: 'replace' refers to group $999999999999, but the regex has 1");
	CHECK_STR(rule_err(PATH_COND "    transforms: [{type: url-rewrite, rewrites: [{regex: \"^/a/(.*)$\", replace: \"/b/$1234567890123456789012345678901234567890\"}]}]\n"),
		  R "5:79: 'replace' refers to group $123456789012345678901234567890123456789..., but the regex has 1");
	CHECK_STR(rule_err(PATH_COND "    transforms: [{type: url-rewrite, rewrites: [{regex: \"^/a/(.*)$\", replace: \"/b/$1$0\"}]}]\n"),
		  "(loaded)");
}

TEST(transform_regexes_follow_the_same_dialect_and_limits)
{
	char body[4096], long_re[1100];

	CHECK_STR(rule_err(PATH_COND "    transforms: [{type: url-rewrite, rewrites: [{regex: \"(?<=a)b\", replace: /c}]}]\n"),
		  R "5:57: regex '(?<=a)b': a lookbehind at offset 0 is not supported");
	memset(long_re, 'a', 1025);
	long_re[1025] = '\0';
	snprintf(body, sizeof(body), PATH_COND "    transforms: [{type: url-rewrite, rewrites: [{regex: %s, replace: /c}]}]\n",
		 long_re);
	CHECK_STR(rule_err(body), R "5:57: 'regex' is at most 1024 characters");
	/* A long regex is quoted by its start: PCRE2's reason is not cut off. */
	memset(long_re, '(', 512);
	memset(long_re + 512, ')', 512);
	long_re[1024] = '\0';
	snprintf(body, sizeof(body), PATH_COND "    transforms: [{type: url-rewrite, rewrites: [{regex: \"%s\", replace: /c}]}]\n",
		 long_re);
	CHECK_STR(rule_err(body), R "5:57: regex '((((((((((((((((((((((((((((((((((((((((...': "
		  "parentheses are too deeply nested at offset 251");
}

static int fixture_setup(void)
{
	if (!getcwd(old_cwd, sizeof(old_cwd)) || !mkdtemp(fixture_dir) || chdir(fixture_dir) ||
	    mkdir("config", 0755) || mkdir("rules", 0755)) {
		perror("fixture");
		return -1;
	}
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	if (fixture_setup())
		return 1;
	RUN(regex_values_load_compiled_beside_their_text);
	RUN(refused_regex_features_are_config_errors_at_the_value);
	RUN(the_check_reads_the_regex_as_pcre2_does);
	RUN(regex_syntax_errors_are_config_errors_with_pcre2s_message);
	RUN(regex_values_conflict_with_values);
	RUN(regex_values_have_albs_limits);
	RUN(regex_values_do_not_spend_the_wildcard_budget);
	RUN(regex_values_only_on_host_path_and_header);
	RUN(transforms_load_in_both_shapes);
	RUN(at_most_one_transform_of_each_type);
	RUN(transform_fields_are_checked);
	RUN(replace_may_only_name_groups_the_regex_has);
	RUN(transform_regexes_follow_the_same_dialect_and_limits);
	if (chdir(old_cwd) == 0)
		nftw(fixture_dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	return test_done();
}
