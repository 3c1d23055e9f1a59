/*
 * stack: choosing between lb.yaml and a stack definition, and the file
 * work a template needs (DESIGN.md §16, reference/aws-integration.md §4-§6).
 *
 * A file whose top level has Resources or AWSTemplateFormatVersion is a
 * CloudFormation template (SAM and CDK output are templates too); a
 * directory is a CDK cloud assembly whose manifest.json names the template.
 * Anything else is lb.yaml, read exactly as before (tags stay refused).
 *
 * The translated tree lives in the template document's own arena, so the
 * one ydoc returned owns everything config_parse reads. Inline code
 * (ZipFile, InlineCode) is written once per content to
 * $TMPDIR/lb-inline-UID-HASH/index.{py,js}: the directory name depends only
 * on the runtime and the source, so a reload reuses it.
 */
#include "config/stack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "config/cfn.h"
#include "config/config_int.h"
#include "config/tf.h"

/* `terraform show -json`: a state has "values", a plan "planned_values". */
static bool is_terraform(const struct ynode *root)
{
	return root && root->type == YNODE_MAPPING && ydoc_get(root, "format_version") &&
	       (ydoc_get(root, "values") || ydoc_get(root, "planned_values"));
}

static bool is_template(const struct ynode *root)
{
	return root && root->type == YNODE_MAPPING &&
	       (ydoc_get(root, "Resources") || ydoc_get(root, "AWSTemplateFormatVersion"));
}

#define CDK_MAX_DEPTH 8 /* nested assemblies (Stages within Stages) */
#define CDK_MAX_STACKS 16 /* stacks of one assembly read together */

/* The stack templates found in an assembly. */
struct cdk_stacks {
	const char *paths[CDK_MAX_STACKS];
	size_t n;          /* how many were found, even past CDK_MAX_STACKS */
};

/*
 * The stack templates of the cloud assembly in dir (§6.1): its manifest's
 * aws:cloudformation:stack artifacts, and those of nested assemblies (CDK
 * Stages, cdk:cloud-assembly artifacts), depth first, into *found.
 * seen[0..depth] are the real paths of the assemblies being walked (freed
 * on the way out).
 */
static int cdk_walk(struct config *cfg, const char *dir, int depth, char **seen,
		    struct cdk_stacks *found, struct lb_err *err)
{
	char *mpath = config_printf(&cfg->arena, "%s/manifest.json", dir);
	struct ydoc *m = ydoc_load(mpath, err);
	const struct ynode *arts;
	int rc = 0;

	if (!m)
		return -1;
	seen[depth] = realpath(dir, NULL);
	arts = ydoc_get(m->root, "artifacts");
	for (size_t i = 0; rc == 0 && arts && arts->type == YNODE_MAPPING && i < arts->n; i++) {
		const struct ynode *a = arts->pairs[i].value, *type = ydoc_get(a, "type");
		const struct ynode *props = ydoc_get(a, "properties");
		const struct ynode *file = ydoc_get(props, "templateFile");
		const struct ynode *sub = ydoc_get(props, "directoryName");

		if (!type || type->type != YNODE_SCALAR)
			continue;
		if (strcmp(type->str, "cdk:cloud-assembly") == 0 && sub && sub->type == YNODE_SCALAR &&
		    depth < CDK_MAX_DEPTH) {
			const char *subdir = config_printf(&cfg->arena, "%s/%s", dir, sub->str);
			char *real = realpath(subdir, NULL);

			/* Why: CDK writes a Stage's assembly to a directory of its own
			 * (assembly-NAME); one naming an assembly around it is a loop. */
			for (int d = 0; real && d <= depth; d++) {
				if (seen[d] && strcmp(seen[d], real) == 0) {
					rc = ydoc_err(err, sub, "nested cloud assembly '%s' is %s (CDK "
						      "writes a Stage's assembly to a directory of its "
						      "own, assembly-NAME)", sub->str,
						      d == depth ? "this assembly's own directory"
								 : "an assembly that contains it");
					break;
				}
			}
			free(real);
			if (rc == 0)
				rc = cdk_walk(cfg, subdir, depth + 1, seen, found, err);
			continue;
		}
		if (strcmp(type->str, "aws:cloudformation:stack") != 0 || !file ||
		    file->type != YNODE_SCALAR)
			continue;
		if (found->n < CDK_MAX_STACKS)
			found->paths[found->n] = config_printf(&cfg->arena, "%s/%s", dir, file->str);
		found->n++;
	}
	free(seen[depth]);
	seen[depth] = NULL;
	ydoc_free(m);
	return rc;
}

