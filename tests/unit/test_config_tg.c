/*
 * Unit tests for instance and ip target groups in config_load (config_tg,
 * config_tg_attrs): every key, AWS's defaults and ranges, the combinations
 * AWS refuses, and exact "file:line:col: message" errors.
 *
 * Each test writes config/lb.yaml in a temporary directory: a listener on
 * lines 1-3, "target_groups:" on line 4 and the group under test from
 * line 5, so a group's keys sit on lines 5, 6, ... at column 5.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "config/config.h"
#include "test.h"

static char fixture_dir[] = "/tmp/lb-test-config-tg-XXXXXX";
static char old_cwd[4096];
static struct lb_err err;

#define HEAD                                                                               \
	"listeners:\n  - port: 8080\n"                                                     \
	"    default_actions: [{type: fixed-response, fixed_response: {status_code: \"404\"}}]\n" \
	"target_groups:\n"
#define C "config/lb.yaml:"
/* An ip group on lines 5-7; further keys follow from line 8. */
#define IP_WEB "  - name: web\n    target_type: ip\n    port: 3000\n"

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

/* Loads HEAD followed by groups: the error message, or "(loaded)". */
static const char *tg_err(const char *groups)
{
	struct buf text = BUF_INIT;
	struct config *cfg;

	buf_printf(&text, HEAD "%s", groups);
	put("config/lb.yaml", buf_cstr(&text));
	buf_release(&text);
	cfg = config_load("config/lb.yaml", &err);
	if (!cfg)
		return err.msg;
	config_unref(cfg);
	return "(loaded)";
}

static struct config *tg_load(const char *groups)
{
	struct buf text = BUF_INIT;
	struct config *cfg;

	buf_printf(&text, HEAD "%s", groups);
	put("config/lb.yaml", buf_cstr(&text));
	buf_release(&text);
	cfg = config_load("config/lb.yaml", &err);
	if (!cfg)
		printf("    load failed: %s\n", err.msg);
	return cfg;
}

/* IP_WEB plus one attribute line (line 9, the value at column 7 + strlen(key) + 2). */
static const char *attr_err(const char *attr)
{
	char text[1024];

	snprintf(text, sizeof(text), IP_WEB "    attributes:\n      %s\n", attr);
	return tg_err(text);
}

/* ---- groups and targets -------------------------------------------------- */

TEST(ip_group_with_every_key_loads_each_field)
{
	struct config *cfg = tg_load(
		IP_WEB
		"    protocol: HTTPS\n"
		"    protocol_version: HTTP2\n"
		"    ip_address_type: ipv4\n"
		"    targets: [{id: 127.0.0.1, port: 3001}, {id: 127.0.0.2}]\n"
		"    attributes:\n"
		"      deregistration_delay.timeout_seconds: 20\n"
		"      slow_start.duration_seconds: 30\n"
		"      load_balancing.algorithm.type: round_robin\n"
		"      load_balancing.algorithm.anomaly_mitigation: \"off\"\n"
		"      load_balancing.cross_zone.enabled: true\n"
		"      stickiness.enabled: true\n"
		"      stickiness.type: app_cookie\n"
		"      stickiness.lb_cookie.duration_seconds: 60\n"
		"      stickiness.app_cookie.duration_seconds: 120\n"
		"      stickiness.app_cookie.cookie_name: SESSION\n"
		"      target_group_health.unhealthy_state_routing.minimum_healthy_targets.count: 2\n"
		"      target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage: 50\n"
		"      target_group_health.dns_failover.minimum_healthy_targets.count: 3\n"
		"      target_group_health.dns_failover.minimum_healthy_targets.percentage: \"off\"\n"
		"    health_check: {enabled: true, protocol: HTTPS, port: 8443, path: /health,\n"
		"                   interval: 10, timeout: 3, healthy_threshold: 3,\n"
		"                   unhealthy_threshold: 4, matcher: \"200-299\"}\n");
	const struct target_group *tg;
	const struct tg_attributes *a;

	if (!cfg)
		return;
	tg = &cfg->target_groups[0];
	a = &tg->attrs;
	CHECK_INT(tg->target_type, TARGET_IP);
	CHECK_INT(tg->protocol, TG_PROTO_HTTPS);
	CHECK_INT(tg->port, 3000);
	CHECK_INT(tg->protocol_version, TG_PROTO_HTTP2);
	CHECK(!tg->ipv6);
	CHECK_INT(tg->nhttp_targets, 2);
	CHECK_STR(tg->http_targets[0].id, "127.0.0.1");
	CHECK_INT(tg->http_targets[0].port, 3001);
	CHECK_STR(tg->http_targets[0].key, "127.0.0.1:3001");
	CHECK_INT(tg->http_targets[0].family, AF_INET);
	CHECK_INT(tg->http_targets[0].pos.line, 11);
	CHECK_INT(tg->http_targets[0].pos.col, 15);
	CHECK_STR(tg->http_targets[1].key, "127.0.0.2:3000");
	CHECK_INT(tg->http_targets[1].port, 3000);
	CHECK_INT(a->deregistration_delay, 20);
	CHECK_INT(a->slow_start, 30);
	CHECK_INT(a->algorithm, ALGO_ROUND_ROBIN);
	CHECK(!a->anomaly_mitigation);
	CHECK_INT(a->cross_zone, CROSS_ZONE_ON);
	CHECK(a->stickiness);
	CHECK_INT(a->stickiness_type, STICKINESS_APP_COOKIE);
	CHECK_INT(a->lb_cookie_duration, 60);
	CHECK_INT(a->app_cookie_duration, 120);
	CHECK_STR(a->app_cookie_name, "SESSION");
	CHECK_INT(a->min_healthy_count, 2);
	CHECK_INT(a->min_healthy_percentage, 50);
	CHECK_INT(a->dns_min_healthy_count, 3);
	CHECK_INT(a->dns_min_healthy_percentage, 0);
	CHECK(tg->health_check.enabled);
	CHECK_INT(tg->health_check.protocol, TG_PROTO_HTTPS);
	CHECK_INT(tg->health_check.port, 8443);
	CHECK_STR(tg->health_check.path, "/health");
	CHECK_INT(tg->health_check.interval, 10);
	CHECK_INT(tg->health_check.timeout, 3);
	CHECK_INT(tg->health_check.healthy_threshold, 3);
	CHECK_INT(tg->health_check.unhealthy_threshold, 4);
	CHECK_STR(tg->health_check.matcher, "200-299");
	CHECK(tg->function == NULL);
	CHECK_INT(tg->ntargets, 0);
	config_unref(cfg);
}

