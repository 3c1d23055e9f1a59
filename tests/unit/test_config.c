/*
 * Unit tests for config_load (config, config_fn, rules, rules_action,
 * yaml_doc): real files in a temporary directory, exact "file:line:col:
 * message" errors, and every field of a full configuration.
 *
 * The tests chdir into the fixture directory and load "config/lb.yaml", so
 * messages read "config/lb.yaml:3:5: ..." and rule files, named relative to
 * lb.yaml, "config/../rules/r.yaml:...".
 */
#include <ftw.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "test.h"

static char fixture_dir[] = "/tmp/lb-test-config-XXXXXX";
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

static void clear_rules(void)
{
	glob_t g;

	if (glob("rules/*", 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			unlink(g.gl_pathv[i]);
	}
	globfree(&g);
}

/* Writes lb.yaml and loads it: the error message, or "(loaded)". */
static const char *load_err(const char *lb_yaml)
{
	struct config *cfg;

	put("config/lb.yaml", lb_yaml);
	cfg = config_load("config/lb.yaml", &err);
	if (!cfg)
		return err.msg;
	config_unref(cfg);
	return "(loaded)";
}

static struct config *load(const char *lb_yaml)
{
	struct config *cfg;

	put("config/lb.yaml", lb_yaml);
	cfg = config_load("config/lb.yaml", &err);
	if (!cfg)
		printf("    load failed: %s\n", err.msg);
	return cfg;
}

#define DEFAULT_ACTIONS                                                                    \
	"    default_actions: [{type: fixed-response, fixed_response: {status_code: \"404\"}}]\n"
#define LB_MIN "listeners:\n  - port: 8080\n" DEFAULT_ACTIONS

/* Listener, target groups and a function for rule files to refer to. */
#define RULES_LB                                                                           \
	"listeners:\n"                                                                     \
	"  - port: 8080\n"                                                                 \
	"    rules: [\"../rules/*.yaml\"]\n" DEFAULT_ACTIONS                               \
	"target_groups:\n"                                                                 \
	"  - {name: api, target_type: lambda, targets: [api]}\n"                           \
	"  - {name: web, target_type: lambda}\n"                                           \
	"  - {name: img, target_type: lambda}\n"                                           \
	"functions:\n"                                                                     \
	"  - {name: api, runtime: nodejs20.x, handler: index.handler, code: ../functions/api}\n"

/* lb.yaml is RULES_LB; rules/r.yaml is text. */
static const char *rules_err(const char *text)
{
	clear_rules();
	put("rules/r.yaml", text);
	return load_err(RULES_LB);
}

/* One rule with priority 10: cond on line 4, action on line 6, both at column 9. */
static const char *rule_err(const char *cond, const char *action)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "rules:\n  - priority: 10\n    conditions:\n      - %s\n"
		 "    actions:\n      - %s\n", cond, action);
	return rules_err(text);
}

#define R "config/../rules/r.yaml:"
#define C "config/lb.yaml:"
#define PATH_A "path_pattern: {values: [/a]}"
#define FWD "{type: forward, target_group: api}"
#define REDIRECT_OF(fields) "{type: redirect, redirect: {" fields "}}"

/* ---- yaml_doc ---------------------------------------------------------- */

/* Whether the absolute path s ends with "/" + tail: code and layer paths are resolved. */
static int abs_path_ends(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return s[0] == '/' && n > t && s[n - t - 1] == '/' && strcmp(s + n - t, tail) == 0;
}

TEST(missing_config_file_is_an_error)
{
	CHECK(!config_load("config/nope.yaml", &err));
	CHECK_STR(err.msg, "cannot open 'config/nope.yaml': No such file or directory");
}

TEST(yaml_syntax_error_names_libyamls_problem_and_position)
{
	CHECK_STR(load_err("listeners: [1\n"),
		  C "2:1: did not find expected ',' or ']' (while parsing a flow sequence that "
		    "started on line 1)");
}

TEST(duplicate_key_is_an_error_naming_the_first)
{
	CHECK_STR(load_err(LB_MIN "listeners: []\n"),
		  C "4:1: duplicate key 'listeners' (first on line 1)");
}

/*
 * Why: real configurations share settings with YAML 1.1 merge keys
 * ("<<: *defaults"), which PyYAML and SAM CLI resolve; lb refused every
 * anchor ("anchors and aliases are not supported").
 */
TEST(anchors_aliases_and_merge_keys_are_resolved)
{
	struct config *cfg = load(LB_MIN "functions:\n"
				  "  - &fn\n"
				  "    name: api\n"
				  "    runtime: nodejs20.x\n"
				  "    handler: index.handler\n"
				  "    code: ../functions/api\n"
				  "    timeout: 9\n"
				  "    environment: {variables: &vars {STAGE: dev, LEVEL: info}}\n"
				  "  - <<: *fn\n"
				  "    name: worker\n"
				  "    timeout: 30\n"
				  "    environment: {variables: {<<: *vars, LEVEL: debug}}\n"
				  "  - handler: other.handler\n"
				  "    <<: [{name: a, memory_size: 256}, *fn]\n");

	CHECK(cfg != NULL);
	if (!cfg)
		return;
	CHECK(cfg->nfunctions == 3);
	CHECK_STR(cfg->functions[1].name, "worker");
	CHECK_STR(cfg->functions[1].latest.runtime, "nodejs20.x");
	CHECK_STR(cfg->functions[1].latest.handler, "index.handler");
	CHECK(cfg->functions[1].latest.timeout == 30);   /* the mapping's own key wins */
	CHECK(cfg->functions[1].latest.nenv == 2);
	/* merged keys come at the place of the "<<" */
	CHECK_STR(cfg->functions[1].latest.env[0].name, "STAGE");
	CHECK_STR(cfg->functions[1].latest.env[0].value, "dev");
	CHECK_STR(cfg->functions[1].latest.env[1].name, "LEVEL");
	CHECK_STR(cfg->functions[1].latest.env[1].value, "debug");
	/* a list: the first mapping that has a key wins */
	CHECK_STR(cfg->functions[2].name, "a");
	CHECK(cfg->functions[2].latest.memory_size == 256);
	CHECK(cfg->functions[2].latest.timeout == 9);
	CHECK_STR(cfg->functions[2].latest.handler, "other.handler");
	config_unref(cfg);
	/* rule files too: a rule's actions shared with another */
	CHECK_STR(rules_err("rules:\n"
			    "  - {priority: 1, conditions: [" PATH_A "], actions: &api [" FWD "]}\n"
			    "  - {priority: 2, conditions: [{<<: {path_pattern: {values: [/b]}}}],\n"
			    "     actions: *api}\n"), "(loaded)");
}

TEST(anchor_alias_and_merge_key_errors_are_positioned)
{
	/* an error in a merged value names the line that wrote it */
	CHECK_STR(load_err(LB_MIN "functions:\n"
			   "  - &fn {name: a, runtime: nodejs20.x, handler: i.h, code: ../functions/api,\n"
			   "         timeout: 1000}\n"
			   "  - {<<: *fn, name: b}\n"),
		  C "6:19: 'timeout' must be between 1 and 900, not 1000");
	CHECK_STR(load_err("x: 1\ny: *a\n"), C "2:4: alias '*a' names no anchor ('&a') before it");
	CHECK_STR(load_err("a: &a [*a]\n"), C "1:8: alias '*a' names no anchor ('&a') before it");
	CHECK_STR(load_err("a: &a 1\nb: {<<: *a}\n"),
		  C "1:4: a merge key ('<<') takes a mapping or a list of mappings, as "
		    "'<<: *defaults' or '<<: [*a, *b]'");
	CHECK_STR(load_err("b: {<<: [{x: 1}, [y]]}\n"),
		  C "1:18: a merge key ('<<') takes a mapping or a list of mappings, as "
		    "'<<: *defaults' or '<<: [*a, *b]'");
	/* quoted, "<<" is an ordinary key */
	CHECK_STR(load_err(LB_MIN "'<<': {}\n"),
		  C "4:1: unknown key '<<' (it takes: load_balancer, listeners, target_groups, "
		    "functions, lambda_api, admin)");
	/* two merge keys in one mapping are a duplicate key, as in YAML */
	CHECK_STR(load_err("a: &a {x: 1}\nb: {<<: *a, <<: *a}\n"),
		  C "2:13: duplicate key '<<' (first on line 2)");
	/* aliases of aliases cannot expand without bound */
	CHECK_STR(load_err("a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
			   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
			   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
			   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
			   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
			   "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"),
		  C "5:36: aliases expand to more than 100000 nodes");
}

TEST(tags_are_rejected)
{
	CHECK_STR(load_err("listeners: !Ref x\n"), C "1:12: tag '!Ref' is not supported");
}

TEST(second_document_is_rejected)
{
	CHECK_STR(load_err(LB_MIN "---\nx: 1\n"), C "4:1: a file holds a single YAML document");
}

TEST(invalid_utf8_is_reported_at_its_byte)
{
	CHECK_STR(load_err("listeners:\n  - port: \xff\n"),
		  C "2:11: invalid leading UTF-8 octet");
}

TEST(nul_byte_in_a_string_is_rejected)
{
	CHECK_STR(load_err("listeners: \"a\\0b\"\n"), C "1:12: NUL byte in a string");
}

TEST(nesting_is_bounded)
{
	char text[256];

	memset(text, '[', 100);
	memset(text + 100, ']', 100);
	strcpy(text + 200, "\n");
	CHECK_STR(load_err(text), C "1:66: nesting deeper than 64 levels");
}

TEST(empty_file_is_not_a_configuration)
{
	CHECK_STR(load_err(""), C "1:1: the document must be a mapping");
}

TEST(unknown_top_level_key_suggests_the_close_one)
{
	CHECK_STR(load_err(LB_MIN "functons: []\n"),
		  C "4:1: unknown key 'functons' (did you mean 'functions'?)");
}

TEST(unknown_key_far_from_all_known_has_no_suggestion)
{
	CHECK_STR(load_err(LB_MIN "cluster: x\n"), C "4:1: unknown key 'cluster' (it takes: load_balancer, listeners, "
							    "target_groups, functions, lambda_api, admin)");
}

TEST(missing_listeners_is_an_error)
{
	CHECK_STR(load_err("functions: []\n"), C "1:1: missing key 'listeners'");
}

TEST(empty_plain_value_has_no_value)
{
	CHECK_STR(load_err(LB_MIN "load_balancer: {name: }\n"),
		  C "4:23: 'name' has no value");
}

/* ---- a full configuration ---------------------------------------------- */

static const char full_lb[] =
	"load_balancer:\n"
	"  name: local-alb\n"
	"  region: eu-west-1\n"
	"  account_id: \"210987654321\"\n"
	"  access_log: \"-\"\n"
	"  attributes:\n"
	"    idle_timeout.timeout_seconds: 30\n"
	"    client_keep_alive.seconds: \"7200\"\n"
	"    routing.http.desync_mitigation_mode: strictest\n"
	"    routing.http.xff_header_processing.mode: preserve\n"
	"    routing.http.xff_client_port.enabled: true\n"
	"    routing.http.preserve_host_header.enabled: \"true\"\n"
	"    routing.http.drop_invalid_header_fields.enabled: false\n"
	"    routing.http2.enabled: false\n"
	"listeners:\n"
	"  - port: 8080\n"
	"    address: 127.0.0.1\n"
	"    protocol: HTTP\n"
	"    rules: [\"../rules/*.yaml\"]\n"
	"    default_actions:\n"
	"      - type: fixed-response\n"
	"        fixed_response: {status_code: \"404\", content_type: text/plain, message_body: "
	"\"no rule matched\"}\n"
	"target_groups:\n"
	"  - name: api\n"
	"    target_type: lambda\n"
	"    targets: [\"api:live\"]\n"
	"    attributes:\n"
	"      lambda.multi_value_headers.enabled: true\n"
	"    health_check: {enabled: false, path: /health}\n"
	"  - {name: blue, target_type: lambda, targets: [\"legacy\"]}\n"
	"  - {name: green, target_type: lambda, targets: [\"in-docker\"]}\n"
	"functions:\n"
	"  - name: api\n"
	"    runtime: nodejs20.x\n"
	"    handler: index.handler\n"
	"    code: ../functions/api\n"
	"    timeout: 3\n"
	"    memory_size: 256\n"
	"    reserved_concurrent_executions: 4\n"
	"    environment: {variables: {STAGE: local, DEBUG: \"1\"}}\n"
	"    layers: [\"../layers/common\"]\n"
	"    versions:\n"
	"      - {version: \"1\", code: ../functions/api-v1,\n"
	"         environment: {variables: {STAGE: v1}}}\n"
	"      - {version: \"2\", timeout: 10}\n"
	"    aliases:\n"
	"      - {name: live, function_version: \"1\", routing_config: "
	"{additional_version_weights: {\"2\": 0.1}}}\n"
	"  - name: legacy\n"
	"    runtime: provided.al2023\n"
	"    command: [\"./bootstrap\", \"--fast\"]\n"
	"    code: ../functions/legacy\n"
	"  - name: in-docker\n"
	"    endpoint: http://127.0.0.1:9000\n"
	"    function_name: function\n"
	"    timeout: 20\n";

