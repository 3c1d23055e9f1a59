/*
 * runtime_api: the Runtime API of one sandbox, served by net/http_server on
 * its own loopback port.
 *
 * State: at most one invocation is current. runtime_api_deliver copies the
 * event and its headers into `pending`; they are the answer to the /next
 * request that is waiting (`waiter`), now or when one arrives. From then
 * until /response or /error for its request id, the invocation is open.
 *
 * Checks, as AWS's Runtime API makes them (lambda-runtime-api.md §2.1, §2.4):
 * /response or /error with no open invocation → 403 InvalidStateTransition;
 * with another request id → 400 InvalidRequestID; a body past 6 MB → 413,
 * at once from the head when its Content-Length says so, else as soon as
 * its chunks pass the limit (a result's body is streamed to on_body and
 * stored here, so nothing past the limit is kept); a /response in a
 * response mode other than "streaming" → 400 InvalidFunctionResponseMode.
 * A result whose body breaks off (the runtime closed or reset its
 * connection, or sent malformed chunks) fails its invocation at once
 * (on_broken), rather than leaving it open until the function's timeout.
 * A runtime may use several connections, or pipeline /next behind its
 * /response on one (lb's bundled clients do); the server reads each
 * connection on its own and answers its requests in order. A /next is held by the server
 * for as long as it waits, and a connection between requests may idle for
 * ever: only a request being read (its head begun, or its body) has a read
 * timeout, RUNTIME_API_READ_SECONDS without a byte (408). A request the HTTP
 * layer refuses for an unknown Transfer-Encoding (501) or an HTTP/2.0
 * request line (505) keeps that status; anything else it refuses is 400.
 */
#include "lambda/runtime_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alb/invoke_api.h"
#include "base/base64.h"
#include "base/buf.h"
#include "base/util.h"
#include "lambda/extensions.h"
#include "net/http_server.h"

#define PATH_PREFIX "/2018-06-01/runtime/"

/*
 * Why 15 minutes: Lambda's longest function timeout. A result that stalls
 * mid-body fails with its invocation's timeout first (the sandbox is killed),
 * so only requests no invocation waits for (a stalled head, a result for
 * nothing) ever meet this bound. LB_RUNTIME_API_READ_SECONDS overrides it.
 */
#define RUNTIME_API_READ_SECONDS 900

/* Lambda's descriptor limit for a sandbox's processes. */
#define RUNTIME_API_CONNS_MAX 1024

struct runtime_api {
	struct http_server *srv;
	struct http_listener *listener;
	const struct runtime_api_cbs *cbs;
	void *cookie;
	struct http_request *waiter; /* a /next that has no answer yet */
	struct buf pending;          /* the current invocation's event, unsent */
	struct buf meta;             /* its header values, NUL-separated */
	struct http_header headers[5];
	size_t nheaders;             /* 4, or 5 with a client context */
	bool has_pending;
	bool open;                   /* an invocation was sent and has no result yet */
	bool init_done;              /* the init phase is over (runtime_api_init_done) */
	char current_id[64];
	int64_t date_s;
	char date[30];
	struct extensions *ext;      /* the Extensions and Telemetry APIs beside it, or NULL */
	int read_seconds;            /* a request being read may go this long without a byte */
};

/* --- answers ------------------------------------------------------------------ */

static const char *api_date(struct runtime_api *ra)
{
	int64_t now = time_wall_us() / 1000000;

	if (now != ra->date_s) {
		ra->date_s = now;
		time_http_date(now, ra->date);
	}
	return ra->date;
}

static void answer_json(struct runtime_api *ra, struct http_request *req, int status, const char *json)
{
	struct http_response resp = {
		.status = status,
		.content_type = SV("application/json"),
		.body = sv_from(json),
		.bare = true,
	};

	http_server_respond(req, &resp, api_date(ra));
}

static void answer_error(struct runtime_api *ra, struct http_request *req, int status, const char *type,
			 const char *message)
{
	char json[256];

	snprintf(json, sizeof(json), "{\"errorMessage\":\"%s\",\"errorType\":\"%s\"}", message, type);
	answer_json(ra, req, status, json);
}