TEST(ip_group_defaults_are_awss)
{
	struct config *cfg = tg_load(IP_WEB);
	const struct target_group *tg;
	const struct tg_attributes *a;

	if (!cfg)
		return;
	tg = &cfg->target_groups[0];
	a = &tg->attrs;
	CHECK_INT(tg->protocol, TG_PROTO_HTTP);
	CHECK_INT(tg->protocol_version, TG_PROTO_HTTP1);
	CHECK_INT(tg->nhttp_targets, 0);
	CHECK_INT(a->deregistration_delay, 300);
	CHECK_INT(a->slow_start, 0);
	CHECK_INT(a->algorithm, ALGO_ROUND_ROBIN);
	CHECK(!a->anomaly_mitigation);
	CHECK_INT(a->cross_zone, CROSS_ZONE_INHERIT);
	CHECK(!a->stickiness);
	CHECK_INT(a->stickiness_type, STICKINESS_LB_COOKIE);
	CHECK_INT(a->lb_cookie_duration, 86400);
	CHECK_INT(a->app_cookie_duration, 86400);
	CHECK(a->app_cookie_name == NULL);
	CHECK_INT(a->min_healthy_count, 1);
	CHECK_INT(a->min_healthy_percentage, 0);
	CHECK_INT(a->dns_min_healthy_count, 0);
	CHECK_INT(a->dns_min_healthy_percentage, 0);
	/* §1.10.1: enabled, HTTP, traffic-port, /, 30, 5, 5, 2, 200. */
	CHECK(tg->health_check.enabled);
	CHECK_INT(tg->health_check.protocol, TG_PROTO_HTTP);
	CHECK_INT(tg->health_check.port, 0);
	CHECK_STR(tg->health_check.path, "/");
	CHECK_INT(tg->health_check.interval, 30);
	CHECK_INT(tg->health_check.timeout, 5);
	CHECK_INT(tg->health_check.healthy_threshold, 5);
	CHECK_INT(tg->health_check.unhealthy_threshold, 2);
	CHECK_STR(tg->health_check.matcher, "200");
	config_unref(cfg);
}

TEST(instance_group_takes_host_names_and_addresses)
{
	struct config *cfg = tg_load("  - name: app\n    target_type: instance\n    port: 80\n"
				     "    targets: [{id: LocalHost}, {id: \"0:0::1\", port: 8080},\n"
				     "              {id: 127.0.0.1, port: 8080}, {id: my-box.local}]\n");
	const struct target_group *tg;

	if (!cfg)
		return;
	tg = &cfg->target_groups[0];
	CHECK_INT(tg->target_type, TARGET_INSTANCE);
	CHECK_INT(tg->nhttp_targets, 4);
	/* Keys: host names lower-cased, addresses canonical, IPv6 in brackets. */
	CHECK_STR(tg->http_targets[0].id, "LocalHost");
	CHECK_STR(tg->http_targets[0].key, "localhost:80");
	CHECK_INT(tg->http_targets[0].family, 0);
	CHECK_STR(tg->http_targets[1].id, "0:0::1");
	CHECK_STR(tg->http_targets[1].key, "[::1]:8080");
	CHECK_INT(tg->http_targets[1].family, AF_INET6);
	CHECK_STR(tg->http_targets[2].key, "127.0.0.1:8080");
	CHECK_STR(tg->http_targets[3].key, "my-box.local:80");
	config_unref(cfg);
}

