/*
 * runtime_api: a small HTTP/1.1 server for one runtime process.
 *
 * State: at most one invocation is current. runtime_api_deliver serializes
 * the whole /next answer (head and event) into `pending`; it is sent on the
 * connection that holds a /next request, now or when one arrives. From then
 * until /response or /error for its request id, the invocation is open.
 *
 * Checks, as AWS's Runtime API makes them (lambda-runtime-api.md §2.1, §2.4):
 * /response or /error with no open invocation → 403 InvalidStateTransition;
 * with another request id → 400 InvalidRequestID; a body past 6 MB → 413.
 * Every answer leaves in one send (clients stall 40 ms on a split answer
 * without TCP_NODELAY, §6.3). A runtime may use several connections (the
 * Node client opens one per /next): each is parsed on its own.
 */
#include "lambda/runtime_api.h"

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

#include "base/buf.h"
#include "net/net.h"
#include "base/util.h"

#define PATH_PREFIX "/2018-06-01/runtime/"

struct ra_conn {
	struct runtime_api *ra;
	struct ra_conn *prev, *next;
	struct bufferevent *bev;
	llhttp_t parser;
	struct buf url;
	struct buf body;
	struct buf field;          /* the header name being read */
	struct buf error_type;     /* Lambda-Runtime-Function-Error-Type */
	bool in_error_type;
	bool too_large;
	bool done;                 /* a whole request is parsed */
	bool closing;
};

struct runtime_api {
	struct evconnlistener *listener;
	uint16_t port;
	const struct runtime_api_cbs *cbs;
	void *cookie;
	llhttp_settings_t settings;
	struct ra_conn *conns;
	struct ra_conn *waiter;    /* holds a /next that has no answer yet */
	struct buf pending;        /* the /next answer for the current invocation, unsent */
	bool has_pending;
	bool open;                 /* an invocation was sent and has no result yet */
	char current_id[64];
	struct buf out;
};

/* --- answers ------------------------------------------------------------------ */

/*
 * Sends an answer now, from the callback that made it: no write event and no
 * extra loop turn per answer, so a runtime gets its event (and its 202) at
 * once. Only what the socket cannot take waits for EV_WRITE.
 */
static void conn_send(struct ra_conn *c, const void *p, size_t n)
{
	evbuffer_add(bufferevent_get_output(c->bev), p, n);
	if (net_write_now(c->bev) || c->closing)
		bufferevent_enable(c->bev, EV_WRITE);
}

static void answer(struct ra_conn *c, int status, const char *reason, const char *json)
{
	struct buf *out = &c->ra->out;
	size_t n = strlen(json);

	buf_reset(out);
	buf_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
		   status, reason, n, json);
	conn_send(c, out->p, out->len);
}

static void answer_error(struct ra_conn *c, int status, const char *reason, const char *type,
			 const char *message)
{
	char json[256];

	snprintf(json, sizeof(json), "{\"errorMessage\":\"%s\",\"errorType\":\"%s\"}", message, type);
	answer(c, status, reason, json);
}

static void send_pending(struct runtime_api *ra)
{
	struct ra_conn *c = ra->waiter;

	ra->waiter = NULL;
	ra->has_pending = false;
	ra->open = true;
	conn_send(c, ra->pending.p, ra->pending.len);
}