static void send_pending(struct runtime_api *ra)
{
	struct http_request *req = ra->waiter;
	struct http_response resp = {
		.status = 200,
		.content_type = SV("application/json"),
		.headers = ra->headers,
		.nheaders = ra->nheaders,
		.body = { ra->pending.p, ra->pending.len },
		.bare = true,
	};

	ra->waiter = NULL;
	ra->has_pending = false;
	ra->open = true;
	http_server_respond(req, &resp, api_date(ra));
}

void runtime_api_deliver(struct runtime_api *ra, const struct runtime_invocation *inv)
{
	static const char *const names[] = { "Lambda-Runtime-Aws-Request-Id", "Lambda-Runtime-Deadline-Ms",
					     "Lambda-Runtime-Invoked-Function-Arn", "Lambda-Runtime-Trace-Id",
					     "Lambda-Runtime-Client-Context" };
	size_t at[5];
	char deadline[24];
	char *p;

	str_copy(ra->current_id, sizeof(ra->current_id), inv->request_id);
	dec_u64(inv->deadline_ms > 0 ? (uint64_t)inv->deadline_ms : 0, deadline);
	/* The headers every client relies on (aws-lambda-cpp asserts on the
	 * request id and a positive deadline; the Rust runtime on the ARN). */
	buf_reset(&ra->meta);
	at[0] = ra->meta.len;
	buf_append(&ra->meta, inv->request_id, strlen(inv->request_id) + 1);
	at[1] = ra->meta.len;
	buf_append(&ra->meta, deadline, strlen(deadline) + 1);
	at[2] = ra->meta.len;
	buf_append(&ra->meta, inv->function_arn, strlen(inv->function_arn) + 1);
	at[3] = ra->meta.len;
	buf_append(&ra->meta, inv->trace_id, strlen(inv->trace_id) + 1);
	ra->nheaders = 4;
	if (inv->client_context) {
		/* Why: Lambda hands the runtime the Invoke's X-Amz-Client-Context
		 * decoded (as AWS's emulator does); an ALB invocation has none and
		 * gets no header. Line breaks and tabs can only be whitespace
		 * between a JSON object's tokens: spaces keep it one header line. */
		at[ra->nheaders++] = ra->meta.len;
		for (const char *c = inv->client_context; *c; c++)
			buf_putc(&ra->meta, *c == '\r' || *c == '\n' || *c == '\t' ? ' ' : *c);
		buf_putc(&ra->meta, '\0');
	}
	p = ra->meta.p;
	for (size_t i = 0; i < ra->nheaders; i++)
		ra->headers[i] = (struct http_header){ sv_from(names[i]), sv_from(p + at[i]) };
	buf_reset(&ra->pending);
	buf_append(&ra->pending, inv->payload, inv->payload_len);
	ra->has_pending = true;
	ra->open = false;
	if (ra->waiter)
		send_pending(ra);
}

void runtime_api_drop(struct runtime_api *ra)
{
	ra->has_pending = false;
	ra->open = false;
	ra->current_id[0] = '\0';
}

/* --- requests ------------------------------------------------------------------ */

/* "<id>/response" or "<id>/error" after the invocation prefix: the id, or empty. */
static struct sv invocation_id(struct sv rest, const char *verb)
{
	size_t vn = strlen(verb);

	if (rest.n <= vn + 1 || memcmp(rest.p + rest.n - vn, verb, vn) != 0 || rest.p[rest.n - vn - 1] != '/')
		return SV_NULL;
	return (struct sv){ rest.p, rest.n - vn - 1 };
}

