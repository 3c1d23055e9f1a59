/*
 * redirect: the Location ALB sends for a redirect action
 * (alb-listener-rules.md §2.3). Each test expands one action against the
 * same original request, http://example.com:80/a/b?x=1, and compares the
 * exact URL.
 */
#include <stdlib.h>
#include <string.h>

#include "alb/redirect.h"
#include "test.h"

static const struct redirect_request original = {
	.protocol = SV("http"),
	.host = SV("example.com"),
	.port = SV("80"),
	.path = SV("/a/b"),
	.query = SV("x=1"),
};

/* The Location for r applied to in, or "(failed)". Caller frees. */
static char *location_for(const struct redirect_cfg *r, const struct redirect_request *in)
{
	struct buf out = BUF_INIT;

	if (redirect_location(r, in, &out) < 0) {
		buf_release(&out);
		return xstrdup("(failed)");
	}
	return buf_detach(&out, NULL);
}

#define CHECK_LOCATION(cfg, in, expected)                 \
	do {                                              \
		struct redirect_cfg cfg_ = cfg;           \
		char *got_ = location_for(&cfg_, (in));   \
		CHECK_STR(got_, (expected));              \
		free(got_);                               \
	} while (0)

TEST(redirect_defaults_keep_every_component)
{
	CHECK_LOCATION(((struct redirect_cfg){ .status_code = 301 }), &original, "http://example.com:80/a/b?x=1");
}

TEST(redirect_explicit_default_templates_equal_the_defaults)
{
	CHECK_LOCATION(((struct redirect_cfg){ .protocol = "#{protocol}", .host = "#{host}", .port = "#{port}",
					       .path = "/#{path}", .query = "#{query}", .status_code = 301 }),
		       &original, "http://example.com:80/a/b?x=1");
}

TEST(redirect_http_to_https_on_443)
{
	CHECK_LOCATION(((struct redirect_cfg){ .protocol = "HTTPS", .port = "443", .status_code = 301 }), &original,
		       "https://example.com:443/a/b?x=1");
}

TEST(redirect_protocol_is_lower_cased)
{
	CHECK_LOCATION(((struct redirect_cfg){ .protocol = "HTTP", .host = "other.example.com" }), &original,
		       "http://other.example.com:80/a/b?x=1");
}

TEST(redirect_port_is_always_written)
{
	struct redirect_request in = original;

	in.protocol = SV("https");
	in.port = SV("443");
	CHECK_LOCATION(((struct redirect_cfg){ .path = "/new" }), &in, "https://example.com:443/new?x=1");
}

TEST(redirect_rewrites_host_and_path_with_placeholders)
{
	CHECK_LOCATION(((struct redirect_cfg){ .host = "new.example.com", .path = "/v2/#{path}/#{host}:#{port}" }),
		       &original, "http://new.example.com:80/v2/a/b/example.com:80?x=1");
}

TEST(redirect_host_template_around_placeholder)
{
	CHECK_LOCATION(((struct redirect_cfg){ .host = "www.#{host}" }), &original,
		       "http://www.example.com:80/a/b?x=1");
}

TEST(redirect_root_path_expands_to_slash)
{
	struct redirect_request in = original;

	in.path = SV("/");
	CHECK_LOCATION(((struct redirect_cfg){ .host = "new.example.com" }), &in, "http://new.example.com:80/?x=1");
}

TEST(redirect_path_placeholder_keeps_percent_encoding)
{
	struct redirect_request in = original;

	in.path = SV("/caf%C3%A9/a%20b");
	CHECK_LOCATION(((struct redirect_cfg){ .path = "/new/#{path}" }), &in,
		       "http://example.com:80/new/caf%C3%A9/a%20b?x=1");
}

TEST(redirect_query_placeholder_keeps_original_query)
{
	CHECK_LOCATION(((struct redirect_cfg){ .path = "/x", .query = "#{query}" }), &original,
		       "http://example.com:80/x?x=1");
}

TEST(redirect_empty_original_query_has_no_question_mark)
{
	struct redirect_request in = original;

	in.query = SV("");
	CHECK_LOCATION(((struct redirect_cfg){ .path = "/x" }), &in, "http://example.com:80/x");
}

TEST(redirect_configured_empty_query_drops_the_query)
{
	CHECK_LOCATION(((struct redirect_cfg){ .path = "/x", .query = "" }), &original, "http://example.com:80/x");
}

