/*
 * Fuzzes configuration loading (YAML reading, every section's parser, rule
 * files): any bytes must load or fail with a message, never crash or leak.
 *
 * Input: "LB.YAML\0RULES.YAML" writes both files; without a NUL the input is
 * a rule file under a fixed lb.yaml that includes it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

static char dir[64];
static char lb_path[96], rules_path[96];

static const char fixed_lb[] =
	"listeners:\n"
	"  - port: 8080\n"
	"    rules: [\"rules.yaml\"]\n"
	"    default_actions: [{type: fixed-response, fixed_response: {status_code: \"404\"}}]\n"
	"target_groups:\n"
	"  - {name: fn, target_type: lambda, targets: [fn]}\n"
	"functions:\n"
	"  - {name: fn, runtime: python3.11, handler: app.handler, code: .}\n";

static void put(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f)
		abort();
	fwrite(p, 1, n, f);
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	const uint8_t *nul = memchr(data, 0, n);
	struct lb_err err;
	struct config *cfg;

	if (!*dir) {
		strcpy(dir, "/tmp/lb-fuzz-config-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		snprintf(lb_path, sizeof(lb_path), "%s/lb.yaml", dir);
		snprintf(rules_path, sizeof(rules_path), "%s/rules.yaml", dir);
	}
	if (nul) {
		put(lb_path, data, (size_t)(nul - data));
		put(rules_path, nul + 1, n - (size_t)(nul - data) - 1);
	} else {
		put(lb_path, fixed_lb, sizeof(fixed_lb) - 1);
		put(rules_path, data, n);
	}
	memset(&err, 0, sizeof(err));
	cfg = config_load(lb_path, &err);
	if (cfg)
		config_unref(cfg);
	else if (!err.msg[0])
		abort();   /* a refusal always says why */
	return 0;
}
