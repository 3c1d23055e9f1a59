/*
 * cfn_export: struct config -> CloudFormation JSON (jansson, keys in
 * insertion order). Logical ids are the names in CamelCase with a suffix
 * naming the kind ("ApiFunction", "ApiTargetGroup"), numbered when two
 * names collapse to one id. What AWS needs and lb does not have (subnets,
 * a VPC for HTTP target groups, an execution role) comes from parameters of
 * AWS-specific types or from a resource lb skips on import.
 */
#include "config/cfn_export.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "config/config_int.h"

#define ELB "AWS::ElasticLoadBalancingV2::"

struct exporter {
	const struct config *cfg;
	json_t *params, *res;
	FILE *warn;
	struct arena a;
	bool any_http_group;
};

static json_t *ref(const char *id)
{
	return json_pack("{ss}", "Ref", id);
}

static json_t *getatt(const char *id, const char *attr)
{
	return json_pack("{s[ss]}", "Fn::GetAtt", id, attr);
}

/* "my-api_v2" + "Function" -> "MyApiV2Function", unique among the resources. */
static const char *logical_id(struct exporter *x, const char *name, const char *kind)
{
	char *base = arena_alloc(&x->a, strlen(name) + strlen(kind) + 1), *p = base;
	bool up = true;
	const char *id;

	for (const char *s = name; *s; s++) {
		char ch = *s;

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))) {
			up = true;
			continue;
		}
		*p++ = up && ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
		up = false;
	}
	strcpy(p, kind);
	id = base;
	for (int n = 2; json_object_get(x->res, id) || json_object_get(x->params, id); n++)
		id = config_printf(&x->a, "%s%d", base, n);
	return id;
}

static void add(struct exporter *x, const char *id, const char *type, json_t *props)
{
	json_object_set_new(x->res, id, json_pack("{ssso}", "Type", type, "Properties", props));
}

static void asset(struct exporter *x, const char *id, const char *path, const char *property)
{
	/* Why: CDK's asset metadata (aws-integration.md §6.2); an absolute path is
	 * what CDK writes with staging disabled. */
	json_object_set_new(json_object_get(x->res, id), "Metadata",
			    json_pack("{ssss}", "aws:asset:path", path, "aws:asset:property", property));
}

/*
 * {S3Bucket: !Ref AssetBucket, S3Key: !Ref <id>S3Key}, the key's default
 * named by the path: a directory's zip, or a .zip file as it is (code or a
 * layer given as a .zip is uploaded unchanged, as CDK uploads a file asset).
 */
static json_t *s3_location(struct exporter *x, const char *id, const char *path)
{
	const char *pid = config_printf(&x->a, "%sS3Key", id);
	size_t n = strlen(path);
	bool zip = n > 4 && strcasecmp(path + n - 4, ".zip") == 0;
	char hash[17];

	config_stable_id(path, hash);
	json_object_set_new(x->params, pid, json_pack("{ssssss+}", "Type", "String", "Default",
						      config_printf(&x->a, "%s.zip", hash),
						      "Description", zip ? "S3 key of " : "S3 key of the zip of ",
						      path));
	return json_pack("{soso}", "S3Bucket", ref("AssetBucket"), "S3Key", ref(pid));
}

static const char *layer_id(struct exporter *x, const char *path, const char *runtime)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path, *id;
	json_t *r;

	/* One LayerVersion per directory: reuse the one that already names it. */
	json_object_foreach(x->res, id, r) {
		const char *p = json_string_value(
			json_object_get(json_object_get(r, "Metadata"), "aws:asset:path"));

		if (p && strcmp(p, path) == 0 && strstr(json_string_value(json_object_get(r, "Type")),
							 "LayerVersion"))
			return id;
	}
	id = logical_id(x, base, "Layer");
	add(x, id, "AWS::Lambda::LayerVersion",
	    json_pack("{sosss[s]}", "Content", s3_location(x, id, path), "LayerName", id,
		      "CompatibleRuntimes", runtime));
	asset(x, id, path, "Content");
	return id;
}

static json_t *env_json(const struct function_settings *s)
{
	json_t *vars = json_object();

	for (size_t i = 0; i < s->nenv; i++)
		json_object_set_new(vars, s->env[i].name, json_string(s->env[i].value));
	return json_pack("{so}", "Variables", vars);
}

