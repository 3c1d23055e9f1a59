/*
 * rules_action: actions (reference/alb-listener-rules.md §2), read into the
 * one routing action a rule performs.
 *
 * A list holds one routing action and at most one authentication action
 * (authenticate-oidc, authenticate-cognito or jwt-validation) before it.
 * Each type's configuration key may appear only with its type, as in AWS's
 * Action shape (§2.1).
 *
 * Limits are named constants below. Strings are copied into cfg->arena; the
 * YAML nodes are not kept.
 */
#include "config/rules_action.h"

#include <stdlib.h>
#include <string.h>

#include "config/rules_auth.h"
#include "config/rules_jwt.h"

/* ALB's action limits (alb-listener-rules.md §1, §2). */
enum {
	ACTION_ORDER_MIN = 1,          /* §2.1: Order 1-50000 */
	ACTION_ORDER_MAX = 50000,
	FORWARD_GROUPS_MAX = 5,        /* §1, §2.2: target groups per action */
	FORWARD_WEIGHT_MAX = 999,      /* §2.2: Weight 0-999 */
	STICKINESS_MIN = 1,            /* §2.2: DurationSeconds 1-604800 */
	STICKINESS_MAX = 604800,
	REDIRECT_HOST_MAX = 128,       /* §2.3 */
	REDIRECT_PATH_MAX = 128,       /* §2.3 */
	REDIRECT_QUERY_MAX = 128,      /* §2.3 */
	FIXED_BODY_MAX = 1024,         /* §2.4: MessageBody 0-1024 */
};

/* Action.Type (§2.1); the first three are enum action_type's, in its order. */
enum { TYPE_FORWARD, TYPE_REDIRECT, TYPE_FIXED, TYPE_OIDC, TYPE_COGNITO, TYPE_JWT };
static const char *const type_names[] = {
	"forward", "redirect", "fixed-response", "authenticate-oidc", "authenticate-cognito",
	"jwt-validation",
};
/* The key holding each type's configuration. */
static const char *const config_keys[] = {
	"forward", "redirect", "fixed_response", "authenticate_oidc", "authenticate_cognito",
	"jwt_validation",
};

static const struct yfield action_fields[] = {
	YFIELD_NODE("type", .required = true),
	YFIELD_NODE("order"),
	YFIELD_NODE("target_group"),
	YFIELD_NODE("forward"),
	YFIELD_NODE("redirect"),
	YFIELD_NODE("fixed_response"),
	YFIELD_NODE("authenticate_oidc"),
	YFIELD_NODE("authenticate_cognito"),
	YFIELD_NODE("jwt_validation"),
};
static const struct yfield forward_fields[] = {
	YFIELD_NODE("target_groups", .required = true),
	YFIELD_NODE("stickiness"),
};
static const struct yfield tuple_fields[] = {
	YFIELD_NODE("name", .required = true),
	YFIELD_INT("weight", struct forward_target, weight, 0, FORWARD_WEIGHT_MAX),
};
static const struct yfield stickiness_fields[] = {
	YFIELD_BOOL("enabled", struct forward_cfg, stickiness),
	YFIELD_INT("duration", struct forward_cfg, stickiness_duration, STICKINESS_MIN,
		   STICKINESS_MAX),
};
static const struct yfield redirect_fields[] = {
	YFIELD_STR("protocol", struct redirect_cfg, protocol),
	YFIELD_STR("port", struct redirect_cfg, port),
	YFIELD_STR("host", struct redirect_cfg, host),
	YFIELD_STR("path", struct redirect_cfg, path),
	YFIELD_STR("query", struct redirect_cfg, query),
	YFIELD_NODE("status_code", .required = true),
};
static const struct yfield fixed_fields[] = {
	YFIELD_NODE("status_code", .required = true),
	YFIELD_NODE("content_type"),
	YFIELD_STR("message_body", struct fixed_response_cfg, body),
};