TEST(ipv6_ip_group_takes_its_family_from_the_first_target)
{
	struct config *cfg = tg_load(IP_WEB "    targets: [{id: \"::1\"}, {id: \"::2\", port: 1}]\n");

	if (!cfg)
		return;
	CHECK(cfg->target_groups[0].ipv6);
	CHECK_STR(cfg->target_groups[0].http_targets[1].key, "[::2]:1");
	config_unref(cfg);
}

TEST(ip_target_must_be_an_address)
{
	CHECK_STR(tg_err(IP_WEB "    targets: [{id: localhost}]\n"),
		  C "8:20: target id 'localhost' must be an IPv4 or IPv6 address (target_type ip)");
	CHECK_STR(tg_err(IP_WEB "    targets: [{id: 127.0.0.256}]\n"),
		  C "8:20: target id '127.0.0.256' must be an IPv4 or IPv6 address (target_type "
		    "ip)");
}

TEST(instance_target_must_be_a_host_name_or_address)
{
	static const char *const bad[] = { "-box", "box-", "a..b", "a_b", "b\\u00e9",
					   "x.",
					   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };
	char text[512], want[512];

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		snprintf(text, sizeof(text), "  - name: a\n    target_type: instance\n    port: 1\n"
			 "    targets: [{id: \"%s\"}]\n", bad[i]);
		CHECK(strstr(tg_err(text), "8:20: target id '") != NULL);
		snprintf(want, sizeof(want), "' must be a host name or an IP address");
		CHECK(strstr(err.msg, want) != NULL);
	}
	CHECK_STR(tg_err("  - name: a\n    target_type: instance\n    port: 1\n"
			 "    targets: [{id: a-1.b2.example}, {id: \"::ffff:10.0.0.1\"}]\n"),
		  "(loaded)");
}

TEST(ip_targets_share_one_address_family)
{
	CHECK_STR(tg_err(IP_WEB "    targets: [{id: 127.0.0.1}, {id: \"::1\"}]\n"),
		  C "8:37: target '::1' is IPv6, but the group's first target '127.0.0.1' is IPv4 "
		    "(a target group has one address family)");
	CHECK_STR(tg_err(IP_WEB "    ip_address_type: ipv6\n    targets: [{id: 127.0.0.1}]\n"),
		  C "9:20: target '127.0.0.1' is IPv4, but ip_address_type is ipv6");
	CHECK_STR(tg_err(IP_WEB "    ip_address_type: ipv4\n    targets: [{id: \"::1\"}]\n"),
		  C "9:20: target '::1' is IPv6, but ip_address_type is ipv4");
	CHECK_STR(tg_err(IP_WEB "    ip_address_type: ipv5\n"),
		  C "8:22: 'ip_address_type' must be ipv4 or ipv6, not 'ipv5'");
	/* Instance groups mix freely, but IPv6 groups take ip targets only. */
	CHECK_STR(tg_err("  - name: a\n    target_type: instance\n    port: 1\n"
			 "    ip_address_type: ipv6\n"),
		  C "8:22: ip_address_type ipv6 needs target_type ip");
}

TEST(target_registered_twice_is_an_error)
{
	CHECK_STR(tg_err(IP_WEB "    targets:\n      - {id: 127.0.0.1, port: 3000}\n"
			 "      - {id: 127.0.0.1}\n"),
		  C "10:14: target 127.0.0.1:3000 is registered twice (first on line 9)");
	CHECK_STR(tg_err(IP_WEB "    targets:\n      - {id: \"::1\"}\n      - {id: \"0::1\"}\n"),
		  C "10:14: target [::1]:3000 is registered twice (first on line 9)");
	CHECK_STR(tg_err("  - name: a\n    target_type: instance\n    port: 1\n"
			 "    targets: [{id: Box}, {id: box}]\n"),
		  C "8:31: target box:1 is registered twice (first on line 8)");
	/* The same address on other ports is another target. */
	CHECK_STR(tg_err(IP_WEB "    targets: [{id: 127.0.0.1}, {id: 127.0.0.1, port: 3001}]\n"),
		  "(loaded)");
}

TEST(target_keys_and_ports_are_checked)
{
	CHECK_STR(tg_err(IP_WEB "    targets: [{id: 127.0.0.1, port: 0}]\n"),
		  C "8:37: 'port' must be between 1 and 65535, not 0");
	CHECK_STR(tg_err(IP_WEB "    targets: [{id: 127.0.0.1, port: 65536}]\n"),
		  C "8:37: 'port' must be between 1 and 65535, not 65536");
	CHECK_STR(tg_err(IP_WEB "    targets: [{port: 1}]\n"), C "8:15: missing key 'id'");
	CHECK_STR(tg_err(IP_WEB "    targets: [{id: 127.0.0.1, availability_zone: all}]\n"),
		  C "8:31: unknown key 'availability_zone' (it takes: id, port)");
	CHECK_STR(tg_err(IP_WEB "    targets: [127.0.0.1]\n"),
		  C "8:15: 'targets' must be a list of mappings");
}

