/*
 * lambda_api: a small HTTP/1.1 server (llhttp on bufferevents, as
 * runtime_api.c) for the Invoke operation; invoke_api.c holds its rules.
 *
 * Connections: one request at a time. A request is parsed whole (the body
 * kept up to the invocation type's limit, the rest counted and discarded so
 * the 413 can name its size, as AWS's does), then answered: at once for
 * errors, DryRun and Event, or when the invocation ends for RequestResponse.
 * Parsing pauses while an invocation runs, so pipelined requests are
 * answered in order; it resumes from the `resume` event, never from inside
 * the invocation's callback. Keep-alive as the client asks; every answer
 * leaves in one write (head and body in one buffer) on a TCP_NODELAY socket.
 *
 * Event invocations are jobs owned by the server: the 202 goes out at once
 * and the job holds the payload until its invocation ends. A client that
 * leaves cancels its RequestResponse invocation (a running one finishes in
 * its sandbox); lambda_api_free cancels every job.
 *
 * Headers lb reads: X-Amz-Invocation-Type, X-Amz-Log-Type, X-Amzn-Trace-Id
 * and Expect. Authorization is not checked: any credentials will do.
 */
#include "lambda/lambda_api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <llhttp.h>

#include "base/base64.h"
#include "base/buf.h"
#include "alb/http_msg.h"
#include "alb/invoke_api.h"
#include "lambda/lambda.h"
#include "base/log.h"
#include "net/net.h"
#include "alb/trace_id.h"

/* An idle keep-alive connection is closed after this long. */
#define IDLE_SECONDS 60
#define URL_MAX 8192
#define HEADER_VALUE_MAX 1024

enum hdr { H_INVOCATION_TYPE, H_LOG_TYPE, H_TRACE, H_EXPECT, H_COUNT, H_OTHER = H_COUNT };

static const char *const hdr_names[H_COUNT] = {
	[H_INVOCATION_TYPE] = "x-amz-invocation-type",
	[H_LOG_TYPE] = "x-amz-log-type",
	[H_TRACE] = "x-amzn-trace-id",
	[H_EXPECT] = "expect",
};

struct lambda_api_listener {
	struct lambda_api *api;
	struct lambda_api_listener *prev, *next;
	struct evconnlistener *ev;
	uint16_t port;
};

struct api_conn {
	struct lambda_api *api;
	struct api_conn *prev, *next;
	struct bufferevent *bev;
	struct event *resume;
	llhttp_t parser;
	struct buf url, field, body;
	struct buf hv[H_COUNT];
	bool has[H_COUNT];
	enum hdr cur;
	uint64_t body_total;
	size_t body_max;
	bool too_large, done, closing, keep_alive;
	struct invocation *inv;        /* the RequestResponse in flight */
	bool tail;                     /* it asked for the log tail */
	const struct function_cfg *fn; /* its function (the invocation holds the configuration) */
};

struct job {
	struct lambda_api *api;
	struct job *prev, *next;
	struct invocation *inv;
	char *payload;
	size_t len;
	char *name;
};

struct lambda_api {
	struct event_base *base;
	struct lambda *lambda;
	struct rng *rng;
	struct config *cfg;
	llhttp_settings_t settings;
	struct lambda_api_listener *listeners;
	struct api_conn *conns;
	struct job *jobs;
	size_t nbusy_conns;
	bool stopping;
	struct buf out, extra, scratch;
};

#define LIST_INSERT(head, x)            \
	do {                            \
		(x)->next = (head);     \
		if (head)               \
			(head)->prev = (x); \
		(head) = (x);           \
	} while (0)
#define LIST_REMOVE(head, x)                      \
	do {                                      \
		if ((x)->prev)                    \
			(x)->prev->next = (x)->next; \
		else                              \
			(head) = (x)->next;       \
		if ((x)->next)                    \
			(x)->next->prev = (x)->prev; \
	} while (0)

static void conn_free(struct api_conn *c);

/* --- answers ------------------------------------------------------------------- */

/* A request id for answers no invocation owns: a random UUID, as AWS's. */
static void random_request_id(struct rng *rng, char out[37])
{
	uint8_t b[16];
	char hex[33];

	rng_bytes(rng, b, sizeof(b));
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	hex_encode(b, sizeof(b), hex);
	snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
}

/*
 * Writes one answer: head (api->extra holds further header lines) and body
 * in one buffer. 204 carries neither Content-Type nor Content-Length (RFC
 * 9110 §8.6); an answer to HEAD has no body.
 */
