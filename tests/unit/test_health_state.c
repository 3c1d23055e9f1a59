/* health_state: ALB's health thresholds and status-code matchers. */
#include "alb/health_state.h"

#include "test.h"

TEST(initial_target_turns_healthy_after_healthy_threshold_passes)
{
	struct health_state st = { HEALTH_INITIAL, 0, 0 };

	CHECK(!health_state_record(&st, true, 3, 2));
	CHECK(!health_state_record(&st, true, 3, 2));
	CHECK(health_state_record(&st, true, 3, 2));
	CHECK_STR(health_name(st.health), "healthy");
}

TEST(healthy_target_turns_unhealthy_after_unhealthy_threshold_failures)
{
	struct health_state st = { HEALTH_HEALTHY, 5, 0 };

	CHECK(!health_state_record(&st, false, 5, 2));
	CHECK(health_state_record(&st, false, 5, 2));
	CHECK_INT(st.health, HEALTH_UNHEALTHY);
}

TEST(a_pass_resets_the_failure_run)
{
	struct health_state st = { HEALTH_HEALTHY, 5, 0 };

	health_state_record(&st, false, 5, 2);
	health_state_record(&st, true, 5, 2);
	CHECK(!health_state_record(&st, false, 5, 2));
	CHECK_INT(st.health, HEALTH_HEALTHY);
}

TEST(unhealthy_target_recovers_after_healthy_threshold_passes)
{
	struct health_state st = { HEALTH_UNHEALTHY, 0, 2 };

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

int main(void)
{
	RUN(initial_target_turns_healthy_after_healthy_threshold_passes);
	RUN(healthy_target_turns_unhealthy_after_unhealthy_threshold_failures);
	RUN(a_pass_resets_the_failure_run);
	RUN(unhealthy_target_recovers_after_healthy_threshold_passes);
	RUN(matcher_single_code_list_and_range);
	return test_done();
}
