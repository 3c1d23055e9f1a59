/*
 * Fuzzes the Invoke API's request rules (alb/invoke_api): any path, query,
 * X-Amz-* header values and payload must resolve or produce one of AWS's
 * errors, whose JSON body must parse.
 *
 * Input: METHOD\0PATH\0QUERY\0INVOCATION-TYPE\0LOG-TYPE\0PAYLOAD (missing
 * parts are absent). PAYLOAD doubles as an X-Amz-Client-Context value: a
 * context that is taken must decode to a JSON object with no NUL byte (it
 * becomes a header line and a C string).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alb/invoke_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

static struct function_version versions[] = { { .version = "1" }, { .version = "2" } };
static struct function_alias aliases[] = { { .name = "live", .function_version = "1" } };
static struct function_cfg functions[] = {
	{ .name = "api", .reserved_concurrency = -1, .nversions = 2, .versions = versions,
	  .naliases = 1, .aliases = aliases },
	{ .name = "remote", .endpoint = "http://127.0.0.1:9000", .reserved_concurrency = 3 },
};
static const struct config cfg = {
	.lb = { .region = "us-east-1", .account_id = "123456789012" },
	.nfunctions = 2,
	.functions = functions,
};

/* Checks an error: a status AWS uses and a body that is JSON. */
static void check_error(const struct invoke_error *e)
{
	struct buf body;
	json_t *doc;

	if (e->status < 400 || e->status > 599 || !e->type)
		abort();
	buf_init(&body, 0);
	invoke_api_error_body(e, &body);
	doc = json_loadb(body.p, body.len, 0, NULL);
	if (!doc)
		abort();
	json_decref(doc);
	buf_release(&body);
}

static void check_client_context(const struct sv *value)
{
	struct buf out;
	struct invoke_error e;
	json_t *doc;

	buf_init(&out, 0);
	if (invoke_api_client_context(value, &out, &e) < 0) {
		check_error(&e);
		if (out.len)
			abort();
	} else if (out.len) {
		doc = json_loadb(out.p, out.len, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, NULL);
		if (!json_is_object(doc) || strlen(out.p) != out.len)
			abort();
		json_decref(doc);
	}
	buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	struct sv part[6] = {SV_NULL, SV_NULL, SV_NULL, SV_NULL, SV_NULL, SV_NULL};
	size_t np = 0, at = 0;
	char *in = malloc(n ? n : 1);
	struct sv name;
	struct invoke_target t;
	struct invoke_error e;
	enum invoke_type type = INVOKE_TYPE_REQUEST_RESPONSE;
	bool tail;

	memcpy(in, data, n);
	while (np < 6 && at <= n) {
		const char *end = np < 5 ? memchr(in + at, 0, n - at) : NULL;
		size_t len = end ? (size_t)(end - (in + at)) : n - at;

		part[np++] = (struct sv){in + at, len};
		at += len + 1;
		if (!end)
			break;
	}
	memset(&e, 0, sizeof(e));
	if (invoke_api_is_invoke(part[0], part[1], &name)) {
		memset(&t, 0, sizeof(t));
		if (invoke_api_resolve(&cfg, name, part[2], &t, &e) < 0)
			check_error(&e);
		else if (!t.fn || strlen(t.qualifier) >= sizeof(t.qualifier))
			abort();
	}
	if (np > 3 && invoke_api_invocation_type(&part[3], &type, &e) < 0)
		check_error(&e);
	if (np > 4 && invoke_api_log_type(&part[4], &tail, &e) < 0)
		check_error(&e);
	if (np > 5 && invoke_api_check_payload(type, part[5].p, part[5].n, part[5].n, &e) < 0)
		check_error(&e);
	if (np > 5)
		check_client_context(&part[5]);
	free(in);
	return 0;
}