static void respond(struct api_conn *c, int status, const char *request_id, const char *body, size_t n)
{
	struct lambda_api *api = c->api;
	struct buf *out = &api->out;
	char date[30];

	time_http_date(time_wall_us() / 1000000, date);
	buf_reset(out);
	buf_printf(out, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status, http_reason(status), date);
	if (status != 204)
		buf_printf(out, "Content-Type: application/json\r\nContent-Length: %zu\r\n", n);
	buf_printf(out, "Connection: %s\r\nx-amzn-RequestId: %s\r\n", c->keep_alive ? "keep-alive" : "close",
		   request_id);
	buf_append(out, api->extra.p, api->extra.len);
	buf_puts(out, "\r\n");
	if (status != 204 && llhttp_get_method(&c->parser) != HTTP_HEAD)
		buf_append(out, body, n);
	bufferevent_write(c->bev, out->p, out->len);
	buf_reset(&api->extra);
	if (!c->keep_alive)
		c->closing = true;
}

static void respond_error(struct api_conn *c, const struct invoke_error *e)
{
	struct lambda_api *api = c->api;
	char id[37];

	random_request_id(api->rng, id);
	buf_reset(&api->scratch);
	invoke_api_error_body(e, &api->scratch);
	buf_reset(&api->extra);
	buf_printf(&api->extra, "x-amzn-ErrorType: %s\r\n", e->type);
	respond(c, e->status, id, api->scratch.p, api->scratch.len);
}

/* --- invocations ---------------------------------------------------------------- */

static void on_invoked(void *cookie, const struct invoke_result *res)
{
	struct api_conn *c = cookie;
	struct lambda_api *api = c->api;
	struct invoke_error e;

	c->inv = NULL;
	api->nbusy_conns--;
	if (res->status == INVOKE_THROTTLED) {
		invoke_api_throttled(c->fn, &e);
		respond_error(c, &e);
	} else if (res->status == INVOKE_REJECTED) {
		/* An endpoint function's own service error, passed on as it came. */
		buf_reset(&api->extra);
		buf_printf(&api->extra, "x-amzn-ErrorType: %s\r\n", res->error_type);
		respond(c, res->remote_status, res->request_id, res->payload, res->len);
	} else if (res->status == INVOKE_UNREACHABLE) {
		buf_reset(&api->scratch);
		buf_printf(&api->scratch, "lb could not invoke %s at its endpoint: %.*s", c->fn->name,
			   (int)(res->len < 300 ? res->len : 300), res->payload);
		invoke_api_service_error(buf_cstr(&api->scratch), &e);
		respond_error(c, &e);
	} else {
		buf_reset(&api->extra);
		/* Why: a function error, a timeout or a crash is still a 200 to the
		 * Invoke API, marked Unhandled (awsdocs/aws-lambda-developer-guide#127). */
		if (res->status != INVOKE_OK)
			buf_puts(&api->extra, "X-Amz-Function-Error: Unhandled\r\n");
		buf_printf(&api->extra, "X-Amz-Executed-Version: %s\r\n", res->version);
		if (c->tail) {
			buf_puts(&api->extra, "X-Amz-Log-Result: ");
			base64_encode_buf(res->log, res->log_len, &api->extra);
			buf_puts(&api->extra, "\r\n");
		}
		respond(c, 200, res->request_id, res->payload, res->len);
	}
	/* The next pipelined request is read from the event loop, not from here. */
	event_active(c->resume, EV_TIMEOUT, 0);
}

static void on_job_done(void *cookie, const struct invoke_result *res)
{
	struct job *j = cookie;
	struct lambda_api *api = j->api;

	/* Lambda would retry a failed asynchronous invocation twice; lb reports it. */
	if (res->status != INVOKE_OK)
		log_warn("function %s: Event invocation %s failed: %.*s", j->name, res->request_id,
			 (int)(res->len < 500 ? res->len : 500), res->payload);
	LIST_REMOVE(api->jobs, j);
	free(j->payload);
	free(j->name);
	free(j);
}