/* Whether req is POST .../invocation/<id>/response or /error: its id, and which. */
static bool result_request(const struct http_request *req, struct sv *id, bool *error)
{
	struct sv rest = req->path;

	if (!sv_eq_cstr(req->method, "POST") || rest.n < sizeof(PATH_PREFIX) - 1 ||
	    memcmp(rest.p, PATH_PREFIX, sizeof(PATH_PREFIX) - 1) != 0)
		return false;
	rest = (struct sv){ rest.p + sizeof(PATH_PREFIX) - 1, rest.n - (sizeof(PATH_PREFIX) - 1) };
	if (!sv_starts_with_nocase(rest, "invocation/"))
		return false;
	rest = (struct sv){ rest.p + 11, rest.n - 11 };
	*error = false;
	if ((*id = invocation_id(rest, "response")).n)
		return true;
	*error = true;
	return (*id = invocation_id(rest, "error")).n > 0;
}

/* Whether req, whose head has been read (on_head streams only results), is a
 * result for the open invocation. */
static bool open_result(const struct runtime_api *ra, const struct http_request *req, bool *error)
{
	struct sv id;

	return req->stream_body && ra->open && result_request(req, &id, error) && sv_eq_cstr(id, ra->current_id);
}

/* Checks that a result is for the open invocation; answers the error if not. */
static bool result_allowed(struct runtime_api *ra, struct http_request *req, struct sv id)
{
	if (!ra->open) {
		answer_error(ra, req, 403, "InvalidStateTransition", "no invocation is waiting for a result");
		return false;
	}
	if (!sv_eq_cstr(id, ra->current_id)) {
		answer_error(ra, req, 400, "InvalidRequestID", "Invalid request ID");
		return false;
	}
	if (req->body_too_large ||
	    (req->framing == HTTP_FRAMING_LENGTH && req->content_length > RUNTIME_API_PAYLOAD_MAX)) {
		/* Lambda fails the invocation at once (Function.ResponseSizeTooLarge). */
		static const char err[] = "{\"errorMessage\":\"Response payload size exceeded maximum "
					  "allowed payload size (6291556 bytes).\",\"errorType\":"
					  "\"Function.ResponseSizeTooLarge\"}";
		answer_error(ra, req, 413, "RequestEntityTooLarge", "payload is larger than 6291556 bytes");
		ra->open = false;
		ra->cbs->on_error(ra->cookie, err, sizeof(err) - 1, "Function.ResponseSizeTooLarge");
		return false;
	}
	return true;
}

/*
 * Why: Lambda takes a /response buffered (no mode) or streamed (mode
 * "streaming", which lb buffers: ALB cannot stream); any other mode gets 400
 * InvalidFunctionResponseMode and fails the invocation with
 * Runtime.InvalidResponseModeHeader (lambda-runtime-api.md §2.6). Answers
 * and reports that, or returns true.
 */
static bool mode_allowed(struct runtime_api *ra, struct http_request *req)
{
	const struct http_header *h = http_request_header(req, "lambda-runtime-function-response-mode");
	char shown[33], body[256];
	size_t i;
	int n;

	if (!h || !h->value.n || sv_eq_cstr(h->value, "streaming"))
		return true;
	/* The value, shown in the error: cut, and nothing JSON would need to escape. */
	for (i = 0; i < h->value.n && i < sizeof(shown) - 1; i++) {
		char c = h->value.p[i];
		shown[i] = c > ' ' && c < 0x7f && c != '"' && c != '\\' ? c : '?';
	}
	shown[i] = '\0';
	answer_error(ra, req, 400, "InvalidFunctionResponseMode", "Invalid function response mode");
	n = snprintf(body, sizeof(body),
		     "{\"errorMessage\":\"RequestId: %s Error: Lambda-Runtime-Function-Response-Mode '%s' "
		     "is not 'streaming'\",\"errorType\":\"Runtime.InvalidResponseModeHeader\"}",
		     ra->current_id, shown);
	ra->open = false;
	ra->cbs->on_error(ra->cookie, body, n < (int)sizeof(body) ? (size_t)n : sizeof(body) - 1,
			  "Runtime.InvalidResponseModeHeader");
	return false;
}

static const char *error_type(const struct http_request *req, char out[256])
{
	const struct http_header *h = http_request_header(req, "lambda-runtime-function-error-type");
	size_t n = h ? (h->value.n < 255 ? h->value.n : 255) : 0;   /* cut to fit, as before */

	if (n)
		memcpy(out, h->value.p, n);
	out[n] = '\0';
	return out;
}

