/*
 * target_rt: the runtime state of instance/ip target groups, private to
 * targets/ (targets.c keeps it, http_target.c forwards with it,
 * http_health.c checks it).
 *
 * A group's registered targets are rt[0..n), each with its selection state
 * in st[i] (contiguous, as target_select wants it). A target removed by a
 * reload leaves the arrays and drains: it keeps its state in `own` until its
 * forwards end or the deregistration delay cuts them. Every struct
 * target_rt is allocated on its own, so forwards may point at it across
 * reloads.
 */
#ifndef LB_TARGETS_TARGET_RT_H
#define LB_TARGETS_TARGET_RT_H

#include <stdbool.h>
#include <stdint.h>

#include "alb/health_state.h"
#include "alb/target_select.h"
#include "net/http_client.h"
#include "targets/target_count.h"

struct event;
struct h2_exchange;
struct forward;
struct tg_state;
struct targets;

struct target_rt {
	struct targets *targets;
	char *key;                     /* "id:port", as configured: the access log's target:port */
	char *id;
	int port;
	struct http_origin origin;
	bool resolved;                 /* origin holds an address (an instance's name may not resolve) */
	struct tg_state *group;        /* NULL once draining */
	size_t index;                  /* in group->st and group->rt while registered */
	struct target_state own;       /* its selection state while draining */
	struct health_state hs;
	struct forward *forwards;      /* in flight on it (struct http_fwd's list) */
	unsigned inflight;             /* this loop's forwards on it */
	struct target_count *count;    /* every loop's: &own_count, or the shared table's entry */
	struct target_count own_count;
	int64_t drain_until_us;        /* draining: when the deregistration delay ends */
	struct target_rt *next_draining;
	/* its health check */
	struct event *check_timer;
	struct http_exchange *check;
	struct h2_exchange *check2;    /* the check over HTTP/2 (HTTP2/GRPC groups) */
	struct event *check_timeout;
	int check_status;              /* the answer's status, while it comes */
};

struct tg_state {
	struct tg_state *next;
	char *name;
	const struct target_group *tg; /* in the configuration being served */
	size_t n;
	struct target_state *st;
	struct target_rt **rt;
	struct target_selector sel;
};

/* The group's state (NULL for a lambda group or one not configured). */
struct tg_state *targets_group(struct targets *t, const struct target_group *tg);
/* The registered target with key in g, or NULL. */
struct target_rt *tg_state_find(struct tg_state *g, struct sv key);
/* r's selection state: in its group's array, or its own while draining. */
struct target_state *target_rt_state(struct target_rt *r);
/* A forward starts or ends on r (its in-flight counts and forward list). */
void target_rt_attach(struct target_rt *r, struct forward *f);
void target_rt_detach(struct target_rt *r, struct forward *f);
/* g's st[].outstanding take the requests in flight to each target, every loop's. */
void tg_state_load_outstanding(struct tg_state *g);

/* http_health.c: checks of registered targets, every interval of their group's settings. */
void http_health_start(struct target_rt *r);
void http_health_stop(struct target_rt *r);
/* The health of r changed to h (log line, slow start). */
void target_rt_set_health(struct target_rt *r, enum target_health h);
/* r's health changed: the observer (targets_set_health_observer) is told. */
void targets_health_changed(struct target_rt *r);

#endif