static const char full_rules[] =
	"listener: 8080\n"
	"rules:\n"
	"  - priority: 40\n"
	"    conditions: [{path_pattern: {values: [/health]}}]\n"
	"    actions:\n"
	"      - type: fixed-response\n"
	"        fixed_response: {status_code: \"200\", content_type: text/plain,\n"
	"                         message_body: ok}\n"
	"  - priority: 10\n"
	"    conditions:\n"
	"      - path_pattern: {values: [\"/api/*\"]}\n"
	"      - http_header: {http_header_name: X-Env, values: [beta]}\n"
	"      - query_string: {values: [{key: version, value: v1}]}\n"
	"      - host_header: {values: [\"*.example.com\"]}\n"
	"      - source_ip: {values: [\"10.1.2.3/8\"]}\n"
	"    actions:\n"
	"      - type: forward\n"
	"        target_group: api\n"
	"  - priority: 20\n"
	"    conditions: [{path_pattern: {values: [\"/shop/*\"]}}]\n"
	"    actions:\n"
	"      - type: forward\n"
	"        order: 1\n"
	"        forward:\n"
	"          target_groups: [{name: blue, weight: 90}, {name: green}]\n"
	"          stickiness: {enabled: true, duration: 3600}\n"
	"  - priority: 30\n"
	"    conditions: [{host_header: {values: [old.example.com]}}]\n"
	"    actions:\n"
	"      - type: redirect\n"
	"        redirect: {host: new.example.com, path: \"/#{path}\", query: \"#{query}\", "
	"status_code: HTTP_301}\n";

static struct config *load_full(void)
{
	clear_rules();
	put("rules/api.yaml", full_rules);
	return load(full_lb);
}

TEST(full_config_load_balancer_and_attributes)
{
	struct config *cfg = load_full();
	const struct lb_attributes *a;

	if (!cfg)
		return;
	a = &cfg->lb.attrs;
	CHECK_STR(cfg->path, "config/lb.yaml");
	/* The directory is made absolute: functions run in their own directories. */
	CHECK(cfg->dir[0] == '/' && strcmp(cfg->dir + strlen(cfg->dir) - 7, "/config") == 0);
	CHECK_STR(cfg->lb.name, "local-alb");
	CHECK_STR(cfg->lb.region, "eu-west-1");
	CHECK_STR(cfg->lb.account_id, "210987654321");
	CHECK_STR(cfg->lb.access_log, "-");
	CHECK_STR(cfg->lb.id, "44253f71b7117dc0");
	CHECK_STR(cfg->lb.elb, "app/local-alb/44253f71b7117dc0");
	CHECK_INT(a->idle_timeout, 30);
	CHECK_INT(a->client_keep_alive, 7200);
	CHECK_INT(a->desync_mode, DESYNC_MODE_STRICTEST);
	CHECK_INT(a->xff_mode, XFF_PRESERVE);
	CHECK(a->xff_client_port);
	CHECK(a->preserve_host);
	CHECK(!a->drop_invalid_headers);
	CHECK(!a->http2);
	config_unref(cfg);
}

TEST(full_config_listener_rules_sorted_with_conditions)
{
	struct config *cfg = load_full();
	const struct listener_cfg *l;
	const struct rule *r;

	if (!cfg)
		return;
	CHECK_INT(cfg->nlisteners, 1);
	l = &cfg->listeners[0];
	CHECK_STR(l->address, "127.0.0.1");
	CHECK_INT(l->port, 8080);
	CHECK_INT(l->protocol, PROTO_HTTP);
	CHECK_INT(l->pos.line, 16);
	CHECK_INT(l->nrules, 4);
	CHECK_INT(l->rules[0].priority, 10);
	CHECK_INT(l->rules[1].priority, 20);
	CHECK_INT(l->rules[2].priority, 30);
	CHECK_INT(l->rules[3].priority, 40);
	r = &l->rules[0];
	CHECK_STR(r->pos.file, "config/../rules/api.yaml");
	CHECK_INT(r->pos.line, 9);
	CHECK_INT(r->nconditions, 5);
	CHECK_INT(r->conditions[0].type, COND_PATH_PATTERN);
	CHECK_STR(r->conditions[0].values[0], "/api/*");
	CHECK_INT(r->conditions[1].type, COND_HTTP_HEADER);
	CHECK_STR(r->conditions[1].header_name, "X-Env");
	CHECK_STR(r->conditions[1].values[0], "beta");
	CHECK_INT(r->conditions[2].type, COND_QUERY_STRING);
	CHECK_STR(r->conditions[2].query[0].key, "version");
	CHECK_STR(r->conditions[2].query[0].value, "v1");
	CHECK_INT(r->conditions[3].type, COND_HOST_HEADER);
	CHECK_INT(r->conditions[4].type, COND_SOURCE_IP);
	CHECK_INT(r->conditions[4].cidrs[0].family, AF_INET);
	CHECK_INT(r->conditions[4].cidrs[0].prefix, 8);
	CHECK(memcmp(r->conditions[4].cidrs[0].addr, "\x0a\0\0\0", 4) == 0);
	CHECK_INT(r->conditions[4].pos.line, 15);
	CHECK_INT(r->conditions[4].pos.col, 9);
	config_unref(cfg);
}

TEST(full_config_actions)
{
	struct config *cfg = load_full();
	const struct listener_cfg *l;
	const struct action *a;

	if (!cfg)
		return;
	l = &cfg->listeners[0];
	a = &l->rules[0].action;
	CHECK_INT(a->type, ACTION_FORWARD);
	CHECK_INT(a->forward.ngroups, 1);
	CHECK(a->forward.groups[0].tg == config_target_group(cfg, "api"));
	CHECK_INT(a->forward.groups[0].weight, 1);
	a = &l->rules[1].action;
	CHECK_INT(a->forward.ngroups, 2);
	CHECK_STR(a->forward.groups[0].name, "blue");
	CHECK_INT(a->forward.groups[0].weight, 90);
	CHECK_STR(a->forward.groups[1].name, "green");
	CHECK_INT(a->forward.groups[1].weight, 1);
	CHECK(a->forward.stickiness);
	CHECK_INT(a->forward.stickiness_duration, 3600);
	a = &l->rules[2].action;
	CHECK_INT(a->type, ACTION_REDIRECT);
	CHECK(a->redirect.protocol == NULL);
	CHECK(a->redirect.port == NULL);
	CHECK_STR(a->redirect.host, "new.example.com");
	CHECK_STR(a->redirect.path, "/#{path}");
	CHECK_STR(a->redirect.query, "#{query}");
	CHECK_INT(a->redirect.status_code, 301);
	a = &l->rules[3].action;
	CHECK_INT(a->type, ACTION_FIXED_RESPONSE);
	CHECK_INT(a->fixed.status_code, 200);
	CHECK_MEM(a->fixed.body, a->fixed.body_len, "ok");
	CHECK_INT(l->default_rule.priority, 0);
	CHECK_INT(l->default_rule.nconditions, 0);
	CHECK_INT(l->default_rule.action.fixed.status_code, 404);
	CHECK_STR(l->default_rule.action.fixed.content_type, "text/plain");
	CHECK_MEM(l->default_rule.action.fixed.body, l->default_rule.action.fixed.body_len,
		  "no rule matched");
	config_unref(cfg);
}

TEST(full_config_target_groups)
{
	struct config *cfg = load_full();
	const struct target_group *tg;

	if (!cfg)
		return;
	CHECK_INT(cfg->ntarget_groups, 3);
	tg = config_target_group(cfg, "api");
	CHECK(tg != NULL);
	if (!tg)
		goto out;
	CHECK_INT(tg->target_type, TARGET_LAMBDA);
	CHECK_STR(tg->arn, "arn:aws:elasticloadbalancing:eu-west-1:210987654321:targetgroup/api/"
			   "e74fc019056aae07");
	CHECK_INT(tg->ntargets, 1);
	CHECK_STR(tg->targets[0], "api:live");
	CHECK(tg->function == config_function(cfg, "api"));
	CHECK_STR(tg->qualifier, "live");
	CHECK(tg->multi_value_headers);
	CHECK(!tg->health_check.enabled);
	CHECK_STR(tg->health_check.path, "/health");
	CHECK_INT(tg->health_check.interval, 35);
	CHECK_INT(tg->health_check.timeout, 30);
	CHECK_INT(tg->health_check.healthy_threshold, 5);
	CHECK_INT(tg->health_check.unhealthy_threshold, 2);
	CHECK_STR(tg->health_check.matcher, "200");
	tg = config_target_group(cfg, "blue");
	CHECK(tg->function == config_function(cfg, "legacy"));
	CHECK(tg->qualifier == NULL);
	CHECK(!tg->multi_value_headers);
	CHECK(config_target_group(cfg, "nope") == NULL);
out:
	config_unref(cfg);
}

TEST(full_config_function_latest_settings)
{
	struct config *cfg = load_full();
	const struct function_cfg *fn;

	if (!cfg)
		return;
	CHECK_INT(cfg->nfunctions, 3);
	fn = config_function(cfg, "api");
	CHECK(fn->endpoint == NULL);
	CHECK_INT(fn->reserved_concurrency, 4);
	CHECK_STR(fn->latest.runtime, "nodejs20.x");
	CHECK_STR(fn->latest.handler, "index.handler");
	CHECK(abs_path_ends(fn->latest.code, "functions/api"));
	CHECK_INT(fn->latest.timeout, 3);
	CHECK_INT(fn->latest.memory_size, 256);
	CHECK_INT(fn->latest.nenv, 2);
	CHECK_STR(fn->latest.env[0].name, "STAGE");
	CHECK_STR(fn->latest.env[0].value, "local");
	CHECK_STR(fn->latest.env[1].name, "DEBUG");
	CHECK_STR(fn->latest.env[1].value, "1");
	CHECK_INT(fn->latest.nlayers, 1);
	CHECK(abs_path_ends(fn->latest.layers[0], "layers/common"));
	fn = config_function(cfg, "legacy");
	CHECK_STR(fn->latest.runtime, "provided.al2023");
	CHECK(fn->latest.handler == NULL);
	CHECK_INT(fn->latest.ncommand, 2);
	CHECK_STR(fn->latest.command[0], "./bootstrap");
	CHECK_STR(fn->latest.command[1], "--fast");
	CHECK_INT(fn->reserved_concurrency, -1);
	fn = config_function(cfg, "in-docker");
	CHECK_STR(fn->endpoint, "http://127.0.0.1:9000");
	CHECK_STR(fn->remote_name, "function");
	CHECK(fn->latest.runtime == NULL);
	CHECK_INT(fn->latest.timeout, 20);
	config_unref(cfg);
}

TEST(versions_are_full_snapshots_of_latest)
{
	struct config *cfg = load_full();
	const struct function_cfg *fn;
	const struct function_settings *v1, *v2;

	if (!cfg)
		return;
	fn = config_function(cfg, "api");
	CHECK_INT(fn->nversions, 2);
	v1 = &fn->versions[0].settings;
	v2 = &fn->versions[1].settings;
	CHECK_STR(fn->versions[0].version, "1");
	CHECK(abs_path_ends(v1->code, "functions/api-v1"));
	CHECK_STR(v1->handler, "index.handler");
	CHECK_INT(v1->memory_size, 256);
	CHECK_INT(v1->nenv, 1);
	CHECK_STR(v1->env[0].value, "v1");
	CHECK_INT(v1->nlayers, 1);
	CHECK_STR(fn->versions[1].version, "2");
	CHECK(abs_path_ends(v2->code, "functions/api"));
	CHECK_INT(v2->timeout, 10);
	CHECK_INT(v2->nenv, 2);
	CHECK_INT(fn->naliases, 1);
	CHECK_STR(fn->aliases[0].name, "live");
	CHECK_STR(fn->aliases[0].function_version, "1");
	CHECK_STR(fn->aliases[0].extra_version, "2");
	CHECK(fn->aliases[0].extra_weight > 0.0999 && fn->aliases[0].extra_weight < 0.1001);
	config_unref(cfg);
}

