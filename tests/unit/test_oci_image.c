/*
 * Unit tests for oci_image (the pure rules of container images): blob
 * digests to paths, index/manifest/config JSON of OCI layouts and `docker
 * save` archives, entry names that must stay inside the root, whiteouts,
 * and Lambda's ImageConfig overrides of ENTRYPOINT and CMD.
 */
#include <stdlib.h>
#include <string.h>

#include "alb/oci_image.h"
#include "test.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static struct lb_err err;

static const char *entry(const char *name)
{
	static char out[256];
	char *p = NULL;
	int rc = oci_entry_path(name, &p);

	snprintf(out, sizeof(out), "%s", rc < 0 ? "(refused)" : rc > 0 ? "(root)" : p);
	free(p);
	return out;
}

TEST(entry_paths_are_normalized_inside_the_root)
{
	CHECK_STR(entry("etc/passwd"), "etc/passwd");
	CHECK_STR(entry("./etc//x/./y/"), "etc/x/y");
	CHECK_STR(entry("/usr/bin/env"), "usr/bin/env");
	CHECK_STR(entry("./"), "(root)");
	CHECK_STR(entry("/"), "(root)");
	CHECK_STR(entry("."), "(root)");
	CHECK_STR(entry("..."), "...");
	CHECK_STR(entry("a/..b"), "a/..b");
}

TEST(entry_paths_with_dot_dot_are_refused)
{
	CHECK_STR(entry("../escape"), "(refused)");
	CHECK_STR(entry("a/../../b"), "(refused)");
	CHECK_STR(entry("a/.."), "(refused)");
	CHECK_STR(entry("/../etc"), "(refused)");
}

static const char *wh(const char *path, enum oci_whiteout want)
{
	static char out[256];
	char *t = NULL;
	enum oci_whiteout got = oci_whiteout(path, &t);

	snprintf(out, sizeof(out), "%s", got != want ? "(kind differs)" : t ? t : "(none)");
	free(t);
	return out;
}

TEST(whiteouts_name_the_deleted_path_or_the_opaque_directory)
{
	CHECK_STR(wh("etc/.wh.removed.txt", OCI_WH_FILE), "etc/removed.txt");
	CHECK_STR(wh(".wh.top", OCI_WH_FILE), "top");
	CHECK_STR(wh("var/task/.wh..wh..opq", OCI_WH_OPAQUE), "var/task");
	CHECK_STR(wh(".wh..wh..opq", OCI_WH_OPAQUE), "");
	CHECK_STR(wh("etc/wh.not", OCI_WH_NONE), "(none)");
	CHECK_STR(wh("etc/.whx", OCI_WH_NONE), "(none)");
	CHECK_STR(wh("etc/.wh.", OCI_WH_NONE), "(none)");
	CHECK_STR(wh("etc/.wh..", OCI_WH_NONE), "(none)");
	CHECK_STR(wh(".wh.dir/file", OCI_WH_NONE), "(none)");
}

TEST(blob_paths_come_only_from_digests)
{
	char *p = NULL;

	CHECK_INT(oci_blob_path("sha256:" HEX64, &p, &err), 0);
	CHECK_STR(p, "blobs/sha256/" HEX64);
	free(p);
	CHECK_INT(oci_blob_path("sha256:../../etc/passwd", &p, &err), -1);
	CHECK_INT(oci_blob_path("sha256:ABCDEF" HEX64, &p, &err), -1);
	CHECK_INT(oci_blob_path("../x:" HEX64, &p, &err), -1);
	CHECK_INT(oci_blob_path(HEX64, &p, &err), -1);
	CHECK_INT(oci_blob_path("sha256:abc", &p, &err), -1);
}