TEST(port_is_required_for_instance_and_ip_groups)
{
	CHECK_STR(tg_err("  - name: a\n    target_type: ip\n"),
		  C "5:5: missing key 'port' (target_type ip needs one)");
	CHECK_STR(tg_err("  - name: a\n    target_type: instance\n"),
		  C "5:5: missing key 'port' (target_type instance needs one)");
	CHECK_STR(tg_err("  - name: a\n    target_type: ip\n    port: 0\n"),
		  C "7:11: 'port' must be between 1 and 65535, not 0");
}

TEST(at_most_1000_targets_per_group)
{
	struct buf text = BUF_INIT;

	buf_puts(&text, IP_WEB "    targets:\n");
	for (int i = 0; i < 1001; i++)
		buf_printf(&text, "      - {id: 10.0.%d.%d}\n", i / 256, i % 256);
	CHECK_STR(tg_err(buf_cstr(&text)),
		  C "1009:9: a target group has at most 1000 targets");
	buf_release(&text);
}

TEST(protocol_and_protocol_version_are_awss)
{
	CHECK_STR(tg_err(IP_WEB "    protocol: TCP\n"),
		  C "8:15: 'protocol' must be HTTP or HTTPS, not 'TCP'");
	CHECK_STR(tg_err(IP_WEB "    protocol_version: HTTP3\n"),
		  C "8:23: 'protocol_version' must be HTTP1, HTTP2 or GRPC, not 'HTTP3'");
}

TEST(grpc_group_checks_awss_health_path_with_grpc_codes)
{
	struct config *cfg = tg_load(IP_WEB "    protocol_version: GRPC\n");

	if (cfg) {
		CHECK_INT(cfg->target_groups[0].protocol_version, TG_PROTO_GRPC);
		CHECK_STR(cfg->target_groups[0].health_check.path, "/AWS.ALB/healthcheck");
		CHECK_STR(cfg->target_groups[0].health_check.matcher, "12");
		config_unref(cfg);
	}
	CHECK_STR(tg_err(IP_WEB "    protocol_version: GRPC\n    health_check: {matcher: \"0-99\"}\n"),
		  "(loaded)");
	CHECK_STR(tg_err(IP_WEB "    protocol_version: GRPC\n    health_check: {matcher: \"200\"}\n"),
		  C "9:29: 'matcher' must be gRPC codes 0-99 as \"12\", \"0,12\" or \"0-99\", not "
		    "'200'");
}

TEST(lambda_groups_refuse_http_keys)
{
	CHECK_STR(tg_err("  - name: a\n    target_type: lambda\n    port: 80\n"),
		  C "7:5: 'port' does not apply to lambda target groups");
	CHECK_STR(tg_err("  - name: a\n    target_type: lambda\n    protocol: HTTP\n"),
		  C "7:5: 'protocol' does not apply to lambda target groups");
	CHECK_STR(tg_err("  - name: a\n    target_type: lambda\n    protocol_version: HTTP1\n"),
		  C "7:5: 'protocol_version' does not apply to lambda target groups");
	CHECK_STR(tg_err("  - name: a\n    target_type: lambda\n"
			 "    health_check: {enabled: true, port: 80}\n"),
		  C "7:35: 'port' does not apply to lambda target groups' health checks");
	CHECK_STR(tg_err("  - name: a\n    target_type: lambda\n    health_check: {protocol: HTTP}\n"),
		  C "7:20: 'protocol' does not apply to lambda target groups' health checks");
}

TEST(http_targets_of_a_lambda_group_are_function_names)
{
	CHECK_STR(tg_err("  - name: a\n    target_type: lambda\n    targets: [{id: 127.0.0.1}]\n"),
		  C "7:15: 'targets' must be a list of strings");
}

/* ---- health checks -------------------------------------------------------- */

TEST(health_checks_of_instance_and_ip_groups_cannot_be_disabled)
{
	CHECK_STR(tg_err(IP_WEB "    health_check: {enabled: false}\n"),
		  C "8:29: health checks of instance and ip target groups cannot be disabled");
}

TEST(health_check_port_is_traffic_port_or_a_number)
{
	struct config *cfg = tg_load(IP_WEB "    health_check: {port: traffic-port}\n");

	if (cfg) {
		CHECK_INT(cfg->target_groups[0].health_check.port, 0);
		config_unref(cfg);
	}
	CHECK_STR(tg_err(IP_WEB "    health_check: {port: \"8080\"}\n"), "(loaded)");
	CHECK_STR(tg_err(IP_WEB "    health_check: {port: 0}\n"),
		  C "8:26: 'port' must be traffic-port or between 1 and 65535, not '0'");
	CHECK_STR(tg_err(IP_WEB "    health_check: {port: traffic}\n"),
		  C "8:26: 'port' must be traffic-port or between 1 and 65535, not 'traffic'");
}

