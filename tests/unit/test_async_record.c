/* async_record: retry policy and Lambda's invocation records (DESIGN.md §18). */
#include <string.h>

#include "alb/async_record.h"
#include "test.h"

static struct async_policy policy(int retries, const int *delays)
{
	struct async_policy p;

	async_policy_init(&p, retries, 21600, delays);
	return p;
}

TEST(success_goes_to_on_success)
{
	struct async_policy p = policy(2, NULL);

	CHECK_INT(async_next(&p, ASYNC_OUTCOME_OK, 1, 0).action, ASYNC_SUCCESS);
	CHECK_INT(async_next(&p, ASYNC_OUTCOME_OK, 3, 0).action, ASYNC_SUCCESS);
}

TEST(errors_are_retried_after_one_then_two_minutes)
{
	struct async_policy p = policy(2, NULL);
	struct async_step s = async_next(&p, ASYNC_OUTCOME_ERROR, 1, 0);

	CHECK_INT(s.action, ASYNC_RETRY);
	CHECK_INT(s.delay, 60);
	s = async_next(&p, ASYNC_OUTCOME_ERROR, 2, 0);
	CHECK_INT(s.action, ASYNC_RETRY);
	CHECK_INT(s.delay, 120);
	CHECK_INT(async_next(&p, ASYNC_OUTCOME_ERROR, 3, 0).action, ASYNC_RETRIES_EXHAUSTED);
}

TEST(retry_attempts_follow_the_configuration)
{
	struct async_policy zero = policy(0, NULL), one = policy(1, NULL);

	CHECK_INT(async_next(&zero, ASYNC_OUTCOME_ERROR, 1, 0).action, ASYNC_RETRIES_EXHAUSTED);
	CHECK_INT(async_next(&one, ASYNC_OUTCOME_ERROR, 1, 0).action, ASYNC_RETRY);
	CHECK_INT(async_next(&one, ASYNC_OUTCOME_ERROR, 2, 0).action, ASYNC_RETRIES_EXHAUSTED);
}

TEST(test_delays_replace_lambdas)
{
	int d[2] = { 1, 2 };
	struct async_policy p = policy(2, d);

	CHECK_INT(async_next(&p, ASYNC_OUTCOME_ERROR, 1, 0).delay, 1);
	CHECK_INT(async_next(&p, ASYNC_OUTCOME_ERROR, 2, 0).delay, 2);
	CHECK_INT(async_next(&p, ASYNC_OUTCOME_THROTTLED, 0, 5).delay, 1);
}

TEST(throttles_back_off_to_five_minutes_without_using_retries)
{
	struct async_policy p = policy(0, NULL);
	struct async_step s = async_next(&p, ASYNC_OUTCOME_THROTTLED, 0, 1);

	CHECK_INT(s.action, ASYNC_RETRY);
	CHECK_INT(s.delay, 1);
	CHECK_INT(async_next(&p, ASYNC_OUTCOME_THROTTLED, 0, 2).delay, 2);
	CHECK_INT(async_next(&p, ASYNC_OUTCOME_THROTTLED, 0, 4).delay, 8);
	CHECK_INT(async_next(&p, ASYNC_OUTCOME_THROTTLED, 0, 30).delay, 300);
}

TEST(events_expire_at_their_maximum_age)
{
	struct async_policy p;

	async_policy_init(&p, 2, 60, NULL);
	CHECK(!async_expired(&p, 59));
	CHECK(async_expired(&p, 60));
}

TEST(delays_parse)
{
	int d[2] = { 0, 0 };

	CHECK_INT(async_parse_delays("1,2", d), 0);
	CHECK_INT(d[0], 1);
	CHECK_INT(d[1], 2);
	CHECK_INT(async_parse_delays("0,10", d), 0);
	CHECK_INT(async_parse_delays("1", d), -1);
	CHECK_INT(async_parse_delays("1,2,3", d), -1);
	CHECK_INT(async_parse_delays("a,2", d), -1);
	CHECK_INT(async_parse_delays("-1,2", d), -1);
	CHECK_INT(async_parse_delays("1,9999", d), -1);
	CHECK_INT(async_parse_delays("", d), -1);
}

/* 2019-11-24T23:08:25.651Z */
#define WALL 1574636905651123LL

