/*
 * alb_event: the JSON event ALB hands a Lambda target
 * (alb-lambda-targets.md §1, DESIGN.md §6), written straight into a buffer.
 *
 * The event is built for every invocation, so nothing here makes a JSON tree
 * or allocates per header: strings are escaped run by run into the output,
 * and repeated header names and query keys are grouped through a small hash
 * index that lives on the stack (one allocation only for requests with more
 * than GROUP_LOCAL headers or query pieces).
 *
 * Output is compact JSON with the keys in AWS's documented order:
 * requestContext, httpMethod, path, the query map, the header map, body,
 * isBase64Encoded. Only the pair of maps of the target group's mode appears
 * (§1.1).
 *
 * Bytes that are not UTF-8: ALB fails an invocation whose headers or text
 * body hold them with LambdaBadRequest (§1.8, S-AL): alb_event_write says
 * so, and the caller does not invoke. The JSON stays valid all the same
 * (the query, the path, a dry run's event): each byte that is not part of a
 * well-formed UTF-8 sequence is written as \u00XX, its Latin-1 reading.
 * Well-formed UTF-8 passes through unescaped.
 *
 * out must have no maximum (or one the event fits in): the functions return
 * nothing, and an append past the maximum would leave truncated JSON.
 */
#include "alb/alb_event.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "base/util.h"

#define PUT_LIT(out, lit) buf_append(out, lit, sizeof(lit) - 1)

/* ---- JSON strings ---- */

/* Bytes that go into a JSON string as they are: printable ASCII but '"' and
 * '\\' (RFC 8259 §7). Bytes of 0x80 and above are judged as UTF-8. */
static bool json_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/*
 * The length of the well-formed UTF-8 sequence starting at p (RFC 3629 §4:
 * no overlong forms, no surrogates, nothing above U+10FFFF), or 0.
 */
size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;  /* range of the second byte */
	size_t len;

	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		lo = c == 0xe0 ? 0xa0 : lo;   /* overlong */
		hi = c == 0xed ? 0x9f : hi;   /* U+D800..U+DFFF */
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		lo = c == 0xf0 ? 0x90 : lo;   /* overlong */
		hi = c == 0xf4 ? 0x8f : hi;   /* above U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

static void json_write_escape(struct buf *out, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

	switch (c) {
	case '"':
	case '\\':
		esc[1] = (char)c;
		break;
	case '\b':
		esc[1] = 'b';
		break;
	case '\f':
		esc[1] = 'f';
		break;
	case '\n':
		esc[1] = 'n';
		break;
	case '\r':
		esc[1] = 'r';
		break;
	case '\t':
		esc[1] = 't';
		break;
	default:
		/* Other controls, and bytes that are not UTF-8 (Latin-1 reading). */
		buf_append(out, esc, sizeof(esc));
		return;
	}
	buf_append(out, esc, 2);
}

/*
 * Most strings (header values, paths) need no escaping: they are written
 * with one reservation and one copy. Otherwise runs of bytes that need no
 * escaping are appended in one go between the escapes. False when a byte
 * was not UTF-8.
 */
static bool write_string(struct buf *out, const char *s, size_t n)
{
	bool utf8 = true;
	const unsigned char *p, *end, *run;
	char *o;

	if (n == 0) {
		buf_append(out, "\"\"", 2);   /* an empty view may have no pointer at all */
		return true;
	}
	p = run = (const unsigned char *)s;
	end = p + n;

	while (p < end && json_plain(*p))
		p++;
	if (p == end && (o = buf_reserve(out, n + 2))) {
		o[0] = '"';
		if (n)
			memcpy(o + 1, s, n);
		o[n + 1] = '"';
		buf_commit(out, n + 2);
		return true;
	}
	buf_putc(out, '"');
	while (p < end) {
		size_t k;

		if (json_plain(*p)) {
			p++;
			continue;
		}
		if (*p >= 0x80 && (k = utf8_len(p, (size_t)(end - p)))) {
			p += k;
			continue;
		}
		utf8 &= *p < 0x80;
		buf_append(out, run, (size_t)(p - run));
		json_write_escape(out, *p);
		run = ++p;
	}
	buf_append(out, run, (size_t)(p - run));
	buf_putc(out, '"');
	return utf8;
}