/* The trace header toward the function: the client's, when it has a Root. */
static void trace_header(struct api_conn *c, struct buf *out)
{
	struct lambda_api *api = c->api;
	struct sv in = { c->hv[H_TRACE].p, c->hv[H_TRACE].len };
	uint8_t rnd[12];

	buf_reset(out);
	if (c->has[H_TRACE] && in.n && trace_id_root(in).n) {
		buf_append(out, in.p, in.n);
		return;
	}
	rng_bytes(api->rng, rnd, sizeof(rnd));
	trace_id_build(out, SV_NULL, false, 0, (uint32_t)(time_wall_us() / 1000000), rnd);
}

static void start_event(struct api_conn *c, const struct invoke_target *t, const char *payload, size_t n)
{
	struct lambda_api *api = c->api;
	struct job *j = xcalloc(1, sizeof(*j));
	struct invoke_request ir;

	j->api = api;
	j->payload = xmalloc(n + 1);
	memcpy(j->payload, payload, n);
	j->len = n;
	j->name = xstrdup(t->fn->name);
	LIST_INSERT(api->jobs, j);
	trace_header(c, &api->scratch);
	ir = (struct invoke_request){ api->cfg, t->fn, *t->qualifier ? t->qualifier : NULL, j->payload, j->len,
				      buf_cstr(&api->scratch), false };
	j->inv = lambda_invoke(api->lambda, &ir, on_job_done, j);
	/* Why: Lambda queues an Event invocation and answers 202 with no body. */
	respond(c, 202, lambda_request_id(j->inv), "", 0);
}

static void start_sync(struct api_conn *c, const struct invoke_target *t, const char *payload, size_t n)
{
	struct lambda_api *api = c->api;
	struct invoke_request ir;

	trace_header(c, &api->scratch);
	ir = (struct invoke_request){ api->cfg, t->fn, *t->qualifier ? t->qualifier : NULL, payload, n,
				      buf_cstr(&api->scratch), c->tail };
	c->fn = t->fn;
	c->inv = lambda_invoke(api->lambda, &ir, on_invoked, c);
	api->nbusy_conns++;
}

static const struct sv *header(const struct api_conn *c, enum hdr h, struct sv *tmp)
{
	if (!c->has[h])
		return NULL;
	*tmp = (struct sv){ c->hv[h].p ? c->hv[h].p : "", c->hv[h].len };
	return tmp;
}

static void handle_request(struct api_conn *c)
{
	struct lambda_api *api = c->api;
	struct sv url = { c->url.p ? c->url.p : "", c->url.len }, path, query, name, tmp;
	struct sv method = sv_from(llhttp_method_name(llhttp_get_method(&c->parser)));
	struct invoke_target target;
	struct invoke_error e;
	enum invoke_type type;
	const char *payload = buf_cstr(&c->body);
	size_t n = c->body.len;
	char id[37];

	c->keep_alive = llhttp_should_keep_alive(&c->parser) && !api->stopping;
	query = sv_cut(url, '?', &path);
	if (!invoke_api_is_invoke(method, path, &name)) {
		e = (struct invoke_error){ 404, "UnknownOperationException", NULL, "" };
		snprintf(e.message, sizeof(e.message), "lb serves only Lambda's Invoke operation: "
			 "POST /2015-03-31/functions/{FunctionName}/invocations");
		respond_error(c, &e);
		return;
	}
	if (invoke_api_invocation_type(header(c, H_INVOCATION_TYPE, &tmp), &type, &e) < 0 ||
	    invoke_api_log_type(header(c, H_LOG_TYPE, &tmp), &c->tail, &e) < 0 ||
	    invoke_api_check_payload(type, payload, c->too_large ? 0 : n, c->body_total, &e) < 0 ||
	    invoke_api_resolve(api->cfg, name, query.p ? query : SV_NULL, &target, &e) < 0) {
		respond_error(c, &e);
		return;
	}
	/* A payload with nothing in it reaches the function as {} (lb's choice, see README). */
	if (strspn(payload, " \t\r\n") == n) {
		payload = "{}";
		n = 2;
	}
	if (type == INVOKE_TYPE_DRY_RUN) {
		random_request_id(api->rng, id);
		respond(c, 204, id, "", 0);
	} else if (type == INVOKE_TYPE_EVENT) {
		start_event(c, &target, payload, n);
	} else {
		start_sync(c, &target, payload, n);
	}
}

/* --- parsing --------------------------------------------------------------------- */

static int on_url(llhttp_t *p, const char *at, size_t n)
{
	struct api_conn *c = p->data;

	return buf_append(&c->url, at, n) < 0 ? -1 : 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
	struct api_conn *c = p->data;

	buf_append(&c->field, at, n);
	return 0;
}

