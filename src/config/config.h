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
#include "alb/regex_rule.h"
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
	bool http2;                   /* routing.http2.enabled: true (HTTPS listeners offer h2) */
	bool tls_headers;             /* routing.http.x_amzn_tls_version_and_cipher_suite.enabled: false */
};

struct load_balancer_cfg {
	const char *name;        /* "local-alb" */
	const char *region;      /* "us-east-1" */
	const char *account_id;  /* "123456789012" */
	const char *access_log;  /* NULL: none; "-": stdout; else a path (resolved) */
	int workers;             /* event loops (lb's own setting): 1..64, 0 for `auto` (one per CPU) */
	struct src_pos workers_pos; /* where `workers:` was written (file NULL: not written) */
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
	struct regex **regexes;  /* regex_values (host, path, header): values compiled, else NULL */
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

/* authenticate-oidc / authenticate-cognito (alb-listener-rules.md §2.5), in
 * snake_case of AuthenticateOidcActionConfig / AuthenticateCognitoActionConfig. */
enum auth_unauth { AUTH_AUTHENTICATE, AUTH_DENY, AUTH_ALLOW };
struct auth_param { const char *name, *value; };
struct auth_cfg {
	struct src_pos pos;
	bool cognito;
	const char *issuer, *authorization_endpoint, *token_endpoint, *user_info_endpoint;
	const char *client_id, *client_secret;   /* cognito: user_pool_client_id, secret */
	const char *user_pool_arn, *user_pool_domain;  /* cognito */
	const char *session_cookie_name;         /* AWSELBAuthSessionCookie */
	int session_timeout;                     /* seconds, 604800 */
	const char *scope;                       /* "openid" */
	enum auth_unauth on_unauthenticated;     /* authenticate */
	size_t nextra;
	struct auth_param *extra;                /* authentication_request_extra_params */
};

/* jwt-validation (JwtValidationActionConfig; alb-listener-rules.md §2.5). */
enum jwt_claim_format { JWT_CLAIM_SINGLE_STRING, JWT_CLAIM_STRING_ARRAY, JWT_CLAIM_SPACE_SEPARATED };

struct jwt_claim {
	const char *name;
	enum jwt_claim_format format;
	size_t nvalues;
	const char **values;
};

/* One RSA key of the JWKS (the only kind ALB verifies: RS256). */
struct jwk_rsa {
	const char *kid;          /* NULL when the key has none */
	const uint8_t *n, *e;     /* modulus and exponent, big-endian */
	size_t n_len, e_len;
	void *pkey;               /* the verifier's key object, built on first use */
};

struct jwt_validation_cfg {
	struct src_pos pos;
	const char *issuer;
	const char *jwks_endpoint; /* as written */
	size_t nclaims;
	struct jwt_claim *claims;  /* additional_claims */
	size_t nkeys;
	struct jwk_rsa *keys;      /* read from the JWKS file at load, or fetched (net/jwks_fetch.c) */
	bool jwks_remote;          /* jwks_endpoint is an http(s):// URL, fetched before serving */
	bool jwks_fetching;        /* a refresh is in flight */
	int64_t jwks_fetched_us;   /* monotonic time of the last fetch */
};

struct action {
	const struct auth_cfg *auth;  /* the authenticate action before this routing action, or NULL */
	enum action_type type;
	struct src_pos pos;
	struct forward_cfg forward;
	struct redirect_cfg redirect;
	struct fixed_response_cfg fixed;
	/* An authentication action performed before this one, or NULL. */
	struct jwt_validation_cfg *jwt;
};

/* One rewrite of a rule transform (alb-listener-rules.md §2.6). */
struct rule_rewrite {
	struct src_pos pos;
	const char *regex;        /* as written */
	const char *replace;      /* may hold $1 .. $n, ${n} */
	struct regex *re;         /* compiled */
};

struct rule {
	int priority;             /* 1–50000; 0 for a listener's default rule */
	struct src_pos pos;
	size_t nconditions;
	struct condition *conditions;
	struct action action;     /* the routing action, the rule's last */
	/* transforms: a host-header-rewrite and a url-rewrite, each optional */
	const struct rule_rewrite *host_rewrite, *url_rewrite;
};

enum listener_protocol { PROTO_HTTP, PROTO_HTTPS };

/* One certificate of an HTTPS listener (DESIGN.md §14). */
struct certificate_cfg {
	const char *certificate;  /* PEM file (resolved): the leaf, then its chain */
	const char *private_key;  /* PEM file (resolved) */
	const char *arn;          /* arn:aws:acm:REGION:ACCOUNT:certificate/ID, for chosen_cert_arn */
	struct src_pos pos;
};

enum mtls_mode { MTLS_OFF, MTLS_PASSTHROUGH, MTLS_VERIFY };

struct mtls_cfg {
	enum mtls_mode mode;      /* off unless given */
	const char *trust_store;  /* verify: a PEM CA bundle (resolved) */
	bool ignore_expiry;       /* ignore_client_certificate_expiry */
	bool advertise_ca_names;  /* advertise_trust_store_ca_names: on (default off) */
	struct src_pos pos;
};

/* Listener attributes (alb-http-targets-and-tls.md §2.6.2, §2.7, §2.8). */
enum mtls_header {
	MTLS_H_CLIENTCERT, MTLS_H_SERIAL, MTLS_H_ISSUER, MTLS_H_SUBJECT, MTLS_H_VALIDITY,
	MTLS_H_LEAF, MTLS_H_COUNT
};
enum resp_header {
	RESP_H_HSTS, RESP_H_ACAO, RESP_H_ACAH, RESP_H_ACAM, RESP_H_ACAC, RESP_H_ACEH,
	RESP_H_ACMA, RESP_H_CSP, RESP_H_XCTO, RESP_H_XFO, RESP_H_COUNT
};

struct listener_attrs {
	const char *mtls_names[MTLS_H_COUNT]; /* header names toward targets (AWS's by default) */
	const char *tls_version_name;         /* x-amzn-tls-version unless renamed */
	const char *tls_cipher_name;          /* x-amzn-tls-cipher-suite unless renamed */
	const char *response[RESP_H_COUNT];   /* routing.http.response.*.header_value; NULL: none */
	bool server_enabled;                  /* routing.http.response.server.enabled: true */
};

struct listener_cfg {
	struct src_pos pos;
	const char *address;      /* "127.0.0.1" unless given */
	int port;                 /* 0: any free port */
	enum listener_protocol protocol;
	/* HTTPS */
	const char *ssl_policy;   /* an AWS policy name (tls_policy_find knows it) */
	bool auto_certificate;    /* certificates: auto, or none given: lb's local CA issues one */
	size_t ncertificates;     /* the first is the default; the others are chosen by SNI */
	struct certificate_cfg *certificates;
	struct mtls_cfg mtls;
	struct listener_attrs attrs;
	size_t nrules;
	struct rule *rules;       /* ascending priority */
	struct rule default_rule; /* priority 0, no conditions */
};

enum target_type { TARGET_LAMBDA, TARGET_INSTANCE, TARGET_IP };
enum tg_protocol { TG_PROTO_HTTP, TG_PROTO_HTTPS };
enum tg_protocol_version { TG_PROTO_HTTP1, TG_PROTO_HTTP2, TG_PROTO_GRPC };
enum lb_algorithm { ALGO_ROUND_ROBIN, ALGO_LEAST_OUTSTANDING, ALGO_WEIGHTED_RANDOM };
enum stickiness_type { STICKINESS_LB_COOKIE, STICKINESS_APP_COOKIE };
/* load_balancing.cross_zone.enabled: lb has one zone, so it only gates stickiness. */
enum cross_zone { CROSS_ZONE_INHERIT, CROSS_ZONE_ON, CROSS_ZONE_OFF };

struct health_check_cfg {
	bool enabled;             /* false for lambda target groups; always true for instance/ip */
	enum tg_protocol protocol; /* instance/ip: HTTP unless given */
	int port;                 /* 0: traffic-port (each target's own port) */
	const char *path;         /* "/" ("/AWS.ALB/healthcheck" for GRPC groups) */
	int interval;             /* seconds: 35 for lambda, 30 for instance/ip */
	int timeout;              /* seconds: 30 for lambda, 5 for instance/ip */
	int healthy_threshold;    /* 5 */
	int unhealthy_threshold;  /* 2 */
	const char *matcher;      /* "200": codes "200,202" or a range "200-299"; GRPC: gRPC codes, "12" */
};

/* One registered instance or ip target. */
struct http_target {
	const char *id;           /* as written: "127.0.0.1", "::1", "localhost" */
	int port;                 /* resolved: the target's, else the group's */
	const char *key;          /* "id:port" ("[v6]:port" for IPv6), unique within the group;
				   * the access log's target:port. Address literals in their
				   * canonical form ("::1" for "0::1"), host names in lower case. */
	int family;               /* AF_INET or AF_INET6 for an address literal, 0 for a host name */
	struct src_pos pos;
};

/*
 * Target-group attributes of instance/ip groups, by their AWS keys, with AWS's
 * defaults. Accepted but without effect in lb (one zone, no DNS, no
 * anomaly detection): anomaly_mitigation, cross_zone (it only gates
 * stickiness) and the dns_failover thresholds.
 */
struct tg_attributes {
	int deregistration_delay;     /* deregistration_delay.timeout_seconds: 0-3600, 300 */
	int slow_start;               /* slow_start.duration_seconds: 0 (off) or 30-900 */
	enum lb_algorithm algorithm;  /* load_balancing.algorithm.type: round_robin */
	bool anomaly_mitigation;      /* load_balancing.algorithm.anomaly_mitigation: off */
	enum cross_zone cross_zone;   /* load_balancing.cross_zone.enabled: inherit */
	bool stickiness;              /* stickiness.enabled: false */
	enum stickiness_type stickiness_type; /* stickiness.type: lb_cookie */
	int lb_cookie_duration;       /* stickiness.lb_cookie.duration_seconds: 1-604800, 86400 */
	int app_cookie_duration;      /* stickiness.app_cookie.duration_seconds: 1-604800, 86400 */
	const char *app_cookie_name;  /* stickiness.app_cookie.cookie_name: NULL unless app_cookie */
	/* target_group_health.unhealthy_state_routing.minimum_healthy_targets.* */
	int min_healthy_count;        /* .count: 1-1000, 1 */
	int min_healthy_percentage;   /* .percentage: 1-100, 0 = off */
	/* target_group_health.dns_failover.minimum_healthy_targets.*: 0 = off */
	int dns_min_healthy_count;
	int dns_min_healthy_percentage;
};

struct function_cfg;

struct target_group {
	const char *name;
	struct src_pos pos;
	enum target_type target_type;
	const char *arn;          /* arn:aws:elasticloadbalancing:REGION:ACCOUNT:targetgroup/NAME/ID */
	/* lambda groups */
	size_t ntargets;          /* 0 or 1 */
	const char **targets;     /* "fn", "fn:3" or "fn:alias" */
	struct function_cfg *function; /* the target's function, NULL without targets */
	const char *qualifier;    /* the target's ":qualifier", NULL for $LATEST */
	bool multi_value_headers; /* lambda.multi_value_headers.enabled */
	/* instance and ip groups */
	enum tg_protocol protocol;    /* HTTP unless given */
	int port;                     /* 1-65535; default port of targets naming none */
	enum tg_protocol_version protocol_version; /* HTTP1 */
	bool ipv6;                    /* ip_address_type ipv6: ip targets are IPv6 */
	size_t nhttp_targets;         /* at most 1000 */
	struct http_target *http_targets;
	struct tg_attributes attrs;
	struct health_check_cfg health_check;
};

struct env_var {
	const char *name, *value;
};

/* logging_config: Lambda's LoggingConfig (DESIGN.md §18); all zero means Text. */
struct logging_cfg {
	bool json;                /* log_format: JSON (default Text) */
	const char *app_level;    /* application_log_level: TRACE..FATAL; NULL with Text */
	const char *system_level; /* system_log_level: DEBUG, INFO, WARN; NULL with Text */
	const char *log_group;    /* log_group, or NULL for /aws/lambda/NAME */
};

/* What a function version runs: $LATEST's settings, or a version's snapshot
 * (fields a version leaves out are copied from $LATEST). */
/* image_config: Lambda's ImageConfig overrides of an image's ENTRYPOINT, CMD and WORKDIR. */
struct image_config {
	size_t nentry_point, ncommand;
	const char **entry_point;
	const char **command;
	const char *working_directory;
};

struct function_settings {
	const char *runtime;      /* "nodejs20.x", "python3.12", "provided.al2023"; NULL for endpoint and image */
	const char *image;        /* image: an image archive or OCI layout (resolved path), or NULL */
	struct image_config image_config;
	const char *handler;      /* "index.handler" */
	const char *code;         /* directory (resolved path) */
	size_t ncommand;
	const char **command;     /* provided.*: argv; empty means code/bootstrap */
	int timeout;              /* seconds: 1–900, 3 */
	int memory_size;          /* MB: 128–10240, 128 */
	int ephemeral_mb;         /* ephemeral_storage.size, MB: 512–10240, 512 */
	size_t nenv;
	struct env_var *env;
	size_t nlayers;
	const char **layers;      /* directories or .zip files (resolved paths), at most 5 */
	struct logging_cfg logging;
};

struct function_version {
	const char *version;      /* "1", "2", ... */
	struct src_pos pos;
	struct function_settings settings;
	int provisioned;          /* provisioned_concurrent_executions, 0: none */
};

struct function_alias {
	const char *name;
	struct src_pos pos;
	const char *function_version;
	const char *extra_version; /* routing_config.additional_version_weights, or NULL */
	double extra_weight;       /* 0–1 */
	int provisioned;           /* provisioned_concurrent_executions, 0: none */
};

/* An event_invoke_config destination (DESIGN.md §18): a function or a file. */
struct async_destination {
	const char *raw;          /* as written: a name, an ARN or file:PATH; NULL for none */
	const char *function;     /* the function's name, or NULL */
	const char *qualifier;    /* the ARN's version or alias, or NULL */
	const char *file;         /* file:PATH resolved against lb.yaml's directory, or NULL */
};

/* event_invoke_config: asynchronous invocation's retries, age and destinations. */
struct event_invoke_cfg {
	int max_retries;          /* maximum_retry_attempts: 0-2, 2 */
	int max_age;              /* maximum_event_age_in_seconds: 60-21600, 21600 */
	struct async_destination on_success, on_failure;
};

struct function_cfg {
	const char *name;
	struct src_pos pos;
	const char *endpoint;      /* remote Invoke API base URL, or NULL for a local function */
	const char *remote_name;   /* endpoint: the name in the Invoke path (function_name; default name) */
	const char *region;        /* endpoint aws: the region given, or NULL (see invoke_client.c) */
	int reserved_concurrency;  /* reserved_concurrent_executions; -1 when not set */
	struct event_invoke_cfg async; /* event_invoke_config (defaults when absent) */
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

/* admin: lb's console, metrics and inspection API (DESIGN.md §17), when configured. */
struct admin_cfg {
	bool enabled;             /* the key is present */
	struct src_pos pos;
	const char *address;      /* "127.0.0.1" unless given */
	int port;                 /* 0: any free port */
	int history;              /* requests kept for the API and console: 1-100000, 200 */
	int body_limit;           /* bytes kept of each body, event, result and log: 0-1048576, 8192 */
	bool mask_secrets;        /* Authorization, cookies and secret-looking env vars masked: true */
	/* Host names the console answers besides IP literals, localhost and *.localhost:
	 * "lb", or "*.example.test" for any name under example.test (DNS rebinding) */
	const char **allowed_hosts;
	size_t nallowed_hosts;
};

struct config {
	struct arena arena;
	int refs;                  /* atomic: workers share a configuration */
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
	struct admin_cfg admin;
};

/* Returns a new configuration (one reference), or NULL with err set. */
struct config *config_load(const char *path, struct lb_err *err);

/*
 * What a template needs beyond its file (DESIGN.md §16): --parameter K=V
 * (also AWS::Region=..., AWS::AccountId=...) and --port-map PORT=LOCAL.
 * Strings are borrowed.
 */
struct stack_opts {
	const char *const *params;
	size_t nparams;
	const char *const *port_maps;
	size_t nport_maps;
};

/* config_load that also reads CloudFormation/SAM templates and cdk.out
 * directories (stack.c); opts may be NULL. */
struct config *config_load_stack(const char *path, const struct stack_opts *opts,
				 struct lb_err *err);
struct config *config_ref(struct config *cfg);
/* Drops a reference; frees the configuration with the last. NULL-safe. */
void config_unref(struct config *cfg);

struct target_group *config_target_group(const struct config *cfg, const char *name);
struct function_cfg *config_function(const struct config *cfg, const char *name);
/* Sandboxes per function when reserved_concurrent_executions is not set. */
#define CONFIG_FN_DEFAULT_CONCURRENCY 10
/* A version's provisioned concurrency: its own and its aliases'. */
int config_fn_provisioned(const struct function_cfg *fn, const char *version);

/* The response header a routing.http.response.* attribute sets ("Strict-Transport-Security"). */
const char *config_response_header_name(enum resp_header h);

/* `lb check`'s summary: listeners, their rules by priority, target groups, functions. */
void config_summary(const struct config *cfg, FILE *out);
/* One line describing a condition (e.g. "path_pattern: /api/x, /v2/y"), for summaries and explain. */
void config_describe_condition(const struct condition *c, FILE *out);
/* One line describing an action ("fixed-response 404 text/plain", "forward to api"). */
void config_describe_action(const struct action *a, FILE *out);

#endif