/* n, or a node inside it, is {"Fn::ImportValue": ...}. */
static bool imports(const struct ynode *n, int depth)
{
	for (size_t i = 0; n && depth < 64 && n->type != YNODE_SCALAR && i < n->n; i++) {
		if (n->type == YNODE_MAPPING && strcmp(n->pairs[i].key->str, "Fn::ImportValue") == 0)
			return true;
		if (imports(n->type == YNODE_MAPPING ? n->pairs[i].value : n->items[i], depth + 1))
			return true;
	}
	return false;
}

#define NESTED_MAX_DEPTH 8

/* "dir/NAME" for a path p relative to the folder of file (p when absolute). */
static const char *beside(struct arena *a, const char *file, const char *p)
{
	const char *slash = strrchr(file, '/');

	if (*p == '/' || !slash)
		return p;
	return config_printf(a, "%.*s/%s", (int)(slash - file), file, p);
}

/*
 * Why: CDK lists the file assets of a stack and of the stacks it nests in its
 * assets manifest, NAME.assets.json beside NAME.template.json, each by its hash
 * with its source.path (relative to the manifest) and packaging ("file": the
 * file as it is; "zip": a directory CDK zips).
 */
const char *stack_cdk_asset(struct arena *a, const char *top, const char *hash, bool file_only)
{
	const char *sfx = ".template.json", *p = NULL;
	size_t n = strlen(top), k = strlen(sfx);
	const struct ynode *src, *path, *pkg;
	struct lb_err e2 = { 0 };
	struct ydoc *d;

	if (!hash || n < k || strcmp(top + n - k, sfx) != 0)
		return NULL;
	if (!(d = ydoc_load(config_printf(a, "%.*s.assets.json", (int)(n - k), top), &e2)))
		return NULL;
	src = ydoc_get(ydoc_get(ydoc_get(d->root, "files"), hash), "source");
	path = ydoc_get(src, "path");
	pkg = ydoc_get(src, "packaging");
	if (path && path->type == YNODE_SCALAR &&
	    (!pkg || (pkg->type == YNODE_SCALAR && (strcmp(pkg->str, "file") == 0 ||
						     (!file_only && strcmp(pkg->str, "zip") == 0)))))
		p = arena_strdup(a, path->str);
	ydoc_free(d);
	return p;
}

/*
 * Why: without asset metadata (cdk synth --no-asset-metadata, or an app run
 * without the CDK CLI), a CDK nested stack's TemplateURL is only the S3 URL of
 * its template asset, named by the asset's hash, which the assets manifest of
 * top, the template of the stack at the top of the nesting, lists. NULL when
 * it lists none.
 */
static const char *cdk_asset_template(struct arena *a, const char *top, const struct ynode *url)
{
	const char *p = stack_cdk_asset(a, top, cfn_asset_hash(a, url), true);

	return p ? beside(a, top, p) : NULL;
}

/* r is a nested stack: AWS::CloudFormation::Stack, or SAM's AWS::Serverless::Application
 * (*sam set). */
static bool is_nested(const struct ynode *r, bool *sam)
{
	const struct ynode *type = ydoc_get(r, "Type");

	*sam = type && type->type == YNODE_SCALAR &&
	       strcmp(type->str, "AWS::Serverless::Application") == 0;
	return *sam || (type && type->type == YNODE_SCALAR &&
			strcmp(type->str, "AWS::CloudFormation::Stack") == 0);
}

