#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "alb/fwd_headers.h"
#include "test.h"

#define TRACE "Root=1-6734a1b2-0123456789abcdef01234567"

static const struct lb_attributes defaults = {
	.idle_timeout = 60,
	.xff_mode = XFF_APPEND,
};

/* A request from client ip:port on listener port, with headers given as
 * "Name", "value" pairs ending in NULL. */
static void make_req(struct http_request *req, const char *target, const char *ip,
		     uint16_t port, uint16_t listener_port, const char *const *hdrs)
{
	http_request_init(req);
	http_request_set_target(req, sv_from(target));
	req->peer_family = strchr(ip, ':') ? AF_INET6 : AF_INET;
	snprintf(req->peer_ip, sizeof(req->peer_ip), "%s", ip);
	req->peer_port = port;
	req->local_port = listener_port;
	for (size_t i = 0; hdrs[i]; i += 2)
		http_request_add_header(req, sv_from(hdrs[i]), sv_from(hdrs[i + 1]));
}

/* The list as "Name: value\n" lines. */
static void render(const struct header_list *l, struct buf *out)
{
	buf_reset(out);
	for (size_t i = 0; i < l->n; i++)
		buf_printf(out, "%.*s: %.*s\n", SV_ARG(l->v[i].name), SV_ARG(l->v[i].value));
}

static void check_fwd(const struct http_request *req, const struct lb_attributes *attrs,
		      const char *want)
{
	struct header_list l;
	struct buf text = BUF_INIT;

	header_list_init(&l);
	fwd_headers_build(req, attrs, SV(TRACE), &l);
	render(&l, &text);
	CHECK_MEM(text.p, text.len, want);
	buf_release(&text);
	header_list_release(&l);
}

#define ADDED(proto, port) "X-Forwarded-Proto: " proto "\nX-Forwarded-Port: " port "\nX-Amzn-Trace-Id: " TRACE "\n"

/* The worked example of §1.4 with the host's case kept (see build_host). */
TEST(worked_example_append_mode_port_8080)
{
	static const char *const h[] = { "Host", "Example.com", "X-Forwarded-For", "198.51.100.1",
					  NULL };
	struct http_request req;

	make_req(&req, "/a?x=1", "203.0.113.7", 40000, 8080, h);
	check_fwd(&req, &defaults,
		  "Host: Example.com:8080\n"
		  "X-Forwarded-For: 198.51.100.1, 203.0.113.7\n" ADDED("http", "8080"));
	http_request_release(&req);
}

TEST(xff_created_after_request_headers_when_absent)
{
	static const char *const h[] = { "Host", "a.example", "Accept", "*/*", NULL };
	struct http_request req;

	make_req(&req, "/", "72.21.198.66", 40000, 80, h);
	check_fwd(&req, &defaults,
		  "Host: a.example\nAccept: */*\nX-Forwarded-For: 72.21.198.66\n" ADDED("http", "80"));
	http_request_release(&req);
}

TEST(xff_headers_joined_where_the_first_was)
{
	static const char *const h[] = { "x-forwarded-for", "127.0.0.4, 127.0.0.8", "Accept", "*/*",
					  "X-Forwarded-For", "127.0.0.9", "Host", "h", NULL };
	struct http_request req;

	make_req(&req, "/", "127.0.0.1", 40000, 80, h);
	check_fwd(&req, &defaults,
		  "X-Forwarded-For: 127.0.0.4, 127.0.0.8, 127.0.0.9, 127.0.0.1\nAccept: */*\n"
		  "Host: h\n" ADDED("http", "80"));
	http_request_release(&req);
}

TEST(xff_value_kept_as_written_and_empty_headers_skipped)
{
	static const char *const h[] = { "X-Forwarded-For", "", "X-Forwarded-For", "10.0.0.1 ,10.0.0.2",
					  NULL };
	struct http_request req;

	make_req(&req, "/", "127.0.0.1", 40000, 80, h);
	check_fwd(&req, &defaults,
		  "X-Forwarded-For: 10.0.0.1 ,10.0.0.2, 127.0.0.1\n" ADDED("http", "80"));
	http_request_release(&req);
}

