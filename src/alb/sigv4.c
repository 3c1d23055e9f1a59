/*
 * sigv4: the canonical request, string to sign, signing key and
 * Authorization header of AWS Signature Version 4 (aws-integration.md §1.2-
 * §1.9). One canonical_uri serves the test suite (raw paths, encoded once)
 * and production (wire paths, so encoded twice, as Lambda expects).
 */
#include "alb/sigv4.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/sha256.h"

/* Writes c UriEncoded at w (one byte, or three for %XX); returns the end. */
static char *encode_byte(char *w, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";

	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
	    c == '.' || c == '~') {
		*w++ = (char)c;
	} else {
		*w++ = '%';
		*w++ = hex[c >> 4];
		*w++ = hex[c & 15];
	}
	return w;
}

void sigv4_uri_encode(struct buf *out, struct sv s)
{
	char *start = buf_reserve(out, 3 * s.n), *w = start;

	if (!start)
		return;
	for (size_t i = 0; i < s.n; i++)
		w = encode_byte(w, (unsigned char)s.p[i]);
	buf_commit(out, (size_t)(w - start));
}

void sigv4_canonical_uri(struct buf *out, struct sv path)
{
	size_t nseg = 0, i = 0, slashes = 0;
	bool trailing = false;

	for (size_t k = 0; k < path.n; k++)
		slashes += path.p[k] == '/';
	struct sv *seg = xmalloc((slashes + 1) * sizeof(*seg));   /* a segment per slash, and one */

	/* RFC 3986 dot segments and botocore's collapsed slashes (§1.3). */
	while (i <= path.n) {
		size_t j = i;
		while (j < path.n && path.p[j] != '/')
			j++;
		struct sv s = { path.p + i, j - i };
		bool last = j >= path.n;
		if (sv_eq_cstr(s, "..")) {
			if (nseg)
				nseg--;
			trailing = last;
		} else if (s.n == 0 || sv_eq_cstr(s, ".")) {
			if (last)
				trailing = true;
		} else {
			seg[nseg++] = s;
			trailing = false;
		}
		i = j + 1;
	}
	buf_putc(out, '/');
	for (i = 0; i < nseg; i++) {
		if (i)
			buf_putc(out, '/');
		sigv4_uri_encode(out, seg[i]);
	}
	if (trailing && nseg)
		buf_putc(out, '/');
	free(seg);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes s, then UriEncodes it: the same bytes whether s came raw or encoded. */
static void reencode(struct buf *out, struct sv s)
{
	char *start = buf_reserve(out, 3 * s.n), *w = start;

	if (!start)
		return;
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (c == '%' && i + 2 < s.n && hexval(s.p[i + 1]) >= 0 && hexval(s.p[i + 2]) >= 0) {
			c = (unsigned char)(hexval(s.p[i + 1]) * 16 + hexval(s.p[i + 2]));
			i += 2;
		}
		w = encode_byte(w, c);
	}
	buf_commit(out, (size_t)(w - start));
}

struct qpair {
	char *name, *value;
};

