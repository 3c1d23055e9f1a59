/*
 * Fuzzes the headers lb sends toward a target (fwd_headers_build) in every
 * X-Forwarded-For mode, with and without the client's port, with hostile
 * X-Forwarded-* headers from the client.
 *
 * Input: a flags byte (bits 0-1: append, preserve, remove, append; bit 2
 * xff_client_port; bit 3 preserve_host_header; bit 4
 * drop_invalid_header_fields; bit 5 HTTPS; bit 6 an IPv6 client), the
 * listener's port and the client's (two bytes each), the client's address
 * (16 bytes), then NUL-separated pieces: the request-target, then header
 * names and values in turn. Names and values carry only what a parser lets
 * through (no CR, LF or NUL; no ':' or space in a name).
 *
 * Whatever the input: no crash, no leak; the 463 rule's count
 * (fwd_xff_count) of what goes out is the client's plus one in append mode,
 * the client's in preserve mode and 0 in remove mode, and an append's one
 * X-Forwarded-For ends with the client; X-Forwarded-Proto, X-Forwarded-Port
 * and X-Amzn-Trace-Id go out once each, with lb's values, the trace id
 * last; Expect never goes out; no name or value holds CR, LF or NUL, and
 * with drop_invalid_header_fields every name is [-A-Za-z0-9]+.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "alb/fwd_headers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

#define TRACE "Root=1-6734a1b2-0123456789abcdef01234567"
#define FIXED 21   /* flags, two ports, the address */

/* The next NUL-terminated piece of [*p, end) as a view; *p moves past it. */
static struct sv piece(char **p, char *end)
{
	char *nul = memchr(*p, '\0', (size_t)(end - *p));
	struct sv s = { *p, nul ? (size_t)(nul - *p) : (size_t)(end - *p) };

	*p = nul ? nul + 1 : end;
	return s;
}

static bool has_ctl_break(struct sv s)
{
	return memchr(s.p, '\r', s.n) || memchr(s.p, '\n', s.n) || memchr(s.p, '\0', s.n);
}

static bool name_valid(struct sv s)
{
	for (size_t i = 0; i < s.n; i++)
		if (!(s.p[i] == '-' || (s.p[i] >= 'a' && s.p[i] <= 'z') ||
		      (s.p[i] >= 'A' && s.p[i] <= 'Z') || (s.p[i] >= '0' && s.p[i] <= '9')))
			return false;
	return s.n > 0;
}

static bool ends_with(struct sv s, const char *tail)
{
	size_t n = strlen(tail);

	return s.n >= n && memcmp(s.p + s.n - n, tail, n) == 0;
}

/* The names check_headers counts in what goes out, and how it finds them. */
enum { N_XFF, N_EXPECT, N_PROTO, N_PORT, N_TRACE, N_HOST, N_NAMES };
static const char *const names[N_NAMES] = { "x-forwarded-for", "expect", "x-forwarded-proto",
					    "x-forwarded-port", "x-amzn-trace-id", "host" };

/* Which of names s is (any case), or N_NAMES. The harness's own compare
 * (ascii_lower is inline), not lb's sv_eq_cstr_nocase: the checks are not
 * instrumented (tests/fuzz/uncovered.txt) and must not count as lb's coverage. */
static int name_index(struct sv s)
{
	for (int k = 0; k < N_NAMES; k++) {
		const char *want = names[k];
		size_t i = 0;

		while (i < s.n && want[i] && ascii_lower(s.p[i]) == want[i])
			i++;
		if (i == s.n && !want[i])
			return k;
	}
	return N_NAMES;
}

/* One pass over out: every name and value, and how many headers carry
 * each of names (count) and where the last one is (last). */