TEST(xff_client_port_ipv4_is_ip_colon_port)
{
	static const char *const h[] = { "X-Forwarded-For", "198.51.100.1", NULL };
	struct lb_attributes a = defaults;
	struct http_request req;

	a.xff_client_port = true;
	make_req(&req, "/", "203.0.113.7", 54321, 80, h);
	check_fwd(&req, &a, "X-Forwarded-For: 198.51.100.1, 203.0.113.7:54321\n" ADDED("http", "80"));
	http_request_release(&req);
}

TEST(xff_client_port_ipv6_is_bracketed)
{
	static const char *const none[] = { NULL };
	struct lb_attributes a = defaults;
	struct http_request req;

	a.xff_client_port = true;
	make_req(&req, "/", "2001:db8::7", 54321, 80, none);
	check_fwd(&req, &a, "X-Forwarded-For: [2001:db8::7]:54321\n" ADDED("http", "80"));
	a.xff_client_port = false;
	check_fwd(&req, &a, "X-Forwarded-For: 2001:db8::7\n" ADDED("http", "80"));
	http_request_release(&req);
}

TEST(xff_preserve_keeps_every_header_unchanged_and_ignores_client_port)
{
	static const char *const h[] = { "X-Forwarded-For", "1.1.1.1", "A", "b",
					  "x-forwarded-for", "2.2.2.2 ,3.3.3.3", NULL };
	struct lb_attributes a = defaults;
	struct http_request req;

	a.xff_mode = XFF_PRESERVE;
	a.xff_client_port = true;
	make_req(&req, "/", "203.0.113.7", 5, 80, h);
	check_fwd(&req, &a,
		  "X-Forwarded-For: 1.1.1.1\nA: b\nx-forwarded-for: 2.2.2.2 ,3.3.3.3\n"
		  ADDED("http", "80"));
	http_request_release(&req);
}

TEST(xff_preserve_adds_none_when_absent)
{
	static const char *const h[] = { "A", "b", NULL };
	struct lb_attributes a = defaults;
	struct http_request req;

	a.xff_mode = XFF_PRESERVE;
	make_req(&req, "/", "203.0.113.7", 5, 80, h);
	check_fwd(&req, &a, "A: b\n" ADDED("http", "80"));
	http_request_release(&req);
}

TEST(xff_remove_drops_every_header)
{
	static const char *const h[] = { "X-Forwarded-For", "1.1.1.1", "A", "b",
					  "X-FORWARDED-FOR", "2.2.2.2", NULL };
	struct lb_attributes a = defaults;
	struct http_request req;

	a.xff_mode = XFF_REMOVE;
	make_req(&req, "/", "203.0.113.7", 5, 80, h);
	check_fwd(&req, &a, "A: b\n" ADDED("http", "80"));
	http_request_release(&req);
}

TEST(proto_port_and_trace_replace_the_clients_and_trace_is_last)
{
	static const char *const h[] = { "X-Forwarded-Proto", "ftp", "x-amzn-trace-id", "Root=old",
					  "X-Forwarded-Port", "1", "Z", "z", NULL };
	struct http_request req;

	make_req(&req, "/", "10.1.2.3", 5, 443, h);
	req.https = true;
	check_fwd(&req, &defaults,
		  "Z: z\nX-Forwarded-For: 10.1.2.3\n" ADDED("https", "443"));
	http_request_release(&req);
}

TEST(host_port_removed_on_listener_80_and_443)
{
	static const char *const h[] = { "Host", "Example.COM:8080", NULL };
	struct http_request req;

	make_req(&req, "/", "10.0.0.1", 5, 80, h);
	check_fwd(&req, &defaults, "Host: Example.COM\nX-Forwarded-For: 10.0.0.1\n" ADDED("http", "80"));
	req.local_port = 443;
	check_fwd(&req, &defaults, "Host: Example.COM\nX-Forwarded-For: 10.0.0.1\n" ADDED("http", "443"));
	http_request_release(&req);
}

