/*
 * async_invoke: Event invocations, Lambda's way (DESIGN.md §18).
 *
 * Each event waits in its function's queue (a list per function), and runs
 * through lambda_invoke under the request id its 202 gave, which it keeps
 * through retries as Lambda's events do. After an attempt:
 * - a result: the Success record goes to on_success;
 * - a function error, timeout or crash: retried after the policy's delay
 *   (about 1 then 2 minutes, or LB_ASYNC_RETRY_DELAYS), until
 *   maximum_retry_attempts retries ran; then RetriesExhausted to on_failure;
 * - throttled (or a remote endpoint unreachable): retried with backoff
 *   without using up a retry, as Lambda does for throttles and system errors;
 * - before any retry, an event older than maximum_event_age_in_seconds is
 *   dropped: EventAgeExceeded to on_failure.
 * One log line per retry and per drop. A destination function gets the
 * record as its own asynchronous event (Lambda invokes destinations
 * asynchronously); file:PATH gets it appended as one JSON line.
 *
 * Events hold a reference to the configuration they were queued under, so a
 * reload does not pull their function from under them; an attempt after a
 * reload runs the function as configured now (dropped if it is gone).
 */
#include "lambda/async_invoke.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alb/async_record.h"
#include "base/buf.h"
#include "base/log.h"
#include "lambda/lambda.h"

struct async_event;

/* The events of one function, oldest first. */
/*
 * What lb counts for an event besides its payload and its last response (its
 * record, trace id, client context and timer, with allocator overhead). Why:
 * counting payloads alone, 128 MB of empty events ("{}") was 67 million
 * events, and their records and the 6 MB responses kept for retries were
 * never counted: the bound bounded nothing.
 */
#define EVENT_COST 1024

struct fn_queue {
	struct fn_queue *next;
	char *name;
	struct async_event *head, *last;
	size_t n;
	bool throttle_told;           /* a throttle was logged; none more until an event runs */
};

struct async_event {
	struct async_invoke *a;
	struct fn_queue *q;
	struct async_event *next, *prev;
	struct config *cfg;
	const struct function_cfg *fn;
	char *qualifier;              /* NULL for $LATEST */
	char *payload, *trace;
	char *client_context;         /* kept through retries, as the payload; or NULL */
	size_t len;
	char request_id[37];
	int64_t queued_us;            /* monotonic */
	struct event *timer;
	struct invocation *inv;       /* the attempt running, or NULL */
	struct async_policy policy;
	int attempts, throttles;
	/* the last attempt's answer, for EventAgeExceeded's record */
	bool responded, failed;
	char *version, *response;
	size_t response_len;
};

struct async_invoke {
	struct event_base *base;
	struct lambda *lambda;
	struct rng *rng;
	struct fn_queue *queues;
	size_t running;
	int delays[2];
	bool test_delays;
	int max_age;                  /* LB_ASYNC_MAX_AGE, 0: none */
	size_t queued_bytes;          /* what the queued events hold: EVENT_COST, payload, last response */
	size_t queued_max;            /* ASYNC_QUEUED_MAX, or LB_ASYNC_QUEUED_MAX */
	bool full;                    /* the last submit found no room (logged once) */
	struct config *cfg;           /* the current configuration, or NULL */
	struct buf scratch;
};

static void attempt(struct async_event *e);

static struct fn_queue *queue_of(struct async_invoke *a, const char *name)
{
	struct fn_queue *q;

	for (q = a->queues; q; q = q->next)
		if (strcmp(q->name, name) == 0)
			return q;
	q = xcalloc(1, sizeof(*q));
	q->name = xstrdup(name);
	q->next = a->queues;
	a->queues = q;
	return q;
}

static void event_drop(struct async_event *e)
{
	struct fn_queue *q = e->q;

	if (e->prev)
		e->prev->next = e->next;
	else
		q->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		q->last = e->prev;
	q->n--;
	e->a->queued_bytes -= EVENT_COST + e->len + e->response_len;
	if (e->inv) {
		lambda_cancel(e->inv);
		e->a->running--;
	}
	event_free(e->timer);
	config_unref(e->cfg);
	free(e->qualifier);
	free(e->payload);
	free(e->trace);
	free(e->client_context);
	free(e->version);
	free(e->response);
	free(e);
}

/* --- destinations ------------------------------------------------------------------ */

static void append_line(const char *fn, const char *path, const struct buf *rec)
{
	FILE *f = fopen(path, "a");
	bool failed = !f;

	if (f) {
		failed = fprintf(f, "%.*s\n", (int)rec->len, rec->p) < 0;
		failed |= fclose(f) != 0;   /* closed once, whatever fprintf did */
	}
	if (failed)
		log_warn("function %s: could not append the invocation record to %s: %s", fn, path,
			 strerror(errno));
}

