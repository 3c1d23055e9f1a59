/* tmp_dirs's pure parts: the names of lb's temporary directories and which are left over. */
#include "lambda/tmp_dirs.h"

#include <errno.h>

#include "test.h"

static const char *const in_tmp[] = { TMP_DIRS_TMP, TMP_DIRS_LAYERS, TMP_DIRS_IMAGE, NULL };
static const char *const in_cache[] = { TMP_DIRS_CACHE, NULL };

TEST(template_carries_the_pid_before_mkdtemps_six_letters)
{
	char out[64];

	CHECK_INT(tmp_dirs_template(out, sizeof(out), "/tmp", "lb-tmp", 4242), 0);
	CHECK_STR(out, "/tmp/lb-tmp-4242-XXXXXX");
	CHECK_INT(tmp_dirs_template(out, sizeof(out), "/home/u/.cache/lb/images", ".tmp", 7), 0);
	CHECK_STR(out, "/home/u/.cache/lb/images/.tmp-7-XXXXXX");
}

TEST(template_that_does_not_fit_fails)
{
	char out[27];

	/* "/tmp/lb-layers-4242-XXXXXX" takes 26 bytes and its NUL */
	CHECK_INT(tmp_dirs_template(out, 26, "/tmp", "lb-layers", 4242), -1);
	CHECK_INT(tmp_dirs_template(out, 0, "/tmp", "lb-layers", 4242), -1);
	CHECK_INT(tmp_dirs_template(out, sizeof(out), "/tmp", "lb-layers", 4242), 0);
	CHECK_STR(out, "/tmp/lb-layers-4242-XXXXXX");
}

TEST(a_name_mkdtemp_made_from_the_template_gives_its_pid_back)
{
	char out[64];

	tmp_dirs_template(out, sizeof(out), "/tmp", "lb-layers", 1234567);
	CHECK_INT(tmp_dirs_pid(out + 5, in_tmp), 1234567);
	CHECK_INT(tmp_dirs_pid("lb-tmp-1234-aB3xYz", in_tmp), 1234);
	CHECK_INT(tmp_dirs_pid("lb-layers-1-000000", in_tmp), 1);
	CHECK_INT(tmp_dirs_pid("lb-image-2147483647-Zz09aA", in_tmp), 2147483647);
	CHECK_INT(tmp_dirs_pid(".tmp-99-q1w2e3", in_cache), 99);
}

TEST(pid_less_names_of_older_lbs_are_not_lbs_to_judge)
{
	CHECK_INT(tmp_dirs_pid("lb-tmp-aB3xYz", in_tmp), 0);
	CHECK_INT(tmp_dirs_pid("lb-tmp-123456", in_tmp), 0);    /* six digits, no pid */
	CHECK_INT(tmp_dirs_pid("lb-layers-Q9w8E7", in_tmp), 0);
	CHECK_INT(tmp_dirs_pid(".tmp-123456", in_cache), 0);
}

TEST(other_prefixes_are_not_lbs_directories)
{
	/* lb-inline-UID-HASH is a cache meant to stay */
	CHECK_INT(tmp_dirs_pid("lb-inline-1000-abcdef", in_tmp), 0);
	CHECK_INT(tmp_dirs_pid("lb-tmpx-12-abcdef", in_tmp), 0);
	CHECK_INT(tmp_dirs_pid("lb-images-12-abcdef", in_tmp), 0);
	CHECK_INT(tmp_dirs_pid("xlb-tmp-12-abcdef", in_tmp), 0);
	CHECK_INT(tmp_dirs_pid("lb-tmp", in_tmp), 0);
	CHECK_INT(tmp_dirs_pid("", in_tmp), 0);
	/* each folder has its own prefixes */
	CHECK_INT(tmp_dirs_pid(".tmp-12-abcdef", in_tmp), 0);
	CHECK_INT(tmp_dirs_pid("lb-tmp-12-abcdef", in_cache), 0);
}

TEST(pid_is_only_what_printf_writes_of_one)
{
	CHECK_INT(tmp_dirs_pid("lb-tmp-0-abcdef", in_tmp), 0);
	CHECK_INT(tmp_dirs_pid("lb-tmp-012-abcdef", in_tmp), 0);
	CHECK_INT(tmp_dirs_pid("lb-tmp--12-abcdef", in_tmp), 0);
	CHECK_INT(tmp_dirs_pid("lb-tmp-+12-abcdef", in_tmp), 0);
	CHECK_INT(tmp_dirs_pid("lb-tmp- 12-abcdef", in_tmp), 0);
	CHECK_INT(tmp_dirs_pid("lb-tmp-2147483648-abcdef", in_tmp), 0);
	CHECK_INT(tmp_dirs_pid("lb-tmp-99999999999999999999999-abcdef", in_tmp), 0);
	CHECK_INT(tmp_dirs_pid("lb-tmp-12a-abcdef", in_tmp), 0);
	CHECK_INT(tmp_dirs_pid("lb-tmp-12", in_tmp), 0);
}

TEST(suffix_is_exactly_six_letters_and_digits)
{
	CHECK_INT(tmp_dirs_pid("lb-tmp-12-abcde", in_tmp), 0);
	CHECK_INT(tmp_dirs_pid("lb-tmp-12-abcdefg", in_tmp), 0);
	CHECK_INT(tmp_dirs_pid("lb-tmp-12-abc.ef", in_tmp), 0);
	CHECK_INT(tmp_dirs_pid("lb-tmp-12-abc-ef", in_tmp), 0);
	CHECK_INT(tmp_dirs_pid("lb-tmp-12-abcdef.old", in_tmp), 0);
	CHECK_INT(tmp_dirs_pid("lb-tmp-12-", in_tmp), 0);
	CHECK_INT(tmp_dirs_pid("lb-tmp-12-\xc3\xa9\xc3\xa9\xc3\xa9", in_tmp), 0);
}

TEST(stale_only_when_the_pid_is_gone)
{
	CHECK(tmp_dirs_stale(1234, true, 1000, 1000, ESRCH));
	CHECK(!tmp_dirs_stale(1234, true, 1000, 1000, 0));       /* alive */
	CHECK(!tmp_dirs_stale(1234, true, 1000, 1000, EPERM));   /* alive, another user's */
	CHECK(!tmp_dirs_stale(1234, true, 1000, 1000, EINVAL));
}

TEST(stale_only_for_a_directory_of_lbs_own_user)
{
	CHECK(!tmp_dirs_stale(1234, true, 1001, 1000, ESRCH));
	CHECK(!tmp_dirs_stale(1234, true, 0, 1000, ESRCH));
	CHECK(!tmp_dirs_stale(1234, false, 1000, 1000, ESRCH));  /* a file or a link */
	CHECK(!tmp_dirs_stale(0, true, 1000, 1000, ESRCH));      /* no pid in its name */
	CHECK(tmp_dirs_stale(1234, true, 0, 0, ESRCH));
}

int main(void)
{
	RUN(template_carries_the_pid_before_mkdtemps_six_letters);
	RUN(template_that_does_not_fit_fails);
	RUN(a_name_mkdtemp_made_from_the_template_gives_its_pid_back);
	RUN(pid_less_names_of_older_lbs_are_not_lbs_to_judge);
	RUN(other_prefixes_are_not_lbs_directories);
	RUN(pid_is_only_what_printf_writes_of_one);
	RUN(suffix_is_exactly_six_letters_and_digits);
	RUN(stale_only_when_the_pid_is_gone);
	RUN(stale_only_for_a_directory_of_lbs_own_user);
	return test_done();
}