static bool same_settings(const struct function_settings *a, const struct function_settings *b)
{
	bool same = strcmp(a->code, b->code) == 0 && a->timeout == b->timeout &&
		    a->memory_size == b->memory_size && a->nenv == b->nenv &&
		    a->nlayers == b->nlayers;

	for (size_t i = 0; same && i < a->nenv; i++)
		same = strcmp(a->env[i].name, b->env[i].name) == 0 &&
		       strcmp(a->env[i].value, b->env[i].value) == 0;
	return same;
}

/* SAM's rule for alias logical ids: '-' becomes D and '_' U (aws-integration.md §5.2). */
static const char *alias_id(struct exporter *x, const char *fn_id, const char *name)
{
	char *s = config_printf(&x->a, "%sAlias%s", fn_id, name);

	for (char *p = s; *p; p++)
		*p = *p == '-' ? 'D' : *p == '_' ? 'U' : *p;
	return s;
}

static const char *version_id(struct exporter *x, const char *fn_id, const char *version)
{
	return config_printf(&x->a, "%sVersion%s", fn_id, version);
}

static void function(struct exporter *x, struct function_cfg *f, const char **out_id)
{
	const struct function_settings *s = &f->latest;
	const char *id = logical_id(x, f->name, "Function");
	json_t *p = json_object();

	*out_id = id;
	if (f->endpoint) {
		fprintf(x->warn, "lb: function %s: an endpoint function is not exported\n", f->name);
		*out_id = NULL;
		return;
	}
	/* A Lambda image lives in ECR (Code.ImageUri): a local archive has no template form. */
	if (s->image) {
		fprintf(x->warn, "lb: function %s: an image function is not exported (push its image to ECR)\n",
			f->name);
		*out_id = NULL;
		json_decref(p);
		return;
	}
	json_object_set_new(p, "FunctionName", json_string(f->name));
	json_object_set_new(p, "Runtime", json_string(s->runtime));
	if (s->handler)
		json_object_set_new(p, "Handler", json_string(s->handler));
	json_object_set_new(p, "Code", s3_location(x, id, s->code));
	json_object_set_new(p, "Role", getatt("LambdaExecutionRole", "Arn"));
	json_object_set_new(p, "Timeout", json_integer(s->timeout));
	json_object_set_new(p, "MemorySize", json_integer(s->memory_size));
	if (s->nenv)
		json_object_set_new(p, "Environment", env_json(s));
	if (s->nlayers) {
		json_t *layers = json_array();

		for (size_t i = 0; i < s->nlayers; i++)
			json_array_append_new(layers, ref(layer_id(x, s->layers[i], s->runtime)));
		json_object_set_new(p, "Layers", layers);
	}
	if (f->reserved_concurrency >= 0)
		json_object_set_new(p, "ReservedConcurrentExecutions",
				    json_integer(f->reserved_concurrency));
	if (s->ncommand)
		fprintf(x->warn, "lb: function %s: 'command' has no CloudFormation form; Lambda "
			"runs code/bootstrap\n", f->name);
	add(x, id, "AWS::Lambda::Function", p);
	asset(x, id, s->code, "Code");
	for (size_t i = 0; i < f->nversions; i++) {
		const struct function_version *v = &f->versions[i];

		/* Why: a Version resource publishes the function as it is then, and
		 * Lambda numbers versions 1, 2, ... in publishing order. */
		if (strcmp(v->version, config_printf(&x->a, "%zu", i + 1)) != 0)
			fprintf(x->warn, "lb: function %s: version %s is published as %zu\n",
				f->name, v->version, i + 1);
		if (!same_settings(&v->settings, s))
			fprintf(x->warn, "lb: function %s: version %s has its own settings; a Version "
				"resource publishes the function's own\n", f->name, v->version);
		add(x, version_id(x, id, v->version), "AWS::Lambda::Version",
		    json_pack("{so}", "FunctionName", ref(id)));
	}
	for (size_t i = 0; i < f->naliases; i++) {
		const struct function_alias *a = &f->aliases[i];
		bool latest = strcmp(a->function_version, "$LATEST") == 0;
		json_t *ap = json_pack("{ssso}", "Name", a->name, "FunctionName", ref(id));

		json_object_set_new(ap, "FunctionVersion",
				    latest ? json_string("$LATEST")
					   : getatt(version_id(x, id, a->function_version), "Version"));
		if (a->extra_version)
			json_object_set_new(ap, "RoutingConfig", json_pack(
				"{s[{soso}]}", "AdditionalVersionWeights", "FunctionVersion",
				getatt(version_id(x, id, a->extra_version), "Version"),
				"FunctionWeight", json_real(a->extra_weight)));
		add(x, alias_id(x, id, a->name), "AWS::Lambda::Alias", ap);
	}
}