TEST(redirect_placeholders_inside_query)
{
	CHECK_LOCATION(((struct redirect_cfg){ .host = "login.example.com", .path = "/",
					       .query = "from=#{host}&p=#{protocol}&port=#{port}&path=#{path}&#{query}" }),
		       &original, "http://login.example.com:80/?from=example.com&p=http&port=80&path=a/b&x=1");
}

TEST(redirect_unknown_placeholder_stays_literal)
{
	CHECK_LOCATION(((struct redirect_cfg){ .path = "/#{nope}/#{path}#{", .query = "a=#{HOST}&#{host" }),
		       &original, "http://example.com:80/#{nope}/a/b#{?a=#{HOST}&#{host");
}

/* A template may hold any byte a YAML escape writes; the Location is a
 * header value, so a control byte in it (CR, LF: a second header) goes out
 * percent-encoded, as fuzz_redirect found it did not. */
TEST(redirect_control_bytes_are_percent_encoded)
{
	struct redirect_request in = original;

	CHECK_LOCATION(((struct redirect_cfg){ .host = "evil\r\nSet-Cookie: a=b", .path = "/x\ty\x7f",
					       .query = "q=\x01" }),
		       &original, "http://evil%0D%0ASet-Cookie: a=b:80/x%09y%7F?q=%01");
	in.host = SV("a\tb");
	CHECK_LOCATION(((struct redirect_cfg){ .path = "/n" }), &in, "http://a%09b:80/n?x=1");
}

TEST(redirect_status_code_is_left_to_the_caller)
{
	struct redirect_cfg moved = { .protocol = "HTTPS", .status_code = 301 };
	struct redirect_cfg found = { .protocol = "HTTPS", .status_code = 302 };
	char *a = location_for(&moved, &original);
	char *b = location_for(&found, &original);

	CHECK_STR(a, "https://example.com:80/a/b?x=1");
	CHECK_STR(b, a);
	CHECK_INT(moved.status_code, 301);
	CHECK_INT(found.status_code, 302);
	free(a);
	free(b);
}

TEST(redirect_appends_to_what_the_buffer_holds)
{
	struct redirect_cfg r = { .path = "/x" };
	struct buf out = BUF_INIT;

	buf_puts(&out, "Location: ");
	CHECK_INT(redirect_location(&r, &original, &out), 0);
	CHECK_MEM(out.p, out.len, "Location: http://example.com:80/x?x=1");
	buf_release(&out);
}

TEST(redirect_past_buffer_maximum_fails_and_leaves_it_unchanged)
{
	struct redirect_cfg r = { 0 };
	struct buf out;

	buf_init(&out, 30);   /* "http://example.com:80/a/b?x=1" is 29 bytes */
	buf_puts(&out, "L=");
	CHECK_INT(redirect_location(&r, &original, &out), -1);
	CHECK_MEM(out.p, out.len, "L=");
	buf_reset(&out);
	CHECK_INT(redirect_location(&r, &original, &out), 0);
	CHECK_MEM(out.p, out.len, "http://example.com:80/a/b?x=1");
	buf_release(&out);
}

int main(void)
{
	RUN(redirect_defaults_keep_every_component);
	RUN(redirect_explicit_default_templates_equal_the_defaults);
	RUN(redirect_http_to_https_on_443);
	RUN(redirect_protocol_is_lower_cased);
	RUN(redirect_port_is_always_written);
	RUN(redirect_rewrites_host_and_path_with_placeholders);
	RUN(redirect_host_template_around_placeholder);
	RUN(redirect_root_path_expands_to_slash);
	RUN(redirect_path_placeholder_keeps_percent_encoding);
	RUN(redirect_query_placeholder_keeps_original_query);
	RUN(redirect_empty_original_query_has_no_question_mark);
	RUN(redirect_configured_empty_query_drops_the_query);
	RUN(redirect_placeholders_inside_query);
	RUN(redirect_unknown_placeholder_stays_literal);
	RUN(redirect_control_bytes_are_percent_encoded);
	RUN(redirect_status_code_is_left_to_the_caller);
	RUN(redirect_appends_to_what_the_buffer_holds);
	RUN(redirect_past_buffer_maximum_fails_and_leaves_it_unchanged);
	return test_done();
}