void json_write_string(struct buf *out, const char *s, size_t n)
{
	(void)write_string(out, s, n);
}

/* A header name as an event key: lower-cased (§1.6). Escapes are already
 * lower-case, so lower-casing the written bytes changes only the name. */
static void json_write_lower(struct buf *out, struct sv s)
{
	size_t start = out->len;

	json_write_string(out, s.p, s.n);
	for (size_t i = start; i < out->len; i++)
		out->p[i] = ascii_lower(out->p[i]);
}

/* ---- grouping repeated keys ---- */

#define NIL SIZE_MAX
#define GROUP_LOCAL 32   /* pairs grouped without allocating */

/*
 * The pairs of a map that share a key, linked in arrival order. A key's
 * first pair heads its group (last[] holds the group's last pair; later
 * pairs have NIL there), so walking the pairs in order and skipping the
 * non-heads visits each key once, at the position it first appeared.
 * Keys are found through an open-addressing table of 1 + head index.
 */
struct groups {
	size_t *next;    /* [n] the next pair with the same key, or NIL */
	size_t *last;    /* [n] a head's last pair; NIL for the other pairs */
	size_t *slot;    /* [mask + 1] 1 + a head's index; 0 for a free slot */
	size_t mask;
	size_t *heap;
	size_t local[GROUP_LOCAL * 4];
};

static bool key_eq(struct sv a, struct sv b, bool nocase)
{
	return nocase ? sv_eq_nocase(a, b) : sv_eq(a, b);
}

/* FNV-1a, over the lower-cased bytes when names are case-insensitive. */
static size_t key_hash(struct sv k, bool nocase)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (size_t i = 0; i < k.n; i++) {
		h ^= (unsigned char)(nocase ? ascii_lower(k.p[i]) : k.p[i]);
		h *= 0x100000001b3u;
	}
	return (size_t)h;
}

static void groups_build(struct groups *g, const struct http_header *pairs, size_t n,
			 bool nocase)
{
	size_t nslot = 2, *mem;

	while (nslot < 2 * n)
		nslot *= 2;
	g->heap = NULL;
	mem = g->local;
	if (2 * n + nslot > ARRAY_LEN(g->local))
		mem = g->heap = xmalloc((2 * n + nslot) * sizeof(*mem));
	g->next = mem;
	g->last = mem + n;
	g->slot = mem + 2 * n;
	g->mask = nslot - 1;
	memset(g->slot, 0, nslot * sizeof(*g->slot));

	for (size_t i = 0; i < n; i++) {
		size_t h = key_hash(pairs[i].name, nocase) & g->mask;

		g->next[i] = g->last[i] = NIL;
		for (;; h = (h + 1) & g->mask) {
			size_t head;

			if (!g->slot[h]) {
				g->slot[h] = i + 1;
				g->last[i] = i;
				break;
			}
			head = g->slot[h] - 1;
			if (key_eq(pairs[head].name, pairs[i].name, nocase)) {
				g->next[g->last[head]] = i;
				g->last[head] = i;
				break;
			}
		}
	}
}

static void groups_release(struct groups *g)
{
	free(g->heap);
}

/* ---- maps ---- */

/*
 * Writes pairs as a JSON object: request headers (headers true) or query
 * pieces. Header names match case-insensitively and keys are lower-cased
 * (§1.6); query keys are raw and case-sensitive (§1.2). Single mode keeps
 * the last value of a repeated key (§1.2, DOC "uses the last value it
 * receives"); multi mode keeps every value in arrival order. Where a
 * repeated key goes in single mode is not observable in the captures (they
 * are re-serialized); lb puts it where the key first appeared.
 */