TEST(defaults_apply_when_keys_are_absent)
{
	struct config *cfg = load(LB_MIN);
	const struct lb_attributes *a;

	if (!cfg)
		return;
	a = &cfg->lb.attrs;
	CHECK_STR(cfg->lb.name, "local-alb");
	CHECK_STR(cfg->lb.region, "us-east-1");
	CHECK_STR(cfg->lb.account_id, "123456789012");
	CHECK(cfg->lb.access_log == NULL);
	CHECK_STR(cfg->lb.elb, "app/local-alb/44253f71b7117dc0");
	CHECK_INT(a->idle_timeout, 60);
	CHECK_INT(a->client_keep_alive, 3600);
	CHECK_INT(a->desync_mode, DESYNC_MODE_DEFENSIVE);
	CHECK_INT(a->xff_mode, XFF_APPEND);
	CHECK(!a->xff_client_port && !a->preserve_host && !a->drop_invalid_headers);
	CHECK(a->http2);   /* routing.http2.enabled defaults to true */
	CHECK_STR(cfg->listeners[0].address, "127.0.0.1");
	CHECK_INT(cfg->listeners[0].nrules, 0);
	CHECK(cfg->listeners[0].default_rule.action.fixed.content_type == NULL);
	CHECK_STR(cfg->listeners[0].default_rule.action.fixed.body, "");
	CHECK_INT(cfg->ntarget_groups, 0);
	CHECK_INT(cfg->nfunctions, 0);
	config_unref(cfg);
}

TEST(function_defaults_are_lambdas)
{
	struct config *cfg = load(LB_MIN "functions:\n"
				  "  - {name: f, runtime: python3.12, handler: app.h, code: "
				  "../functions/api}\n");
	const struct function_cfg *fn;

	if (!cfg)
		return;
	fn = &cfg->functions[0];
	CHECK_INT(fn->latest.timeout, 3);
	CHECK_INT(fn->latest.memory_size, 128);
	CHECK_INT(fn->reserved_concurrency, -1);
	CHECK_INT(fn->nversions, 0);
	CHECK_INT(fn->naliases, 0);
	config_unref(cfg);
}

TEST(event_invoke_config_defaults_and_destinations)
{
	struct config *cfg = load(LB_MIN "functions:\n"
				  "  - {name: f, runtime: python3.12, handler: app.h, code: ../functions/api}\n"
				  "  - name: g\n    runtime: python3.12\n    handler: app.h\n"
				  "    code: ../functions/api\n    event_invoke_config:\n"
				  "      maximum_retry_attempts: 0\n      maximum_event_age_in_seconds: 60\n"
				  "      destination_config:\n"
				  "        on_success: {destination: \"arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST\"}\n"
				  "        on_failure: {destination: \"file:out/failed.jsonl\"}\n");
	const struct event_invoke_cfg *a;

	if (!cfg)
		return;
	a = &cfg->functions[0].async;
	CHECK_INT(a->max_retries, 2);
	CHECK_INT(a->max_age, 21600);
	CHECK(!a->on_success.raw && !a->on_failure.raw);
	a = &cfg->functions[1].async;
	CHECK_INT(a->max_retries, 0);
	CHECK_INT(a->max_age, 60);
	CHECK_STR(a->on_success.function, "f");
	CHECK_STR(a->on_success.qualifier, "$LATEST");
	CHECK(!a->on_success.file);
	CHECK(!a->on_failure.function);
	CHECK(strstr(a->on_failure.file, "config/out/failed.jsonl") != NULL);
	config_unref(cfg);
}

TEST(event_invoke_config_errors_have_positions)
{
	CHECK_STR(load_err(LB_MIN "functions:\n"
			   "  - name: f\n    runtime: python3.12\n    handler: app.h\n"
			   "    code: ../functions/api\n    event_invoke_config:\n"
			   "      destination_config: {on_failure: {destination: g}}\n"),
		  C "10:54: destination function 'g' is not defined in functions");
	CHECK(strstr(load_err(LB_MIN "functions:\n"
			      "  - {name: f, runtime: python3.12, handler: app.h, code: ../functions/api,"
			      " event_invoke_config: {maximum_retry_attempts: 3}}\n"),
		     "maximum_retry_attempts") != NULL);
}

TEST(refs_keep_the_config_until_the_last_unref)
{
	struct config *cfg = load(LB_MIN);

	if (!cfg)
		return;
	CHECK(config_ref(cfg) == cfg);
	CHECK_INT(cfg->refs, 2);
	config_unref(cfg);
	CHECK_INT(cfg->refs, 1);
	CHECK_STR(cfg->lb.name, "local-alb");
	config_unref(cfg);
	config_unref(NULL);
}

TEST(summary_lists_rules_by_priority_then_default)
{
	struct config *cfg = load_full();
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	if (!cfg)
		return;
	out = open_memstream(&text, &len);
	config_summary(cfg, out);
	fclose(out);
	CHECK(strstr(text, "load balancer local-alb (app/local-alb/44253f71b7117dc0), eu-west-1, "
			   "account 210987654321\n"));
	CHECK(strstr(text, "listener http://127.0.0.1:8080\n"
			   "  10 path_pattern: /api/* AND http_header X-Env: beta AND "
			   "query_string: version=v1 AND host_header: *.example.com AND source_ip: "
			   "10.0.0.0/8 -> forward to api\n"
			   "  20 path_pattern: /shop/* -> forward to blue (weight 90), "
			   "green (weight 1), sticky for 3600s\n"
			   "  30 host_header: old.example.com -> redirect 301 to "
			   "#{protocol}://new.example.com:#{port}/#{path}?#{query}\n"
			   "  40 path_pattern: /health -> fixed-response 200 text/plain\n"
			   "  default -> fixed-response 404 text/plain\n"));
	CHECK(strstr(text, "target group api: lambda, multi-value headers, target api:live\n"));
	CHECK(strstr(text, "  alias live -> 1 (2 at 10%)\n"));
	CHECK(strstr(text, "function in-docker: endpoint http://127.0.0.1:9000 (invoked as "
			   "'function'), timeout 20s\n"));
	free(text);
	config_unref(cfg);
}

TEST(describe_condition_prints_keyless_query_and_ipv6)
{
	struct query_kv kv[] = { { NULL, "*legacy*" }, { "a", "b" } };
	struct cidr block = { .family = AF_INET6, .addr = { [15] = 1 }, .prefix = 128 };
	struct condition q = { .type = COND_QUERY_STRING, .nvalues = 2, .query = kv };
	struct condition ip = { .type = COND_SOURCE_IP, .nvalues = 1, .cidrs = &block };
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	config_describe_condition(&q, out);
	fputc('|', out);
	config_describe_condition(&ip, out);
	fclose(out);
	CHECK_STR(text, "query_string: (any key)=*legacy*, a=b|source_ip: ::1/128");
	free(text);
}

TEST(describe_action_shows_kept_components_as_placeholders)
{
	struct action redirect = { .type = ACTION_REDIRECT,
				   .redirect = { .protocol = "HTTPS", .port = "443", .query = "",
						 .status_code = 302 } };
	struct action fixed = { .type = ACTION_FIXED_RESPONSE, .fixed = { .status_code = 503 } };
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	config_describe_action(&redirect, out);
	fputc('|', out);
	config_describe_action(&fixed, out);
	fclose(out);
	CHECK_STR(text, "redirect 302 to HTTPS://#{host}:443/#{path}|fixed-response 503");
	free(text);
}

/* ---- load_balancer ----------------------------------------------------- */

TEST(unknown_key_in_load_balancer_is_an_error)
{
	CHECK_STR(load_err("load_balancer:\n  nmae: x\n" LB_MIN),
		  C "2:3: unknown key 'nmae' (did you mean 'name'?)");
}

TEST(attribute_out_of_aws_range_is_an_error)
{
	CHECK_STR(load_err("load_balancer:\n  attributes:\n    idle_timeout.timeout_seconds: 4001\n"
			   LB_MIN),
		  C "3:35: 'idle_timeout.timeout_seconds' must be between 1 and 4000, not 4001");
	CHECK_STR(load_err("load_balancer:\n  attributes: {client_keep_alive.seconds: \"59\"}\n"
			   LB_MIN),
		  C "2:43: 'client_keep_alive.seconds' must be between 60 and 604800, not 59");
}

TEST(attribute_that_is_not_an_integer_is_an_error)
{
	CHECK_STR(load_err("load_balancer:\n  attributes: {idle_timeout.timeout_seconds: 1m}\n"
			   LB_MIN),
		  C "2:46: 'idle_timeout.timeout_seconds' must be an integer, not '1m'");
}

TEST(desync_mode_must_be_one_of_awss)
{
	CHECK_STR(load_err("load_balancer:\n  attributes:\n"
			   "    routing.http.desync_mitigation_mode: paranoid\n" LB_MIN),
		  C "3:42: 'routing.http.desync_mitigation_mode' must be monitor, defensive or "
		    "strictest, not 'paranoid'");
}

TEST(boolean_attribute_accepts_only_true_or_false)
{
	CHECK_STR(load_err("load_balancer:\n  attributes:\n"
			   "    routing.http.xff_client_port.enabled: yes\n" LB_MIN),
		  C "3:43: 'routing.http.xff_client_port.enabled' must be true or false, "
		    "not 'yes'");
}

TEST(unknown_attribute_key_is_an_error)
{
	CHECK_STR(load_err("load_balancer:\n  attributes:\n    waf.fail_open.enabled: true\n"
			   LB_MIN),
		  C "3:5: unknown key 'waf.fail_open.enabled'");
}

TEST(account_id_must_be_twelve_digits)
{
	CHECK_STR(load_err("load_balancer: {account_id: 1234}\n" LB_MIN),
		  C "1:29: 'account_id' must be 12 digits, not '1234'");
}

TEST(load_balancer_name_follows_the_elb_name_rule)
{
	CHECK_STR(load_err("load_balancer: {name: my_alb}\n" LB_MIN),
		  C "1:23: load balancer name 'my_alb' must be 1-32 letters, digits or hyphens, "
		    "not starting or ending with a hyphen");
}

TEST(access_log_path_is_relative_to_the_config_file)
{
	struct config *cfg = load("load_balancer: {access_log: ../logs/access.log}\n" LB_MIN);

	if (!cfg)
		return;
	CHECK_STR(cfg->lb.access_log, "config/../logs/access.log");
	config_unref(cfg);
}

TEST(workers_default_number_and_auto)
{
	struct config *cfg = load(LB_MIN);

	if (!cfg)
		return;
	CHECK_INT(cfg->lb.workers, 1);
	config_unref(cfg);
	cfg = load("load_balancer: {workers: 4}\n" LB_MIN);
	if (!cfg)
		return;
	CHECK_INT(cfg->lb.workers, 4);
	config_unref(cfg);
	cfg = load("load_balancer: {workers: auto}\n" LB_MIN);
	if (!cfg)
		return;
	CHECK_INT(cfg->lb.workers, 0);
	config_unref(cfg);
}

TEST(workers_out_of_range_or_not_a_number)
{
	CHECK_STR(load_err("load_balancer: {workers: 65}\n" LB_MIN),
		  C "1:26: 'workers' must be a number from 1 to 64 or \"auto\"");
	CHECK_STR(load_err("load_balancer:\n  workers: two\n" LB_MIN),
		  C "2:12: 'workers' must be a number from 1 to 64 or \"auto\"");
}

/* ---- listeners ---------------------------------------------------------- */

TEST(https_listener_rejects_an_unknown_policy)
{
	CHECK_STR(load_err("listeners:\n  - port: 443\n    protocol: HTTPS\n"
			   "    ssl_policy: ELBSecurityPolicy-Nope\n" DEFAULT_ACTIONS),
		  C "4:17: unknown ssl_policy 'ELBSecurityPolicy-Nope' (AWS's names, e.g. "
		  "ELBSecurityPolicy-TLS13-1-2-2021-06)");
}

TEST(an_https_listener_refuses_a_redirect_to_http)
{
	/* RedirectActionConfig: "You cannot redirect HTTPS to HTTP" */
	CHECK_STR(load_err("listeners:\n  - port: 443\n    protocol: HTTPS\n    default_actions:\n"
			   "      - {type: redirect, redirect: {protocol: HTTP, status_code: HTTP_301}}\n"),
		  C "5:9: a redirect cannot go from HTTPS to HTTP");
	CHECK_STR(load_err("listeners:\n  - port: 443\n    protocol: HTTPS\n    default_actions:\n"
			   "      - {type: redirect, redirect: {protocol: HTTPS, status_code: HTTP_301}}\n"),
		  "(loaded)");
	CHECK_STR(load_err("listeners:\n  - port: 80\n    default_actions:\n"
			   "      - {type: redirect, redirect: {protocol: HTTP, port: \"81\", status_code: HTTP_301}}\n"),
		  "(loaded)");
}

TEST(listener_protocol_must_be_http_or_https)
{
	CHECK_STR(load_err("listeners:\n  - port: 80\n    protocol: http\n" DEFAULT_ACTIONS),
		  C "3:15: 'protocol' must be HTTP or HTTPS, not 'http'");
}