/*
 * Why: a runtime streaming its result reports an error that happens mid-stream
 * in the trailers, Lambda-Runtime-Function-Error-Type and -Error-Body (base64
 * of the error document; lambda-runtime-api.md §2.6): the invocation fails
 * with that error, as after /error, not with the body streamed so far.
 * Reports it, or returns false when the trailers name no error.
 */
static bool streamed_error(struct runtime_api *ra, const struct http_request *req)
{
	struct sv type = http_request_trailer(req, "lambda-runtime-function-error-type");
	struct sv body = http_request_trailer(req, "lambda-runtime-function-error-body");
	struct buf doc;
	char t[256];
	size_t i;

	if (!type.n)
		return false;
	for (i = 0; i < type.n && i < sizeof(t) - 1; i++) {
		char c = type.p[i];
		t[i] = c >= ' ' && c < 0x7f && c != '"' && c != '\\' ? c : '?';
	}
	t[i] = '\0';
	buf_init(&doc, HTTP_TRAILERS_MAX);
	if (!body.n || base64_decode(body.p, body.n, &doc) < 0 || !doc.len) {
		char json[384];
		int n = snprintf(json, sizeof(json), "{\"errorMessage\":\"RequestId: %s Error: the response stream "
				 "failed\",\"errorType\":\"%s\"}", ra->current_id, t);

		buf_reset(&doc);
		buf_append(&doc, json, n < (int)sizeof(json) ? (size_t)n : sizeof(json) - 1);
	}
	ra->cbs->on_error(ra->cookie, buf_cstr(&doc), doc.len, t);
	buf_release(&doc);
	return true;
}

/*
 * A result for the open invocation: answered 202 first, then reported, so
 * the runtime's /next can follow while the owner handles the result. The
 * body is reported from the request, which stays valid during the callback.
 */
static void take_result(struct runtime_api *ra, struct http_request *req, bool error)
{
	char type[256];
	const char *body = buf_cstr(&req->body);
	size_t n = req->body.len;

	ra->open = false;
	error_type(req, type);
	answer_json(ra, req, 202, "{\"status\":\"OK\"}");
	if (error)
		ra->cbs->on_error(ra->cookie, body, n, type);
	else if (!streamed_error(ra, req))
		ra->cbs->on_response(ra->cookie, body, n);
}

/* How a result's body broke off. */
enum broken_how {
	BROKEN_CLOSED,      /* the connection is known to be gone (a reset) */
	BROKEN_UNCLEAR,     /* the server could not tell a close from malformed chunks */
	BROKEN_STALLED,     /* no byte for the read timeout */
};

/*
 * The open invocation's result broke off mid-body. Why
 * Runtime.TruncatedResponse: AWS's emulator fails an invocation whose
 * /response body is cut with it (directinvoke.go); Lambda's own answer, and
 * its answer to a cut /error, are unverified, so lb gives that type to both.
 */
static void result_broken(struct runtime_api *ra, const struct http_request *req, bool error,
			  enum broken_how how)
{
	const char *verb = error ? "/error" : "/response";
	unsigned long long got = req->body_bytes;
	bool closed = how == BROKEN_CLOSED;
	char msg[160];

	if (how == BROKEN_STALLED)
		snprintf(msg, sizeof(msg), "Runtime sent no byte of its %s body for %d seconds after %llu bytes",
			 verb, ra->read_seconds, got);
	else if (req->framing == HTTP_FRAMING_LENGTH)
		snprintf(msg, sizeof(msg), "Runtime closed the connection after %llu of %llu bytes of its %s body",
			 got, (unsigned long long)req->content_length, verb);
	else if (closed)
		snprintf(msg, sizeof(msg), "Runtime closed the connection after %llu bytes of its chunked %s body",
			 got, verb);
	else
		snprintf(msg, sizeof(msg), "Runtime's chunked %s body broke off after %llu bytes "
			 "(connection closed or chunk malformed)", verb, got);
	ra->open = false;
	ra->cbs->on_broken(ra->cookie, "Runtime.TruncatedResponse", msg);
}

