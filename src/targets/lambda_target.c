/*
 * lambda_target: a request to a Lambda target group, from its head to the
 * function's answer.
 *
 *   head     body policy: kept whole, at most 1 MB; a Content-Length over it
 *            is answered 413 at once; a WebSocket upgrade is refused (400)
 *            once the request is in
 *   request  the event (alb_event) built from the request and the headers
 *            toward the target, and the invocation
 *   answer   the result decoded (alb_result) into the response, or the
 *            failure turned into ALB's 502/504
 */
#include "targets/lambda_target.h"

#include <stdio.h>
#include <string.h>

#include "alb/alb_event.h"
#include "alb/fwd_headers.h"
#include "alb/auth_oidc.h"
#include "alb/mtls_headers.h"
#include "alb/proxy_head.h"
#include "base/log.h"
#include "lambda/lambda.h"
#include "lambda/lambda_xthread.h"
#include "targets/target.h"
#include "targets/targets.h"

void lambda_fwd_init(struct lambda_fwd *l)
{
	memset(l, 0, sizeof(*l));
	header_list_init(&l->headers);
	buf_init(&l->event, 0);
	alb_result_init(&l->result);
	buf_init(&l->rec.result, 0);
	buf_init(&l->rec.log, 0);
}

void lambda_fwd_release(struct lambda_fwd *l)
{
	header_list_release(&l->headers);
	buf_release(&l->event);
	alb_result_release(&l->result);
	buf_release(&l->rec.result);
	buf_release(&l->rec.log);
}

/* Keeps what the console shows of an invocation (only when it records). */
static void keep_for_console(struct forward *f, const struct invoke_result *res)
{
	struct lambda_rec *rec = &f->lambda.rec;

	rec->invoked = true;
	rec->status = (int)res->status;
	rec->cold = res->cold;
	rec->wait_us = res->wait_us;
	rec->run_us = res->run_us;
	str_copy(rec->version, sizeof(rec->version), res->version ? res->version : "");
	str_copy(rec->request_id, sizeof(rec->request_id), res->request_id ? res->request_id : "");
	buf_reset(&rec->result);
	buf_append(&rec->result, res->payload, res->len < f->record ? res->len : f->record);
	buf_reset(&rec->log);
	buf_append(&rec->log, res->log, res->log_len < f->record ? res->log_len : f->record);
}

static void lambda_head(struct forward *f)
{
	struct http_request *req = f->req;
	struct lambda_fwd *l = &f->lambda;

	l->inv = NULL;
	l->xinv = NULL;
	l->rec.invoked = false;
	l->reject = 0;
	l->reject_reason = NULL;
	if (!f->tg->function)
		return;     /* no registered target: 503 once the request is in */
	if (proxy_is_websocket(req)) {
		/* ALB: Lambda targets do not support WebSockets → 400 (alb-lambda-targets.md §1.9). */
		l->reject = 400;
		l->reject_reason = "LambdaWebsocketNotSupported";
		return;
	}
	req->keep_body = true;
	req->body.max = ALB_EVENT_BODY_MAX;
	if (req->framing == HTTP_FRAMING_LENGTH && req->content_length > ALB_EVENT_BODY_MAX) {
		/* ALB: a request body over 1 MB for a Lambda target → 413, without invoking. */
		f->out.error_reason = "LambdaRequestTooLarge";
		forward_answer_page(f, 413, true);
		forward_done(f);
	}
}

/*
 * An Invoke API error status (aws-integration.md §3.5) as ALB's answer. ALB
 * names these error_reasons in its access log but does not document their
 * statuses (alb-lambda-targets.md §2.6): lb's choice is 502 for what the
 * caller got wrong (permissions, signature, credentials, no such function)
 * and 503 for Lambda's own failures (5xx, ServiceException).
 */
static int rejected_status(const struct invoke_result *res, const char **reason)
{
	static const char *const denied[] = { "AccessDeniedException", "InvalidSignatureException",
					      "UnrecognizedClientException", "ExpiredTokenException",
					      "CredentialsNotFound" };
	const char *t = res->error_type ? res->error_type : "";

	for (size_t i = 0; i < ARRAY_LEN(denied); i++) {
		if (strcmp(t, denied[i]) == 0) {
			*reason = "LambdaAccessDenied";
			return 502;
		}
	}
	if (strcmp(t, "ResourceNotFoundException") == 0) {
		*reason = "LambdaResourceNotFound";
		return 502;
	}
	if (res->remote_status >= 500) {
		*reason = "LambdaServiceException";
		return 503;
	}
	*reason = "LambdaUnhandled";
	return 502;
}

/* ALB's answer when a Lambda invocation fails (alb-lambda-targets.md §2.6). */
static int invoke_failure(const struct invoke_result *res, const struct alb_result *result, const char **reason)
{
	switch (res->status) {
	case INVOKE_OK:
		*reason = result->error_reason;
		return 502;
	case INVOKE_THROTTLED:
		*reason = "LambdaThrottling";
		return 502;
	case INVOKE_UNREACHABLE:
		*reason = "LambdaConnectionTimeout";
		return 504;
	case INVOKE_REJECTED:
		return rejected_status(res, reason);
	default:
		/* A result past Lambda's 6 MB is past ALB's 1 MB too. */
		if (res->error_type && strcmp(res->error_type, "Function.ResponseSizeTooLarge") == 0) {
			*reason = "LambdaResponseTooLarge";
			return 502;
		}
		/* Function errors, timeouts and runtime crashes are all "Unhandled"
		 * to Lambda's Invoke API (inference, alb-listener-rules.md §5.3). */
		*reason = "LambdaUnhandled";
		return 502;
	}
}

