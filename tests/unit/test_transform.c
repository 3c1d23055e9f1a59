/*
 * transform (alb-listener-rules.md §2.6): regex + replace with $N, the
 * original kept when the regex does not match, 500 (-1) when a result is no
 * valid host or URL, the request rewritten for targets, and the access
 * log's transform fields.
 */
#include <string.h>

#include "alb/alog_fmt.h"
#include "alb/transform.h"
#include "test.h"

static struct arena arena;

static struct rule_rewrite rewrite(const char *regex, const char *replace)
{
	char msg[256];
	struct rule_rewrite rw = { .regex = regex, .replace = replace };

	rw.re = regex_compile(&arena, regex, msg, sizeof(msg));
	if (!rw.re)
		printf("    compile '%s': %s\n", regex, msg);
	return rw;
}

/* The rewrite of text, "(no match)" or "(failed)". */
static const char *rewritten(const char *regex, const char *replace, const char *text)
{
	static char out[1024];
	struct rule_rewrite rw = rewrite(regex, replace);
	struct buf b = BUF_INIT;
	enum transform_result r;

	if (!rw.re)
		return "(bad regex)";
	r = transform_rewrite(&rw, sv_from(text), &b);
	if (r == TRANSFORM_NO_MATCH)
		snprintf(out, sizeof(out), "(no match)");
	else if (r == TRANSFORM_FAILED)
		snprintf(out, sizeof(out), "(failed)");
	else
		snprintf(out, sizeof(out), "%.*s", (int)b.len, b.p);
	buf_release(&b);
	return out;
}

TEST(replace_expands_capture_groups)
{
	/* AWS's examples (§2.6). */
	CHECK_STR(rewritten("^/dp/([A-Za-z0-9]+)/?$", "/product.php?id=$1", "/dp/B0042"), "/product.php?id=B0042");
	CHECK_STR(rewritten("^mywebsite-(.+).com$", "internal.dev.$1.myweb.com", "mywebsite-blue.com"),
		  "internal.dev.blue.myweb.com");
	CHECK_STR(rewritten("^/(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)$", "${10}-$1-${1}0-$0", "/abcdefghij"),
		  "j-a-a0-/abcdefghij");
}

TEST(only_the_matched_text_is_replaced)
{
	CHECK_STR(rewritten("/old/", "/new/", "/api/old/x?q=1"), "/api/new/x?q=1");
	CHECK_STR(rewritten("^/v1", "/v2", "/v1/users"), "/v2/users");
}

TEST(dollar_not_before_a_group_number_is_literal)
{
	CHECK_STR(rewritten("^/a$", "/b$x$", "/a"), "/b$x$");
	CHECK_STR(rewritten("^/a$", "/b${x}", "/a"), "/b${x}");
}

TEST(a_group_that_did_not_take_part_is_empty)
{
	CHECK_STR(rewritten("^/a(/b)?(/c)?$", "/x$1$2", "/a/c"), "/x/c");
}

TEST(no_match_keeps_the_original)
{
	CHECK_STR(rewritten("^/dp/", "/p/", "/other"), "(no match)");
}

TEST(max_group_is_the_highest_reference)
{
	CHECK_INT(transform_max_group("/a", NULL), 0);
	CHECK_INT(transform_max_group("/$1/${3}/$2", NULL), 3);
	CHECK_INT(transform_max_group("$$ ${x} $", NULL), 0);
	CHECK_INT(transform_max_group("$12", NULL), 12);
}

TEST(max_group_gives_the_reference_as_written)
{
	struct sv ref;

	CHECK(transform_max_group("/$1/${3}/$3", &ref) == 3);
	CHECK_MEM(ref.p, ref.n, "${3}");
	CHECK(transform_max_group("$0", &ref) == 0);
	CHECK_MEM(ref.p, ref.n, "$0");
	CHECK(transform_max_group("/a$", &ref) == 0);
	CHECK(ref.p == NULL && ref.n == 0);
	/* A huge number stays past every regex's groups, and is quoted whole. */
	CHECK(transform_max_group("/$999999999999/$1", &ref) > 65535);
	CHECK_MEM(ref.p, ref.n, "$999999999999");
	CHECK(transform_max_group("${99999999999999999999999}", &ref) > 65535);
	CHECK_MEM(ref.p, ref.n, "${99999999999999999999999}");
}