/*
 * A result's body is streamed to on_body, which stores it up to the limit;
 * other requests' bodies are stored by the server.
 */
static void on_head(void *cookie, struct http_request *req)
{
	struct runtime_api *ra = cookie;
	struct sv id;
	bool error;

	req->body.max = RUNTIME_API_PAYLOAD_MAX;
	if (!result_request(req, &id, &error)) {
		req->keep_body = true;
		return;
	}
	req->stream_body = true;
	req->keep_trailers = true;
	/* Why: Lambda refuses any result past 6 MB (413, Function.ResponseSizeTooLarge),
	 * so one whose Content-Length says so is answered now (or gets the state and
	 * id checks' 403 and 400): its body is never read, the connection closes. */
	if (req->framing == HTTP_FRAMING_LENGTH && req->content_length > RUNTIME_API_PAYLOAD_MAX)
		result_allowed(ra, req, id);
}

/*
 * A result's body bytes. Why: Lambda refuses a result past 6 MB, so a chunked
 * one (no Content-Length to refuse from the head) is answered as soon as it
 * passes the limit, with the same 413 and the same failed invocation; the
 * connection then closes and the rest is never stored.
 */
static void on_body(void *cookie, struct http_request *req, const char *p, size_t n)
{
	struct runtime_api *ra = cookie;
	struct sv id;
	bool error;

	if (req->body_too_large || buf_append(&req->body, p, n) == 0)
		return;
	req->body_too_large = true;
	if (result_request(req, &id, &error))
		result_allowed(ra, req, id);
}

static void on_request(void *cookie, struct http_request *req)
{
	struct runtime_api *ra = cookie;
	struct sv rest = req->path, id;
	bool post = sv_eq_cstr(req->method, "POST"), error;
	char type[256];

	/* Lambda serves the Extensions and Telemetry APIs on the Runtime API's address. */
	if (ra->ext && extensions_route(ra->ext, req))
		return;
	if (rest.n < sizeof(PATH_PREFIX) - 1 || memcmp(rest.p, PATH_PREFIX, sizeof(PATH_PREFIX) - 1) != 0)
		goto not_found;
	rest = (struct sv){ rest.p + sizeof(PATH_PREFIX) - 1, rest.n - (sizeof(PATH_PREFIX) - 1) };
	if (!post && sv_eq_cstr(rest, "invocation/next")) {
		/* One invocation at a time: the open one needs its result first. */
		if (ra->waiter || ra->open) {
			answer_error(ra, req, 403, "InvalidStateTransition",
				     ra->open ? "the open invocation has no result yet" : "a /next is already waiting");
			return;
		}
		ra->waiter = req;
		if (ra->has_pending)
			send_pending(ra);
		else
			ra->cbs->on_next(ra->cookie);
		return;
	}
	if (post && sv_eq_cstr(rest, "init/error")) {
		/* Why: /init/error belongs to the init phase; after it, Lambda's
		 * answer to a call out of order is 403 InvalidStateTransition. */
		if (ra->init_done) {
			answer_error(ra, req, 403, "InvalidStateTransition", "the init phase is over");
			return;
		}
		answer_json(ra, req, 202, "{\"status\":\"OK\"}");
		ra->cbs->on_init_error(ra->cookie, buf_cstr(&req->body), req->body.len, error_type(req, type));
		return;
	}
	if (result_request(req, &id, &error)) {
		if (result_allowed(ra, req, id) && (error || mode_allowed(ra, req)))
			take_result(ra, req, error);
		return;
	}
not_found:
	answer_error(ra, req, 404, "NotFound", "unknown Runtime API path");
}