static void check_headers(const struct http_request *req, const struct lb_attributes *a, size_t xff_in,
			  const struct header_list *out)
{
	struct http_request sent;
	char client[64], port[8];
	size_t count[N_NAMES + 1] = { 0 }, last[N_NAMES + 1] = { 0 }, xff_out;

	for (size_t i = 0; i < out->n; i++) {
		int k;

		if (has_ctl_break(out->v[i].name) || has_ctl_break(out->v[i].value) ||
		    (a->drop_invalid_headers && !name_valid(out->v[i].name)))
			abort();
		k = name_index(out->v[i].name);
		count[k]++;
		last[k] = i;
	}
	/* The count ALB's 463 rule makes, of what goes out: a request whose
	 * headers are out's (borrowed, not copied). */
	http_request_init(&sent);
	sent.headers = out->v;
	sent.nheaders = out->n;
	xff_out = fwd_xff_count(&sent);
	sent.headers = NULL;
	sent.nheaders = 0;
	http_request_release(&sent);
	switch (a->xff_mode) {
	case XFF_APPEND:
		if (a->xff_client_port && req->peer_family == AF_INET6)
			snprintf(client, sizeof(client), ", [%s]:%u", req->peer_ip, req->peer_port);
		else if (a->xff_client_port)
			snprintf(client, sizeof(client), ", %s:%u", req->peer_ip, req->peer_port);
		else
			snprintf(client, sizeof(client), ", %s", req->peer_ip);
		if (xff_out != xff_in + 1 || count[N_XFF] != 1 ||
		    !(ends_with(out->v[last[N_XFF]].value, client) ||
		      sv_eq_cstr(out->v[last[N_XFF]].value, client + 2)))
			abort();
		break;
	case XFF_PRESERVE:
		if (xff_out != xff_in)
			abort();
		break;
	case XFF_REMOVE:
		if (xff_out != 0 || count[N_XFF] != 0)
			abort();
		break;
	}
	snprintf(port, sizeof(port), "%u", req->local_port);
	if (count[N_EXPECT] != 0 || count[N_PROTO] != 1 ||
	    !sv_eq_cstr(out->v[last[N_PROTO]].value, req->https ? "https" : "http") ||
	    count[N_PORT] != 1 || !sv_eq_cstr(out->v[last[N_PORT]].value, port) ||
	    count[N_TRACE] != 1 || last[N_TRACE] != out->n - 1 ||
	    !sv_eq_cstr(out->v[last[N_TRACE]].value, TRACE))
		abort();
	if (!a->preserve_host && http_request_host(req).p && count[N_HOST] != 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	static const enum xff_mode modes[] = { XFF_APPEND, XFF_PRESERVE, XFF_REMOVE, XFF_APPEND };
	char *copy, *p, *end;
	uint8_t flags;
	struct lb_attributes a = { .idle_timeout = 60 };
	struct http_request req;
	struct header_list out;
	struct sv target;

	if (n < FIXED)
		return 0;
	flags = data[0];
	copy = malloc(n - FIXED + 1);
	memcpy(copy, data + FIXED, n - FIXED);
	p = copy;
	end = copy + (n - FIXED);
	a.xff_mode = modes[flags & 3];
	a.xff_client_port = flags & 4;
	a.preserve_host = flags & 8;
	a.drop_invalid_headers = flags & 16;

	http_request_init(&req);
	req.method = SV("GET");
	req.https = flags & 32;
	req.local_port = (uint16_t)(data[1] << 8 | data[2]);
	req.peer_port = (uint16_t)(data[3] << 8 | data[4]);
	req.peer_family = flags & 64 ? AF_INET6 : AF_INET;
	memcpy(req.peer_addr, data + 5, 16);
	inet_ntop(req.peer_family, req.peer_addr, req.peer_ip, sizeof(req.peer_ip));
	/* What a parser lets through: no controls or spaces in a target or a name. */
	for (char *q = copy; q < end; q++)
		if (*q == '\r' || *q == '\n')
			*q = ' ';
	target = piece(&p, end);
	for (size_t i = 0; i < target.n; i++)
		if ((unsigned char)target.p[i] <= 0x20 || target.p[i] == 0x7f)
			((char *)target.p)[i] = '_';
	http_request_set_target(&req, target.n ? target : SV("/"));
	while (p < end) {
		struct sv name = piece(&p, end), value = piece(&p, end);

		for (size_t i = 0; i < name.n; i++)
			if ((unsigned char)name.p[i] <= 0x20 || name.p[i] == 0x7f || name.p[i] == ':')
				((char *)name.p)[i] = '_';
		http_request_add_header(&req, name.n ? name : SV("x"), sv_trim(value));
	}

	header_list_init(&out);
	fwd_headers_build(&req, &a, SV(TRACE), &out);
	check_headers(&req, &a, fwd_xff_count(&req), &out);
	/* Reused, as the proxy reuses its list for the next request. */
	fwd_headers_build(&req, &a, SV(TRACE), &out);
	check_headers(&req, &a, fwd_xff_count(&req), &out);
	header_list_release(&out);
	http_request_release(&req);
	free(copy);
	return 0;
}