TEST(listener_port_is_required)
{
	CHECK_STR(load_err("listeners:\n  - address: 0.0.0.0\n" DEFAULT_ACTIONS),
		  C "2:5: missing key 'port'");
}

TEST(listener_port_must_fit_in_16_bits)
{
	CHECK_STR(load_err("listeners:\n  - port: 65536\n" DEFAULT_ACTIONS),
		  C "2:11: 'port' must be between 0 and 65535, not 65536");
}

TEST(quoted_port_reads_as_an_integer)
{
	struct config *cfg = load("listeners:\n  - port: \"9090\"\n" DEFAULT_ACTIONS);

	if (!cfg)
		return;
	CHECK_INT(cfg->listeners[0].port, 9090);
	config_unref(cfg);
}

TEST(listener_address_must_be_an_ip_address)
{
	CHECK_STR(load_err("listeners:\n  - port: 80\n    address: localhost\n" DEFAULT_ACTIONS),
		  C "3:14: 'address' must be an IPv4 or IPv6 address, not 'localhost'");
}

TEST(same_address_and_port_twice_is_an_error)
{
	CHECK_STR(load_err("listeners:\n  - port: 80\n" DEFAULT_ACTIONS
			   "  - port: 80\n    address: \"127.0.0.1\"\n" DEFAULT_ACTIONS),
		  C "4:11: listener 127.0.0.1:80 is already defined on line 2");
}

TEST(port_zero_may_repeat_and_other_addresses_may_share_a_port)
{
	struct config *cfg = load("listeners:\n  - port: 0\n" DEFAULT_ACTIONS "  - port: 0\n"
				  DEFAULT_ACTIONS "  - port: 80\n" DEFAULT_ACTIONS
				  "  - port: 80\n    address: \"::1\"\n" DEFAULT_ACTIONS);

	if (!cfg)
		return;
	CHECK_INT(cfg->nlisteners, 4);
	config_unref(cfg);
}

TEST(at_most_50_listeners)
{
	char text[16384];
	size_t n = 0;

	n += (size_t)snprintf(text + n, sizeof(text) - n, "listeners:\n");
	for (int i = 0; i < 51; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "  - {port: %d, default_actions: [{type: fixed-response, "
				      "fixed_response: {status_code: \"404\"}}]}\n", 8000 + i);
	CHECK_STR(load_err(text), C "52:5: a load balancer has at most 50 listeners");
}

TEST(default_actions_are_required)
{
	CHECK_STR(load_err("listeners:\n  - port: 80\n"), C "2:5: missing key 'default_actions'");
}

TEST(unknown_key_in_listener_is_an_error)
{
	CHECK_STR(load_err("listeners:\n  - port: 80\n    rule: [\"*.yaml\"]\n" DEFAULT_ACTIONS),
		  C "3:5: unknown key 'rule' (did you mean 'rules'?)");
}

TEST(listeners_must_be_a_list_of_mappings)
{
	CHECK_STR(load_err("listeners: [8080]\n"),
		  C "1:13: 'listeners' must be a list of mappings");
}

/* ---- lambda_api ---------------------------------------------------------- */

TEST(lambda_api_is_off_unless_configured)
{
	struct config *cfg = load(LB_MIN);

	if (!cfg)
		return;
	CHECK(!cfg->lambda_api.enabled);
	config_unref(cfg);
}

TEST(lambda_api_port_and_default_address)
{
	struct config *cfg = load(LB_MIN "lambda_api: {port: 9001}\n");

	if (!cfg)
		return;
	CHECK(cfg->lambda_api.enabled);
	CHECK_INT(cfg->lambda_api.port, 9001);
	CHECK_STR(cfg->lambda_api.address, "127.0.0.1");
	CHECK_INT(cfg->lambda_api.pos.line, 4);
	config_unref(cfg);
	cfg = load(LB_MIN "lambda_api:\n  port: 0\n  address: \"::1\"\n");
	if (!cfg)
		return;
	CHECK_INT(cfg->lambda_api.port, 0);
	CHECK_STR(cfg->lambda_api.address, "::1");
	config_unref(cfg);
}

TEST(lambda_api_needs_a_port_in_range)
{
	CHECK_STR(load_err(LB_MIN "lambda_api: {address: 127.0.0.1}\n"),
		  C "4:13: missing key 'port'");
	CHECK_STR(load_err(LB_MIN "lambda_api: {port: 70000}\n"),
		  C "4:20: 'port' must be between 0 and 65535, not 70000");
	CHECK_STR(load_err(LB_MIN "lambda_api: 9001\n"), C "4:13: 'lambda_api' must be a mapping");
}

TEST(lambda_api_unknown_key_is_an_error)
{
	CHECK_STR(load_err(LB_MIN "lambda_api:\n  port: 9001\n  adress: 127.0.0.1\n"),
		  C "6:3: unknown key 'adress' (did you mean 'address'?)");
}

TEST(lambda_api_address_must_be_an_ip_address)
{
	CHECK_STR(load_err(LB_MIN "lambda_api: {port: 9001, address: localhost}\n"),
		  C "4:35: 'address' must be an IPv4 or IPv6 address, not 'localhost'");
}

TEST(lambda_api_may_not_take_a_listeners_port)
{
	CHECK_STR(load_err(LB_MIN "lambda_api: {port: 8080}\n"),
		  C "4:20: 127.0.0.1:8080 is already the listener on line 2");
	CHECK_STR(load_err(LB_MIN "lambda_api: {port: 8080, address: \"::1\"}\n"), "(loaded)");
	CHECK_STR(load_err("listeners:\n  - port: 0\n" DEFAULT_ACTIONS "lambda_api: {port: 0}\n"),
		  "(loaded)");
}

/* ---- target groups ------------------------------------------------------ */

#define TG_FN                                                                              \
	"functions: [{name: api, runtime: nodejs20.x, handler: i.h, code: ../functions/api}]\n"

TEST(target_group_name_rule_is_awss)
{
	CHECK_STR(load_err(LB_MIN "target_groups: [{name: -api, target_type: lambda}]\n"),
		  C "4:24: target group name '-api' must be 1-32 letters, digits or hyphens, not "
		    "starting or ending with a hyphen");
	CHECK_STR(load_err(LB_MIN "target_groups: [{name: abcdefghijklmnopqrstuvwxyz0123456, "
			   "target_type: lambda}]\n"),
		  C "4:24: target group name 'abcdefghijklmnopqrstuvwxyz0123456' must be 1-32 "
		    "letters, digits or hyphens, not starting or ending with a hyphen");
}

TEST(target_group_names_are_unique)
{
	CHECK_STR(load_err(LB_MIN "target_groups:\n  - {name: api, target_type: lambda}\n"
			   "  - {name: api, target_type: lambda}\n"),
		  C "6:12: duplicate target group 'api' (first on line 5)");
}

TEST(alb_target_type_is_only_for_network_load_balancers)
{
	CHECK_STR(load_err(LB_MIN "target_groups: [{name: a, target_type: alb}]\n"),
		  C "4:40: target_type 'alb' is only for Network Load Balancers");
	CHECK_STR(load_err(LB_MIN "target_groups: [{name: a, target_type: lamda}]\n"),
		  C "4:40: 'target_type' must be instance, ip, lambda or alb, not 'lamda'");
}

TEST(target_type_is_required)
{
	CHECK_STR(load_err(LB_MIN "target_groups: [{name: a}]\n"),
		  C "4:17: missing key 'target_type'");
}

TEST(lambda_target_group_has_one_target)
{
	CHECK_STR(load_err(LB_MIN TG_FN "target_groups: [{name: a, target_type: lambda, "
			   "targets: [api, api]}]\n"),
		  C "5:63: a lambda target group has one target");
}

TEST(target_must_name_a_defined_function)
{
	CHECK_STR(load_err(LB_MIN TG_FN "target_groups: [{name: a, target_type: lambda, "
			   "targets: [web]}]\n"),
		  C "5:58: function 'web' is not defined");
}

TEST(target_qualifier_must_be_a_version_or_alias)
{
	CHECK_STR(load_err(LB_MIN TG_FN "target_groups: [{name: a, target_type: lambda, "
			   "targets: [\"api:live\"]}]\n"),
		  C "5:58: function 'api' has no version or alias 'live'");
}

TEST(latest_qualifier_means_no_qualifier)
{
	struct config *cfg = load(LB_MIN TG_FN "target_groups: [{name: a, target_type: lambda, "
				  "targets: [\"api:$LATEST\"]}]\n");

	if (!cfg)
		return;
	CHECK(cfg->target_groups[0].function == &cfg->functions[0]);
	CHECK(cfg->target_groups[0].qualifier == NULL);
	config_unref(cfg);
}

TEST(health_check_timeout_must_be_less_than_interval)
{
	CHECK_STR(load_err(LB_MIN "target_groups:\n  - name: a\n    target_type: lambda\n"
			   "    health_check: {interval: 30}\n"),
		  C "7:30: 'timeout' (30) must be less than 'interval' (30)");
	CHECK_STR(load_err(LB_MIN "target_groups:\n  - name: a\n    target_type: lambda\n"
			   "    health_check: {interval: 60, timeout: 60}\n"),
		  C "7:43: 'timeout' (60) must be less than 'interval' (60)");
}

TEST(health_check_ranges_are_awss)
{
	CHECK_STR(load_err(LB_MIN "target_groups:\n  - name: a\n    target_type: lambda\n"
			   "    health_check: {healthy_threshold: 11}\n"),
		  C "7:39: 'healthy_threshold' must be between 2 and 10, not 11");
}

TEST(health_check_matcher_is_codes_or_a_range_within_200_499)
{
	static const char *const bad[] = { "500", "200-", "200,", "299-200", "20x" };
	char text[512];

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		char want[256];

		snprintf(text, sizeof(text), LB_MIN "target_groups:\n  - name: a\n"
			 "    target_type: lambda\n    health_check: {matcher: \"%s\"}\n", bad[i]);
		snprintf(want, sizeof(want), C "7:29: 'matcher' must be HTTP codes 200-499 as "
			 "\"200\", \"200,202\" or \"200-299\", not '%s'", bad[i]);
		CHECK_STR(load_err(text), want);
	}
	CHECK_STR(load_err(LB_MIN "target_groups:\n  - name: a\n    target_type: lambda\n"
			   "    health_check: {enabled: true, matcher: \"200,202,404\"}\n"),
		  "(loaded)");
}

TEST(unknown_target_group_attribute_suggests_awss)
{
	CHECK_STR(load_err(LB_MIN "target_groups:\n  - name: a\n    target_type: lambda\n"
			   "    attributes: {lambda.multi_value_header.enabled: true}\n"),
		  C "7:18: unknown key 'lambda.multi_value_header.enabled' (did you mean "
		    "'lambda.multi_value_headers.enabled'?)");
}

TEST(at_most_100_target_groups)
{
	char text[16384];
	size_t n = (size_t)snprintf(text, sizeof(text), LB_MIN "target_groups:\n");

	for (int i = 0; i < 101; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "  - {name: tg%d, target_type: lambda}\n", i);
	CHECK_STR(load_err(text), C "105:5: a load balancer has at most 100 target groups");
}

/* ---- functions ---------------------------------------------------------- */

static const char *fn_err(const char *fn_yaml)
{
	char text[4096];

	snprintf(text, sizeof(text), LB_MIN "functions:\n%s", fn_yaml);
	return load_err(text);
}

#define F "  - name: f\n"
#define NODE "    runtime: nodejs20.x\n    handler: index.handler\n    code: ../functions/api\n"

TEST(unsupported_runtime_lists_the_accepted_ones)
{
	CHECK_STR(fn_err(F "    runtime: java21\n"),
		  C "6:14: runtime 'java21' is not supported (use nodejsNN.x, python3.N, "
		    "provided.al2023 or provided.al2)");
}

TEST(runtime_and_endpoint_exclude_each_other)
{
	CHECK_STR(fn_err(F NODE "    endpoint: http://127.0.0.1:9000\n"),
		  C "9:5: 'runtime' and 'endpoint' can't be used together");
	CHECK_STR(fn_err(F "    timeout: 3\n"), C "5:5: a function needs 'runtime', 'image' or 'endpoint'");
}

TEST(endpoint_function_allows_only_timeout_and_function_name)
{
	CHECK_STR(fn_err(F "    endpoint: http://127.0.0.1:9000\n    handler: x.y\n"),
		  C "7:5: 'handler' can't be used with 'endpoint'");
}