static void deliver(struct async_event *e, enum async_condition cond)
{
	struct async_invoke *a = e->a;
	const struct async_destination *d = cond == ASYNC_COND_SUCCESS ? &e->fn->async.on_success
								       : &e->fn->async.on_failure;
	const struct function_cfg *target;
	struct async_record r;
	char arn[512];
	char id[37];

	if (!d->raw)
		return;
	snprintf(arn, sizeof(arn), "arn:aws:lambda:%s:%s:function:%s:%s", e->cfg->lb.region,
		 e->cfg->lb.account_id, e->fn->name, e->qualifier ? e->qualifier : "$LATEST");
	r = (struct async_record){
		.wall_us = time_wall_us(),
		.request_id = e->request_id,
		.function_arn = arn,
		.condition = cond,
		.invoke_count = e->attempts,
		.request = e->payload,
		.request_len = e->len,
		.responded = e->responded,
		.executed_version = e->version,
		.function_error = e->failed,
		.response = e->response,
		.response_len = e->response_len,
	};
	buf_reset(&a->scratch);
	async_record_json(&r, &a->scratch);
	if (d->file) {
		append_line(e->fn->name, d->file, &a->scratch);
		return;
	}
	if (!(target = config_function(e->cfg, d->function))) {
		log_warn("function %s: destination function %s is gone", e->fn->name, d->function);
		return;
	}
	/* A destination's event is a new invocation with the record as its payload: no client context. */
	if (!async_invoke_submit(a, e->cfg, target, d->qualifier, a->scratch.p, a->scratch.len, e->trace, NULL, id))
		log_warn("function %s: its destination %s's event is dropped: the queue is full", e->fn->name,
			 d->function);
}

/* --- attempts ---------------------------------------------------------------------- */

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	attempt(arg);
}

static void later(struct async_event *e, int seconds)
{
	struct timeval tv = { seconds, 0 };

	evtimer_add(e->timer, &tv);
}

static void keep_response(struct async_event *e, const struct invoke_result *res)
{
	e->a->queued_bytes = e->a->queued_bytes - e->response_len + res->len;
	free(e->version);
	free(e->response);
	e->version = xstrdup(res->version ? res->version : "$LATEST");
	e->response = xmalloc(res->len + 1);
	memcpy(e->response, res->payload, res->len);
	e->response[res->len] = '\0';
	e->response_len = res->len;
	e->responded = true;
	e->failed = res->status != INVOKE_OK;
}

static void on_done(void *cookie, const struct invoke_result *res)
{
	struct async_event *e = cookie;
	enum async_outcome outcome = ASYNC_OUTCOME_ERROR;
	struct async_step step;
	char detail[301];   /* the function's bytes, escaped: one line, whatever it sent */

	e->inv = NULL;
	e->a->running--;
	if (res->status == INVOKE_THROTTLED || (res->status == INVOKE_UNREACHABLE && !res->remote_delivered)) {
		/* Why: Lambda retries throttles and system errors until the event's maximum age;
		 * an endpoint that took the event and then failed to answer ran it, and that
		 * counts as an attempt, as a function timeout does. */
		outcome = ASYNC_OUTCOME_THROTTLED;
		e->attempts--;
		e->throttles++;
	} else {
		if (res->status == INVOKE_OK)
			outcome = ASYNC_OUTCOME_OK;
		keep_response(e, res);
		e->q->throttle_told = false;
	}
	step = async_next(&e->policy, outcome, e->attempts, e->throttles);
	switch (step.action) {
	case ASYNC_SUCCESS:
		deliver(e, ASYNC_COND_SUCCESS);
		event_drop(e);
		return;
	case ASYNC_RETRY:
		if (outcome == ASYNC_OUTCOME_THROTTLED) {
			/* Why once: a backlog of events retried with backoff would log a line
			 * per event per retry (120,000 lines in seconds for 40,000 events). */
			if (!e->q->throttle_told)
				log_warn("function %s: Event %s throttled (%s); retrying in %ds (events of "
					 "%s throttled from now on are retried unlogged until one runs)",
					 e->fn->name, e->request_id, res->error_type ? res->error_type : "?",
					 step.delay, e->fn->name);
			e->q->throttle_told = true;
		} else
			log_warn("function %s: Event %s attempt %d of %d failed: %s; retrying in %ds",
				 e->fn->name, e->request_id, e->attempts, e->policy.max_retries + 1,
				 log_escape(detail, sizeof(detail), res->payload, res->len, false), step.delay);
		later(e, step.delay);
		return;
	case ASYNC_RETRIES_EXHAUSTED:
		log_warn("function %s: Event %s dropped after %d attempt%s (RetriesExhausted): %s",
			 e->fn->name, e->request_id, e->attempts, e->attempts == 1 ? "" : "s",
			 log_escape(detail, sizeof(detail), res->payload, res->len, false));
		deliver(e, ASYNC_COND_RETRIES_EXHAUSTED);
		event_drop(e);
		return;
	}
}

