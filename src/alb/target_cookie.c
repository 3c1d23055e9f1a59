/*
 * target_cookie: AWSALB/AWSALBCORS and AWSALBAPP-N values as sealed records
 * (sticky.c): kind 'L' holds {group, target key, binding end}; kind 'A'
 * holds such triples for every app_cookie group the client was bound in,
 * oldest first. Expiries are decimal epoch seconds.
 */
#include "alb/target_cookie.h"

#include <stdio.h>
#include <string.h>

/* Why: ALB's stickiness cookies expire 7 days after they are set, whatever
 * the stickiness duration (§1.11.2, §1.11.3). */
#define COOKIE_LIFETIME (7 * 24 * 3600)
/* One binding per target group at most: 100 groups per load balancer. */
#define APP_BINDINGS_MAX 100
#define UNUSED_SHARD "_remove_"

static struct sv expiry_text(char buf[24], int64_t t)
{
	return (struct sv){ buf, (size_t)snprintf(buf, 24, "%lld", (long long)t) };
}

void lb_cookie_set(struct buf *out, const struct sticky_key *key, struct sv tg, struct sv tkey,
		   int64_t now, int duration, size_t *cors_at)
{
	char exp[24], date[30];
	struct sv fields[3] = { tg, tkey, expiry_text(exp, now + duration) };
	struct buf value = BUF_INIT;

	sticky_seal(&value, key, 'L', fields, 3);
	time_http_date(now + COOKIE_LIFETIME, date);
	/* Why: AWSALB=<value>; Expires=<+7 days>; Path=/ with no Secure,
	 * HttpOnly or Domain, and AWSALBCORS with the same value plus
	 * SameSite=None; Secure, sent to every client (§1.11.2). */
	buf_printf(out, "AWSALB=%s; Expires=%s; Path=/", buf_cstr(&value), date);
	buf_putc(out, '\0');
	*cors_at = out->len;
	buf_printf(out, "AWSALBCORS=%s; Expires=%s; Path=/; SameSite=None; Secure", buf_cstr(&value),
		   date);
	buf_putc(out, '\0');
	buf_release(&value);
}

enum sticky_status lb_cookie_decode(const struct http_request *req, const struct sticky_key *key,
				    struct sv tg, int64_t now, struct buf *scratch,
				    struct sv *tkey)
{
	/* Why: when a request carries both, AWSALBCORS takes precedence (§1.11.2). */
	struct sv v = sticky_cookie(req, "AWSALBCORS"), fields[3];
	int64_t expires;
	size_t n;

	if (!v.p)
		v = sticky_cookie(req, "AWSALB");
	if (!v.p)
		return STICKY_NONE;
	if (sticky_open(key, v, 'L', scratch, fields, 3, &n) < 0 || n != 3 ||
	    (expires = sticky_expiry(fields[2])) < 0)
		return STICKY_INVALID;
	if (!sv_eq(fields[0], tg))
		return STICKY_NONE;
	if (expires <= now)
		return STICKY_EXPIRED;
	*tkey = fields[1];
	return STICKY_OK;
}

/* The AWSALBAPP-0.. values joined, up to the first absent or unused shard. */
static void app_cookie_join(const struct http_request *req, struct buf *out)
{
	for (int i = 0; i < APP_COOKIE_SHARDS; i++) {
		char name[] = "AWSALBAPP-0";
		struct sv v;

		name[sizeof(name) - 2] = (char)('0' + i);
		v = sticky_cookie(req, name);
		if (!v.p || sv_eq_cstr(v, UNUSED_SHARD))
			break;
		buf_append(out, v.p, v.n);
	}
}

/* The bindings (triples) of req's application cookie: 0, or -1 when there is
 * one but it is not ours or malformed. */
static int app_bindings(const struct http_request *req, const struct sticky_key *key,
			struct buf *joined, struct buf *scratch, struct sv *fields, size_t *n)
{
	*n = 0;
	buf_reset(joined);
	app_cookie_join(req, joined);
	if (joined->len == 0)
		return 0;
	if (sticky_open(key, (struct sv){ joined->p, joined->len }, 'A', scratch, fields,
			3 * APP_BINDINGS_MAX, n) < 0 ||
	    *n % 3 != 0)
		return -1;
	for (size_t i = 2; i < *n; i += 3) {
		if (sticky_expiry(fields[i]) < 0)
			return -1;
	}
	return 0;
}

enum sticky_status app_cookie_decode(const struct http_request *req, const struct sticky_key *key,
				     struct sv tg, int64_t now, struct buf *scratch,
				     struct sv *tkey)
{
	struct sv fields[3 * APP_BINDINGS_MAX];
	struct buf joined = BUF_INIT;
	enum sticky_status st = STICKY_NONE;
	size_t n;

