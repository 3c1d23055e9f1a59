/* sticky: AWSALBTG cookie values (signed with SipHash-2-4) and their reading. */
#include "alb/sticky.h"

#include <string.h>

#include "test.h"

static const struct sticky_key key = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };

/* The reference vectors of the SipHash paper (key 00..0f, message 00..len-1). */
TEST(siphash24_matches_the_reference_vectors)
{
	uint8_t msg[15];

	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	CHECK(siphash24(&key, msg, 0) == 0x726fdb47dd0e0e31ULL);
	CHECK(siphash24(&key, msg, 1) == 0x74f839c593dc67fdULL);
	CHECK(siphash24(&key, msg, 8) == 0x93f5f5799a932462ULL);
	CHECK(siphash24(&key, msg, 15) == 0xa129ca6149be45e5ULL);
}

static void request_with_cookie(struct http_request *req, const char *cookie)
{
	http_request_init(req);
	http_request_set_target(req, SV("/"));
	http_request_add_header(req, SV("Cookie"), sv_from(cookie));
}

static enum sticky_status decode(const char *cookie, int64_t now, char *name, size_t n)
{
	struct http_request req;
	struct buf scratch = BUF_INIT;
	struct sv v = SV_NULL;
	enum sticky_status st;

	request_with_cookie(&req, cookie);
	st = sticky_decode(&req, &key, now, &scratch, &v);
	snprintf(name, n, "%.*s", (int)v.n, v.p ? v.p : "");
	buf_release(&scratch);
	http_request_release(&req);
	return st;
}

/* "AWSALBTG=<value>" for group name expiring at expires. */
static void cookie_for(char *out, size_t n, const char *cookie_name, const char *group, int64_t expires)
{
	struct buf b = BUF_INIT;

	sticky_encode(&b, &key, sv_from(group), expires);
	snprintf(out, n, "%s=%s", cookie_name, buf_cstr(&b));
	buf_release(&b);
}

TEST(cookie_round_trips_to_its_group)
{
	char cookie[256], name[64];

	cookie_for(cookie, sizeof(cookie), "AWSALBTG", "blue", 2000);
	CHECK_INT(decode(cookie, 1000, name, sizeof(name)), STICKY_OK);
	CHECK_STR(name, "blue");
}

TEST(cookie_among_others_is_found)
{
	char cookie[256], line[400], name[64];

	cookie_for(cookie, sizeof(cookie), "AWSALBTG", "green", 2000);
	snprintf(line, sizeof(line), "session=abc; %s; theme=dark", cookie);
	CHECK_INT(decode(line, 1000, name, sizeof(name)), STICKY_OK);
	CHECK_STR(name, "green");
}

TEST(expired_cookie_is_not_honoured)
{
	char cookie[256], name[64];

	cookie_for(cookie, sizeof(cookie), "AWSALBTG", "blue", 2000);
	CHECK_INT(decode(cookie, 2000, name, sizeof(name)), STICKY_EXPIRED);
}

TEST(tampered_cookie_is_invalid)
{
	char cookie[256], name[64];

	cookie_for(cookie, sizeof(cookie), "AWSALBTG", "blue", 2000);
	cookie[9] = cookie[9] == 'A' ? 'B' : 'A';   /* first byte of the value */
	CHECK_INT(decode(cookie, 1000, name, sizeof(name)), STICKY_INVALID);
	/* ALB refuses URL-encoded values too (§2.2). */
	CHECK_INT(decode("AWSALBTG=Ymx1ZQ%3D%3D", 1000, name, sizeof(name)), STICKY_INVALID);
}

TEST(cookie_signed_with_another_key_is_invalid)
{
	struct sticky_key other = { 1, 2 };
	struct buf b = BUF_INIT;
	char cookie[256], name[64];

	sticky_encode(&b, &other, SV("blue"), 2000);
	snprintf(cookie, sizeof(cookie), "AWSALBTG=%s", buf_cstr(&b));
	buf_release(&b);
	CHECK_INT(decode(cookie, 1000, name, sizeof(name)), STICKY_INVALID);
}

TEST(no_cookie_is_none)
{
	char name[64];

	CHECK_INT(decode("session=abc", 1000, name, sizeof(name)), STICKY_NONE);
}

TEST(cors_cookie_wins_over_the_plain_one)
{
	char a[256], b[256], line[600], name[64];

	cookie_for(a, sizeof(a), "AWSALBTG", "blue", 2000);
	cookie_for(b, sizeof(b), "AWSALBTGCORS", "green", 2000);
	snprintf(line, sizeof(line), "%s; %s", a, b);
	CHECK_INT(decode(line, 1000, name, sizeof(name)), STICKY_OK);
	CHECK_STR(name, "green");
}

TEST(set_cookies_carry_expiry_path_and_cors_attributes)
{
	struct buf out = BUF_INIT;
	size_t cors_at;
	const char *plain, *cors;

	sticky_set_cookies(&out, &key, SV("blue"), 1617742651, 3600, &cors_at);
	plain = out.p;
	cors = out.p + cors_at;
	CHECK(strncmp(plain, "AWSALBTG=", 9) == 0);
	CHECK(strstr(plain, "; Expires=Tue, 06 Apr 2021 21:57:31 GMT; Path=/") != NULL);
	CHECK(strstr(plain, "Secure") == NULL);
	CHECK(strncmp(cors, "AWSALBTGCORS=", 13) == 0);
	CHECK(strstr(cors, "; Expires=Tue, 06 Apr 2021 21:57:31 GMT; Path=/; SameSite=None; Secure") != NULL);
	/* Both carry the same value. */
	CHECK(strncmp(plain + 9, cors + 13, strcspn(plain + 9, ";")) == 0);
	buf_release(&out);
}

int main(void)
{
	RUN(siphash24_matches_the_reference_vectors);
	RUN(cookie_round_trips_to_its_group);
	RUN(cookie_among_others_is_found);
	RUN(expired_cookie_is_not_honoured);
	RUN(tampered_cookie_is_invalid);
	RUN(cookie_signed_with_another_key_is_invalid);
	RUN(no_cookie_is_none);
	RUN(cors_cookie_wins_over_the_plain_one);
	RUN(set_cookies_carry_expiry_path_and_cors_attributes);
	return test_done();
}
