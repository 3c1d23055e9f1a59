/*
 * cfn_fn: the Lambda functions of a template (AWS::Lambda::Function and
 * SAM's AWS::Serverless::Function) as lb.yaml's functions, with the
 * template's AWS::Lambda::Version and ::Alias resources as their versions
 * and aliases (reference/aws-integration.md §4.5, §5, §6.2).
 *
 * Code is found where a local run can find it: inline source (ZipFile,
 * InlineCode) written to a directory, a SAM CodeUri that is a local path,
 * or a CDK asset (the aws:asset:path metadata, relative to the template, or
 * else the asset of the S3Key's hash in the stack's assets manifest).
 * A local path may name a directory or a .zip file, as lb.yaml's code may
 * (config_fn.c checks which). Code that is only in S3 or an image is an
 * error naming the resource.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"
#include "config/cfn.h"
#include "config/config_int.h"

const char *cfn_lambda_target(struct cfn *c, const char *arn)
{
	const char *p = strstr(arn, ":function:");

	if (strncmp(arn, "arn:", 4) != 0 || !p || !p[10])
		return NULL;
	return arena_strdup(c->a, p + 10);
}

static bool is(const struct cfn_res *r, const char *type)
{
	return !r->off && strcmp(r->type, type) == 0;
}

/* A failed asset(): an error is set. */
static struct ynode asset_failed;

/*
 * path names the template's own folder, and that folder is a cloud assembly
 * (manifest.json beside the template): a function run from it would have
 * every template and asset as its code, and no handler.
 */
static bool assembly_itself(struct cfn *c, const char *tpl, const struct ynode *path)
{
	const char *slash = strrchr(tpl, '/');
	const char *dir = slash ? config_printf(c->a, "%.*s", (int)(slash - tpl), tpl) : ".";
	const char *full = path->str[0] == '/' ? path->str : config_printf(c->a, "%s/%s", dir,
									  path->str);
	char *a = realpath(dir, NULL), *b = realpath(full, NULL);
	struct stat st;
	bool same = a && b && strcmp(a, b) == 0 &&
		    stat(config_printf(c->a, "%s/manifest.json", dir), &st) == 0;

	free(a);
	free(b);
	return same;
}

/* The CDK asset that replaces property prop, as a path node; NULL if none,
 * &asset_failed with an error. */
static struct ynode *asset(struct cfn *c, const struct cfn_res *r, const char *prop)
{
	const struct ynode *md = ydoc_get(r->node, "Metadata");
	const struct ynode *path = ydoc_get(md, "aws:asset:path");
	const struct ynode *p = ydoc_get(md, "aws:asset:property");

	if (!path || path->type != YNODE_SCALAR || !p || p->type != YNODE_SCALAR ||
	    strcmp(p->str, prop) != 0)
		return NULL;
	if (assembly_itself(c, cfn_file(c, r), path))
		return cfn_err(c, path, "the asset of '%s' (aws:asset:path '%s') is the cloud "
			       "assembly's own directory, not its code: CDK stages an asset in "
			       "asset.HASH beside the template (synthesize again with cdk synth, "
			       "and keep cdk.out out of the asset's source)", r->id, path->str),
		       &asset_failed;
	/* Why: aws:asset:path is relative to the template's folder (§6.2); so are
	 * lb's paths relative to the file naming them. */
	return cfn_scalar(c->a, path, path->str);
}

/* Files a and b are in one folder, as their paths name it. */
static bool same_folder(const char *a, const char *b)
{
	const char *sa = strrchr(a, '/'), *sb = strrchr(b, '/');
	size_t na = sa ? (size_t)(sa - a) : 0, nb = sb ? (size_t)(sb - b) : 0;

	return na == nb && strncmp(a, b, na) == 0;
}

