/*
 * oci_image: image layout, manifest and configuration JSON, layer entry
 * names and whiteouts — pure functions of their inputs (oci_image.h).
 *
 * Every path this file returns is relative and free of ".." components, so
 * the I/O side can join it to a directory it owns without further checks
 * of the names (symbolic links on disk are its business).
 */
#include "alb/oci_image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/util.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"

static json_t *parse(const char *json, size_t n, const char *what, struct lb_err *err)
{
	json_error_t je;
	json_t *root = json_loadb(json, n, 0, &je);

	if (!root)
		lb_err_set(err, "%s is not valid JSON (line %d: %s)", what, je.line, je.text);
	return root;
}

int oci_blob_path(const char *digest, char **path, struct lb_err *err)
{
	const char *colon = digest ? strchr(digest, ':') : NULL;
	size_t alg = colon ? (size_t)(colon - digest) : 0, hex = colon ? strlen(colon + 1) : 0;
	char buf[256];

	if (!colon || alg == 0 || alg > 32 || strspn(digest, "abcdefghijklmnopqrstuvwxyz0123456789") != alg ||
	    hex < 32 || hex > 128 || strspn(colon + 1, "0123456789abcdef") != hex)
		return lb_err_set(err, "'%s' is not a digest (algorithm:hex)", digest ? digest : "(none)");
	snprintf(buf, sizeof(buf), "blobs/%.*s/%s", (int)alg, digest, colon + 1);
	*path = xstrdup(buf);
	return 0;
}

static bool is_index_type(const char *mt)
{
	return mt && (strcmp(mt, "application/vnd.oci.image.index.v1+json") == 0 ||
		      strcmp(mt, "application/vnd.docker.distribution.manifest.list.v2+json") == 0);
}

int oci_index_pick(const char *json, size_t n, const char *arch, char **digest, bool *nested,
		   struct lb_err *err)
{
	json_t *root = parse(json, n, "index.json", err), *list, *m, *pick = NULL;
	size_t i;
	int rc = -1;

	if (!root)
		return -1;
	list = json_object_get(root, "manifests");
	if (!json_is_array(list) || json_array_size(list) == 0) {
		lb_err_set(err, "the image index lists no manifests");
		goto out;
	}
	json_array_foreach(list, i, m) {
		json_t *plat = json_object_get(m, "platform");
		const char *os = json_string_value(json_object_get(plat, "os"));
		const char *a = json_string_value(json_object_get(plat, "architecture"));

		if (!pick)
			pick = m;
		if (os && a && strcmp(os, "linux") == 0 && strcmp(a, arch) == 0) {
			pick = m;
			break;
		}
	}
	if (!json_is_string(json_object_get(pick, "digest"))) {
		lb_err_set(err, "the image index's manifest has no digest");
		goto out;
	}
	*digest = xstrdup(json_string_value(json_object_get(pick, "digest")));
	*nested = is_index_type(json_string_value(json_object_get(pick, "mediaType")));
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* An array of strings, each through conv (blob digests or checked paths). */
static int string_list(json_t *arr, const char *what, char ***out, size_t *nout,
		       int (*conv)(const char *s, char **out, struct lb_err *err), struct lb_err *err)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr))
		return lb_err_set(err, "the manifest has no %s list", what);
	*out = xcalloc(json_array_size(arr) + 1, sizeof(**out));
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || conv(json_string_value(v), &(*out)[i], err) < 0)
			return lb_err_set(err, "the manifest's %s entry %zu is not valid%s%s", what, i + 1,
					  err->msg[0] ? ": " : "", err->msg);
		*nout = i + 1;
	}
	return 0;
}

/* A layer descriptor's digest (OCI and Docker manifests list objects). */
static int layer_digests(json_t *layers, json_t **digests)
{
	size_t i;
	json_t *l;

	if (!json_is_array(layers))
		return -1;
	*digests = json_array();
	json_array_foreach(layers, i, l)
		json_array_append(*digests, json_object_get(l, "digest") ? json_object_get(l, "digest") : json_null());
	return 0;
}

