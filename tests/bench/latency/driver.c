/*
 * The bench's stand-in for lb's Runtime API: what a runtime costs on its own.
 *
 *   driver EVENT_FILE ITERATIONS WARMUP RUNTIME [ARG...]
 *
 * Listens on 127.0.0.1 (an ephemeral port), starts RUNTIME with
 * AWS_LAMBDA_RUNTIME_API pointing at it, and serves the runtime's one
 * connection with blocking sockets and nothing else: each /next is answered
 * at once with EVENT_FILE's bytes and the headers lb sends (request id,
 * deadline, ARN, trace id), each /response with lb's 202. Nothing is logged,
 * nothing is routed, no HTTP client is involved.
 *
 * Timed, per invocation, after WARMUP untimed ones:
 *   rtt   - from the send() of the event to the last byte of its /response:
 *           the runtime's work plus one loopback round trip;
 *   cycle - from the send() of the event to the next /next: one whole
 *           invocation as the runtime sees it (it includes the 202).
 * Prints "name value" lines (see common.h's report()).
 */
#include "common.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

extern char **environ;

static const char ACCEPTED[] = "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\n"
			       "Content-Length: 15\r\n\r\n{\"status\":\"OK\"}";

static struct conn conn;
static char out[(1 << 20) + 4096];

static int is_next(const struct msg *m)
{
	return m->head_len > 40 && memcmp(m->head, "GET /2018-06-01/runtime/invocation/next ", 40) == 0;
}

static int is_response(const struct msg *m)
{
	return m->head_len > 40 && memcmp(m->head, "POST /2018-06-01/runtime/invocation/", 36) == 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t slen = sizeof(sin);
	char api_var[64], *event;
	size_t event_len, n, warmup, total;
	int64_t *rtt, *cycle, t_event = 0;
	int lfd, one = 1;
	struct stat st;
	pid_t pid;
	FILE *f;

	if (argc < 5) {
		fprintf(stderr, "usage: driver EVENT_FILE ITERATIONS WARMUP RUNTIME [ARG...]\n");
		return 2;
	}
	if (!(f = fopen(argv[1], "rb")) || fstat(fileno(f), &st) < 0)
		fail(argv[1]);
	event_len = (size_t)st.st_size;
	event = malloc(event_len + 1);
	if (fread(event, 1, event_len, f) != event_len)
		fail("read event");
	fclose(f);
	n = strtoul(argv[2], NULL, 10);
	warmup = strtoul(argv[3], NULL, 10);
	total = n + warmup;
	rtt = calloc(n, sizeof(*rtt));
	cycle = calloc(n, sizeof(*cycle));

	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(lfd, 4) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &slen) < 0)
		fail("listen");
	snprintf(api_var, sizeof(api_var), "AWS_LAMBDA_RUNTIME_API=127.0.0.1:%u", ntohs(sin.sin_port));
	putenv(api_var);
	if (posix_spawnp(&pid, argv[4], NULL, NULL, argv + 4, environ) != 0)
		fail("spawn runtime");
	if ((conn.fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
		fail("accept");
	setsockopt(conn.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  /* as lb does */

	for (size_t i = 0; i < total; i++) {
		struct msg m;
		int64_t t_resp;
		int hn;

		if (!read_msg(&conn, &m) || !is_next(&m))
			fail("expected /next");
		if (i > warmup)
			cycle[i - warmup - 1] = now_ns() - t_event;
		consume(&conn, &m);
		hn = snprintf(out, 4096,
			      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			      "Lambda-Runtime-Aws-Request-Id: 5a1b7c3e-0000-4000-8000-%012zu\r\n"
			      "Lambda-Runtime-Deadline-Ms: 4102444800000\r\n"
			      "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:c\r\n"
			      /* a new trace header per invocation, as from lb (and ALB) */
			      "Lambda-Runtime-Trace-Id: Root=1-5f84c7a5-c1a2b3c4d5e6%012zx;Parent=1a2b3c4d5e6f7a8b;Sampled=0\r\n"
			      "Content-Length: %zu\r\n\r\n", i, i, event_len);
		memcpy(out + hn, event, event_len);
		t_event = now_ns();
		send_all(conn.fd, out, (size_t)hn + event_len);
		if (!read_msg(&conn, &m) || !is_response(&m))
			fail("expected /response");
		t_resp = now_ns();
		if (i >= warmup)
			rtt[i - warmup] = t_resp - t_event;
		consume(&conn, &m);
		send_all(conn.fd, ACCEPTED, sizeof(ACCEPTED) - 1);
	}
	/* The last cycle ends with one more /next; then the runtime sees EOF. */
	{
		struct msg m;
		if (read_msg(&conn, &m) && is_next(&m) && n)
			cycle[n - 1] = now_ns() - t_event;
	}
	close(conn.fd);
	close(lfd);
	/* A runtime leaves by itself when the Runtime API goes away; else SIGTERM after 2 s. */
	for (int i = 0; i < 200 && waitpid(pid, NULL, WNOHANG) == 0; i++)
		usleep(10000);
	if (kill(pid, SIGTERM) == 0)
		waitpid(pid, NULL, 0);
	report("rtt", rtt, n);
	report("cycle", cycle, n);
	return 0;
}
