/*
 * redirect: turns a redirect action and the original request's URL parts
 * into the Location ALB answers with (alb-listener-rules.md §2.3).
 *
 * Each of the five components is a template: the configured string, or the
 * default that keeps the original value. Templates are expanded piece by
 * piece (a placeholder's value, or a run of literal text) without copying
 * them; the URL is assembled in a scratch buffer and appended to the
 * caller's buffer in one step, so a Location that would pass the caller's
 * maximum leaves that buffer untouched. Control bytes, from a template or
 * the request, are written percent-encoded: the Location never holds one.
 * Pure: no I/O, no state.
 */
#include "alb/redirect.h"

#include <string.h>

/*
 * Why: "any components that you do not modify retain their original values"
 * (§2.3); these are the templates that do exactly that, as the Terraform
 * provider documents them.
 */
static struct sv redirect_component(const char *configured, const char *keep_original)
{
	return sv_from(configured ? configured : keep_original);
}

/* The value of the placeholder at the start of s, with *len set to the
 * placeholder's length; SV_NULL with *len 0 when s starts with none. */
static struct sv placeholder_at(struct sv s, const struct redirect_request *in, size_t *len)
{
	/* Why: #{path} is the original path without its leading '/', which is
	 * why the default path template is "/#{path}" (§2.3). */
	struct sv path = in->path;
	if (path.n > 0 && path.p[0] == '/') {
		path.p++;
		path.n--;
	}
	const struct {
		const char *name;
		struct sv value;
	} known[] = {
		{ "#{protocol}", in->protocol },
		{ "#{host}", in->host },
		{ "#{port}", in->port },
		{ "#{path}", path },
		{ "#{query}", in->query },
	};

	for (size_t i = 0; i < ARRAY_LEN(known); i++) {
		size_t n = strlen(known[i].name);

		if (s.n >= n && memcmp(s.p, known[i].name, n) == 0) {
			*len = n;
			return known[i].value;
		}
	}
	*len = 0;
	return SV_NULL;
}

/*
 * Takes the next piece off the front of *tmpl (which must not be empty): a
 * known placeholder's value, or literal text up to the next "#{". An unknown
 * "#{...}" is literal text: ALB defines only the five keywords (§2.3).
 */
static struct sv template_next(struct sv *tmpl, const struct redirect_request *in)
{
	size_t n;
	struct sv piece = placeholder_at(*tmpl, in, &n);

	if (n == 0) {
		n = 1;
		while (n < tmpl->n && !(tmpl->p[n] == '#' && n + 1 < tmpl->n && tmpl->p[n + 1] == '{'))
			n++;
		piece = (struct sv){ tmpl->p, n };
	}
	tmpl->p += n;
	tmpl->n -= n;
	return piece;
}

/*
 * Appends s to out with each control byte as %XX. Why: a template may hold
 * any byte a YAML escape writes ("\r\n" in a host), and the Location is a
 * header value: a CR or LF in it would end the header and start another. A
 * URL carries no control byte (RFC 3986), so percent-encoding one keeps the
 * URL's meaning as a browser would read it.
 */
static void append_url_bytes(struct buf *out, struct sv s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i = 0;

	while (i < s.n) {
		size_t run = i;
		unsigned char c;

		while (run < s.n && (unsigned char)s.p[run] >= 0x20 && s.p[run] != 0x7f)
			run++;
		buf_append(out, s.p + i, run - i);
		if (run == s.n)
			break;
		c = (unsigned char)s.p[run];
		buf_append(out, (const char[]){ '%', hex[c >> 4], hex[c & 15] }, 3);
		i = run + 1;
	}
}

/* Appends the expansion of tmpl to out. */
static void template_expand(struct sv tmpl, const struct redirect_request *in, struct buf *out)
{
	while (tmpl.n > 0)
		append_url_bytes(out, template_next(&tmpl, in));
}

static bool template_expands_empty(struct sv tmpl, const struct redirect_request *in)
{
	while (tmpl.n > 0)
		if (template_next(&tmpl, in).n > 0)
			return false;
	return true;
}

int redirect_location(const struct redirect_cfg *r, const struct redirect_request *in, struct buf *out)
{
	struct buf loc = BUF_INIT;   /* no maximum: appends cannot fail */
	struct sv query = redirect_component(r->query, "#{query}");
	int rc;

	/* Why: the config spells the protocol "HTTP"/"HTTPS" (§2.3, API
	 * RedirectActionProtocol); a URL scheme is written in lower case. */
	template_expand(redirect_component(r->protocol, "#{protocol}"), in, &loc);
	for (size_t i = 0; i < loc.len; i++)
		loc.p[i] = ascii_lower(loc.p[i]);
	buf_puts(&loc, "://");
	template_expand(redirect_component(r->host, "#{host}"), in, &loc);
	/* Why: whether ALB omits a default port from Location is unverified
	 * (§2.3); its own access-log example shows "https://example.com:80/",
	 * so lb always writes the port. This is the one place that decides. */
	buf_putc(&loc, ':');
	template_expand(redirect_component(r->port, "#{port}"), in, &loc);
	template_expand(redirect_component(r->path, "/#{path}"), in, &loc);
	/* Why: Query is configured without the leading '?', which ALB adds
	 * (§2.3); an empty query gets no '?'. */
	if (!template_expands_empty(query, in)) {
		buf_putc(&loc, '?');
		template_expand(query, in, &loc);
	}
	rc = buf_append(out, loc.p, loc.len);
	buf_release(&loc);
	return rc;
}