TEST(index_picks_linux_of_the_machines_architecture)
{
	const char *json = "{\"manifests\":["
		"{\"digest\":\"sha256:1111\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}},"
		"{\"digest\":\"sha256:2222\",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"},"
		"\"mediaType\":\"application/vnd.oci.image.index.v1+json\"}]}";
	char *d = NULL;
	bool nested = false;

	CHECK_INT(oci_index_pick(json, strlen(json), "amd64", &d, &nested, &err), 0);
	CHECK_STR(d, "sha256:2222");
	CHECK(nested);
	free(d);
	CHECK_INT(oci_index_pick(json, strlen(json), "arm64", &d, &nested, &err), 0);
	CHECK_STR(d, "sha256:1111");
	CHECK(!nested);
	free(d);
	CHECK_INT(oci_index_pick(json, strlen(json), "s390x", &d, &nested, &err), 0);
	CHECK_STR(d, "sha256:1111");   /* the first when none matches */
	free(d);
	CHECK_INT(oci_index_pick("{\"manifests\":[]}", 16, "amd64", &d, &nested, &err), -1);
	CHECK_INT(oci_index_pick("{", 1, "amd64", &d, &nested, &err), -1);
}

TEST(oci_manifest_gives_config_and_layers_in_order)
{
	const char *json = "{\"config\":{\"digest\":\"sha256:" HEX64 "\"},\"layers\":["
			   "{\"digest\":\"sha256:" HEX64 "\"},{\"digest\":\"sha512:" HEX64 HEX64 "\"}]}";
	struct oci_manifest m;

	CHECK_INT(oci_manifest_parse(json, strlen(json), &m, &err), 0);
	CHECK_STR(m.config, "blobs/sha256/" HEX64);
	CHECK_INT(m.nlayers, 2);
	CHECK_STR(m.layers[1], "blobs/sha512/" HEX64 HEX64);
	oci_manifest_release(&m);
	json = "{\"config\":{\"digest\":\"sha256:" HEX64 "\"},\"layers\":[{\"digest\":\"../x\"}]}";
	CHECK_INT(oci_manifest_parse(json, strlen(json), &m, &err), -1);
	CHECK(strstr(err.msg, "layers entry 1") != NULL);
}

TEST(docker_manifest_paths_stay_inside_the_archive)
{
	const char *json = "[{\"Config\":\"abc.json\",\"RepoTags\":[\"x:latest\"],"
			   "\"Layers\":[\"l1/layer.tar\",\"./l2/layer.tar\"]}]";
	struct oci_manifest m;

	CHECK_INT(docker_manifest_parse(json, strlen(json), &m, &err), 0);
	CHECK_STR(m.config, "abc.json");
	CHECK_INT(m.nlayers, 2);
	CHECK_STR(m.layers[1], "l2/layer.tar");
	oci_manifest_release(&m);
	json = "[{\"Config\":\"abc.json\",\"Layers\":[\"../../etc/passwd\"]}]";
	CHECK_INT(docker_manifest_parse(json, strlen(json), &m, &err), -1);
	json = "[{\"Config\":\"../abc.json\",\"Layers\":[]}]";
	CHECK_INT(docker_manifest_parse(json, strlen(json), &m, &err), -1);
	CHECK_INT(docker_manifest_parse("[]", 2, &m, &err), -1);
}

TEST(config_reads_entrypoint_cmd_workdir_env)
{
	const char *json = "{\"config\":{\"Entrypoint\":[\"/lambda-entrypoint.sh\"],\"Cmd\":[\"app.handler\"],"
			   "\"WorkingDir\":\"/var/task\",\"Env\":[\"A=1\",\"B=x=y\"],\"User\":\"1000\"}}";
	struct oci_config c;

	CHECK_INT(oci_config_parse(json, strlen(json), &c, &err), 0);
	CHECK_INT(c.nentrypoint, 1);
	CHECK_STR(c.entrypoint[0], "/lambda-entrypoint.sh");
	CHECK_STR(c.cmd[0], "app.handler");
	CHECK_STR(c.workdir, "/var/task");
	CHECK_INT(c.nenv, 2);
	CHECK_STR(c.env[1], "B=x=y");
	oci_config_release(&c);
	CHECK_INT(oci_config_parse("{}", 2, &c, &err), 0);
	CHECK_INT(c.nentrypoint + c.ncmd + c.nenv, 0);
	CHECK(c.workdir == NULL);
	oci_config_release(&c);
	CHECK_INT(oci_config_parse("[1]", 3, &c, &err), -1);
}