TEST(endpoint_must_be_an_http_url)
{
	static const char *const bad[] = { "ftp://x:1", "https://", "AWS", "http://", "http://:80", "http://h:0",
					   "http://h:99999", "http://[::1", "http://h:8x" };

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		char text[256], want[256];

		snprintf(text, sizeof(text), F "    endpoint: \"%s\"\n", bad[i]);
		snprintf(want, sizeof(want), C "6:15: 'endpoint' must be 'aws' or an http:// or https:// URL, not '%s'",
			 bad[i]);
		CHECK_STR(fn_err(text), want);
	}
	CHECK_STR(fn_err(F "    endpoint: http://[::1]:9000/base\n"), "(loaded)");
	CHECK_STR(fn_err(F "    endpoint: https://lambda.example:8443\n"), "(loaded)");
}

TEST(endpoint_aws_takes_a_region)
{
	struct config *cfg = load(LB_MIN "functions: [{name: f, endpoint: aws, region: eu-west-1,"
					 " function_name: \"arn:aws:lambda:eu-west-1:123456789012:function:f:live\"}]\n");

	if (cfg) {
		CHECK_STR(cfg->functions[0].endpoint, "aws");
		CHECK_STR(cfg->functions[0].region, "eu-west-1");
		config_unref(cfg);
	}
	CHECK_STR(fn_err(F "    endpoint: aws\n    region: EU West\n"),
		  C "7:13: 'region' must be a region name such as us-east-1, not 'EU West'");
	CHECK_STR(fn_err(F "    endpoint: http://h\n    region: us-east-1\n"),
		  C "7:13: 'region' is only for 'endpoint: aws'");
}

TEST(endpoint_remote_name_defaults_to_the_function_name)
{
	struct config *cfg = load(LB_MIN "functions: [{name: f, endpoint: \"http://h\"}]\n");

	if (!cfg)
		return;
	CHECK_STR(cfg->functions[0].remote_name, "f");
	CHECK_INT(cfg->functions[0].latest.timeout, 3);
	config_unref(cfg);
}

TEST(function_name_is_only_for_endpoints)
{
	CHECK_STR(fn_err(F NODE "    function_name: g\n"),
		  C "9:5: 'function_name' is only for endpoint functions");
}

TEST(nodejs_and_python_need_a_handler)
{
	CHECK_STR(fn_err(F "    runtime: python3.12\n    code: ../functions/api\n"),
		  C "5:5: missing key 'handler' (runtime 'python3.12' needs one)");
}

TEST(provided_runtime_runs_code_bootstrap_without_command)
{
	struct config *cfg = load(LB_MIN "functions: [{name: f, runtime: provided.al2, code: "
				  "../functions/legacy}]\n");

	if (!cfg)
		return;
	CHECK_INT(cfg->functions[0].latest.ncommand, 0);
	CHECK(cfg->functions[0].latest.handler == NULL);
	config_unref(cfg);
}

TEST(command_is_only_for_provided_runtimes)
{
	CHECK_STR(fn_err(F NODE "    command: [node, x.js]\n"),
		  C "9:5: 'command' is only for provided.* runtimes");
}

TEST(code_is_required_and_must_be_a_directory_or_a_zip)
{
	CHECK_STR(fn_err(F "    runtime: provided.al2\n"), C "5:5: missing key 'code'");
	CHECK_STR(fn_err(F "    runtime: provided.al2\n    code: ../functions/nope\n"),
		  C "7:11: cannot access 'config/../functions/nope': No such file or directory");
	CHECK_STR(fn_err(F "    runtime: provided.al2\n    code: lb.yaml\n"),
		  C "7:11: code 'lb.yaml': not a zip archive (no end of central directory record)");
	CHECK_STR(fn_err(F "    runtime: provided.al2\n    code: /dev/null\n"),
		  C "7:11: code '/dev/null' is neither a directory nor a .zip file");
}

/* Writes n bytes at path (put() stops at a NUL). */
static void put_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f) {
		perror(path);
		exit(1);
	}
	fwrite(p, 1, n, f);
	fclose(f);
}

/* Why: Lambda deploys a function's code as a .zip file; lb takes one too. */
TEST(code_may_be_a_zip_whose_central_directory_reads)
{
	/* An end of central directory record alone: a valid zip with no entries. */
	static const char empty[22] = "PK\5\6";
	/* One entry claimed, none there: the directory does not read. */
	static const char damaged[22] = "PK\5\6\0\0\0\0\1\0\1";
	struct config *cfg;

	put_bytes("fn.zip", empty, sizeof(empty));
	put_bytes("damaged.zip", damaged, sizeof(damaged));
	put_bytes("short.zip", empty, 21);
	cfg = load(LB_MIN "functions:\n  - {name: f, runtime: python3.12, handler: app.handler, "
		   "code: ../fn.zip, versions: [{version: 1, code: ../functions/api}]}\n");
	if (cfg) {
		const char *code = cfg->functions[0].latest.code;
		const char *v1 = cfg->functions[0].versions[0].settings.code;

		CHECK(code[0] == '/');   /* absolute: sandboxes run elsewhere */
		CHECK(strlen(code) > 7 && strcmp(code + strlen(code) - 7, "/fn.zip") == 0);
		CHECK(strlen(v1) > 14 && strcmp(v1 + strlen(v1) - 14, "/functions/api") == 0);
		config_unref(cfg);
	}
	CHECK_STR(fn_err(F "    runtime: provided.al2\n    code: ../damaged.zip\n"),
		  C "7:11: code '../damaged.zip': damaged zip archive (central directory entry out "
		    "of place)");
	CHECK_STR(fn_err(F "    runtime: provided.al2\n    code: ../short.zip\n"),
		  C "7:11: code '../short.zip': not a zip archive");
	unlink("fn.zip");
	unlink("damaged.zip");
	unlink("short.zip");
}

TEST(timeout_and_memory_follow_lambdas_ranges)
{
	CHECK_STR(fn_err(F NODE "    timeout: 901\n"),
		  C "9:14: 'timeout' must be between 1 and 900, not 901");
	CHECK_STR(fn_err(F NODE "    memory_size: 127\n"),
		  C "9:18: 'memory_size' must be between 128 and 10240, not 127");
	CHECK_STR(fn_err(F NODE "    reserved_concurrent_executions: -1\n"),
		  C "9:37: 'reserved_concurrent_executions' must be at least 0, not -1");
}

TEST(reserved_environment_variable_is_rejected)
{
	CHECK_STR(fn_err(F NODE "    environment: {variables: {AWS_REGION: eu-west-1}}\n"),
		  C "9:31: environment variable 'AWS_REGION' is reserved by Lambda");
}

TEST(environment_variable_name_must_start_with_a_letter)
{
	CHECK_STR(fn_err(F NODE "    environment: {variables: {1X: a}}\n"),
		  C "9:31: environment variable name '1X' must be a letter followed by letters, "
		    "digits or '_'");
	CHECK_STR(fn_err(F NODE "    environment: {vars: {X: a}}\n"),
		  C "9:19: unknown key 'vars' (it takes: variables)");
}

TEST(at_most_five_layers)
{
	CHECK_STR(fn_err(F NODE "    layers: [../layers/common, ../layers/common, "
			 "../layers/common, ../layers/common, ../layers/common, "
			 "../layers/common]\n"),
		  C "9:104: a function has at most 5 layers");
	CHECK_STR(fn_err(F NODE "    layers: [../layers/nope]\n"),
		  C "9:14: cannot access 'config/../layers/nope': No such file or directory");
	CHECK_STR(fn_err(F NODE "    layers: [lb.yaml]\n"),
		  C "9:14: layer 'lb.yaml' is neither a directory nor a .zip file");
}

TEST(version_must_be_a_positive_integer_and_unique)
{
	CHECK_STR(fn_err(F NODE "    versions: [{version: \"0\"}]\n"),
		  C "9:26: 'version' must be a positive integer, not '0'");
	CHECK_STR(fn_err(F NODE "    versions: [{version: v1}]\n"),
		  C "9:26: 'version' must be a positive integer, not 'v1'");
	CHECK_STR(fn_err(F NODE "    versions:\n      - {version: 1}\n      - {version: 1}\n"),
		  C "11:19: duplicate version '1' (first on line 10)");
}

TEST(unknown_key_in_version_is_an_error)
{
	CHECK_STR(fn_err(F NODE "    versions: [{version: 1, "
			 "reserved_concurrent_executions: 2}]\n"),
		  C "9:29: unknown key 'reserved_concurrent_executions'");
}

TEST(alias_name_follows_lambdas_rule)
{
	CHECK_STR(fn_err(F NODE "    aliases: [{name: \"123\", function_version: $LATEST}]\n"),
		  C "9:22: alias name '123' must be 1-128 letters, digits, '-' or '_', and not all "
		    "digits");
	CHECK_STR(fn_err(F NODE "    aliases: [{name: $LATEST, function_version: $LATEST}]\n"),
		  C "9:22: '$LATEST' can't be an alias name");
	CHECK_STR(fn_err(F NODE "    aliases:\n      - {name: a, function_version: $LATEST}\n"
			 "      - {name: a, function_version: $LATEST}\n"),
		  C "11:16: duplicate alias 'a' (first on line 10)");
}

TEST(alias_must_point_at_an_existing_version)
{
	CHECK_STR(fn_err(F NODE "    aliases: [{name: live, function_version: \"3\"}]\n"),
		  C "9:46: function 'f' has no version '3'");
}

TEST(alias_routing_config_rules)
{
	CHECK_STR(fn_err(F NODE "    versions: [{version: 1}, {version: 2}, {version: 3}]\n"
			 "    aliases: [{name: a, function_version: \"1\", routing_config: "
			 "{additional_version_weights: {\"2\": 0.5, \"3\": 0.1}}}]\n"),
		  C "10:104: an alias routes to at most one additional version");
	CHECK_STR(fn_err(F NODE "    versions: [{version: 1}]\n"
			 "    aliases: [{name: a, function_version: \"1\", routing_config: "
			 "{additional_version_weights: {\"1\": 0.5}}}]\n"),
		  C "10:94: the additional version must differ from function_version '1'");
	CHECK_STR(fn_err(F NODE "    versions: [{version: 1}, {version: 2}]\n"
			 "    aliases: [{name: a, function_version: \"1\", routing_config: "
			 "{additional_version_weights: {\"2\": 1.5}}}]\n"),
		  C "10:99: weight must be between 0.0 and 1.0, not '1.5'");
	CHECK_STR(fn_err(F NODE "    versions: [{version: 1}]\n"
			 "    aliases: [{name: a, function_version: \"1\", routing_config: "
			 "{additional_version_weights: {\"7\": 0.5}}}]\n"),
		  C "10:94: function 'f' has no version '7'");
}

TEST(function_names_are_lambda_names_and_unique)
{
	CHECK_STR(fn_err("  - {name: my.fn, endpoint: \"http://h\"}\n"),
		  C "5:12: function name 'my.fn' must be 1-64 letters, digits, '-' or '_'");
	CHECK_STR(fn_err("  - {name: a, endpoint: \"http://h\"}\n  - {name: a, endpoint: "
			 "\"http://h\"}\n"),
		  C "6:12: duplicate function 'a' (first on line 5)");
}

TEST(unknown_keys_are_errors_in_target_groups_and_functions)
{
	CHECK_STR(load_err(LB_MIN TG_FN "target_groups: [{name: a, target_type: lambda, target: "
			   "[api]}]\n"),
		  C "5:48: unknown key 'target' (did you mean 'targets'?)");
	CHECK_STR(load_err(LB_MIN TG_FN "target_groups: [{name: a, target_type: lambda, "
			   "health_check: {intervall: 10}}]\n"),
		  C "5:63: unknown key 'intervall' (did you mean 'interval'?)");
	CHECK_STR(fn_err(F NODE "    handlr: x\n"),
		  C "9:5: unknown key 'handlr' (did you mean 'handler'?)");
	CHECK_STR(fn_err(F NODE "    aliases: [{name: a, function_version: $LATEST, "
			 "description: x}]\n"),
		  C "9:52: unknown key 'description' (it takes: name, function_version, "
		    "routing_config, provisioned_concurrent_executions)");
	CHECK_STR(fn_err(F NODE "    aliases: [{name: a, function_version: $LATEST, "
			 "routing_config: {weights: {}}}]\n"),
		  C "9:69: unknown key 'weights' (it takes: additional_version_weights)");
}

/* ---- rule files --------------------------------------------------------- */

TEST(wildcard_matching_nothing_loads_no_rules)
{
	clear_rules();
	CHECK_STR(load_err(RULES_LB), "(loaded)");
}

TEST(plain_rule_path_naming_no_file_is_an_error)
{
	clear_rules();
	CHECK_STR(load_err("listeners:\n  - port: 8080\n    rules: [\"../rules/api.yaml\"]\n" DEFAULT_ACTIONS),
		  C "3:13: '../rules/api.yaml' matches no file");
}