/* §2.3: RedirectActionStatusCodeEnum */
static const char *const redirect_codes[] = { "HTTP_301", "HTTP_302" };
/* §2.4: the content types a fixed response may declare */
static const char *const content_types[] = {
	"text/plain", "text/css", "text/html", "application/javascript", "application/json",
};

static bool redirect_protocol_ok(const char *s)
{
	return strcmp(s, "HTTP") == 0 || strcmp(s, "HTTPS") == 0 || strcmp(s, "#{protocol}") == 0;
}

static bool redirect_port_ok(const char *s)
{
	size_t n = strlen(s);

	if (strcmp(s, "#{port}") == 0)
		return true;
	if (n == 0 || n > 5 || strspn(s, "0123456789") != n || s[0] == '0')
		return false;
	return atoi(s) <= 65535;
}

static bool redirect_path_ok(const char *s)
{
	return s[0] == '/';
}

static bool redirect_query_ok(const char *s)
{
	return s[0] != '?';
}

/*
 * A redirect component (§2.3): its length, its syntax, the placeholders it
 * may use, and the value that leaves it as it was (the Terraform defaults:
 * a loop check treats it as unchanged). ALB also refuses HTTPS->HTTP, which
 * cannot arise while lb's listeners are all HTTP.
 */
struct redirect_part {
	const char *key;
	size_t off;                   /* const char * in struct redirect_cfg */
	size_t min_len, max_len;      /* max_len 0: ok() says it all */
	bool (*ok)(const char *s);
	const char *rule;             /* what ok wants, for the message */
	const char *placeholders;     /* allowed #{...} names, space-separated */
	const char *unchanged;
};

static const struct redirect_part redirect_parts[] = {
	{ "protocol", offsetof(struct redirect_cfg, protocol), 0, 0, redirect_protocol_ok,
	  "must be HTTP, HTTPS or #{protocol}", "protocol", "#{protocol}" },
	{ "port", offsetof(struct redirect_cfg, port), 0, 0, redirect_port_ok,
	  "must be 1-65535 or #{port}", "port", "#{port}" },
	{ "host", offsetof(struct redirect_cfg, host), 1, REDIRECT_HOST_MAX, NULL, NULL, "host",
	  "#{host}" },
	{ "path", offsetof(struct redirect_cfg, path), 1, REDIRECT_PATH_MAX, redirect_path_ok,
	  "must be an absolute path starting with '/'", "host path port", "/#{path}" },
	{ "query", offsetof(struct redirect_cfg, query), 0, REDIRECT_QUERY_MAX, redirect_query_ok,
	  "must be given without the leading '?'", "protocol host port path query", NULL },
};

/* Whether the n bytes at name are one of the space-separated words of list. */
static bool word_in(const char *list, const char *name, size_t n)
{
	while (*list) {
		size_t len = strcspn(list, " ");

		if (len == n && strncmp(list, name, n) == 0)
			return true;
		list += len;
		list += strspn(list, " ");
	}
	return false;
}

/* Each #{name} in s must be a placeholder the component allows (§2.3). */
static int placeholders_check(const struct ynode *at, const struct redirect_part *part,
			      const char *s, struct lb_err *err)
{
	const char *end;

	for (; (s = strstr(s, "#{")) && (end = strchr(s, '}')); s = end + 1) {
		size_t n = (size_t)(end - s - 2);

		if (!word_in(part->placeholders, s + 2, n))
			return ydoc_err(err, at, "placeholder '%.*s' can't be used in '%s'",
					(int)(n + 3), s, part->key);
	}
	return 0;
}

