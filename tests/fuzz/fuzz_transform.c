/* Fuzzes the regex/transform path: the input splits at NULs into a regex, a
 * replacement, a request-target and a Host value. The regex goes through
 * regex_unsupported and regex_compile as config load does (at most 1024
 * bytes, the replacement's groups checked against the regex's); the request
 * through a rule with both a url-rewrite and a host-header-rewrite. Whatever
 * the input: no crash, no leak, and a request that transform_request accepts
 * has an origin-form target ('/' first, visible ASCII, no '#') whose path and
 * query are its halves around the first '?'. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alb/http_msg.h"
#include "alb/transform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

/* The next NUL-terminated piece of [*p, end), copied. */
static char *piece(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nul = memchr(*p, '\0', (size_t)(end - *p));
	size_t len = nul ? (size_t)(nul - *p) : (size_t)(end - *p);
	char *s = malloc(len + 1);

	memcpy(s, *p, len);
	s[len] = '\0';
	*p = nul ? nul + 1 : end;
	return s;
}

static void check_request(const struct http_request *req)
{
	if (req->target.n == 0 || req->target.p[0] != '/')
		abort();
	for (size_t i = 0; i < req->target.n; i++)
		if ((unsigned char)req->target.p[i] <= 0x20 || (unsigned char)req->target.p[i] >= 0x7f ||
		    req->target.p[i] == '#')
			abort();
	if (req->path.p != req->target.p)
		abort();
	if (req->has_query && req->path.n + 1 + req->query.n != req->target.n)
		abort();
	if (!req->has_query && req->path.n != req->target.n)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	const uint8_t *p = data, *end = data + n;
	char *regex = piece(&p, end), *replace = piece(&p, end);
	char *target = piece(&p, end), *host = piece(&p, end);
	struct arena arena = { 0 };
	struct rule_rewrite rw = { .regex = regex, .replace = replace };
	struct rule rule = { .host_rewrite = &rw, .url_rewrite = &rw };
	struct http_request req;
	struct buf mem = BUF_INIT;
	struct transform_out out;
	char msg[256];
	size_t at;

	http_request_init(&req);
	(void)regex_unsupported(regex, &at);
	if (strlen(regex) > 1024 || !(rw.re = regex_compile(&arena, regex, msg, sizeof(msg))) ||
	    transform_max_group(replace, NULL) > regex_capture_count(rw.re))
		goto out;
	req.method = SV("GET");
	http_request_set_target(&req, sv_from(target[0] ? target : "/"));
	http_request_add_header(&req, SV("Host"), sv_from(host));
	if (transform_request(&rule, &req, &mem, &out) == 0) {
		bool uri_set = out.uri_set;

		transform_commit(&req, &out);
		if (uri_set)
			check_request(&req);
		if (out.host_set && (out.host.n == 0 || out.host.n > TRANSFORM_HOST_MAX))
			abort();
	}
out:
	http_request_release(&req);
	buf_release(&mem);
	arena_release(&arena);
	free(regex);
	free(replace);
	free(target);
	free(host);
	return 0;
}
