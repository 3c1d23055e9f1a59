/*
 * Unit tests for invoke_api: how Lambda's Invoke operation reads a request
 * (FunctionName forms, Qualifier, invocation and log types, payload limits)
 * and the exact error documents it answers with.
 */
#include <stdlib.h>
#include <string.h>

#include "alb/invoke_api.h"
#include "test.h"

static struct function_version versions[] = { { .version = "1" }, { .version = "2" } };
static struct function_alias aliases[] = { { .name = "live", .function_version = "1" } };
static struct function_cfg functions[] = {
	{ .name = "api", .reserved_concurrency = -1, .nversions = 2, .versions = versions,
	  .naliases = 1, .aliases = aliases },
	{ .name = "remote", .endpoint = "http://127.0.0.1:9000", .reserved_concurrency = 3 },
	{ .name = "my.fn_2-x", .reserved_concurrency = -1 },
};
static struct config cfg = {
	.lb = { .region = "us-east-1", .account_id = "123456789012" },
	.nfunctions = 3,
	.functions = functions,
};

static struct invoke_target target;
static struct invoke_error err;

/* Resolves name (raw, as in the path) and query: "fn[:qualifier]" or "TYPE: message". */
static const char *resolve(const char *name, const char *query)
{
	static char out[1024];

	memset(&target, 0, sizeof(target));
	if (invoke_api_resolve(&cfg, sv_from(name), query ? sv_from(query) : SV_NULL, &target, &err) < 0) {
		snprintf(out, sizeof(out), "%d %s: %s", err.status, err.type, err.message);
		return out;
	}
	snprintf(out, sizeof(out), "%s%s%s", target.fn->name, *target.qualifier ? ":" : "", target.qualifier);
	return out;
}

static const char *body_of(const struct invoke_error *e)
{
	static struct buf b = BUF_INIT;

	buf_reset(&b);
	invoke_api_error_body(e, &b);
	return buf_cstr(&b);
}

TEST(invoke_path_is_post_functions_name_invocations)
{
	struct sv name;

	CHECK(invoke_api_is_invoke(SV("POST"), SV("/2015-03-31/functions/api/invocations"), &name));
	CHECK_MEM(name.p, name.n, "api");
	CHECK(invoke_api_is_invoke(SV("POST"), SV("/2015-03-31/functions/api%3A1/invocations"), &name));
	CHECK_MEM(name.p, name.n, "api%3A1");
	CHECK(!invoke_api_is_invoke(SV("GET"), SV("/2015-03-31/functions/api/invocations"), &name));
	CHECK(!invoke_api_is_invoke(SV("POST"), SV("/2015-03-31/functions//invocations"), &name));
	CHECK(!invoke_api_is_invoke(SV("POST"), SV("/2015-03-31/functions/a/b/invocations"), &name));
	CHECK(!invoke_api_is_invoke(SV("POST"), SV("/2015-03-31/functions/api"), &name));
	CHECK(!invoke_api_is_invoke(SV("POST"), SV("/2014-11-13/functions/api/invoke-async"), &name));
}

TEST(function_name_forms_all_name_the_function)
{
	CHECK_STR(resolve("api", NULL), "api");
	CHECK_STR(resolve("api:1", NULL), "api:1");
	CHECK_STR(resolve("api%3Alive", NULL), "api:live");
	CHECK_STR(resolve("123456789012:function:api", NULL), "api");
	CHECK_STR(resolve("123456789012:function:api:2", NULL), "api:2");
	CHECK_STR(resolve("arn:aws:lambda:us-east-1:123456789012:function:api", NULL), "api");
	CHECK_STR(resolve("arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aapi%3Alive", NULL),
		  "api:live");
	CHECK_STR(resolve("my.fn_2-x", NULL), "my.fn_2-x");
}

