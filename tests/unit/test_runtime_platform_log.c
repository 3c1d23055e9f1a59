/* platform_log: Lambda's JSON platform records, byte for byte (logging_config JSON). */
#include "lambda/platform_log.h"

#include "test.h"

#define T "2026-12-04T13:44:17.123Z"
#define ID "8f5e2b1c-0d6a-4e1f-9a3b-7c2d5e8f1a4b"

static const struct platform_end ok = { ID, "success", NULL, 2.8714, 3, 128, 41, 52.3101, 61 };

TEST(time_has_milliseconds_and_z)
{
	char t[28];

	/* 2026-12-04T13:44:17.123456Z */
	platform_time(1796391857123456LL, t);
	CHECK_STR(t, "2026-12-04T13:44:17.123Z");
}

TEST(start_record_names_request_and_version)
{
	char out[256];
	size_t n = platform_start(out, sizeof(out), T, ID, "$LATEST");

	CHECK_STR(out, "{\"time\":\"" T "\",\"type\":\"platform.start\",\"record\":{\"requestId\":\"" ID
		  "\",\"version\":\"$LATEST\"}}");
	CHECK_INT(n, strlen(out));
}

TEST(runtime_done_carries_status_and_produced_bytes)
{
	char out[512];

	platform_runtime_done(out, sizeof(out), T, &ok);
	CHECK_STR(out, "{\"time\":\"" T "\",\"type\":\"platform.runtimeDone\",\"record\":{\"requestId\":\""
		  ID "\",\"status\":\"success\",\"metrics\":{\"durationMs\":2.871,\"producedBytes\":61}}}");
}

TEST(cold_report_has_init_duration)
{
	char out[640];

	platform_report(out, sizeof(out), T, &ok);
	CHECK_STR(out, "{\"time\":\"" T "\",\"type\":\"platform.report\",\"record\":{\"requestId\":\"" ID
		  "\",\"metrics\":{\"durationMs\":2.871,\"billedDurationMs\":3,\"memorySizeMB\":128,"
		  "\"maxMemoryUsedMB\":41,\"initDurationMs\":52.310},\"status\":\"success\"}}");
}

TEST(warm_report_has_no_init_duration)
{
	struct platform_end e = ok;
	char out[640];

	e.init_ms = -1;
	platform_report(out, sizeof(out), T, &e);
	CHECK(!strstr(out, "initDurationMs"));
	CHECK(strstr(out, "\"maxMemoryUsedMB\":41},\"status\":\"success\"}}") != NULL);
}

TEST(failed_invocation_names_its_error_type)
{
	struct platform_end e = ok;
	char out[640];

	e.status = "error";
	e.error_type = "RangeError";
	platform_runtime_done(out, sizeof(out), T, &e);
	CHECK(strstr(out, "\"status\":\"error\",\"errorType\":\"RangeError\",\"metrics\"") != NULL);
	platform_report(out, sizeof(out), T, &e);
	CHECK(strstr(out, "\"status\":\"error\",\"errorType\":\"RangeError\"}}") != NULL);
}

TEST(success_never_has_an_error_type)
{
	struct platform_end e = ok;
	char out[640];

	e.error_type = "Stale";
	platform_report(out, sizeof(out), T, &e);
	CHECK(!strstr(out, "errorType"));
}

TEST(error_type_from_the_runtime_is_escaped)
{
	char out[512];

	platform_init_error(out, sizeof(out), T, 12.5, "Bad\"Type\\\n");
	CHECK_STR(out, "{\"time\":\"" T "\",\"type\":\"platform.initReport\",\"record\":{"
		  "\"initializationType\":\"on-demand\",\"phase\":\"init\",\"status\":\"error\","
		  "\"errorType\":\"Bad\\\"Type\\\\\\u000a\",\"metrics\":{\"durationMs\":12.500}}}");
}

TEST(small_buffer_is_cut_and_terminated)
{
	char out[16];
	size_t n = platform_start(out, sizeof(out), T, ID, "1");

	CHECK_INT(n, 15);
	CHECK_INT(strlen(out), 15);
}

int main(void)
{
	RUN(time_has_milliseconds_and_z);
	RUN(start_record_names_request_and_version);
	RUN(runtime_done_carries_status_and_produced_bytes);
	RUN(cold_report_has_init_duration);
	RUN(warm_report_has_no_init_duration);
	RUN(failed_invocation_names_its_error_type);
	RUN(success_never_has_an_error_type);
	RUN(error_type_from_the_runtime_is_escaped);
	RUN(small_buffer_is_cut_and_terminated);
	return test_done();
}