TEST(rule_file_for_a_port_no_listener_has_is_an_error)
{
	CHECK_STR(rules_err("listener: 9090\nrules: []\n"),
		  R "1:11: no listener with port 9090 loads this file");
}

TEST(rule_files_go_to_the_listener_they_name)
{
	struct config *cfg;

	clear_rules();
	put("rules/a.yaml", "listener: 8080\nrules:\n  - {priority: 1, conditions: [" PATH_A "], "
			    "actions: [" FWD "]}\n");
	put("rules/b.yaml", "listener: 8081\nrules:\n  - {priority: 2, conditions: [" PATH_A "], "
			    "actions: [" FWD "]}\n");
	put("rules/c.yaml", "rules:\n  - {priority: 3, conditions: [" PATH_A "], actions: [" FWD
			    "]}\n");
	cfg = load("listeners:\n"
		   "  - port: 8080\n"
		   "    rules: [\"../rules/*.yaml\", \"../rules/a.yaml\"]\n" DEFAULT_ACTIONS
		   "  - port: 8081\n"
		   "    rules: [\"../rules/*.yaml\"]\n" DEFAULT_ACTIONS
		   "target_groups: [{name: api, target_type: lambda}]\n");
	if (!cfg)
		return;
	CHECK_INT(cfg->listeners[0].nrules, 2);
	CHECK_INT(cfg->listeners[0].rules[0].priority, 1);
	CHECK_INT(cfg->listeners[0].rules[1].priority, 3);
	CHECK_INT(cfg->listeners[1].nrules, 2);
	CHECK_INT(cfg->listeners[1].rules[0].priority, 2);
	CHECK_INT(cfg->listeners[1].rules[1].priority, 3);
	config_unref(cfg);
}

TEST(glob_takes_the_config_directory_literally)
{
	struct config *cfg;

	if (mkdir("odd[1]", 0755) || mkdir("odd1", 0755))
		return;
	put("odd[1]/lb.yaml",
	    "listeners:\n  - port: 80\n    rules: [\"r*.yaml\"]\n" DEFAULT_ACTIONS);
	put("odd[1]/r1.yaml", "rules: [{priority: 1, conditions: [" PATH_A "], actions: "
			      "[{type: fixed-response, fixed_response: {status_code: 200}}]}]\n");
	put("odd1/r2.yaml", "rules: []\n");
	cfg = config_load("odd[1]/lb.yaml", &err);
	CHECK(cfg != NULL);
	if (!cfg)
		return;
	CHECK(cfg->dir[0] == '/' && strcmp(cfg->dir + strlen(cfg->dir) - 7, "/odd[1]") == 0);
	CHECK_INT(cfg->listeners[0].nrules, 1);
	CHECK_STR(cfg->listeners[0].rules[0].pos.file, "odd[1]/r1.yaml");
	config_unref(cfg);
}

TEST(rules_from_several_files_are_sorted_by_priority)
{
	struct config *cfg;

	clear_rules();
	put("rules/a.yaml", "rules:\n"
			    "  - {priority: 30, conditions: [" PATH_A "], actions: [" FWD "]}\n"
			    "  - {priority: 5, conditions: [" PATH_A "], actions: [" FWD "]}\n");
	put("rules/b.yaml", "rules:\n  - {priority: 7, conditions: [" PATH_A "], actions: [" FWD
			    "]}\n");
	cfg = load(RULES_LB);
	if (!cfg)
		return;
	CHECK_INT(cfg->listeners[0].nrules, 3);
	CHECK_INT(cfg->listeners[0].rules[0].priority, 5);
	CHECK_INT(cfg->listeners[0].rules[1].priority, 7);
	CHECK_STR(cfg->listeners[0].rules[1].pos.file, "config/../rules/b.yaml");
	CHECK_INT(cfg->listeners[0].rules[2].priority, 30);
	config_unref(cfg);
}

TEST(rule_file_needs_rules)
{
	CHECK_STR(rules_err("listener: 8080\n"), R "1:1: missing key 'rules'");
	CHECK_STR(rules_err("rules: []\nlistner: 8080\n"),
		  R "2:1: unknown key 'listner' (did you mean 'listener'?)");
}

TEST(duplicate_priority_names_both_positions)
{
	CHECK_STR(rules_err("rules:\n"
			    "  - {priority: 10, conditions: [" PATH_A "], actions: [" FWD "]}\n"
			    "  - {priority: 10, conditions: [" PATH_A "], actions: [" FWD "]}\n"),
		  R "3:16: duplicate priority 10 (also at config/../rules/r.yaml:2:5)");
}

TEST(priority_is_required_and_within_1_50000)
{
	CHECK_STR(rules_err("rules:\n  - {conditions: [" PATH_A "], actions: [" FWD "]}\n"),
		  R "2:5: missing key 'priority'");
	CHECK_STR(rules_err("rules:\n  - {priority: 0, conditions: [" PATH_A "], actions: [" FWD
			    "]}\n"),
		  R "2:16: 'priority' must be between 1 and 50000, not 0");
	CHECK_STR(rules_err("rules:\n  - {priority: 50001, conditions: [" PATH_A "], actions: ["
			    FWD "]}\n"),
		  R "2:16: 'priority' must be between 1 and 50000, not 50001");
}

TEST(unknown_key_in_rule_suggests_priority)
{
	CHECK_STR(rules_err("rules:\n  - {prority: 1, conditions: [" PATH_A "], actions: [" FWD
			    "]}\n"),
		  R "2:6: unknown key 'prority' (did you mean 'priority'?)");
}

TEST(at_most_100_rules_per_load_balancer)
{
	char text[32768];
	size_t n = (size_t)snprintf(text, sizeof(text), "rules:\n");

	for (int i = 1; i <= 101; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "  - {priority: %d, conditions: [" PATH_A "], actions: [" FWD
				      "]}\n", i);
	CHECK_STR(rules_err(text),
		  R "102:16: a load balancer has at most 100 rules (default rules excluded)");
}

TEST(an_empty_transforms_list_is_no_transform)
{
	/* The rest of transforms is in test_rules_regex.c. */
	CHECK_STR(rules_err("rules:\n  - priority: 1\n    conditions: [" PATH_A "]\n"
			    "    actions: [" FWD "]\n    transforms: []\n"),
		  "(loaded)");
}

/* ---- conditions --------------------------------------------------------- */

TEST(a_rule_needs_a_condition)
{
	CHECK_STR(rules_err("rules:\n  - {priority: 1, conditions: [], actions: [" FWD "]}\n"),
		  R "2:31: a rule needs at least one condition");
}

TEST(condition_has_exactly_one_key)
{
	CHECK_STR(rule_err("{path_pattern: {values: [/a]}, host_header: {values: [a.b]}}", FWD),
		  R "4:9: a condition has exactly one key: host_header, path_pattern, "
		    "http_header, http_request_method, query_string or source_ip");
}

TEST(unknown_condition_type_suggests_the_snake_case_key)
{
	CHECK_STR(rule_err("host-header: {values: [a.b]}", FWD),
		  R "4:9: unknown key 'host-header' (did you mean 'host_header'?)");
}

TEST(at_most_one_path_pattern_per_rule)
{
	CHECK_STR(rules_err("rules:\n  - priority: 1\n    conditions:\n      - " PATH_A "\n"
			    "      - " PATH_A "\n    actions: [" FWD "]\n"),
		  R "5:9: a rule has at most one path_pattern condition");
}

TEST(http_header_conditions_may_repeat)
{
	CHECK_STR(rules_err("rules:\n  - priority: 1\n    conditions:\n"
			    "      - http_header: {http_header_name: A, values: [x]}\n"
			    "      - http_header: {http_header_name: B, values: [y]}\n"
			    "    actions: [" FWD "]\n"),
		  "(loaded)");
}

TEST(at_most_three_values_per_condition)
{
	CHECK_STR(rule_err("path_pattern: {values: [/a, /b, /c, /d]}", FWD),
		  R "4:45: a path_pattern condition has at most 3 values");
}

TEST(source_ip_takes_up_to_five_values)
{
	CHECK_STR(rule_err("source_ip: {values: [10.0.0.0/8, 10.0.0.1/32, 10.0.0.2/32, "
			   "10.0.0.3/32, 10.0.0.4/32]}", FWD),
		  "(loaded)");
	CHECK_STR(rule_err("source_ip: {values: [1.0.0.0/8, 2.0.0.0/8, 3.0.0.0/8, 4.0.0.0/8, "
			   "5.0.0.0/8, 6.0.0.0/8]}", FWD),
		  R "4:85: a source_ip condition has at most 5 values");
}

TEST(at_most_five_condition_values_per_rule)
{
	CHECK_STR(rules_err("rules:\n  - priority: 1\n    conditions:\n"
			    "      - path_pattern: {values: [/a, /b, /c]}\n"
			    "      - host_header: {values: [a.com, b.com, c.com]}\n"
			    "    actions: [" FWD "]\n"),
		  R "5:46: a rule has at most 5 condition values");
}

TEST(at_most_five_wildcards_per_rule)
{
	CHECK_STR(rules_err("rules:\n  - priority: 1\n    conditions:\n"
			    "      - path_pattern: {values: [\"/a*/*?\"]}\n"
			    "      - host_header: {values: [\"*.a??.com\"]}\n"
			    "    actions: [" FWD "]\n"),
		  R "5:32: a rule has at most 5 wildcards ('*' or '?')");
}

TEST(escaped_query_wildcards_do_not_count)
{
	CHECK_STR(rule_err("query_string: {values: [{key: \"a\\\\*\\\\?\", "
			   "value: \"*\\\\*\\\\?*\"}, {value: \"**\"}]}", FWD),
		  "(loaded)");
	CHECK_STR(rule_err("query_string: {values: [{key: \"a*\", value: \"*?*\"}, "
			   "{value: \"**\"}]}", FWD),
		  R "4:68: a rule has at most 5 wildcards ('*' or '?')");
}

TEST(condition_values_cannot_be_empty)
{
	CHECK_STR(rule_err("query_string: {values: [{value: \"\"}]}", FWD),
		  R "4:41: condition values can't be empty");
	CHECK_STR(rule_err("path_pattern: {values: []}", FWD),
		  R "4:32: 'values' needs at least one value");
	CHECK_STR(rule_err("path_pattern: {}", FWD), R "4:23: missing key 'values'");
}

TEST(host_header_syntax_is_albs)
{
	CHECK_STR(rule_err("host_header: {values: [localhost]}", FWD),
		  R "4:32: host_header value 'localhost' needs a '.'");
	CHECK_STR(rule_err("host_header: {values: [a.com1]}", FWD),
		  R "4:32: host_header value 'a.com1' must end in letters after its last '.'");
	CHECK_STR(rule_err("host_header: {values: [\"a_b.com\"]}", FWD),
		  R "4:32: host_header value 'a_b.com' may hold only letters, digits, '-', '.', "
		    "'*' and '?'");
	CHECK_STR(rule_err("host_header: {values: [\"api.example.*\"]}", FWD), "(loaded)");
}

TEST(path_pattern_syntax_and_length_are_albs)
{
	char cond[512];

	CHECK_STR(rule_err("path_pattern: {values: [\"/a b\"]}", FWD),
		  R "4:33: path_pattern value '/a b' may hold only letters, digits and "
		    "_-.$/~\"'@:+&*?%");
	/* Percent-encoded paths are written as such (reference §1.3). */
	CHECK_STR(rule_err("path_pattern: {values: [\"/caf%C3%A9\"]}", FWD), "(loaded)");
	snprintf(cond, sizeof(cond), "path_pattern: {values: [/%0128d]}", 0);
	CHECK_STR(rule_err(cond, FWD), R "4:33: path_pattern values are at most 128 characters");
}

TEST(http_header_name_rules)
{
	CHECK_STR(rule_err("http_header: {http_header_name: Host, values: [a]}", FWD),
		  R "4:41: http_header can't match 'Host': use host_header");
	CHECK_STR(rule_err("http_header: {http_header_name: \"X-*\", values: [a]}", FWD),
		  R "4:41: 'http_header_name' must be 1-40 token characters without wildcards, "
		    "not 'X-*'");
	CHECK_STR(rule_err("http_header: {values: [a]}", FWD),
		  R "4:22: missing key 'http_header_name'");
	CHECK_STR(rule_err("http_header: {http_header_name: A, values: [\"a\\tb\"]}", FWD),
		  R "4:53: http_header values must be visible ASCII");
}

TEST(http_request_method_is_upper_case)
{
	CHECK_STR(rule_err("http_request_method: {values: [get]}", FWD),
		  R "4:40: http_request_method value 'get' may hold only A-Z, '-' and '_'");
}

