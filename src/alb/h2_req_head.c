/*
 * h2_req_head: HTTP/1.1 request head → HTTP/2 header block. The head is the
 * one lb itself wrote (proxy_request_head), so the parse is strict and
 * small: a request line, then "Name: value" lines up to the empty one.
 */
#include "alb/h2_req_head.h"

#include <string.h>

/* The fields RFC 9113 §8.2.2 forbids in HTTP/2 (TE is kept when it says "trailers"). */
static bool forbidden(struct sv name, struct sv value)
{
	static const char *const names[] = { "connection", "keep-alive", "proxy-connection", "transfer-encoding",
					     "upgrade" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (sv_eq_cstr_nocase(name, names[i]))
			return true;
	return sv_eq_cstr_nocase(name, "te") && !sv_eq_cstr_nocase(value, "trailers");
}

/* The next line of [*p, end) without its CRLF (or LF); *p moves past it. */
static struct sv next_line(const char **p, const char *end)
{
	const char *s = *p, *nl = memchr(s, '\n', (size_t)(end - s));
	struct sv line;

	if (!nl)
		nl = end;
	line.p = s;
	line.n = (size_t)(nl - s);
	if (line.n && s[line.n - 1] == '\r')
		line.n--;
	*p = nl < end ? nl + 1 : end;
	return line;
}

static struct sv trim(struct sv v)
{
	while (v.n && (v.p[0] == ' ' || v.p[0] == '\t')) {
		v.p++;
		v.n--;
	}
	while (v.n && (v.p[v.n - 1] == ' ' || v.p[v.n - 1] == '\t'))
		v.n--;
	return v;
}

int h2_req_head_from_h1(struct header_list *out, const char *head, size_t n, const char *scheme)
{
	const char *p = head, *end = head + n, *sp1, *sp2;
	struct sv line = next_line(&p, end), authority = SV(""), method, path;
	size_t lower_n = 0;
	int body = 0;

	header_list_reset(out);
	sp1 = memchr(line.p, ' ', line.n);
	if (!sp1)
		return -1;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(line.p + line.n - sp1 - 1));
	if (!sp2 || sp1 == line.p || sp2 == sp1 + 1)
		return -1;
	method = (struct sv){ line.p, (size_t)(sp1 - line.p) };
	path = (struct sv){ sp1 + 1, (size_t)(sp2 - sp1 - 1) };
	header_list_add(out, SV(":method"), method);
	header_list_add(out, SV(":scheme"), sv_from(scheme));
	header_list_add(out, SV(":authority"), authority);
	header_list_add(out, SV(":path"), path);
	/* Names are lower-cased into mem, which must not move once views point into it. */
	buf_reset(&out->mem);
	char *mem = buf_reserve(&out->mem, n);
	while (p < end) {
		const char *colon;
		struct sv name, value;
		char *low;

		line = next_line(&p, end);
		if (!line.n)
			break;
		colon = memchr(line.p, ':', line.n);
		if (!colon || colon == line.p)
			return -1;
		name = (struct sv){ line.p, (size_t)(colon - line.p) };
		value = trim((struct sv){ colon + 1, (size_t)(line.p + line.n - colon - 1) });
		if (sv_eq_cstr_nocase(name, "host")) {
			out->v[2].value = value;
			continue;
		}
		if (sv_eq_cstr_nocase(name, "transfer-encoding") ||
		    (sv_eq_cstr_nocase(name, "content-length") && !sv_eq_cstr(value, "0")))
			body = 1;
		if (forbidden(name, value))
			continue;
		low = mem + lower_n;
		for (size_t i = 0; i < name.n; i++)
			low[i] = ascii_lower(name.p[i]);
		header_list_add(out, (struct sv){ low, name.n }, value);
		lower_n += name.n;
	}
	buf_commit(&out->mem, lower_n);
	return body;
}

bool h2_is_grpc_content_type(struct sv ct)
{
	/* gRPC over HTTP/2: "application/grpc", optionally "+proto"/"+json" or ";params". */
	if (ct.n < 16 || !sv_eq_cstr_nocase((struct sv){ ct.p, 16 }, "application/grpc"))
		return false;
	return ct.n == 16 || ct.p[16] == '+' || ct.p[16] == ';';
}