/* ---- a request through a rule's transforms ---- */

struct fixture {
	struct http_request req;
	struct rule rule;
	struct rule_rewrite host, url;
	struct buf mem;
	struct transform_out out;
};

static void fx_init(struct fixture *f, const char *target, const char *host_header)
{
	memset(f, 0, sizeof(*f));
	http_request_init(&f->req);
	f->req.method = SV("GET");
	http_request_set_target(&f->req, sv_from(target));
	if (host_header)
		http_request_add_header(&f->req, SV("Host"), sv_from(host_header));
	http_request_add_header(&f->req, SV("Accept"), SV("*/*"));
	buf_init(&f->mem, 0);
}

static void fx_host(struct fixture *f, const char *regex, const char *replace)
{
	f->host = rewrite(regex, replace);
	f->rule.host_rewrite = &f->host;
}

static void fx_url(struct fixture *f, const char *regex, const char *replace)
{
	f->url = rewrite(regex, replace);
	f->rule.url_rewrite = &f->url;
}

static int fx_run(struct fixture *f)
{
	int rc = transform_request(&f->rule, &f->req, &f->mem, &f->out);

	if (rc == 0)
		transform_commit(&f->req, &f->out);
	return rc;
}

static void fx_release(struct fixture *f)
{
	http_request_release(&f->req);
	buf_release(&f->mem);
}

TEST(url_rewrite_sees_path_and_query_and_resplits)
{
	struct fixture f;

	fx_init(&f, "/dp/B0042?ref=mail", "shop.example.com");
	fx_url(&f, "^/dp/([A-Z0-9]+)\\?ref=(.*)$", "/product.php?id=$1&from=$2");
	CHECK_INT(fx_run(&f), 0);
	CHECK_STR(f.out.status, TRANSFORM_STATUS_OK);
	CHECK(f.out.uri_set && !f.out.host_set);
	CHECK_MEM(f.req.path.p, f.req.path.n, "/product.php");
	CHECK(f.req.has_query);
	CHECK_MEM(f.req.query.p, f.req.query.n, "id=B0042&from=mail");
	CHECK_MEM(f.req.target.p, f.req.target.n, "/product.php?id=B0042&from=mail");
	CHECK_MEM(f.out.uri.p, f.out.uri.n, "/product.php?id=B0042&from=mail");
	fx_release(&f);
}

TEST(url_rewrite_can_drop_the_query)
{
	struct fixture f;

	fx_init(&f, "/a?x=1", "h.example.com");
	fx_url(&f, "^/a\\?.*$", "/b");
	CHECK_INT(fx_run(&f), 0);
	CHECK(!f.req.has_query);
	CHECK_INT(f.req.query.n, 0);
	CHECK_MEM(f.req.target.p, f.req.target.n, "/b");
	fx_release(&f);
}

TEST(host_rewrite_keeps_the_clients_port)
{
	struct fixture f;
	struct sv host;

	fx_init(&f, "/", "mywebsite-blue.com:8080");
	fx_host(&f, "^mywebsite-(.+).com$", "internal.dev.$1.myweb.com");
	CHECK_INT(fx_run(&f), 0);
	CHECK_MEM(f.out.host.p, f.out.host.n, "internal.dev.blue.myweb.com");
	CHECK_MEM(f.req.headers[0].value.p, f.req.headers[0].value.n, "internal.dev.blue.myweb.com:8080");
	host = http_request_host(&f.req);
	CHECK_MEM(host.p, host.n, "internal.dev.blue.myweb.com");
	fx_release(&f);
}

