/*
 * A one-connection, one-request-at-a-time HTTP/1.1 client for latency.
 *
 *   client PORT PATH ITERATIONS WARMUP
 *
 * Sends "GET PATH" on one keep-alive connection to 127.0.0.1:PORT (one send
 * each, TCP_NODELAY), waits for the whole answer (Content-Length framed),
 * and times each exchange from the send() to its last byte, after WARMUP
 * untimed ones. Every answer must be a 200. Prints "name value" lines.
 */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

static struct conn conn;

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char req[1024];
	size_t n, warmup;
	int64_t *lat;
	int one = 1, len;

	if (argc != 5) {
		fprintf(stderr, "usage: client PORT PATH ITERATIONS WARMUP\n");
		return 2;
	}
	sin.sin_port = htons((uint16_t)atoi(argv[1]));
	n = strtoul(argv[3], NULL, 10);
	warmup = strtoul(argv[4], NULL, 10);
	lat = calloc(n, sizeof(*lat));
	len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nUser-Agent: lb-bench\r\n\r\n",
		       argv[2], argv[1]);
	if ((conn.fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    connect(conn.fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		fail("connect");
	setsockopt(conn.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (size_t i = 0; i < n + warmup; i++) {
		struct msg m;
		int64_t t0 = now_ns();

		send_all(conn.fd, req, (size_t)len);
		if (!read_msg(&conn, &m))
			fail("connection closed");
		if (i >= warmup)
			lat[i - warmup] = now_ns() - t0;
		if (m.head_len < 12 || memcmp(m.head + 9, "200", 3) != 0) {
			fprintf(stderr, "answer %zu: %.*s\n", i, (int)m.head_len, m.head);
			return 1;
		}
		consume(&conn, &m);
	}
	close(conn.fd);
	report("lat", lat, n);
	return 0;
}
