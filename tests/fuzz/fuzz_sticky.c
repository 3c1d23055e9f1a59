/*
 * Fuzzes the stickiness cookies: AWSALBTG/AWSALBTGCORS (sticky.c) and
 * AWSALB/AWSALBCORS and AWSALBAPP-0..3 (target_cookie.c).
 *
 * Input: a flags byte, two bytes of stickiness duration, then
 * NUL-separated pieces: a target group name (cut to 32 bytes, ALB's
 * limit), a target key (cut to 64), a Cookie header value as a client
 * writes it, a User-Agent, then the text fields of a record the harness
 * seals with lb's key, so that authentic values of any shape are read too:
 * its kind is G, L, A or the flags' choice, and it goes in as AWSALBTG,
 * AWSALBTGCORS, AWSALB, AWSALBCORS or AWSALBAPP-0..3 (cut into shards at
 * the input's chosen length), before or after the client's text.
 *
 * Whatever the input: no crash, no leak; each decode gives none, a target
 * (pointing into its scratch buffer), invalid or expired; and every cookie
 * lb sets decodes back to what it encoded: AWSALBTG(CORS) to the group,
 * AWSALB(CORS) to the target for its group only, and AWSALBAPP-N, set on
 * top of the request's own bindings, to the target, with each shard within
 * a browser's 4096 bytes and no CR, LF or NUL in a Set-Cookie value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alb/sticky.h"
#include "alb/target_cookie.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

#define NOW 1551754398
#define FIXED 3
#define FIELDS_MAX 400

static const struct sticky_key key = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };

/* The next NUL-terminated piece of [*p, end) as a view; *p moves past it. */
static struct sv piece(const char **p, const char *end)
{
	const char *nul = memchr(*p, '\0', (size_t)(end - *p));
	struct sv s = { *p, nul ? (size_t)(nul - *p) : (size_t)(end - *p) };

	*p = nul ? nul + 1 : end;
	return s;
}

static struct sv cut(struct sv s, size_t max)
{
	s.n = s.n < max ? s.n : max;
	return s;
}

/* A status is one of the four; a target points into scratch. */
static void check_status(enum sticky_status st, struct sv got, const struct buf *scratch)
{
	if (st != STICKY_NONE && st != STICKY_OK && st != STICKY_INVALID && st != STICKY_EXPIRED)
		abort();
	if (st == STICKY_OK && (!scratch->p || got.p < scratch->p || got.p + got.n > scratch->p + scratch->len))
		abort();
}

/* A request whose Cookie header holds cookie (and a User-Agent). */
static void request(struct http_request *req, struct sv cookie, struct sv ua)
{
	http_request_init(req);
	http_request_set_target(req, SV("/"));
	http_request_add_header(req, SV("User-Agent"), ua);
	http_request_add_header(req, SV("Cookie"), cookie);
}

/* Appends "NAME=VALUE" of the NUL-terminated Set-Cookie value at s to a Cookie value. */
static void cookie_from_set(struct buf *cookie, const char *s)
{
	if (strchr(s, '\r') || strchr(s, '\n'))
		abort();
	if (cookie->len)
		buf_puts(cookie, "; ");
	buf_append(cookie, s, strcspn(s, ";"));
}

/* Every Set-Cookie value lb makes decodes back to what it encoded. */
static void check_round_trips(const struct http_request *hostile, struct sv tg, struct sv tkey, int duration)
{
	struct buf set = BUF_INIT, cookie = BUF_INIT, scratch = BUF_INIT;
	struct http_request req;
	size_t at, offs[APP_COOKIE_SHARDS], nset;
	struct sv got = SV_NULL;

	sticky_set_cookies(&set, &key, tg, NOW, duration, &at);
	cookie_from_set(&cookie, set.p + at);   /* AWSALBTGCORS */
	request(&req, (struct sv){ cookie.p, cookie.len }, SV(""));
	if (sticky_decode(&req, &key, NOW, &scratch, &got) != STICKY_OK || !sv_eq(got, tg) ||
	    sticky_decode(&req, &key, NOW + duration, &scratch, &got) != STICKY_EXPIRED)
		abort();
	http_request_release(&req);

	buf_reset(&set);
	buf_reset(&cookie);
	lb_cookie_set(&set, &key, tg, tkey, NOW, duration, &at);
	cookie_from_set(&cookie, set.p);        /* AWSALB */
	request(&req, (struct sv){ cookie.p, cookie.len }, SV(""));
	if (lb_cookie_decode(&req, &key, tg, NOW, &scratch, &got) != STICKY_OK || !sv_eq(got, tkey) ||
	    lb_cookie_decode(&req, &key, SV("other-group-name-longer-than-32-bytes"), NOW, &scratch,
			     &got) != STICKY_NONE)
		abort();
	http_request_release(&req);

	buf_reset(&set);
	buf_reset(&cookie);
	app_cookie_set(&set, &key, hostile, tg, tkey, NOW, duration, offs, &nset);
	if (nset != APP_COOKIE_SHARDS)
		abort();
	for (size_t i = 0; i < nset; i++) {
		if (strcspn(set.p + offs[i], ";") > 4096)
			abort();
		cookie_from_set(&cookie, set.p + offs[i]);
	}
	request(&req, (struct sv){ cookie.p, cookie.len }, SV(""));
	if (app_cookie_decode(&req, &key, tg, NOW, &scratch, &got) != STICKY_OK || !sv_eq(got, tkey))
		abort();
	http_request_release(&req);
	buf_release(&set);
	buf_release(&cookie);
	buf_release(&scratch);
}

