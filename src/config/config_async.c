/*
 * config_async: event_invoke_config: {maximum_retry_attempts,
 * maximum_event_age_in_seconds, destination_config: {on_success:
 * {destination}, on_failure: {destination}}}.
 *
 * Lambda's limits: retries 0-2 (default 2), event age 60-21600 seconds
 * (default 21600). A destination is one of the configuration's functions,
 * by name or ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]),
 * or file:PATH (lb's own: records appended as JSON lines; PATH relative to
 * lb.yaml's directory). Function destinations are checked once every
 * function is loaded, since a destination may be declared further down.
 */
#include "config/config_async.h"

#include <string.h>

static const struct yfield async_fields[] = {
	YFIELD_INT("maximum_retry_attempts", struct event_invoke_cfg, max_retries, 0, 2),
	YFIELD_INT("maximum_event_age_in_seconds", struct event_invoke_cfg, max_age, 60, 21600),
	YFIELD_NODE("destination_config"),
};

static const struct yfield dest_config_fields[] = {
	YFIELD_NODE("on_success"),
	YFIELD_NODE("on_failure"),
};

static const struct yfield dest_fields[] = {
	YFIELD_STR("destination", struct async_destination, raw, .required = true),
};

/* NAME or arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]. */
static int function_name_of(struct config *cfg, const struct ynode *at, struct async_destination *d,
			    struct lb_err *err)
{
	const char *s = d->raw, *tok[8] = { 0 };
	size_t ntok = 0;
	const char *p = s;

	if (strncmp(s, "arn:", 4) != 0) {
		if (strchr(s, ':'))
			return ydoc_err(err, at, "destination '%s' must be a function's name or ARN, or file:PATH",
					s);
		d->function = s;
		return 0;
	}
	while (ntok < 8) {
		tok[ntok++] = p;
		if (!(p = strchr(p, ':')))
			break;
		p++;
	}
	if (ntok < 7 || p || strncmp(tok[2], "lambda:", 7) != 0 || strncmp(tok[5], "function:", 9) != 0)
		return ydoc_err(err, at, "destination '%s' is not a Lambda function ARN "
				"(arn:aws:lambda:REGION:ACCOUNT:function:NAME)", s);
	d->function = arena_strndup(&cfg->arena, tok[6], ntok == 8 ? (size_t)(tok[7] - 1 - tok[6])
								 : strlen(tok[6]));
	if (ntok == 8)
		d->qualifier = tok[7];
	return 0;
}

static int dest_load(struct config *cfg, const struct ynode *n, const char *what, struct async_destination *d,
		     struct lb_err *err)
{
	const struct ynode *v;

	if (!n)
		return 0;
	if (ydoc_fields(n, what, dest_fields, ARRAY_LEN(dest_fields), d, &cfg->arena, err))
		return -1;
	v = ydoc_get(n, "destination");
	if (strncmp(d->raw, "file:", 5) == 0) {
		const char *path = d->raw + 5;

		if (!*path)
			return ydoc_err(err, v, "destination 'file:' needs a path");
		if (path[0] == '/' || !cfg->dir)
			d->file = path;
		else {
			size_t nd = strlen(cfg->dir), np = strlen(path);
			char *full = arena_alloc(&cfg->arena, nd + np + 2);

			memcpy(full, cfg->dir, nd);
			full[nd] = '/';
			memcpy(full + nd + 1, path, np + 1);
			d->file = full;
		}
		return 0;
	}
	return function_name_of(cfg, v, d, err);
}

int config_async_load(struct config *cfg, const struct ynode *n, struct event_invoke_cfg *out,
		      struct lb_err *err)
{
	const struct ynode *dc;

	if (ydoc_fields(n, "event_invoke_config", async_fields, ARRAY_LEN(async_fields), out, &cfg->arena,
			err))
		return -1;
	if (!(dc = ydoc_get(n, "destination_config")))
		return 0;
	if (ydoc_fields(dc, "destination_config", dest_config_fields, ARRAY_LEN(dest_config_fields), NULL,
			&cfg->arena, err))
		return -1;
	return dest_load(cfg, ydoc_get(dc, "on_success"), "on_success", &out->on_success, err) ||
	       dest_load(cfg, ydoc_get(dc, "on_failure"), "on_failure", &out->on_failure, err) ? -1 : 0;
}

static bool has_qualifier(const struct function_cfg *fn, const char *q)
{
	if (strcmp(q, "$LATEST") == 0)
		return true;
	for (size_t i = 0; i < fn->nversions; i++)
		if (strcmp(fn->versions[i].version, q) == 0)
			return true;
	for (size_t i = 0; i < fn->naliases; i++)
		if (strcmp(fn->aliases[i].name, q) == 0)
			return true;
	return false;
}

static int dest_check(const struct config *cfg, const struct async_destination *d, const struct ynode *at,
		      struct lb_err *err)
{
	const struct function_cfg *target;

	if (!d->function)
		return 0;
	if (!(target = config_function(cfg, d->function)))
		return ydoc_err(err, at, "destination function '%s' is not defined in functions", d->function);
	if (d->qualifier && !has_qualifier(target, d->qualifier))
		return ydoc_err(err, at, "destination function '%s' has no version or alias '%s'", d->function,
				d->qualifier);
	return 0;
}

int config_async_check(const struct config *cfg, const struct function_cfg *fn, const struct ynode *n,
		       struct lb_err *err)
{
	const struct ynode *dc = ydoc_get(n, "event_invoke_config");
	const struct ynode *s, *f;

	if (dc)
		dc = ydoc_get(dc, "destination_config");
	if (!dc)
		return 0;
	s = ydoc_get(dc, "on_success");
	f = ydoc_get(dc, "on_failure");
	return dest_check(cfg, &fn->async.on_success, s ? ydoc_get(s, "destination") : n, err) ||
	       dest_check(cfg, &fn->async.on_failure, f ? ydoc_get(f, "destination") : n, err) ? -1 : 0;
}