/* The Id a target group registers: the function's ARN, or its version's or alias's. */
static json_t *lambda_target(struct exporter *x, const struct target_group *tg, const char *fn_id)
{
	const struct function_cfg *f = tg->function;
	const char *q = tg->qualifier;

	if (!q)
		return getatt(fn_id, "Arn");
	for (size_t i = 0; i < f->naliases; i++) {
		if (strcmp(f->aliases[i].name, q) == 0)
			return ref(alias_id(x, fn_id, q));
	}
	return ref(version_id(x, fn_id, q));
}

static void attr(json_t *list, const char *key, const char *value)
{
	json_array_append_new(list, json_pack("{ssss}", "Key", key, "Value", value));
}

static const char *const algorithms[] = { "round_robin", "least_outstanding_requests",
					  "weighted_random" };

static void http_group(struct exporter *x, const struct target_group *tg, json_t *p, json_t *attrs)
{
	const struct tg_attributes *a = &tg->attrs;
	json_t *targets = json_array();
	char n[32];

	x->any_http_group = true;
	json_object_set_new(p, "Protocol", json_string(tg->protocol == TG_PROTO_HTTPS ? "HTTPS" : "HTTP"));
	json_object_set_new(p, "Port", json_integer(tg->port));
	json_object_set_new(p, "ProtocolVersion", json_string(
		tg->protocol_version == TG_PROTO_HTTP2 ? "HTTP2" :
		tg->protocol_version == TG_PROTO_GRPC ? "GRPC" : "HTTP1"));
	json_object_set_new(p, "VpcId", ref("VpcId"));
	if (tg->target_type == TARGET_IP)
		json_object_set_new(p, "IpAddressType", json_string(tg->ipv6 ? "ipv6" : "ipv4"));
	for (size_t i = 0; i < tg->nhttp_targets; i++)
		json_array_append_new(targets, json_pack("{sssi}", "Id", tg->http_targets[i].id,
							 "Port", tg->http_targets[i].port));
	json_object_set_new(p, "Targets", targets);
	snprintf(n, sizeof(n), "%d", a->deregistration_delay);
	attr(attrs, "deregistration_delay.timeout_seconds", n);
	snprintf(n, sizeof(n), "%d", a->slow_start);
	attr(attrs, "slow_start.duration_seconds", n);
	attr(attrs, "load_balancing.algorithm.type", algorithms[a->algorithm]);
	attr(attrs, "stickiness.enabled", a->stickiness ? "true" : "false");
	if (a->stickiness) {
		attr(attrs, "stickiness.type", a->stickiness_type == STICKINESS_APP_COOKIE
						       ? "app_cookie" : "lb_cookie");
		snprintf(n, sizeof(n), "%d", a->lb_cookie_duration);
		attr(attrs, "stickiness.lb_cookie.duration_seconds", n);
		snprintf(n, sizeof(n), "%d", a->app_cookie_duration);
		attr(attrs, "stickiness.app_cookie.duration_seconds", n);
		if (a->app_cookie_name)
			attr(attrs, "stickiness.app_cookie.cookie_name", a->app_cookie_name);
	}
}

