/*
 * Unit tests for mtls_headers: the PEM encoding and validity format of
 * AWS's mTLS headers (alb-http-targets-and-tls.md §2.6.2), and the TLS
 * headers added toward targets under the listener's names, client copies
 * dropped (§2.6.2, §2.7).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "alb/mtls_headers.h"
#include "test.h"

static const struct lb_attributes no_tls_headers = { .idle_timeout = 60 };
static const struct lb_attributes tls_headers = { .idle_timeout = 60, .tls_headers = true };

static struct listener_attrs aws_names(void)
{
	struct listener_attrs a = {
		.mtls_names = { "X-Amzn-Mtls-Clientcert", "X-Amzn-Mtls-Clientcert-Serial-Number",
				"X-Amzn-Mtls-Clientcert-Issuer", "X-Amzn-Mtls-Clientcert-Subject",
				"X-Amzn-Mtls-Clientcert-Validity", "X-Amzn-Mtls-Clientcert-Leaf" },
		.tls_version_name = "x-amzn-tls-version",
		.tls_cipher_name = "x-amzn-tls-cipher-suite",
		.server_enabled = true,
	};
	return a;
}

/* The list after fwd_headers_build-like input hdrs ("Name", "value", ..., NULL) and apply. */
static void apply(const struct http_request *req, const char *const *hdrs,
		  const struct lb_attributes *lba, const struct listener_attrs *la, struct buf *out)
{
	struct header_list l;

	header_list_init(&l);
	for (size_t i = 0; hdrs[i]; i += 2)
		header_list_add(&l, sv_from(hdrs[i]), sv_from(hdrs[i + 1]));
	mtls_headers_apply(&l, req, lba, la);
	buf_reset(out);
	for (size_t i = 0; i < l.n; i++)
		buf_printf(out, "%.*s: %.*s\n", SV_ARG(l.v[i].name), SV_ARG(l.v[i].value));
	header_list_release(&l);
}

TEST(pem_is_percent_encoded_with_plus_equals_slash_kept)
{
	struct buf b = BUF_INIT;
	const char *pem = "-----BEGIN CERTIFICATE-----\nMIID+a/b==\n-----END CERTIFICATE-----\n";

	mtls_url_encode(&b, pem, strlen(pem));
	CHECK_STR(buf_cstr(&b), "-----BEGIN%20CERTIFICATE-----%0AMIID+a/b==%0A"
		  "-----END%20CERTIFICATE-----%0A");
	buf_release(&b);
}

TEST(validity_is_awss_iso_pair)
{
	struct buf b = BUF_INIT;
	struct tm nb = { .tm_year = 123, .tm_mon = 8, .tm_mday = 21, .tm_hour = 1, .tm_min = 50,
			 .tm_sec = 17 };
	struct tm na = nb;

	na.tm_year = 124;
	na.tm_mon = 8;
	na.tm_mday = 20;
	mtls_validity(&b, &nb, &na);
	CHECK_STR(buf_cstr(&b), "NotBefore=2023-09-21T01:50:17Z;NotAfter=2024-09-20T01:50:17Z");
	buf_release(&b);
}

TEST(validity_years_have_four_digits_from_year_1_to_9999)
{
	struct buf b = BUF_INIT;
	struct tm nb = { .tm_year = 1 - 1900, .tm_mon = 0, .tm_mday = 1 };
	struct tm na = { .tm_year = 9999 - 1900, .tm_mon = 11, .tm_mday = 31, .tm_hour = 23,
			 .tm_min = 59, .tm_sec = 59 };

	mtls_validity(&b, &nb, &na);
	CHECK_STR(buf_cstr(&b), "NotBefore=0001-01-01T00:00:00Z;NotAfter=9999-12-31T23:59:59Z");
	buf_release(&b);
}

TEST(http_listener_drops_client_copies_and_adds_nothing)
{
	static const char *const h[] = { "Host", "a", "X-Amzn-Mtls-Clientcert-Leaf", "forged",
					  "x-amzn-mtls-clientcert", "forged", "X-Amzn-Tls-Version",
					  "TLSv9", "Accept", "*/*", NULL };
	struct listener_attrs la = aws_names();
	struct http_request req;
	struct buf out = BUF_INIT;

	http_request_init(&req);
	apply(&req, h, &tls_headers, &la, &out);
	CHECK_STR(buf_cstr(&out), "Host: a\nAccept: */*\n");
	buf_release(&out);
	http_request_release(&req);
}

TEST(verify_values_go_under_the_listeners_names)
{
	static const char *const h[] = { "Host", "a", "X-Client-Leaf", "forged", NULL };
	struct listener_attrs la = aws_names();
	struct http_tls tls = { .protocol = "TLSv1.2", .cipher = "ECDHE-RSA-AES128-GCM-SHA256" };
	struct http_request req;
	struct buf out = BUF_INIT;

	la.mtls_names[MTLS_H_LEAF] = "X-Client-Leaf";
	tls.mtls[HTTP_MTLS_SERIAL] = (char *)"03A5B1";
	tls.mtls[HTTP_MTLS_SUBJECT] = (char *)"CN=client_.com";
	tls.mtls[HTTP_MTLS_LEAF] = (char *)"-----BEGIN%20CERTIFICATE-----%0A";
	http_request_init(&req);
	req.https = true;
	req.tls = &tls;
	apply(&req, h, &no_tls_headers, &la, &out);
	CHECK_STR(buf_cstr(&out), "Host: a\n"
		  "X-Amzn-Mtls-Clientcert-Serial-Number: 03A5B1\n"
		  "X-Amzn-Mtls-Clientcert-Subject: CN=client_.com\n"
		  "X-Client-Leaf: -----BEGIN%20CERTIFICATE-----%0A\n");
	buf_release(&out);
	http_request_release(&req);
}

TEST(tls_version_and_cipher_only_when_enabled_and_renamable)
{
	static const char *const h[] = { "Host", "a", NULL };
	struct listener_attrs la = aws_names();
	struct http_tls tls = { .protocol = "TLSv1.3", .cipher = "TLS_AES_128_GCM_SHA256" };
	struct http_request req;
	struct buf out = BUF_INIT;

	http_request_init(&req);
	req.https = true;
	req.tls = &tls;
	apply(&req, h, &no_tls_headers, &la, &out);
	CHECK_STR(buf_cstr(&out), "Host: a\n");
	la.tls_cipher_name = "X-Cipher";
	apply(&req, h, &tls_headers, &la, &out);
	CHECK_STR(buf_cstr(&out), "Host: a\nx-amzn-tls-version: TLSv1.3\n"
		  "X-Cipher: TLS_AES_128_GCM_SHA256\n");
	buf_release(&out);
	http_request_release(&req);
}

int main(void)
{
	RUN(pem_is_percent_encoded_with_plus_equals_slash_kept);
	RUN(validity_is_awss_iso_pair);
	RUN(validity_years_have_four_digits_from_year_1_to_9999);
	RUN(http_listener_drops_client_copies_and_adds_nothing);
	RUN(verify_values_go_under_the_listeners_names);
	RUN(tls_version_and_cipher_only_when_enabled_and_renamable);
	return test_done();
}