TEST(host_rewrite_to_an_ipv6_literal_keeps_the_port)
{
	struct fixture f;

	fx_init(&f, "/", "local.test:8080");
	fx_host(&f, "^local\\.test$", "[::1]");
	CHECK_INT(fx_run(&f), 0);
	CHECK_MEM(f.req.headers[0].value.p, f.req.headers[0].value.n, "[::1]:8080");
	fx_release(&f);
}

TEST(host_rewrite_of_an_absolute_form_target_rewrites_its_authority)
{
	struct fixture f;
	struct sv host;

	fx_init(&f, "http://a.example.com:81/x?y=1", "ignored.example.com");
	fx_host(&f, "^a\\.", "b.");
	fx_url(&f, "^/x", "/z");
	CHECK_INT(fx_run(&f), 0);
	host = http_request_host(&f.req);
	CHECK_MEM(host.p, host.n, "b.example.com");
	CHECK_MEM(f.req.uri_host.p, f.req.uri_host.n, "b.example.com:81");
	CHECK_MEM(f.req.path.p, f.req.path.n, "/z");
	CHECK_MEM(f.req.query.p, f.req.query.n, "y=1");
	CHECK_MEM(f.req.headers[0].value.p, f.req.headers[0].value.n, "ignored.example.com");
	fx_release(&f);
}

TEST(absolute_form_with_an_empty_path_is_rewritten_as_slash)
{
	struct fixture f;

	fx_init(&f, "http://a.example.com?q=1", NULL);
	fx_url(&f, "^/\\?q=(.*)$", "/search/$1");
	CHECK_INT(fx_run(&f), 0);
	CHECK_MEM(f.req.path.p, f.req.path.n, "/search/1");
	fx_release(&f);
}

TEST(no_match_leaves_the_request_and_logs_nothing)
{
	struct fixture f;

	fx_init(&f, "/keep?a=1", "h.example.com");
	fx_host(&f, "^nomatch$", "x");
	fx_url(&f, "^/other", "/x");
	CHECK_INT(fx_run(&f), 0);
	CHECK(f.out.status == NULL);
	CHECK_MEM(f.req.target.p, f.req.target.n, "/keep?a=1");
	CHECK_MEM(f.req.headers[0].value.p, f.req.headers[0].value.n, "h.example.com");
	fx_release(&f);
}

TEST(a_request_without_host_is_not_host_rewritten)
{
	struct fixture f;

	fx_init(&f, "/", NULL);
	fx_host(&f, "^$", "x.example.com");
	CHECK_INT(fx_run(&f), 0);
	CHECK(!f.out.host_set);
	fx_release(&f);
}

TEST(invalid_results_fail_with_500)
{
	static const struct {
		const char *target, *host, *hregex, *hreplace, *uregex, *ureplace;
	} cases[] = {
		{ "/a", "h.example.com", NULL, NULL, "^/a$", "no-slash" },
		{ "/a", "h.example.com", NULL, NULL, "^/a$", "/with space" },
		{ "/a", "h.example.com", NULL, NULL, "^/a$", "/frag#x" },
		{ "/a", "h.example.com", NULL, NULL, "^/a$", "/a\x7f" },
		{ "/a", "h.example.com", "^h\\.example\\.com$", "bad/host", NULL, NULL },
		{ "/a", "h.example.com", "^h", "bad host", NULL, NULL },
		{ "/a", "h.example.com", "^.*$", "", NULL, NULL },
		/* a port in the name: only an IPv6 literal's brackets hold ':' */
		{ "/a", "a.com:77", "^(.*)$", "$1:9000", NULL, NULL },
		{ "/a", "a.com", "^a", "[::1", NULL, NULL },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct fixture f;

		fx_init(&f, cases[i].target, cases[i].host);
		if (cases[i].hregex)
			fx_host(&f, cases[i].hregex, cases[i].hreplace);
		if (cases[i].uregex)
			fx_url(&f, cases[i].uregex, cases[i].ureplace);
		if (fx_run(&f) != -1)
			FAIL_AT("case %zu: transform did not fail", i);
		CHECK_STR(f.out.status, TRANSFORM_STATUS_FAILED);
		CHECK_MEM(f.req.target.p, f.req.target.n, cases[i].target);
		fx_release(&f);
	}
}