static int qpair_cmp(const void *a, const void *b)
{
	const struct qpair *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

void sigv4_canonical_query(struct buf *out, struct sv query)
{
	size_t n = 0, i, amps = 0;

	for (i = 0; i < query.n; i++)
		amps += query.p[i] == '&';
	struct qpair *pairs = xmalloc((amps + 1) * sizeof(*pairs));   /* a pair per '&', and one */
	struct sv rest = query;

	while (rest.n) {
		struct sv pair, name, value = { "", 0 };
		rest = sv_cut(rest, '&', &pair);
		if (!pair.n)
			continue;
		value = sv_cut(pair, '=', &name);
		if (name.n == pair.n)
			value = (struct sv){ "", 0 };   /* no '=': an empty value, which keeps its '=' */
		struct buf b = BUF_INIT;
		reencode(&b, name);
		pairs[n].name = buf_detach(&b, NULL);
		reencode(&b, value);
		pairs[n].value = buf_detach(&b, NULL);
		n++;
	}
	/* Byte order of the encoded names, then values (get-vanilla-query-order-*). */
	qsort(pairs, n, sizeof(*pairs), qpair_cmp);
	for (i = 0; i < n; i++) {
		buf_printf(out, "%s%s=%s", i ? "&" : "", pairs[i].name, pairs[i].value);
		free(pairs[i].name);
		free(pairs[i].value);
	}
	free(pairs);
}

struct cheader {
	char *name;       /* lower case */
	struct sv value;
	size_t order;
};

static int cheader_cmp(const void *a, const void *b)
{
	const struct cheader *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : (x->order < y->order ? -1 : x->order > y->order);
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A value trimmed, inner runs of whitespace (folded lines too) as one space (§1.5). */
static void put_value(struct buf *out, struct sv v)
{
	bool space = false, any = false;

	for (size_t i = 0; i < v.n; i++) {
		if (is_ws(v.p[i])) {
			space = any;
			continue;
		}
		if (space)
			buf_putc(out, ' ');
		buf_putc(out, v.p[i]);
		space = false;
		any = true;
	}
}

/* Appends the canonical headers block to creq and the signed-header list to signed_list. */
static void canonical_headers(struct buf *creq, struct buf *signed_list, const struct sigv4_header *h, size_t n)
{
	struct cheader *ch = xmalloc((n + 1) * sizeof(*ch));
	size_t i, j;

	for (i = 0; i < n; i++) {
		ch[i].name = sv_dup(h[i].name);
		for (j = 0; ch[i].name[j]; j++)
			if (ch[i].name[j] >= 'A' && ch[i].name[j] <= 'Z')
				ch[i].name[j] = (char)(ch[i].name[j] + 32);
		ch[i].value = h[i].value;
		ch[i].order = i;
	}
	qsort(ch, n, sizeof(*ch), cheader_cmp);
	for (i = 0; i < n; i = j) {
		/* A repeated header: its values joined by commas in the order sent. */
		buf_printf(creq, "%s:", ch[i].name);
		for (j = i; j < n && strcmp(ch[j].name, ch[i].name) == 0; j++) {
			if (j > i)
				buf_putc(creq, ',');
			put_value(creq, ch[j].value);
		}
		buf_putc(creq, '\n');
		buf_printf(signed_list, "%s%s", i ? ";" : "", ch[i].name);
	}
	for (i = 0; i < n; i++)
		free(ch[i].name);
	free(ch);
}

void sigv4_sign(const struct sigv4_request *r, const struct sigv4_credentials *c, const struct sigv4_scope *s,
		struct sigv4_result *out)
{
	struct buf signed_list = BUF_INIT, key = BUF_INIT;
	char creq_hash[65], date[9];
	uint8_t k[SHA256_LEN], sig[SHA256_LEN];

	buf_reset(&out->creq);
	buf_reset(&out->sts);
	buf_reset(&out->authz);
	buf_append(&out->creq, r->method.p, r->method.n);
	buf_putc(&out->creq, '\n');
	sigv4_canonical_uri(&out->creq, r->path);
	buf_putc(&out->creq, '\n');
	sigv4_canonical_query(&out->creq, r->query);
	buf_putc(&out->creq, '\n');
	canonical_headers(&out->creq, &signed_list, r->headers, r->nheaders);
	buf_printf(&out->creq, "\n%s\n%s", buf_cstr(&signed_list), r->payload_hash);

	snprintf(date, sizeof(date), "%.8s", s->amz_date);
	sha256_hex(out->creq.p, out->creq.len, creq_hash);
	buf_printf(&out->sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", s->amz_date, date, s->region,
		   s->service, creq_hash);

	/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request") */
	buf_printf(&key, "AWS4%s", c->secret_key);
	hmac_sha256(key.p, key.len, date, strlen(date), k);
	hmac_sha256(k, sizeof(k), s->region, strlen(s->region), k);
	hmac_sha256(k, sizeof(k), s->service, strlen(s->service), k);
	hmac_sha256(k, sizeof(k), "aws4_request", 12, k);
	hmac_sha256(k, sizeof(k), out->sts.p, out->sts.len, sig);
	hex_encode(sig, sizeof(sig), out->signature);
	buf_printf(&out->authz, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
		   c->access_key, date, s->region, s->service, buf_cstr(&signed_list), out->signature);
	memset(key.p, 0, key.len);
	buf_release(&key);
	buf_release(&signed_list);
}

void sigv4_result_release(struct sigv4_result *out)
{
	buf_release(&out->creq);
	buf_release(&out->sts);
	buf_release(&out->authz);
}

void sigv4_amz_date(int64_t t, char out[17])
{
	/* Civil date from days since 1970-01-01 (Howard Hinnant's algorithm): no gmtime, no locale. */
	int64_t days = t / 86400, secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;

	y += m <= 2;
	snprintf(out, 17, "%04d%02d%02dT%02d%02d%02dZ", (int)y, (int)m, (int)d, (int)(secs / 3600),
		 (int)(secs / 60 % 60), (int)(secs % 60));
}
