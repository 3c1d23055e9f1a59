/* runtime_fetch's pure parts: runtime names, the cache folder, `node --version`. */
#include "lambda/runtime_fetch.h"

#include "test.h"

static struct runtime_id parsed(const char *name, int *rc)
{
	struct runtime_id id;

	*rc = runtime_parse(name, &id);
	return id;
}

TEST(nodejs_names_carry_the_major)
{
	int rc;
	struct runtime_id id = parsed("nodejs20.x", &rc);

	CHECK_INT(rc, 0);
	CHECK_INT(id.lang, RUNTIME_NODE);
	CHECK_INT(id.major, 20);
	id = parsed("nodejs18.x", &rc);
	CHECK_INT(id.major, 18);
	id = parsed("nodejs22.x", &rc);
	CHECK_INT(id.major, 22);
}

TEST(python_names_carry_the_minor)
{
	int rc;
	struct runtime_id id = parsed("python3.12", &rc);

	CHECK_INT(rc, 0);
	CHECK_INT(id.lang, RUNTIME_PYTHON);
	CHECK_INT(id.major, 3);
	CHECK_INT(id.minor, 12);
	id = parsed("python3.9", &rc);
	CHECK_INT(id.minor, 9);
}

TEST(provided_runtimes_need_no_interpreter)
{
	int rc;
	struct runtime_id id = parsed("provided.al2023", &rc);

	CHECK_INT(rc, 0);
	CHECK_INT(id.lang, RUNTIME_PROVIDED);
}

TEST(names_without_a_version_are_rejected)
{
	int rc;

	parsed("nodejs", &rc);
	CHECK_INT(rc, -1);
	parsed("nodejs20", &rc);
	CHECK_INT(rc, -1);
	parsed("nodejsx.x", &rc);
	CHECK_INT(rc, -1);
	parsed("python3.", &rc);
	CHECK_INT(rc, -1);
	parsed("python3.12a", &rc);
	CHECK_INT(rc, -1);
	parsed("java21", &rc);
	CHECK_INT(rc, -1);
	parsed("provided.", &rc);
	CHECK_INT(rc, -1);
}

TEST(cache_is_under_xdg_cache_home_when_set)
{
	char out[256];

	CHECK_INT(runtime_cache_dir("/x/cache", "/home/u", out, sizeof(out)), 0);
	CHECK_STR(out, "/x/cache/lb");
}

TEST(cache_falls_back_to_home_dot_cache)
{
	char out[256];

	CHECK_INT(runtime_cache_dir(NULL, "/home/u", out, sizeof(out)), 0);
	CHECK_STR(out, "/home/u/.cache/lb");
	CHECK_INT(runtime_cache_dir("", "/home/u", out, sizeof(out)), 0);
	CHECK_STR(out, "/home/u/.cache/lb");
}

TEST(relative_xdg_cache_home_is_ignored)
{
	char out[256];

	CHECK_INT(runtime_cache_dir("rel/cache", "/home/u", out, sizeof(out)), 0);
	CHECK_STR(out, "/home/u/.cache/lb");
	CHECK_INT(runtime_cache_dir("rel", NULL, out, sizeof(out)), -1);
}

TEST(cache_path_that_does_not_fit_is_an_error)
{
	char out[8];

	CHECK_INT(runtime_cache_dir("/a/long/path", NULL, out, sizeof(out)), -1);
}

TEST(node_version_output_gives_the_major)
{
	CHECK_INT(runtime_node_major("v18.20.4"), 18);
	CHECK_INT(runtime_node_major("v20.20.2"), 20);
	CHECK_INT(runtime_node_major("v22.0.0-pre"), 22);
	CHECK_INT(runtime_node_major(""), 0);
	CHECK_INT(runtime_node_major("20.1.0"), 0);
	CHECK_INT(runtime_node_major("vX"), 0);
}

int main(void)
{
	RUN(nodejs_names_carry_the_major);
	RUN(python_names_carry_the_minor);
	RUN(provided_runtimes_need_no_interpreter);
	RUN(names_without_a_version_are_rejected);
	RUN(cache_is_under_xdg_cache_home_when_set);
	RUN(cache_falls_back_to_home_dot_cache);
	RUN(relative_xdg_cache_home_is_ignored);
	RUN(cache_path_that_does_not_fit_is_an_error);
	RUN(node_version_output_gives_the_major);
	return test_done();
}