/*
 * Without asset metadata (cdk synth --no-asset-metadata, or an app synthesized
 * without the CDK CLI), the S3Key of a CDK function's Code or layer's Content is
 * "<sha256>.zip", the key of the asset of that hash: the assets manifest of the
 * stack at the top of r's nesting names its staged copy. Without one, the staged
 * copy is the folder asset.<sha256> beside the template (aws-integration.md
 * §6.2's fallback), or, for code given as a .zip file
 * (lambda.Code.fromAsset('app.zip')), the file asset.<sha256>.zip, which CDK
 * stages as it is.
 */
static struct ynode *cdk_staged(struct cfn *c, const struct cfn_res *r, const struct ynode *key)
{
	const char *tpl = cfn_file(c, r), *top = c->stacks[cfn_top(c, r->stack)].file;
	size_t n = strlen(tpl), sfx = strlen(".template.json");
	const char *slash = strrchr(tpl, '/'), *dir, *p;
	struct stat st;

	if (!key || key->type != YNODE_SCALAR || key->len != 68 || strcmp(key->str + 64, ".zip") ||
	    strspn(key->str, "0123456789abcdef") != 64 || n < sfx ||
	    strcmp(tpl + n - sfx, ".template.json") != 0)
		return NULL;
	/* Why: a CDK Stage's templates are in its nested assembly (assembly-NAME/)
	 * and its assets in the cloud assembly's root, where the manifest's
	 * "../asset.HASH" leads; CDK writes nested templates beside the top one. */
	if (same_folder(tpl, top) &&
	    (p = stack_cdk_asset(c->a, top, arena_strndup(c->a, key->str, 64), false)))
		return cfn_scalar(c->a, key, p);
	dir = slash ? config_printf(c->a, "%.*s/", (int)(slash - tpl), tpl) : "";
	if (stat(config_printf(c->a, "%sasset.%.64s", dir, key->str), &st) != 0 &&
	    stat(config_printf(c->a, "%sasset.%s", dir, key->str), &st) == 0 && S_ISREG(st.st_mode))
		return cfn_scalar(c->a, key, config_printf(c->a, "asset.%s", key->str));
	return cfn_scalar(c->a, key, arena_strndup(c->a, config_printf(c->a, "asset.%s",
								       key->str), 70));
}

/*
 * A template's image function names an image in a registry (ImageUri) or a
 * Dockerfile to build (CDK, SAM CLI): lb does neither, but runs a saved image.
 */
static int image_err(struct cfn *c, const struct ynode *at, const struct cfn_res *r)
{
	return cfn_err(c, at, "function '%s' is a container image, which lb cannot pull or build: "
		       "save it (docker save -o fn.tar IMAGE) and serve it from an lb.yaml "
		       "function's image: key", r->id);
}

static int code(struct cfn *c, const struct cfn_res *r, const char *runtime, struct ynode *o)
{
	bool sam = strcmp(r->type, "AWS::Serverless::Function") == 0;
	struct ynode *v, *path = asset(c, r, "Code");
	const struct ynode *zip;
	const char *dir;

	if (path == &asset_failed)
		return -1;
	if (path) {
		cfn_put(c->a, o, "code", path);
		return 0;
	}
	if (cfn_prop(c, r, sam ? "InlineCode" : "Code", &v))
		return -1;
	zip = sam ? v : ydoc_get(v, "ZipFile");
	if (zip) {
		if (zip->type != YNODE_SCALAR)
			return cfn_err(c, zip, "inline code must be a string");
		if (!(dir = stack_inline_code(c, zip, runtime ? runtime : "", zip->str)))
			return -1;
		cfn_put(c->a, o, "code", cfn_scalar(c->a, zip, dir));
		return 0;
	}
	if (sam && cfn_prop(c, r, "CodeUri", &v))
		return -1;
	if (sam && v && v->type == YNODE_SCALAR && strncmp(v->str, "s3://", 5) != 0) {
		cfn_put(c->a, o, "code", v);
		return 0;
	}
	if (!sam && (path = cdk_staged(c, r, ydoc_get(v, "S3Key")))) {
		cfn_put(c->a, o, "code", path);
		return 0;
	}
	if (v && ydoc_get(v, "ImageUri"))
		return image_err(c, v, r);
	if (!v && ydoc_get(r->props, "ImageUri"))
		return image_err(c, ydoc_get(r->props, "ImageUri"), r);
	return cfn_err(c, v ? v : r->node, "function '%s' has its code in S3, which lb cannot "
		       "read: give it a local %s", r->id,
		       sam ? "CodeUri (a directory or .zip file) or InlineCode"
			   : "ZipFile, or synthesize with CDK's asset metadata");
}

