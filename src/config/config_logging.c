/*
 * config_logging: logging_config: {log_format, application_log_level,
 * system_log_level, log_group}.
 *
 * Lambda's rules, checked here so that a configuration AWS would refuse is
 * refused locally too:
 * - log_format is Text (the default) or JSON;
 * - the levels apply only to JSON logs: Lambda rejects them with Text;
 * - with JSON and no level given, both levels are INFO (Lambda's defaults);
 * - application levels are TRACE, DEBUG, INFO, WARN, ERROR, FATAL; system
 *   levels DEBUG, INFO, WARN.
 * - log_group names the CloudWatch group (AWS_LAMBDA_LOG_GROUP_NAME); its
 *   characters are CloudWatch's: letters, digits, _ - / . #, 1-512 of them.
 */
#include "config/config_logging.h"

#include <string.h>

static const char *const formats[] = { "Text", "JSON" };
static const char *const app_levels[] = { "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL" };
static const char *const system_levels[] = { "DEBUG", "INFO", "WARN" };

static const struct yfield logging_fields[] = {
	YFIELD_NODE("log_format"),
	YFIELD_NODE("application_log_level"),
	YFIELD_NODE("system_log_level"),
	YFIELD_STR("log_group", struct logging_cfg, log_group),
};

static int level_load(const struct ynode *n, const char *what, const char *const *names,
		      size_t nnames, const char **out, struct lb_err *err)
{
	int i;

	if (!n)
		return 0;
	if (ydoc_enum(n, what, names, nnames, &i, err))
		return -1;
	*out = names[i];
	return 0;
}

int config_logging_load(struct config *cfg, const struct ynode *n, struct logging_cfg *out,
			struct lb_err *err)
{
	const struct ynode *fmt = ydoc_get(n, "log_format");
	const struct ynode *app = ydoc_get(n, "application_log_level");
	const struct ynode *sys = ydoc_get(n, "system_log_level");
	int f = 0;

	*out = (struct logging_cfg){ 0 };
	if (ydoc_fields(n, "logging_config", logging_fields, ARRAY_LEN(logging_fields), out,
			&cfg->arena, err))
		return -1;
	if (fmt && ydoc_enum(fmt, "log_format", formats, ARRAY_LEN(formats), &f, err))
		return -1;
	out->json = f == 1;
	if (!out->json && (app || sys))
		return ydoc_err(err, app ? app : sys,
				"'%s' needs log_format JSON (Lambda filters levels of JSON logs only)",
				app ? "application_log_level" : "system_log_level");
	if (out->json) {
		out->app_level = "INFO";
		out->system_level = "INFO";
	}
	if (level_load(app, "application_log_level", app_levels, ARRAY_LEN(app_levels),
		       &out->app_level, err) ||
	    level_load(sys, "system_log_level", system_levels, ARRAY_LEN(system_levels),
		       &out->system_level, err))
		return -1;
	if (out->log_group) {
		size_t len = strlen(out->log_group);

		if (len < 1 || len > 512 ||
		    strspn(out->log_group, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					   "0123456789_-/.#") != len)
			return ydoc_err(err, ydoc_get(n, "log_group"),
					"'log_group' must be 1-512 letters, digits or _-/.#");
	}
	return 0;
}
