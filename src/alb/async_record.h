/*
 * async_record: asynchronous invocation's pure parts (DESIGN.md §18): the
 * retry policy (what follows an attempt, and when) and the invocation
 * record Lambda sends to a destination.
 *
 * Pure: no sockets, no clocks; times are arguments.
 */
#ifndef LB_ASYNC_RECORD_H
#define LB_ASYNC_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* Why: Lambda waits about one minute before the first retry and two before
 * the second (invocation-async-error-handling). */
#define ASYNC_RETRY_DELAY_1 60
#define ASYNC_RETRY_DELAY_2 120
/* Why: Lambda retries throttled events with exponential backoff, from one
 * second up to five minutes, until the event's maximum age. */
#define ASYNC_THROTTLE_DELAY_MAX 300

struct async_policy {
	int max_retries;     /* maximum_retry_attempts: 0-2 */
	int max_age;         /* maximum_event_age_in_seconds */
	int delays[2];       /* seconds before the first and the second retry */
	int throttle_max;    /* the longest wait after a throttle, seconds */
};

enum async_outcome { ASYNC_OUTCOME_OK, ASYNC_OUTCOME_ERROR, ASYNC_OUTCOME_THROTTLED };

enum async_action {
	ASYNC_SUCCESS,          /* deliver to on_success */
	ASYNC_RETRY,            /* try again in delay seconds */
	ASYNC_RETRIES_EXHAUSTED,/* deliver to on_failure: RetriesExhausted */
};

struct async_step {
	enum async_action action;
	int delay;              /* ASYNC_RETRY: seconds */
};

/*
 * What follows an attempt's outcome, given the attempts that ran (this one
 * included) and the throttles met so far (this one included). Throttles do
 * not use up retries.
 */
struct async_step async_next(const struct async_policy *p, enum async_outcome outcome, int attempts,
			     int throttles);
/* Whether an event aged age_s seconds may no longer be attempted. */
bool async_expired(const struct async_policy *p, int64_t age_s);
/* Lambda's delays, or LB_ASYNC_RETRY_DELAYS's (which also caps the throttle backoff). */
void async_policy_init(struct async_policy *p, int max_retries, int max_age, const int *test_delays);
/* "1,2" (LB_ASYNC_RETRY_DELAYS): two delays of 0-3600 seconds into out; -1 if malformed. */
int async_parse_delays(const char *s, int out[2]);

enum async_condition { ASYNC_COND_SUCCESS, ASYNC_COND_RETRIES_EXHAUSTED, ASYNC_COND_EVENT_AGE_EXCEEDED };

/* What a record says. */
struct async_record {
	int64_t wall_us;            /* its timestamp */
	const char *request_id;
	const char *function_arn;   /* with its qualifier: ...:function:NAME:$LATEST */
	enum async_condition condition;
	int invoke_count;           /* approximateInvokeCount */
	const char *request;        /* the event (JSON) */
	size_t request_len;
	bool responded;             /* an attempt ran: responseContext and responsePayload follow */
	const char *executed_version;
	bool function_error;        /* functionError: Unhandled */
	const char *response;       /* the last attempt's result or error document */
	size_t response_len;
};

/* Appends r as Lambda's invocation record, one line of JSON without a newline. */
void async_record_json(const struct async_record *r, struct buf *out);
const char *async_condition_name(enum async_condition c);

#endif
