/*
 * h1_read: reads HTTP/1 messages — requests (the front end, the Runtime API,
 * the Invoke API) and responses (HTTP targets, remote Invoke endpoints,
 * health checks) — from bytes, with no socket. The caller feeds whatever
 * bytes it has, in pieces of any size; the reader stops after each head and
 * after each message, so the caller decides between them (the router picks a
 * body policy at the head; pipelined requests wait for their turn).
 *
 * The head is scanned for its end within the reader's limits and copied
 * once into the message's own buffer (req->head, reply->head); llhttp then
 * parses that copy, so every view in the message points into memory the
 * message owns. The body is parsed in place and handed to on_body in spans
 * of the caller's bytes (de-chunked), never stored by the reader.
 *
 * Requests also get ALB's front-end rules that depend only on bytes:
 * desync classification (alb/desync.h) with the configured mode, methods
 * llhttp does not know, Transfer-Encoding other than chunked/identity (501),
 * and Expect: 100-continue.
 */
#ifndef LB_NET_H1_READ_H
#define LB_NET_H1_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <llhttp.h>

#include "alb/desync.h"
#include "alb/http_msg.h"

enum h1_event {
	H1_MORE,     /* every byte given was consumed; more are needed */
	H1_HEAD,     /* a head was read (stopped right after it) */
	H1_END,      /* a message ended (stopped right after it) */
	H1_FAIL,     /* the bytes are not an acceptable message: see fail_status */
};

struct h1_limits {
	size_t line_max;      /* request or status line, and each header line (bytes before CRLF) */
	size_t headers_max;   /* all header lines with their CRLFs */
	bool desync;          /* requests: classify heads and apply desync_mode */
	enum desync_mode desync_mode;
};

/* ALB's request limits: 16 KB line, 16 KB header, 64 KB of headers (alb-listener-rules.md §4.3). */
extern const struct h1_limits h1_limits_alb_request;
/* ALB's limit on a target's response head: 32 KB in all (alb-http-targets-and-tls.md §1.13). */
extern const struct h1_limits h1_limits_alb_response;

typedef void (*h1_body_fn)(void *cookie, const char *p, size_t n);

struct h1_reader {
	llhttp_t parser;
	struct h1_limits lim;
	struct http_request *req;    /* requests: the message being read (borrowed) */
	struct http_reply *reply;    /* responses: the message being read (borrowed) */
	h1_body_fn on_body;          /* body spans; NULL drops them */
	void *cookie;

	int fail_status;             /* H1_FAIL: 400, 501 (requests) or 502 (responses) */
	const char *fail_detail;     /* H1_FAIL: why, for a debug log line */
	bool close_after;            /* desync (defensive, Ambiguous): serve, then close */
	bool skip_body;              /* responses: the request was HEAD */
	bool upgrade_asked;          /* responses: the request asked to switch protocols, so a
	                              * 101 may answer it (any other 101 fails: 502) */

	/* head scanning */
	bool started;                /* a byte of the message has arrived */
	size_t line_start;           /* offset in the head of the line being scanned */
	size_t headers_start;        /* offset of the first header line, 0 before it */
	struct buf *head;            /* req->head or reply->head */

	/* parser state of the current message */
	bool head_done;              /* H1_HEAD was returned */
	bool message_done;
	bool in_field;
	bool te_unsupported;
	bool te_chunked;              /* the last Transfer-Encoding ends in chunked */
	const char *bad_head;        /* responses: why the head may not be passed on */
	int crlf_left;               /* bytes of a chunk's CRLF still to check */
	const char *exec_end;        /* the end of the bytes llhttp is running over */
	bool paused;                 /* llhttp is paused (after a head or a message) */
	struct desync_header *dhdrs;
	size_t dcap;
};

/* Sets r up to read requests into req (borrowed; reset for each message). */
void h1_reader_init_request(struct h1_reader *r, struct http_request *req, const struct h1_limits *lim);
/* Sets r up to read responses into reply (borrowed). */
void h1_reader_init_reply(struct h1_reader *r, struct http_reply *reply, const struct h1_limits *lim);
void h1_reader_release(struct h1_reader *r);

/*
 * Consumes bytes p[0..n) up to the next event; *used is how many. After
 * H1_HEAD, call again (with the bytes after *used, or none) for the body;
 * a message without a body ends on that call even with n == 0. After
 * H1_END call h1_reader_next before reading on. After H1_FAIL the
 * connection is beyond saving.
 */
enum h1_event h1_read(struct h1_reader *r, const char *p, size_t n, size_t *used);
/* The peer closed. A response delimited by the close ends (H1_END); anything
 * else half-read fails (H1_FAIL); H1_MORE when no message was started. */
enum h1_event h1_read_eof(struct h1_reader *r);
/* Gets ready for the next message (requests: req is reset). */
void h1_reader_next(struct h1_reader *r);
/* Whether a message has started (a byte of it arrived) and not ended. */
bool h1_reader_busy(const struct h1_reader *r);
/* After a request's H1_END: the connection switches protocols (Upgrade or
 * CONNECT), so the bytes that follow are not HTTP/1. */
bool h1_reader_upgrade(const struct h1_reader *r);

#endif