void runtime_api_deliver(struct runtime_api *ra, const struct runtime_invocation *inv)
{
	struct buf *b = &ra->pending;

	snprintf(ra->current_id, sizeof(ra->current_id), "%s", inv->request_id);
	buf_reset(b);
	/* The headers every client relies on (aws-lambda-cpp asserts on the
	 * request id and a positive deadline; the Rust runtime on the ARN). */
	buf_printf(b,
		   "HTTP/1.1 200 OK\r\n"
		   "Content-Type: application/json\r\n"
		   "Lambda-Runtime-Aws-Request-Id: %s\r\n"
		   "Lambda-Runtime-Deadline-Ms: %lld\r\n"
		   "Lambda-Runtime-Invoked-Function-Arn: %s\r\n"
		   "Lambda-Runtime-Trace-Id: %s\r\n"
		   "Content-Length: %zu\r\n\r\n",
		   inv->request_id, (long long)inv->deadline_ms, inv->function_arn, inv->trace_id,
		   inv->payload_len);
	buf_append(b, inv->payload, inv->payload_len);
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

/* Checks that a result is for the open invocation; answers the error if not. */
static bool result_allowed(struct ra_conn *c, struct sv id)
{
	struct runtime_api *ra = c->ra;

	if (!ra->open) {
		answer_error(c, 403, "Forbidden", "InvalidStateTransition",
			     "no invocation is waiting for a result");
		return false;
	}
	if (!sv_eq_cstr(id, ra->current_id)) {
		answer_error(c, 400, "Bad Request", "InvalidRequestID", "Invalid request ID");
		return false;
	}
	if (c->too_large) {
		/* Lambda fails the invocation at once (Function.ResponseSizeTooLarge). */
		static const char err[] = "{\"errorMessage\":\"Response payload size exceeded maximum "
					  "allowed payload size (6291556 bytes).\",\"errorType\":"
					  "\"Function.ResponseSizeTooLarge\"}";
		answer_error(c, 413, "Request Entity Too Large", "RequestEntityTooLarge",
			     "payload is larger than 6291556 bytes");
		ra->open = false;
		ra->cbs->on_error(ra->cookie, err, sizeof(err) - 1, "Function.ResponseSizeTooLarge");
		return false;
	}
	return true;
}

static void handle_request(struct ra_conn *c)
{
	struct runtime_api *ra = c->ra;
	struct sv url = { c->url.p, c->url.len }, rest, id;
	const char *method = llhttp_method_name(llhttp_get_method(&c->parser));
	bool post = strcmp(method, "POST") == 0;

	if (url.n < sizeof(PATH_PREFIX) - 1 || memcmp(url.p, PATH_PREFIX, sizeof(PATH_PREFIX) - 1) != 0)
		goto not_found;
	rest = (struct sv){ url.p + sizeof(PATH_PREFIX) - 1, url.n - (sizeof(PATH_PREFIX) - 1) };
	if (!post && sv_eq_cstr(rest, "invocation/next")) {
		/* One invocation at a time: the open one needs its result first. */
		if (ra->waiter || ra->open) {
			answer_error(c, 403, "Forbidden", "InvalidStateTransition", "a /next is already waiting");
			return;
		}
		ra->waiter = c;
		if (ra->has_pending)
			send_pending(ra);
		else
			ra->cbs->on_next(ra->cookie);
		return;
	}
	if (post && sv_eq_cstr(rest, "init/error")) {
		answer(c, 202, "Accepted", "{\"status\":\"OK\"}");
		ra->cbs->on_init_error(ra->cookie, buf_cstr(&c->body), c->body.len, buf_cstr(&c->error_type));
		return;
	}
	if (post && sv_starts_with_nocase(rest, "invocation/")) {
		rest = (struct sv){ rest.p + 11, rest.n - 11 };
		if ((id = invocation_id(rest, "response")).n) {
			if (!result_allowed(c, id))
				return;
			ra->open = false;
			answer(c, 202, "Accepted", "{\"status\":\"OK\"}");
			ra->cbs->on_response(ra->cookie, buf_cstr(&c->body), c->body.len);
			return;
		}
		if ((id = invocation_id(rest, "error")).n) {
			if (!result_allowed(c, id))
				return;
			ra->open = false;
			answer(c, 202, "Accepted", "{\"status\":\"OK\"}");
			ra->cbs->on_error(ra->cookie, buf_cstr(&c->body), c->body.len, buf_cstr(&c->error_type));
			return;
		}
	}
not_found:
	answer_error(c, 404, "Not Found", "NotFound", "unknown Runtime API path");
}

/* --- parsing ------------------------------------------------------------------- */

static int on_url(llhttp_t *p, const char *at, size_t n)
{
	struct ra_conn *c = p->data;
	buf_append(&c->url, at, n);
	return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
	struct ra_conn *c = p->data;
	buf_append(&c->field, at, n);
	return 0;
}

static int on_header_field_complete(llhttp_t *p)
{
	struct ra_conn *c = p->data;

	c->in_error_type = sv_eq_cstr_nocase((struct sv){ c->field.p, c->field.len },
					     "lambda-runtime-function-error-type");
	buf_reset(&c->field);
	return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
	struct ra_conn *c = p->data;

	if (c->in_error_type && c->error_type.len + n < 256)
		buf_append(&c->error_type, at, n);
	return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
	struct ra_conn *c = p->data;

	if (!c->too_large && buf_append(&c->body, at, n) < 0)
		c->too_large = true;
	return 0;
}

static int on_message_complete(llhttp_t *p)
{
	struct ra_conn *c = p->data;

	c->done = true;
	return HPE_PAUSED;
}

static void conn_free(struct ra_conn *c)
{
	struct runtime_api *ra = c->ra;

	if (ra->waiter == c)
		ra->waiter = NULL;
	if (c->prev)
		c->prev->next = c->next;
	else
		ra->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	bufferevent_free(c->bev);
	buf_release(&c->url);
	buf_release(&c->body);
	buf_release(&c->field);
	buf_release(&c->error_type);
	free(c);
}

static void conn_reset_request(struct ra_conn *c)
{
	buf_reset(&c->url);
	buf_reset(&c->body);
	buf_reset(&c->field);
	buf_reset(&c->error_type);
	c->in_error_type = c->too_large = c->done = false;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct ra_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (!c->closing && evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;
		llhttp_errno_t e;
		size_t used;

		evbuffer_peek(in, -1, NULL, &v, 1);
		e = llhttp_execute(&c->parser, v.iov_base, v.iov_len);
		used = e == HPE_PAUSED ? (size_t)(llhttp_get_error_pos(&c->parser) - (const char *)v.iov_base)
				       : v.iov_len;
		evbuffer_drain(in, used);
		if (e != HPE_OK && e != HPE_PAUSED) {
			c->closing = true;   /* freed once the answer is written */
			answer_error(c, 400, "Bad Request", "InvalidRequest", "malformed request");
			return;
		}
		if (c->done) {
			handle_request(c);
			conn_reset_request(c);
			llhttp_resume(&c->parser);
		}
	}
}

/* The output drained (see conn_send). */
static void on_write(struct bufferevent *bev, void *arg)
{
	struct ra_conn *c = arg;

	if (c->closing) {
		conn_free(c);
		return;
	}
	bufferevent_disable(bev, EV_WRITE);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	conn_free(arg);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	struct runtime_api *ra = arg;
	struct ra_conn *c = xcalloc(1, sizeof(*c));
	int one = 1;

	(void)sa;
	(void)len;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->ra = ra;
	c->bev = bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);
	llhttp_init(&c->parser, HTTP_REQUEST, &ra->settings);
	c->parser.data = c;
	buf_init(&c->url, 8192);
	buf_init(&c->body, RUNTIME_API_PAYLOAD_MAX);
	buf_init(&c->field, 256);
	buf_init(&c->error_type, 256);
	c->next = ra->conns;
	if (ra->conns)
		ra->conns->prev = c;
	ra->conns = c;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_disable(c->bev, EV_WRITE);   /* conn_send writes directly */
	bufferevent_enable(c->bev, EV_READ);
}

