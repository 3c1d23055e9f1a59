#include <string.h>
#include <time.h>

#include "alb/alog_fmt.h"
#include "test.h"

/* Wall-clock microseconds of a UTC date and time. */
static int64_t utc_us(int y, int mo, int d, int h, int mi, int s, int us)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = mi, .tm_sec = s };

	return (int64_t)timegm(&tm) * 1000000 + us;
}

/* AWS's Lambda example of alb-listener-rules.md §5.4, as an entry. */
static struct alog_entry lambda_sample(void)
{
	return (struct alog_entry){
		.type = "http",
		.time_us = utc_us(2018, 11, 30, 22, 23, 0, 186641),
		.elb = "app/my-loadbalancer/50dc6c495c0c9188",
		.client_ip = "192.168.131.39",
		.client_port = 2817,
		.request_processing = 0.0,
		.target_processing = 0.001,
		.response_processing = 0.0,
		.elb_status = 200,
		.target_status = 200,
		.received_bytes = 34,
		.sent_bytes = 366,
		.method = SV("GET"),
		.scheme = "http",
		.host = SV("www.example.com"),
		.port = 80,
		.request_target = SV("/"),
		.version = "HTTP/1.1",
		.user_agent = SV("curl/7.46.0"),
		.target_group_arn = "arn:aws:elasticloadbalancing:us-east-2:123456789012:"
				    "targetgroup/my-targets/73e2d6bc24d8a067",
		.trace_id = SV("Root=1-58337364-23a8c76965a2ef7629b185e3"),
		.matched_rule_priority = 0,
		.request_creation_us = utc_us(2018, 11, 30, 22, 22, 48, 364000),
		.actions_executed = "forward",
		.conn_trace_id = "TID_1234abcd5678ef901234abcd5678ef90",
	};
}

static void check_line(const struct alog_entry *e, const char *want)
{
	struct buf out = BUF_INIT;

	alog_format(&out, e);
	CHECK_MEM(out.p, out.len, want);
	buf_release(&out);
}

/* Checks the text that follows the first occurrence of after in the line. */
static void check_field(const struct alog_entry *e, const char *after, const char *want)
{
	struct buf out = BUF_INIT;
	const char *at;

	alog_format(&out, e);
	at = strstr(buf_cstr(&out), after);
	CHECK(at != NULL);
	if (at) {
		at += strlen(after);
		CHECK_MEM(at, strnlen(at, strlen(want)), want);
	}
	buf_release(&out);
}

#define SAMPLE_HEAD "http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - 0.000 0.001 0.000 "
#define SAMPLE_ARN "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067"

TEST(lambda_success_sample_line_byte_for_byte)
{
	struct alog_entry e = lambda_sample();

	check_line(&e, SAMPLE_HEAD "200 200 34 366 \"GET http://www.example.com:80/ HTTP/1.1\" "
		       "\"curl/7.46.0\" - - " SAMPLE_ARN " \"Root=1-58337364-23a8c76965a2ef7629b185e3\" "
		       "\"-\" \"-\" 0 2018-11-30T22:22:48.364000Z \"forward\" \"-\" \"-\" \"-\" \"-\" "
		       "\"-\" \"-\" TID_1234abcd5678ef901234abcd5678ef90 \"-\" \"-\" \"-\"\n");
}

TEST(lambda_failure_sample_line_byte_for_byte)
{
	struct alog_entry e = lambda_sample();

	e.elb_status = 502;
	e.target_status = 0;
	e.error_reason = "LambdaInvalidResponse";
	check_line(&e, SAMPLE_HEAD "502 - 34 366 \"GET http://www.example.com:80/ HTTP/1.1\" "
		       "\"curl/7.46.0\" - - " SAMPLE_ARN " \"Root=1-58337364-23a8c76965a2ef7629b185e3\" "
		       "\"-\" \"-\" 0 2018-11-30T22:22:48.364000Z \"forward\" \"-\" "
		       "\"LambdaInvalidResponse\" \"-\" \"-\" \"-\" \"-\" "
		       "TID_1234abcd5678ef901234abcd5678ef90 \"-\" \"-\" \"-\"\n");
}