static void on_error(void *cookie, struct http_request *req, int status)
{
	struct runtime_api *ra = cookie;
	bool error;

	if (status == 408) {
		/* lb's own bound (RUNTIME_API_READ_SECONDS); what Lambda answers is unverified. */
		answer_error(ra, req, 408, "RequestTimeout", "no byte of the request within the read timeout");
		if (open_result(ra, req, &error))
			result_broken(ra, req, error, BROKEN_STALLED);
		return;
	}
	if (open_result(ra, req, &error)) {
		/* AWS's emulator's answer to a cut request (rendering.go). */
		answer_error(ra, req, 400, "TruncatedHTTPRequest", "HTTP request detected as truncated");
		result_broken(ra, req, error, BROKEN_UNCLEAR);
		return;
	}
	if (status == 501 || status == 505) {
		struct invoke_error e;

		/* Lambda documents neither for its Runtime API: the same status, type
		 * and words as lb's Invoke API (AWS's front end's codes), in the
		 * Runtime API's {errorMessage, errorType} document. */
		invoke_api_http_error(status, &e);
		answer_error(ra, req, e.status, e.type, e.message);
		return;
	}
	answer_error(ra, req, 400, "InvalidRequest", "malformed request");
}

/* The runtime reset a connection while lb held its request: a /next, or a
 * result whose body was still arriving. */
static void on_abort(void *cookie, struct http_request *req)
{
	struct runtime_api *ra = cookie;
	bool error;

	if (ra->waiter == req)
		ra->waiter = NULL;
	else if (open_result(ra, req, &error))
		result_broken(ra, req, error, BROKEN_CLOSED);
	if (ra->ext)
		extensions_abort(ra->ext, req);
}

static const struct http_server_cbs server_cbs = {
	.on_head = on_head,
	.on_body = on_body,
	.on_request = on_request,
	.on_error = on_error,
	.on_abort = on_abort,
};

/* --- lifecycle ------------------------------------------------------------------ */

struct runtime_api *runtime_api_new(struct event_base *base, const char *log_name, const struct runtime_api_cbs *cbs,
				    void *cookie, struct lb_err *err)
{
	struct runtime_api *ra = xcalloc(1, sizeof(*ra));
	const char *env = getenv("LB_RUNTIME_API_READ_SECONDS");
	/* lb's own loopback API: generous limits, no desync rules, and a read
	 * timeout only for a request under way (a /next waits as long as it likes). */
	struct http_server_settings set = { 0, 0, { 64 * 1024, 64 * 1024, false, DESYNC_MODE_MONITOR } };
	char who[160];

	ra->read_seconds = env && atoi(env) > 0 ? atoi(env) : RUNTIME_API_READ_SECONDS;
	set.idle_timeout = ra->read_seconds;
	ra->cbs = cbs;
	ra->cookie = cookie;
	buf_init(&ra->pending, 0);
	buf_init(&ra->meta, 0);
	ra->srv = http_server_new(base, &server_cbs, ra, NULL);
	http_server_set_idle_mid_request_only(ra->srv, true);
	/* Why: a Lambda sandbox has 1024 descriptors, so its runtime and extensions
	 * never hold more connections than that; without a cap one runtime could
	 * take every descriptor lb has, and lb would stop accepting clients. */
	snprintf(who, sizeof(who), "[%s] Runtime API", log_name);
	http_server_set_max_conns(ra->srv, RUNTIME_API_CONNS_MAX, who);
	http_server_configure(ra->srv, &set);
	ra->listener = http_server_listen(ra->srv, "Runtime API", "127.0.0.1", 0, err);
	if (!ra->listener) {
		runtime_api_free(ra);
		return NULL;
	}
	return ra;
}

void runtime_api_set_extensions(struct runtime_api *ra, struct extensions *x)
{
	ra->ext = x;
}

void runtime_api_init_done(struct runtime_api *ra)
{
	ra->init_done = true;
}

uint16_t runtime_api_port(const struct runtime_api *ra)
{
	return http_listener_port(ra->listener);
}

void runtime_api_free(struct runtime_api *ra)
{
	if (!ra)
		return;
	ra->open = false;            /* a result cut by the closing is nobody's news */
	http_server_free(ra->srv);   /* closes the port; a waiting /next is aborted */
	buf_release(&ra->pending);
	buf_release(&ra->meta);
	free(ra);
}
