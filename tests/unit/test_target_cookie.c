/* target_cookie: AWSALB/AWSALBCORS and AWSALBAPP-N stickiness cookies. */
#include "alb/target_cookie.h"

#include <stdlib.h>
#include <string.h>

#include "test.h"

static const struct sticky_key key = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };

/* Tue, 05 Mar 2019 02:53:18 GMT: the date of the observed AWSALB answer (§1.11.2). */
#define NOW 1551754398

/* A request whose Cookie header holds the "name=value" parts of Set-Cookie
 * values (cookies[0..n)), plus extra (may be NULL) and a User-Agent. */
struct req {
	struct http_request r;
	struct buf cookie;
};

static void req_init(struct req *q, const char *ua)
{
	http_request_init(&q->r);
	buf_init(&q->cookie, 0);
	http_request_set_target(&q->r, SV("/"));
	if (ua)
		http_request_add_header(&q->r, SV("User-Agent"), sv_from(ua));
}

static void req_cookie(struct req *q, const char *set_cookie)
{
	if (q->cookie.len)
		buf_puts(&q->cookie, "; ");
	buf_append(&q->cookie, set_cookie, strcspn(set_cookie, ";"));
}

/* Adds the Cookie header: call once, after the req_cookie calls. */
static void req_done(struct req *q)
{
	http_request_add_header(&q->r, SV("Cookie"), (struct sv){ q->cookie.p, q->cookie.len });
}

static void req_release(struct req *q)
{
	http_request_release(&q->r);
	buf_release(&q->cookie);
}

/* ---- AWSALB / AWSALBCORS ------------------------------------------------- */

TEST(lb_cookie_wire_form_is_albs)
{
	struct buf out = BUF_INIT;
	size_t cors_at, vlen;
	const char *plain, *cors;

	lb_cookie_set(&out, &key, SV("web"), SV("127.0.0.1:3001"), NOW, 600, &cors_at);
	plain = out.p;
	cors = out.p + cors_at;
	vlen = strcspn(plain + 7, ";");
	CHECK(strncmp(plain, "AWSALB=", 7) == 0);
	/* Expires is 7 days after the answer whatever the duration (600 s here). */
	CHECK_STR(plain + 7 + vlen, "; Expires=Tue, 12 Mar 2019 02:53:18 GMT; Path=/");
	CHECK(strncmp(cors, "AWSALBCORS=", 11) == 0);
	CHECK(strncmp(cors + 11, plain + 7, vlen) == 0);
	CHECK_STR(cors + 11 + vlen, "; Expires=Tue, 12 Mar 2019 02:53:18 GMT; Path=/; SameSite=None; "
				    "Secure");
	/* The value is cookie-octets only. */
	CHECK(strspn(plain + 7, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") ==
	      vlen);
	buf_release(&out);
}

/* Decodes the Set-Cookie values in out (AWSALB at 0, AWSALBCORS at cors_at), as chosen. */
static enum sticky_status lb_decode(const char *cookie_a, const char *cookie_b, const char *tg,
				    int64_t now, char *tkey, size_t n)
{
	struct req q;
	struct buf scratch = BUF_INIT;
	struct sv v = SV_NULL;
	enum sticky_status st;

	req_init(&q, NULL);
	if (cookie_a)
		req_cookie(&q, cookie_a);
	if (cookie_b)
		req_cookie(&q, cookie_b);
	req_done(&q);
	st = lb_cookie_decode(&q.r, &key, sv_from(tg), now, &scratch, &v);
	snprintf(tkey, n, "%.*s", (int)v.n, v.p ? v.p : "");
	buf_release(&scratch);
	req_release(&q);
	return st;
}

TEST(lb_cookie_round_trips_to_its_target)
{
	struct buf out = BUF_INIT;
	size_t cors_at;
	char tkey[64];

	lb_cookie_set(&out, &key, SV("web"), SV("[::1]:3001"), NOW, 600, &cors_at);
	CHECK_INT(lb_decode(out.p, NULL, "web", NOW + 1, tkey, sizeof(tkey)), STICKY_OK);
	CHECK_STR(tkey, "[::1]:3001");
	CHECK_INT(lb_decode(out.p + cors_at, NULL, "web", NOW + 1, tkey, sizeof(tkey)), STICKY_OK);
	CHECK_STR(tkey, "[::1]:3001");
	buf_release(&out);
}

TEST(lb_cookie_binding_ends_after_the_duration)
{
	struct buf out = BUF_INIT;
	size_t cors_at;
	char tkey[64];

	lb_cookie_set(&out, &key, SV("web"), SV("10.0.0.1:80"), NOW, 600, &cors_at);
	CHECK_INT(lb_decode(out.p, NULL, "web", NOW + 599, tkey, sizeof(tkey)), STICKY_OK);
	CHECK_INT(lb_decode(out.p, NULL, "web", NOW + 600, tkey, sizeof(tkey)), STICKY_EXPIRED);
	buf_release(&out);
}

TEST(lb_cookie_of_another_group_is_ignored)
{
	struct buf out = BUF_INIT;
	size_t cors_at;
	char tkey[64];

	lb_cookie_set(&out, &key, SV("web"), SV("10.0.0.1:80"), NOW, 600, &cors_at);
	CHECK_INT(lb_decode(out.p, NULL, "api", NOW, tkey, sizeof(tkey)), STICKY_NONE);
	CHECK_INT(lb_decode(out.p, NULL, "we", NOW, tkey, sizeof(tkey)), STICKY_NONE);
	CHECK_INT(lb_decode("session=1", NULL, "web", NOW, tkey, sizeof(tkey)), STICKY_NONE);
	buf_release(&out);
}

TEST(lb_cookie_cors_wins_over_the_plain_one)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	size_t cors_a, cors_b;
	char tkey[64];

	lb_cookie_set(&a, &key, SV("web"), SV("10.0.0.1:80"), NOW, 600, &cors_a);
	lb_cookie_set(&b, &key, SV("web"), SV("10.0.0.2:80"), NOW, 600, &cors_b);
	CHECK_INT(lb_decode(b.p + cors_b, a.p, "web", NOW, tkey, sizeof(tkey)), STICKY_OK);
	CHECK_STR(tkey, "10.0.0.2:80");
	CHECK_INT(lb_decode(a.p, b.p + cors_b, "web", NOW, tkey, sizeof(tkey)), STICKY_OK);
	CHECK_STR(tkey, "10.0.0.2:80");
	buf_release(&a);
	buf_release(&b);
}