/* "arn:PARTITION:lambda:REGION:ACCOUNT:layer:NAME:VERSION", the form Layers takes. */
bool cfn_layer_arn(const char *s)
{
	const char *p = s;

	if (strncmp(s, "arn:aws", 7) != 0)
		return false;
	for (int field = 0; field < 7; field++) {
		size_t n = strcspn(p, ":");

		if (!p[n] || !n || (field == 2 && (n != 6 || strncmp(p, "lambda", 6) != 0)) ||
		    (field == 5 && (n != 5 || strncmp(p, "layer", 5) != 0)))
			return false;
		p += n + 1;
	}
	return *p && strspn(p, "0123456789") == strlen(p);
}

/*
 * Why: Lambda fetches a layer named by ARN from the account that published it
 * (AWS's public ones: Powertools, Lambda Insights, the Parameters and Secrets
 * extension); lb runs without AWS, so such a layer is named and left out.
 */
void cfn_layer_skipped(const struct ynode *at, const char *arn, const char *where,
		       const char *fn)
{
	log_warn("%s:%d:%d: layer '%s' is not in this %s, and lb cannot fetch it from AWS: "
		 "function '%s' runs without it (nothing of it under /opt)", at->file, at->line,
		 at->col, arn, where, fn);
}

/* A layer ARN naming a LayerVersion of this template with local content. */
static int layer(struct cfn *c, const struct cfn_res *f, const struct ynode *arn,
		 struct ynode *list)
{
	for (size_t i = 0; arn->type == YNODE_SCALAR && i < c->nres; i++) {
		struct cfn_res *r = &c->res[i];
		struct ynode *v;

		if (r->off || !strstr(r->type, "::LayerVersion") || cfn_name(c, r) ||
		    strcmp(r->ref, arn->str) != 0)
			continue;
		if ((v = asset(c, r, "Content")) == &asset_failed)
			return -1;
		if (!v) {
			if (cfn_prop(c, r, "Content", &v))
				return -1;
			v = cdk_staged(c, r, ydoc_get(v, "S3Key"));
		}
		if (v) {
			cfn_push(c->a, list, v);
			return 0;
		}
		if (cfn_prop(c, r, "ContentUri", &v))
			return -1;
		if (v && v->type == YNODE_SCALAR && strncmp(v->str, "s3://", 5) != 0) {
			cfn_push(c->a, list, v);
			return 0;
		}
		return cfn_err(c, r->node, "layer '%s' has its content in S3, which lb cannot read",
			       r->id);
	}
	if (arn->type == YNODE_SCALAR && cfn_layer_arn(arn->str)) {
		cfn_layer_skipped(arn, arn->str, "template", f->id);
		return 0;
	}
	return cfn_err(c, arn, "layer '%s' is not a layer of this template with local content",
		       arn->type == YNODE_SCALAR ? arn->str : "?");
}