int oci_manifest_parse(const char *json, size_t n, struct oci_manifest *m, struct lb_err *err)
{
	json_t *root = parse(json, n, "the image manifest", err), *digests = NULL;
	const char *config;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	if (!root)
		return -1;
	config = json_string_value(json_object_get(json_object_get(root, "config"), "digest"));
	if (!config) {
		lb_err_set(err, "the image manifest has no config digest");
		goto out;
	}
	if (oci_blob_path(config, &m->config, err) < 0)
		goto out;
	if (layer_digests(json_object_get(root, "layers"), &digests) < 0) {
		lb_err_set(err, "the image manifest has no layers list");
		goto out;
	}
	rc = string_list(digests, "layers", &m->layers, &m->nlayers, oci_blob_path, err);
out:
	json_decref(digests);
	json_decref(root);
	if (rc < 0)
		oci_manifest_release(m);
	return rc;
}

/* A path inside a `docker save` archive: never its root, never outside it. */
static int archive_path(const char *s, char **out, struct lb_err *err)
{
	if (oci_entry_path(s, out) != 0)
		return lb_err_set(err, "'%s' is not a path inside the archive", s);
	return 0;
}

int docker_manifest_parse(const char *json, size_t n, struct oci_manifest *m, struct lb_err *err)
{
	json_t *root = parse(json, n, "manifest.json", err), *first;
	const char *config;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	if (!root)
		return -1;
	first = json_array_get(root, 0);
	config = json_string_value(json_object_get(first, "Config"));
	if (!config) {
		lb_err_set(err, "manifest.json names no image (Config)");
		goto out;
	}
	if (oci_entry_path(config, &m->config) != 0) {
		lb_err_set(err, "manifest.json's Config '%s' is outside the archive", config);
		goto out;
	}
	rc = string_list(json_object_get(first, "Layers"), "Layers", &m->layers, &m->nlayers,
			 archive_path, err);
out:
	json_decref(root);
	if (rc < 0)
		oci_manifest_release(m);
	return rc;
}

void oci_manifest_release(struct oci_manifest *m)
{
	free(m->config);
	for (size_t i = 0; m->layers && m->layers[i]; i++)
		free(m->layers[i]);
	free(m->layers);
	memset(m, 0, sizeof(*m));
}

/*
 * The strings of cfg's key into *out (NULL-terminated, new; NULL when empty
 * or absent, and null counts as absent). one_ok: a lone string is the only
 * element. Why: Docker's Entrypoint and Cmd are its "strslice", which reads
 * either form, while Env is a plain list; anything else is refused, where
 * skipping an odd element would run another command than Docker does.
 */
static int strings(json_t *cfg, const char *key, bool one_ok, char ***out, size_t *n,
		   struct lb_err *err)
{
	json_t *v = json_object_get(cfg, key), *s;
	size_t i;

	*out = NULL;
	*n = 0;
	if (!v || json_is_null(v))
		return 0;
	if (one_ok && json_is_string(v)) {
		*out = xcalloc(2, sizeof(**out));
		(*out)[(*n)++] = xstrdup(json_string_value(v));
		return 0;
	}
	if (!json_is_array(v))
		return lb_err_set(err, "the image configuration's %s must be a list of strings%s", key,
				  one_ok ? " (or one string)" : "");
	json_array_foreach(v, i, s) {
		if (!json_is_string(s))
			return lb_err_set(err, "the image configuration's %s must be a list of strings: "
					  "element %zu is not a string", key, i + 1);
	}
	if (json_array_size(v) == 0)
		return 0;
	*out = xcalloc(json_array_size(v) + 1, sizeof(**out));
	json_array_foreach(v, i, s)
		(*out)[(*n)++] = xstrdup(json_string_value(s));
	return 0;
}