TEST(lb_cookie_tampered_forged_or_replayed_is_invalid)
{
	struct buf out = BUF_INIT, tg = BUF_INIT;
	struct sticky_key other = { 1, 2 };
	size_t cors_at;
	char tkey[64], cookie[256];

	lb_cookie_set(&out, &key, SV("web"), SV("10.0.0.1:80"), NOW, 600, &cors_at);
	snprintf(cookie, sizeof(cookie), "%s", out.p);
	cookie[12] = cookie[12] == 'A' ? 'B' : 'A';
	CHECK_INT(lb_decode(cookie, NULL, "web", NOW, tkey, sizeof(tkey)), STICKY_INVALID);
	buf_reset(&out);
	lb_cookie_set(&out, &other, SV("web"), SV("10.0.0.1:80"), NOW, 600, &cors_at);
	CHECK_INT(lb_decode(out.p, NULL, "web", NOW, tkey, sizeof(tkey)), STICKY_INVALID);
	/* An AWSALBTG value (another kind of sealed record) is not an AWSALB one. */
	sticky_encode(&tg, &key, SV("web"), NOW + 600);
	snprintf(cookie, sizeof(cookie), "AWSALB=%s", buf_cstr(&tg));
	CHECK_INT(lb_decode(cookie, NULL, "web", NOW, tkey, sizeof(tkey)), STICKY_INVALID);
	/* Why: ALB does not support URL-encoded values (§1.11.1). */
	CHECK_INT(lb_decode("AWSALB=d2Vi%3D", NULL, "web", NOW, tkey, sizeof(tkey)), STICKY_INVALID);
	buf_release(&out);
	buf_release(&tg);
}

/* ---- AWSALBAPP-N --------------------------------------------------------- */

struct app_set {
	struct buf out;
	size_t off[APP_COOKIE_SHARDS], n;
};

