/* health_state: ALB's health thresholds, status-code matchers, states, reason codes
 * and health-check requests. */
#include "alb/health_state.h"

#include <stdlib.h>

#include "test.h"

TEST(initial_target_turns_healthy_after_healthy_threshold_passes)
{
	struct health_state st = { .health = HEALTH_INITIAL };

	CHECK(!health_state_record(&st, true, 3, 2));
	CHECK(!health_state_record(&st, true, 3, 2));
	CHECK(health_state_record(&st, true, 3, 2));
	CHECK_STR(health_name(st.health), "healthy");
}

TEST(healthy_target_turns_unhealthy_after_unhealthy_threshold_failures)
{
	struct health_state st = { .health = HEALTH_HEALTHY, .passes = 5 };

	CHECK(!health_state_record(&st, false, 5, 2));
	CHECK(health_state_record(&st, false, 5, 2));
	CHECK_INT(st.health, HEALTH_UNHEALTHY);
}

TEST(a_pass_resets_the_failure_run)
{
	struct health_state st = { .health = HEALTH_HEALTHY, .passes = 5 };

	health_state_record(&st, false, 5, 2);
	health_state_record(&st, true, 5, 2);
	CHECK(!health_state_record(&st, false, 5, 2));
	CHECK_INT(st.health, HEALTH_HEALTHY);
}

TEST(unhealthy_target_recovers_after_healthy_threshold_passes)
{
	struct health_state st = { .health = HEALTH_UNHEALTHY, .failures = 2 };

	CHECK(!health_state_record(&st, true, 2, 2));
	CHECK(health_state_record(&st, true, 2, 2));
	CHECK_INT(st.health, HEALTH_HEALTHY);
}

TEST(matcher_single_code_list_and_range)
{
	CHECK(health_matcher_match("200", 200));
	CHECK(!health_matcher_match("200", 201));
	CHECK(health_matcher_match("200,202", 202));
	CHECK(!health_matcher_match("200,202", 201));
	CHECK(health_matcher_match("200-299", 204));
	CHECK(health_matcher_match("200-299", 299));
	CHECK(!health_matcher_match("200-299", 300));
	CHECK(!health_matcher_match("", 200));
}

TEST(states_have_albs_names)
{
	CHECK_STR(health_name(HEALTH_INITIAL), "initial");
	CHECK_STR(health_name(HEALTH_HEALTHY), "healthy");
	CHECK_STR(health_name(HEALTH_UNHEALTHY), "unhealthy");
	CHECK_STR(health_name(HEALTH_DRAINING), "draining");
	CHECK_STR(health_name(HEALTH_UNUSED), "unused");
}

TEST(initial_target_reports_registration_then_initial_checks)
{
	struct health_state st = { .health = HEALTH_INITIAL };

	CHECK_STR(health_reason(&st), "Elb.RegistrationInProgress");
	CHECK(!health_state_check(&st, HEALTH_CHECK_PASSED, 200, 2, 2));
	CHECK_STR(health_reason(&st), "Elb.InitialHealthChecking");
	CHECK(health_state_check(&st, HEALTH_CHECK_PASSED, 200, 2, 2));
	CHECK_INT(st.health, HEALTH_HEALTHY);
	CHECK(health_reason(&st) == NULL);
}

TEST(unhealthy_reason_follows_the_last_check)
{
	struct health_state st = { .health = HEALTH_HEALTHY, .passes = 5 };

	health_state_check(&st, HEALTH_CHECK_TIMEOUT, 0, 5, 2);
	CHECK(health_state_check(&st, HEALTH_CHECK_MISMATCH, 503, 5, 2));
	CHECK_INT(st.health, HEALTH_UNHEALTHY);
	CHECK_INT(st.last_status, 503);
	CHECK_STR(health_reason(&st), "Target.ResponseCodeMismatch");
	CHECK(!health_state_check(&st, HEALTH_CHECK_TIMEOUT, 0, 5, 2));
	CHECK_STR(health_reason(&st), "Target.Timeout");
	CHECK(!health_state_check(&st, HEALTH_CHECK_FAILED, 0, 5, 2));
	CHECK_STR(health_reason(&st), "Target.FailedHealthChecks");
	CHECK_INT(st.last_status, 0);
}