TEST(health_check_protocol_is_http_or_https)
{
	CHECK_STR(tg_err(IP_WEB "    health_check: {protocol: TCP}\n"),
		  C "8:30: 'protocol' must be HTTP or HTTPS, not 'TCP'");
}

TEST(health_check_path_starts_with_a_slash_and_is_at_most_1024)
{
	char text[2048], path[1100];

	CHECK_STR(tg_err(IP_WEB "    health_check: {path: health}\n"),
		  C "8:26: 'path' must start with '/' and be at most 1024 characters, not 'health'");
	memset(path, 'a', 1024);
	path[0] = '/';
	path[1024] = '\0';
	snprintf(text, sizeof(text), IP_WEB "    health_check: {path: \"%s\"}\n", path);
	CHECK_STR(tg_err(text), "(loaded)");
	snprintf(text, sizeof(text), IP_WEB "    health_check: {path: \"%sa\"}\n", path);
	CHECK(strstr(tg_err(text), C "8:26: 'path' must start with '/' and be at most 1024") != NULL);
}

TEST(health_check_ranges_and_matcher_for_http_groups)
{
	CHECK_STR(tg_err(IP_WEB "    health_check: {interval: 4}\n"),
		  C "8:30: 'interval' must be between 5 and 300, not 4");
	CHECK_STR(tg_err(IP_WEB "    health_check: {timeout: 1}\n"),
		  C "8:29: 'timeout' must be between 2 and 120, not 1");
	CHECK_STR(tg_err(IP_WEB "    health_check: {unhealthy_threshold: 11}\n"),
		  C "8:41: 'unhealthy_threshold' must be between 2 and 10, not 11");
	CHECK_STR(tg_err(IP_WEB "    health_check: {interval: 5}\n"),
		  C "8:30: 'timeout' (5) must be less than 'interval' (5)");
	CHECK_STR(tg_err(IP_WEB "    health_check: {matcher: \"500\"}\n"),
		  C "8:29: 'matcher' must be HTTP codes 200-499 as \"200\", \"200,202\" or "
		    "\"200-299\", not '500'");
	CHECK_STR(tg_err(IP_WEB "    health_check: {matcher: \"200,302\"}\n"), "(loaded)");
}

/* ---- attributes ---------------------------------------------------------- */

TEST(attribute_ranges_are_awss)
{
	CHECK_STR(attr_err("deregistration_delay.timeout_seconds: 3601"),
		  C "9:45: 'deregistration_delay.timeout_seconds' must be between 0 and 3600, not "
		    "3601");
	CHECK_STR(attr_err("deregistration_delay.timeout_seconds: 0"), "(loaded)");
	CHECK_STR(attr_err("slow_start.duration_seconds: 29"),
		  C "9:36: 'slow_start.duration_seconds' must be 0 (off) or between 30 and 900, "
		    "not 29");
	CHECK_STR(attr_err("slow_start.duration_seconds: 901"),
		  C "9:36: 'slow_start.duration_seconds' must be between 0 and 900, not 901");
	CHECK_STR(attr_err("slow_start.duration_seconds: 900"), "(loaded)");
	CHECK_STR(attr_err("stickiness.lb_cookie.duration_seconds: 0"),
		  C "9:46: 'stickiness.lb_cookie.duration_seconds' must be between 1 and 604800, "
		    "not 0");
	CHECK_STR(attr_err("stickiness.app_cookie.duration_seconds: 604801"),
		  C "9:47: 'stickiness.app_cookie.duration_seconds' must be between 1 and 604800, "
		    "not 604801");
	CHECK_STR(attr_err("target_group_health.unhealthy_state_routing.minimum_healthy_targets."
			   "count: 0"),
		  C "9:82: 'target_group_health.unhealthy_state_routing.minimum_healthy_targets."
		    "count' must be between 1 and 1000, not 0");
	CHECK_STR(attr_err("stickiness.enabled: yes"),
		  C "9:27: 'stickiness.enabled' must be true or false, not 'yes'");
}

TEST(enum_attributes_list_awss_values)
{
	CHECK_STR(attr_err("load_balancing.algorithm.type: random"),
		  C "9:38: 'load_balancing.algorithm.type' must be round_robin, "
		    "least_outstanding_requests or weighted_random, not 'random'");
	CHECK_STR(attr_err("load_balancing.algorithm.anomaly_mitigation: true"),
		  C "9:52: 'load_balancing.algorithm.anomaly_mitigation' must be off or on, not "
		    "'true'");
	CHECK_STR(attr_err("load_balancing.cross_zone.enabled: maybe"),
		  C "9:42: 'load_balancing.cross_zone.enabled' must be "
		    "use_load_balancer_configuration, true or false, not 'maybe'");
	CHECK_STR(attr_err("stickiness.type: source_ip"),
		  C "9:24: 'stickiness.type' must be lb_cookie or app_cookie, not 'source_ip'");
}

