/*
 * telemetry: batches of Telemetry API events POSTed to each subscriber.
 *
 * A subscriber's batch grows until it holds maxItems events or maxBytes,
 * or timeoutMs passes after its first event (Lambda's buffering); then it
 * is queued for sending. One POST is in flight per subscriber at a time
 * (a fresh connection, Connection: close), so batches arrive in order; a
 * destination that refuses or does not answer within 5 seconds loses that
 * batch, with one log line, as Lambda drops what it cannot deliver. So
 * does one that falls behind: past QUEUE_MAX batches waiting, new ones are
 * dropped (one line each time it starts), so memory stays bounded.
 *
 * During init every event is also kept (the backlog) for subscriptions to
 * come; each subscriber marks which of them it has had, so subscribing
 * again never sends one twice.
 */
#include "lambda/telemetry.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/util.h"

#define SEND_TIMEOUT_S 5
#define QUEUE_MAX 16                /* batches waiting per subscriber: at most 16 x maxBytes */

struct batch {
	struct batch *next;
	struct buf body;
};

/* Lambda buffers the init phase's events for subscriptions made during init. */
#define BACKLOG_MAX 1000

struct sub {
	struct sub *next;
	struct telemetry *t;
	char id[37];
	struct telemetry_sub s;
	struct buf cur;               /* the batch being filled: "[e1,e2" */
	int items;
	struct event *timer;
	struct batch *queue, **tail;  /* full batches waiting to be sent */
	int nqueued;
	bool dropping;                /* the last batch found the queue full */
	struct bufferevent *bev;      /* the POST in flight */
	uint8_t had[BACKLOG_MAX / 8]; /* the backlog's events it has had (bit i: event i) */
};

struct telemetry {
	struct event_base *base;
	struct sub *subs;
	bool backlog_open;            /* init is under way: keep events for late subscribers */
	char **backlog;               /* BACKLOG_MAX events, while backlog_open */
	unsigned *backlog_type;
	size_t nbacklog;
};

static void sub_emit(struct sub *s, const char *event_json);

static void send_next(struct sub *s);

static void post_done(struct sub *s)
{
	if (s->bev) {
		bufferevent_free(s->bev);
		s->bev = NULL;
	}
	send_next(s);
}

/* The answer's head has come: the batch is delivered, whatever the
 * destination does with the connection afterwards. */
static void on_post_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);

	if (evbuffer_search(in, "\r\n\r\n", 4, NULL).pos >= 0)
		post_done(arg);
}

static void on_post_event(struct bufferevent *bev, short what, void *arg)
{
	struct sub *s = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		log_warn("telemetry: cannot deliver a batch to 127.0.0.1:%d%s", s->s.port, s->s.path);
	post_done(s);
}