/* app_cookie_set for the cookies of prev (NULL: none), with user agent ua. */
static void app_set(struct app_set *s, const struct app_set *prev, const char *ua,
		    const char *tg, const char *tkey, int64_t now, int duration)
{
	struct req q;

	req_init(&q, ua);
	for (size_t i = 0; prev && i < prev->n; i++)
		req_cookie(&q, prev->out.p + prev->off[i]);
	req_done(&q);
	buf_init(&s->out, 0);
	app_cookie_set(&s->out, &key, &q.r, sv_from(tg), sv_from(tkey), now, duration, s->off,
		       &s->n);
	req_release(&q);
}

static enum sticky_status app_decode(const struct app_set *s, const char *tg, int64_t now,
				     char *tkey, size_t n)
{
	struct req q;
	struct buf scratch = BUF_INIT;
	struct sv v = SV_NULL;
	enum sticky_status st;

	req_init(&q, NULL);
	for (size_t i = 0; i < s->n; i++)
		req_cookie(&q, s->out.p + s->off[i]);
	req_done(&q);
	st = app_cookie_decode(&q.r, &key, sv_from(tg), now, &scratch, &v);
	snprintf(tkey, n, "%.*s", (int)v.n, v.p ? v.p : "");
	buf_release(&scratch);
	req_release(&q);
	return st;
}

/* The length of shard i's value, or -1 for "_remove_". */
static long shard_len(const struct app_set *s, size_t i)
{
	const char *c = s->out.p + s->off[i], *v = strchr(c, '=') + 1;
	size_t len = strcspn(v, ";");

	return len == 8 && strncmp(v, "_remove_", 8) == 0 ? -1 : (long)len;
}

TEST(app_cookie_wire_form_uses_shard_zero_and_removes_the_rest)
{
	struct app_set s;
	const char *c;

	app_set(&s, NULL, NULL, "web", "127.0.0.1:3001", NOW, 86400);
	CHECK_INT(s.n, 4);
	c = s.out.p + s.off[0];
	CHECK(strncmp(c, "AWSALBAPP-0=", 12) == 0);
	CHECK_STR(c + 12 + shard_len(&s, 0), "; Expires=Tue, 12 Mar 2019 02:53:18 GMT; Path=/");
	CHECK_STR(s.out.p + s.off[1], "AWSALBAPP-1=_remove_; Expires=Tue, 12 Mar 2019 02:53:18 GMT; "
				      "Path=/");
	CHECK_STR(s.out.p + s.off[2], "AWSALBAPP-2=_remove_; Expires=Tue, 12 Mar 2019 02:53:18 GMT; "
				      "Path=/");
	CHECK_STR(s.out.p + s.off[3], "AWSALBAPP-3=_remove_; Expires=Tue, 12 Mar 2019 02:53:18 GMT; "
				      "Path=/");
	buf_release(&s.out);
}

TEST(app_cookie_adds_samesite_only_for_chromium_80_and_later)
{
	static const struct {
		const char *ua;
		bool samesite;
	} cases[] = {
		{ "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
		  "Chrome/120.0.0.0 Safari/537.36", true },
		{ "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/80.0.3987.87 Safari/537.36",
		  true },
		{ "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/79.0.3945.130 "
		  "Safari/537.36", false },
		{ "Mozilla/5.0 (X11; Linux x86_64) Chromium/91.0.4472.101 Chrome/91.0.4472.101", true },
		{ "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", false },
		{ "curl/8.4.0", false },
		{ NULL, false },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct app_set s;

		app_set(&s, NULL, cases[i].ua, "web", "127.0.0.1:3001", NOW, 60);
		for (size_t k = 0; k < s.n; k++) {
			const char *c = s.out.p + s.off[k];
			size_t len = strlen(c);

			if (cases[i].samesite)
				CHECK(len > 23 && strcmp(c + len - 23, "; SameSite=None; Secure") == 0);
			else
				CHECK(strstr(c, "SameSite") == NULL && strstr(c, "Secure") == NULL);
		}
		buf_release(&s.out);
	}
}

TEST(app_cookie_round_trips_and_ends_after_the_duration)
{
	struct app_set s;
	char tkey[64];

	app_set(&s, NULL, NULL, "web", "my-box:8080", NOW, 60);
	CHECK_INT(app_decode(&s, "web", NOW + 59, tkey, sizeof(tkey)), STICKY_OK);
	CHECK_STR(tkey, "my-box:8080");
	CHECK_INT(app_decode(&s, "web", NOW + 60, tkey, sizeof(tkey)), STICKY_EXPIRED);
	CHECK_INT(app_decode(&s, "api", NOW, tkey, sizeof(tkey)), STICKY_NONE);
	buf_release(&s.out);
}

