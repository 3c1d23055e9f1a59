/*
 * reqlog: a bounded ring of the requests lb served most recently, for the
 * console and the inspection API (DESIGN.md §17). Pure: no I/O.
 *
 * A ring has `history` slots made once; each keeps its text fields in one
 * owning buffer that is reset and reused when the slot is taken again, so
 * once every slot has been used a record costs no allocation (unless a
 * bigger request than that slot saw before grows its buffer). Recording is
 * on every request's path while the console is on: taking a slot resets a
 * few numbers and two bit sets (no clearing of the field table), and a
 * field is one copy into that buffer — no formatting. Large fields
 * (the request body, event, result, log lines) keep at most `body_limit`
 * bytes and are marked truncated; heads are kept up to 80 KB (ALB refuses
 * bigger ones), other fields up to 2 KB. Ids grow from 1 and are never
 * reused; the oldest record is overwritten first.
 */
#ifndef LB_INSPECT_REQLOG_H
#define LB_INSPECT_REQLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "base/util.h"

enum rec_field {
	RF_METHOD, RF_TARGET, RF_VERSION, RF_HOST, RF_CLIENT, RF_LISTENER,
	RF_HEAD,            /* the request head as received (request line and header lines) */
	RF_BODY,            /* the request body as received (Lambda targets; HTTP bodies stream) */
	RF_RULE,            /* "file:line" of the matched rule, "default" for the default rule */
	RF_ACTION,          /* "forward", "fixed-response", "redirect" */
	RF_TARGET_GROUP, RF_TARGET_ADDR,
	RF_FUNCTION,        /* a Lambda target: the function name */
	RF_QUALIFIER,       /* its target qualifier ("live"), "" for $LATEST */
	RF_FN_VERSION,      /* the version that ran */
	RF_REQUEST_ID,      /* the invocation's request id */
	RF_FWD_HEADERS,     /* the headers toward the target, "Name: value" lines */
	RF_EVENT,           /* the exact event sent */
	RF_RESULT,          /* the result (or error document) received */
	RF_LOG,             /* the invocation's log lines */
	RF_ERROR_REASON, RF_REDIRECT_URL, RF_TRACE_ID, RF_INVOKE_STATUS,
	RF_SNI,             /* HTTPS: the server name the client sent ("" without SNI) */
	RF_NFIELDS
};

/* Where a field's bytes are in its record's buffer (meaningful when its bit in set is on);
 * an off with REC_STATIC on names one of rec_statics instead. */
struct rec_str {
	uint32_t off, len;
};

/* Texts a field can name instead of holding them: the request path's constant words. */
enum rec_static {
	RS_HTTP09, RS_HTTP10, RS_HTTP11, RS_HTTP20,     /* http_version_str's */
	RS_DEFAULT,                                     /* the default rule */
	RS_FORWARD, RS_FIXED_RESPONSE, RS_REDIRECT,     /* actions */
	RS_COUNT
};
#define REC_STATIC UINT32_C(0x80000000)
extern const struct sv rec_statics[RS_COUNT];

struct reqrec {
	uint64_t id;                /* 0: an empty slot */
	int64_t time_us;            /* wall clock: when its first byte arrived */
	int status;                 /* sent to the client */
	int target_status;          /* the target's (or the function's statusCode); 0 none */
	int priority;               /* the matched rule's; 0 default; -1 none (front-end answer) */
	int listener;               /* index in the configuration */
	bool lambda;                /* forwarded to a Lambda function */
	bool cold;                  /* ... that started a sandbox for it */
	bool websocket;
	bool https;                 /* arrived on an HTTPS listener */
	bool client_cert_required;  /* ... whose mutual TLS (verify) asked the client for a certificate */
	bool body_follows;          /* a body followed the head (HTTP/2: the only sign of one) */
	uint64_t received, sent;    /* bytes */
	/* seconds, ALB's three processing times (-1: not dispatched) and the total */
	double t_request, t_target, t_response, t_total;
	double t_init, t_invoke;    /* Lambda: sandbox start (cold) and the invocation itself; -1 */
	uint32_t set, truncated;    /* bit f: field f is set, was cut */
	struct rec_str f[RF_NFIELDS];
	struct buf data;            /* the fields' bytes, each NUL-terminated */
};

struct reqlog;