static int versions(struct cfn *c, const struct cfn_res *f, struct ynode *o)
{
	struct ynode *vs = cfn_seq(c->a, f->node), *as = cfn_seq(c->a, f->node), *v;
	const char *auto_alias;

	for (size_t i = 0; i < c->nres; i++) {
		struct cfn_res *r = &c->res[i];
		struct ynode *m;

		if (!is(r, "AWS::Lambda::Version") && !is(r, "AWS::Lambda::Alias"))
			continue;
		if (cfn_name(c, r))
			return -1;
		if (strcmp(r->fn, f->name) != 0)
			continue;
		m = cfn_map(c->a, r->node);
		if (r->type[13] == 'V') { /* AWS::Lambda::Version */
			cfn_put(c->a, m, "version", cfn_scalar(c->a, r->node, r->version));
			cfn_push(c->a, vs, m);
			continue;
		}
		cfn_put(c->a, m, "name", cfn_scalar(c->a, r->node, r->name));
		if (cfn_prop(c, r, "FunctionVersion", &v))
			return -1;
		cfn_put(c->a, m, "function_version", v);
		if (cfn_prop(c, r, "RoutingConfig", &v))
			return -1;
		if (v) {
			const struct ynode *w = ydoc_get(v, "AdditionalVersionWeights");
			struct ynode *rc = cfn_map(c->a, v), *ws = cfn_map(c->a, v);

			for (size_t j = 0; w && w->type == YNODE_SEQUENCE && j < w->n; j++) {
				const struct ynode *ver = ydoc_get(w->items[j], "FunctionVersion");

				if (!ver || ver->type != YNODE_SCALAR)
					return cfn_err(c, w->items[j], "a weight needs FunctionVersion");
				cfn_put(c->a, ws, ver->str,
					(struct ynode *)ydoc_get(w->items[j], "FunctionWeight"));
			}
			cfn_put(c->a, rc, "additional_version_weights", ws);
			cfn_put(c->a, m, "routing_config", rc);
		}
		cfn_push(c->a, as, m);
	}
	/* Why: SAM's AutoPublishAlias publishes a version and points the alias at it (§5.2). */
	if (cfn_prop_str(c, f, "AutoPublishAlias", &auto_alias))
		return -1;
	if (auto_alias) {
		struct ynode *m = cfn_map(c->a, f->node), *a = cfn_map(c->a, f->node);

		cfn_put(c->a, m, "version", cfn_scalar(c->a, f->node, "1"));
		cfn_push(c->a, vs, m);
		cfn_put(c->a, a, "name", cfn_scalar(c->a, f->node, auto_alias));
		cfn_put(c->a, a, "function_version", cfn_scalar(c->a, f->node, "1"));
		cfn_push(c->a, as, a);
	}
	if (vs->n)
		cfn_put(c->a, o, "versions", vs);
	if (as->n)
		cfn_put(c->a, o, "aliases", as);
	return 0;
}

/* Why: SAM's event sources (aws-integration.md §5.1); none of them is a load balancer. */
static const char *const sam_event_types[] = {
	"S3", "SNS", "Kinesis", "DynamoDB", "DocumentDB", "SQS", "Api", "Schedule", "ScheduleV2",
	"CloudWatchEvent", "EventBridgeRule", "CloudWatchLogs", "IoTRule", "AlexaSkill", "Cognito",
	"HttpApi", "MSK", "MQ", "SelfManagedKafka",
};

/*
 * A SAM function's Events: lb runs none of them, but SAM's transform refuses
 * a type it does not have, so lb does too. Why: SAM has no ALB event, and a
 * function given one would get no traffic from lb's load balancer either: the
 * message says how a template wires a function to an ALB.
 */