TEST(app_cookie_keeps_other_groups_bindings)
{
	struct app_set a, b, c;
	char tkey[64];

	app_set(&a, NULL, NULL, "web", "10.0.0.1:80", NOW, 100);
	app_set(&b, &a, NULL, "api", "10.0.0.9:81", NOW + 10, 100);
	CHECK_INT(app_decode(&b, "web", NOW + 20, tkey, sizeof(tkey)), STICKY_OK);
	CHECK_STR(tkey, "10.0.0.1:80");
	CHECK_INT(app_decode(&b, "api", NOW + 20, tkey, sizeof(tkey)), STICKY_OK);
	CHECK_STR(tkey, "10.0.0.9:81");
	/* A new binding for web replaces its old one; api's stays. */
	app_set(&c, &b, NULL, "web", "10.0.0.2:80", NOW + 20, 100);
	CHECK_INT(app_decode(&c, "web", NOW + 30, tkey, sizeof(tkey)), STICKY_OK);
	CHECK_STR(tkey, "10.0.0.2:80");
	CHECK_INT(app_decode(&c, "api", NOW + 30, tkey, sizeof(tkey)), STICKY_OK);
	buf_release(&a.out);
	buf_release(&b.out);
	buf_release(&c.out);
}

TEST(app_cookie_drops_bindings_that_have_ended)
{
	struct app_set a, b;
	char tkey[64];

	app_set(&a, NULL, NULL, "web", "10.0.0.1:80", NOW, 10);
	app_set(&b, &a, NULL, "api", "10.0.0.9:81", NOW + 10, 100);
	CHECK_INT(app_decode(&b, "web", NOW + 10, tkey, sizeof(tkey)), STICKY_NONE);
	CHECK_INT(app_decode(&b, "api", NOW + 10, tkey, sizeof(tkey)), STICKY_OK);
	buf_release(&a.out);
	buf_release(&b.out);
}

TEST(app_cookie_tampered_or_missing_shard_zero)
{
	struct app_set s;
	struct req q;
	struct buf scratch = BUF_INIT;
	struct sv v;
	char cookie[512];

	app_set(&s, NULL, NULL, "web", "10.0.0.1:80", NOW, 100);
	snprintf(cookie, sizeof(cookie), "%s", s.out.p + s.off[0]);
	cookie[14] = cookie[14] == 'A' ? 'B' : 'A';
	req_init(&q, NULL);
	req_cookie(&q, cookie);
	req_done(&q);
	CHECK_INT(app_cookie_decode(&q.r, &key, SV("web"), NOW, &scratch, &v), STICKY_INVALID);
	req_release(&q);
	/* Only the unused shards: no application cookie. */
	req_init(&q, NULL);
	req_cookie(&q, s.out.p + s.off[1]);
	req_cookie(&q, s.out.p + s.off[2]);
	req_done(&q);
	CHECK_INT(app_cookie_decode(&q.r, &key, SV("web"), NOW, &scratch, &v), STICKY_NONE);
	req_release(&q);
	/* An lb_cookie value is not an application cookie. */
	{
		struct buf lb = BUF_INIT;
		size_t cors_at;

		lb_cookie_set(&lb, &key, SV("web"), SV("10.0.0.1:80"), NOW, 100, &cors_at);
		snprintf(cookie, sizeof(cookie), "AWSALBAPP-0=%s", lb.p + 7);
		req_init(&q, NULL);
		req_cookie(&q, cookie);
		req_done(&q);
		CHECK_INT(app_cookie_decode(&q.r, &key, SV("web"), NOW, &scratch, &v),
			  STICKY_INVALID);
		req_release(&q);
		buf_release(&lb);
	}
	buf_release(&scratch);
	buf_release(&s.out);
}

/* A 240-character target key unique to i. */
static void long_key(char out[256], int i)
{
	memset(out, 'h', 240);
	snprintf(out + 230, 26, "-%04d:8080", i);
}

