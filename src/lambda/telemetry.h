/*
 * telemetry: Telemetry API subscriptions of one sandbox. Each subscriber
 * gets the events of the types it chose, buffered as Lambda buffers them
 * (maxItems, maxBytes, timeoutMs) and POSTed as a JSON array to its
 * destination, one batch at a time, in order.
 */
#ifndef LB_TELEMETRY_H
#define LB_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alb/ext_api.h"

struct event_base;
struct telemetry;

/* backlog: keep the init phase's events for subscribers to come (extensions were started). */
struct telemetry *telemetry_new(struct event_base *base, bool backlog);
/* Adds or replaces the subscription of extension id. */
void telemetry_subscribe(struct telemetry *t, const char *id, const struct telemetry_sub *s);
/* Whether anyone subscribed to type (TEL_*): callers skip building events otherwise. */
bool telemetry_wants(const struct telemetry *t, unsigned type);
/* Queues one event (ext_api_telemetry_event's JSON, borrowed) for type's subscribers. */
void telemetry_emit(struct telemetry *t, unsigned type, const char *event_json);
/* A platform event: type "platform.start" etc., record a JSON object text. */
void telemetry_platform(struct telemetry *t, const char *type, const char *record_json);
/* platform.initStart. */
void telemetry_init_start(struct telemetry *t, bool provisioned, const char *function_name, const char *version);
/* Init is over: platform.initRuntimeDone. Until then events are also kept (up
 * to 1000) and replayed to each new subscriber, as Lambda does for
 * subscriptions made during init. */
void telemetry_init_done(struct telemetry *t, bool provisioned);
/* platform.start. */
void telemetry_start(struct telemetry *t, const char *request_id, const char *version);

struct telemetry_report {
	const char *request_id;
	const char *status;       /* success, error, timeout, failure */
	double duration_ms;
	long billed_ms;
	int memory_mb, max_memory_mb;
	double init_ms;           /* < 0: not a cold start */
};

/* platform.runtimeDone and platform.report. */
void telemetry_report(struct telemetry *t, const struct telemetry_report *r);
/* A line of output: the function's ("function" record) or an extension's ("extension"). */
void telemetry_output(struct telemetry *t, bool extension, const char *line, size_t n);
/* Sends every buffered batch now (before a shutdown). */
void telemetry_flush(struct telemetry *t);
void telemetry_free(struct telemetry *t);

#endif