/*
 * The template file of the nested stack resource r in file, under the template
 * top: CDK's NestedStack writes it beside its parent's and names it in the
 * resource's aws:asset:path metadata, or else in its assets manifest; `aws
 * cloudformation package` and `sam deploy` take a local TemplateURL (SAM:
 * Location) and upload it. NULL when it is elsewhere.
 */
static const char *nested_file(struct arena *a, const char *file, const char *top,
			       const struct ynode *r, bool sam)
{
	const struct ynode *meta = ydoc_get(ydoc_get(r, "Metadata"), "aws:asset:path");
	const struct ynode *url = ydoc_get(ydoc_get(r, "Properties"), sam ? "Location" : "TemplateURL");

	if (meta && meta->type == YNODE_SCALAR)
		return beside(a, file, meta->str);
	if (url && url->type == YNODE_SCALAR && !strstr(url->str, "://"))
		return beside(a, file, url->str);
	return sam ? NULL : cdk_asset_template(a, top, url);
}

/* The template at path, or a stack it nests (top: the template at the top of
 * the nesting), has an application load balancer (Type absent or not a literal
 * other one). A template that does not load has none: its load says why. */
static bool has_alb(struct arena *a, const char *path, const char *top, int depth)
{
	struct lb_err e2 = { 0 };
	struct ydoc *d = ydoc_load(path, &e2);
	const struct ynode *res = d ? ydoc_get(d->root, "Resources") : NULL;
	bool found = false;

	for (size_t j = 0; !found && res && res->type == YNODE_MAPPING && j < res->n; j++) {
		const struct ynode *r = res->pairs[j].value, *t = ydoc_get(r, "Type");
		const struct ynode *lt = ydoc_get(ydoc_get(r, "Properties"), "Type");
		const char *p;
		bool sam;

		found = t && t->type == YNODE_SCALAR &&
			strcmp(t->str, "AWS::ElasticLoadBalancingV2::LoadBalancer") == 0 &&
			!(lt && lt->type == YNODE_SCALAR && strcmp(lt->str, "application") != 0);
		/* Why: a nested stack is created with its parent, so a CDK NestedStack
		 * may hold the application's load balancer. */
		if (!found && depth < NESTED_MAX_DEPTH && is_nested(r, &sam) &&
		    (p = nested_file(a, path, top, r, sam)))
			found = has_alb(a, p, top, depth + 1);
	}
	ydoc_free(d);
	return found;
}

/*
 * Several stacks each with a load balancer (two Stages, say), or none with
 * one: the first with a load balancer (pick, when one has an application load
 * balancer, in it or a stack it nests) is the one to name, and a stack that
 * reaches it through Fn::ImportValue is one lb will not serve with it.
 */
static void several(const char *dir, const char *const *paths, size_t n, const char *pick,
		    struct lb_err *err)
{
	const char *importer = NULL;

	for (size_t i = 0; i < n; i++) {
		struct lb_err e2 = { 0 };
		struct ydoc *d = ydoc_load(paths[i], &e2);
		const struct ynode *res = d ? ydoc_get(d->root, "Resources") : NULL;

		for (size_t j = 0; !pick && res && res->type == YNODE_MAPPING && j < res->n; j++) {
			const struct ynode *t = ydoc_get(res->pairs[j].value, "Type");

			if (t && t->type == YNODE_SCALAR &&
			    strcmp(t->str, "AWS::ElasticLoadBalancingV2::LoadBalancer") == 0)
				pick = paths[i];
		}
		if (!importer && d && imports(res, 0))
			importer = paths[i];
		ydoc_free(d);
	}
	if (!pick)
		pick = paths[1];
	if (importer && importer != pick)
		/* Why: CDK links stacks of one app with Outputs.Export and Fn::ImportValue;
		 * with one stack named, lb reads that template alone. */
		lb_err_set(err, "%s: the cloud assembly has several stacks: name one with -c %s "
			   "(lb serves one stack: what %s reaches through Fn::ImportValue is not "
			   "served)", dir, pick, importer);
	else
		lb_err_set(err, "%s: the cloud assembly has several stacks: name one with -c %s",
			   dir, pick);
}