TEST(a_result_over_8k_fails)
{
	struct fixture f;
	char replace[64];

	/* Each $1 copies 1000 characters: nine of them exceed 8192. */
	char target[1100] = "/";

	memset(target + 1, 'a', 1000);
	target[1001] = '\0';
	snprintf(replace, sizeof(replace), "/$1$1$1$1$1$1$1$1$1");
	fx_init(&f, target, "h.example.com");
	fx_url(&f, "^/(a+)$", replace);
	CHECK_INT(fx_run(&f), -1);
	fx_release(&f);
}

TEST(the_buffer_is_reused_across_requests)
{
	struct fixture f;

	fx_init(&f, "/dp/1", "h.example.com");
	fx_url(&f, "^/dp/(.*)$", "/p/$1");
	CHECK_INT(fx_run(&f), 0);
	http_request_set_target(&f.req, SV("/dp/2"));
	CHECK_INT(fx_run(&f), 0);
	CHECK_MEM(f.req.target.p, f.req.target.n, "/p/2");
	fx_release(&f);
}

/* ---- the access log's fields 31-33 ---- */

static const char *tail3(const struct alog_entry *e)
{
	static char out[256];
	struct buf b = BUF_INIT;
	const char *p;
	int quotes = 0;

	alog_format(&b, e);
	/* The last three quoted fields: walk back over six '"'. */
	for (p = b.p + b.len - 1; p > b.p && quotes < 6; p--)
		quotes += *p == '"';
	snprintf(out, sizeof(out), "%.*s", (int)(b.p + b.len - 1 - (p + 1)), p + 1);
	buf_release(&b);
	return out;
}

TEST(access_log_has_the_transform_fields)
{
	struct alog_entry e = { .method = SV("GET"), .request_target = SV("/dp/1"), .host = SV("a.example.com") };

	CHECK_STR(tail3(&e), "\"-\" \"-\" \"-\"");
	e.transformed_host = SV("internal.example.com");
	e.transformed_uri = SV("/product.php?id=1");
	e.transform_status = TRANSFORM_STATUS_OK;
	CHECK_STR(tail3(&e), "\"internal.example.com\" \"/product.php?id=1\" \"success\"");
	e.transformed_host = SV_NULL;
	e.transform_status = TRANSFORM_STATUS_FAILED;
	e.transformed_uri = SV_NULL;
	CHECK_STR(tail3(&e), "\"-\" \"-\" \"failed\"");
}

int main(void)
{
	RUN(replace_expands_capture_groups);
	RUN(only_the_matched_text_is_replaced);
	RUN(dollar_not_before_a_group_number_is_literal);
	RUN(a_group_that_did_not_take_part_is_empty);
	RUN(no_match_keeps_the_original);
	RUN(max_group_is_the_highest_reference);
	RUN(max_group_gives_the_reference_as_written);
	RUN(url_rewrite_sees_path_and_query_and_resplits);
	RUN(url_rewrite_can_drop_the_query);
	RUN(host_rewrite_keeps_the_clients_port);
	RUN(host_rewrite_to_an_ipv6_literal_keeps_the_port);
	RUN(host_rewrite_of_an_absolute_form_target_rewrites_its_authority);
	RUN(absolute_form_with_an_empty_path_is_rewritten_as_slash);
	RUN(no_match_leaves_the_request_and_logs_nothing);
	RUN(a_request_without_host_is_not_host_rewritten);
	RUN(invalid_results_fail_with_500);
	RUN(a_result_over_8k_fails);
	RUN(the_buffer_is_reused_across_requests);
	RUN(access_log_has_the_transform_fields);
	arena_release(&arena);
	return test_done();
}
