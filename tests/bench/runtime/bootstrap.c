/*
 * A minimal Lambda custom runtime (provided.al2023) for `make bench`.
 *
 * It loops GET /next -> POST /invocation/<id>/response over the Runtime API at
 * $AWS_LAMBDA_RUNTIME_API and answers every event with the same small ALB
 * result, {"statusCode":200,"body":"ok"}, without looking at it. It is as
 * cheap as a runtime can be, so what the bench measures is the cost of the
 * path around it (lb, or the bench's own Runtime API driver).
 *
 * Plain blocking sockets, one keep-alive connection with TCP_NODELAY, each
 * request (line, headers and body) written with one send(). Answers may be
 * split across reads; any bytes after one answer are kept for the next.
 *
 * BENCH_EVENT_DUMP=<path>: the first event's body is written to <path> (the
 * bench replays lb's real event through its driver).
 *
 * Exits 0 when the Runtime API closes the connection, 1 on anything else.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define RESULT "{\"statusCode\":200,\"body\":\"ok\"}"

static int fd = -1;
static char in[1 << 20];          /* answers: head plus body (an ALB event is ≤ 1 MB) */
static size_t have;               /* bytes in `in` */

struct answer {
	int status;
	char request_id[128];
	const char *body;
	size_t body_len;
	size_t total;              /* head + body, consumed after use */
};

static void die(const char *what)
{
	if (errno == 0 || errno == ECONNRESET || errno == EPIPE)
		exit(0);           /* the Runtime API went away: lb stopped or killed us */
	fprintf(stderr, "bench runtime: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void send_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			die("send");
		}
		p += w;
		n -= (size_t)w;
	}
}

static void fill(void)
{
	ssize_t r;

	if (have == sizeof(in)) {
		errno = EMSGSIZE;
		die("answer too large");
	}
	do
		r = recv(fd, in + have, sizeof(in) - have, 0);
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		errno = 0;
		die("eof");
	}
	if (r < 0)
		die("recv");
	have += (size_t)r;
}

/* The value of header `name` in head [p, end), or NULL. */
static const char *header(const char *p, const char *end, const char *name, size_t *vlen)
{
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

/* Reads one whole answer (Content-Length framed) into `in`. */
static void read_answer(struct answer *a)
{
	const char *end, *v;
	size_t head, vlen, clen = 0;

	while (!(end = memmem(in, have, "\r\n\r\n", 4)))
		fill();
	head = (size_t)(end - in) + 4;
	a->status = (have > 12 && memcmp(in, "HTTP/1.", 7) == 0) ? atoi(in + 9) : 0;
	if ((v = header(in, end, "Content-Length", &vlen)))
		clen = strtoul(v, NULL, 10);
	a->request_id[0] = '\0';
	if ((v = header(in, end, "Lambda-Runtime-Aws-Request-Id", &vlen)) && vlen < sizeof(a->request_id)) {
		memcpy(a->request_id, v, vlen);
		a->request_id[vlen] = '\0';
	}
	while (have < head + clen)
		fill();
	a->body = in + head;
	a->body_len = clen;
	a->total = head + clen;
}

static void consume(const struct answer *a)
{
	memmove(in, in + a->total, have - a->total);
	have -= a->total;
}

static void dump_event(const char *path, const struct answer *a)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return;
	fwrite(a->body, 1, a->body_len, f);
	fclose(f);
}

int main(void)
{
	const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
	const char *dump = getenv("BENCH_EVENT_DUMP");
	char host[256], next_req[512], post[1024];
	struct sockaddr_in sin = { .sin_family = AF_INET };
	const char *colon;
	int one = 1, next_len;

	if (!api || !(colon = strrchr(api, ':')) || (size_t)(colon - api) >= sizeof(host)) {
		fprintf(stderr, "bench runtime: AWS_LAMBDA_RUNTIME_API is not host:port\n");
		return 1;
	}
	memcpy(host, api, (size_t)(colon - api));
	host[colon - api] = '\0';
	sin.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		fprintf(stderr, "bench runtime: '%s' is not an IPv4 address\n", host);
		return 1;
	}
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	next_len = snprintf(next_req, sizeof(next_req),
			    "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\n\r\n", api);

	for (;;) {
		struct answer a;
		int n;

		send_all(next_req, (size_t)next_len);
		read_answer(&a);
		if (a.status != 200 || !a.request_id[0]) {
			fprintf(stderr, "bench runtime: /next answered %d\n", a.status);
			return 1;
		}
		if (dump) {
			dump_event(dump, &a);
			dump = NULL;
		}
		n = snprintf(post, sizeof(post),
			     "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: %s\r\n"
			     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			     a.request_id, api, sizeof(RESULT) - 1, RESULT);
		consume(&a);
		send_all(post, (size_t)n);
		read_answer(&a);
		if (a.status < 200 || a.status > 299) {
			fprintf(stderr, "bench runtime: /response answered %d\n", a.status);
			return 1;
		}
		consume(&a);
	}
}
