/*
 * Fuzzes the Runtime API server (lambda/runtime_api.c) with the bytes a
 * runtime sends it: HTTP/1 requests (/next, /response and /error with and
 * without Lambda-Runtime-Function-Error-Type, /init/error, bad paths, ids
 * and bodies) with an invocation delivered, over real sockets but no
 * sandbox.
 *
 * runtime_api.c is included, not linked: its struct runtime_api is private
 * and the harness needs its listener to hand it a connection. Each input
 * gets its own Runtime API (bound to 127.0.0.1:0, as a sandbox's) and one
 * or two connections made with socketpair(2), accepted as http_server
 * accepts a TCP client (conn_on_accept), so no TCP connection is made.
 *
 * Input: a flags byte, then the request bytes. Flags: bit 0 the init phase
 * is over (/init/error refused); bit 1 the invocation is delivered before
 * any byte (else between the two halves); bit 2 it is dropped (timed out)
 * after the first half; bit 3 the second half goes on a second
 * connection; bit 4 the first connection closes after its half. A result
 * delivers the next invocation, up to four, so a pipelined /next is
 * answered too.
 *
 * Whatever the bytes: no crash, no leak, no use after free; every body and
 * error type reported is readable to its end; once the Runtime API is
 * freed, no event of it is left in the loop.
 */
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "lambda/runtime_api.c"
#include "net/http_conn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

struct state {
	struct runtime_api *ra;
	int delivered;
	unsigned sum;    /* reads every byte reported, for ASan */
};

static const char *const ids[] = { "8476a536-e9f4-499d-9a15-7d0c8e8e3f2a", "1", "", "x/response" };

static void deliver(struct state *st)
{
	static const char event[] = "{\"path\":\"/\",\"httpMethod\":\"GET\"}";
	struct runtime_invocation inv = {
		.request_id = ids[st->delivered % 4],
		.deadline_ms = 1700000000000,
		.function_arn = "arn:aws:lambda:us-east-1:123456789012:function:fn",
		.trace_id = "Root=1-6734a1b2-0123456789abcdef01234567;Parent=1;Sampled=0",
		.payload = event,
		.payload_len = sizeof(event) - 1,
	};

	st->delivered++;
	runtime_api_deliver(st->ra, &inv);
}

static void read_all(struct state *st, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		st->sum += (unsigned char)p[i];
}

static void fz_on_next(void *cookie)
{
	(void)cookie;
}

static void fz_on_response(void *cookie, const char *body, size_t n)
{
	struct state *st = cookie;

	read_all(st, body, n);
	if (st->delivered < 4)
		deliver(st);
}

static void fz_on_error(void *cookie, const char *body, size_t n, const char *error_type)
{
	struct state *st = cookie;

	read_all(st, body, n);
	read_all(st, error_type, strlen(error_type));
	if (st->delivered < 4)
		deliver(st);
}

static void fz_on_init_error(void *cookie, const char *body, size_t n, const char *error_type)
{
	struct state *st = cookie;

	read_all(st, body, n);
	read_all(st, error_type, strlen(error_type));
}

static void fz_on_broken(void *cookie, const char *error_type, const char *message)
{
	struct state *st = cookie;

	read_all(st, error_type, strlen(error_type));
	read_all(st, message, strlen(message));
	if (st->delivered < 4)
		deliver(st);
}

static const struct runtime_api_cbs fz_cbs = {
	.on_next = fz_on_next,
	.on_response = fz_on_response,
	.on_error = fz_on_error,
	.on_init_error = fz_on_init_error,
	.on_broken = fz_on_broken,
};

/* A client connection: our end of a socketpair, the other accepted by ra. */
static int connect_client(struct runtime_api *ra)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(40000),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fds[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0)
		abort();
	conn_on_accept(NULL, fds[0], (struct sockaddr *)&sin, sizeof(sin), ra->listener);
	return fds[1];
}

/* Runs the loop a few times, discarding what the server answers. */
static void run(struct event_base *base, const int *fds, int nfds)
{
	char sink[4096];

	for (int i = 0; i < 8; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		for (int k = 0; k < nfds; k++)
			while (fds[k] >= 0 && read(fds[k], sink, sizeof(sink)) > 0)
				;
	}
}

/* Writes p to fd, running the loop while the socket is full; what the
 * server will not read (it pauses past 256 KB held) is left unsent. */
static void send_bytes(struct event_base *base, const int *fds, int fd, const uint8_t *p, size_t n)
{
	for (int tries = 0; n > 0 && tries < 64; tries++) {
		ssize_t k = write(fd, p, n);

		if (k > 0) {
			p += k;
			n -= (size_t)k;
		} else {
			run(base, fds, 2);
		}
	}
}

/* One event loop for the whole run, as lb has one for its life: making and
 * freeing one per input (an epoll descriptor, environment look-ups) is not
 * what is fuzzed. Each input must leave it as it found it. */
static struct event_base *base;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* As lb does (lb.c): a write to a connection the server closed is EPIPE, not death. */
	signal(SIGPIPE, SIG_IGN);
	if (!(base = event_base_new()))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	struct state st = { 0 };
	struct lb_err err;
	uint8_t flags;
	int fds[2] = { -1, -1 };
	size_t half;

	if (n < 1)
		return 0;
	flags = data[0];
	data++;
	n--;
	half = n / 2;
	if (!(st.ra = runtime_api_new(base, "fuzz", &fz_cbs, &st, &err)))
		abort();
	if (flags & 1)
		runtime_api_init_done(st.ra);
	if (flags & 2)
		deliver(&st);
	fds[0] = connect_client(st.ra);
	send_bytes(base, fds, fds[0], data, half);
	run(base, fds, 2);
	if (!(flags & 2))
		deliver(&st);
	if (flags & 4)
		runtime_api_drop(st.ra);
	if (flags & 16) {
		close(fds[0]);
		fds[0] = -1;
	}
	if (flags & 8 || fds[0] < 0)
		fds[1] = connect_client(st.ra);
	send_bytes(base, fds, fds[1] >= 0 ? fds[1] : fds[0], data + half, n - half);
	run(base, fds, 2);
	runtime_api_free(st.ra);   /* closes the server's ends */
	for (int k = 0; k < 2; k++)
		if (fds[k] >= 0)
			close(fds[k]);
	run(base, NULL, 0);
	if (event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED | EVENT_BASE_COUNT_ACTIVE) != 0)
		abort();    /* an event outlived the Runtime API and its connections */
	return 0;
}