int oci_config_parse(const char *json, size_t n, struct oci_config *c, struct lb_err *err)
{
	json_t *root = parse(json, n, "the image configuration", err), *cfg, *wd;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	if (!root)
		return -1;
	if (!json_is_object(root)) {
		json_decref(root);
		return lb_err_set(err, "the image configuration is not a JSON object");
	}
	/* Docker's own configs say "config"; very old ones "container_config" only. */
	cfg = json_object_get(root, "config");
	wd = json_object_get(cfg, "WorkingDir");
	if (cfg && !json_is_object(cfg) && !json_is_null(cfg))
		lb_err_set(err, "the image configuration's config is not a JSON object");
	else if (wd && !json_is_string(wd) && !json_is_null(wd))
		lb_err_set(err, "the image configuration's WorkingDir must be a string");
	else if (strings(cfg, "Entrypoint", true, &c->entrypoint, &c->nentrypoint, err) == 0 &&
		 strings(cfg, "Cmd", true, &c->cmd, &c->ncmd, err) == 0 &&
		 strings(cfg, "Env", false, &c->env, &c->nenv, err) == 0)
		rc = 0;
	if (rc == 0 && json_string_length(wd) > 0)
		c->workdir = xstrdup(json_string_value(wd));
	if (rc < 0)
		oci_config_release(c);
	json_decref(root);
	return rc;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void oci_config_release(struct oci_config *c)
{
	strv_free(c->entrypoint);
	strv_free(c->cmd);
	strv_free(c->env);
	free(c->workdir);
	memset(c, 0, sizeof(*c));
}

int oci_entry_path(const char *name, char **out)
{
	size_t n = strlen(name), len = 0;
	char *p = xmalloc(n + 1);
	const char *s = name;

	while (*s) {
		size_t c;

		while (*s == '/')
			s++;
		c = strcspn(s, "/");
		if (c == 0)
			break;
		if (c == 2 && s[0] == '.' && s[1] == '.') {
			free(p);
			return -1;
		}
		if (!(c == 1 && s[0] == '.')) {
			if (len)
				p[len++] = '/';
			memcpy(p + len, s, c);
			len += c;
		}
		s += c;
	}
	p[len] = '\0';
	if (len == 0) {
		free(p);
		return 1;
	}
	*out = p;
	return 0;
}

enum oci_whiteout oci_whiteout(const char *path, char **target)
{
	const char *base = strrchr(path, '/');
	size_t dir = base ? (size_t)(base - path) : 0;

	base = base ? base + 1 : path;
	if (strncmp(base, WH_PREFIX, strlen(WH_PREFIX)) != 0)
		return OCI_WH_NONE;
	if (strcmp(base, WH_OPAQUE) == 0) {
		*target = xstrndup(path, dir);
		return OCI_WH_OPAQUE;
	}
	base += strlen(WH_PREFIX);
	/* ".wh." alone, ".wh..", ".wh..." name nothing that may be deleted. */
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return OCI_WH_NONE;
	*target = xmalloc(dir + strlen(base) + 2);
	snprintf(*target, dir + strlen(base) + 2, "%.*s%s%s", (int)dir, path, dir ? "/" : "", base);
	return OCI_WH_FILE;
}

static void push_all(char **argv, size_t *n, const char *const *v, size_t nv)
{
	for (size_t i = 0; i < nv; i++)
		argv[(*n)++] = xstrdup(v[i]);
}

char **oci_run_argv(const struct oci_config *c, const char *const *entry_point, size_t nentry,
		    const char *const *command, size_t ncommand)
{
	const char *const *ep = nentry ? entry_point : (const char *const *)c->entrypoint;
	const char *const *cmd = ncommand ? command : (const char *const *)c->cmd;
	size_t nep = nentry ? nentry : c->nentrypoint, ncmd = ncommand ? ncommand : c->ncmd, n = 0;
	char **argv;

	if (nep + ncmd == 0)
		return NULL;
	argv = xcalloc(nep + ncmd + 1, sizeof(*argv));
	push_all(argv, &n, ep, nep);
	push_all(argv, &n, cmd, ncmd);
	return argv;
}

void oci_argv_free(char **argv)
{
	strv_free(argv);
}