TEST(algorithms_read_as_named)
{
	static const char *const names[] = { "round_robin", "least_outstanding_requests",
					     "weighted_random" };
	char text[512];

	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		struct config *cfg;

		snprintf(text, sizeof(text), IP_WEB "    attributes: {load_balancing.algorithm.type: "
			 "%s}\n", names[i]);
		if (!(cfg = tg_load(text)))
			continue;
		CHECK_INT(cfg->target_groups[0].attrs.algorithm, i);
		config_unref(cfg);
	}
}

TEST(percentages_are_off_or_1_to_100)
{
	struct config *cfg = tg_load(IP_WEB "    attributes:\n"
				     "      target_group_health.unhealthy_state_routing."
				     "minimum_healthy_targets.percentage: off\n");

	if (cfg) {
		CHECK_INT(cfg->target_groups[0].attrs.min_healthy_percentage, 0);
		config_unref(cfg);
	}
	CHECK_STR(attr_err("target_group_health.unhealthy_state_routing.minimum_healthy_targets."
			   "percentage: 101"),
		  C "9:87: 'target_group_health.unhealthy_state_routing.minimum_healthy_targets."
		    "percentage' must be off or between 1 and 100, not '101'");
	CHECK_STR(attr_err("target_group_health.dns_failover.minimum_healthy_targets.count: none"),
		  C "9:71: 'target_group_health.dns_failover.minimum_healthy_targets.count' must be "
		    "off or between 1 and 1000, not 'none'");
	CHECK_STR(attr_err("target_group_health.dns_failover.minimum_healthy_targets.percentage: 0"),
		  C "9:76: 'target_group_health.dns_failover.minimum_healthy_targets.percentage' "
		    "must be off or between 1 and 100, not '0'");
}

TEST(dns_failover_thresholds_are_at_least_the_routing_ones)
{
	CHECK_STR(tg_err(IP_WEB "    attributes:\n"
			 "      target_group_health.unhealthy_state_routing.minimum_healthy_targets."
			 "count: 3\n"
			 "      target_group_health.dns_failover.minimum_healthy_targets.count: 2\n"),
		  C "10:71: 'target_group_health.dns_failover.minimum_healthy_targets.count' (2) "
		    "must be at least the unhealthy_state_routing count (3)");
	CHECK_STR(tg_err(IP_WEB "    attributes:\n"
			 "      target_group_health.unhealthy_state_routing.minimum_healthy_targets."
			 "percentage: 50\n"
			 "      target_group_health.dns_failover.minimum_healthy_targets.percentage: "
			 "40\n"),
		  C "10:76: 'target_group_health.dns_failover.minimum_healthy_targets.percentage' "
		    "(40) must be at least the unhealthy_state_routing percentage (50)");
}

TEST(app_cookie_needs_a_name_that_is_not_albs)
{
	static const char *const reserved[] = { "AWSALB", "AWSALBAPP-0", "AWSALBTGX",
						"AWSALBCORS" };

	CHECK_STR(attr_err("stickiness.type: app_cookie"),
		  C "9:24: missing key 'stickiness.app_cookie.cookie_name' (stickiness.type is "
		    "app_cookie)");
	for (size_t i = 0; i < ARRAY_LEN(reserved); i++) {
		char text[512], want[512];

		snprintf(text, sizeof(text), IP_WEB "    attributes:\n"
			 "      stickiness.type: app_cookie\n"
			 "      stickiness.app_cookie.cookie_name: %s\n", reserved[i]);
		snprintf(want, sizeof(want), C "10:42: 'stickiness.app_cookie.cookie_name' must "
			 "not start with AWSALB, AWSALBAPP or AWSALBTG (ALB's own cookies), not '%s'",
			 reserved[i]);
		CHECK_STR(tg_err(text), want);
	}
	CHECK_STR(attr_err("stickiness.app_cookie.cookie_name: \"a b\""),
		  C "9:42: 'stickiness.app_cookie.cookie_name' must be a cookie name (letters, "
		    "digits and !#$%&'*+-.^_`|~), not 'a b'");
	CHECK_STR(attr_err("stickiness.app_cookie.cookie_name: \"s=1\""),
		  C "9:42: 'stickiness.app_cookie.cookie_name' must be a cookie name (letters, "
		    "digits and !#$%&'*+-.^_`|~), not 's=1'");
	/* A lower-case prefix is another name: cookie names are case-sensitive. */
	CHECK_STR(attr_err("stickiness.app_cookie.cookie_name: awsalbx"), "(loaded)");
}

TEST(app_cookie_name_is_kept_only_for_app_cookie_stickiness)
{
	struct config *cfg = tg_load(IP_WEB "    attributes: {stickiness.app_cookie.cookie_name: "
				     "SESSION}\n");

	if (!cfg)
		return;
	CHECK(cfg->target_groups[0].attrs.app_cookie_name == NULL);
	config_unref(cfg);
}