TEST(latest_is_the_unqualified_function)
{
	CHECK_STR(resolve("api:$LATEST", NULL), "api");
	CHECK_STR(resolve("api", "Qualifier=%24LATEST"), "api");
	CHECK_STR(resolve("api", "Qualifier="), "api");
}

TEST(query_qualifier_is_read_among_other_parameters)
{
	CHECK_STR(resolve("api", "Qualifier=1"), "api:1");
	CHECK_STR(resolve("api", "x=y&Qualifier=live&z"), "api:live");
	CHECK_STR(resolve("api:1", "Qualifier=1"), "api:1");
}

TEST(qualifiers_that_disagree_are_invalid_parameter_value)
{
	CHECK_STR(resolve("api:1", "Qualifier=2"),
		  "400 InvalidParameterValueException: The derived qualifier from the function name does "
		  "not match the specified qualifier.");
	CHECK_STR(body_of(&err), "{\"Type\":\"User\",\"message\":\"The derived qualifier from the "
				 "function name does not match the specified qualifier.\"}");
}

TEST(unknown_function_or_qualifier_is_not_found_with_the_arn)
{
	CHECK_STR(resolve("nope", NULL), "404 ResourceNotFoundException: Function not found: "
					 "arn:aws:lambda:us-east-1:123456789012:function:nope");
	CHECK_STR(body_of(&err), "{\"Message\":\"Function not found: arn:aws:lambda:us-east-1:"
				 "123456789012:function:nope\",\"Type\":\"User\"}");
	CHECK_STR(resolve("api", "Qualifier=9"), "404 ResourceNotFoundException: Function not found: "
						 "arn:aws:lambda:us-east-1:123456789012:function:api:9");
	CHECK_STR(resolve("api:beta", NULL), "404 ResourceNotFoundException: Function not found: "
					     "arn:aws:lambda:us-east-1:123456789012:function:api:beta");
}

TEST(another_region_or_account_is_not_found)
{
	CHECK_STR(resolve("arn:aws:lambda:eu-west-1:123456789012:function:api", NULL),
		  "404 ResourceNotFoundException: Function not found: "
		  "arn:aws:lambda:eu-west-1:123456789012:function:api");
	CHECK_STR(resolve("999999999999:function:api:1", NULL),
		  "404 ResourceNotFoundException: Function not found: "
		  "arn:aws:lambda:us-east-1:999999999999:function:api:1");
	CHECK_STR(resolve("arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:api", NULL),
		  "404 ResourceNotFoundException: Function not found: "
		  "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:api");
}

TEST(endpoint_function_takes_any_qualifier)
{
	CHECK_STR(resolve("remote", "Qualifier=prod"), "remote:prod");
	CHECK_STR(resolve("remote:7", NULL), "remote:7");
}

TEST(malformed_function_names_are_validation_errors)
{
	static const char *const bad[] = {
		"a%20b", "api:", ":api", "api:1:2", "a:b:c", "123:function:api",
		"arn:aws:s3:us-east-1:123456789012:function:api",
		"arn:aws:lambda:useast1:123456789012:function:api",
		"arn:aws:lambda:us-east-1:123456789012:layer:api",
		"arn:aws:lambda:us-east-1:123456789012:function",
		"api:b%2Fc", "%00", "",
	};
	char long_name[200];

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		const char *got = resolve(bad[i], NULL);
		if (strncmp(got, "400 ValidationException: 1 validation error detected: Value '", 61) != 0 ||
		    !strstr(got, "' at 'functionName' failed to satisfy constraint: Member must satisfy "
				 "regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?"))
			FAIL_AT("%s: %s", bad[i], got);
	}
	memset(long_name, 'a', 171);
	long_name[171] = '\0';
	CHECK(strncmp(resolve(long_name, NULL), "400 ValidationException", 23) == 0);
	CHECK_STR(resolve("a%20b", NULL) + 25, "1 validation error detected: Value 'a b' at 'functionName' "
		  "failed to satisfy constraint: Member must satisfy regular expression pattern: "
		  "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?"
		  "(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?");
	CHECK_STR(body_of(&err), "{\"message\":\"1 validation error detected: Value 'a b' at "
		  "'functionName' failed to satisfy constraint: Member must satisfy regular expression "
		  "pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\\\d{1}:)?"
		  "(\\\\d{12}:)?(function:)?([a-zA-Z0-9-_\\\\.]+)(:(\\\\$LATEST|[a-zA-Z0-9-_]+))?\"}");
}

