/*
 * lambda_target: forwarding to a Lambda target group
 * (alb-lambda-targets.md): the body is read whole (at most 1 MB), the
 * request becomes ALB's event, the function is invoked (lambda/lambda.h)
 * and its result becomes the answer, or ALB's 502/504 page.
 */
#ifndef LB_TARGETS_LAMBDA_TARGET_H
#define LB_TARGETS_LAMBDA_TARGET_H

#include "alb/alb_result.h"
#include "alb/fwd_headers.h"
#include "base/buf.h"

struct forward;
struct target_ops;

/* What the console records of an invocation (kept only when forward.record is set). */
struct lambda_rec {
	bool invoked;                /* the fields below are this request's */
	int status;                  /* enum invoke_status */
	bool cold;
	int64_t wait_us, run_us;
	char version[64];
	char request_id[40];
	struct buf result;           /* the result or error document, at most body_limit */
	struct buf log;              /* the invocation's log lines (its tail) */
};

/* A Lambda forward's state (in struct forward, reused from request to request). */
struct lambda_fwd {
	struct invocation *inv;      /* in flight, or NULL */
	struct xinvocation *xinv;    /* in flight from a worker's loop (lambda_xthread), or NULL */
	int reject;                  /* a status decided at the head, answered when the body is in */
	const char *reject_reason;
	struct header_list headers;  /* toward the target: the event's */
	struct buf event;
	struct alb_result result;
	struct lambda_rec rec;
};

extern const struct target_ops lambda_target_ops;

void lambda_fwd_init(struct lambda_fwd *l);
void lambda_fwd_release(struct lambda_fwd *l);
/* Whether f is a Lambda forward whose invocation is queued or running. */
bool lambda_fwd_running(const struct forward *f);
/* lb stops and its drain ran out with f's invocation in flight: the
 * invocation is dropped and the client gets 502 (LambdaUnhandled), one
 * warning line; f ends (forward_done). */
void lambda_fwd_cut(struct forward *f);

#endif
