/*
 * invoke_client: an HTTP/1.1 client for one Invoke API call. It connects
 * (the endpoint's host is resolved once, synchronously: it is a loopback or
 * container address), sends the request in one write, and parses the answer
 * with llhttp. A refused or failed connection, or no answer within the
 * function's timeout plus a grace period, is INVOKE_UNREACHABLE (ALB: 504).
 * An error status is INVOKE_REJECTED with the endpoint's x-amzn-ErrorType, so
 * lb's own Invoke API can pass it on; X-Amz-Executed-Version and the log tail
 * are kept for it too.
 */
#include "lambda/invoke_client.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <jansson.h>
#include <llhttp.h>

#include "base/base64.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/util.h"

/* Time beyond the function's timeout an endpoint gets to answer. */
#define GRACE_SECONDS 2
/* ALB's connect timeout toward targets. */
#define CONNECT_SECONDS 10

struct invoke_client {
	struct bufferevent *bev;
	struct event *timer;
	llhttp_t parser;
	llhttp_settings_t settings;
	invoke_client_done_fn done;
	void *cookie;
	struct buf field, body;
	struct buf version, log_b64, error_type, log;  /* header values lb reads, the decoded log */
	struct buf *value;             /* where the current header's value goes, or NULL */
	bool in_function_error;
	bool has_function_error;
	bool complete;
	bool connected;
	int timeout;
	char *name;
};

enum invoke_status invoke_client_classify(const char *body, size_t n, bool has_function_error)
{
	static const char timed_out[] = "Task timed out after";
	json_t *doc;
	enum invoke_status st = INVOKE_OK;

	if (has_function_error)
		return INVOKE_FUNCTION_ERROR;
	if (n >= sizeof(timed_out) - 1 && memcmp(body, timed_out, sizeof(timed_out) - 1) == 0)
		return INVOKE_TIMEOUT;
	/* As SAM CLI does: an object with errorMessage and errorType is an error. */
	doc = json_loadb(body, n, 0, NULL);
	if (json_is_object(doc) && json_is_string(json_object_get(doc, "errorMessage")) &&
	    json_is_string(json_object_get(doc, "errorType")) && !json_object_get(doc, "statusCode"))
		st = INVOKE_FUNCTION_ERROR;
	json_decref(doc);
	return st;
}

static void finish(struct invoke_client *c, enum invoke_status status, const char *body, size_t n,
		   const char *error_type)
{
	c->done(c->cookie, status, body, n, error_type);
	invoke_client_free(c);
}

static void fail(struct invoke_client *c, const char *why)
{
	char msg[256];
	int n = snprintf(msg, sizeof(msg), "{\"errorMessage\":\"%s\",\"errorType\":\"LambdaConnectionError\"}", why);

	log_warn("function %s: endpoint %s", c->name, why);
	finish(c, INVOKE_UNREACHABLE, msg, (size_t)n, "LambdaConnectionError");
}

static int on_header_field(llhttp_t *p, const char *at, size_t n)
{
	struct invoke_client *c = p->data;
	buf_append(&c->field, at, n);
	return 0;
}

static int on_header_field_complete(llhttp_t *p)
{
	struct invoke_client *c = p->data;

	struct sv f = { c->field.p ? c->field.p : "", c->field.len };

	c->in_function_error = sv_eq_cstr_nocase(f, "x-amz-function-error");
	c->has_function_error |= c->in_function_error;
	c->value = sv_eq_cstr_nocase(f, "x-amz-executed-version") ? &c->version
		   : sv_eq_cstr_nocase(f, "x-amz-log-result") ? &c->log_b64
		   : sv_eq_cstr_nocase(f, "x-amzn-errortype") ? &c->error_type : NULL;
	if (c->value)
		buf_reset(c->value);
	buf_reset(&c->field);
	return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t n)
{
	struct invoke_client *c = p->data;

	if (c->value)
		buf_append(c->value, at, n);   /* capped: the rest is dropped */
	return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t n)
{
	struct invoke_client *c = p->data;
	buf_append(&c->body, at, n);
	return 0;
}

static int on_message_complete(llhttp_t *p)
{
	struct invoke_client *c = p->data;
	c->complete = true;
	return HPE_PAUSED;
}

static void answer(struct invoke_client *c)
{
	int status = llhttp_get_status_code(&c->parser);
	const char *body = buf_cstr(&c->body);

	if (status == 429) {
		finish(c, INVOKE_THROTTLED, body, c->body.len, "TooManyRequestsException");
		return;
	}
	if (status < 200 || status > 299) {
		/* An AWS-style service error ("ResourceNotFoundException", or
		 * "ResourceNotFoundException:http://..." as some services send it). */
		size_t tn = strcspn(buf_cstr(&c->error_type), ":");
		char type[128];

		snprintf(type, sizeof(type), "%.*s", (int)tn, tn ? c->error_type.p : "ServiceException");
		log_warn("function %s: endpoint answered %d: %.200s", c->name, status, body);
		finish(c, INVOKE_REJECTED, body, c->body.len, type);
		return;
	}
	finish(c, invoke_client_classify(body, c->body.len, c->has_function_error), body, c->body.len,
	       c->has_function_error ? "Unhandled" : NULL);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct invoke_client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (evbuffer_get_length(in) && !c->complete) {
		struct evbuffer_iovec v;
		llhttp_errno_t e;

		evbuffer_peek(in, -1, NULL, &v, 1);
		e = llhttp_execute(&c->parser, v.iov_base, v.iov_len);
		evbuffer_drain(in, v.iov_len);
		if (e != HPE_OK && e != HPE_PAUSED) {
			fail(c, "sent a malformed answer");
			return;
		}
	}
	if (c->complete)
		answer(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct invoke_client *c = arg;
	struct timeval tv = { c->timeout + GRACE_SECONDS, 0 };

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		c->connected = true;
		event_add(c->timer, &tv);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		/* An answer without a length ends with the connection. */
		llhttp_finish(&c->parser);
		if (c->complete) {
			answer(c);
			return;
		}
	}
	fail(c, c->connected ? "closed the connection without an answer" : "refused the connection");
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fail(arg, "did not answer in time");
}

