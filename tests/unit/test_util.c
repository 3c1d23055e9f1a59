/*
 * util: URL splitting (the IdP and JWKS endpoints lb fetches) and random
 * version-4 UUIDs (request ids, extension ids), decimals.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "test.h"

TEST(url_split_takes_scheme_host_port_and_path)
{
	struct url_parts u;

	CHECK_INT(url_split("https://idp.example.com/oauth2/token?a=1", &u), 0);
	CHECK_INT(u.https, 1);
	CHECK_STR(u.host, "idp.example.com");
	CHECK_INT(u.port, 443);
	CHECK_STR(u.path, "/oauth2/token?a=1");
	CHECK_MEM(u.authority.p, u.authority.n, "idp.example.com");

	CHECK_INT(url_split("http://127.0.0.1:8081/jwks", &u), 0);
	CHECK_INT(u.https, 0);
	CHECK_STR(u.host, "127.0.0.1");
	CHECK_INT(u.port, 8081);
	CHECK_STR(u.path, "/jwks");
	CHECK_MEM(u.authority.p, u.authority.n, "127.0.0.1:8081");

	CHECK_INT(url_split("http://[::1]:9/x", &u), 0);
	CHECK_STR(u.host, "::1");
	CHECK_INT(u.port, 9);
	CHECK_MEM(u.authority.p, u.authority.n, "[::1]:9");

	CHECK_INT(url_split("http://host", &u), 0);
	CHECK_STR(u.path, "/");
	CHECK_INT(u.port, 80);
}

TEST(url_split_refuses_empty_hosts_and_bad_ports)
{
	struct url_parts u;

	CHECK_INT(url_split("https:///path", &u), -1);
	CHECK_INT(url_split("http://host:0/", &u), -1);
	CHECK_INT(url_split("http://host:65536/", &u), -1);
	CHECK_INT(url_split("http://[::1/", &u), -1);
}

TEST(uuids_are_version_4_variant_1)
{
	struct rng r;
	char a[37], b[37];

	rng_seed_fixed(&r, 7);
	rng_uuid(&r, a);
	rng_uuid(&r, b);
	CHECK_INT((int)strlen(a), 36);
	CHECK_INT(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-', 1);
	CHECK_INT(a[14], '4');
	CHECK_INT(strchr("89ab", a[19]) != NULL, 1);
	CHECK_INT(strcmp(a, b) != 0, 1);
	for (int i = 0; i < 36; i++)
		CHECK_INT(i == 8 || i == 13 || i == 18 || i == 23 || strchr("0123456789abcdef", a[i]) != NULL, 1);
}

TEST(uuids_spell_the_generators_bytes_in_order)
{
	struct rng r;
	uint8_t bytes[16];
	char hex[33], want[37], got[37];

	rng_seed_fixed(&r, 11);
	rng_bytes(&r, bytes, sizeof(bytes));
	bytes[6] = (uint8_t)((bytes[6] & 0x0f) | 0x40);
	bytes[8] = (uint8_t)((bytes[8] & 0x3f) | 0x80);
	hex_encode(bytes, sizeof(bytes), hex);
	snprintf(want, sizeof(want), "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
	rng_seed_fixed(&r, 11);
	rng_uuid(&r, got);
	CHECK_STR(got, want);
}

TEST(tokens_are_rfc_9110_tchars)
{
	CHECK(sv_is_token(SV("GET")));
	CHECK(sv_is_token(SV("M-SEARCH")));
	CHECK(sv_is_token(SV("x!#$%&'*+-.^_`|~9")));
	CHECK(!sv_is_token(SV("")));
	CHECK(!sv_is_token(SV("G E T")));
	CHECK(!sv_is_token(SV("a:b")));
	CHECK(!sv_is_token((struct sv){ "a\0b", 3 }));
	CHECK(!sv_is_token(SV("caf\xc3\xa9")));
}

TEST(str_copy_cuts_to_fit_and_str_join_concatenates)
{
	char out[8];
	char *j;

	CHECK_INT(str_copy(out, sizeof(out), "abc"), 3);
	CHECK_STR(out, "abc");
	CHECK_INT(str_copy(out, sizeof(out), "abcdefghij"), 7);
	CHECK_STR(out, "abcdefg");
	CHECK_INT(str_copy(out, 1, "abc"), 0);
	CHECK_STR(out, "");
	j = str_join("arn:aws:lambda:", "eu-west-1", "", ":fn", NULL);
	CHECK_STR(j, "arn:aws:lambda:eu-west-1:fn");
	free(j);
}

TEST(decimals_as_lambdas_report_writes_them)
{
	char d[24];

	CHECK_INT(dec_u64(0, d), 1);
	CHECK_STR(d, "0");
	dec_u64(18446744073709551615u, d);
	CHECK_STR(d, "18446744073709551615");
	/* REPORT's Duration: milliseconds with two decimals. */
	CHECK_INT(dec_ms2(0, d), 4);
	CHECK_STR(d, "0.00");
	dec_ms2(4, d);
	CHECK_STR(d, "0.00");
	dec_ms2(5, d);
	CHECK_STR(d, "0.01");
	dec_ms2(1234567, d);
	CHECK_STR(d, "1234.57");
	dec_ms2(999995, d);
	CHECK_STR(d, "1000.00");
	dec_ms2(-3, d);
	CHECK_STR(d, "0.00");
}

TEST(sv_next_line_splits_at_lf_and_crlf)
{
	struct sv text = SV("a: 1\r\nb: 2\nlast"), line;
	size_t i = 0;

	CHECK_INT(sv_next_line(text, &i, &line), 1);
	CHECK_MEM(line.p, line.n, "a: 1");
	CHECK_INT(sv_next_line(text, &i, &line), 1);
	CHECK_MEM(line.p, line.n, "b: 2");
	CHECK_INT(sv_next_line(text, &i, &line), 1);
	CHECK_MEM(line.p, line.n, "last");
	CHECK_INT(sv_next_line(text, &i, &line), 0);
	/* An empty line is a line; a final "\n" ends the text. */
	text = SV("\r\nx\n");
	i = 0;
	CHECK_INT(sv_next_line(text, &i, &line), 1);
	CHECK_INT((int)line.n, 0);
	CHECK_INT(sv_next_line(text, &i, &line), 1);
	CHECK_MEM(line.p, line.n, "x");
	CHECK_INT(sv_next_line(text, &i, &line), 0);
}

int main(void)
{
	RUN(url_split_takes_scheme_host_port_and_path);
	RUN(url_split_refuses_empty_hosts_and_bad_ports);
	RUN(uuids_are_version_4_variant_1);
	RUN(uuids_spell_the_generators_bytes_in_order);
	RUN(tokens_are_rfc_9110_tchars);
	RUN(str_copy_cuts_to_fit_and_str_join_concatenates);
	RUN(decimals_as_lambdas_report_writes_them);
	RUN(sv_next_line_splits_at_lf_and_crlf);
	return test_done();
}