static int redirect_part_check(const struct ynode *n, const struct redirect_part *part,
			       const char *s, struct lb_err *err)
{
	const struct ynode *at = ydoc_get(n, part->key);
	size_t len = strlen(s);

	if (part->max_len && (len < part->min_len || len > part->max_len)) {
		if (part->min_len)
			return ydoc_err(err, at, "'%s' must be %zu-%zu characters", part->key,
					part->min_len, part->max_len);
		return ydoc_err(err, at, "'%s' must be at most %zu characters", part->key,
				part->max_len);
	}
	if (part->ok && !part->ok(s))
		return ydoc_err(err, at, "'%s' %s, not '%s'", part->key, part->rule, s);
	/* A control byte (a YAML escape writes one) would land in Location. */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return ydoc_err(err, at, "'%s' holds a control character (byte %zu)", part->key, i + 1);
	return placeholders_check(at, part, s, err);
}

static int redirect_load(struct config *cfg, const struct ynode *n, struct redirect_cfg *r,
			 struct lb_err *err)
{
	bool changes = false;
	int code;

	if (ydoc_fields(n, "redirect", redirect_fields, ARRAY_LEN(redirect_fields), r,
			&cfg->arena, err) ||
	    ydoc_enum(ydoc_get(n, "status_code"), "status_code", redirect_codes,
		      ARRAY_LEN(redirect_codes), &code, err))
		return -1;
	r->status_code = code == 0 ? 301 : 302;
	for (size_t i = 0; i < ARRAY_LEN(redirect_parts); i++) {
		const struct redirect_part *part = &redirect_parts[i];
		const char *s = *(const char *const *)((const char *)r + part->off);

		if (!s)
			continue;
		if (redirect_part_check(n, part, s, err))
			return -1;
		changes |= part->unchanged && strcmp(s, part->unchanged) != 0;
	}
	/* Why: ALB requires one of protocol, host, port or path to change; the
	 * query alone does not count (§2.3, "Loop avoidance"). */
	if (!changes)
		return ydoc_err(err, n, "redirect would loop: change the protocol, host, port or "
				"path");
	return 0;
}

static int fixed_load(struct config *cfg, const struct ynode *n, struct fixed_response_cfg *f,
		      struct lb_err *err)
{
	const struct ynode *status = ydoc_get(n, "status_code");
	const struct ynode *type = ydoc_get(n, "content_type");
	const char *s;
	int i;

	f->body = "";
	if (ydoc_fields(n, "fixed_response", fixed_fields, ARRAY_LEN(fixed_fields), f,
			&cfg->arena, err) ||
	    ydoc_str(status, "status_code", &s, err))
		return -1;
	/* Why: StatusCode matches ^(2|4|5)\d\d$ (§2.4). */
	if (status->len != 3 || !strchr("245", s[0]) || strspn(s + 1, "0123456789") != 2)
		return ydoc_err(err, status,
				"'status_code' must be a 2XX, 4XX or 5XX code, not '%s'", s);
	f->status_code = atoi(s);
	if (type && ydoc_enum(type, "content_type", content_types, ARRAY_LEN(content_types), &i,
			      err))
		return -1;
	f->content_type = type ? content_types[i] : NULL;
	f->body_len = strlen(f->body);
	if (f->body_len > FIXED_BODY_MAX)
		return ydoc_err(err, ydoc_get(n, "message_body"),
				"'message_body' must be at most %d bytes", FIXED_BODY_MAX);
	return 0;
}

static int group_resolve(struct config *cfg, const struct ynode *name, struct forward_target *t,
			 struct lb_err *err)
{
	const char *s;

	if (ydoc_str(name, "name", &s, err))
		return -1;
	if (!(t->tg = config_target_group(cfg, s)))
		return ydoc_err(err, name, "target group '%s' is not defined", s);
	t->name = t->tg->name;
	return 0;
}

static int stickiness_load(const struct ynode *n, struct forward_cfg *f, struct lb_err *err)
{
	if (ydoc_fields(n, "stickiness", stickiness_fields, ARRAY_LEN(stickiness_fields), f, NULL,
			err))
		return -1;
	/* Why: DurationSeconds is required when stickiness is enabled (§2.2). */
	if (f->stickiness && !ydoc_key(n, "duration"))
		return ydoc_err(err, n, "missing key 'duration' (stickiness is enabled)");
	return 0;
}

