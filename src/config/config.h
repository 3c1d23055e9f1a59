/*
 * config: the load balancer's whole configuration, as loaded from
 * config/lb.yaml and the rule files its listeners name (DESIGN.md §5).
 *
 * config_load validates everything (unknown keys, types, ALB's limits,
 * references between target groups and functions) and reports the first
 * problem as "file:line:col: message". A loaded struct config is immutable;
 * all of it lives in one arena freed with the last config_unref. Requests in flight keep
 * the configuration they started with alive through config_ref/config_unref,
 * so a reload never frees rules or target groups under them.
 */
#ifndef LB_CONFIG_H
#define LB_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "alb/desync.h"
#include "base/err.h"
#include "base/util.h"

/* Where something was written: for error messages and `lb explain`. */
struct src_pos {
	const char *file;
	int line, col;
};

enum xff_mode { XFF_APPEND, XFF_PRESERVE, XFF_REMOVE };

/* Load-balancer attributes, by their AWS keys; AWS defaults when absent. */
struct lb_attributes {
	int idle_timeout;             /* idle_timeout.timeout_seconds: 1–4000, 60 */
	int client_keep_alive;        /* client_keep_alive.seconds: 60–604800, 3600 */
	enum desync_mode desync_mode; /* routing.http.desync_mitigation_mode: defensive */
	enum xff_mode xff_mode;       /* routing.http.xff_header_processing.mode: append */
	bool xff_client_port;         /* routing.http.xff_client_port.enabled: false */
	bool preserve_host;           /* routing.http.preserve_host_header.enabled: false */
	bool drop_invalid_headers;    /* routing.http.drop_invalid_header_fields.enabled: false */
};

struct load_balancer_cfg {
	const char *name;        /* "local-alb" */
	const char *region;      /* "us-east-1" */
	const char *account_id;  /* "123456789012" */
	const char *access_log;  /* NULL: none; "-": stdout; else a path (resolved) */
	char id[17];             /* 16 hex digits, stable for a name */
	const char *elb;         /* "app/NAME/ID", as in access logs */
	struct lb_attributes attrs;
};

enum cond_type {
	COND_HOST_HEADER,
	COND_PATH_PATTERN,
	COND_HTTP_HEADER,
	COND_HTTP_REQUEST_METHOD,
	COND_QUERY_STRING,
	COND_SOURCE_IP,
};

struct query_kv {
	const char *key;         /* NULL: any key */
	const char *value;
};

struct cidr {
	int family;              /* AF_INET or AF_INET6 */
	uint8_t addr[16];        /* network address, host bits zero */
	int prefix;
};

struct condition {
	enum cond_type type;
	struct src_pos pos;
	const char *header_name; /* COND_HTTP_HEADER */
	size_t nvalues;
	const char **values;     /* host, path, header, method: the patterns as written */
	struct query_kv *query;  /* COND_QUERY_STRING: nvalues pairs */
	struct cidr *cidrs;      /* COND_SOURCE_IP: nvalues blocks */
};

enum action_type { ACTION_FORWARD, ACTION_REDIRECT, ACTION_FIXED_RESPONSE };

struct fixed_response_cfg {
	int status_code;
	const char *content_type; /* NULL: no Content-Type */
	const char *body;         /* "" when absent */
	size_t body_len;
};

/* A NULL component keeps its original value ("#{protocol}", "#{host}",
 * "#{port}", "/#{path}", "#{query}"). */
struct redirect_cfg {
	const char *protocol, *host, *port, *path, *query;
	int status_code;          /* 301 or 302 */
};

struct target_group;

struct forward_target {
	const char *name;
	struct target_group *tg;
	int weight;               /* 0–999; 1 for a single target group */
};

struct forward_cfg {
	size_t ngroups;
	struct forward_target *groups;
	bool stickiness;
	int stickiness_duration;  /* seconds, 1–604800 */
};

struct action {
	enum action_type type;
	struct src_pos pos;
	struct forward_cfg forward;
	struct redirect_cfg redirect;
	struct fixed_response_cfg fixed;
};

struct rule {
	int priority;             /* 1–50000; 0 for a listener's default rule */
	struct src_pos pos;
	size_t nconditions;
	struct condition *conditions;
	struct action action;     /* the routing action, the rule's last */
};

enum listener_protocol { PROTO_HTTP, PROTO_HTTPS };