/* Splits "http://host[:port][/prefix]" into host, port and path prefix. */
static int parse_endpoint(const char *url, char *host, size_t hn, char *port, size_t pn, const char **prefix)
{
	const char *p = url + 7, *slash, *colon;

	if (strncmp(url, "http://", 7) != 0)
		return -1;
	slash = strchr(p, '/');
	*prefix = slash ? slash : "";
	colon = memchr(p, ':', slash ? (size_t)(slash - p) : strlen(p));
	snprintf(host, hn, "%.*s", (int)((colon ? colon : slash ? slash : p + strlen(p)) - p), p);
	if (colon)
		snprintf(port, pn, "%.*s", (int)((slash ? slash : colon + strlen(colon)) - colon - 1), colon + 1);
	else
		snprintf(port, pn, "80");
	return 0;
}

static void write_request(struct invoke_client *c, const struct function_cfg *fn, const char *qualifier,
			  const char *host, const char *port, const char *prefix, const char *payload,
			  size_t len, const char *trace_id, bool log_tail)
{
	struct buf req = BUF_INIT;

	buf_printf(&req, "POST %s/2015-03-31/functions/%s/invocations%s%s HTTP/1.1\r\n", prefix,
		   fn->remote_name, qualifier ? "?Qualifier=" : "", qualifier ? qualifier : "");
	buf_printf(&req, "Host: %s%s%s\r\nContent-Type: application/json\r\nX-Amz-Invocation-Type: RequestResponse\r\n"
			 "X-Amzn-Trace-Id: %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
		   host, strcmp(port, "80") ? ":" : "", strcmp(port, "80") ? port : "", trace_id, len,
		   log_tail ? "X-Amz-Log-Type: Tail\r\n" : "");
	buf_append(&req, payload, len);
	bufferevent_write(c->bev, req.p, req.len);
	buf_release(&req);
}

struct invoke_client *invoke_client_start(struct event_base *base, const struct function_cfg *fn,
					  const char *qualifier, const char *payload, size_t len,
					  const char *trace_id, bool log_tail, invoke_client_done_fn done,
					  void *cookie)
{
	struct invoke_client *c = xcalloc(1, sizeof(*c));
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	char host[256], port[16];
	const char *prefix;
	struct timeval tv = { CONNECT_SECONDS, 0 };

	c->done = done;
	c->cookie = cookie;
	c->timeout = fn->latest.timeout;
	c->name = xstrdup(fn->name);
	buf_init(&c->field, 256);
	buf_init(&c->body, 0);
	buf_init(&c->version, 128);
	buf_init(&c->log_b64, 8192);
	buf_init(&c->error_type, 128);
	buf_init(&c->log, 0);
	llhttp_settings_init(&c->settings);
	c->settings.on_header_value = on_header_value;
	c->settings.on_header_field = on_header_field;
	c->settings.on_header_field_complete = on_header_field_complete;
	c->settings.on_body = on_body;
	c->settings.on_message_complete = on_message_complete;
	llhttp_init(&c->parser, HTTP_RESPONSE, &c->settings);
	c->parser.data = c;
	c->timer = evtimer_new(base, on_timeout, c);
	c->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	/* Until connected, the timer bounds the connect; then the answer. */
	event_add(c->timer, &tv);
	if (parse_endpoint(fn->endpoint, host, sizeof(host), port, sizeof(port), &prefix) < 0 ||
	    getaddrinfo(host, port, &hints, &ai) != 0 ||
	    bufferevent_socket_connect(c->bev, ai->ai_addr, (int)ai->ai_addrlen) < 0) {
		/* Reported from the event loop like any other failure. */
		struct timeval now = { 0, 0 };
		event_del(c->timer);
		event_add(c->timer, &now);
	} else {
		write_request(c, fn, qualifier, host, port, prefix, payload, len, trace_id, log_tail);
	}
	if (ai)
		freeaddrinfo(ai);
	return c;
}

int invoke_client_http_status(struct invoke_client *c)
{
	return llhttp_get_status_code(&c->parser);
}

const char *invoke_client_executed_version(const struct invoke_client *c)
{
	return c->version.len ? buf_cstr(&c->version) : NULL;
}

struct sv invoke_client_log_tail(struct invoke_client *c)
{
	buf_reset(&c->log);
	if (c->log_b64.len && base64_decode(c->log_b64.p, c->log_b64.len, &c->log) < 0)
		buf_reset(&c->log);
	return (struct sv){ buf_cstr(&c->log), c->log.len };
}

void invoke_client_free(struct invoke_client *c)
{
	if (!c)
		return;
	bufferevent_free(c->bev);
	event_free(c->timer);
	buf_release(&c->field);
	buf_release(&c->body);
	buf_release(&c->version);
	buf_release(&c->log_b64);
	buf_release(&c->error_type);
	buf_release(&c->log);
	free(c->name);
	free(c);
}