TEST(malformed_request_sample_line_plus_transform_fields)
{
	struct alog_entry e = {
		.type = "http",
		.time_us = utc_us(2025, 3, 1, 10, 3, 17, 218099),
		.elb = "app/MyALB1/240dbdc5244653c9",
		.client_ip = "205.210.31.158",
		.client_port = 61084,
		.request_processing = -1,
		.target_processing = -1,
		.response_processing = -1,
		.elb_status = 400,
		.received_bytes = 0,
		.sent_bytes = 272,
		.scheme = "http",
		.host = SV("myalb1-878688131.us-east-1.elb.amazonaws.com"),
		.port = 80,
		.matched_rule_priority = ALOG_PRIORITY_NONE,
		.request_creation_us = utc_us(2025, 3, 1, 10, 3, 16, 682000),
		.conn_trace_id = "TID_6cfb27fd2ef25c42932bd6e0ff56d631",
	};

	/* The real 2025-03 line of §5.4, which predates fields 31–33. */
	check_line(&e, "http 2025-03-01T10:03:17.218099Z app/MyALB1/240dbdc5244653c9 "
		       "205.210.31.158:61084 - -1 -1 -1 400 - 0 272 "
		       "\"- http://myalb1-878688131.us-east-1.elb.amazonaws.com:80- -\" \"-\" - - - "
		       "\"-\" \"-\" \"-\" - 2025-03-01T10:03:16.682000Z \"-\" \"-\" \"-\" \"-\" \"-\" "
		       "\"-\" \"-\" TID_6cfb27fd2ef25c42932bd6e0ff56d631"
		       " \"-\" \"-\" \"-\"\n");
}

TEST(http_target_lists_repeat_target_and_status)
{
	struct alog_entry e = lambda_sample();

	e.target = "10.0.0.1:80";
	check_field(&e, "192.168.131.39:2817 ", "10.0.0.1:80 0.000");
	check_field(&e, "\"forward\" \"-\" \"-\" ",
		    "\"10.0.0.1:80\" \"200\" \"-\" \"-\" TID_");
	e.target_status = 0;
	e.elb_status = 502;
	check_field(&e, "\"forward\" \"-\" \"-\" ", "\"10.0.0.1:80\" \"-\" \"-\"");
}

TEST(processing_times_have_three_decimals_and_negative_is_minus_one)
{
	struct alog_entry e = lambda_sample();

	e.request_processing = 12.5;
	e.target_processing = -0.5;
	e.response_processing = 0.0004;
	check_field(&e, "2817 - ", "12.500 -1 0.000 200");
}

TEST(elb_status_zero_logs_as_000)
{
	struct alog_entry e = lambda_sample();

	e.elb_status = 0;
	e.target_status = 0;
	check_field(&e, "0.001 0.000 ", "000 - 34 366");
}

TEST(priority_logs_dash_default_zero_and_error_minus_one)
{
	struct alog_entry e = lambda_sample();

	e.matched_rule_priority = ALOG_PRIORITY_NONE;
	check_field(&e, "\"-\" \"-\" ", "- 2018-11-30T22:22:48.364000Z");
	e.matched_rule_priority = -1;
	check_field(&e, "\"-\" \"-\" ", "-1 2018-11-30T22:22:48.364000Z");
	e.matched_rule_priority = 50000;
	check_field(&e, "\"-\" \"-\" ", "50000 2018-11-30T22:22:48.364000Z");
}

TEST(request_field_logs_target_as_sent_with_listener_port)
{
	struct alog_entry e = lambda_sample();

	e.method = SV("POST");
	e.host = SV("API.example.com");
	e.port = 8080;
	e.request_target = SV("/a%20b?x=1&y=%2F");
	e.version = "HTTP/1.0";
	check_field(&e, "366 ", "\"POST http://API.example.com:8080/a%20b?x=1&y=%2F HTTP/1.0\" ");
}

TEST(request_field_gives_an_absolute_form_target_with_no_path_its_slash)
{
	struct alog_entry e = lambda_sample();

	e.method = SV("GET");
	e.request_target = SV("");
	check_field(&e, "366 ", "\"GET http://www.example.com:80/ HTTP/1.1\" ");
	e.request_target = SV("?x=1");
	check_field(&e, "366 ", "\"GET http://www.example.com:80/?x=1 HTTP/1.1\" ");
}

