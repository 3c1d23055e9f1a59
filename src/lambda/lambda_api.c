/*
 * lambda_api: the Invoke operation served by net/http_server; invoke_api.c
 * holds its rules.
 *
 * A request's body is kept up to its invocation type's limit (the rest is
 * counted and discarded, so the 413 can name its size, as AWS's does), then
 * the request is answered: at once for errors, DryRun and Event, or when the
 * invocation ends for RequestResponse. The server reads no further request
 * on a connection until the answer is queued, so pipelined requests are
 * answered in order, and the request (its body is the payload) stays valid
 * while its invocation runs. Keep-alive as the client asks; Expect:
 * 100-continue is answered by the server.
 *
 * Event invocations go to async_invoke (queues, retries, destinations): the
 * 202 goes out at once with the event's request id. A client that leaves
 * cancels its RequestResponse invocation (a running one finishes in its
 * sandbox); lambda_api_free drops every queued event. A client that only
 * half-closes (its FIN after a whole request) gets its answers, then the
 * connection closes; one that closed outright is found when its answer is
 * written, so only a reset cancels. When lb's drain runs out, lambda_api_cut
 * answers every RequestResponse invocation still in flight 500 and cancels it.
 *
 * Headers lb reads: X-Amz-Invocation-Type, X-Amz-Log-Type, X-Amz-Client-Context
 * (decoded here, copied by the invocation or the queued event) and
 * X-Amzn-Trace-Id. Authorization is not checked: any credentials will do.
 */
#include "lambda/lambda_api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alb/http_msg.h"
#include "alb/invoke_api.h"
#include "alb/trace_id.h"
#include "base/base64.h"
#include "base/buf.h"
#include "base/log.h"
#include "lambda/async_invoke.h"
#include "lambda/lambda.h"
#include "net/http_server.h"

/* An idle keep-alive connection is closed after this long, and a request
 * stalled mid-way gets 408. LB_INVOKE_API_IDLE_SECONDS overrides it (tests). */
#define IDLE_SECONDS 60
#define EXTRA_MAX 6

/* A RequestResponse invocation in flight (req->route while it runs). */
struct call {
	struct lambda_api *api;
	struct http_request *req;
	struct invocation *inv;
	bool tail;                      /* it asked for the log tail */
	const struct function_cfg *fn;  /* its function (the invocation holds the configuration) */
	struct call *prev, *next;       /* api->calls */
};

struct lambda_api {
	struct lambda *lambda;
	struct rng *rng;
	struct config *cfg;
	struct http_server *srv;
	struct async_invoke *async;     /* Event invocations */
	size_t nbusy;                   /* RequestResponse invocations in flight */
	struct call *calls;             /* those invocations (lambda_api_cut) */
	/* the answer being written: its headers after x-amzn-RequestId (slot 0), their values in mem */
	struct http_header extra[EXTRA_MAX];
	size_t extra_at[EXTRA_MAX], nextra;
	struct buf mem, scratch;
	struct buf context;             /* the request's decoded X-Amz-Client-Context */
};

/* --- answers ------------------------------------------------------------------- */