TEST(malformed_query_qualifier_is_a_validation_error)
{
	CHECK_STR(resolve("api", "Qualifier=a%20b"),
		  "400 ValidationException: 1 validation error detected: Value 'a b' at 'qualifier' "
		  "failed to satisfy constraint: Member must satisfy regular expression pattern: "
		  "(|[a-zA-Z0-9$_-]+)");
}

TEST(invocation_and_log_types)
{
	enum invoke_type t;
	struct sv v;
	bool tail;

	CHECK(invoke_api_invocation_type(NULL, &t, &err) == 0 && t == INVOKE_TYPE_REQUEST_RESPONSE);
	v = SV("Event");
	CHECK(invoke_api_invocation_type(&v, &t, &err) == 0 && t == INVOKE_TYPE_EVENT);
	v = SV("DryRun");
	CHECK(invoke_api_invocation_type(&v, &t, &err) == 0 && t == INVOKE_TYPE_DRY_RUN);
	v = SV("event");
	CHECK_INT(invoke_api_invocation_type(&v, &t, &err), -1);
	CHECK_STR(err.message, "1 validation error detected: Value 'event' at 'invocationType' failed to "
			       "satisfy constraint: Member must satisfy enum value set: [Event, "
			       "RequestResponse, DryRun]");
	CHECK(invoke_api_log_type(NULL, &tail, &err) == 0 && !tail);
	v = SV("None");
	CHECK(invoke_api_log_type(&v, &tail, &err) == 0 && !tail);
	v = SV("Tail");
	CHECK(invoke_api_log_type(&v, &tail, &err) == 0 && tail);
	v = SV("tail");
	CHECK_INT(invoke_api_log_type(&v, &tail, &err), -1);
	CHECK_STR(err.type, "ValidationException");
}

TEST(payload_limits_are_6_mb_sync_and_1_mb_event)
{
	CHECK_INT(invoke_api_payload_max(INVOKE_TYPE_REQUEST_RESPONSE), 6291456);
	CHECK_INT(invoke_api_payload_max(INVOKE_TYPE_DRY_RUN), 6291456);
	CHECK_INT(invoke_api_payload_max(INVOKE_TYPE_EVENT), 1048576);
	CHECK_INT(invoke_api_check_payload(INVOKE_TYPE_REQUEST_RESPONSE, "", 0, 6291457, &err), -1);
	CHECK_INT(err.status, 413);
	CHECK_STR(body_of(&err), "{\"Type\":\"User\",\"message\":\"6291457 byte payload is too large for "
				 "the RequestResponse invocation type (limit 6291456 bytes)\"}");
	CHECK_STR(err.type, "RequestEntityTooLargeException");
	CHECK_INT(invoke_api_check_payload(INVOKE_TYPE_EVENT, "", 0, 2000000, &err), -1);
	CHECK_STR(err.message, "2000000 byte payload is too large for the Event invocation type (limit "
			       "1048576 bytes)");
}

#define PARSE_PREFIX "Could not parse request body into json: Could not parse payload into json: "