struct listener_cfg {
	struct src_pos pos;
	const char *address;      /* "127.0.0.1" unless given */
	int port;                 /* 0: any free port */
	enum listener_protocol protocol;
	size_t nrules;
	struct rule *rules;       /* ascending priority */
	struct rule default_rule; /* priority 0, no conditions */
};

enum target_type { TARGET_LAMBDA };

struct health_check_cfg {
	bool enabled;             /* false for lambda target groups */
	const char *path;         /* "/" */
	int interval;             /* seconds: 35 for lambda */
	int timeout;              /* seconds: 30 for lambda */
	int healthy_threshold;    /* 5 */
	int unhealthy_threshold;  /* 2 */
	const char *matcher;      /* "200": codes "200,202" or a range "200-299" */
};

struct function_cfg;

struct target_group {
	const char *name;
	struct src_pos pos;
	enum target_type target_type;
	const char *arn;          /* arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID */
	size_t ntargets;          /* 0 or 1 for lambda */
	const char **targets;     /* "fn", "fn:3" or "fn:alias" */
	struct function_cfg *function; /* the target's function, NULL without targets */
	const char *qualifier;    /* the target's ":qualifier", NULL for $LATEST */
	bool multi_value_headers; /* lambda.multi_value_headers.enabled */
	struct health_check_cfg health_check;
};

struct env_var {
	const char *name, *value;
};

/* What a function version runs: $LATEST's settings, or a version's snapshot
 * (fields a version leaves out are copied from $LATEST). */
struct function_settings {
	const char *runtime;      /* "nodejs20.x", "python3.12", "provided.al2023"; NULL for endpoint */
	const char *handler;      /* "index.handler" */
	const char *code;         /* directory (resolved path) */
	size_t ncommand;
	const char **command;     /* provided.*: argv; empty means code/bootstrap */
	int timeout;              /* seconds: 1–900, 3 */
	int memory_size;          /* MB: 128–10240, 128 */
	size_t nenv;
	struct env_var *env;
	size_t nlayers;
	const char **layers;      /* directories or .zip files (resolved paths), at most 5 */
};

struct function_version {
	const char *version;      /* "1", "2", ... */
	struct src_pos pos;
	struct function_settings settings;
};

struct function_alias {
	const char *name;
	struct src_pos pos;
	const char *function_version;
	const char *extra_version; /* routing_config.additional_version_weights, or NULL */
	double extra_weight;       /* 0–1 */
};

struct function_cfg {
	const char *name;
	struct src_pos pos;
	const char *endpoint;      /* remote Invoke API base URL, or NULL for a local function */
	const char *remote_name;   /* endpoint: the name in the Invoke path (function_name; default name) */
	int reserved_concurrency;  /* reserved_concurrent_executions; -1 when not set */
	struct function_settings latest;
	size_t nversions;
	struct function_version *versions;
	size_t naliases;
	struct function_alias *aliases;
};

/* lambda_api: lb's own Lambda Invoke API (lambda_api.h), when configured. */
struct lambda_api_cfg {
	bool enabled;             /* the key is present */
	struct src_pos pos;
	const char *address;      /* "127.0.0.1" unless given */
	int port;                 /* 0: any free port */
};

struct config {
	struct arena arena;
	int refs;
	const char *path;
	const char *dir;           /* directory of path: the base of relative paths */
	struct load_balancer_cfg lb;
	size_t nlisteners;
	struct listener_cfg *listeners;
	size_t ntarget_groups;
	struct target_group *target_groups;
	size_t nfunctions;
	struct function_cfg *functions;
	struct lambda_api_cfg lambda_api;
};

/* Returns a new configuration (one reference), or NULL with err set. */
struct config *config_load(const char *path, struct lb_err *err);
struct config *config_ref(struct config *cfg);
/* Drops a reference; frees the configuration with the last. NULL-safe. */
void config_unref(struct config *cfg);

struct target_group *config_target_group(const struct config *cfg, const char *name);
struct function_cfg *config_function(const struct config *cfg, const char *name);

/* `lb check`'s summary: listeners, their rules by priority, target groups, functions. */
void config_summary(const struct config *cfg, FILE *out);
/* One line describing a condition (e.g. "path_pattern: /api/x, /v2/y"), for summaries and explain. */
void config_describe_condition(const struct condition *c, FILE *out);
/* One line describing an action ("fixed-response 404 text/plain", "forward to api"). */
void config_describe_action(const struct action *a, FILE *out);

#endif
