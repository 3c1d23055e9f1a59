/*
 * Fuzzes redirect_location with a redirect action as config accepts it and
 * a request's URL parts as the server hands them over.
 *
 * Input: a flags byte, two bytes of listener port, then NUL-separated
 * pieces: the port, host, path and query templates, then the request's
 * host, path and query. The protocol template is chosen by the flags
 * (absent, HTTP, HTTPS or #{protocol}), as config allows no other; a
 * template config would refuse (a port that is not 1-65535, a path not
 * starting with '/', a piece past 128 bytes, a query starting with '?') is
 * left absent. Templates may hold any byte but NUL, as a YAML escape can
 * write one; the request's parts only what a parser lets through (no
 * control bytes, no '#', and no '?' in the path).
 *
 * Whatever the input: no crash, no leak; the Location starts with http://
 * or https:// and holds no control byte (it is a header value); it is
 * appended whole or not at all, never past the buffer's maximum, and a
 * refusal happens only when it would not fit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alb/redirect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

#define TEMPLATE_MAX 128   /* config: host, path and query are at most 128 characters */

/* The next NUL-terminated piece of [*p, end), copied. */
static char *piece(const uint8_t **p, const uint8_t *end, size_t *len)
{
	const uint8_t *nul = memchr(*p, '\0', (size_t)(end - *p));
	char *s;

	*len = nul ? (size_t)(nul - *p) : (size_t)(end - *p);
	s = malloc(*len + 1);
	memcpy(s, *p, *len);
	s[*len] = '\0';
	*p = nul ? nul + 1 : end;
	return s;
}

static bool port_ok(const char *s)
{
	size_t n = strlen(s);

	if (strcmp(s, "#{port}") == 0)
		return true;
	return n > 0 && n <= 5 && strspn(s, "0123456789") == n && s[0] != '0' && atoi(s) <= 65535;
}

/* What a request parser lets through in a path or query (RFC 9112: no
 * controls, no space; '#' ends the target). */
static void url_chars(char *s, size_t n, bool path)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c == 0x7f || c == '#' || (path && c == '?'))
			s[i] = 'x';
	}
}

/* A Host value has no CR, LF or NUL; lb trims its spaces and tabs. */
static void host_chars(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
			s[i] = 'x';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	static const char *const protocols[] = { NULL, "HTTP", "HTTPS", "#{protocol}" };
	const uint8_t *p = data + (n >= 3 ? 3 : n), *end = data + n;
	uint8_t flags = n > 0 ? data[0] : 0;
	unsigned lport = n >= 3 ? (unsigned)(data[1] << 8 | data[2]) : 80;
	size_t len[7];
	char *s[7];
	char port[8];
	struct redirect_cfg r = { .status_code = 301 };
	struct redirect_request in;
	struct buf out, whole = BUF_INIT;
	size_t before;
	int rc;

	for (int i = 0; i < 7; i++)
		s[i] = piece(&p, end, &len[i]);
	r.protocol = protocols[flags & 3];
	r.port = port_ok(s[0]) ? s[0] : NULL;
	r.host = len[1] > 0 && len[1] <= TEMPLATE_MAX ? s[1] : NULL;
	r.path = s[2][0] == '/' && len[2] <= TEMPLATE_MAX ? s[2] : NULL;
	r.query = (flags & 4) && s[3][0] != '?' && len[3] <= TEMPLATE_MAX ? s[3] : NULL;
	host_chars(s[4], len[4]);
	url_chars(s[5], len[5], true);
	if (len[5] > 0)
		s[5][0] = '/';
	url_chars(s[6], len[6], false);
	snprintf(port, sizeof(port), "%u", lport);
	in = (struct redirect_request){
		.protocol = flags & 8 ? SV("https") : SV("http"),
		.host = { s[4], len[4] },
		.port = sv_from(port),
		.path = len[5] ? (struct sv){ s[5], len[5] } : SV("/"),
		.query = { s[6], len[6] },
	};
	/* A maximum from nothing to a little past what most Locations need. */
	buf_init(&out, flags & 16 ? (size_t)(flags >> 5) * 40 + 3 : 0);
	buf_puts(&out, "L=");
	before = out.len;
	rc = redirect_location(&r, &in, &out);
	if (redirect_location(&r, &in, &whole) != 0)
		abort();   /* without a maximum it always succeeds */
	if (rc != 0 && rc != -1)
		abort();
	if (rc == -1 && (out.len != before || memcmp(out.p, "L=", 2) != 0 || !out.max ||
			 before + whole.len <= out.max))
		abort();
	if (rc == 0 && (out.len != before + whole.len || (out.max && out.len > out.max) ||
			memcmp(out.p + before, whole.p, whole.len) != 0))
		abort();
	if (strncmp(whole.p, "http://", 7) != 0 && strncmp(whole.p, "https://", 8) != 0)
		abort();
	for (size_t i = 0; i < whole.len; i++)
		if ((unsigned char)whole.p[i] < 0x20 || whole.p[i] == 0x7f)
			abort();
	buf_release(&out);
	buf_release(&whole);
	for (int i = 0; i < 7; i++)
		free(s[i]);
	return 0;
}