static int on_header_field_complete(llhttp_t *p)
{
	struct api_conn *c = p->data;
	struct sv f = { c->field.p ? c->field.p : "", c->field.len };

	c->cur = H_OTHER;
	for (int h = 0; h < H_COUNT; h++) {
		if (sv_eq_cstr_nocase(f, hdr_names[h])) {
			c->cur = (enum hdr)h;
			c->has[h] = true;
			buf_reset(&c->hv[h]);
		}
	}
	buf_reset(&c->field);
	return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
	struct api_conn *c = p->data;

	if (c->cur != H_OTHER)
		buf_append(&c->hv[c->cur], at, n);   /* capped: the rest is dropped */
	return 0;
}

static int on_headers_complete(llhttp_t *p)
{
	struct api_conn *c = p->data;
	struct sv v = { c->hv[H_INVOCATION_TYPE].p ? c->hv[H_INVOCATION_TYPE].p : "", c->hv[H_INVOCATION_TYPE].len };

	c->body_max = invoke_api_payload_max(c->has[H_INVOCATION_TYPE] && sv_eq_cstr(v, "Event")
						     ? INVOKE_TYPE_EVENT : INVOKE_TYPE_REQUEST_RESPONSE);
	if (c->has[H_EXPECT] && sv_eq_cstr_nocase((struct sv){ c->hv[H_EXPECT].p, c->hv[H_EXPECT].len },
						  "100-continue"))
		bufferevent_write(c->bev, "HTTP/1.1 100 Continue\r\n\r\n", 25);
	return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
	struct api_conn *c = p->data;

	c->body_total += n;
	if (!c->too_large && c->body.len + n > c->body_max) {
		c->too_large = true;
		buf_release(&c->body);
	}
	if (!c->too_large)
		buf_append(&c->body, at, n);
	return 0;
}

static int on_message_complete(llhttp_t *p)
{
	struct api_conn *c = p->data;

	c->done = true;
	return HPE_PAUSED;
}

/* The body is emptied when the next request begins, not here: a running
 * RequestResponse invocation borrows it. */
static int on_message_begin(llhttp_t *p)
{
	struct api_conn *c = p->data;

	buf_reset(&c->body);
	return 0;
}

static void conn_reset_request(struct api_conn *c)
{
	buf_reset(&c->url);
	buf_reset(&c->field);
	for (int h = 0; h < H_COUNT; h++) {
		buf_reset(&c->hv[h]);
		c->has[h] = false;
	}
	c->cur = H_OTHER;
	c->body_total = 0;
	c->too_large = c->done = false;   /* tail stays: a running invocation reads it */
}

static void conn_set_idle(struct api_conn *c, bool idle)
{
	struct timeval tv = { IDLE_SECONDS, 0 };

	bufferevent_set_timeouts(c->bev, idle ? &tv : NULL, NULL);
}