TEST(slow_start_works_only_with_round_robin)
{
	CHECK_STR(tg_err(IP_WEB "    attributes:\n      slow_start.duration_seconds: 30\n"
			 "      load_balancing.algorithm.type: least_outstanding_requests\n"),
		  C "9:36: slow start cannot be used with load_balancing.algorithm.type "
		    "least_outstanding_requests");
	CHECK_STR(tg_err(IP_WEB "    attributes:\n      load_balancing.algorithm.type: "
			 "weighted_random\n      slow_start.duration_seconds: 60\n"),
		  C "10:36: slow start cannot be used with load_balancing.algorithm.type "
		    "weighted_random");
	CHECK_STR(tg_err(IP_WEB "    attributes:\n      slow_start.duration_seconds: 0\n"
			 "      load_balancing.algorithm.type: weighted_random\n"),
		  "(loaded)");
}

TEST(anomaly_mitigation_needs_weighted_random)
{
	CHECK_STR(attr_err("load_balancing.algorithm.anomaly_mitigation: \"on\""),
		  C "9:52: 'load_balancing.algorithm.anomaly_mitigation' on needs "
		    "load_balancing.algorithm.type weighted_random");
	CHECK_STR(tg_err(IP_WEB "    attributes:\n      load_balancing.algorithm.type: "
			 "weighted_random\n      load_balancing.algorithm.anomaly_mitigation: on\n"),
		  "(loaded)");
}

TEST(stickiness_refuses_weighted_random_and_cross_zone_off)
{
	CHECK_STR(tg_err(IP_WEB "    attributes:\n      stickiness.enabled: true\n"
			 "      load_balancing.algorithm.type: weighted_random\n"),
		  C "9:27: stickiness cannot be used with load_balancing.algorithm.type "
		    "weighted_random");
	CHECK_STR(tg_err(IP_WEB "    attributes:\n      stickiness.enabled: true\n"
			 "      load_balancing.cross_zone.enabled: false\n"),
		  C "9:27: stickiness cannot be used with load_balancing.cross_zone.enabled false");
	/* Disabled stickiness settings conflict with nothing. */
	CHECK_STR(tg_err(IP_WEB "    attributes:\n      stickiness.enabled: false\n"
			 "      stickiness.type: lb_cookie\n"
			 "      load_balancing.cross_zone.enabled: false\n"
			 "      load_balancing.algorithm.type: weighted_random\n"),
		  "(loaded)");
}

TEST(attributes_of_the_other_kind_are_named_as_such)
{
	CHECK_STR(attr_err("lambda.multi_value_headers.enabled: true"),
		  C "9:7: attribute 'lambda.multi_value_headers.enabled' applies only to lambda "
		    "target groups");
	CHECK_STR(tg_err("  - name: a\n    target_type: lambda\n"
			 "    attributes: {stickiness.enabled: true}\n"),
		  C "7:18: attribute 'stickiness.enabled' does not apply to lambda target groups");
	CHECK_STR(tg_err("  - name: a\n    target_type: lambda\n"
			 "    attributes: {deregistration_delay.timeout_seconds: 5}\n"),
		  C "7:18: attribute 'deregistration_delay.timeout_seconds' does not apply to "
		    "lambda target groups");
	CHECK_STR(attr_err("slow_start.duration_second: 30"),
		  C "9:7: unknown key 'slow_start.duration_second' (did you mean "
		    "'slow_start.duration_seconds'?)");
}

/* ---- rules and summary ---------------------------------------------------- */

TEST(weighted_forward_to_a_sticky_group_needs_group_stickiness)
{
	static const char *const groups =
		"  - name: web\n    target_type: ip\n    port: 1\n"
		"    attributes: {stickiness.enabled: true}\n"
		"  - {name: api, target_type: lambda}\n";
	struct buf text = BUF_INIT;
	struct config *cfg;

	buf_printf(&text, "listeners:\n  - port: 8080\n    default_actions:\n"
		   "      - type: forward\n        forward:\n          target_groups:\n"
		   "            - {name: api, weight: 1}\n            - {name: web, weight: 1}\n"
		   "target_groups:\n%s", groups);
	put("config/lb.yaml", buf_cstr(&text));
	cfg = config_load("config/lb.yaml", &err);
	CHECK(cfg == NULL);
	CHECK_STR(err.msg, C "8:22: target group 'web' is sticky: a forward to several target "
		  "groups needs 'stickiness' enabled");
	config_unref(cfg);
	buf_reset(&text);
	buf_printf(&text, "listeners:\n  - port: 8080\n    default_actions:\n"
		   "      - type: forward\n        forward:\n          target_groups:\n"
		   "            - {name: api, weight: 1}\n            - {name: web, weight: 1}\n"
		   "          stickiness: {enabled: true, duration: 60}\n"
		   "target_groups:\n%s", groups);
	put("config/lb.yaml", buf_cstr(&text));
	cfg = config_load("config/lb.yaml", &err);
	CHECK(cfg != NULL);
	config_unref(cfg);
	/* A single group needs no group stickiness. */
	buf_reset(&text);
	buf_printf(&text, "listeners:\n  - port: 8080\n    default_actions:\n"
		   "      - {type: forward, target_group: web}\ntarget_groups:\n%s", groups);
	put("config/lb.yaml", buf_cstr(&text));
	cfg = config_load("config/lb.yaml", &err);
	CHECK(cfg != NULL);
	config_unref(cfg);
	buf_release(&text);
}