static int sam_events(struct cfn *c, const struct cfn_res *r)
{
	const struct ynode *ev = ydoc_get(r->props, "Events");

	if (!ev)
		return 0;
	if (ev->type != YNODE_MAPPING)
		return cfn_err(c, ev, "'Events' of '%s' must be a mapping", r->id);
	for (size_t i = 0; i < ev->n; i++) {
		const char *name = ev->pairs[i].key->str;
		const struct ynode *t = ydoc_get(ev->pairs[i].value, "Type");
		bool known = false;

		if (!t)
			return cfn_err(c, ev->pairs[i].value, "event '%s' of '%s' needs a Type", name, r->id);
		if (t->type != YNODE_SCALAR)
			return cfn_err(c, t, "the Type of event '%s' of '%s' must be a string", name, r->id);
		for (size_t j = 0; j < ARRAY_LEN(sam_event_types); j++)
			known |= strcmp(t->str, sam_event_types[j]) == 0;
		if (known)
			continue;
		if (strcasestr(t->str, "alb") || strcasestr(t->str, "LoadBalancer") ||
		    strcasestr(t->str, "elb"))
			return cfn_err(c, t, "event '%s' of '%s' has Type '%s', which SAM does not have: "
				       "a function behind an ALB is the target of an "
				       "AWS::ElasticLoadBalancingV2::TargetGroup (TargetType: lambda, "
				       "Targets: [{Id: !GetAtt %s.Arn}])", name, r->id, t->str, r->id);
		return cfn_err(c, t, "event '%s' of '%s' has Type '%s', which is not one of SAM's event "
			       "types", name, r->id, t->str);
	}
	return 0;
}

static const struct { const char *cfn, *lb; } fn_keys[] = {
	{ "Runtime", "runtime" },
	{ "Handler", "handler" },
	{ "Timeout", "timeout" },
	{ "MemorySize", "memory_size" },
	{ "ReservedConcurrentExecutions", "reserved_concurrent_executions" },
};

static int function(struct cfn *c, struct cfn_res *r, struct ynode *list)
{
	struct ynode *o = cfn_map(c->a, r->node), *v;
	const char *runtime, *pkg;

	if (cfn_name(c, r) || cfn_prop_str(c, r, "Runtime", &runtime) ||
	    cfn_prop_str(c, r, "PackageType", &pkg))
		return -1;
	if (pkg && strcmp(pkg, "Image") == 0)
		return image_err(c, ydoc_get(r->props, "PackageType"), r);
	cfn_put(c->a, o, "name", cfn_scalar(c->a, r->node, r->name));
	for (size_t i = 0; i < ARRAY_LEN(fn_keys); i++) {
		if (cfn_prop(c, r, fn_keys[i].cfn, &v))
			return -1;
		cfn_put(c->a, o, fn_keys[i].lb, v);
	}
	if (code(c, r, runtime, o) || cfn_prop(c, r, "Environment", &v))
		return -1;
	/* Why: CloudFormation refuses these shapes; dropping them ran the function without. */
	if (v && v->type != YNODE_MAPPING)
		return cfn_err(c, v, "'Environment' of '%s' must be a mapping", r->id);
	if (v) {
		struct ynode *env = cfn_map(c->a, v);

		cfn_put(c->a, env, "variables", (struct ynode *)ydoc_get(v, "Variables"));
		cfn_put(c->a, o, "environment", env);
	}
	if (cfn_prop(c, r, "Layers", &v))
		return -1;
	if (v && v->type != YNODE_SEQUENCE)
		return cfn_err(c, v, "'Layers' of '%s' must be a list", r->id);
	if (v && v->n) {
		struct ynode *ls = cfn_seq(c->a, v);

		for (size_t i = 0; i < v->n; i++) {
			if (layer(c, r, v->items[i], ls))
				return -1;
		}
		if (ls->n)
			cfn_put(c->a, o, "layers", ls);
	}
	if (versions(c, r, o))
		return -1;
	cfn_push(c->a, list, o);
	return 0;
}

int cfn_sam_events(struct cfn *c)
{
	for (size_t i = 0; i < c->nres; i++) {
		if (is(&c->res[i], "AWS::Serverless::Function") && sam_events(c, &c->res[i]))
			return -1;
	}
	return 0;
}

int cfn_functions(struct cfn *c, struct ynode *list)
{
	for (size_t i = 0; i < c->nres; i++) {
		struct cfn_res *r = &c->res[i];

		if ((is(r, "AWS::Lambda::Function") || is(r, "AWS::Serverless::Function")) &&
		    function(c, r, list))
			return -1;
	}
	return 0;
}