static void write_map(struct buf *out, const struct http_header *pairs, size_t n, bool headers,
		      bool multi)
{
	struct groups g;
	bool first = true;

	groups_build(&g, pairs, n, headers);
	buf_putc(out, '{');
	for (size_t i = 0; i < n; i++) {
		if (g.last[i] == NIL)
			continue;
		if (!first)
			buf_putc(out, ',');
		first = false;
		if (headers)
			json_write_lower(out, pairs[i].name);
		else
			json_write_string(out, pairs[i].name.p, pairs[i].name.n);
		buf_putc(out, ':');
		if (!multi) {
			json_write_string(out, pairs[g.last[i]].value.p, pairs[g.last[i]].value.n);
			continue;
		}
		buf_putc(out, '[');
		for (size_t j = i; j != NIL; j = g.next[j]) {
			if (j != i)
				buf_putc(out, ',');
			json_write_string(out, pairs[j].value.p, pairs[j].value.n);
		}
		buf_putc(out, ']');
	}
	buf_putc(out, '}');
	groups_release(&g);
}

/*
 * The query map (§1.3; DESIGN.md §6): pieces split on '&', each at its first
 * '=', nothing decoded ('+' stays '+'). "k=" gives "" (captured); "flag"
 * without '=' gives "" and empty pieces ("&&", a trailing '&') are skipped:
 * both unverified (§1.3, §6 q5), lb's choice per DESIGN.md §6. "=v" keeps its
 * empty key (unverified as well). No query gives {} (§1.4).
 */
static void write_query(struct buf *out, struct sv query, bool multi)
{
	/* Zeroed only because gcc -O2 cannot see that write_map reads just the
	 * n pieces filled in (-Wmaybe-uninitialized). */
	struct http_header local[GROUP_LOCAL] = { 0 }, *pairs = local;
	size_t max = 1, n = 0;
	struct sv rest = query, piece;

	for (size_t i = 0; i < query.n; i++)
		max += query.p[i] == '&';
	if (max > ARRAY_LEN(local))
		pairs = xmalloc(max * sizeof(*pairs));
	while (rest.p && rest.n) {
		rest = sv_cut(rest, '&', &piece);
		if (!piece.n)
			continue;
		pairs[n].value = sv_cut(piece, '=', &pairs[n].name);
		n++;
	}
	write_map(out, pairs, n, false, multi);
	if (pairs != local)
		free(pairs);
}

/* ---- the event ---- */

/* What an event is made of, from a request or from a health check. */
struct event_parts {
	const char *arn;
	struct sv method, path, query;
	const struct http_header *headers;
	size_t nheaders;
	struct sv body;
	bool body_text;
	bool multi;
};

/* Whether every header value is UTF-8: in single mode too, where an event
 * shows only the last of a repeated header's values (ALB judges the request's
 * headers, S-AL). */
static bool headers_utf8(const struct http_header *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const unsigned char *p = (const unsigned char *)h[i].value.p, *end;
		size_t k;

		if (!h[i].value.n)
			continue;   /* an empty value may have no pointer at all */
		end = p + h[i].value.n;
		while (p < end) {
			if (*p < 0x80)
				p++;
			else if ((k = utf8_len(p, (size_t)(end - p))))
				p += k;
			else
				return false;
		}
	}
	return true;
}