TEST(app_cookie_shards_at_4_kb_and_stops_at_four)
{
	struct app_set s, next;
	char tkey[256], group[16], got[256];
	bool seen_two = false, seen_four = false;

	/* "AWSALBAPP-N=" and a shard's value fill a browser's 4096-byte cookie. */
	CHECK_INT(APP_COOKIE_SHARD_MAX, 4084);
	app_set(&s, NULL, NULL, "g0", "x:1", NOW, 1000);
	for (int i = 1; i < 100; i++) {
		long total = 0, used = 0;

		snprintf(group, sizeof(group), "g%d", i);
		long_key(tkey, i);
		app_set(&next, &s, NULL, group, tkey, NOW, 1000);
		buf_release(&s.out);
		s = next;
		for (size_t k = 0; k < APP_COOKIE_SHARDS; k++) {
			long len = shard_len(&s, k);

			if (len < 0)
				continue;
			CHECK_INT(k, used);  /* used shards come first */
			used++;
			total += len;
			CHECK(len <= (long)APP_COOKIE_SHARD_MAX);
		}
		/* Every shard but the last is full: 0-4084 bytes in one, then two... */
		CHECK_INT(used, (total + (long)APP_COOKIE_SHARD_MAX - 1) / (long)APP_COOKIE_SHARD_MAX);
		seen_two |= used == 2;
		seen_four |= used == 4;
		CHECK_INT(app_decode(&s, group, NOW, got, sizeof(got)), STICKY_OK);
		CHECK_STR(got, tkey);
	}
	CHECK(seen_two);
	CHECK(seen_four);
	/* At 16 KB the oldest bindings were dropped: g0 is gone, g98 kept. */
	CHECK_INT(app_decode(&s, "g0", NOW, got, sizeof(got)), STICKY_NONE);
	CHECK_INT(app_decode(&s, "g98", NOW, got, sizeof(got)), STICKY_OK);
	buf_release(&s.out);
}

TEST(app_cookie_seen_matches_the_cookie_name_only)
{
	static const struct http_header h[] = {
		{ SV("Content-Type"), SV("text/html") },
		{ SV("set-cookie"), SV("theme=dark; Path=/") },
		{ SV("Set-Cookie"), SV("SESSION=abc123; Path=/; HttpOnly") },
	};
	static const struct http_header lower[] = { { SV("Set-Cookie"), SV("session=abc") } };
	static const struct http_header prefix[] = { { SV("Set-Cookie"), SV("SESSIONID=1") } };
	static const struct http_header spaced[] = { { SV("Set-Cookie"), SV(" SESSION =x") } };
	static const struct http_header bare[] = { { SV("Set-Cookie"), SV("SESSION") } };
	static const struct http_header req[] = { { SV("Cookie"), SV("SESSION=1") } };

	CHECK(app_cookie_seen(h, 3, "SESSION"));
	CHECK(app_cookie_seen(h, 3, "theme"));
	CHECK(!app_cookie_seen(h, 2, "SESSION"));
	CHECK(!app_cookie_seen(lower, 1, "SESSION"));
	CHECK(!app_cookie_seen(prefix, 1, "SESSION"));
	CHECK(app_cookie_seen(spaced, 1, "SESSION"));
	CHECK(!app_cookie_seen(bare, 1, "SESSION"));
	CHECK(!app_cookie_seen(req, 1, "SESSION"));
}

int main(void)
{
	RUN(lb_cookie_wire_form_is_albs);
	RUN(lb_cookie_round_trips_to_its_target);
	RUN(lb_cookie_binding_ends_after_the_duration);
	RUN(lb_cookie_of_another_group_is_ignored);
	RUN(lb_cookie_cors_wins_over_the_plain_one);
	RUN(lb_cookie_tampered_forged_or_replayed_is_invalid);
	RUN(app_cookie_wire_form_uses_shard_zero_and_removes_the_rest);
	RUN(app_cookie_adds_samesite_only_for_chromium_80_and_later);
	RUN(app_cookie_round_trips_and_ends_after_the_duration);
	RUN(app_cookie_keeps_other_groups_bindings);
	RUN(app_cookie_drops_bindings_that_have_ended);
	RUN(app_cookie_tampered_or_missing_shard_zero);
	RUN(app_cookie_shards_at_4_kb_and_stops_at_four);
	RUN(app_cookie_seen_matches_the_cookie_name_only);
	return test_done();
}