TEST(host_keeps_client_port_on_other_listener_ports)
{
	static const char *const h[] = { "Host", "example.com:9000", NULL };
	struct http_request req;

	make_req(&req, "/", "10.0.0.1", 5, 8080, h);
	check_fwd(&req, &defaults,
		  "Host: example.com:9000\nX-Forwarded-For: 10.0.0.1\n" ADDED("http", "8080"));
	http_request_release(&req);
}

TEST(host_ipv6_literal_gets_listener_port_after_brackets)
{
	static const char *const h[] = { "Host", "[2001:DB8::1]", NULL };
	struct http_request req;

	make_req(&req, "/", "10.0.0.1", 5, 8080, h);
	check_fwd(&req, &defaults,
		  "Host: [2001:DB8::1]:8080\nX-Forwarded-For: 10.0.0.1\n" ADDED("http", "8080"));
	req.headers[0].value = SV("[::1]:80");
	req.local_port = 80;
	check_fwd(&req, &defaults, "Host: [::1]\nX-Forwarded-For: 10.0.0.1\n" ADDED("http", "80"));
	http_request_release(&req);
}

TEST(host_absolute_form_keeps_its_port_on_other_listener_ports)
{
	static const char *const h[] = { "Host", "x", NULL };
	struct http_request req;

	make_req(&req, "http://u:p@[::1]:9000?q", "10.0.0.1", 5, 8080, h);
	check_fwd(&req, &defaults, "Host: [::1]:9000\nX-Forwarded-For: 10.0.0.1\n" ADDED("http", "8080"));
	http_request_release(&req);
}

TEST(host_empty_port_counts_as_none)
{
	static const char *const h[] = { "Host", "a.example:", NULL };
	struct http_request req;

	make_req(&req, "/", "10.0.0.1", 5, 8080, h);
	check_fwd(&req, &defaults,
		  "Host: a.example:8080\nX-Forwarded-For: 10.0.0.1\n" ADDED("http", "8080"));
	http_request_release(&req);
}

TEST(host_only_the_first_is_forwarded_with_albs_name)
{
	static const char *const h[] = { "A", "1", "host", "First.example", "B", "2",
					  "HOST", "second.example", NULL };
	struct http_request req;

	make_req(&req, "/", "10.0.0.1", 5, 80, h);
	check_fwd(&req, &defaults,
		  "A: 1\nHost: First.example\nB: 2\nX-Forwarded-For: 10.0.0.1\n" ADDED("http", "80"));
	http_request_release(&req);
}

TEST(host_absolute_form_authority_replaces_host_header)
{
	static const char *const h[] = { "Host", "ignored.example", "A", "1", NULL };
	struct http_request req;

	make_req(&req, "http://user@API.Example.com/x", "10.0.0.1", 5, 8080, h);
	check_fwd(&req, &defaults,
		  "Host: API.Example.com:8080\nA: 1\nX-Forwarded-For: 10.0.0.1\n"
		  ADDED("http", "8080"));
	http_request_release(&req);
}

TEST(host_absolute_form_without_host_header_gets_one)
{
	static const char *const h[] = { "A", "1", NULL };
	struct http_request req;

	make_req(&req, "https://dns_name:443/index.html", "10.0.0.1", 5, 443, h);
	check_fwd(&req, &defaults,
		  "A: 1\nHost: dns_name\nX-Forwarded-For: 10.0.0.1\n" ADDED("http", "443"));
	http_request_release(&req);
}

TEST(host_absent_without_host_header_or_authority)
{
	static const char *const h[] = { "A", "1", NULL };
	struct http_request req;

	make_req(&req, "/", "10.0.0.1", 5, 8080, h);
	check_fwd(&req, &defaults, "A: 1\nX-Forwarded-For: 10.0.0.1\n" ADDED("http", "8080"));
	http_request_release(&req);
}