static void send_next(struct sub *s)
{
	struct batch *b = s->queue;
	struct sockaddr_in sin;
	struct timeval tv = { SEND_TIMEOUT_S, 0 };
	struct evbuffer *out;

	if (s->bev || !b)
		return;
	s->queue = b->next;
	if (!s->queue)
		s->tail = &s->queue;
	s->nqueued--;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)s->s.port);
	inet_pton(AF_INET, s->s.host, &sin.sin_addr);
	s->bev = bufferevent_socket_new(s->t->base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(s->bev, on_post_read, NULL, on_post_event, s);
	bufferevent_set_timeouts(s->bev, &tv, &tv);
	out = bufferevent_get_output(s->bev);
	evbuffer_add_printf(out,
			    "POST %s HTTP/1.1\r\nHost: sandbox.localdomain:%d\r\nContent-Type: application/json\r\n"
			    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			    s->s.path, s->s.port, b->body.len);
	evbuffer_add(out, b->body.p, b->body.len);
	buf_release(&b->body);
	free(b);
	bufferevent_enable(s->bev, EV_READ);
	if (bufferevent_socket_connect(s->bev, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		log_warn("telemetry: cannot connect to 127.0.0.1:%d", s->s.port);
		bufferevent_free(s->bev);
		s->bev = NULL;
	}
}

/* Closes the batch being filled and queues it. */
static void seal(struct sub *s)
{
	struct batch *b;

	event_del(s->timer);
	if (!s->items)
		return;
	if (s->nqueued >= QUEUE_MAX) {
		if (!s->dropping)
			log_warn("telemetry: 127.0.0.1:%d%s is not keeping up: dropping batches",
				 s->s.port, s->s.path);
		s->dropping = true;
		buf_reset(&s->cur);
		s->items = 0;
		return;
	}
	s->dropping = false;
	buf_append(&s->cur, "]", 1);
	b = xcalloc(1, sizeof(*b));
	b->body = s->cur;
	buf_init(&s->cur, 0);
	s->items = 0;
	*s->tail = b;
	s->tail = &b->next;
	s->nqueued++;
	send_next(s);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	seal(arg);
}

static void sub_free(struct sub *s)
{
	while (s->queue) {
		struct batch *b = s->queue;
		s->queue = b->next;
		buf_release(&b->body);
		free(b);
	}
	if (s->bev)
		bufferevent_free(s->bev);
	event_free(s->timer);
	buf_release(&s->cur);
	free(s);
}

struct telemetry *telemetry_new(struct event_base *base, bool backlog)
{
	struct telemetry *t = xcalloc(1, sizeof(*t));

	t->base = base;
	t->backlog_open = backlog;
	if (backlog) {
		t->backlog = xcalloc(BACKLOG_MAX, sizeof(*t->backlog));
		t->backlog_type = xcalloc(BACKLOG_MAX, sizeof(*t->backlog_type));
	}
	return t;
}

static void backlog_clear(struct telemetry *t)
{
	for (size_t i = 0; i < t->nbacklog; i++)
		free(t->backlog[i]);
	t->nbacklog = 0;
	free(t->backlog);
	free(t->backlog_type);
	t->backlog = NULL;
	t->backlog_type = NULL;
}

static const char *init_type(bool provisioned)
{
	return provisioned ? "provisioned-concurrency" : "on-demand";
}

void telemetry_init_start(struct telemetry *t, bool provisioned, const char *function_name, const char *version)
{
	char rec[512];

	snprintf(rec, sizeof(rec), "{\"initializationType\":\"%s\",\"phase\":\"init\",\"functionName\":\"%s\","
		 "\"functionVersion\":\"%s\"}", init_type(provisioned), function_name, version);
	telemetry_platform(t, "platform.initStart", rec);
}

void telemetry_init_done(struct telemetry *t, bool provisioned)
{
	char rec[160];

	snprintf(rec, sizeof(rec), "{\"initializationType\":\"%s\",\"phase\":\"init\",\"status\":\"success\"}",
		 init_type(provisioned));
	telemetry_platform(t, "platform.initRuntimeDone", rec);
	t->backlog_open = false;
	backlog_clear(t);
}

void telemetry_start(struct telemetry *t, const char *request_id, const char *version)
{
	char rec[256];

	if (!telemetry_wants(t, TEL_PLATFORM))
		return;
	snprintf(rec, sizeof(rec), "{\"requestId\":\"%s\",\"version\":\"%s\"}", request_id, version);
	telemetry_platform(t, "platform.start", rec);
}

void telemetry_report(struct telemetry *t, const struct telemetry_report *r)
{
	char rec[512], extra[64] = "";

	if (!telemetry_wants(t, TEL_PLATFORM))
		return;
	snprintf(rec, sizeof(rec), "{\"requestId\":\"%s\",\"status\":\"%s\",\"metrics\":{\"durationMs\":%.3f}}",
		 r->request_id, r->status, r->duration_ms);
	telemetry_platform(t, "platform.runtimeDone", rec);
	if (r->init_ms >= 0)
		snprintf(extra, sizeof(extra), ",\"initDurationMs\":%.3f", r->init_ms);
	snprintf(rec, sizeof(rec),
		 "{\"requestId\":\"%s\",\"status\":\"%s\",\"metrics\":{\"durationMs\":%.3f,"
		 "\"billedDurationMs\":%ld,\"memorySizeMB\":%d,\"maxMemoryUsedMB\":%d%s}}",
		 r->request_id, r->status, r->duration_ms, r->billed_ms, r->memory_mb, r->max_memory_mb, extra);
	telemetry_platform(t, "platform.report", rec);
}

void telemetry_output(struct telemetry *t, bool extension, const char *line, size_t n)
{
	unsigned type = extension ? TEL_EXTENSION : TEL_FUNCTION;
	char *ev;

	if (!telemetry_wants(t, type))
		return;
	ev = ext_api_telemetry_event(time_wall_us(), extension ? "extension" : "function", NULL, line, n);
	telemetry_emit(t, type, ev);
	free(ev);
}

void telemetry_subscribe(struct telemetry *t, const char *id, const struct telemetry_sub *sub)
{
	struct sub *s;

	for (s = t->subs; s; s = s->next)
		if (strcmp(s->id, id) == 0)
			break;
	if (!s) {
		s = xcalloc(1, sizeof(*s));
		s->t = t;
		snprintf(s->id, sizeof(s->id), "%s", id);
		buf_init(&s->cur, 0);
		s->tail = &s->queue;
		s->timer = evtimer_new(t->base, on_timer, s);
		s->next = t->subs;
		t->subs = s;
	}
	s->s = *sub;
	/* Why: Lambda sends each event to a subscriber once; an extension that
	 * subscribes again during init gets only the backlog it has not had. */
	for (size_t i = 0; i < t->nbacklog; i++)
		if ((s->s.types & t->backlog_type[i]) && !(s->had[i / 8] & (1u << (i % 8)))) {
			s->had[i / 8] |= (uint8_t)(1u << (i % 8));
			sub_emit(s, t->backlog[i]);
		}
}

bool telemetry_wants(const struct telemetry *t, unsigned type)
{
	if (t->backlog_open && t->nbacklog < BACKLOG_MAX)
		return true;
	for (const struct sub *s = t->subs; s; s = s->next)
		if (s->s.types & type)
			return true;
	return false;
}

static void sub_emit(struct sub *s, const char *event_json)
{
	size_t n = strlen(event_json);

	if (s->items && s->cur.len + n + 2 > (size_t)s->s.max_bytes)
		seal(s);
	buf_append(&s->cur, s->items ? "," : "[", 1);
	buf_append(&s->cur, event_json, n);
	if (++s->items == 1) {
		struct timeval tv = { s->s.timeout_ms / 1000, (s->s.timeout_ms % 1000) * 1000 };
		event_add(s->timer, &tv);
	}
	if (s->items >= s->s.max_items || s->cur.len + 1 >= (size_t)s->s.max_bytes)
		seal(s);
}

void telemetry_emit(struct telemetry *t, unsigned type, const char *event_json)
{
	size_t i = t->nbacklog;
	bool kept = t->backlog_open && i < BACKLOG_MAX;

	if (kept) {
		t->backlog_type[i] = type;
		t->backlog[t->nbacklog++] = xstrdup(event_json);
	}
	for (struct sub *s = t->subs; s; s = s->next)
		if (s->s.types & type) {
			if (kept)
				s->had[i / 8] |= (uint8_t)(1u << (i % 8));
			sub_emit(s, event_json);
		}
}

void telemetry_platform(struct telemetry *t, const char *type, const char *record_json)
{
	char *ev;

	if (!telemetry_wants(t, TEL_PLATFORM))
		return;
	ev = ext_api_telemetry_event(time_wall_us(), type, record_json, NULL, 0);
	telemetry_emit(t, TEL_PLATFORM, ev);
	free(ev);
}

void telemetry_flush(struct telemetry *t)
{
	for (struct sub *s = t->subs; s; s = s->next)
		seal(s);
}

void telemetry_free(struct telemetry *t)
{
	if (!t)
		return;
	while (t->subs) {
		struct sub *s = t->subs;
		t->subs = s->next;
		sub_free(s);
	}
	backlog_clear(t);
	free(t);
}