TEST(source_ip_is_a_cidr_block_with_host_bits_masked)
{
	struct config *cfg;

	CHECK_STR(rule_err("source_ip: {values: [10.0.0.1]}", FWD),
		  R "4:30: source_ip value '10.0.0.1' must be an IPv4 or IPv6 CIDR block");
	CHECK_STR(rule_err("source_ip: {values: [\"::1/129\"]}", FWD),
		  R "4:30: source_ip value '::1/129' must be an IPv4 or IPv6 CIDR block");
	CHECK_STR(rule_err("source_ip: {values: [255.255.255.255/32]}", FWD),
		  R "4:30: source_ip value '255.255.255.255/32' is not allowed");
	CHECK_STR(rule_err("source_ip: {values: [\"2001:db8::ff/32\"]}", FWD), "(loaded)");
	cfg = load(RULES_LB);
	if (!cfg)
		return;
	CHECK_INT(cfg->listeners[0].rules[0].conditions[0].cidrs[0].family, AF_INET6);
	CHECK(memcmp(cfg->listeners[0].rules[0].conditions[0].cidrs[0].addr,
		     "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0);
	config_unref(cfg);
}

TEST(regex_values_only_on_host_path_and_header)
{
	/* The rest of regex_values is in test_rules_regex.c. */
	CHECK_STR(rule_err("path_pattern: {regex_values: [\"^/a$\"]}", FWD), "(loaded)");
	CHECK_STR(rule_err("query_string: {regex_values: [a]}", FWD),
		  R "4:24: unknown key 'regex_values' (it takes: values)");
}

TEST(unknown_keys_are_errors_in_conditions_and_actions)
{
	static const struct {
		const char *cond, *action, *want;
	} cases[] = {
		{ "query_string: {values: [{key: a, val: b}]}", FWD,
		  R "4:42: unknown key 'val' (did you mean 'value'?)" },
		{ PATH_A, "{type: forward, target_group: api, weight: 1}",
		  R "6:44: unknown key 'weight'" },
		{ PATH_A, "{type: forward, forward: {target_groups: [{name: api}], sticky: "
			  "{enabled: false}}}",
		  R "6:65: unknown key 'sticky' (it takes: target_groups, stickiness)" },
		{ PATH_A, "{type: forward, forward: {target_groups: [{name: api, weigth: 2}]}}",
		  R "6:63: unknown key 'weigth' (did you mean 'weight'?)" },
		{ PATH_A, "{type: forward, forward: {target_groups: [{name: api}], stickiness: "
			  "{enabled: true, duration_seconds: 60}}}",
		  R "6:93: unknown key 'duration_seconds' (it takes: enabled, duration)" },
		{ PATH_A, REDIRECT_OF("hostname: a.com, status_code: HTTP_301"),
		  R "6:37: unknown key 'hostname' (it takes: protocol, port, host, path, query, "
		    "status_code)" },
		{ PATH_A, "{type: fixed-response, fixed_response: {status_code: 200, body: x}}",
		  R "6:67: unknown key 'body' (it takes: status_code, content_type, message_body)" },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		CHECK_STR(rule_err(cases[i].cond, cases[i].action), cases[i].want);
}

/* ---- actions ------------------------------------------------------------ */

#define OIDC "{type: authenticate-oidc, authenticate_oidc: {issuer: https://idp, " \
	"authorization_endpoint: https://idp/auth, token_endpoint: https://idp/token, " \
	"user_info_endpoint: https://idp/me, client_id: c%s}}"

TEST(jwt_validation_alone_is_no_routing_action)
{
	/* jwt-validation is supported (test_jwt.c); alone it is no routing action. */
	CHECK_STR(rule_err(PATH_A, "{type: jwt-validation}"), R "6:9: missing key 'jwt_validation'");
}

TEST(authenticate_actions_need_their_config)
{
	CHECK_STR(rule_err(PATH_A, "{type: authenticate-oidc}"),
		  R "6:9: missing key 'authenticate_oidc'");
	CHECK_STR(rule_err(PATH_A, "{type: authenticate-oidc, authenticate_oidc: {client_id: c}}"),
		  R "6:54: missing key 'issuer'");
	CHECK_STR(rule_err(PATH_A, "{type: authenticate-cognito, authenticate_cognito: "
			   "{user_pool_arn: nope, user_pool_client_id: c, user_pool_domain: d}}"),
		  R "6:76: 'user_pool_arn' must be arn:aws:cognito-idp:REGION:ACCOUNT:userpool/"
		    "POOL_ID, not 'nope'");
}

TEST(authenticate_oidc_fields_are_checked)
{
	char a[1024];

	snprintf(a, sizeof(a), OIDC, ", on_unauthenticated_request: maybe");
	CHECK_STR(rule_err(PATH_A, a), R "6:231: 'on_unauthenticated_request' must be "
		  "authenticate, deny or allow, not 'maybe'");
	snprintf(a, sizeof(a), OIDC, ", session_timeout: 604801");
	CHECK_STR(rule_err(PATH_A, a), R "6:220: 'session_timeout' must be between 1 and 604800, "
		  "not 604801");
	snprintf(a, sizeof(a), OIDC, ", session_cookie_name: 'a;b'");
	CHECK_STR(rule_err(PATH_A, a), R "6:224: 'session_cookie_name' must be a cookie name, "
		  "not 'a;b'");
}

TEST(an_authenticate_action_needs_a_routing_action_after_it)
{
	char a[1024];

	snprintf(a, sizeof(a), OIDC, "");
	CHECK_STR(rule_err(PATH_A, a), R "6:7: 'actions' needs a routing action (forward, "
		  "redirect or fixed-response)");
}

TEST(authenticate_actions_need_an_https_listener)
{
	char a[1024], b[1100];

	snprintf(a, sizeof(a), OIDC, "");
	snprintf(b, sizeof(b), "%s\n      - " FWD, a);
	CHECK_STR(rule_err(PATH_A, b), R "6:54: authentication actions need an HTTPS listener");
}

TEST(unknown_action_type_lists_awss)
{
	CHECK_STR(rule_err(PATH_A, "{type: fixed_response}"),
		  R "6:16: 'type' must be forward, redirect, fixed-response, authenticate-oidc, "
		    "authenticate-cognito or jwt-validation, not 'fixed_response'");
}

TEST(a_second_routing_action_is_an_error)
{
	CHECK_STR(rules_err("rules:\n  - priority: 1\n    conditions: [" PATH_A "]\n    actions:\n"
			    "      - " FWD "\n      - {type: fixed-response, order: 2, "
			    "fixed_response: {status_code: 503}}\n"),
		  R "6:9: a rule has exactly one routing action (forward, redirect or "
		    "fixed-response)");
}

TEST(action_order_is_within_1_50000)
{
	CHECK_STR(rule_err(PATH_A, "{type: forward, order: 0, target_group: api}"),
		  R "6:32: 'order' must be between 1 and 50000, not 0");
}

TEST(action_configuration_must_match_its_type)
{
	CHECK_STR(rule_err(PATH_A, "{type: forward, target_group: api, redirect: {}}"),
		  R "6:44: 'redirect' can't be used with type 'forward'");
	CHECK_STR(rule_err(PATH_A, "{type: redirect, target_group: api}"),
		  R "6:26: 'target_group' can't be used with type 'redirect'");
	CHECK_STR(rule_err(PATH_A, "{type: redirect}"), R "6:9: missing key 'redirect'");
	CHECK_STR(rule_err(PATH_A, "{type: forward}"),
		  R "6:9: a forward action needs 'target_group' or 'forward'");
}

TEST(fixed_response_rules_are_albs)
{
	char action[2048];

	CHECK_STR(rule_err(PATH_A, "{type: fixed-response, fixed_response: {status_code: 302}}"),
		  R "6:62: 'status_code' must be a 2XX, 4XX or 5XX code, not '302'");
	CHECK_STR(rule_err(PATH_A, "{type: fixed-response, fixed_response: {status_code: 2000}}"),
		  R "6:62: 'status_code' must be a 2XX, 4XX or 5XX code, not '2000'");
	CHECK_STR(rule_err(PATH_A, "{type: fixed-response, fixed_response: {status_code: 200, "
				   "content_type: text/xml}}"),
		  R "6:81: 'content_type' must be text/plain, text/css, text/html, "
		    "application/javascript or application/json, not 'text/xml'");
	snprintf(action, sizeof(action), "{type: fixed-response, fixed_response: {status_code: "
		 "200, message_body: %01025d}}", 0);
	CHECK_STR(rule_err(PATH_A, action), R "6:81: 'message_body' must be at most 1024 bytes");
	action[strlen(action) - 4] = '\0';
	strcat(action, "}}");
	CHECK_STR(rule_err(PATH_A, action), "(loaded)");
}

TEST(redirect_status_code_is_required_and_301_or_302)
{
	CHECK_STR(rule_err(PATH_A, REDIRECT_OF("host: a.com")),
		  R "6:36: missing key 'status_code'");
	CHECK_STR(rule_err(PATH_A, REDIRECT_OF("host: a.com, status_code: HTTP_303")),
		  R "6:63: 'status_code' must be HTTP_301 or HTTP_302, not 'HTTP_303'");
}

TEST(redirect_that_changes_nothing_would_loop)
{
	CHECK_STR(rule_err(PATH_A, REDIRECT_OF("query: \"x=1\", status_code: HTTP_302")),
		  R "6:36: redirect would loop: change the protocol, host, port or path");
	CHECK_STR(rule_err(PATH_A, REDIRECT_OF("host: \"#{host}\", path: \"/#{path}\", "
					    "status_code: HTTP_302")),
		  R "6:36: redirect would loop: change the protocol, host, port or path");
	CHECK_STR(rule_err(PATH_A, REDIRECT_OF("protocol: HTTPS, status_code: HTTP_301")),
		  "(loaded)");
}

TEST(redirect_components_follow_albs_syntax)
{
	CHECK_STR(rule_err(PATH_A, REDIRECT_OF("protocol: https, status_code: HTTP_301")),
		  R "6:47: 'protocol' must be HTTP, HTTPS or #{protocol}, not 'https'");
	CHECK_STR(rule_err(PATH_A, REDIRECT_OF("port: 0, status_code: HTTP_301")),
		  R "6:43: 'port' must be 1-65535 or #{port}, not '0'");
	CHECK_STR(rule_err(PATH_A, REDIRECT_OF("path: new, status_code: HTTP_301")),
		  R "6:43: 'path' must be an absolute path starting with '/', not 'new'");
	CHECK_STR(rule_err(PATH_A, REDIRECT_OF("port: 443, query: \"?a\", status_code: HTTP_301")),
		  R "6:55: 'query' must be given without the leading '?', not '?a'");
	CHECK_STR(rule_err(PATH_A, REDIRECT_OF("host: \"#{query}.a.com\", status_code: HTTP_301")),
		  R "6:43: placeholder '#{query}' can't be used in 'host'");
	CHECK_STR(rule_err(PATH_A, REDIRECT_OF("host: \"a.com\\r\\nSet-Cookie: x=1\", status_code: HTTP_301")),
		  R "6:43: 'host' holds a control character (byte 6)");
	CHECK_STR(rule_err(PATH_A, REDIRECT_OF("path: \"/a\\tb\", status_code: HTTP_301")),
		  R "6:43: 'path' holds a control character (byte 3)");
	CHECK_STR(rule_err(PATH_A, REDIRECT_OF("path: \"/#{path}\", "
					       "query: \"p=#{path}&h=#{host}\", port: \"8443\", "
					       "status_code: HTTP_301")),
		  "(loaded)");
}

TEST(forward_names_defined_target_groups)
{
	CHECK_STR(rule_err(PATH_A, "{type: forward, target_group: nope}"),
		  R "6:39: target group 'nope' is not defined");
	CHECK_STR(rule_err(PATH_A, "{type: forward, forward: {target_groups: [{name: api}, "
				   "{name: api}]}}"),
		  R "6:71: target group 'api' is listed twice");
}

TEST(forward_weights_and_group_count_are_albs)
{
	CHECK_STR(rule_err(PATH_A, "{type: forward, forward: {target_groups: [{name: api, "
				   "weight: 1000}]}}"),
		  R "6:71: 'weight' must be between 0 and 999, not 1000");
	CHECK_STR(rule_err(PATH_A, "{type: forward, forward: {target_groups: []}}"),
		  R "6:50: 'target_groups' must list 1-5 target groups");
}

TEST(stickiness_needs_a_duration_when_enabled)
{
	CHECK_STR(rule_err(PATH_A, "{type: forward, forward: {target_groups: [{name: api}], "
				   "stickiness: {enabled: true}}}"),
		  R "6:77: missing key 'duration' (stickiness is enabled)");
	CHECK_STR(rule_err(PATH_A, "{type: forward, forward: {target_groups: [{name: api}], "
				   "stickiness: {enabled: true, duration: 604801}}}"),
		  R "6:103: 'duration' must be between 1 and 604800, not 604801");
}

TEST(target_group_with_forward_must_be_its_only_group)
{
	CHECK_STR(rule_err(PATH_A, "{type: forward, target_group: api, forward: "
				   "{target_groups: [{name: web}]}}"),
		  R "6:39: with 'target_group', 'forward' must list only 'api'");
	CHECK_STR(rule_err(PATH_A, "{type: forward, target_group: api, forward: "
				   "{target_groups: [{name: api, weight: 5}]}}"),
		  "(loaded)");
}

TEST(image_function_takes_image_config_and_no_runtime_keys)
{
	struct config *cfg = load(LB_MIN "functions: [{name: f, image: ../functions/api, image_config: "
				  "{command: [app.handler], entry_point: [/ep, -x], working_directory: /srv}}]\n");

	if (cfg) {
		const struct function_settings *s = &cfg->functions[0].latest;
		CHECK(abs_path_ends(s->image, "functions/api"));
		CHECK(s->runtime == NULL);
		CHECK_INT(s->image_config.ncommand, 1);
		CHECK_STR(s->image_config.command[0], "app.handler");
		CHECK_INT(s->image_config.nentry_point, 2);
		CHECK_STR(s->image_config.working_directory, "/srv");
		config_unref(cfg);
	}
	CHECK_STR(fn_err(F "    image: ../functions/api\n    runtime: provided.al2\n"),
		  C "7:5: 'runtime' can't be used with 'image' (the image brings its own)");
	CHECK_STR(fn_err(F "    image: ../functions/api\n    handler: a.b\n"),
		  C "7:5: 'handler' can't be used with 'image' (the image brings its own)");
	CHECK_STR(fn_err(F "    image: ../functions/nope.tar\n"),
		  C "6:12: cannot access 'config/../functions/nope.tar': No such file or directory");
	CHECK_STR(fn_err(F "    image: ../functions/api\n    image_config: {working_directory: srv}\n"),
		  C "7:19: image_config: working_directory must be an absolute path");
	CHECK_STR(fn_err(F NODE "    image_config: {command: [x]}\n"),
		  C "9:5: 'image_config' is only for 'image' functions");
	CHECK_STR(fn_err(F "    image: ../functions/api\n    endpoint: http://h\n"),
		  C "7:5: 'image' and 'endpoint' can't be used together");
}

static int fixture_setup(void)
{
	static const char *const dirs[] = {
		"config", "rules", "functions", "functions/api", "functions/api-v1",
		"functions/legacy", "layers", "layers/common",
	};

	if (!getcwd(old_cwd, sizeof(old_cwd)) || !mkdtemp(fixture_dir) || chdir(fixture_dir)) {
		perror("fixture");
		return -1;
	}
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++) {
		if (mkdir(dirs[i], 0755)) {
			perror(dirs[i]);
			return -1;
		}
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

static void fixture_teardown(void)
{
	if (chdir(old_cwd) == 0)
		nftw(fixture_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TEST(admin_allowed_hosts_are_host_names_refused_at_their_place)
{
	struct config *cfg = load(LB_MIN "admin: {port: 9400, allowed_hosts: [lb, \"*.docker.internal\"]}\n");

	CHECK(cfg != NULL);
	if (cfg) {
		CHECK_INT(cfg->admin.nallowed_hosts, 2);
		CHECK_STR(cfg->admin.allowed_hosts[0], "lb");
		CHECK_STR(cfg->admin.allowed_hosts[1], "*.docker.internal");
		config_unref(cfg);
	}
	CHECK_STR(load_err(LB_MIN "admin:\n  port: 9400\n  allowed_hosts:\n    - lb\n    - http://lb:9400\n"),
		  C "8:7: 'allowed_hosts' takes host names such as lb or *.example.test (no scheme, port "
		  "or path), not 'http://lb:9400'");
	CHECK_STR(load_err(LB_MIN "admin: {port: 9400, allowed_hosts: [\"*\"]}\n"),
		  C "4:37: 'allowed_hosts' takes host names such as lb or *.example.test (no scheme, port "
		  "or path), not '*'");
	CHECK_STR(load_err(LB_MIN "admin: {port: 9400, allowed_hosts: [my_lb-1.local, a..b]}\n"),
		  C "4:52: 'allowed_hosts' takes host names such as lb or *.example.test (no scheme, port "
		  "or path), not 'a..b'");
	CHECK_STR(load_err(LB_MIN "admin: {port: 9400, allowed_hosts: lb}\n"), C "4:36: 'allowed_hosts' must be a list");
}

int main(void)
{
	if (fixture_setup())
		return 1;
	RUN(missing_config_file_is_an_error);
	RUN(yaml_syntax_error_names_libyamls_problem_and_position);
	RUN(duplicate_key_is_an_error_naming_the_first);
	RUN(anchors_aliases_and_merge_keys_are_resolved);
	RUN(anchor_alias_and_merge_key_errors_are_positioned);
	RUN(tags_are_rejected);
	RUN(second_document_is_rejected);
	RUN(invalid_utf8_is_reported_at_its_byte);
	RUN(nul_byte_in_a_string_is_rejected);
	RUN(nesting_is_bounded);
	RUN(empty_file_is_not_a_configuration);
	RUN(unknown_top_level_key_suggests_the_close_one);
	RUN(unknown_key_far_from_all_known_has_no_suggestion);
	RUN(missing_listeners_is_an_error);
	RUN(empty_plain_value_has_no_value);
	RUN(full_config_load_balancer_and_attributes);
	RUN(full_config_listener_rules_sorted_with_conditions);
	RUN(full_config_actions);
	RUN(full_config_target_groups);
	RUN(full_config_function_latest_settings);
	RUN(versions_are_full_snapshots_of_latest);
	RUN(defaults_apply_when_keys_are_absent);
	RUN(function_defaults_are_lambdas);
	RUN(event_invoke_config_defaults_and_destinations);
	RUN(event_invoke_config_errors_have_positions);
	RUN(refs_keep_the_config_until_the_last_unref);
	RUN(summary_lists_rules_by_priority_then_default);
	RUN(describe_condition_prints_keyless_query_and_ipv6);
	RUN(describe_action_shows_kept_components_as_placeholders);
	RUN(unknown_key_in_load_balancer_is_an_error);
	RUN(attribute_out_of_aws_range_is_an_error);
	RUN(attribute_that_is_not_an_integer_is_an_error);
	RUN(desync_mode_must_be_one_of_awss);
	RUN(boolean_attribute_accepts_only_true_or_false);
	RUN(unknown_attribute_key_is_an_error);
	RUN(account_id_must_be_twelve_digits);
	RUN(load_balancer_name_follows_the_elb_name_rule);
	RUN(access_log_path_is_relative_to_the_config_file);
	RUN(workers_default_number_and_auto);
	RUN(workers_out_of_range_or_not_a_number);
	RUN(https_listener_rejects_an_unknown_policy);
	RUN(an_https_listener_refuses_a_redirect_to_http);
	RUN(listener_protocol_must_be_http_or_https);
	RUN(listener_port_is_required);
	RUN(listener_port_must_fit_in_16_bits);
	RUN(quoted_port_reads_as_an_integer);
	RUN(listener_address_must_be_an_ip_address);
	RUN(same_address_and_port_twice_is_an_error);
	RUN(port_zero_may_repeat_and_other_addresses_may_share_a_port);
	RUN(at_most_50_listeners);
	RUN(default_actions_are_required);
	RUN(unknown_key_in_listener_is_an_error);
	RUN(listeners_must_be_a_list_of_mappings);
	RUN(lambda_api_is_off_unless_configured);
	RUN(lambda_api_port_and_default_address);
	RUN(lambda_api_needs_a_port_in_range);
	RUN(lambda_api_unknown_key_is_an_error);
	RUN(lambda_api_address_must_be_an_ip_address);
	RUN(lambda_api_may_not_take_a_listeners_port);
	RUN(target_group_name_rule_is_awss);
	RUN(target_group_names_are_unique);
	RUN(alb_target_type_is_only_for_network_load_balancers);
	RUN(target_type_is_required);
	RUN(lambda_target_group_has_one_target);
	RUN(target_must_name_a_defined_function);
	RUN(target_qualifier_must_be_a_version_or_alias);
	RUN(latest_qualifier_means_no_qualifier);
	RUN(health_check_timeout_must_be_less_than_interval);
	RUN(health_check_ranges_are_awss);
	RUN(health_check_matcher_is_codes_or_a_range_within_200_499);
	RUN(unknown_target_group_attribute_suggests_awss);
	RUN(at_most_100_target_groups);
	RUN(unsupported_runtime_lists_the_accepted_ones);
	RUN(runtime_and_endpoint_exclude_each_other);
	RUN(endpoint_function_allows_only_timeout_and_function_name);
	RUN(endpoint_must_be_an_http_url);
	RUN(endpoint_aws_takes_a_region);
	RUN(endpoint_remote_name_defaults_to_the_function_name);
	RUN(function_name_is_only_for_endpoints);
	RUN(nodejs_and_python_need_a_handler);
	RUN(provided_runtime_runs_code_bootstrap_without_command);
	RUN(command_is_only_for_provided_runtimes);
	RUN(code_is_required_and_must_be_a_directory_or_a_zip);
	RUN(code_may_be_a_zip_whose_central_directory_reads);
	RUN(image_function_takes_image_config_and_no_runtime_keys);
	RUN(timeout_and_memory_follow_lambdas_ranges);
	RUN(reserved_environment_variable_is_rejected);
	RUN(environment_variable_name_must_start_with_a_letter);
	RUN(at_most_five_layers);
	RUN(version_must_be_a_positive_integer_and_unique);
	RUN(unknown_key_in_version_is_an_error);
	RUN(alias_name_follows_lambdas_rule);
	RUN(alias_must_point_at_an_existing_version);
	RUN(alias_routing_config_rules);
	RUN(function_names_are_lambda_names_and_unique);
	RUN(unknown_keys_are_errors_in_target_groups_and_functions);
	RUN(wildcard_matching_nothing_loads_no_rules);
	RUN(plain_rule_path_naming_no_file_is_an_error);
	RUN(rule_file_for_a_port_no_listener_has_is_an_error);
	RUN(rule_files_go_to_the_listener_they_name);
	RUN(glob_takes_the_config_directory_literally);
	RUN(rules_from_several_files_are_sorted_by_priority);
	RUN(rule_file_needs_rules);
	RUN(duplicate_priority_names_both_positions);
	RUN(priority_is_required_and_within_1_50000);
	RUN(unknown_key_in_rule_suggests_priority);
	RUN(at_most_100_rules_per_load_balancer);
	RUN(an_empty_transforms_list_is_no_transform);
	RUN(a_rule_needs_a_condition);
	RUN(condition_has_exactly_one_key);
	RUN(unknown_condition_type_suggests_the_snake_case_key);
	RUN(at_most_one_path_pattern_per_rule);
	RUN(http_header_conditions_may_repeat);
	RUN(at_most_three_values_per_condition);
	RUN(source_ip_takes_up_to_five_values);
	RUN(at_most_five_condition_values_per_rule);
	RUN(at_most_five_wildcards_per_rule);
	RUN(escaped_query_wildcards_do_not_count);
	RUN(condition_values_cannot_be_empty);
	RUN(host_header_syntax_is_albs);
	RUN(path_pattern_syntax_and_length_are_albs);
	RUN(http_header_name_rules);
	RUN(http_request_method_is_upper_case);
	RUN(source_ip_is_a_cidr_block_with_host_bits_masked);
	RUN(regex_values_only_on_host_path_and_header);
	RUN(unknown_keys_are_errors_in_conditions_and_actions);
	RUN(jwt_validation_alone_is_no_routing_action);
	RUN(authenticate_actions_need_their_config);
	RUN(authenticate_oidc_fields_are_checked);
	RUN(an_authenticate_action_needs_a_routing_action_after_it);
	RUN(authenticate_actions_need_an_https_listener);
	RUN(unknown_action_type_lists_awss);
	RUN(a_second_routing_action_is_an_error);
	RUN(action_order_is_within_1_50000);
	RUN(action_configuration_must_match_its_type);
	RUN(fixed_response_rules_are_albs);
	RUN(redirect_status_code_is_required_and_301_or_302);
	RUN(redirect_that_changes_nothing_would_loop);
	RUN(redirect_components_follow_albs_syntax);
	RUN(forward_names_defined_target_groups);
	RUN(forward_weights_and_group_count_are_albs);
	RUN(admin_allowed_hosts_are_host_names_refused_at_their_place);
	RUN(stickiness_needs_a_duration_when_enabled);
	RUN(target_group_with_forward_must_be_its_only_group);
	fixture_teardown();
	return test_done();
}