/* Adds a header line to the answer being written. */
static void extra_add(struct lambda_api *api, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void extra_add(struct lambda_api *api, const char *name, const char *fmt, ...)
{
	va_list ap;

	api->extra[api->nextra].name = sv_from(name);
	api->extra_at[api->nextra++] = api->mem.len;
	va_start(ap, fmt);
	buf_vprintf(&api->mem, fmt, ap);
	va_end(ap);
	buf_putc(&api->mem, '\0');
}

/*
 * Writes one answer with x-amzn-RequestId and the extra headers gathered.
 * 204 carries neither Content-Type nor Content-Length (RFC 9110 §8.6).
 */
static void respond(struct lambda_api *api, struct http_request *req, int status, const char *request_id,
		    const char *body, size_t n)
{
	struct http_response resp = {
		.status = status,
		.content_type = status == 204 ? SV_NULL : SV("application/json"),
		.headers = api->extra,
		.body = { body, n },
		.bare = true,
	};
	char date[30];

	/* The request id comes first, as AWS sends it (slot 0 is kept for it). */
	api->extra[0].name = SV("x-amzn-RequestId");
	api->extra[0].value = sv_from(request_id);
	for (size_t i = 1; i < api->nextra; i++)
		api->extra[i].value = sv_from(api->mem.p + api->extra_at[i]);
	resp.nheaders = api->nextra;
	time_http_date(time_wall_us() / 1000000, date);
	http_server_respond(req, &resp, date);
	api->nextra = 1;
	buf_reset(&api->mem);
}

/* Answers e under request_id (NULL: a new one). */
static void respond_error_as(struct lambda_api *api, struct http_request *req, const struct invoke_error *e,
			     const char *request_id)
{
	char id[37];

	if (!request_id) {
		rng_uuid(api->rng, id);
		request_id = id;
	}
	buf_reset(&api->scratch);
	invoke_api_error_body(e, &api->scratch);
	extra_add(api, "x-amzn-ErrorType", "%s", e->type);
	respond(api, req, e->status, request_id, api->scratch.p, api->scratch.len);
}

static void respond_error(struct lambda_api *api, struct http_request *req, const struct invoke_error *e)
{
	respond_error_as(api, req, e, NULL);
}

/* --- invocations ---------------------------------------------------------------- */

/* call leaves the calls in flight (its answer is being written, or nobody wants it). */
static void call_end(struct call *call)
{
	struct lambda_api *api = call->api;

	if (call->prev)
		call->prev->next = call->next;
	else
		api->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;
	api->nbusy--;
	call->req->route = NULL;
}

static void on_invoked(void *cookie, const struct invoke_result *res)
{
	struct call *call = cookie;
	struct lambda_api *api = call->api;
	struct http_request *req = call->req;
	struct invoke_error e;

	call_end(call);
	if (res->status == INVOKE_THROTTLED && !res->remote_status) {
		invoke_api_throttled(call->fn, &e);
		respond_error(api, req, &e);
	} else if (res->status == INVOKE_REJECTED || res->status == INVOKE_THROTTLED) {
		/* An endpoint function's own service error, passed on as it came. */
		extra_add(api, "x-amzn-ErrorType", "%s", res->error_type);
		respond(api, req, res->remote_status, res->request_id, res->payload, res->len);
	} else if (res->status == INVOKE_UNREACHABLE) {
		buf_reset(&api->scratch);
		buf_printf(&api->scratch, "lb could not invoke %s at its endpoint: %.*s", call->fn->name,
			   (int)(res->len < 300 ? res->len : 300), res->payload);
		invoke_api_service_error(buf_cstr(&api->scratch), &e);
		respond_error(api, req, &e);
	} else {
		/* Why: a function error, a timeout or a crash is still a 200 to the
		 * Invoke API, marked Unhandled (awsdocs/aws-lambda-developer-guide#127). */
		if (res->status != INVOKE_OK)
			extra_add(api, "X-Amz-Function-Error", "Unhandled");
		extra_add(api, "X-Amz-Executed-Version", "%s", res->version);
		/* An endpoint that sent no log tail has none to pass on. */
		if (call->tail && (res->log_len || !call->fn->endpoint)) {
			struct buf b64 = BUF_INIT;
			base64_encode_buf(res->log, res->log_len, &b64);
			extra_add(api, "X-Amz-Log-Result", "%s", buf_cstr(&b64));
			buf_release(&b64);
		}
		respond(api, req, 200, res->request_id, res->payload, res->len);
	}
	free(call);
}

/* The trace header toward the function: the client's, when it has a Root. */
static void trace_header(struct lambda_api *api, const struct http_request *req, struct buf *out)
{
	const struct http_header *in = http_request_header(req, "x-amzn-trace-id");
	uint8_t rnd[12];

	buf_reset(out);
	if (in && in->value.n && trace_id_root(in->value).n) {
		buf_append(out, in->value.p, in->value.n);
		return;
	}
	rng_bytes(api->rng, rnd, sizeof(rnd));
	trace_id_build(out, SV_NULL, false, 0, (uint32_t)(time_wall_us() / 1000000), rnd);
}

/* The request's client context toward the function, or NULL. */
static const char *client_context(const struct lambda_api *api)
{
	return api->context.len ? buf_cstr(&api->context) : NULL;
}

static void start_event(struct lambda_api *api, struct http_request *req, const struct invoke_target *t,
			const char *payload, size_t n)
{
	char id[37];

	trace_header(api, req, &api->scratch);
	if (!async_invoke_submit(api->async, api->cfg, t->fn, t->qualifier, payload, n,
				 buf_cstr(&api->scratch), client_context(api), id)) {
		/* lb's queue is full: Lambda's answer when it will not take an invocation. */
		struct invoke_error e = { 429, "TooManyRequestsException", NULL, "Rate Exceeded." };

		respond_error(api, req, &e);
		return;
	}
	/* Why: Lambda queues an Event invocation and answers 202 with no body. */
	respond(api, req, 202, id, "", 0);
}

static void start_sync(struct lambda_api *api, struct http_request *req, const struct invoke_target *t,
		       bool tail, const char *payload, size_t n)
{
	struct call *call = xcalloc(1, sizeof(*call));
	struct invoke_request ir;

	call->api = api;
	call->req = req;
	call->tail = tail;
	call->fn = t->fn;
	trace_header(api, req, &api->scratch);
	ir = (struct invoke_request){ api->cfg, t->fn, *t->qualifier ? t->qualifier : NULL, payload, n,
				      buf_cstr(&api->scratch), tail, client_context(api) };
	req->route = call;
	call->next = api->calls;
	if (call->next)
		call->next->prev = call;
	api->calls = call;
	api->nbusy++;
	call->inv = lambda_invoke(api->lambda, &ir, on_invoked, call);
}

static const struct sv *header(const struct http_request *req, const char *name)
{
	const struct http_header *h = http_request_header(req, name);

	return h ? &h->value : NULL;
}

static enum invoke_type invocation_type_of(const struct http_request *req)
{
	const struct sv *v = header(req, "x-amz-invocation-type");

	return v && sv_eq_cstr(*v, "Event") ? INVOKE_TYPE_EVENT : INVOKE_TYPE_REQUEST_RESPONSE;
}

static void on_head(void *cookie, struct http_request *req)
{
	struct lambda_api *api = cookie;
	enum invoke_type type = invocation_type_of(req);
	struct invoke_error e;

	req->keep_body = true;
	req->body.max = invoke_api_payload_max(type);
	/* A client that sent Expect: 100-continue with a Content-Length over the
	 * limit gets its 413 now, not a 100 and the body's upload (the connection
	 * then closes); without Expect the body is read and the connection kept. */
	if (req->expect_continue && req->framing == HTTP_FRAMING_LENGTH &&
	    invoke_api_check_payload(type, "", 0, req->content_length, &e) < 0)
		respond_error(api, req, &e);
}

static void on_request(void *cookie, struct http_request *req)
{
	struct lambda_api *api = cookie;
	struct sv name;
	struct invoke_target target;
	struct invoke_error e;
	enum invoke_type type;
	bool tail = false;
	const char *payload = buf_cstr(&req->body);
	size_t n = req->body.len;
	char id[37];

	if (!invoke_api_is_invoke(req->method, req->path, &name)) {
		e = (struct invoke_error){ 404, "UnknownOperationException", NULL, "" };
		snprintf(e.message, sizeof(e.message), "lb serves only Lambda's Invoke operation: "
			 "POST /2015-03-31/functions/{FunctionName}/invocations");
		respond_error(api, req, &e);
		return;
	}
	buf_reset(&api->context);
	if (invoke_api_invocation_type(header(req, "x-amz-invocation-type"), &type, &e) < 0 ||
	    invoke_api_log_type(header(req, "x-amz-log-type"), &tail, &e) < 0 ||
	    invoke_api_client_context(header(req, "x-amz-client-context"), &api->context, &e) < 0 ||
	    invoke_api_check_payload(type, payload, req->body_too_large ? 0 : n, req->body_bytes, &e) < 0 ||
	    invoke_api_resolve(api->cfg, name, req->has_query ? req->query : SV_NULL, &target, &e) < 0) {
		respond_error(api, req, &e);
		return;
	}
	/* A payload with nothing in it reaches the function as {} (lb's choice, see README). */
	if (strspn(payload, " \t\r\n") == n) {
		payload = "{}";
		n = 2;
	}
	if (type == INVOKE_TYPE_DRY_RUN) {
		rng_uuid(api->rng, id);
		respond(api, req, 204, id, "", 0);
	} else if (type == INVOKE_TYPE_EVENT) {
		start_event(api, req, &target, payload, n);
	} else {
		start_sync(api, req, &target, tail, payload, n);
	}
}

/* The HTTP layer refused the request (400, 408, 501, 505): AWS's error for it. */
static void on_error(void *cookie, struct http_request *req, int status)
{
	struct lambda_api *api = cookie;
	struct invoke_error e;

	invoke_api_http_error(status, &e);
	respond_error(api, req, &e);
}

/* The client left: nobody wants the answer of its invocation. */
static void on_abort(void *cookie, struct http_request *req)
{
	struct call *call = req->route;

	(void)cookie;
	if (!call)
		return;
	call_end(call);
	lambda_cancel(call->inv);
	free(call);
}

static const struct http_server_cbs server_cbs = {
	.on_head = on_head,
	.on_request = on_request,
	.on_error = on_error,
	.on_abort = on_abort,
};

/* --- listeners and server ---------------------------------------------------------- */

struct http_listener *lambda_api_listen(struct lambda_api *api, const char *address, int port, struct lb_err *err)
{
	return http_server_listen(api->srv, "lambda_api", address, port, err);
}

struct lambda_api *lambda_api_new(struct event_base *base, struct lambda *lambda, struct rng *rng)
{
	struct lambda_api *api = xcalloc(1, sizeof(*api));
	const char *env = getenv("LB_INVOKE_API_IDLE_SECONDS");
	struct http_server_settings set = { IDLE_SECONDS, 0, { 16 * 1024, 64 * 1024, false, DESYNC_MODE_MONITOR } };

	if (env && atoi(env) > 0)
		set.idle_timeout = atoi(env);
	api->lambda = lambda;
	api->rng = rng;
	api->srv = http_server_new(base, &server_cbs, api, NULL);
	/* Not ALB: a FIN is not the client leaving (460); AWS's SDKs never
	 * half-close, but `printf ... | nc -N` and scripts do, and want the answer. */
	http_server_set_answer_half_closed(api->srv, true);
	api->async = async_invoke_new(base, lambda, rng);
	http_server_configure(api->srv, &set);
	buf_init(&api->mem, 0);
	buf_init(&api->scratch, 0);
	buf_init(&api->context, 0);
	api->nextra = 1;
	return api;
}

void lambda_api_set_config(struct lambda_api *api, struct config *cfg)
{
	struct config *old = api->cfg;

	api->cfg = config_ref(cfg);
	config_unref(old);
	async_invoke_set_config(api->async, cfg);
}

void lambda_api_shutdown(struct lambda_api *api)
{
	http_server_shutdown(api->srv);
}

unsigned lambda_api_cut(struct lambda_api *api)
{
	unsigned n = 0;

	for (struct call *call; (call = api->calls); n++) {
		struct http_request *req = call->req;
		const char *id = lambda_request_id(call->inv);
		struct invoke_error e;
		char msg[300];

		/* Why ServiceException (500): the function did not fail (that would be
		 * a 200 marked Unhandled), the service stopped under it; it is Lambda's
		 * error for its own failures, and AWS's SDKs retry it, which reaches
		 * the next lb. */
		snprintf(msg, sizeof(msg), "lb stopped while function %s was still running", call->fn->name);
		invoke_api_service_error(msg, &e);
		log_warn("lambda_api: %s: 500 ServiceException: the function was still running when lb stopped",
			 call->fn->name);
		call_end(call);
		respond_error_as(api, req, &e, id);   /* before the cancel frees the id */
		lambda_cancel(call->inv);   /* its sandbox is stopped with the others (lambda_free) */
		free(call);
	}
	return n;
}

size_t lambda_api_busy(const struct lambda_api *api)
{
	/* Events waiting for a retry do not hold lb up: they are dropped at exit. */
	return api->nbusy + async_invoke_running(api->async);
}

void lambda_api_free(struct lambda_api *api)
{
	if (!api)
		return;
	http_server_free(api->srv);   /* aborts (cancels) the RequestResponse calls */
	async_invoke_free(api->async);
	buf_release(&api->mem);
	buf_release(&api->scratch);
	buf_release(&api->context);
	config_unref(api->cfg);
	free(api);
}