static void target_group(struct exporter *x, const struct target_group *tg, const char *id,
			 const char *fn_id)
{
	const struct health_check_cfg *hc = &tg->health_check;
	bool lambda = tg->target_type == TARGET_LAMBDA;
	json_t *p = json_object(), *attrs = json_array(), *r;

	json_object_set_new(p, "Name", json_string(tg->name));
	json_object_set_new(p, "TargetType", json_string(lambda ? "lambda" :
		tg->target_type == TARGET_IP ? "ip" : "instance"));
	if (lambda) {
		attr(attrs, "lambda.multi_value_headers.enabled",
		     tg->multi_value_headers ? "true" : "false");
		if (tg->ntargets && fn_id)
			json_object_set_new(p, "Targets", json_pack("[{so}]", "Id",
								    lambda_target(x, tg, fn_id)));
		json_object_set_new(p, "HealthCheckEnabled", json_boolean(hc->enabled));
	} else {
		http_group(x, tg, p, attrs);
		json_object_set_new(p, "HealthCheckProtocol",
				    json_string(hc->protocol == TG_PROTO_HTTPS ? "HTTPS" : "HTTP"));
		if (hc->port)
			json_object_set_new(p, "HealthCheckPort",
					    json_string(config_printf(&x->a, "%d", hc->port)));
	}
	if (!lambda || hc->enabled) {
		json_object_set_new(p, "HealthCheckPath", json_string(hc->path));
		json_object_set_new(p, "HealthCheckIntervalSeconds", json_integer(hc->interval));
		json_object_set_new(p, "HealthCheckTimeoutSeconds", json_integer(hc->timeout));
		json_object_set_new(p, "HealthyThresholdCount", json_integer(hc->healthy_threshold));
		json_object_set_new(p, "UnhealthyThresholdCount",
				    json_integer(hc->unhealthy_threshold));
		json_object_set_new(p, "Matcher", json_pack("{ss}", tg->protocol_version ==
							    TG_PROTO_GRPC ? "GrpcCode" : "HttpCode",
							    hc->matcher));
	}
	json_object_set_new(p, "TargetGroupAttributes", attrs);
	add(x, id, ELB "TargetGroup", p);
	if (lambda && tg->ntargets && fn_id) {
		/* Why: ALB may invoke a function only with this permission, granted on
		 * the exact (qualified) ARN it registers (aws-integration.md §4.6). */
		const char *pid = config_printf(&x->a, "%sInvokePermission", id);

		add(x, pid, "AWS::Lambda::Permission",
		    json_pack("{ssssso}", "Action", "lambda:InvokeFunction", "Principal",
			      "elasticloadbalancing.amazonaws.com", "FunctionName",
			      lambda_target(x, tg, fn_id)));
		r = json_object_get(x->res, id);
		json_object_set_new(r, "DependsOn", json_string(pid));
	}
}

static const char *const cond_fields[] = {
	[COND_HOST_HEADER] = "host-header", [COND_PATH_PATTERN] = "path-pattern",
	[COND_HTTP_HEADER] = "http-header", [COND_HTTP_REQUEST_METHOD] = "http-request-method",
	[COND_QUERY_STRING] = "query-string", [COND_SOURCE_IP] = "source-ip",
};
static const char *const cond_configs[] = {
	[COND_HOST_HEADER] = "HostHeaderConfig", [COND_PATH_PATTERN] = "PathPatternConfig",
	[COND_HTTP_HEADER] = "HttpHeaderConfig", [COND_HTTP_REQUEST_METHOD] = "HttpRequestMethodConfig",
	[COND_QUERY_STRING] = "QueryStringConfig", [COND_SOURCE_IP] = "SourceIpConfig",
};

static json_t *condition(const struct condition *c)
{
	json_t *values = json_array(), *body = json_object();

	for (size_t i = 0; i < c->nvalues; i++) {
		if (c->type == COND_QUERY_STRING) {
			json_t *kv = json_object();

			if (c->query[i].key)
				json_object_set_new(kv, "Key", json_string(c->query[i].key));
			json_object_set_new(kv, "Value", json_string(c->query[i].value));
			json_array_append_new(values, kv);
		} else if (c->type == COND_SOURCE_IP) {
			char addr[INET6_ADDRSTRLEN], cidr[INET6_ADDRSTRLEN + 8];

			inet_ntop(c->cidrs[i].family, c->cidrs[i].addr, addr, sizeof(addr));
			snprintf(cidr, sizeof(cidr), "%s/%d", addr, c->cidrs[i].prefix);
			json_array_append_new(values, json_string(cidr));
		} else {
			json_array_append_new(values, json_string(c->values[i]));
		}
	}
	if (c->type == COND_HTTP_HEADER)
		json_object_set_new(body, "HttpHeaderName", json_string(c->header_name));
	json_object_set_new(body, c->regexes ? "RegexValues" : "Values", values);
	return json_pack("{ssso}", "Field", cond_fields[c->type], cond_configs[c->type], body);
}