TEST(payload_must_be_json_of_any_kind)
{
	static const char *const ok[] = { "{}", "[1,2]", "\"s\"", "42", "null", " {\"a\":\"\\u0000\"} ",
					  "123456789012345678901234567890", "", " \r\n" };
	static const char *const bad[] = { "x", "{\"a\":1", "{} {}", "{'a':1}", "\xff" };

	for (size_t i = 0; i < ARRAY_LEN(ok); i++)
		if (invoke_api_check_payload(INVOKE_TYPE_REQUEST_RESPONSE, ok[i], strlen(ok[i]), strlen(ok[i]),
					     &err) != 0)
			FAIL_AT("'%s' rejected: %s", ok[i], err.message);
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		if (invoke_api_check_payload(INVOKE_TYPE_EVENT, bad[i], strlen(bad[i]), strlen(bad[i]), &err) == 0) {
			FAIL_AT("'%s' accepted", bad[i]);
			continue;
		}
		CHECK_INT(err.status, 400);
		CHECK_STR(err.type, "InvalidRequestContentException");
		CHECK(strncmp(err.message, PARSE_PREFIX, strlen(PARSE_PREFIX)) == 0);
	}
}

#define CONTEXT_JSON "{\"client\":{\"app_title\":\"t\"},\"custom\":{\"k\":\"v\"},\"env\":{\"locale\":\"en\"}}"
#define CONTEXT_B64 "eyJjbGllbnQiOnsiYXBwX3RpdGxlIjoidCJ9LCJjdXN0b20iOnsiayI6InYifSwiZW52Ijp7ImxvY2FsZSI6ImVuIn19"

TEST(client_context_is_decoded_to_its_json_text)
{
	struct buf out = BUF_INIT;
	struct sv v = SV(CONTEXT_B64);

	CHECK_INT(invoke_api_client_context(&v, &out, &err), 0);
	CHECK_STR(buf_cstr(&out), CONTEXT_JSON);
	/* The text as sent, whitespace and all. */
	buf_reset(&out);
	v = SV("IHsKfSA=");
	CHECK_INT(invoke_api_client_context(&v, &out, &err), 0);
	CHECK_STR(buf_cstr(&out), " {\n} ");
	buf_release(&out);
}

TEST(absent_or_empty_client_context_is_none)
{
	struct buf out = BUF_INIT;
	struct sv v = SV("");

	CHECK_INT(invoke_api_client_context(NULL, &out, &err), 0);
	CHECK_INT(invoke_api_client_context(&v, &out, &err), 0);
	CHECK_INT(out.len, 0);
	buf_release(&out);
}

TEST(client_context_must_be_base64_of_a_json_object)
{
	/* a JSON array, string, number; cut JSON; two values; not UTF-8; not base64; bad padding */
	static const char *const bad[] = { "WzFd", "InMi", "NDI=", "eyJhIjox", "e30ge30=", "/w==", "e30*",
					   "e30", "e3 0=" };
	struct buf out = BUF_INIT;

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct sv v = sv_from(bad[i]);

		if (invoke_api_client_context(&v, &out, &err) == 0) {
			FAIL_AT("'%s' accepted", bad[i]);
			continue;
		}
		CHECK_INT(out.len, 0);
		CHECK_INT(err.status, 400);
		CHECK_STR(err.type, "InvalidRequestContentException");
		CHECK_STR(body_of(&err), "{\"Type\":\"User\",\"message\":\"Client context must be a valid "
					 "Base64-encoded JSON object.\"}");
	}
	buf_release(&out);
}

TEST(client_context_is_at_most_3583_bytes_of_base64)
{
	char b64[3588];
	struct buf out = BUF_INIT;
	struct sv v;

	/* {"k":"   ...   "} with 2676 spaces: 2685 bytes, 3580 of base64 */
	memcpy(b64, "eyJrIjoi", 8);   /* {"k":" */
	for (size_t i = 8; i < sizeof(b64) - 4; i += 4)
		memcpy(b64 + i, "ICAg", 4);   /* three spaces */
	memcpy(b64 + 3576, "In0g", 4);  /* "} and a space */
	v = (struct sv){ b64, 3580 };
	CHECK_INT(invoke_api_client_context(&v, &out, &err), 0);
	CHECK_INT(out.len, 2685);
	buf_reset(&out);
	v = (struct sv){ b64, 3584 };
	CHECK_INT(invoke_api_client_context(&v, &out, &err), -1);
	CHECK_INT(out.len, 0);
	CHECK_INT(err.status, 400);
	CHECK_STR(err.type, "InvalidRequestContentException");
	CHECK_STR(err.message, "Client context must be at most 3583 bytes of Base64 (got 3584).");
	buf_release(&out);
}