	if (app_bindings(req, key, &joined, scratch, fields, &n) < 0) {
		st = STICKY_INVALID;
		goto out;
	}
	for (size_t i = 0; i < n; i += 3) {
		if (!sv_eq(fields[i], tg))
			continue;
		/* Why: ALB checks that the stickiness duration has not elapsed (§1.11.3). */
		if (sticky_expiry(fields[i + 2]) <= now) {
			st = STICKY_EXPIRED;
			goto out;
		}
		*tkey = fields[i + 1];
		st = STICKY_OK;
		goto out;
	}
out:
	buf_release(&joined);
	return st;
}

/* Why: ALB adds SameSite=None; Secure to its application cookie only for
 * Chromium 80 or later (§1.11.3); Chromium-based browsers say "Chrome/N". */
static bool chromium_80(const struct http_request *req)
{
	const struct http_header *ua = http_request_header(req, "user-agent");
	static const char *const marks[] = { "Chrome/", "Chromium/" };

	for (size_t m = 0; ua && m < ARRAY_LEN(marks); m++) {
		size_t ml = strlen(marks[m]);

		for (size_t i = 0; i + ml < ua->value.n; i++) {
			unsigned major = 0;

			if (memcmp(ua->value.p + i, marks[m], ml) != 0)
				continue;
			for (size_t j = i + ml; j < ua->value.n && j < i + ml + 4 &&
						ua->value.p[j] >= '0' && ua->value.p[j] <= '9'; j++)
				major = major * 10 + (unsigned)(ua->value.p[j] - '0');
			return major >= 80;
		}
	}
	return false;
}

/* Seals bindings from index first on, oldest first, then the new one. */
static void app_seal(struct buf *out, const struct sticky_key *key, const struct sv *kept,
		     size_t nkept, size_t first, const struct sv *fresh)
{
	struct sv fields[3 * (APP_BINDINGS_MAX + 1)];
	size_t n = 0;

	for (size_t i = first * 3; i < nkept; i++)
		fields[n++] = kept[i];
	memcpy(fields + n, fresh, 3 * sizeof(*fresh));
	buf_reset(out);
	sticky_seal(out, key, 'A', fields, n + 3);
}

void app_cookie_set(struct buf *out, const struct sticky_key *key, const struct http_request *req,
		    struct sv tg, struct sv tkey, int64_t now, int duration,
		    size_t offsets[APP_COOKIE_SHARDS], size_t *n)
{
	struct sv found[3 * APP_BINDINGS_MAX], kept[3 * APP_BINDINGS_MAX];
	struct buf joined = BUF_INIT, scratch = BUF_INIT, value = BUF_INIT;
	char exp[24], date[30];
	struct sv fresh[3] = { tg, tkey, expiry_text(exp, now + duration) };
	const char *attrs = chromium_80(req) ? "; SameSite=None; Secure" : "";
	size_t nfound = 0, nkept = 0, first = 0, at = 0;

	/* Other groups' bindings that have not ended; an undecodable cookie is replaced. */
	if (app_bindings(req, key, &joined, &scratch, found, &nfound) < 0)
		nfound = 0;
	for (size_t i = 0; i < nfound; i += 3) {
		if (sv_eq(found[i], tg) || sticky_expiry(found[i + 2]) <= now ||
		    nkept == 3 * (APP_BINDINGS_MAX - 1))
			continue;
		memcpy(kept + nkept, found + i, 3 * sizeof(*found));
		nkept += 3;
	}
	/* Why: ALB's application cookie is at most 4 shards (16 KB, §1.11.3). */
	do
		app_seal(&value, key, kept, nkept, first++, fresh);
	while (value.len > APP_COOKIE_SHARDS * APP_COOKIE_SHARD_MAX && first * 3 <= nkept);
	time_http_date(now + COOKIE_LIFETIME, date);
	for (int i = 0; i < APP_COOKIE_SHARDS; i++) {
		size_t len = value.len - at < APP_COOKIE_SHARD_MAX ? value.len - at
								    : APP_COOKIE_SHARD_MAX;

		offsets[i] = out->len;
		/* lb's choice where AWS is silent (§4.1 #11): shards not needed
		 * are set to "_remove_", the value clients are seen sending. */
		if (len)
			buf_printf(out, "AWSALBAPP-%d=%.*s; Expires=%s; Path=/%s", i, (int)len,
				   value.p + at, date, attrs);
		else
			buf_printf(out, "AWSALBAPP-%d=" UNUSED_SHARD "; Expires=%s; Path=/%s", i,
				   date, attrs);
		buf_putc(out, '\0');
		at += len;
	}
	*n = APP_COOKIE_SHARDS;
	buf_release(&joined);
	buf_release(&scratch);
	buf_release(&value);
}

bool app_cookie_seen(const struct http_header *h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		struct sv cookie_name;

		if (!sv_eq_cstr_nocase(h[i].name, "set-cookie"))
			continue;
		/* Why: ALB checks only the cookie's name, not its value or
		 * attributes (§1.11.3); cookie names are case-sensitive, and a
		 * Set-Cookie without '=' sets nothing (RFC 6265 §5.2). */
		if (sv_cut(sv_trim(h[i].value), '=', &cookie_name).p &&
		    sv_eq_cstr(sv_trim(cookie_name), name))
			return true;
	}
	return false;
}