static json_t *action(struct exporter *x, const struct action *a, const char *const *tg_ids)
{
	const struct config *cfg = x->cfg;

	if (a->jwt)
		fprintf(x->warn, "lb: the jwt-validation action at %s:%d is not exported\n",
			a->jwt->pos.file, a->jwt->pos.line);

	if (a->type == ACTION_FIXED_RESPONSE) {
		json_t *f = json_pack("{ss}", "StatusCode",
				      config_printf(&x->a, "%d", a->fixed.status_code));

		if (a->fixed.content_type)
			json_object_set_new(f, "ContentType", json_string(a->fixed.content_type));
		if (a->fixed.body_len)
			json_object_set_new(f, "MessageBody", json_stringn(a->fixed.body,
									   a->fixed.body_len));
		return json_pack("{ssso}", "Type", "fixed-response", "FixedResponseConfig", f);
	}
	if (a->type == ACTION_REDIRECT) {
		const struct redirect_cfg *r = &a->redirect;
		json_t *o = json_pack("{ss}", "StatusCode", r->status_code == 301 ? "HTTP_301" : "HTTP_302");

		if (r->protocol)
			json_object_set_new(o, "Protocol", json_string(r->protocol));
		if (r->host)
			json_object_set_new(o, "Host", json_string(r->host));
		if (r->port)
			json_object_set_new(o, "Port", json_string(r->port));
		if (r->path)
			json_object_set_new(o, "Path", json_string(r->path));
		if (r->query)
			json_object_set_new(o, "Query", json_string(r->query));
		return json_pack("{ssso}", "Type", "redirect", "RedirectConfig", o);
	}
	if (a->forward.ngroups == 1 && !a->forward.stickiness)
		return json_pack("{ssso}", "Type", "forward", "TargetGroupArn",
				 ref(tg_ids[a->forward.groups[0].tg - cfg->target_groups]));
	{
		json_t *groups = json_array(), *fc;

		for (size_t i = 0; i < a->forward.ngroups; i++) {
			const struct forward_target *t = &a->forward.groups[i];

			json_array_append_new(groups, json_pack("{sosi}", "TargetGroupArn",
				ref(tg_ids[t->tg - cfg->target_groups]), "Weight", t->weight));
		}
		fc = json_pack("{so}", "TargetGroups", groups);
		if (a->forward.stickiness)
			json_object_set_new(fc, "TargetGroupStickinessConfig",
					    json_pack("{sbsi}", "Enabled", 1, "DurationSeconds",
						      a->forward.stickiness_duration));
		return json_pack("{ssso}", "Type", "forward", "ForwardConfig", fc);
	}
}

/* Transforms: [{Type, HostHeaderRewriteConfig|UrlRewriteConfig: {Rewrites: [{Regex, Replace}]}}]. */
/* An authenticate-oidc / -cognito action, in AWS's property names (the
 * reverse of cfn_map's snake_case). */
static json_t *auth_action(const struct auth_cfg *au)
{
	static const char *const unauth[] = { "authenticate", "deny", "allow" };
	json_t *c = json_object();

	if (au->cognito) {
		json_object_set_new(c, "UserPoolArn", json_string(au->user_pool_arn));
		json_object_set_new(c, "UserPoolClientId", json_string(au->client_id));
		json_object_set_new(c, "UserPoolDomain", json_string(au->user_pool_domain));
	} else {
		json_object_set_new(c, "Issuer", json_string(au->issuer));
		json_object_set_new(c, "AuthorizationEndpoint", json_string(au->authorization_endpoint));
		json_object_set_new(c, "TokenEndpoint", json_string(au->token_endpoint));
		json_object_set_new(c, "UserInfoEndpoint", json_string(au->user_info_endpoint));
		json_object_set_new(c, "ClientId", json_string(au->client_id));
		if (au->client_secret)
			json_object_set_new(c, "ClientSecret", json_string(au->client_secret));
	}
	json_object_set_new(c, "SessionCookieName", json_string(au->session_cookie_name));
	json_object_set_new(c, "SessionTimeout", json_integer(au->session_timeout));
	json_object_set_new(c, "Scope", json_string(au->scope));
	json_object_set_new(c, "OnUnauthenticatedRequest", json_string(unauth[au->on_unauthenticated]));
	if (au->nextra) {
		json_t *e = json_object();

		for (size_t i = 0; i < au->nextra; i++)
			json_object_set_new(e, au->extra[i].name, json_string(au->extra[i].value));
		json_object_set_new(c, "AuthenticationRequestExtraParams", e);
	}
	return au->cognito
		? json_pack("{sssiso}", "Type", "authenticate-cognito", "Order", 1,
			    "AuthenticateCognitoConfig", c)
		: json_pack("{sssiso}", "Type", "authenticate-oidc", "Order", 1,
			    "AuthenticateOidcConfig", c);
}

