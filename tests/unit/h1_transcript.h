/*
 * h1_transcript: reads bytes through an h1_reader and writes down what it
 * saw (heads, bodies, ends, failures) as text, so two ways of delivering
 * the same bytes can be compared. Shared by the unit test and the fuzzer.
 */
#ifndef LB_TESTS_H1_TRANSCRIPT_H
#define LB_TESTS_H1_TRANSCRIPT_H

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/util.h"
#include "net/h1_read.h"

struct run {
	struct buf t;      /* the transcript */
	struct buf body;   /* the current message's body */
	bool stopped;      /* failed or upgraded: nothing more is read */
};

static void on_body(void *cookie, const char *p, size_t n)
{
	buf_append(&((struct run *)cookie)->body, p, n);
}

static void put_headers(struct buf *t, const struct http_header *h, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_printf(t, " [%.*s=%.*s]", SV_ARG(h[i].name), SV_ARG(h[i].value));
}

static void describe_head(struct h1_reader *r, struct buf *t)
{
	if (r->req) {
		const struct http_request *q = r->req;
		buf_printf(t, "REQ %.*s %.*s v%d ka%d ec%d", SV_ARG(q->method), SV_ARG(q->target), q->version,
			   q->keep_alive, q->expect_continue);
		put_headers(t, q->headers, q->nheaders);
	} else {
		const struct http_reply *p = r->reply;
		buf_printf(t, "REP %d '%.*s' v%d framing%d cl%llu nb%d ka%d up%d", p->status, SV_ARG(p->reason),
			   p->version, (int)p->framing, (unsigned long long)p->content_length, p->no_body,
			   p->keep_alive, p->upgrade);
		put_headers(t, p->headers, p->nheaders);
	}
	buf_puts(t, "\n");
}

/* Feeds pieces (lengths lens) through r, recording events; eof: then the peer closes. */
static void drive(struct h1_reader *r, struct run *run, const char *const *pieces, const size_t *lens,
		  size_t npieces, bool eof)
{
	for (size_t k = 0; k < npieces && !run->stopped; k++) {
		size_t off = 0;

		for (;;) {
			size_t used;
			enum h1_event ev = h1_read(r, pieces[k] + off, lens[k] - off, &used);

			off += used;
			if (ev == H1_MORE)
				break;
			if (ev == H1_FAIL) {
				buf_printf(&run->t, "FAIL %d\n", r->fail_status);
				run->stopped = true;
				return;
			}
			if (ev == H1_HEAD) {
				describe_head(r, &run->t);
				continue;
			}
			buf_printf(&run->t, "BODY %zu '%s' END%s\n", run->body.len, buf_cstr(&run->body),
				   r->close_after ? " close" : "");
			buf_reset(&run->body);
			if (r->req && h1_reader_upgrade(r)) {
				buf_printf(&run->t, "UPGRADE\n");
				run->stopped = true;
				return;
			}
			h1_reader_next(r);
		}
	}
	if (eof && !run->stopped) {
		enum h1_event ev = h1_read_eof(r);
		if (ev == H1_END)
			buf_printf(&run->t, "BODY %zu '%s' END at eof\n", run->body.len, buf_cstr(&run->body));
		else if (ev == H1_FAIL)
			buf_printf(&run->t, "FAIL %d at eof\n", r->fail_status);
	}
}

enum kind { REQUEST, REPLY };

struct subject {
	struct h1_reader r;
	struct http_request req;
	struct http_reply reply;
	struct run run;
};

/* How a reply is read: its request was HEAD, or asked to switch protocols. */
enum { T_SKIP_BODY = 1, T_UPGRADE_ASKED = 2 };

static void subject_init(struct subject *s, enum kind kind, const struct h1_limits *lim, unsigned flags)
{
	memset(s, 0, sizeof(*s));
	buf_init(&s->run.t, 0);
	buf_init(&s->run.body, 0);
	if (kind == REQUEST) {
		http_request_init(&s->req);
		h1_reader_init_request(&s->r, &s->req, lim);
	} else {
		http_reply_init(&s->reply);
		h1_reader_init_reply(&s->r, &s->reply, lim);
		s->r.skip_body = flags & T_SKIP_BODY;
		s->r.upgrade_asked = flags & T_UPGRADE_ASKED;
	}
	s->r.on_body = on_body;
	s->r.cookie = &s->run;
}

static void subject_release(struct subject *s)
{
	h1_reader_release(&s->r);
	http_request_release(&s->req);
	http_reply_release(&s->reply);
	buf_release(&s->run.t);
	buf_release(&s->run.body);
}

/* The transcript of reading in whole; returns it (caller frees). */
static char *transcript(enum kind kind, const struct h1_limits *lim, unsigned flags, const char *in, size_t n,
			const size_t *cuts, size_t ncuts, bool eof)
{
	struct subject s;
	const char *pieces[4];
	size_t lens[4], np = 0, at = 0;
	char *out;

	subject_init(&s, kind, lim, flags);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : n;
		pieces[np] = in + at;
		lens[np++] = end - at;
		at = end;
	}
	drive(&s.r, &s.run, pieces, lens, np, eof);
	out = xstrdup(buf_cstr(&s.run.t));
	subject_release(&s);
	return out;
}

/* Byte by byte. */
static char *transcript_bytes(enum kind kind, const struct h1_limits *lim, unsigned flags, const char *in, size_t n,
			      bool eof)
{
	struct subject s;
	char *out;

	subject_init(&s, kind, lim, flags);
	for (size_t i = 0; i < n; i++) {
		const char *p = in + i;
		size_t one = 1;
		drive(&s.r, &s.run, &p, &one, 1, false);
	}
	drive(&s.r, &s.run, NULL, NULL, 0, eof);
	out = xstrdup(buf_cstr(&s.run.t));
	subject_release(&s);
	return out;
}

#endif