/* forward: {target_groups: [{name, weight}], stickiness: {enabled, duration}} */
static int forward_config_load(struct config *cfg, const struct ynode *n, struct forward_cfg *f,
			       struct lb_err *err)
{
	const struct ynode *groups = ydoc_get(n, "target_groups"), *st = ydoc_get(n, "stickiness");

	if (ydoc_fields(n, "forward", forward_fields, ARRAY_LEN(forward_fields), NULL, NULL, err) ||
	    ydoc_list(groups, "target_groups", YNODE_MAPPING, err))
		return -1;
	if (groups->n == 0 || groups->n > FORWARD_GROUPS_MAX)
		return ydoc_err(err, groups, "'target_groups' must list 1-%d target groups",
				FORWARD_GROUPS_MAX);
	f->groups = arena_alloc(&cfg->arena, groups->n * sizeof(*f->groups));
	for (; f->ngroups < groups->n; f->ngroups++) {
		const struct ynode *item = groups->items[f->ngroups];
		struct forward_target *t = &f->groups[f->ngroups];

		t->weight = 1;
		if (ydoc_fields(item, "target_groups", tuple_fields, ARRAY_LEN(tuple_fields), t,
				NULL, err) ||
		    group_resolve(cfg, ydoc_get(item, "name"), t, err))
			return -1;
		for (size_t i = 0; i < f->ngroups; i++) {
			if (f->groups[i].tg == t->tg)
				return ydoc_err(err, ydoc_get(item, "name"),
						"target group '%s' is listed twice", t->name);
		}
	}
	if (st && stickiness_load(st, f, err))
		return -1;
	/* Why: a weighted forward to a group with target stickiness needs
	 * target-group stickiness on the rule (alb-listener-rules.md §2.2). */
	for (size_t i = 0; f->ngroups > 1 && !f->stickiness && i < f->ngroups; i++) {
		if (f->groups[i].tg->attrs.stickiness)
			return ydoc_err(err, ydoc_get(groups->items[i], "name"), "target group '%s' "
					"is sticky: a forward to several target groups needs "
					"'stickiness' enabled", f->groups[i].name);
	}
	return 0;
}

static int forward_load(struct config *cfg, const struct ynode *n, struct forward_cfg *f,
			struct lb_err *err)
{
	const struct ynode *tg = ydoc_get(n, "target_group"), *fc = ydoc_get(n, "forward");
	struct forward_target single = { .weight = 1 };

	if (!tg && !fc)
		return ydoc_err(err, n, "a forward action needs 'target_group' or 'forward'");
	if (fc && forward_config_load(cfg, fc, f, err))
		return -1;
	if (!tg)
		return 0;
	if (group_resolve(cfg, tg, &single, err))
		return -1;
	/* Why: with both TargetGroupArn and ForwardConfig, ForwardConfig must
	 * hold exactly that one target group (§2.2). */
	if (fc && (f->ngroups != 1 || f->groups[0].tg != single.tg))
		return ydoc_err(err, tg, "with 'target_group', 'forward' must list only '%s'",
				single.name);
	if (!fc) {
		f->groups = arena_alloc(&cfg->arena, sizeof(*f->groups));
		f->groups[0] = single;
		f->ngroups = 1;
	}
	return 0;
}