TEST(quoted_fields_escape_quotes_backslashes_and_control_bytes)
{
	struct alog_entry e = lambda_sample();

	e.user_agent = SV("a\"b\\c\x01\n\x7f\xc3\xa9 d");
	check_field(&e, "HTTP/1.1\" ", "\"a\\\"b\\\\c\\x01\\x0a\\x7f\\xc3\\xa9 d\" - -");
	e.user_agent = SV("ok");
	e.method = SV("GET");
	e.request_target = SV("/\"x\r\n");
	check_field(&e, "366 ", "\"GET http://www.example.com:80/\\\"x\\x0d\\x0a HTTP/1.1\" \"ok\"");
}

TEST(escaped_line_stays_one_line)
{
	struct alog_entry e = lambda_sample();
	struct buf out = BUF_INIT;

	e.user_agent = SV("x\ny\r\n");
	e.redirect_url = SV("https://e/\n");
	e.trace_id = SV("Root=\"\n");
	alog_format(&out, &e);
	CHECK(memchr(out.p, '\n', out.len) == out.p + out.len - 1);
	buf_release(&out);
}

TEST(user_agent_truncated_at_8192_bytes)
{
	static char ua[9000];
	struct alog_entry e = lambda_sample();
	struct buf out = BUF_INIT;
	const char *start, *end;

	memset(ua, 'u', sizeof(ua));
	e.user_agent = (struct sv){ ua, sizeof(ua) };
	alog_format(&out, &e);
	start = strstr(buf_cstr(&out), "HTTP/1.1\" \"") + strlen("HTTP/1.1\" \"");
	end = strchr(start, '"');
	CHECK_INT(end - start, 8192);
	buf_release(&out);
}

TEST(empty_optional_fields_log_as_dash)
{
	struct alog_entry e = lambda_sample();

	e.user_agent = SV_NULL;
	e.target_group_arn = NULL;
	e.trace_id = SV_NULL;
	e.actions_executed = NULL;
	check_field(&e, "HTTP/1.1\" ", "\"-\" - - - \"-\" \"-\" \"-\" 0 ");
	check_field(&e, ".364000Z ", "\"-\" \"-\" \"-\"");
}

TEST(redirect_classification_and_error_fields_in_order)
{
	struct alog_entry e = lambda_sample();

	e.actions_executed = "redirect";
	e.redirect_url = SV("https://example.com:80/");
	e.error_reason = "AuthInvalidCookie";
	e.classification = "Ambiguous";
	e.classification_reason = "BothTeClPresent";
	check_field(&e, ".364000Z ",
		    "\"redirect\" \"https://example.com:80/\" \"AuthInvalidCookie\" \"-\" \"-\" "
		    "\"Ambiguous\" \"BothTeClPresent\" TID_1234abcd5678ef901234abcd5678ef90 "
		    "\"-\" \"-\" \"-\"\n");
}

TEST(format_appends_to_existing_buffer)
{
	struct alog_entry e = lambda_sample();
	struct buf out = BUF_INIT;

	alog_format(&out, &e);
	alog_format(&out, &e);
	CHECK(out.len % 2 == 0);
	CHECK(memcmp(out.p, out.p + out.len / 2, out.len / 2) == 0);
	CHECK(strncmp(out.p + out.len / 2, "http 2018-", 10) == 0);
	buf_release(&out);
}

int main(void)
{
	RUN(lambda_success_sample_line_byte_for_byte);
	RUN(lambda_failure_sample_line_byte_for_byte);
	RUN(malformed_request_sample_line_plus_transform_fields);
	RUN(http_target_lists_repeat_target_and_status);
	RUN(processing_times_have_three_decimals_and_negative_is_minus_one);
	RUN(elb_status_zero_logs_as_000);
	RUN(priority_logs_dash_default_zero_and_error_minus_one);
	RUN(request_field_logs_target_as_sent_with_listener_port);
	RUN(request_field_gives_an_absolute_form_target_with_no_path_its_slash);
	RUN(quoted_fields_escape_quotes_backslashes_and_control_bytes);
	RUN(escaped_line_stays_one_line);
	RUN(user_agent_truncated_at_8192_bytes);
	RUN(empty_optional_fields_log_as_dash);
	RUN(redirect_classification_and_error_fields_in_order);
	RUN(format_appends_to_existing_buffer);
	return test_done();
}