/*
 * The templates lb reads for the assembly in dir: its one stack, or, when
 * exactly one of several stacks has the application load balancer, every
 * stack, that one first (the others join it through Fn::ImportValue).
 */
static int cdk_templates(struct config *cfg, const char *dir, struct cdk_stacks *found,
			 struct lb_err *err)
{
	char *seen[CDK_MAX_DEPTH + 1] = { NULL };
	size_t alb = 0, nalb = 0;
	const char *first = NULL;

	if (cdk_walk(cfg, dir, 0, seen, found, err))
		return -1;
	if (!found->n)
		return lb_err_set(err, "%s/manifest.json: the cloud assembly has no stack template", dir);
	if (found->n > CDK_MAX_STACKS)
		return lb_err_set(err, "%s: the cloud assembly has %zu stacks, more than the %d lb "
				  "reads together: name the one with the load balancer with -c "
				  "(cdk.out/NAME.template.json)", dir, found->n, CDK_MAX_STACKS);
	for (size_t i = 0; found->n > 1 && i < found->n; i++) {
		if (has_alb(&cfg->arena, found->paths[i], found->paths[i], 0)) {
			first = first ? first : found->paths[i];
			alb = i;
			nalb++;
		}
	}
	if (found->n > 1 && nalb != 1) {
		several(dir, found->paths, found->n, first, err);
		return -1;
	}
	if (alb) {
		const char *p = found->paths[alb];

		memmove(&found->paths[1], &found->paths[0], alb * sizeof(found->paths[0]));
		found->paths[0] = p;
	}
	return 0;
}

static const char *param(const struct stack_opts *o, const char *key, const char *def)
{
	size_t n = strlen(key);

	for (size_t i = 0; o && i < o->nparams; i++) {
		if (strncmp(o->params[i], key, n) == 0 && o->params[i][n] == '=')
			return o->params[i] + n + 1;
	}
	return def;
}

/* "dir/app.template.json" -> "app": AWS::StackName (§4.3's suggestion). */
static const char *stack_name(struct arena *a, const char *path)
{
	const char *base = strrchr(path, '/'), *dot;

	base = base ? base + 1 : path;
	dot = strchr(base, '.');
	return dot && dot > base ? arena_strndup(a, base, (size_t)(dot - base)) : base;
}

/* A --port-map whose port no listener has would do nothing: said, not ignored. */
static int unused_port_map(const struct cfn *c, const char *tpl)
{
	for (size_t i = 0; c->opts && i < c->opts->nport_maps && i < 64; i++)
		if (!(c->ports_used & (uint64_t)1 << i))
			return lb_err_set(c->err, "--port-map %s: %s has no listener on port %.*s", c->opts->port_maps[i],
					  tpl, (int)strcspn(c->opts->port_maps[i], "="), c->opts->port_maps[i]);
	return 0;
}

static void free_doc(void *doc)
{
	ydoc_free(doc);
}

/* The template at path, flipped into c's arena; doc's arena frees its document
 * (cfn_flip shares its strings). NULL with err set. */
static const struct ynode *load_more(struct cfn *c, struct ydoc *doc, const char *path,
				     struct lb_err *err)
{
	struct ydoc *d = ydoc_load_tagged(path, err);

	if (!d)
		return NULL;
	arena_defer(&doc->arena, free_doc, d);
	return cfn_flip(c->a, d->root);
}