/* The sealed record of fields, as the cookie the flags choose, into cookie. */
static void sealed_cookie(struct buf *cookie, uint8_t flags, uint8_t shard_len, const struct sv *fields,
			  size_t nfields)
{
	static const char kinds[] = { 'G', 'L', 'A', 'A' };
	static const char *const names[] = { "AWSALBTG", "AWSALBTGCORS", "AWSALB", "AWSALBCORS",
					     "AWSALBAPP-0" };
	struct buf value = BUF_INIT;
	size_t which = (size_t)(flags >> 2 & 7) % 6;

	sticky_seal(&value, &key, flags & 0x80 ? (char)shard_len : kinds[flags & 3], fields, nfields);
	if (which < 5) {
		buf_printf(cookie, "%s=%s", names[which], buf_cstr(&value));
	} else {
		/* AWSALBAPP-0..3, cut every shard_len + 1 bytes (the rest in the last). */
		size_t step = (size_t)shard_len + 1, at = 0;

		for (int i = 0; i < APP_COOKIE_SHARDS && at < value.len; i++) {
			size_t len = i == APP_COOKIE_SHARDS - 1 || value.len - at < step ? value.len - at : step;

			buf_printf(cookie, "%sAWSALBAPP-%d=%.*s", i ? "; " : "", i, (int)len, value.p + at);
			at += len;
		}
	}
	buf_release(&value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	const char *p = (const char *)data + (n < FIXED ? n : FIXED), *end = (const char *)data + n;
	uint8_t flags = n > 0 ? data[0] : 0;
	int duration = n >= FIXED ? (data[1] << 8 | data[2]) % 604800 + 1 : 3600;
	struct sv tg = cut(piece(&p, end), 32), tkey = cut(piece(&p, end), 64);
	struct sv raw = piece(&p, end), ua = piece(&p, end);
	struct sv fields[FIELDS_MAX], got;
	size_t nfields = 0;
	struct buf cookie = BUF_INIT, scratch = BUF_INIT;
	struct http_request req;

	while (p < end && nfields < FIELDS_MAX)
		fields[nfields++] = piece(&p, end);
	if (flags & 0x40)
		buf_append(&cookie, raw.p, raw.n);
	if (nfields) {
		if (cookie.len)
			buf_puts(&cookie, "; ");
		sealed_cookie(&cookie, flags, n >= FIXED ? data[2] : 0, fields, nfields);
	}
	if (!(flags & 0x40)) {
		if (cookie.len)
			buf_puts(&cookie, "; ");
		buf_append(&cookie, raw.p, raw.n);
	}
	request(&req, (struct sv){ cookie.p ? cookie.p : "", cookie.len }, ua);

	got = SV_NULL;
	check_status(sticky_decode(&req, &key, NOW, &scratch, &got), got, &scratch);
	check_status(lb_cookie_decode(&req, &key, tg, NOW, &scratch, &got), got, &scratch);
	check_status(app_cookie_decode(&req, &key, tg, NOW, &scratch, &got), got, &scratch);
	(void)sticky_expiry(raw);
	(void)app_cookie_seen(&(struct http_header){ SV("Set-Cookie"), raw }, 1, "session");
	check_round_trips(&req, tg, tkey, duration);

	http_request_release(&req);
	buf_release(&cookie);
	buf_release(&scratch);
	return 0;
}