TEST(success_record_is_lambdas)
{
	struct async_record r = {
		.wall_us = WALL, .request_id = "c2a6f2ae-7dbb-4d22-8782-d0485c9877e2",
		.function_arn = "arn:aws:lambda:sa-east-1:123456789123:function:event-destinations:$LATEST",
		.condition = ASYNC_COND_SUCCESS, .invoke_count = 1,
		.request = "{\"Success\":true}", .request_len = 16,
		.responded = true, .executed_version = "$LATEST",
		.response = "null", .response_len = 4,
	};
	struct buf b = BUF_INIT;

	async_record_json(&r, &b);
	CHECK_MEM(b.p, b.len,
		  "{\"version\":\"1.0\",\"timestamp\":\"2019-11-24T23:08:25.651Z\",\"requestContext\":"
		  "{\"requestId\":\"c2a6f2ae-7dbb-4d22-8782-d0485c9877e2\",\"functionArn\":"
		  "\"arn:aws:lambda:sa-east-1:123456789123:function:event-destinations:$LATEST\","
		  "\"condition\":\"Success\",\"approximateInvokeCount\":1},\"requestPayload\":"
		  "{\"Success\":true},\"responseContext\":{\"statusCode\":200,\"executedVersion\":"
		  "\"$LATEST\"},\"responsePayload\":null}");
	buf_release(&b);
}

TEST(failure_record_names_the_function_error)
{
	const char *err = "{\"errorMessage\":\"boom\",\"errorType\":\"Error\"}";
	struct async_record r = {
		.wall_us = WALL, .request_id = "id", .function_arn = "arn",
		.condition = ASYNC_COND_RETRIES_EXHAUSTED, .invoke_count = 3,
		.request = "[1]", .request_len = 3,
		.responded = true, .executed_version = "2", .function_error = true,
		.response = err, .response_len = strlen(err),
	};
	struct buf b = BUF_INIT;

	async_record_json(&r, &b);
	CHECK(strstr(buf_cstr(&b), "\"condition\":\"RetriesExhausted\",\"approximateInvokeCount\":3"));
	CHECK(strstr(buf_cstr(&b), "\"requestPayload\":[1]"));
	CHECK(strstr(buf_cstr(&b), "\"responseContext\":{\"statusCode\":200,\"executedVersion\":\"2\","
				   "\"functionError\":\"Unhandled\"},\"responsePayload\":{\"errorMessage\":"
				   "\"boom\",\"errorType\":\"Error\"}}"));
	buf_release(&b);
}

TEST(record_without_an_attempt_has_no_response)
{
	struct async_record r = {
		.wall_us = WALL, .request_id = "id", .function_arn = "arn",
		.condition = ASYNC_COND_EVENT_AGE_EXCEEDED, .invoke_count = 0,
		.request = "{}", .request_len = 2,
	};
	struct buf b = BUF_INIT;

	async_record_json(&r, &b);
	CHECK(strstr(buf_cstr(&b), "\"condition\":\"EventAgeExceeded\",\"approximateInvokeCount\":0}"));
	CHECK(!strstr(buf_cstr(&b), "responseContext"));
	CHECK(!strstr(buf_cstr(&b), "responsePayload"));
	buf_release(&b);
}

TEST(a_result_that_is_not_json_is_a_string)
{
	struct async_record r = {
		.wall_us = WALL, .request_id = "id", .function_arn = "arn",
		.condition = ASYNC_COND_SUCCESS, .invoke_count = 1,
		.request = "{}", .request_len = 2,
		.responded = true, .executed_version = "$LATEST",
		.response = "plain \"text\"", .response_len = 12,
	};
	struct buf b = BUF_INIT;

	async_record_json(&r, &b);
	CHECK(strstr(buf_cstr(&b), "\"responsePayload\":\"plain \\\"text\\\"\"}"));
	buf_release(&b);
}

int main(void)
{
	RUN(success_goes_to_on_success);
	RUN(errors_are_retried_after_one_then_two_minutes);
	RUN(retry_attempts_follow_the_configuration);
	RUN(test_delays_replace_lambdas);
	RUN(throttles_back_off_to_five_minutes_without_using_retries);
	RUN(events_expire_at_their_maximum_age);
	RUN(delays_parse);
	RUN(success_record_is_lambdas);
	RUN(failure_record_names_the_function_error);
	RUN(record_without_an_attempt_has_no_response);
	RUN(a_result_that_is_not_json_is_a_string);
	return test_done();
}
