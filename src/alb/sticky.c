/*
 * sticky: cookie values are base64 of  name | 0x00 | expiry (8 bytes, big
 * endian) | SipHash-2-4(name | 0x00 | expiry) (8 bytes). The key lives as long
 * as lb does (reloads keep it), so sessions survive a reload.
 */
#include "alb/sticky.h"

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

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t x = 0;

	for (int i = 7; i >= 0; i--)
		x = x << 8 | p[i];
	return x;
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

static void put_be64(uint8_t *p, uint64_t x)
{
	for (int i = 7; i >= 0; i--, x >>= 8)
		p[i] = (uint8_t)x;
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t x = 0;

	for (int i = 0; i < 8; i++)
		x = x << 8 | p[i];
	return x;
}

void sticky_encode(struct buf *out, const struct sticky_key *key, struct sv name, int64_t expires)
{
	uint8_t raw[256 + 17];
	size_t n = name.n < 256 ? name.n : 256;

	memcpy(raw, name.p, n);
	raw[n] = 0;
	put_be64(raw + n + 1, (uint64_t)expires);
	put_be64(raw + n + 9, siphash24(key, raw, n + 9));
	base64_encode_buf(raw, n + 17, out);
}

/* The value of cookie `want` in the request's Cookie headers (the last one), or SV_NULL. */
static struct sv find_cookie(const struct http_request *req, const char *want)
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

enum sticky_status sticky_decode(const struct http_request *req, const struct sticky_key *key,
				 int64_t now, struct buf *scratch, struct sv *name)
{
	struct sv v = find_cookie(req, "AWSALBTGCORS");
	const uint8_t *raw;
	size_t n;

	if (!v.p)
		v = find_cookie(req, "AWSALBTG");
	if (!v.p)
		return STICKY_NONE;
	buf_reset(scratch);
	if (base64_decode(v.p, v.n, scratch) < 0 || scratch->len < 18)
		return STICKY_INVALID;
	raw = (const uint8_t *)scratch->p;
	n = scratch->len - 17;
	if (raw[n] != 0 || memchr(raw, 0, n) || get_be64(raw + n + 9) != siphash24(key, raw, n + 9))
		return STICKY_INVALID;
	if ((int64_t)get_be64(raw + n + 1) <= now)
		return STICKY_EXPIRED;
	*name = (struct sv){ scratch->p, n };
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