TEST(host_empty_value_stays_empty)
{
	static const char *const h[] = { "Host", "", NULL };
	struct http_request req;

	make_req(&req, "/", "10.0.0.1", 5, 8080, h);
	check_fwd(&req, &defaults, "Host: \nX-Forwarded-For: 10.0.0.1\n" ADDED("http", "8080"));
	http_request_release(&req);
}

TEST(preserve_host_keeps_every_host_header_unchanged)
{
	static const char *const h[] = { "host", "Example.com", "Host", "Other.example:81", NULL };
	struct lb_attributes a = defaults;
	struct http_request req;

	a.preserve_host = true;
	make_req(&req, "http://auth.example/x", "10.0.0.1", 5, 8080, h);
	check_fwd(&req, &a,
		  "host: Example.com\nHost: Other.example:81\nX-Forwarded-For: 10.0.0.1\n"
		  ADDED("http", "8080"));
	http_request_release(&req);
}

TEST(expect_is_never_forwarded)
{
	static const char *const h[] = { "Expect", "100-continue", "A", "1", "expect", "x", NULL };
	struct http_request req;

	make_req(&req, "/", "10.0.0.1", 5, 80, h);
	check_fwd(&req, &defaults, "A: 1\nX-Forwarded-For: 10.0.0.1\n" ADDED("http", "80"));
	http_request_release(&req);
}

TEST(drop_invalid_headers_removes_names_outside_alnum_and_dash)
{
	static const char *const h[] = { "X_Foo", "1", "X-Ok-9", "2", "X Foo", "3", "X\xc3\xa9", "4",
					  "X.Y", "5", "", "6", NULL };
	struct lb_attributes a = defaults;
	struct http_request req;

	a.drop_invalid_headers = true;
	make_req(&req, "/", "10.0.0.1", 5, 80, h);
	check_fwd(&req, &a, "X-Ok-9: 2\nX-Forwarded-For: 10.0.0.1\n" ADDED("http", "80"));
	http_request_release(&req);
}

TEST(invalid_header_names_are_forwarded_by_default)
{
	static const char *const h[] = { "X_Foo", "1", "X.Y", "5", NULL };
	struct http_request req;

	make_req(&req, "/", "10.0.0.1", 5, 80, h);
	check_fwd(&req, &defaults, "X_Foo: 1\nX.Y: 5\nX-Forwarded-For: 10.0.0.1\n" ADDED("http", "80"));
	http_request_release(&req);
}

TEST(unchanged_headers_are_views_into_the_request)
{
	static const char *const h[] = { "x-Custom", "v", "Host", "h", NULL };
	struct http_request req;
	struct header_list l;

	make_req(&req, "/", "10.0.0.1", 5, 80, h);
	header_list_init(&l);
	fwd_headers_build(&req, &defaults, SV(TRACE), &l);
	CHECK(l.v[0].name.p == req.headers[0].name.p && l.v[0].value.p == req.headers[0].value.p);
	CHECK_MEM(l.v[0].name.p, l.v[0].name.n, "x-Custom");
	CHECK(l.v[1].value.p >= l.mem.p && l.v[1].value.p < l.mem.p + l.mem.len);
	header_list_release(&l);
	http_request_release(&req);
}