/* Why: Docker reads Entrypoint and Cmd as a list or one string (its strslice). */
TEST(config_entrypoint_and_cmd_may_be_one_string_and_other_types_are_refused)
{
	const char *one = "{\"config\":{\"Entrypoint\":\"/bin/sh -c x\",\"Cmd\":null,\"WorkingDir\":null}}";
	static const char *const bad[][2] = {
		{ "{\"config\":{\"Cmd\":[\"a\",5,\"b\"]}}", "Cmd must be a list of strings: element 2 is not a string" },
		{ "{\"config\":{\"Entrypoint\":{\"a\":1}}}", "Entrypoint must be a list of strings (or one string)" },
		{ "{\"config\":{\"Env\":\"A=1\"}}", "Env must be a list of strings" },
		{ "{\"config\":{\"Env\":[\"A=1\",null]}}", "Env must be a list of strings: element 2" },
		{ "{\"config\":{\"WorkingDir\":[\"/x\"]}}", "WorkingDir must be a string" },
		{ "{\"config\":\"x\"}", "config is not a JSON object" },
	};
	struct oci_config c;

	CHECK_INT(oci_config_parse(one, strlen(one), &c, &err), 0);
	CHECK_INT(c.nentrypoint, 1);
	CHECK_STR(c.entrypoint ? c.entrypoint[0] : "(none)", "/bin/sh -c x");   /* one argument */
	CHECK_INT(c.ncmd, 0);
	CHECK(c.workdir == NULL);
	oci_config_release(&c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err.msg[0] = '\0';
		CHECK_INT(oci_config_parse(bad[i][0], strlen(bad[i][0]), &c, &err), -1);
		CHECK(strstr(err.msg, bad[i][1]) != NULL);
		CHECK(c.entrypoint == NULL && c.cmd == NULL && c.env == NULL);
	}
}

static const char *joined(char **argv)
{
	static char out[512];

	out[0] = '\0';
	for (size_t i = 0; argv && argv[i]; i++) {
		strcat(out, i ? " " : "");
		strcat(out, argv[i]);
	}
	oci_argv_free(argv);
	return argv ? out : "(none)";
}

TEST(image_config_overrides_entrypoint_and_command_separately)
{
	char *ep[] = { "/ep", "-x" }, *cmd[] = { "app.handler" };
	struct oci_config c = { .nentrypoint = 2, .ncmd = 1, .entrypoint = ep, .cmd = cmd };
	const char *my_ep[] = { "/other" }, *my_cmd[] = { "b.handler", "y" };

	CHECK_STR(joined(oci_run_argv(&c, NULL, 0, NULL, 0)), "/ep -x app.handler");
	CHECK_STR(joined(oci_run_argv(&c, NULL, 0, my_cmd, 2)), "/ep -x b.handler y");
	CHECK_STR(joined(oci_run_argv(&c, my_ep, 1, NULL, 0)), "/other app.handler");
	CHECK_STR(joined(oci_run_argv(&c, my_ep, 1, my_cmd, 2)), "/other b.handler y");
	c.nentrypoint = c.ncmd = 0;
	CHECK_STR(joined(oci_run_argv(&c, NULL, 0, NULL, 0)), "(none)");
}

int main(void)
{
	RUN(entry_paths_are_normalized_inside_the_root);
	RUN(entry_paths_with_dot_dot_are_refused);
	RUN(whiteouts_name_the_deleted_path_or_the_opaque_directory);
	RUN(blob_paths_come_only_from_digests);
	RUN(index_picks_linux_of_the_machines_architecture);
	RUN(oci_manifest_gives_config_and_layers_in_order);
	RUN(docker_manifest_paths_stay_inside_the_archive);
	RUN(config_reads_entrypoint_cmd_workdir_env);
	RUN(config_entrypoint_and_cmd_may_be_one_string_and_other_types_are_refused);
	RUN(image_config_overrides_entrypoint_and_command_separately);
	return test_done();
}