/* The other stacks of an assembly. Each is its own scope. */
static int more_stacks(struct cfn *c, struct ydoc *doc, const struct cdk_stacks *found,
		       struct lb_err *err)
{
	for (size_t i = 1; i < found->n; i++) {
		const struct ynode *root = load_more(c, doc, found->paths[i], err);

		if (!root)
			return -1;
		c->stacks[c->nstacks++] = (struct cfn_stack){
			.file = found->paths[i], .root = root, .stack = stack_name(c->a, found->paths[i]) };
	}
	return 0;
}

/* The depth of stacks[s] in its tree of nested stacks (0: a stack of its own). */
static int nested_depth(const struct cfn *c, size_t s)
{
	int d = 0;

	for (; c->stacks[s].res_id; s = c->stacks[s].parent)
		d++;
	return d;
}

/*
 * Why: a nested stack (AWS::CloudFormation::Stack, or SAM's
 * AWS::Serverless::Application) is part of its parent's application: each is
 * read as a stack in its own scope, given its parent's Parameters, and named
 * as CloudFormation names it, PARENT-LOGICALID-SUFFIX.
 */
static int nested_stacks(struct cfn *c, struct ydoc *doc, struct lb_err *err)
{
	for (size_t s = 0; s < c->nstacks; s++) {
		const struct ynode *res = ydoc_get(c->stacks[s].root, "Resources");

		for (size_t i = 0; res && res->type == YNODE_MAPPING && i < res->n; i++) {
			const struct ynode *r = res->pairs[i].value, *root;
			const char *id = res->pairs[i].key->str, *path;
			char suffix[17];
			bool sam;

			if (!is_nested(r, &sam))
				continue;
			if (!(path = nested_file(c->a, c->stacks[s].file, c->stacks[cfn_top(c, s)].file,
						 r, sam))) {
				log_warn("%s:%d:%d: nested stack '%s': lb reads a nested template from "
					 "a local %s or a CDK asset, not from S3 or a repository; its "
					 "resources are not served", r->file, r->line, r->col, id,
					 sam ? "Location" : "TemplateURL");
				continue;
			}
			if (c->nstacks == CFN_STACKS_MAX || nested_depth(c, s) == NESTED_MAX_DEPTH)
				return ydoc_err(err, r, "nested stack '%s': more than %d %s (does a "
						"template nest itself?)", id,
						c->nstacks == CFN_STACKS_MAX ? CFN_STACKS_MAX : NESTED_MAX_DEPTH,
						c->nstacks == CFN_STACKS_MAX ? "stacks in all" : "levels");
			if (!(root = load_more(c, doc, path, err))) {
				char msg[sizeof(err->msg)];

				snprintf(msg, sizeof(msg), "%s", err->msg);
				return ydoc_err(err, r, "nested stack '%s': %s", id, msg);
			}
			config_stable_id(config_printf(c->a, "%s/%s", c->stacks[s].stack, id), suffix);
			for (char *x = suffix; *x; x++)
				*x = (char)(*x >= 'a' ? *x - 'a' + 'A' : *x);
			c->stacks[c->nstacks++] = (struct cfn_stack){
				.file = path, .root = root, .res_id = id, .parent = s,
				.suffix = arena_strndup(c->a, suffix, 8),
				.params = ydoc_get(ydoc_get(r, "Properties"), "Parameters"),
				.stack = config_printf(c->a, "%s-%s-%.12s", c->stacks[s].stack, id, suffix) };
		}
	}
	return 0;
}

struct ydoc *stack_load(struct config *cfg, const struct stack_opts *opts, struct lb_err *err)
{
	struct stat st;
	bool dir = stat(cfg->path, &st) == 0 && S_ISDIR(st.st_mode);
	struct cdk_stacks found = { .n = 0 };
	const char *tpl = cfg->path;
	struct buf skipped = BUF_INIT;
	struct ydoc *doc;
	struct cfn c;