TEST(values_stay_valid_when_mem_grows_and_list_is_reused)
{
	static const char *const h[] = { "Host", "EXAMPLE.com", NULL };
	char big[4000];
	struct http_request req;
	struct header_list l;
	struct buf text = BUF_INIT;

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	make_req(&req, "/", "10.0.0.1", 5, 8080, h);
	http_request_add_header(&req, SV("X-Forwarded-For"), sv_from(big));
	header_list_init(&l);
	fwd_headers_build(&req, &defaults, sv_from(big), &l);
	fwd_headers_build(&req, &defaults, SV(TRACE), &l);
	render(&l, &text);  /* reads every view: ASan reports one left dangling */
	CHECK_INT(l.n, 5);
	CHECK_MEM(l.v[0].value.p, l.v[0].value.n, "EXAMPLE.com:8080");
	CHECK_INT(l.v[1].value.n, strlen(big) + strlen(", 10.0.0.1"));
	CHECK(memcmp(l.v[1].value.p + strlen(big), ", 10.0.0.1", 10) == 0);
	CHECK_MEM(l.v[3].value.p, l.v[3].value.n, "8080");
	CHECK_MEM(l.v[4].value.p, l.v[4].value.n, TRACE);
	buf_release(&text);
	header_list_release(&l);
	http_request_release(&req);
}

TEST(xff_count_counts_nonempty_entries_across_headers)
{
	static const char *const h[] = { "X-Forwarded-For", "1.1.1.1, 2.2.2.2", "A", "3.3.3.3",
					  "x-forwarded-for", " , 4.4.4.4,,5.5.5.5, ", NULL };
	static const char *const none[] = { "A", "1", NULL };
	struct http_request req;

	make_req(&req, "/", "10.0.0.1", 5, 80, h);
	CHECK_INT(fwd_xff_count(&req), 4);
	http_request_release(&req);
	make_req(&req, "/", "10.0.0.1", 5, 80, none);
	CHECK_INT(fwd_xff_count(&req), 0);
	http_request_release(&req);
}

TEST(xff_count_reaches_past_the_463_limit)
{
	static const char *const none[] = { NULL };
	struct http_request req;
	struct buf v = BUF_INIT;

	for (int i = 0; i < FWD_XFF_MAX + 1; i++)
		buf_printf(&v, "%s10.0.0.%d", i ? "," : "", i);
	make_req(&req, "/", "10.0.0.1", 5, 80, none);
	http_request_add_header(&req, SV("X-Forwarded-For"), (struct sv){ v.p, v.len });
	CHECK_INT(fwd_xff_count(&req), 31);
	http_request_release(&req);
	buf_release(&v);
}

int main(void)
{
	RUN(worked_example_append_mode_port_8080);
	RUN(xff_created_after_request_headers_when_absent);
	RUN(xff_headers_joined_where_the_first_was);
	RUN(xff_value_kept_as_written_and_empty_headers_skipped);
	RUN(xff_client_port_ipv4_is_ip_colon_port);
	RUN(xff_client_port_ipv6_is_bracketed);
	RUN(xff_preserve_keeps_every_header_unchanged_and_ignores_client_port);
	RUN(xff_preserve_adds_none_when_absent);
	RUN(xff_remove_drops_every_header);
	RUN(proto_port_and_trace_replace_the_clients_and_trace_is_last);
	RUN(host_port_removed_on_listener_80_and_443);
	RUN(host_keeps_client_port_on_other_listener_ports);
	RUN(host_ipv6_literal_gets_listener_port_after_brackets);
	RUN(host_absolute_form_keeps_its_port_on_other_listener_ports);
	RUN(host_empty_port_counts_as_none);
	RUN(host_only_the_first_is_forwarded_with_albs_name);
	RUN(host_absolute_form_authority_replaces_host_header);
	RUN(host_absolute_form_without_host_header_gets_one);
	RUN(host_absent_without_host_header_or_authority);
	RUN(host_empty_value_stays_empty);
	RUN(preserve_host_keeps_every_host_header_unchanged);
	RUN(expect_is_never_forwarded);
	RUN(drop_invalid_headers_removes_names_outside_alnum_and_dash);
	RUN(invalid_header_names_are_forwarded_by_default);
	RUN(unchanged_headers_are_views_into_the_request);
	RUN(values_stay_valid_when_mem_grows_and_list_is_reused);
	RUN(xff_count_counts_nonempty_entries_across_headers);
	RUN(xff_count_reaches_past_the_463_limit);
	return test_done();
}