/* False when a header value or the text body was not UTF-8. */
static bool write_event(struct buf *out, const struct event_parts *e)
{
	bool utf8;

	PUT_LIT(out, "{\"requestContext\":{\"elb\":{\"targetGroupArn\":");
	json_write_string(out, e->arn, strlen(e->arn));
	PUT_LIT(out, "}},\"httpMethod\":");
	json_write_string(out, e->method.p, e->method.n);
	PUT_LIT(out, ",\"path\":");
	json_write_string(out, e->path.p, e->path.n);
	buf_puts(out, e->multi ? ",\"multiValueQueryStringParameters\":" : ",\"queryStringParameters\":");
	write_query(out, e->query, e->multi);
	buf_puts(out, e->multi ? ",\"multiValueHeaders\":" : ",\"headers\":");
	write_map(out, e->headers, e->nheaders, true, e->multi);
	utf8 = headers_utf8(e->headers, e->nheaders);

	PUT_LIT(out, ",\"body\":");
	if (!e->body.n || e->body_text) {
		/* An empty body is "" and false whatever its type (§1.4, §1.8). */
		utf8 &= write_string(out, e->body.p, e->body.n);
		PUT_LIT(out, ",\"isBase64Encoded\":false}");
		return utf8;
	}
	buf_putc(out, '"');
	base64_encode_buf(e->body.p, e->body.n, out);
	PUT_LIT(out, "\",\"isBase64Encoded\":true}");
	return utf8;
}

/*
 * Media types ALB passes as text (§1.8, DOC S-LF). Matching by the media
 * type before ';', trimmed and case-insensitive, is unverified (§1.8, §6
 * q12); DESIGN.md §6 chose it. "+json" types are not in the list: base64.
 */
bool alb_event_body_is_text(struct sv content_type, bool has_content_encoding)
{
	struct sv type;

	/* DOC S-LF: any content-encoding means base64 (§1.8 rule 1). */
	if (has_content_encoding || !content_type.p)
		return false;
	sv_cut(content_type, ';', &type);
	type = sv_trim(type);
	return (sv_starts_with_nocase(type, "text/") && type.n > 5) ||
	       sv_eq_cstr_nocase(type, "application/json") ||
	       sv_eq_cstr_nocase(type, "application/javascript") ||
	       sv_eq_cstr_nocase(type, "application/xml");
}

/*
 * Content-Type and Content-Encoding as sent toward the target. With several
 * Content-Type headers the last one decides, the one a single-mode function
 * sees (§1.2); a missing one counts as "other" (§1.8 rule 3, captured).
 */
static bool headers_say_text(const struct http_header *h, size_t n)
{
	struct sv type = SV_NULL;
	bool encoded = false;

	for (size_t i = 0; i < n; i++) {
		if (sv_eq_cstr_nocase(h[i].name, "content-type"))
			type = h[i].value;
		else if (sv_eq_cstr_nocase(h[i].name, "content-encoding"))
			encoded = true;
	}
	return alb_event_body_is_text(type, encoded);
}

bool alb_event_write(struct buf *out, const struct alb_event_input *in)
{
	const struct http_request *req = in->req;
	struct event_parts e = {
		.arn = in->target_group_arn ? in->target_group_arn : "",
		.method = req->method,
		.path = req->path,
		.query = req->query,
		.headers = in->headers,
		.nheaders = in->nheaders,
		.body = { req->body.p, req->body.len },
		.body_text = headers_say_text(in->headers, in->nheaders),
		.multi = in->multi_value,
	};

	return write_event(out, &e);
}

/*
 * A health check (§3, §1.10 G): GET of the configured path with only
 * user-agent, no x-forwarded-* and no trace id. Multi mode's shape is
 * unverified (§3, §6 q7); lb sends the same header as an array, as §7
 * suggests ("user-agent only"). A "?query" in the path fills the query map
 * (unverified, §3).
 */
void alb_event_write_health_check(struct buf *out, const char *path, const char *target_group_arn,
				  bool multi_value)
{
	static const struct http_header ua = { SV("user-agent"), SV("ELB-HealthChecker/2.0") };
	struct event_parts e = {
		.arn = target_group_arn ? target_group_arn : "",
		.method = SV("GET"),
		.headers = &ua,
		.nheaders = 1,
		.multi = multi_value,
	};

	e.query = sv_cut(sv_from(path), '?', &e.path);
	(void)write_event(out, &e);
}