static void on_invoked(void *cookie, const struct invoke_result *res)
{
	struct forward *f = cookie;
	struct http_request *req = f->req;
	struct lambda_fwd *l = &f->lambda;
	struct http_response resp;

	l->inv = NULL;
	l->xinv = NULL;
	f->out.answer_us = time_mono_us();
	if (f->record)
		keep_for_console(f, res);
	if (res->status == INVOKE_OK &&
	    alb_result_parse(&l->result, res->payload, res->len, f->tg->multi_value_headers) == 0) {
		alb_result_response(&l->result, &resp);
		f->out.target_status = resp.status;
		forward_respond(f, &resp);
	} else {
		int status = invoke_failure(res, &l->result, &f->out.error_reason);
		char detail[1536];

		/* Why escaped: the payload is the function's own bytes (an /error
		 * body), whose line breaks would forge lines and a NUL end the text. */
		if (res->status != INVOKE_OK)
			log_escape(detail, sizeof(detail), res->payload ? res->payload : "", res->payload ? res->len : 0, false);
		log_warn("%.*s %.*s: %d %s: %s", SV_ARG(req->method), SV_ARG(req->path), status,
			 f->out.error_reason, res->status == INVOKE_OK ? l->result.detail : detail);
		forward_answer_page(f, status, false);
	}
	forward_done(f);
}

static void lambda_request(struct forward *f)
{
	struct http_request *req = f->req;
	struct lambda_fwd *l = &f->lambda;
	const struct target_group *tg = f->tg;
	struct alb_event_input ev;
	struct invoke_request ir;

	if (l->reject) {
		f->out.error_reason = l->reject_reason;
		forward_answer_page(f, l->reject, false);
		forward_done(f);
		return;
	}
	if (!tg->function) {
		/* ALB: a target group with no registered target → 503. */
		log_warn("%.*s %.*s: target group %s has no registered target: 503", SV_ARG(req->method),
			 SV_ARG(req->path), tg->name);
		forward_answer_page(f, 503, false);
		forward_done(f);
		return;
	}
	if (req->body_too_large) {
		f->out.error_reason = "LambdaRequestTooLarge";
		forward_answer_page(f, 413, true);
		forward_done(f);
		return;
	}
	fwd_headers_build(req, &f->cfg->lb.attrs, f->trace, &l->headers);
	mtls_headers_apply(&l->headers, req, &f->cfg->lb.attrs, &f->cfg->listeners[req->listener].attrs);
	auth_headers_apply(&l->headers, f->auth_headers, f->nauth_headers);
	ev = (struct alb_event_input){ req, l->headers.v, l->headers.n, tg->arn, tg->multi_value_headers };
	buf_reset(&l->event);
	if (!alb_event_write(&l->event, &ev)) {
		/* Why: ALB does not invoke a function for headers or a text body that
		 * are not UTF-8 (LambdaBadRequest, S-AL); its status is unverified: 502
		 * as for the other Lambda errors (alb-lambda-targets.md §1.8). */
		f->out.error_reason = "LambdaBadRequest";
		log_warn("%.*s %.*s: 502 LambdaBadRequest: a header value or the text body is not UTF-8",
			 SV_ARG(req->method), SV_ARG(req->path));
		forward_answer_page(f, 502, false);
		forward_done(f);
		return;
	}
	/* The console shows the invocation's log lines: its tail, kept by the sandbox.
	 * Why no client context: ALB passes none (alb-lambda-targets.md §4). */
	ir = (struct invoke_request){ f->cfg, tg->function, tg->qualifier, l->event.p, l->event.len,
				      f->trace.p, f->record > 0, NULL };
	f->out.dispatch_us = time_mono_us();
	/* A worker's loop (`workers`) invokes through the main thread's one sandbox pool. */
	if (targets_xlambda(f->targets))
		l->xinv = xlambda_invoke(targets_xlambda(f->targets), &ir, on_invoked, f);
	else
		l->inv = lambda_invoke(targets_lambda(f->targets), &ir, on_invoked, f);
}

/* The client left: a running invocation finishes in its sandbox; a queued one is dropped. */
static void lambda_abort(struct forward *f)
{
	if (f->lambda.inv) {
		lambda_cancel(f->lambda.inv);
		f->lambda.inv = NULL;
	}
	if (f->lambda.xinv) {
		xlambda_cancel(f->lambda.xinv);
		f->lambda.xinv = NULL;
	}
}

bool lambda_fwd_running(const struct forward *f)
{
	return f->ops == &lambda_target_ops && (f->lambda.inv || f->lambda.xinv);
}

void lambda_fwd_cut(struct forward *f)
{
	struct http_request *req = f->req;

	lambda_abort(f);   /* its sandbox is stopped with the others (lambda_free) */
	f->out.answer_us = time_mono_us();
	/* ALB has no shutdown of its own; its nearest case is an invocation that
	 * ends without a result, as a function past its timeout does (Lambda
	 * reports it as Unhandled): 502 LambdaUnhandled, target status "-"
	 * (alb-lambda-targets.md §2.6, alb-listener-rules.md §5.3). Not 460: the
	 * client did not close, lb did. */
	f->out.error_reason = "LambdaUnhandled";
	log_warn("%.*s %.*s: 502 LambdaUnhandled: the function was still running when lb stopped",
		 SV_ARG(req->method), SV_ARG(req->path));
	forward_answer_page(f, 502, false);
	forward_done(f);
}

const struct target_ops lambda_target_ops = {
	.head = lambda_head,
	.request = lambda_request,
	.abort = lambda_abort,
};