static void attempt(struct async_event *e)
{
	struct invoke_request ir = { e->cfg, e->fn, e->qualifier, e->payload, e->len, e->trace, false,
				     e->client_context };
	int64_t age_s = (time_mono_us() - e->queued_us) / 1000000;
	const struct function_cfg *now;

	/* A retry after a reload runs the function as configured now, as Lambda runs its current code. */
	if (e->a->cfg && e->a->cfg != e->cfg) {
		if (!(now = config_function(e->a->cfg, e->fn->name))) {
			log_warn("function %s: Event %s dropped: the function is no longer configured",
				 e->fn->name, e->request_id);
			event_drop(e);
			return;
		}
		config_unref(e->cfg);
		e->cfg = config_ref(e->a->cfg);
		e->fn = now;
		ir.cfg = e->cfg;
		ir.fn = e->fn;
	}

	/* Why: Lambda discards an event older than maximum_event_age_in_seconds. */
	if (async_expired(&e->policy, age_s)) {
		log_warn("function %s: Event %s dropped after %d attempt%s: older than %ds (EventAgeExceeded)",
			 e->fn->name, e->request_id, e->attempts, e->attempts == 1 ? "" : "s", e->policy.max_age);
		deliver(e, ASYNC_COND_EVENT_AGE_EXCEEDED);
		event_drop(e);
		return;
	}
	e->attempts++;
	e->a->running++;
	e->inv = lambda_invoke_as(e->a->lambda, &ir, e->request_id, on_done, e);
}

bool async_invoke_submit(struct async_invoke *a, struct config *cfg, const struct function_cfg *fn,
			 const char *qualifier, const char *payload, size_t len, const char *trace,
			 const char *client_context, char request_id[37])
{
	struct async_event *e;
	struct fn_queue *q;
	int max_age = fn->async.max_age;

	/* lb's own bound (Lambda's queue is AWS's): memory for events, not unbounded. */
	if (a->queued_bytes + EVENT_COST + len > a->queued_max) {
		if (!a->full)
			log_warn("asynchronous events: %zu bytes queued, lb's limit: new events are refused "
				 "until some have run", a->queued_bytes);
		a->full = true;
		return false;
	}
	a->full = false;
	a->queued_bytes += EVENT_COST + len;
	e = xcalloc(1, sizeof(*e));
	q = queue_of(a, fn->name);

	if (a->max_age && a->max_age < max_age)
		max_age = a->max_age;
	e->a = a;
	e->q = q;
	e->cfg = config_ref(cfg);
	e->fn = fn;
	e->qualifier = qualifier && *qualifier ? xstrdup(qualifier) : NULL;
	e->payload = xmalloc(len + 1);
	memcpy(e->payload, payload, len);
	e->payload[len] = '\0';
	e->len = len;
	e->trace = xstrdup(trace);
	e->client_context = client_context ? xstrdup(client_context) : NULL;
	e->queued_us = time_mono_us();
	e->timer = evtimer_new(a->base, on_timer, e);
	async_policy_init(&e->policy, fn->async.max_retries, max_age, a->test_delays ? a->delays : NULL);
	rng_uuid(a->rng, e->request_id);
	memcpy(request_id, e->request_id, 37);
	e->prev = q->last;
	if (q->last)
		q->last->next = e;
	else
		q->head = e;
	q->last = e;
	q->n++;
	/* The first attempt starts from the loop, never inside the caller. */
	later(e, 0);
	return true;
}

void async_invoke_set_config(struct async_invoke *a, struct config *cfg)
{
	struct config *old = a->cfg;

	a->cfg = config_ref(cfg);
	config_unref(old);
}

size_t async_invoke_running(const struct async_invoke *a)
{
	return a->running;
}

struct async_invoke *async_invoke_new(struct event_base *base, struct lambda *lambda, struct rng *rng)
{
	struct async_invoke *a = xcalloc(1, sizeof(*a));
	const char *d = getenv("LB_ASYNC_RETRY_DELAYS"), *age = getenv("LB_ASYNC_MAX_AGE");
	const char *qmax = getenv("LB_ASYNC_QUEUED_MAX");

	a->base = base;
	a->queued_max = qmax && *qmax ? strtoull(qmax, NULL, 10) : ASYNC_QUEUED_MAX;
	a->lambda = lambda;
	a->rng = rng;
	buf_init(&a->scratch, 0);
	if (d && *d) {
		if (async_parse_delays(d, a->delays) == 0)
			a->test_delays = true;
		else
			log_warn("LB_ASYNC_RETRY_DELAYS='%s' is not two delays in seconds (\"1,2\"): ignored", d);
	}
	if (age && *age) {
		char *end;
		long v = strtol(age, &end, 10);

		if (*end || v < 1 || v > 21600)
			log_warn("LB_ASYNC_MAX_AGE='%s' is not 1-21600 seconds: ignored", age);
		else
			a->max_age = (int)v;
	}
	return a;
}

void async_invoke_free(struct async_invoke *a)
{
	size_t dropped = 0;

	if (!a)
		return;
	while (a->queues) {
		struct fn_queue *q = a->queues;

		a->queues = q->next;
		while (q->head) {
			dropped++;
			event_drop(q->head);
		}
		free(q->name);
		free(q);
	}
	if (dropped)
		log_info("%zu asynchronous event%s dropped at exit", dropped, dropped == 1 ? "" : "s");
	buf_release(&a->scratch);
	config_unref(a->cfg);
	free(a);
}