	if (dir && cdk_templates(cfg, cfg->path, &found, err))
		return NULL;
	if (dir)
		tpl = found.paths[0];
	if (!(doc = ydoc_load_tagged(tpl, err)))
		return NULL;
	if (!dir && !is_template(doc->root) && !is_terraform(doc->root)) {
		if (opts && (opts->nparams || opts->nport_maps)) {
			ydoc_err(err, doc->root, "--%s applies to a template, a cdk.out directory or a "
				 "Terraform state or plan, not to an lb.yaml (there, -p PORT or the file "
				 "sets ports)", opts->nparams ? "parameter" : "port-map");
			ydoc_free(doc);
			return NULL;
		}
		ydoc_free(doc);
		return ydoc_load(cfg->path, err);
	}
	c = (struct cfn){ .a = &doc->arena, .file = tpl, .opts = opts, .skipped = &skipped,
			  .err = err };
	c.root = cfn_flip(c.a, doc->root);
	c.region = param(opts, "AWS::Region", cfg->lb.region ? cfg->lb.region : "us-east-1");
	c.account = param(opts, "AWS::AccountId", "123456789012");
	c.stack = param(opts, "AWS::StackName", stack_name(c.a, tpl));
	cfn_stacks_init(&c);
	if ((found.n > 1 && more_stacks(&c, doc, &found, err)) ||
	    (is_terraform(doc->root) ? tf_config(&c, doc->root, &doc->root)
				     : nested_stacks(&c, doc, err) || cfn_resources(&c, err) ||
				       cfn_config(&c, &doc->root)) ||
	    unused_port_map(&c, tpl)) {
		ydoc_free(doc);
		doc = NULL;
	} else if (skipped.len) {
		log_info("%s: not emulated, skipped: %s", tpl, buf_cstr(&skipped));
	}
	buf_release(&skipped);
	return doc;
}

static int write_file(const char *path, const char *text, struct lb_err *err)
{
	char *tmp = NULL;
	FILE *f;
	int rc = -1;
	size_t n = strlen(text);
	bool short_write;

	if (asprintf(&tmp, "%s.%ld", path, (long)getpid()) < 0)
		abort();
	if (!(f = fopen(tmp, "w"))) {
		lb_err_set(err, "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	short_write = fwrite(text, 1, n, f) != n;
	if (fclose(f) != 0 || short_write) {
		lb_err_set(err, "cannot write '%s': %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) != 0) {
		lb_err_set(err, "cannot write '%s': %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	return rc;
}

const char *stack_inline_code(struct cfn *c, const struct ynode *at, const char *runtime,
			      const char *source)
{
	const char *tmpdir = getenv("TMPDIR"), *ext;
	char id[17];
	char *key, *dir, *file;
	struct stat st;

	/* Why: CloudFormation puts ZipFile source in a file named index, so handlers
	 * are index.NAME (aws-integration.md §4.5); lb names it by the runtime. */
	if (strncmp(runtime, "nodejs", 6) == 0)
		ext = "js";
	else if (strncmp(runtime, "python", 6) == 0)
		ext = "py";
	else
		return cfn_err(c, at, "inline code needs a nodejs or python runtime, not '%s'",
			       runtime), NULL;
	key = config_printf(c->a, "%s\n%s", ext, source);
	config_stable_id(key, id);
	dir = config_printf(c->a, "%s/lb-inline-%ld-%s", tmpdir && *tmpdir ? tmpdir : "/tmp",
			    (long)getuid(), id);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return cfn_err(c, at, "cannot create '%s': %s", dir, strerror(errno)), NULL;
	/* Someone else's directory of that name must not receive our code. */
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid())
		return cfn_err(c, at, "'%s' is not a directory of this user", dir), NULL;
	file = config_printf(c->a, "%s/index.%s", dir, ext);
	if (write_file(file, source, c->err)) {
		char msg[sizeof(c->err->msg)];

		snprintf(msg, sizeof(msg), "%s", c->err->msg);
		return cfn_err(c, at, "%s", msg), NULL;
	}
	return dir;
}