struct runtime_api *runtime_api_new(struct event_base *base, const struct runtime_api_cbs *cbs,
				    void *cookie, struct lb_err *err)
{
	struct runtime_api *ra = xcalloc(1, sizeof(*ra));
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);

	ra->cbs = cbs;
	ra->cookie = cookie;
	llhttp_settings_init(&ra->settings);
	ra->settings.on_url = on_url;
	ra->settings.on_header_field = on_header_field;
	ra->settings.on_header_field_complete = on_header_field_complete;
	ra->settings.on_header_value = on_header_value;
	ra->settings.on_body = on_body;
	ra->settings.on_message_complete = on_message_complete;
	buf_init(&ra->pending, 0);
	buf_init(&ra->out, 0);
	ra->listener = evconnlistener_new_bind(base, on_accept, ra,
					       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
					       (struct sockaddr *)&sin, sizeof(sin));
	if (!ra->listener) {
		lb_err_set(err, "cannot open a Runtime API port: %s", strerror(errno));
		runtime_api_free(ra);
		return NULL;
	}
	getsockname(evconnlistener_get_fd(ra->listener), (struct sockaddr *)&sin, &len);
	ra->port = ntohs(sin.sin_port);
	return ra;
}

uint16_t runtime_api_port(const struct runtime_api *ra)
{
	return ra->port;
}

void runtime_api_free(struct runtime_api *ra)
{
	if (!ra)
		return;
	while (ra->conns)
		conn_free(ra->conns);
	if (ra->listener)
		evconnlistener_free(ra->listener);
	buf_release(&ra->pending);
	buf_release(&ra->out);
	free(ra);
}