/* A rule's Actions: the authenticate action first (Order 1), then the routing one. */
static json_t *actions(struct exporter *x, const struct action *a, const char *const *tg_ids)
{
	json_t *list = json_array(), *routing = action(x, a, tg_ids);

	if (a->auth) {
		json_array_append_new(list, auth_action(a->auth));
		json_object_set_new(routing, "Order", json_integer(2));
	}
	json_array_append_new(list, routing);
	return list;
}

static void transforms(struct exporter *x, const struct rule *r, json_t *props)
{
	json_t *list = json_array();

	(void)x;
	if (r->host_rewrite)
		json_array_append_new(list, json_pack("{sss{s[{ssss}]}}", "Type", "host-header-rewrite",
			"HostHeaderRewriteConfig", "Rewrites", "Regex", r->host_rewrite->regex,
			"Replace", r->host_rewrite->replace));
	if (r->url_rewrite)
		json_array_append_new(list, json_pack("{sss{s[{ssss}]}}", "Type", "url-rewrite",
			"UrlRewriteConfig", "Rewrites", "Regex", r->url_rewrite->regex,
			"Replace", r->url_rewrite->replace));
	if (json_array_size(list))
		json_object_set_new(props, "Transforms", list);
	else
		json_decref(list);
}

static void load_balancer(struct exporter *x)
{
	const struct load_balancer_cfg *lb = &x->cfg->lb;
	static const char *const desync[] = { "monitor", "defensive", "strictest" };
	static const char *const xff[] = { "append", "preserve", "remove" };
	json_t *attrs = json_array();
	char n[32];

	snprintf(n, sizeof(n), "%d", lb->attrs.idle_timeout);
	attr(attrs, "idle_timeout.timeout_seconds", n);
	snprintf(n, sizeof(n), "%d", lb->attrs.client_keep_alive);
	attr(attrs, "client_keep_alive.seconds", n);
	attr(attrs, "routing.http.desync_mitigation_mode", desync[lb->attrs.desync_mode]);
	attr(attrs, "routing.http.xff_header_processing.mode", xff[lb->attrs.xff_mode]);
	attr(attrs, "routing.http.xff_client_port.enabled", lb->attrs.xff_client_port ? "true" : "false");
	attr(attrs, "routing.http.preserve_host_header.enabled", lb->attrs.preserve_host ? "true" : "false");
	attr(attrs, "routing.http.drop_invalid_header_fields.enabled",
	     lb->attrs.drop_invalid_headers ? "true" : "false");
	attr(attrs, "routing.http2.enabled", lb->attrs.http2 ? "true" : "false");
	add(x, "LoadBalancer", ELB "LoadBalancer",
	    json_pack("{sssssssoso}", "Name", lb->name, "Type", "application", "Scheme",
		      "internet-facing", "Subnets", ref("Subnets"), "LoadBalancerAttributes", attrs));
}

