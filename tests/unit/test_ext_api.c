/*
 * Unit tests for ext_api: what Lambda's Extensions API accepts at
 * registration and the Telemetry API in a subscription, the errors it
 * answers, and the exact JSON of its events and telemetry records.
 */
#include <stdlib.h>
#include <string.h>

#include "alb/ext_api.h"
#include "test.h"

static struct ext_api_error err;
static unsigned events;

static int reg(const char *name, const char *body)
{
	memset(&err, 0, sizeof(err));
	return ext_api_register_parse(name ? sv_from(name) : SV_NULL, body, strlen(body), &events, &err);
}

TEST(registration_reads_invoke_and_shutdown)
{
	CHECK_INT(reg("ext", "{\"events\":[\"INVOKE\",\"SHUTDOWN\"]}"), 0);
	CHECK_INT(events, EXT_EVENT_INVOKE | EXT_EVENT_SHUTDOWN);
	CHECK_INT(reg("ext", "{\"events\":[\"SHUTDOWN\"]}"), 0);
	CHECK_INT(events, EXT_EVENT_SHUTDOWN);
	/* An extension may register for no event at all (internal ones often do). */
	CHECK_INT(reg("ext", "{\"events\":[]}"), 0);
	CHECK_INT(events, 0);
	CHECK_INT(reg("ext", "{}"), 0);
}

TEST(registration_errors_are_403_with_lambda_types)
{
	CHECK_INT(reg(NULL, "{\"events\":[]}"), -1);
	CHECK_INT(err.status, 403);
	CHECK_STR(err.type, "Extension.InvalidExtensionName");
	CHECK_INT(reg("", "{\"events\":[]}"), -1);
	CHECK_STR(err.type, "Extension.InvalidExtensionName");
	CHECK_INT(reg("ext", "{\"events\":[\"INVOKE\",\"RESTORE\"]}"), -1);
	CHECK_INT(err.status, 403);
	CHECK_STR(err.type, "Extension.InvalidEventType");
	CHECK_STR(err.message, "Unknown event type: RESTORE");
	CHECK_INT(reg("ext", "not json"), -1);
	CHECK_STR(err.type, "InvalidRequestFormat");
	CHECK_INT(reg("ext", "{\"events\":\"INVOKE\"}"), -1);
	CHECK_STR(err.type, "InvalidRequestFormat");
}

TEST(event_documents)
{
	char *s = ext_api_register_json("orders", "$LATEST", "index.handler", NULL);
	CHECK_STR(s, "{\"functionName\":\"orders\",\"functionVersion\":\"$LATEST\",\"handler\":\"index.handler\"}");
	free(s);
	s = ext_api_register_json("orders", "3", "index.handler", "123456789012");
	CHECK_STR(s, "{\"functionName\":\"orders\",\"functionVersion\":\"3\",\"handler\":\"index.handler\","
		     "\"accountId\":\"123456789012\"}");
	free(s);
	s = ext_api_invoke_json("rid-1", 1700000000123, "arn:aws:lambda:us-east-1:123456789012:function:orders",
				"Root=1-a-b;Parent=c;Sampled=0");
	CHECK_STR(s, "{\"eventType\":\"INVOKE\",\"deadlineMs\":1700000000123,\"requestId\":\"rid-1\","
		     "\"invokedFunctionArn\":\"arn:aws:lambda:us-east-1:123456789012:function:orders\","
		     "\"tracing\":{\"type\":\"X-Amzn-Trace-Id\",\"value\":\"Root=1-a-b;Parent=c;Sampled=0\"}}");
	free(s);
	s = ext_api_shutdown_json("spindown", 42);
	CHECK_STR(s, "{\"eventType\":\"SHUTDOWN\",\"shutdownReason\":\"spindown\",\"deadlineMs\":42}");
	free(s);
	s = ext_api_error_json("Extension.RegistrationClosed", "Extension registration is closed");
	CHECK_STR(s, "{\"errorMessage\":\"Extension registration is closed\",\"errorType\":"
		     "\"Extension.RegistrationClosed\"}");
	free(s);
}

static struct telemetry_sub sub;

static int subscribe(const char *body)
{
	memset(&err, 0, sizeof(err));
	return ext_api_telemetry_parse(body, strlen(body), &sub, &err);
}

#define DEST "\"destination\":{\"protocol\":\"HTTP\",\"URI\":\"http://sandbox.localdomain:4243/lambda?x=1\"}"

