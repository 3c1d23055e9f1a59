/*
 * async_record: retry decisions and invocation records for asynchronous
 * invocation (DESIGN.md §18).
 *
 * The record is Lambda's (invocation-async-retain-records): version "1.0", a
 * millisecond UTC timestamp, requestContext {requestId, functionArn,
 * condition, approximateInvokeCount}, requestPayload (the event as JSON),
 * then, when an attempt ran, responseContext {statusCode 200,
 * executedVersion, functionError when it failed} and responsePayload (the
 * function's result or error document; a result that is not JSON is a
 * string). An event dropped before any attempt ran (throttled until its age
 * ran out) has no response parts: there was none.
 */
#include "alb/async_record.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

void async_policy_init(struct async_policy *p, int max_retries, int max_age, const int *test_delays)
{
	p->max_retries = max_retries;
	p->max_age = max_age;
	p->delays[0] = test_delays ? test_delays[0] : ASYNC_RETRY_DELAY_1;
	p->delays[1] = test_delays ? test_delays[1] : ASYNC_RETRY_DELAY_2;
	p->throttle_max = test_delays ? (test_delays[0] > 0 ? test_delays[0] : 1) : ASYNC_THROTTLE_DELAY_MAX;
}

struct async_step async_next(const struct async_policy *p, enum async_outcome outcome, int attempts,
			     int throttles)
{
	struct async_step s = { ASYNC_SUCCESS, 0 };
	int d = 1;

	if (outcome == ASYNC_OUTCOME_OK)
		return s;
	if (outcome == ASYNC_OUTCOME_THROTTLED) {
		for (int i = 1; i < throttles && d < p->throttle_max; i++)
			d *= 2;
		s.action = ASYNC_RETRY;
		s.delay = d < p->throttle_max ? d : p->throttle_max;
		return s;
	}
	if (attempts > p->max_retries) {
		s.action = ASYNC_RETRIES_EXHAUSTED;
		return s;
	}
	s.action = ASYNC_RETRY;
	s.delay = p->delays[attempts >= 2 ? 1 : 0];
	return s;
}

bool async_expired(const struct async_policy *p, int64_t age_s)
{
	return age_s >= p->max_age;
}

int async_parse_delays(const char *s, int out[2])
{
	for (int i = 0; i < 2; i++) {
		char *end;
		long v;

		if (*s < '0' || *s > '9')
			return -1;
		v = strtol(s, &end, 10);
		if (v > 3600 || *end != (i == 0 ? ',' : '\0'))
			return -1;
		out[i] = (int)v;
		s = end + 1;
	}
	return 0;
}

const char *async_condition_name(enum async_condition c)
{
	switch (c) {
	case ASYNC_COND_SUCCESS:
		return "Success";
	case ASYNC_COND_RETRIES_EXHAUSTED:
		return "RetriesExhausted";
	case ASYNC_COND_EVENT_AGE_EXCEEDED:
		return "EventAgeExceeded";
	}
	return "?";
}

/* A JSON value from text, or the text as a string when it is not JSON. */
static json_t *json_or_string(const char *p, size_t n)
{
	json_t *v = json_loadb(p, n, JSON_DECODE_ANY, NULL);

	if (!v)
		v = json_stringn(p, n);
	return v ? v : json_string("");  /* not UTF-8 either */
}

void async_record_json(const struct async_record *r, struct buf *out)
{
	json_t *rec = json_object(), *ctx = json_object();
	char ts[28], ms[25];
	char *text;

	/* Why: Lambda's timestamps have milliseconds: "2019-11-24T23:08:25.651Z". */
	time_iso8601_us(r->wall_us, ts);
	memcpy(ms, ts, 23);
	ms[23] = 'Z';
	ms[24] = '\0';
	json_object_set_new(rec, "version", json_string("1.0"));
	json_object_set_new(rec, "timestamp", json_string(ms));
	json_object_set_new(ctx, "requestId", json_string(r->request_id));
	json_object_set_new(ctx, "functionArn", json_string(r->function_arn));
	json_object_set_new(ctx, "condition", json_string(async_condition_name(r->condition)));
	json_object_set_new(ctx, "approximateInvokeCount", json_integer(r->invoke_count));
	json_object_set_new(rec, "requestContext", ctx);
	json_object_set_new(rec, "requestPayload", json_or_string(r->request, r->request_len));
	if (r->responded) {
		json_t *resp = json_object();

		json_object_set_new(resp, "statusCode", json_integer(200));
		json_object_set_new(resp, "executedVersion", json_string(r->executed_version));
		if (r->function_error)
			json_object_set_new(resp, "functionError", json_string("Unhandled"));
		json_object_set_new(rec, "responseContext", resp);
		json_object_set_new(rec, "responsePayload", json_or_string(r->response, r->response_len));
	}
	text = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	if (text)
		buf_puts(out, text);
	free(text);
	json_decref(rec);
}