/* Parses and handles buffered requests until one is in flight. Never frees c. */
static void conn_parse(struct api_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	while (!c->closing && !c->inv && evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;
		llhttp_errno_t err;
		size_t used;

		evbuffer_peek(in, -1, NULL, &v, 1);
		err = llhttp_execute(&c->parser, v.iov_base, v.iov_len);
		used = err == HPE_PAUSED ? (size_t)(llhttp_get_error_pos(&c->parser) - (const char *)v.iov_base)
					 : v.iov_len;
		evbuffer_drain(in, used);
		if (err != HPE_OK && err != HPE_PAUSED) {
			static const char bad[] = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
						  "Content-Length: 36\r\nConnection: close\r\n\r\n"
						  "{\"message\":\"malformed HTTP request\"}";
			bufferevent_write(c->bev, bad, sizeof(bad) - 1);
			c->closing = true;
			break;
		}
		if (c->done) {
			handle_request(c);
			conn_reset_request(c);
			llhttp_resume(&c->parser);
		}
	}
	conn_set_idle(c, !c->inv);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_parse(arg);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct api_conn *c = arg;

	(void)fd;
	(void)what;
	conn_parse(c);
	if (c->closing && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		conn_free(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct api_conn *c = arg;

	(void)bev;
	if (c->closing)
		conn_free(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	conn_free(arg);   /* EOF, error or idle timeout */
}

static void conn_free(struct api_conn *c)
{
	struct lambda_api *api = c->api;

	if (c->inv) {
		lambda_cancel(c->inv);   /* the client left: nobody wants the answer */
		api->nbusy_conns--;
	}
	LIST_REMOVE(api->conns, c);
	bufferevent_free(c->bev);
	event_free(c->resume);
	buf_release(&c->url);
	buf_release(&c->field);
	buf_release(&c->body);
	for (int h = 0; h < H_COUNT; h++)
		buf_release(&c->hv[h]);
	free(c);
}

/* --- listeners and server ---------------------------------------------------------- */

static void on_accept(struct evconnlistener *ev, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	struct lambda_api_listener *l = arg;
	struct lambda_api *api = l->api;
	struct api_conn *c = xcalloc(1, sizeof(*c));
	int one = 1;

	(void)sa;
	(void)len;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->api = api;
	c->bev = bufferevent_socket_new(evconnlistener_get_base(ev), fd, BEV_OPT_CLOSE_ON_FREE);
	c->resume = event_new(api->base, -1, 0, on_resume, c);
	llhttp_init(&c->parser, HTTP_REQUEST, &api->settings);
	c->parser.data = c;
	buf_init(&c->url, URL_MAX);
	buf_init(&c->field, 256);
	buf_init(&c->body, 0);
	for (int h = 0; h < H_COUNT; h++)
		buf_init(&c->hv[h], HEADER_VALUE_MAX);
	c->cur = H_OTHER;
	LIST_INSERT(api->conns, c);
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	conn_set_idle(c, true);
}

struct lambda_api_listener *lambda_api_listen(struct lambda_api *api, const char *address, int port,
					      struct lb_err *err)
{
	struct lambda_api_listener *l = xcalloc(1, sizeof(*l));

	l->api = api;
	l->ev = net_listen(api->base, on_accept, l, "lambda_api", address, port, 128, &l->port, err);
	if (!l->ev) {
		free(l);
		return NULL;
	}
	LIST_INSERT(api->listeners, l);
	return l;
}

uint16_t lambda_api_listener_port(const struct lambda_api_listener *l)
{
	return l->port;
}

void lambda_api_listener_close(struct lambda_api_listener *l)
{
	if (!l)
		return;
	LIST_REMOVE(l->api->listeners, l);
	evconnlistener_free(l->ev);
	free(l);
}

struct lambda_api *lambda_api_new(struct event_base *base, struct lambda *lambda, struct rng *rng)
{
	struct lambda_api *api = xcalloc(1, sizeof(*api));

	api->base = base;
	api->lambda = lambda;
	api->rng = rng;
	llhttp_settings_init(&api->settings);
	api->settings.on_message_begin = on_message_begin;
	api->settings.on_url = on_url;
	api->settings.on_header_field = on_header_field;
	api->settings.on_header_field_complete = on_header_field_complete;
	api->settings.on_header_value = on_header_value;
	api->settings.on_headers_complete = on_headers_complete;
	api->settings.on_body = on_body;
	api->settings.on_message_complete = on_message_complete;
	buf_init(&api->out, 0);
	buf_init(&api->extra, 0);
	buf_init(&api->scratch, 0);
	return api;
}

void lambda_api_set_config(struct lambda_api *api, struct config *cfg)
{
	struct config *old = api->cfg;

	api->cfg = config_ref(cfg);
	config_unref(old);
}

void lambda_api_shutdown(struct lambda_api *api)
{
	api->stopping = true;
	while (api->listeners)
		lambda_api_listener_close(api->listeners);
	for (struct api_conn *c = api->conns, *next; c; c = next) {
		next = c->next;
		if (!c->inv && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			conn_free(c);
		else
			c->keep_alive = false;
	}
}

size_t lambda_api_busy(const struct lambda_api *api)
{
	size_t n = api->nbusy_conns;

	for (const struct job *j = api->jobs; j; j = j->next)
		n++;
	return n;
}

void lambda_api_free(struct lambda_api *api)
{
	if (!api)
		return;
	while (api->listeners)
		lambda_api_listener_close(api->listeners);
	while (api->conns)
		conn_free(api->conns);
	while (api->jobs) {
		struct job *j = api->jobs;
		api->jobs = j->next;
		lambda_cancel(j->inv);
		free(j->payload);
		free(j->name);
		free(j);
	}
	buf_release(&api->out);
	buf_release(&api->extra);
	buf_release(&api->scratch);
	config_unref(api->cfg);
	free(api);
}