TEST(summary_lists_http_groups_with_targets_and_algorithm)
{
	struct config *cfg = tg_load(
		IP_WEB "    targets: [{id: 127.0.0.1, port: 3001}, {id: 127.0.0.1}]\n"
		"    attributes: {stickiness.enabled: true, slow_start.duration_seconds: 30}\n"
		"    health_check: {path: /up, port: 9000}\n"
		"  - name: app\n    target_type: instance\n    port: 80\n    protocol: HTTPS\n"
		"    attributes:\n      load_balancing.algorithm.type: least_outstanding_requests\n"
		"      stickiness.enabled: true\n      stickiness.type: app_cookie\n"
		"      stickiness.app_cookie.cookie_name: SID\n"
		"      deregistration_delay.timeout_seconds: 5\n");
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	if (!cfg)
		return;
	out = open_memstream(&text, &len);
	config_summary(cfg, out);
	fclose(out);
	CHECK(strstr(text, "target group web: ip, HTTP:3000, HTTP1, round_robin, 2 targets\n"
			   "  target 127.0.0.1:3001\n"
			   "  target 127.0.0.1:3000\n"
			   "  stickiness lb_cookie for 86400s\n"
			   "  slow start 30s\n"
			   "  deregistration delay 300s\n"
			   "  arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/") != NULL);
	CHECK(strstr(text, "  health check HTTP port 9000 GET /up every 30s, timeout 5s, healthy 5, "
			   "unhealthy 2, matcher 200\n") != NULL);
	CHECK(strstr(text, "target group app: instance, HTTPS:80, HTTP1, "
			   "least_outstanding_requests, 0 targets\n"
			   "  stickiness app_cookie SID for 86400s\n"
			   "  deregistration delay 5s\n") != NULL);
	CHECK(strstr(text, "  health check HTTP traffic-port GET / every 30s, timeout 5s, "
			   "healthy 5, unhealthy 2, matcher 200\n") != NULL);
	free(text);
	config_unref(cfg);
}

/* ---- fixture ------------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	if (!getcwd(old_cwd, sizeof(old_cwd)) || !mkdtemp(fixture_dir) || chdir(fixture_dir) ||
	    mkdir("config", 0755)) {
		perror("fixture");
		return 1;
	}
	RUN(ip_group_with_every_key_loads_each_field);
	RUN(ip_group_defaults_are_awss);
	RUN(instance_group_takes_host_names_and_addresses);
	RUN(ipv6_ip_group_takes_its_family_from_the_first_target);
	RUN(ip_target_must_be_an_address);
	RUN(instance_target_must_be_a_host_name_or_address);
	RUN(ip_targets_share_one_address_family);
	RUN(target_registered_twice_is_an_error);
	RUN(target_keys_and_ports_are_checked);
	RUN(port_is_required_for_instance_and_ip_groups);
	RUN(at_most_1000_targets_per_group);
	RUN(protocol_and_protocol_version_are_awss);
	RUN(grpc_group_checks_awss_health_path_with_grpc_codes);
	RUN(lambda_groups_refuse_http_keys);
	RUN(http_targets_of_a_lambda_group_are_function_names);
	RUN(health_checks_of_instance_and_ip_groups_cannot_be_disabled);
	RUN(health_check_port_is_traffic_port_or_a_number);
	RUN(health_check_protocol_is_http_or_https);
	RUN(health_check_path_starts_with_a_slash_and_is_at_most_1024);
	RUN(health_check_ranges_and_matcher_for_http_groups);
	RUN(attribute_ranges_are_awss);
	RUN(enum_attributes_list_awss_values);
	RUN(algorithms_read_as_named);
	RUN(percentages_are_off_or_1_to_100);
	RUN(dns_failover_thresholds_are_at_least_the_routing_ones);
	RUN(app_cookie_needs_a_name_that_is_not_albs);
	RUN(app_cookie_name_is_kept_only_for_app_cookie_stickiness);
	RUN(slow_start_works_only_with_round_robin);
	RUN(anomaly_mitigation_needs_weighted_random);
	RUN(stickiness_refuses_weighted_random_and_cross_zone_off);
	RUN(attributes_of_the_other_kind_are_named_as_such);
	RUN(weighted_forward_to_a_sticky_group_needs_group_stickiness);
	RUN(summary_lists_http_groups_with_targets_and_algorithm);
	if (chdir(old_cwd) == 0)
		nftw(fixture_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return test_done();
}