TEST(a_pass_in_a_failure_run_keeps_the_target_healthy)
{
	struct health_state st = { .health = HEALTH_HEALTHY, .passes = 5 };

	health_state_check(&st, HEALTH_CHECK_FAILED, 0, 5, 2);
	health_state_check(&st, HEALTH_CHECK_PASSED, 200, 5, 2);
	CHECK(!health_state_check(&st, HEALTH_CHECK_MISMATCH, 500, 5, 2));
	CHECK_INT(st.health, HEALTH_HEALTHY);
	CHECK(health_reason(&st) == NULL);
}

TEST(draining_and_unused_targets_keep_their_state_and_reason)
{
	struct health_state st = { .health = HEALTH_DRAINING };

	CHECK_STR(health_reason(&st), "Target.DeregistrationInProgress");
	CHECK(!health_state_check(&st, HEALTH_CHECK_PASSED, 200, 2, 2));
	CHECK(!health_state_check(&st, HEALTH_CHECK_PASSED, 200, 2, 2));
	CHECK(!health_state_record(&st, false, 2, 2));
	CHECK(!health_state_record(&st, false, 2, 2));
	CHECK_INT(st.health, HEALTH_DRAINING);
	st.health = HEALTH_UNUSED;
	CHECK(!health_state_check(&st, HEALTH_CHECK_PASSED, 200, 2, 2));
	CHECK(!health_state_check(&st, HEALTH_CHECK_PASSED, 200, 2, 2));
	CHECK_INT(st.health, HEALTH_UNUSED);
	CHECK_STR(health_reason(&st), "Target.NotRegistered");
}

static char *request_for(enum tg_protocol proto, const char *path, const char *host, int port)
{
	struct health_check_cfg hc = { .enabled = true, .protocol = proto, .path = path };
	struct buf out = BUF_INIT;

	health_check_request(&out, &hc, host, port);
	return buf_detach(&out, NULL);
}

TEST(health_check_request_is_albs_bytes)
{
	char *r = request_for(TG_PROTO_HTTP, "/health?deep=1", "10.0.0.10", 8080);

	CHECK_STR(r, "GET /health?deep=1 HTTP/1.1\r\n"
		     "Host: 10.0.0.10:8080\r\n"
		     "User-Agent: ELB-HealthChecker/2.0\r\n"
		     "Connection: close\r\n"
		     "\r\n");
	free(r);
}

TEST(health_check_host_has_no_port_on_the_protocols_default)
{
	char *r = request_for(TG_PROTO_HTTP, "/", "10.0.0.10", 80);

	CHECK(strstr(r, "\r\nHost: 10.0.0.10\r\n") != NULL);
	free(r);
	r = request_for(TG_PROTO_HTTPS, "/", "10.0.0.10", 443);
	CHECK(strstr(r, "\r\nHost: 10.0.0.10\r\n") != NULL);
	free(r);
	r = request_for(TG_PROTO_HTTPS, "/", "10.0.0.10", 80);
	CHECK(strstr(r, "\r\nHost: 10.0.0.10:80\r\n") != NULL);
	free(r);
}

TEST(health_check_host_brackets_ipv6)
{
	char *r = request_for(TG_PROTO_HTTP, "/", "::1", 3000);

	CHECK(strstr(r, "\r\nHost: [::1]:3000\r\n") != NULL);
	free(r);
	r = request_for(TG_PROTO_HTTP, "/", "fe80::1", 80);
	CHECK(strstr(r, "\r\nHost: [fe80::1]\r\n") != NULL);
	free(r);
}

int main(void)
{
	RUN(initial_target_turns_healthy_after_healthy_threshold_passes);
	RUN(healthy_target_turns_unhealthy_after_unhealthy_threshold_failures);
	RUN(a_pass_resets_the_failure_run);
	RUN(unhealthy_target_recovers_after_healthy_threshold_passes);
	RUN(matcher_single_code_list_and_range);
	RUN(states_have_albs_names);
	RUN(initial_target_reports_registration_then_initial_checks);
	RUN(unhealthy_reason_follows_the_last_check);
	RUN(a_pass_in_a_failure_run_keeps_the_target_healthy);
	RUN(draining_and_unused_targets_keep_their_state_and_reason);
	RUN(health_check_request_is_albs_bytes);
	RUN(health_check_host_has_no_port_on_the_protocols_default);
	RUN(health_check_host_brackets_ipv6);
	return test_done();
}
