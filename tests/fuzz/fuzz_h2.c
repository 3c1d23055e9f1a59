/*
 * Fuzzes h2_server with frame bytes from a client: the input (after the
 * client preface, added when missing) goes in two pieces into an HTTP/2
 * session over a bufferevent pair, served by an owner that answers as lb
 * does — whole answers, streamed ones, errors — and sometimes streams the
 * request body. Nothing may crash, leak or be used after free, whatever
 * the frames (resets, GOAWAY, window updates, CONTINUATION, padding), and
 * every answer whose log the owner put off (http_server_answer_held) is
 * reported by on_sent exactly once, and once the server is freed no event
 * of it is left in the loop.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "net/h2_server.h"
#include "net/http_conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/* Answers held for on_sent, not reported yet. */
static int held;

/* The answer is complete: held until on_sent, as the router holds its log line. */
static void answered(struct http_request *req)
{
	if (http_server_answer_held(req))
		held++;
}

static void on_head(void *cookie, struct http_request *req)
{
	(void)cookie;
	if (req->path.n > 1 && req->path.p[1] == 's') {
		req->stream_body = true;
	} else {
		req->keep_body = true;
		req->body.max = 64 * 1024;
	}
	if (req->path.n > 1 && req->path.p[1] == 'e') {
		struct http_response r = { .status = 413, .body = SV("early"), .close = true };
		http_server_respond(req, &r, "Thu, 01 Jan 2026 00:00:00 GMT");
		answered(req);
	}
}

static void on_body(void *cookie, struct http_request *req, const char *p, size_t n)
{
	(void)cookie;
	(void)p;
	if (n > 100)
		http_server_pause_reading(req);
	else
		http_server_resume_reading(req);
}

static void on_request(void *cookie, struct http_request *req)
{
	static const struct http_header h[] = { { SV("Content-Type"), SV("text/plain") },
						{ SV("Connection"), SV("keep-alive") } };
	(void)cookie;
	if (sv_eq_cstr(req->method, "POST")) {
		struct http_stream_head sh = { 200, SV("OK"), h, 2, HTTP_FRAMING_CHUNKED, false, false };
		http_server_stream_head(req, &sh);
		http_server_stream_body(req, "hello ", 6);
		http_server_stream_body(req, req->body.p ? req->body.p : "", req->body.len);
		http_server_stream_end(req);
		answered(req);
	} else if (sv_eq_cstr(req->method, "PUT")) {
		struct http_stream_head sh = { 200, SV("OK"), h, 2, HTTP_FRAMING_CHUNKED, false, false };
		http_server_stream_head(req, &sh);
		http_server_stream_abort(req);
		answered(req);
	} else {
		struct http_response r = { .status = 200, .content_type = SV("text/plain"), .headers = h,
					   .nheaders = 2, .body = SV("fixed") };
		http_server_respond(req, &r, "Thu, 01 Jan 2026 00:00:00 GMT");
		answered(req);
	}
}

static void on_error(void *cookie, struct http_request *req, int status)
{
	struct http_response r = { .status = status, .body = http_error_page(status), .close = true };

	(void)cookie;
	http_server_respond(req, &r, "Thu, 01 Jan 2026 00:00:00 GMT");
	answered(req);
}

static void on_abort(void *cookie, struct http_request *req)
{
	(void)cookie;
	(void)req;
}

static void on_sent(void *cookie, struct http_request *req, bool whole)
{
	(void)cookie;
	(void)whole;
	if (held <= 0 || req->sent_bytes > (uint64_t)1 << 32)
		abort();
	held--;
}

static const struct http_server_cbs cbs = {
	.on_head = on_head, .on_body = on_body, .on_request = on_request,
	.on_error = on_error, .on_abort = on_abort, .on_sent = on_sent,
};

static void run(struct event_base *base)
{
	for (int i = 0; i < 8; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

/* One event loop for the whole run, as lb has one for its life: making and
 * freeing one per input (an epoll descriptor, environment look-ups) took
 * about a fifth of each execution. Each input must leave it as it found it. */
static struct event_base *base;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!(base = event_base_new()))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	struct http_server *s = http_server_new(base, &cbs, NULL, NULL);
	struct bufferevent *pair[2];
	struct conn *c = calloc(1, sizeof(*c));
	size_t half = n / 2;

	bufferevent_pair_new(base, BEV_OPT_CLOSE_ON_FREE, pair);
	/* A connection as http_server.c's accept leaves it, linked into s. */
	c->srv = s;
	c->bev = pair[0];
	c->resume = event_new(base, -1, 0, NULL, NULL);
	c->flush_ev = event_new(base, -1, 0, NULL, NULL);
	c->read_ev = event_new(base, -1, 0, NULL, NULL);   /* accept makes one for every connection */
	c->peer_family = 2;
	memcpy(c->peer_ip, "127.0.0.1", 10);
	c->born_mono_us = time_mono_us();
	c->next = NULL;
	s->conns = c;
	s->nconns = 1;
	if (h2_conn_start(c) == 0) {
		if (n < sizeof(preface) - 1 || memcmp(data, preface, sizeof(preface) - 1) != 0)
			bufferevent_write(pair[1], preface, sizeof(preface) - 1);
		bufferevent_write(pair[1], data, half);
		run(base);
		bufferevent_write(pair[1], data + half, n - half);
		run(base);
	}
	http_server_free(s);    /* frees c and pair[0] */
	bufferevent_free(pair[1]);
	run(base);
	if (held != 0)
		abort();    /* an answer held for on_sent was never reported */
	if (event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED | EVENT_BASE_COUNT_ACTIVE) != 0)
		abort();    /* an event outlived the session and its connection */
	return 0;
}
