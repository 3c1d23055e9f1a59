/*
 * Fuzzes lb's stack definitions (stack.c, cfn_*.c, tf_map.c): the input is
 * a CloudFormation or SAM template (YAML with short forms, or JSON) or the
 * JSON of `terraform show -json` (a state or a plan), loaded as
 * `lb -c FILE` does: without options, and again with --parameter and
 * --port-map values when it declares Parameters.
 *
 * The file is template.json when the input starts with '{', else
 * template.yaml, in a directory holding the code and layer directories the
 * seeds name (hello, src, greet-layer/python), removed at exit. Inline
 * code goes to a private TMPDIR in it, emptied now and then.
 *
 * Whatever the bytes: a configuration or an error whose message starts
 * with a file's path and a position ("template.yaml:LINE:COL: ", a nested
 * stack's file in the directory, or
 * "--parameter ..." or "--port-map ..." for an option that fits nothing in
 * the template), never a crash or leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

static char dir[64], tmp[96], yaml_path[96], json_path[96];
static unsigned runs;

static void put(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		abort();
	fwrite(p, 1, n, f);
	fclose(f);
}

static void remove_dir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_stack: could not remove %s\n", dir);
}

static void setup(void)
{
	static const char *const subdirs[] = { "hello", "src", "greet-layer", "greet-layer/python" };
	char path[160];

	strcpy(dir, "/tmp/lb-fuzz-stack-XXXXXX");
	if (!mkdtemp(dir))
		abort();
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(*subdirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, subdirs[i]);
		mkdir(path, 0700);
	}
	snprintf(path, sizeof(path), "%s/hello/index.js", dir);
	put(path, "exports.handler = async () => ({});\n", 36);
	snprintf(path, sizeof(path), "%s/src/index.py", dir);
	put(path, "def handler(e, c):\n    return {}\n", 33);
	snprintf(tmp, sizeof(tmp), "%s/tmp", dir);
	mkdir(tmp, 0700);
	setenv("TMPDIR", tmp, 1);
	snprintf(yaml_path, sizeof(yaml_path), "%s/template.yaml", dir);
	snprintf(json_path, sizeof(json_path), "%s/template.json", dir);
	log_set_level(LOG_ERROR);
	atexit(remove_dir);
}

/* "PATH:LINE:COL: " or "PATH:LINE: " at the start of msg, PATH a file in dir
 * (a nested stack's template may be any of them). */
static bool has_position(const char *msg)
{
	size_t n = strlen(dir);
	const char *p = msg + n;

	if (strncmp(msg, dir, n) != 0 || *p != '/' || !(p = strchr(p, ':')) ||
	    !(*++p >= '1' && *p <= '9'))
		return false;
	p += strspn(p, "0123456789:");
	return p[-1] == ':' && *p == ' ';
}

/* Loads path; any refusal must say where. */
static void load(const char *path, const struct stack_opts *opts)
{
	struct lb_err err;
	struct config *cfg;

	memset(&err, 0, sizeof(err));
	cfg = config_load_stack(path, opts, &err);
	if (cfg) {
		config_unref(cfg);
	} else if (!has_position(err.msg) && strncmp(err.msg, "--parameter ", 12) != 0 &&
		   strncmp(err.msg, "--port-map ", 11) != 0) {
		fprintf(stderr, "error without a position: %s\n", err.msg);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	static const char *const params[] = { "Stage=prod", "AWS::Region=eu-west-1" };
	static const char *const port_maps[] = { "80=8080", "443=0" };
	const struct stack_opts opts = { params, 2, port_maps, 2 };
	const char *path;

	if (!*dir)
		setup();
	if (++runs % 1000 == 0 && system("rm -rf -- \"$TMPDIR\"/lb-inline-*") != 0)
		abort();
	path = n > 0 && data[0] == '{' ? json_path : yaml_path;
	unlink(path == json_path ? yaml_path : json_path);
	put(path, data, n);
	load(path, NULL);
	/* --parameter values for a template that declares some (an undeclared
	 * one is refused, naming the option rather than a position). */
	if (memmem(data, n, "Parameters", 10))
		load(path, &opts);
	return 0;
}