static void listeners(struct exporter *x, const char *const *tg_ids)
{
	const struct config *cfg = x->cfg;

	for (size_t i = 0; i < cfg->nlisteners; i++) {
		const struct listener_cfg *l = &cfg->listeners[i];
		/* lb's choice: port 0 (any free port) has no AWS form; such a listener is 80. */
		int port = l->port ? l->port : 80;
		const char *id = logical_id(x, config_printf(&x->a, "port-%d", port), "Listener");

		add(x, id, ELB "Listener", json_pack(
			"{sosissso}", "LoadBalancerArn", ref("LoadBalancer"), "Port", port,
			"Protocol", l->protocol == PROTO_HTTPS ? "HTTPS" : "HTTP", "DefaultActions",
			actions(x, &l->default_rule.action, tg_ids)));
		if (l->protocol == PROTO_HTTPS && l->ssl_policy)
			json_object_set_new(json_object_get(json_object_get(x->res, id), "Properties"),
					    "SslPolicy", json_string(l->ssl_policy));
		if (l->ncertificates)
			fprintf(x->warn, "lb: listener %d: certificate files are not exported (an HTTPS "
				"listener in AWS names ACM certificates)\n", port);
		for (size_t j = 0; j < l->nrules; j++) {
			const struct rule *r = &l->rules[j];
			json_t *conds = json_array();

			for (size_t k = 0; k < r->nconditions; k++)
				json_array_append_new(conds, condition(&r->conditions[k]));
			const char *rid = config_printf(&x->a, "%sRule%d", id, r->priority);

			add(x, rid, ELB "ListenerRule",
			    json_pack("{sosisoso}", "ListenerArn", ref(id), "Priority", r->priority,
				      "Conditions", conds, "Actions", actions(x, &r->action, tg_ids)));
			transforms(x, r, json_object_get(json_object_get(x->res, rid), "Properties"));
		}
	}
}

int cfn_export(const struct config *cfg, FILE *out, FILE *warn)
{
	struct exporter x = { .cfg = cfg, .params = json_object(), .res = json_object(), .warn = warn };
	const char **fn_ids = xcalloc(cfg->nfunctions + 1, sizeof(*fn_ids));
	const char **tg_ids = xcalloc(cfg->ntarget_groups + 1, sizeof(*tg_ids));
	json_t *doc;
	int rc;

	json_object_set_new(x.params, "AssetBucket", json_pack(
		"{ssssss}", "Type", "String", "Default",
		config_printf(&x.a, "lb-assets-%s-%s", cfg->lb.account_id, cfg->lb.region),
		"Description", "S3 bucket holding the zips of the functions' and layers' code"));
	json_object_set_new(x.params, "Subnets", json_pack(
		"{ssss}", "Type", "List<AWS::EC2::Subnet::Id>", "Description",
		"Subnets of the load balancer (two Availability Zones at least)"));
	load_balancer(&x);
	if (cfg->nfunctions)
		add(&x, "LambdaExecutionRole", "AWS::IAM::Role", json_pack(
			"{s{sss[{sss{ss}ss}]}s[s]}", "AssumeRolePolicyDocument", "Version",
			"2012-10-17", "Statement", "Effect", "Allow", "Principal", "Service",
			"lambda.amazonaws.com", "Action", "sts:AssumeRole", "ManagedPolicyArns",
			"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"));
	for (size_t i = 0; i < cfg->nfunctions; i++)
		function(&x, &cfg->functions[i], &fn_ids[i]);
	for (size_t i = 0; i < cfg->ntarget_groups; i++)
		tg_ids[i] = logical_id(&x, cfg->target_groups[i].name, "TargetGroup"),
		json_object_set_new(x.res, tg_ids[i], json_null()); /* reserved */
	for (size_t i = 0; i < cfg->ntarget_groups; i++) {
		const struct target_group *tg = &cfg->target_groups[i];

		target_group(&x, tg, tg_ids[i],
			     tg->function ? fn_ids[tg->function - cfg->functions] : NULL);
	}
	listeners(&x, tg_ids);
	if (x.any_http_group)
		json_object_set_new(x.params, "VpcId", json_pack(
			"{ssss}", "Type", "AWS::EC2::VPC::Id", "Description",
			"The VPC of the instance and ip target groups"));
	doc = json_pack("{sssssoso}", "AWSTemplateFormatVersion", "2010-09-09", "Description",
			"Exported by lb export cloudformation", "Parameters", x.params,
			"Resources", x.res);
	rc = json_dumpf(doc, out, JSON_INDENT(1)) == 0 && fputc('\n', out) != EOF ? 0 : -1;
	json_decref(doc);
	free(fn_ids);
	free(tg_ids);
	arena_release(&x.a);
	return rc;
}
