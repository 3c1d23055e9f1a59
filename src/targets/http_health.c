/*
 * http_health: health checks of instance/ip targets, as ALB makes them
 * (alb-http-targets-and-tls.md §1.10): every `interval` seconds each
 * registered target gets `GET path` on a new connection (closed after the
 * check) with Host and User-Agent: ELB-HealthChecker/2.0; an answer within
 * `timeout` whose status the matcher takes passes. Thresholds and states
 * are health_state's; a change of state is one log line, and a target that
 * turns healthy may enter slow start (target_select's rules).
 *
 * LB_HEALTH_INTERVAL_MS overrides the interval (tests only), as for Lambda
 * groups.
 */
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "base/buf.h"
#include "base/log.h"
#include "net/h2_client.h"
#include "targets/target_rt.h"
#include "targets/targets.h"

static const struct health_check_cfg *settings(const struct target_rt *r)
{
	return &r->group->tg->health_check;
}

static struct timeval interval_of(const struct target_rt *r)
{
	const char *ms = getenv("LB_HEALTH_INTERVAL_MS");
	int v = ms && atoi(ms) > 0 ? atoi(ms) : settings(r)->interval * 1000;

	return (struct timeval){ v / 1000, (v % 1000) * 1000 };
}

void target_rt_set_health(struct target_rt *r, enum target_health h)
{
	struct target_state *st = target_rt_state(r);
	enum target_health was = st->health;

	r->hs.health = h;
	if (was == h)
		return;
	st->health = h;
	if (h == HEALTH_HEALTHY) {
		st->healthy_since_us = time_mono_us();
		st->slow_start = r->group && target_enters_slow_start(&r->group->tg->attrs, r->group->st, r->group->n,
								      r->index);
		st->first_registration = false;
	} else {
		st->slow_start = false;
	}
	log_info("target group %s: target %s is %s (was %s)%s%s", r->group ? r->group->name : "-", r->key,
		 health_name(h), health_name(was), health_reason(&r->hs) ? ": " : "",
		 health_reason(&r->hs) ? health_reason(&r->hs) : "");
	targets_health_changed(r);
}

static void finish(struct target_rt *r, enum health_outcome outcome)
{
	const struct health_check_cfg *hc = settings(r);

	event_del(r->check_timeout);
	r->check = NULL;
	r->check2 = NULL;
	if (health_state_check(&r->hs, outcome, r->check_status, hc->healthy_threshold, hc->unhealthy_threshold))
		target_rt_set_health(r, r->hs.health);
	else
		log_debug("target %s: health check %s (status %d)", r->key,
			  outcome == HEALTH_CHECK_PASSED ? "passed" : "failed", r->check_status);
}

static void on_head(void *cookie, struct http_reply *reply)
{
	struct target_rt *r = cookie;
	const struct http_header *gs = http_header_find(reply->headers, reply->nheaders, "grpc-status");

	r->check_status = reply->status;
	/* GRPC groups match gRPC status codes (§1.10): a trailers-only answer carries
	 * grpc-status in its head; one sent in trailers is not seen (HTTP status kept). */
	if (r->group->tg->protocol_version == TG_PROTO_GRPC && gs)
		r->check_status = atoi(gs->value.p);
}

static void on_body(void *cookie, const char *p, size_t n)
{
	(void)cookie;
	(void)p;
	(void)n;
}

static void on_end(void *cookie)
{
	struct target_rt *r = cookie;

	finish(r, health_matcher_match(settings(r)->matcher, r->check_status) ? HEALTH_CHECK_PASSED
										: HEALTH_CHECK_MISMATCH);
}

static void on_error(void *cookie, enum http_client_error e)
{
	struct target_rt *r = cookie;

	r->check_status = 0;
	finish(r, e == HTTP_CLIENT_TIMEOUT || e == HTTP_CLIENT_CONNECT_TIMEOUT ? HEALTH_CHECK_TIMEOUT
									      : HEALTH_CHECK_FAILED);
}

static const struct http_exchange_cbs check_cbs = {
	.on_head = on_head,
	.on_body = on_body,
	.on_end = on_end,
	.on_error = on_error,
};

/* The whole check ran past its timeout. */
static void on_check_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct target_rt *r = arg;

	(void)fd;
	(void)what;
	http_exchange_cancel(r->check);
	h2_exchange_cancel(r->check2);
	r->check_status = 0;
	finish(r, HEALTH_CHECK_TIMEOUT);
}

static void on_check_timer(evutil_socket_t fd, short what, void *arg)
{
	struct target_rt *r = arg;
	const struct health_check_cfg *hc = settings(r);
	struct timeval tv = interval_of(r), limit = { hc->timeout, 0 };
	/* HTTPS checks, like HTTPS traffic, do not verify the target's certificate (ALB). */
	struct http_exchange_opts opt = { .connect_timeout = hc->timeout, .idle_timeout = hc->timeout,
					  .fresh = true, .tls = hc->protocol == TG_PROTO_HTTPS };
	int port = hc->port ? hc->port : r->port;
	struct http_origin origin = r->origin;
	struct buf req = BUF_INIT;

	(void)fd;
	(void)what;
	evtimer_add(r->check_timer, &tv);
	if (r->check || r->check2)
		return;   /* the previous one is still running (interval < timeout cannot happen) */
	if (!r->resolved) {
		r->check_status = 0;
		finish(r, HEALTH_CHECK_FAILED);
		return;
	}
	/* health_check.port: the target's addresses, another port (traffic-port: its own). */
	http_origin_set_port(&origin, port);
	health_check_request(&req, hc, r->id, port);
	r->check_status = 0;
	if (r->group->tg->protocol_version != TG_PROTO_HTTP1)
		/* HTTP2/GRPC groups are checked over HTTP/2, as their traffic goes. */
		r->check2 = h2_client_start(targets_h2_client(r->targets), &origin, req.p, req.len, &opt, &check_cbs,
					    r);
	else
		r->check = http_client_start(targets_http_client(r->targets), &origin, req.p, req.len, &opt,
					     &check_cbs, r);
	evtimer_add(r->check_timeout, &limit);
	buf_release(&req);
}

void http_health_start(struct target_rt *r)
{
	struct event_base *base = targets_base(r->targets);
	struct timeval now = { 0, 0 };

	if (!r->check_timer) {
		r->check_timer = evtimer_new(base, on_check_timer, r);
		r->check_timeout = evtimer_new(base, on_check_timeout, r);
		/* The first check goes at once: a new target is `initial` until it passes. */
		evtimer_add(r->check_timer, &now);
		return;
	}
	/* A reload may have changed the interval: the next check follows the new one. */
	if (!r->check) {
		struct timeval tv = interval_of(r);
		evtimer_add(r->check_timer, &tv);
	}
}

void http_health_stop(struct target_rt *r)
{
	if (!r->check_timer)
		return;
	http_exchange_cancel(r->check);
	h2_exchange_cancel(r->check2);
	r->check = NULL;
	r->check2 = NULL;
	event_free(r->check_timer);
	event_free(r->check_timeout);
	r->check_timer = r->check_timeout = NULL;
}
