/* Shared by the bench's latency tools: clock, percentiles, HTTP/1.1 framing. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static inline int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Prints "<name>_p50_us", "_p90_us", "_p99_us", "_mean_us" and "_n" lines; sorts v. */
static void report(const char *name, int64_t *v, size_t n)
{
	double sum = 0;

	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), cmp_i64);
	for (size_t i = 0; i < n; i++)
		sum += (double)v[i];
	printf("%s_p50_us %.2f\n", name, (double)v[n / 2] / 1000.0);
	printf("%s_p90_us %.2f\n", name, (double)v[n * 90 / 100] / 1000.0);
	printf("%s_p99_us %.2f\n", name, (double)v[n * 99 / 100] / 1000.0);
	printf("%s_mean_us %.2f\n", name, sum / (double)n / 1000.0);
	printf("%s_n %zu\n", name, n);
}

static void fail(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, errno ? strerror(errno) : "unexpected data");
	exit(1);
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			fail("send");
		}
		p += w;
		n -= (size_t)w;
	}
}

/* A connection's input: one message at a time, extra bytes kept for the next. */
struct conn {
	int fd;
	size_t have;
	char buf[1 << 20];
};

struct msg {
	const char *head;          /* start line + headers, up to the blank line */
	size_t head_len;
	const char *body;
	size_t body_len;
	size_t total;
};

static const char *msg_header(const struct msg *m, const char *name, size_t *vlen)
{
	const char *p = m->head, *end = m->head + m->head_len;
	size_t n = strlen(name);

	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (!eol)
			eol = end;
		if ((size_t)(eol - p) > n && p[n] == ':' && strncasecmp(p, name, n) == 0) {
			const char *v = p + n + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			*vlen = (size_t)(eol - v);
			return v;
		}
		p = eol + 2;
	}
	return NULL;
}

/* Reads one Content-Length framed message; false on a clean EOF before any byte. */
static int read_msg(struct conn *c, struct msg *m)
{
	const char *end, *v;
	size_t vlen, clen = 0;

	for (;;) {
		if ((end = memmem(c->buf, c->have, "\r\n\r\n", 4)))
			break;
		ssize_t r = recv(c->fd, c->buf + c->have, sizeof(c->buf) - c->have, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 && c->have == 0)
			return 0;
		if (r <= 0)
			fail("recv");
		c->have += (size_t)r;
	}
	m->head = c->buf;
	m->head_len = (size_t)(end - c->buf) + 2;
	if ((v = msg_header(m, "Content-Length", &vlen)))
		clen = strtoul(v, NULL, 10);
	while (c->have < m->head_len + 2 + clen) {
		ssize_t r = recv(c->fd, c->buf + c->have, sizeof(c->buf) - c->have, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			fail("recv");
		c->have += (size_t)r;
	}
	m->body = c->buf + m->head_len + 2;
	m->body_len = clen;
	m->total = m->head_len + 2 + clen;
	return 1;
}

static void consume(struct conn *c, const struct msg *m)
{
	memmove(c->buf, c->buf + m->total, c->have - m->total);
	c->have -= m->total;
}

#endif
