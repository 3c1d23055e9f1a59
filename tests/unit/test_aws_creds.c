/* The credential chain's static sources and the shared files' INI dialect (aws-integration.md §3.1). */
#include <stdlib.h>
#include <string.h>

#include "alb/aws_creds.h"
#include "test.h"

static const char creds_file[] =
	"# comment\n"
	"[default]\n"
	"aws_access_key_id = AKIADEFAULT\n"
	"aws_secret_access_key = secret/default+key\n"
	"\n"
	"[dev]\r\n"
	"aws_access_key_id=ASIADEV\r\n"
	"aws_secret_access_key=devsecret\r\n"
	"aws_session_token = devtoken==\r\n"
	"; another comment\n"
	"[half]\n"
	"aws_access_key_id = AKIAHALF\n";

static const char config_file[] =
	"[default]\n"
	"region = us-east-1\n"
	"[profile dev]\n"
	"region = eu-west-1\n"
	"s3 =\n"
	"  region = ignored-nested\n"
	"[profile   cfgkeys]\n"
	"region = ap-south-1\n"
	"aws_access_key_id = AKIACFG\n"
	"aws_secret_access_key = cfgsecret\n"
	"[dev]\n"
	"region = not-a-config-profile\n";

static const struct aws_files files = { "~/.aws/credentials", creds_file, "~/.aws/config", config_file };

TEST(default_profile_from_credentials_file)
{
	struct aws_env env = { 0 };
	struct aws_creds c;
	struct buf why = BUF_INIT;

	CHECK_INT(aws_creds_resolve(&env, &files, &c, &why), 0);
	CHECK_STR(c.access_key, "AKIADEFAULT");
	CHECK_STR(c.secret_key, "secret/default+key");
	CHECK(c.session_token == NULL);
	CHECK_STR(c.region, "us-east-1");
	CHECK_STR(c.profile, "default");
	aws_creds_release(&c);
	buf_release(&why);
}

TEST(aws_profile_selects_section_and_its_session_token)
{
	struct aws_env env = { .profile = "dev" };
	struct aws_creds c;
	struct buf why = BUF_INIT;

	CHECK_INT(aws_creds_resolve(&env, &files, &c, &why), 0);
	CHECK_STR(c.access_key, "ASIADEV");
	CHECK_STR(c.secret_key, "devsecret");
	CHECK_STR(c.session_token, "devtoken==");
	CHECK_STR(c.region, "eu-west-1");   /* [profile dev], not [dev] nor the nested s3 region */
	CHECK(strstr(c.source, "profile 'dev'") != NULL);
	aws_creds_release(&c);
	buf_release(&why);
}

TEST(environment_keys_win_over_aws_profile)
{
	struct aws_env env = { .access_key_id = "AKIAENV", .secret_access_key = "envsecret",
			       .security_token = "legacytoken", .profile = "dev", .region = "us-west-2" };
	struct aws_creds c;
	struct buf why = BUF_INIT;

	CHECK_INT(aws_creds_resolve(&env, &files, &c, &why), 0);
	CHECK_STR(c.access_key, "AKIAENV");
	CHECK_STR(c.session_token, "legacytoken");   /* AWS_SECURITY_TOKEN, the legacy alias */
	CHECK_STR(c.region, "us-west-2");
	aws_creds_release(&c);
	buf_release(&why);
}

TEST(only_one_env_key_falls_through_to_files)
{
	struct aws_env env = { .access_key_id = "AKIAENV", .default_region = "sa-east-1" };
	struct aws_creds c;
	struct buf why = BUF_INIT;

	CHECK_INT(aws_creds_resolve(&env, &files, &c, &why), 0);
	CHECK_STR(c.access_key, "AKIADEFAULT");
	CHECK_STR(c.region, "sa-east-1");   /* AWS_DEFAULT_REGION before the profile's */
	aws_creds_release(&c);
	buf_release(&why);
}

TEST(static_keys_in_config_file_profile)
{
	struct aws_env env = { .default_profile = "cfgkeys" };
	struct aws_creds c;
	struct buf why = BUF_INIT;

	CHECK_INT(aws_creds_resolve(&env, &files, &c, &why), 0);
	CHECK_STR(c.access_key, "AKIACFG");
	CHECK_STR(c.region, "ap-south-1");
	CHECK(strstr(c.source, "~/.aws/config") != NULL);
	aws_creds_release(&c);
	buf_release(&why);
}

TEST(missing_keys_say_what_was_tried)
{
	struct aws_env env = { .profile = "half" };
	struct aws_files nofiles = { "/x/credentials", NULL, "/x/config", NULL };
	struct aws_creds c;
	struct buf why = BUF_INIT;

	CHECK_INT(aws_creds_resolve(&env, &files, &c, &why), -1);   /* a key without its secret */
	CHECK(strstr(buf_cstr(&why), "profile 'half'") != NULL);
	aws_creds_release(&c);
	buf_reset(&why);
	env.profile = NULL;
	CHECK_INT(aws_creds_resolve(&env, &nofiles, &c, &why), -1);
	CHECK(strstr(buf_cstr(&why), "/x/credentials (absent)") != NULL);
	CHECK(c.region == NULL);
	aws_creds_release(&c);
	buf_release(&why);
}

TEST(ini_get_trims_and_ignores_other_sections)
{
	char *v = aws_ini_get("[a]\nk = 1\n[b]\n  k = nested\nk=2 \n", "b", "k");
	CHECK_STR(v, "2");
	free(v);
	CHECK(aws_ini_get("[a]\nk =\n", "a", "k") == NULL);
	CHECK(aws_ini_get("k = 1\n", "a", "k") == NULL);
}

int main(void)
{
	RUN(default_profile_from_credentials_file);
	RUN(aws_profile_selects_section_and_its_session_token);
	RUN(environment_keys_win_over_aws_profile);
	RUN(only_one_env_key_falls_through_to_files);
	RUN(static_keys_in_config_file_profile);
	RUN(missing_keys_say_what_was_tried);
	RUN(ini_get_trims_and_ignores_other_sections);
	return test_done();
}
