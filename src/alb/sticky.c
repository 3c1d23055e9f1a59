/*
 * sticky: sealed cookie values are base64 of
 *   kind | 0x00 field | 0x00 field ... | SipHash-2-4 of what precedes (8 bytes, big endian)
 * with text fields (names, target keys, decimal expiries). AWSALBTG is kind
 * 'G' with the group's name and the binding's end. The key lives as long as
 * lb does (reloads keep it), so sessions survive a reload.
 */
#include "alb/sticky.h"

#include <endian.h>
#include <stdio.h>
#include <string.h>

#include "base/base64.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = ROTL(v[2], 32);
}

/* One unaligned load, not eight byte loads and shifts (le64toh is nothing
 * on a little-endian machine). */
static uint64_t load_le64(const uint8_t *p)
{
	uint64_t x;

	memcpy(&x, p, sizeof(x));
	return le64toh(x);
}

uint64_t siphash24(const struct sticky_key *key, const void *data, size_t n)
{
	const uint8_t *p = data, *end = p + (n & ~(size_t)7);
	uint64_t v[4] = { key->k0 ^ 0x736f6d6570736575ULL, key->k1 ^ 0x646f72616e646f6dULL,
			  key->k0 ^ 0x6c7967656e657261ULL, key->k1 ^ 0x7465646279746573ULL };
	uint64_t last = (uint64_t)n << 56;

	for (; p < end; p += 8) {
		uint64_t m = load_le64(p);
		v[3] ^= m;
		sipround(v);
		sipround(v);
		v[0] ^= m;
	}
	for (size_t i = 0; i < (n & 7); i++)
		last |= (uint64_t)p[i] << (8 * i);
	v[3] ^= last;
	sipround(v);
	sipround(v);
	v[0] ^= last;
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

void sticky_seal(struct buf *out, const struct sticky_key *key, char kind, const struct sv *fields,
		 size_t n)
{
	struct buf raw = BUF_INIT;
	uint8_t tag[8];
	uint64_t mac;

	buf_putc(&raw, kind);
	for (size_t i = 0; i < n; i++) {
		buf_putc(&raw, '\0');
		buf_append(&raw, fields[i].p, fields[i].n);
	}
	mac = siphash24(key, raw.p, raw.len);
	for (int i = 7; i >= 0; i--, mac >>= 8)
		tag[i] = (uint8_t)mac;
	buf_append(&raw, tag, sizeof(tag));
	base64_encode_buf(raw.p, raw.len, out);
	buf_release(&raw);
}

int sticky_open(const struct sticky_key *key, struct sv value, char kind, struct buf *scratch,
		struct sv *fields, size_t max, size_t *n)
{
	const char *p, *end;
	uint64_t mac = 0;
	size_t len;

	buf_reset(scratch);
	if (base64_decode(value.p, value.n, scratch) < 0 || scratch->len < 9)
		return -1;
	len = scratch->len - 8;
	for (size_t i = 0; i < 8; i++)
		mac = mac << 8 | (uint8_t)scratch->p[len + i];
	if (mac != siphash24(key, scratch->p, len) || scratch->p[0] != kind)
		return -1;
	*n = 0;
	for (p = scratch->p + 1, end = scratch->p + len; p < end;) {
		const char *f = ++p, *nul = memchr(f, '\0', (size_t)(end - f));

		if (*n == max)
			return -1;
		p = nul ? nul : end;
		fields[(*n)++] = (struct sv){ f, (size_t)(p - f) };
	}
	return 0;
}

struct sv sticky_cookie(const struct http_request *req, const char *want)
{
	struct sv found = SV_NULL;
	size_t wn = strlen(want);

	for (size_t i = 0; i < req->nheaders; i++) {
		struct sv rest = req->headers[i].value, pair;

		if (!sv_eq_cstr_nocase(req->headers[i].name, "cookie"))
			continue;
		while (rest.p) {
			rest = sv_cut(rest, ';', &pair);
			pair = sv_trim(pair);
			if (pair.n > wn && pair.p[wn] == '=' && memcmp(pair.p, want, wn) == 0)
				found = (struct sv){ pair.p + wn + 1, pair.n - wn - 1 };
		}
	}
	return found;
}

/* Why: an AWSALBTG value names the target group and the binding's end. */
void sticky_encode(struct buf *out, const struct sticky_key *key, struct sv name, int64_t expires)
{
	char exp[24];
	struct sv fields[2] = { name, { exp, 0 } };

	fields[1].n = (size_t)snprintf(exp, sizeof(exp), "%lld", (long long)expires);
	sticky_seal(out, key, 'G', fields, 2);
}

int64_t sticky_expiry(struct sv s)
{
	uint64_t v;

	return sv_to_u64(s, &v) < 0 || v > INT64_MAX ? -1 : (int64_t)v;
}

enum sticky_status sticky_decode(const struct http_request *req, const struct sticky_key *key,
				 int64_t now, struct buf *scratch, struct sv *name)
{
	struct sv v = sticky_cookie(req, "AWSALBTGCORS"), fields[2];
	size_t n;
	int64_t expires;

	if (!v.p)
		v = sticky_cookie(req, "AWSALBTG");
	if (!v.p)
		return STICKY_NONE;
	if (sticky_open(key, v, 'G', scratch, fields, 2, &n) < 0 || n != 2 ||
	    (expires = sticky_expiry(fields[1])) < 0)
		return STICKY_INVALID;
	if (expires <= now)
		return STICKY_EXPIRED;
	*name = fields[0];
	return STICKY_OK;
}
void sticky_set_cookies(struct buf *out, const struct sticky_key *key, struct sv name, int64_t now,
			int duration, size_t *cors_at)
{
	char expires[30];
	struct buf value = BUF_INIT;

	time_http_date(now + duration, expires);
	sticky_encode(&value, key, name, now + duration);
	/* ALB: "AWSALBTG=...; Expires=...; Path=/" and the CORS twin with
	 * SameSite=None; Secure (alb-listener-rules.md §2.2). */
	buf_printf(out, "AWSALBTG=%s; Expires=%s; Path=/", buf_cstr(&value), expires);
	buf_putc(out, '\0');
	*cors_at = out->len;
	buf_printf(out, "AWSALBTGCORS=%s; Expires=%s; Path=/; SameSite=None; Secure", buf_cstr(&value), expires);
	buf_putc(out, '\0');
	buf_release(&value);
}