/* A ring of history (>= 1) records keeping body_limit bytes of large fields. */
struct reqlog *reqlog_new(size_t history, size_t body_limit);
void reqlog_free(struct reqlog *rl);
size_t reqlog_history(const struct reqlog *rl);
size_t reqlog_body_limit(const struct reqlog *rl);

/* Takes the oldest slot for a new record (a fresh id, every field unset);
 * fill it with rec_set, then it is visible. The ring owns it. */
struct reqrec *reqlog_next(struct reqlog *rl);
/* Sets a field to a copy of p[0..n) (a large field cut at the ring's limit). */
void reqlog_set(struct reqlog *rl, struct reqrec *r, enum rec_field f, const char *p, size_t n);
void reqlog_setf(struct reqlog *rl, struct reqrec *r, enum rec_field f, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* What fields that are not large keep at most (heads: more, see above). */
#define REC_SMALL_MAX 2048

/*
 * reqlog_set inline for a field that is not a large one: the request path
 * records a dozen of them, and nearly always they fit the slot's buffer as
 * it is (a copy and a few stores); anything else takes reqlog_set.
 */
static inline void reqlog_set_small(struct reqlog *rl, struct reqrec *r, enum rec_field f, const char *p, size_t n)
{
	struct buf *d = &r->data;
	uint32_t bit = UINT32_C(1) << f;

	if (f == RF_BODY || f == RF_EVENT || f == RF_RESULT || f == RF_LOG || n > REC_SMALL_MAX ||
	    d->len + n + 2 > d->cap) {
		reqlog_set(rl, r, f, p, n);
		return;
	}
	if (n)
		memcpy(d->p + d->len, p, n);
	d->p[d->len + n] = '\0';
	r->f[f].off = (uint32_t)d->len;
	r->f[f].len = (uint32_t)n;
	r->set |= bit;
	r->truncated &= ~bit;
	d->len += n + 1;
	d->p[d->len] = '\0';
}

/* Sets a field to one of rec_statics (no copy). */
static inline void reqlog_set_static(struct reqrec *r, enum rec_field f, enum rec_static s)
{
	uint32_t bit = UINT32_C(1) << f;

	r->f[f].off = REC_STATIC | (uint32_t)s;
	r->f[f].len = (uint32_t)rec_statics[s].n;
	r->set |= bit;
	r->truncated &= ~bit;
}

/*
 * Field f as p[0..n), bytes of the field `within` (the request head) which was
 * set from `from`: when they lie in what was kept of it the field points into
 * it, no copy (such a field is not NUL-terminated: read its n); otherwise (or
 * when longer than a small field keeps) a copy, as reqlog_set.
 */
static inline void reqlog_set_in(struct reqlog *rl, struct reqrec *r, enum rec_field f, enum rec_field within,
				 const char *from, const char *p, size_t n)
{
	uintptr_t at = (uintptr_t)p - (uintptr_t)from;   /* huge when p is before from */
	uint32_t bit = UINT32_C(1) << f;

	if (((r->set >> within) & 1) && n <= REC_SMALL_MAX && at <= r->f[within].len && n <= r->f[within].len - at) {
		r->f[f].off = r->f[within].off + (uint32_t)at;
		r->f[f].len = (uint32_t)n;
		r->set |= bit;
		r->truncated &= ~bit;
		return;
	}
	reqlog_set(rl, r, f, p, n);
}

/* Sets a field to "s:n" ("127.0.0.1:8080", "lb.yaml:12"), the cheap way: no printf. */
void reqlog_set_num(struct reqlog *rl, struct reqrec *r, enum rec_field f, const char *s, long n);

/* A field's text ("" when unset), valid until the slot is reused; NUL-terminated
 * unless set with reqlog_set_in (method, target and host point into the head). */
struct sv rec_get(const struct reqrec *r, enum rec_field f);
bool rec_truncated(const struct reqrec *r, enum rec_field f);
bool rec_has(const struct reqrec *r, enum rec_field f);

/* The record with this id, NULL once overwritten (or never made). */
const struct reqrec *reqlog_find(const struct reqlog *rl, uint64_t id);
/* The i-th most recent record (0: the newest), NULL past the oldest. */
const struct reqrec *reqlog_recent(const struct reqlog *rl, size_t i);
/* Records made since the start (ids run 1..reqlog_last_id). */
uint64_t reqlog_last_id(const struct reqlog *rl);

/* Whether a field is one of the large ones cut at body_limit (not heads). */
bool rec_field_is_large(enum rec_field f);

#endif
