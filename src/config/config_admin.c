/*
 * config_admin: admin: {port, address, history, body_limit, mask_secrets,
 * allowed_hosts}. The console is lb's own, not an AWS resource: its keys are
 * lb's, loopback by default, and a port a listener or the Invoke API
 * already binds is refused here, before lb binds anything. allowed_hosts
 * are host names as a Host header carries them (no scheme, port or path),
 * checked here so a typo such as "http://lb:9400" is an error at its place
 * rather than a console that refuses every request.
 */
#include "config/config_admin.h"

#include <ctype.h>
#include <string.h>

#include "config/config_int.h"

#define HISTORY_DEFAULT 200
#define BODY_LIMIT_DEFAULT 8192

static const struct yfield admin_fields[] = {
	YFIELD_INT("port", struct admin_cfg, port, 0, 65535, .required = true),
	YFIELD_STR("address", struct admin_cfg, address),
	YFIELD_INT("history", struct admin_cfg, history, 1, 100000),
	YFIELD_INT("body_limit", struct admin_cfg, body_limit, 0, 1048576),
	YFIELD_BOOL("mask_secrets", struct admin_cfg, mask_secrets),
	YFIELD_STR_LIST("allowed_hosts", struct admin_cfg, allowed_hosts, nallowed_hosts),
};

/* A DNS name ("lb", "lb.internal"), optionally "*." + one (any name under
 * it): labels of letters, digits, '-' and '_' (Docker's container names
 * have them), 1-63 bytes each, 253 in all. */
static bool host_pattern_ok(const char *s)
{
	size_t label = 0;

	if (strncmp(s, "*.", 2) == 0)
		s += 2;
	if (!*s || strlen(s) > 253)
		return false;
	for (; *s; s++) {
		if (*s == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (isalnum((unsigned char)*s) || *s == '-' || *s == '_') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0;
}

static int check_allowed_hosts(const struct admin_cfg *a, const struct ynode *n, struct lb_err *err)
{
	const struct ynode *list = ydoc_get(n, "allowed_hosts");

	for (size_t i = 0; i < a->nallowed_hosts; i++) {
		if (!host_pattern_ok(a->allowed_hosts[i]))
			return ydoc_err(err, list->items[i], "'allowed_hosts' takes host names such as lb or "
					"*.example.test (no scheme, port or path), not '%s'", a->allowed_hosts[i]);
	}
	return 0;
}

static bool same_socket(const char *a, int pa, const char *b, int pb)
{
	uint8_t ka[17], kb[17];

	return pa != 0 && pa == pb && config_address_key(a, ka) == 0 && config_address_key(b, kb) == 0 &&
	       memcmp(ka, kb, sizeof(ka)) == 0;
}

int config_admin_load(struct config *cfg, const struct ynode *n, struct lb_err *err)
{
	struct admin_cfg *a = &cfg->admin;
	uint8_t key[17];

	if (!n)
		return 0;
	*a = (struct admin_cfg){ .enabled = true, .pos = { n->file, n->line, n->col }, .address = "127.0.0.1",
				 .history = HISTORY_DEFAULT, .body_limit = BODY_LIMIT_DEFAULT,
				 .mask_secrets = true };
	if (ydoc_fields(n, "admin", admin_fields, ARRAY_LEN(admin_fields), a, &cfg->arena, err) ||
	    check_allowed_hosts(a, n, err))
		return -1;
	if (config_address_key(a->address, key))
		return ydoc_err(err, ydoc_get(n, "address"), "'address' must be an IPv4 or IPv6 "
				"address, not '%s'", a->address);
	for (size_t i = 0; i < cfg->nlisteners; i++) {
		const struct listener_cfg *l = &cfg->listeners[i];

		if (same_socket(a->address, a->port, l->address, l->port))
			return ydoc_err(err, ydoc_get(n, "port"), "%s:%d is already the listener on "
					"line %d", a->address, a->port, l->pos.line);
	}
	if (cfg->lambda_api.enabled &&
	    same_socket(a->address, a->port, cfg->lambda_api.address, cfg->lambda_api.port))
		return ydoc_err(err, ydoc_get(n, "port"), "%s:%d is already the lambda_api on line %d",
				a->address, a->port, cfg->lambda_api.pos.line);
	return 0;
}