TEST(subscription_defaults_and_destination)
{
	CHECK_INT(subscribe("{\"schemaVersion\":\"2022-12-13\",\"types\":[\"platform\",\"function\"]," DEST "}"), 0);
	CHECK_INT(sub.types, TEL_PLATFORM | TEL_FUNCTION);
	/* Lambda's buffering defaults. */
	CHECK_INT(sub.max_items, 1000);
	CHECK_INT(sub.max_bytes, 262144);
	CHECK_INT(sub.timeout_ms, 1000);
	CHECK_STR(sub.host, "127.0.0.1");
	CHECK_INT(sub.port, 4243);
	CHECK_STR(sub.path, "/lambda?x=1");
	CHECK_INT(subscribe("{\"types\":[\"extension\"],\"buffering\":{\"maxItems\":10000,\"maxBytes\":1048576,"
			    "\"timeoutMs\":25},\"destination\":{\"protocol\":\"HTTP\",\"URI\":\"http://127.0.0.1:9\"}}"),
		  0);
	CHECK_INT(sub.types, TEL_EXTENSION);
	CHECK_INT(sub.max_items, 10000);
	CHECK_INT(sub.timeout_ms, 25);
	CHECK_STR(sub.path, "/");
}

TEST(subscription_errors_are_400_validation_errors)
{
	const char *bad[] = {
		"nope",
		"{\"types\":[]," DEST "}",
		"{\"types\":[\"logs\"]," DEST "}",
		"{\"types\":[\"platform\"],\"buffering\":{\"timeoutMs\":24}," DEST "}",
		"{\"types\":[\"platform\"],\"buffering\":{\"maxItems\":999}," DEST "}",
		"{\"types\":[\"platform\"],\"buffering\":{\"maxBytes\":1048577}," DEST "}",
		"{\"types\":[\"platform\"],\"destination\":{\"protocol\":\"TCP\",\"URI\":\"http://sandbox.localdomain:1\"}}",
		"{\"types\":[\"platform\"],\"destination\":{\"protocol\":\"HTTP\",\"URI\":\"http://example.com:80/\"}}",
		"{\"types\":[\"platform\"],\"destination\":{\"protocol\":\"HTTP\",\"URI\":\"http://sandbox.localdomain/\"}}",
		"{\"types\":[\"platform\"],\"destination\":{\"protocol\":\"HTTP\",\"URI\":\"http://sandbox.localdomain:0/\"}}",
		/* a path that would break the request line */
		"{\"types\":[\"platform\"],\"destination\":{\"protocol\":\"HTTP\",\"URI\":\"http://sandbox.localdomain:1/t X\\r\\nX-I: 1\"}}",
		"{\"types\":[\"platform\"],\"destination\":{\"protocol\":\"HTTP\",\"URI\":\"http://sandbox.localdomain:1/t\\u007fx\"}}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(subscribe(bad[i]), -1);
		CHECK_INT(err.status, 400);
		CHECK_STR(err.type, "ValidationError");
	}
}

TEST(telemetry_records)
{
	/* 2023-11-14T22:13:20.123456Z */
	char *s = ext_api_telemetry_event(1700000000123456, "function", NULL, "hello \"x\"", 9);
	CHECK_STR(s, "{\"time\":\"2023-11-14T22:13:20.123Z\",\"type\":\"function\",\"record\":\"hello \\\"x\\\"\"}");
	free(s);
	s = ext_api_telemetry_event(1700000000000000, "platform.start", "{\"requestId\":\"r\",\"version\":\"$LATEST\"}",
				    NULL, 0);
	CHECK_STR(s, "{\"time\":\"2023-11-14T22:13:20.000Z\",\"type\":\"platform.start\","
		     "\"record\":{\"requestId\":\"r\",\"version\":\"$LATEST\"}}");
	free(s);
	/* A line that is not UTF-8 travels empty rather than as invalid JSON. */
	s = ext_api_telemetry_event(1700000000000000, "function", NULL, "\xff\xfe", 2);
	CHECK_STR(s, "{\"time\":\"2023-11-14T22:13:20.000Z\",\"type\":\"function\",\"record\":\"\"}");
	free(s);
}

int main(void)
{
	RUN(registration_reads_invoke_and_shutdown);
	RUN(registration_errors_are_403_with_lambda_types);
	RUN(event_documents);
	RUN(subscription_defaults_and_destination);
	RUN(subscription_errors_are_400_validation_errors);
	RUN(telemetry_records);
	return test_done();
}