/* type and order, and no other type's configuration. */
static int action_head(const struct ynode *n, int *type, struct lb_err *err)
{
	const struct ynode *order = ydoc_get(n, "order"), *tg = ydoc_key(n, "target_group");
	int unused;

	if (ydoc_enum(ydoc_get(n, "type"), "type", type_names, ARRAY_LEN(type_names), type, err))
		return -1;
	if (order && ydoc_int(order, "order", ACTION_ORDER_MIN, ACTION_ORDER_MAX, &unused, err))
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(config_keys); i++) {
		const struct ynode *key = ydoc_key(n, config_keys[i]);

		if (key && (int)i != *type)
			return ydoc_err(err, key, "'%s' can't be used with type '%s'", key->str,
					type_names[*type]);
	}
	if (tg && *type != TYPE_FORWARD)
		return ydoc_err(err, tg, "'target_group' can't be used with type '%s'",
				type_names[*type]);
	return 0;
}

static int action_load(struct config *cfg, const struct ynode *n, struct action *a,
		       struct lb_err *err)
{
	const struct ynode *body;
	int type;

	a->pos = (struct src_pos){ n->file, n->line, n->col };
	if (ydoc_fields(n, "actions", action_fields, ARRAY_LEN(action_fields), NULL, NULL, err) ||
	    action_head(n, &type, err))
		return -1;
	if (type == TYPE_JWT) {
		if (!(body = ydoc_get(n, config_keys[type])))
			return ydoc_err(err, n, "missing key '%s'", config_keys[type]);
		return rules_jwt_load(cfg, body, &a->jwt, err);
	}
	if (type == TYPE_OIDC || type == TYPE_COGNITO) {
		if (!(body = ydoc_get(n, config_keys[type])))
			return ydoc_err(err, n, "missing key '%s'", config_keys[type]);
		return (a->auth = rules_auth_load(cfg, body, type == TYPE_COGNITO, err)) ? 0 : -1;
	}
	a->type = (enum action_type)type;
	if (type == TYPE_FORWARD)
		return forward_load(cfg, n, &a->forward, err);
	if (!(body = ydoc_get(n, config_keys[type])))
		return ydoc_err(err, n, "missing key '%s'", config_keys[type]);
	if (type == TYPE_REDIRECT)
		return redirect_load(cfg, body, &a->redirect, err);
	return fixed_load(cfg, body, &a->fixed, err);
}

int rules_action_load(struct config *cfg, const struct ynode *seq, const char *what,
		      struct action *out, struct lb_err *err)
{
	if (ydoc_list(seq, what, YNODE_MAPPING, err))
		return -1;
	if (seq->n == 0)
		return ydoc_err(err, seq, "'%s' needs an action", what);
	struct jwt_validation_cfg *jwt = NULL;
	const struct auth_cfg *auth = NULL;
	const struct ynode *routing = NULL;
	int jwt_order = 0, routing_order = 0;

	for (size_t i = 0; i < seq->n; i++) {
		const struct ynode *order = ydoc_get(seq->items[i], "order");
		struct action a = { 0 };

		if (action_load(cfg, seq->items[i], &a, err))
			return -1;
		/*
		 * Why: a rule performs exactly one routing action (forward,
		 * redirect or fixed-response), the last by order, and at most
		 * one authentication action (authenticate-oidc, -cognito or
		 * jwt-validation) before it (§2.1, §2.5).
		 */
		if (a.jwt || a.auth) {
			if (jwt || auth)
				return ydoc_err(err, seq->items[i], "a rule has at most one "
						"authentication action");
			jwt = a.jwt;
			auth = a.auth;
			jwt_order = order ? atoi(order->str) : (int)i + 1;
			continue;
		}
		if (routing)
			return ydoc_err(err, seq->items[i], "a rule has exactly one routing action "
					"(forward, redirect or fixed-response)");
		routing = seq->items[i];
		routing_order = order ? atoi(order->str) : (int)i + 1;
		*out = a;
	}
	if (!routing)
		return ydoc_err(err, seq, "'%s' needs a routing action (forward, redirect or "
				"fixed-response)", what);
	if ((jwt || auth) && jwt_order >= routing_order)
		return ydoc_err(err, routing, "the routing action must come last (by 'order')");
	out->jwt = jwt;
	out->auth = auth;
	return 0;
}
