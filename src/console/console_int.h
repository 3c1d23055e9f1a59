/*
 * console_int: what the console's files share. Private to src/console/.
 *
 *   console.c          the listener, its requests, the live stream (SSE)
 *   console_record.c   a finished request into the ring, the counters and the charts
 *   console_api.c      /api/... JSON
 *   console_metrics.c  /metrics
 *   console_assets.c   the web console's files (generated from assets/)
 */
#ifndef LB_CONSOLE_CONSOLE_INT_H
#define LB_CONSOLE_CONSOLE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "base/buf.h"
#include "console/console.h"
#include "inspect/cfg_index.h"
#include "inspect/metrics.h"
#include "inspect/reqlog.h"
#include "lambda/lambda.h"

struct http_client;
struct http_exchange;
struct http_listener;
struct http_server;
struct event;

struct request_list;

/* A console request held open (req->route): a live stream (/api/stream, one
 * per open EventSource), a replay waiting for its answer, or a long list of
 * requests being written as its client reads it. */
struct subscriber {
	struct subscriber *prev, *next;
	struct http_request *req;
	struct console *c;
	struct http_exchange *replay;   /* a replay's exchange; NULL for a stream */
	struct request_list *list;      /* a list's state; NULL for a stream */
	uint64_t replay_of;
	int status;
	char sni[256];                  /* a replay over TLS: the server name to send */
};

/* Hits of a rule, by listener index and priority (kept across reloads). */
struct rule_hits {
	int listener, priority;
	uint64_t hits;
};

/* What the console counts per function (all versions), for /api/functions. */
struct fn_counts {
	char *name;
	uint64_t invocations, errors, throttles, cold_starts;
};

/* One second of the charts. */
#define CHART_SECONDS 300
#define CHART_BUCKETS 16
struct chart_tick {
	int64_t sec;                    /* wall clock, seconds; 0: empty */
	uint32_t requests, elb_5xx, target_5xx;
	uint32_t invocations, errors, throttles;
	uint32_t duration[CHART_BUCKETS]; /* invocations by Duration bucket (chart_bounds) */
};

enum {
	M_REQUESTS, M_REQUESTS_TG, M_ELB_3XX, M_ELB_4XX, M_ELB_5XX, M_ELB_500, M_ELB_502, M_ELB_503, M_ELB_504,
	M_TARGET_2XX, M_TARGET_3XX, M_TARGET_4XX, M_TARGET_5XX, M_TARGET_TIME, M_PROCESSED_BYTES,
	M_FIXED, M_REDIRECT, M_LAMBDA_USER_ERROR, M_HEALTHY, M_UNHEALTHY,
	M_INVOCATIONS, M_ERRORS, M_THROTTLES, M_DURATION, M_CONCURRENT, M_SANDBOXES,
	M_NFAMILIES
};

struct console {
	struct event_base *base;
	struct router *router;
	struct lambda *lambda;
	struct targets *targets;
	struct health *health;
	struct config *cfg;             /* served; NULL while admin is off */
	struct http_server *srv;
	struct http_client *client;     /* replays (made on first use) */
	struct http_listener *l, *pending;
	char *address;                  /* of l, with its configured port: the key for reloads */
	int port;
	uint16_t *ports;                /* the port each of cfg's listeners is bound to */
	struct reqlog *log;
	uint64_t log_gen;               /* counts the logs made: a list being written stops at a new one */
	bool mask;
	struct metrics *m;
	int fam[M_NFAMILIES];
	struct subscriber *subs;
	struct event *ping;
	struct rule_hits *hits;
	size_t nhits, cap_hits;
	/* Numbers for the served configuration (console_commit), so that recording
	 * a request does no string work: series of the load balancer's label set
	 * and each target group's, each rule's place in hits — -1 until first
	 * used, which makes the series as a lookup by labels would. */
	struct cfg_index ix;
	int lb_series[M_NFAMILIES];
	int *tg_series;                 /* ix.ntgs rows of M_NFAMILIES */
	int *rule_hit;                  /* by rule number */
	struct listener_name {          /* by listener: "address:port", made on first use */
		char *text;
		size_t len;
		unsigned port;
	} *lnames;
	struct fn_counts *fns;
	size_t nfns, cap_fns;
	struct chart_tick ticks[CHART_SECONDS];
	struct buf out, scratch, labels;
	/* `workers`: workers record too, under mu; the live streams (main's) are
	 * fed by wake, from the ring, up to its last id */
	bool threaded;
	pthread_mutex_t mu;
	struct event *wake;
	int wake_armed;                 /* atomic */
	uint64_t sent_id;               /* the last record the live streams got */
};

/* mu, when workers share the console (no-ops otherwise). */
static inline void console_lock(struct console *c)
{
	if (c->threaded)
		pthread_mutex_lock(&c->mu);
}

static inline void console_unlock(struct console *c)
{
	if (c->threaded)
		pthread_mutex_unlock(&c->mu);
}

/* Duration bounds of the charts' buckets, in seconds (the last is +Inf). */
extern const double chart_bounds[CHART_BUCKETS - 1];

/* console_record.c */
/* Resolves the tables above for c->cfg (anew at each commit). */
void console_index(struct console *c);
void console_index_free(struct console *c);
void console_observe_invocation(void *cookie, const char *function, const struct invoke_result *res);
struct chart_tick *console_tick(struct console *c, int64_t wall_s);
/* A record's summary: what the list and the live stream show (returns new). */
json_t *console_summary(const struct reqrec *r);

/* console_api.c: answers GET /api/...; false when path is not an API path. */
bool console_api(struct console *c, struct http_request *req, struct sv path);
/* A long list's client read some of it (on_drain): more is written. */
void console_list_drained(struct subscriber *s);
/* The client left: the list is dropped. */
void console_list_abort(struct subscriber *s);

/* console_replay.c: POST /api/requests/ID/replay — sends the request again to its listener. */
void console_replay(struct console *c, struct http_request *req, uint64_t id);
/* The client left: the replay is dropped. */
void console_replay_abort(struct subscriber *s);

/* console_metrics.c */
void console_metrics_init(struct console *c);
/* The load balancer's label ('load_balancer="app/NAME/ID"') into c->labels, plus a target group's. */
const char *console_labels(struct console *c, const struct target_group *tg);
/* The whole /metrics text into out. */
void console_metrics_write(struct console *c, struct buf *out);

/* console.c */
#define CONSOLE_NHEADERS 4
/* The headers of every console answer (security headers, then Cache-Control: no-store). */
extern const struct http_header console_headers[CONSOLE_NHEADERS];
void console_respond(struct http_request *req, int status, const char *content_type, const char *body,
		     size_t n);
/* Answers with a JSON document (takes ownership of doc; NULL, a document jansson
 * could not make, is a 500). */
void console_respond_json(struct console *c, struct http_request *req, int status, json_t *doc);
/* Any bytes as a JSON string (returns new): bytes that are not UTF-8 read as Latin-1. */
json_t *console_json_text(struct sv v);
/* Sends a record's summary to every live stream. */
void console_broadcast(struct console *c, const struct reqrec *r);
/* Any thread: main's loop sends the records not yet sent to the live streams. */
void console_wake(struct console *c);

/* console_assets.c (generated) */
struct console_asset {
	const char *path, *content_type;
	const unsigned char *data;
	size_t len;
};
const struct console_asset *console_asset_find(struct sv path);

#endif
