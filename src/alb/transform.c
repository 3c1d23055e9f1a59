/*
 * transform: rule transforms, ALB's host-header-rewrite and url-rewrite
 * (alb-listener-rules.md §2.6).
 *
 * "If the regex does not match, the original request is sent. If it matches
 * but the transform fails, ALB returns HTTP 500." lb's reading of "fails":
 * the regex gave up (its backtracking cap), or the result cannot go on the
 * wire as a host name or an origin-form request-target. Replacement follows
 * the usual regex-replace rule: the matched text is replaced and the rest of
 * the subject kept, so an anchored regex (AWS's examples are) rewrites the
 * whole value.
 *
 * Results are written into one caller-owned buffer; views into it are made
 * only after the last write, since a write may move it. Nothing here
 * allocates beyond that buffer's growth.
 */
#include "alb/transform.h"

#include <string.h>

#include "alb/regex_rule.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * The group a '$' at replace[i] refers to, and the length of the reference:
 * "$12" and "${12}"; len 0 when the '$' is literal. Numbers are capped so a
 * long digit run cannot overflow (it then names no group and fails the
 * load-time check).
 */
enum { GROUP_CAP = 100000 };  /* past PCRE2's 65535 groups; 10 * it + 9 fits */

static unsigned group_ref(const char *s, size_t *len)
{
	unsigned n = 0;
	size_t i = 1;
	bool braced = s[1] == '{';

	*len = 0;
	if (braced)
		i++;
	if (!is_digit(s[i]))
		return 0;
	for (; is_digit(s[i]); i++)
		n = n > GROUP_CAP ? n : n * 10 + (unsigned)(s[i] - '0');
	if (braced) {
		if (s[i] != '}')
			return 0;
		i++;
	}
	*len = i;
	return n;
}

unsigned transform_max_group(const char *replace, struct sv *ref)
{
	struct sv first = SV_NULL;
	unsigned max = 0;

	for (const char *p = replace; *p; p++) {
		size_t len;
		unsigned g;

		if (*p != '$' || (g = group_ref(p, &len), len == 0))
			continue;
		if (!first.p || g > max) {
			max = g;
			first = (struct sv){ p, len };
		}
		p += len - 1;
	}
	if (ref)
		*ref = first;
	return max;
}

/* Appends replace with its group references expanded from the last match. */
static void expand(const struct regex *re, const char *replace, struct sv subject, struct buf *out)
{
	const char *p = replace, *lit = replace;

	while (*p) {
		size_t len, s, e;
		unsigned g;

		if (*p != '$' || (g = group_ref(p, &len), len == 0)) {
			p++;
			continue;
		}
		buf_append(out, lit, (size_t)(p - lit));
		if (regex_group(re, g, &s, &e))
			buf_append(out, subject.p + s, e - s);
		p += len;
		lit = p;
	}
	buf_append(out, lit, (size_t)(p - lit));
}

enum transform_result transform_rewrite(const struct rule_rewrite *rw, struct sv subject, struct buf *out)
{
	size_t s = 0, e = 0;
	int rc = regex_search(rw->re, subject);

	if (rc == 0)
		return TRANSFORM_NO_MATCH;
	if (rc < 0 || !regex_group(rw->re, 0, &s, &e))
		return TRANSFORM_FAILED;
	buf_append(out, subject.p, s);
	expand(rw->re, rw->replace, subject, out);
	buf_append(out, subject.p + e, subject.n - e);
	return TRANSFORM_APPLIED;
}

/* A host name lb can forward: letters, digits, '-', '.', '_' (and an IPv6
 * literal's brackets and colons), at most TRANSFORM_HOST_MAX. */
static bool host_is_valid(struct sv h)
{
	/* Why: the rewrite's subject is the name, the port stays the client's:
	 * ':' belongs only inside an IPv6 literal's brackets, else "a.com:9000"
	 * would be sent as "a.com:9000:77" (RFC 9110 §7.2: uri-host [":" port]). */
	bool v6 = h.n >= 2 && h.p[0] == '[' && h.p[h.n - 1] == ']';

	if (h.n == 0 || h.n > TRANSFORM_HOST_MAX)
		return false;
	for (size_t i = v6, end = h.n - v6; i < end; i++) {
		char c = ascii_lower(h.p[i]);

		if (!((c >= 'a' && c <= 'z') || is_digit(c) || strchr("-._", c) || (v6 && c == ':')))
			return false;
	}
	return true;
}

/* An origin-form request-target: '/' first, visible ASCII without '#'. */
static bool uri_is_valid(struct sv u)
{
	if (u.n == 0 || u.n > TRANSFORM_URI_MAX || u.p[0] != '/')
		return false;
	for (size_t i = 0; i < u.n; i++) {
		unsigned char c = (unsigned char)u.p[i];

		if (c <= 0x20 || c >= 0x7f || c == '#')
			return false;
	}
	return true;
}

