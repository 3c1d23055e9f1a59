/*
 * target: how the router forwards a request to a target group, whatever its
 * kind (lambda, or instance/ip: HTTP). The router matches, picks the target
 * group (weights, target-group stickiness), fills a struct forward and calls
 * the kind's operations at the moments of the request's life; the kind
 * answers the client and reports what the access log needs. Matching,
 * actions and the access log never see which kind it was.
 *
 * A forward ends exactly once, with forward_done (answered, or the client
 * left); the router then logs it and takes it back.
 */
#ifndef LB_TARGETS_TARGET_H
#define LB_TARGETS_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alb/http_msg.h"
#include "config/config.h"
#include "targets/http_target.h"
#include "targets/lambda_target.h"

struct forward;
struct targets;

struct target_ops {
	/*
	 * The request's head is in. Sets the body policy (req->keep_body or
	 * req->stream_body) and may start the forward, or answers at once and
	 * calls forward_done.
	 */
	void (*head)(struct forward *f);
	/* Body bytes of a stream_body request (or a tunnel's, from the client). */
	void (*body)(struct forward *f, const char *p, size_t n);
	/* The whole request has arrived. */
	void (*request)(struct forward *f);
	/* The client left (or the request failed mid-body): stop, without answering. */
	void (*abort)(struct forward *f);
	/* The client's output drained after a streamed answer filled it. */
	void (*drain)(struct forward *f);
};

/* What the access log needs of a forward; -1 times when not dispatched. */
struct forward_outcome {
	int status;                 /* sent to the client */
	int target_status;          /* the target's; 0: none ("-") */
	const char *target;         /* "ip:port"; NULL: "-" (Lambda, not dispatched) */
	const char *error_reason;   /* NULL: "-" */
	int64_t dispatch_us;        /* monotonic: sent to the target; 0: never */
	int64_t answer_us;          /* the target's answer (head) arrived */
	int64_t done_us;            /* lb answered the client (began, for a streamed answer) */
	bool websocket;             /* a tunnel: logged as ws */
};

struct forward {
	/* set by the router before head */
	struct http_request *req;
	struct config *cfg;              /* the configuration the request was matched with */
	const struct listener_cfg *listener;
	const struct target_group *tg;
	struct targets *targets;
	struct sv trace;                 /* X-Amzn-Trace-Id toward the target */
	struct http_header cookies[2];   /* Set-Cookie headers every answer gets (AWSALBTG), or none */
	size_t ncookies;
	void (*done)(struct forward *f); /* the router's: log and release */
	size_t record;                   /* the console records requests: keep what it shows, up to
					  * this many bytes of each body (its limit + 1, so a cut
					  * shows); 0: keep nothing */
	/* reported by the kind */
	struct forward_outcome out;
	const struct target_ops *ops;
	/* the kind's state */
	struct lambda_fwd lambda;
	struct http_fwd http;
	struct http_header *scratch_headers;   /* an answer's headers plus cookies */
	size_t cap_scratch_headers;
};

/* The operations for tg's kind. */
const struct target_ops *target_ops_for(const struct target_group *tg);

/* Initializes and releases the kinds' reusable state in f. */
void forward_init(struct forward *f);
void forward_release(struct forward *f);

/* Answers with ALB's page for status (close: then close the connection). */
void forward_answer_page(struct forward *f, int status, bool close);
/* Writes a whole answer, adding f->cookies to its headers. */
void forward_respond(struct forward *f, struct http_response *resp);
/* The forward is over: the router logs it. f must not be used afterwards. */
void forward_done(struct forward *f);

#endif