TEST(throttling_names_the_limit_that_was_hit)
{
	invoke_api_throttled(&functions[1], &err);
	CHECK_INT(err.status, 429);
	CHECK_STR(body_of(&err), "{\"Reason\":\"ReservedFunctionConcurrentInvocationLimitExceeded\","
				 "\"Type\":\"User\",\"message\":\"Rate Exceeded.\"}");
	invoke_api_throttled(&functions[0], &err);
	CHECK_STR(body_of(&err), "{\"Reason\":\"ConcurrentInvocationLimitExceeded\",\"Type\":\"User\","
				 "\"message\":\"Rate Exceeded.\"}");
}

TEST(service_exception_is_a_service_fault)
{
	invoke_api_service_error("it \"broke\"", &err);
	CHECK_INT(err.status, 500);
	CHECK_STR(err.type, "ServiceException");
	CHECK_STR(body_of(&err), "{\"Message\":\"it \\\"broke\\\"\",\"Type\":\"Service\"}");
}

TEST(http_layer_refusals_are_aws_errors_with_their_status)
{
	invoke_api_http_error(408, &err);
	CHECK_INT(err.status, 408);
	CHECK_STR(err.type, "RequestTimeoutException");
	CHECK_STR(body_of(&err), "{\"message\":\"Reading the request timed out.\"}");
	invoke_api_http_error(501, &err);
	CHECK_INT(err.status, 501);
	CHECK_STR(err.type, "NotImplemented");
	CHECK_STR(body_of(&err), "{\"message\":\"A header you provided implies functionality that is not "
				 "implemented: Transfer-Encoding\"}");
	invoke_api_http_error(505, &err);
	CHECK_INT(err.status, 505);
	CHECK_STR(err.type, "HttpVersionNotSupported");
	CHECK_STR(body_of(&err), "{\"message\":\"The HTTP version specified is not supported.\"}");
	invoke_api_http_error(400, &err);
	CHECK_INT(err.status, 400);
	CHECK_STR(err.type, "InvalidRequestContentException");
	CHECK_STR(body_of(&err), "{\"Type\":\"User\",\"message\":\"malformed HTTP request\"}");
}

int main(void)
{
	RUN(invoke_path_is_post_functions_name_invocations);
	RUN(function_name_forms_all_name_the_function);
	RUN(latest_is_the_unqualified_function);
	RUN(query_qualifier_is_read_among_other_parameters);
	RUN(qualifiers_that_disagree_are_invalid_parameter_value);
	RUN(unknown_function_or_qualifier_is_not_found_with_the_arn);
	RUN(another_region_or_account_is_not_found);
	RUN(endpoint_function_takes_any_qualifier);
	RUN(malformed_function_names_are_validation_errors);
	RUN(malformed_query_qualifier_is_a_validation_error);
	RUN(invocation_and_log_types);
	RUN(payload_limits_are_6_mb_sync_and_1_mb_event);
	RUN(payload_must_be_json_of_any_kind);
	RUN(client_context_is_decoded_to_its_json_text);
	RUN(absent_or_empty_client_context_is_none);
	RUN(client_context_must_be_base64_of_a_json_object);
	RUN(client_context_is_at_most_3583_bytes_of_base64);
	RUN(throttling_names_the_limit_that_was_hit);
	RUN(service_exception_is_a_service_fault);
	RUN(http_layer_refusals_are_aws_errors_with_their_status);
	return test_done();
}