/* The Host text the host name came from: absolute-form authority, else the first Host header. */
static struct sv host_source(const struct http_request *req)
{
	const struct http_header *h;

	if (req->uri_host.n)
		return req->uri_host;
	h = http_request_header(req, "host");
	return h ? h->value : SV_NULL;
}

/* Host rewrite: the new name at [*at, +*n) of mem, then the client's ":port". */
static enum transform_result rewrite_host(const struct rule_rewrite *rw, const struct http_request *req,
					  struct buf *mem, size_t *name_n)
{
	struct sv host = http_request_host(req), src = host_source(req);
	size_t start = mem->len;
	enum transform_result r;

	/* No Host: nothing to rewrite (lb's choice: the original is sent). */
	if (!host.n)
		return TRANSFORM_NO_MATCH;
	r = transform_rewrite(rw, host, mem);
	if (r != TRANSFORM_APPLIED)
		return r;
	*name_n = mem->len - start;
	if (!host_is_valid((struct sv){ mem->p + start, *name_n }))
		return TRANSFORM_FAILED;
	/* Why keep the port: only the name is the rewrite's subject, the
	 * port is where the client reached the listener (lb's choice). */
	if (host.p + host.n < src.p + src.n)
		buf_append(mem, host.p + host.n, (size_t)(src.p + src.n - (host.p + host.n)));
	return TRANSFORM_APPLIED;
}

static enum transform_result rewrite_uri(const struct rule_rewrite *rw, const struct http_request *req,
					 struct buf *mem)
{
	char copy[TRANSFORM_URI_MAX];
	struct sv subject = req->path;
	size_t start = mem->len;
	enum transform_result r;

	/* Why "path?query": the url-rewrite can change the path and the query
	 * (§2.6: "/dp/<id>" → "/product.php?id=$1"); which one its regex sees
	 * is unverified, the reference suggests both, re-split at '?'. */
	if (req->has_query) {
		if (req->path.p + req->path.n + 1 == req->query.p) {
			subject.n += 1 + req->query.n;
		} else {  /* absolute-form with an empty path: "/" is not in the target */
			if (req->path.n + 1 + req->query.n > sizeof(copy))
				return TRANSFORM_FAILED;
			memcpy(copy, req->path.p, req->path.n);
			copy[req->path.n] = '?';
			memcpy(copy + req->path.n + 1, req->query.p, req->query.n);
			subject = (struct sv){ copy, req->path.n + 1 + req->query.n };
		}
	}
	r = transform_rewrite(rw, subject, mem);
	if (r == TRANSFORM_APPLIED && !uri_is_valid((struct sv){ mem->p + start, mem->len - start }))
		return TRANSFORM_FAILED;
	return r;
}

int transform_request(const struct rule *rule, const struct http_request *req, struct buf *mem,
		      struct transform_out *out)
{
	size_t host_n = 0, host_end = 0, uri_at = 0;
	enum transform_result h = TRANSFORM_NO_MATCH, u = TRANSFORM_NO_MATCH;

	memset(out, 0, sizeof(*out));
	buf_reset(mem);
	if (rule->host_rewrite) {
		h = rewrite_host(rule->host_rewrite, req, mem, &host_n);
		host_end = mem->len;
	}
	if (h != TRANSFORM_FAILED && rule->url_rewrite) {
		uri_at = mem->len;
		u = rewrite_uri(rule->url_rewrite, req, mem);
	}
	if (h == TRANSFORM_FAILED || u == TRANSFORM_FAILED) {
		out->status = TRANSFORM_STATUS_FAILED;
		return -1;
	}
	if (h == TRANSFORM_APPLIED) {
		out->host_set = true;
		out->host = (struct sv){ mem->p, host_n };
		out->host_value = (struct sv){ mem->p, host_end };
	}
	if (u == TRANSFORM_APPLIED) {
		out->uri_set = true;
		out->uri = (struct sv){ mem->p + uri_at, mem->len - uri_at };
	}
	if (out->host_set || out->uri_set)
		out->status = TRANSFORM_STATUS_OK;
	return 0;
}

void transform_commit(struct http_request *req, const struct transform_out *out)
{
	if (out->uri_set) {
		struct sv head, query = sv_cut(out->uri, '?', &head);

		req->target = out->uri;
		req->path = head;
		req->has_query = query.p != NULL;
		req->query = query.p ? query : SV_NULL;
	}
	if (!out->host_set)
		return;
	if (req->uri_host.n) {
		req->uri_host = out->host_value;
		return;
	}
	for (size_t i = 0; i < req->nheaders; i++) {
		if (sv_eq_cstr_nocase(req->headers[i].name, "host")) {
			req->headers[i].value = out->host_value;
			return;
		}
	}
}
