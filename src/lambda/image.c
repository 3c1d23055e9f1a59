/*
 * image: finding an image's parts, the per-user cache of unpacked roots,
 * and the command line of an isolated sandbox (image.h).
 *
 * An archive is first extracted into a scratch directory ($TMPDIR/
 * lb-image-PID-XXXXXX, removed at once), so an archive and a layout directory
 * are read the same way: index.json (an OCI layout, which `docker save`
 * writes too since Docker 25) or else manifest.json (`docker save` before
 * 25, `podman save`). A root is built under a temporary name in the cache
 * (.tmp-PID-XXXXXX, which the next lb removes if this one is killed
 * meanwhile: tmp_dirs.c) and renamed into place in one step, so a root
 * under its digest is always complete, and two lb processes may build it
 * at once.
 */
#include "lambda/image.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/sha256.h"
#include "base/util.h"
#include "lambda/image_tar.h"
#include "lambda/layer_fs.h"
#include "lambda/tmp_dirs.h"

#define JSON_MAX (4 * 1024 * 1024)   /* index, manifest and config files */
/* Why: Lambda's limit for a container image, 10 GB uncompressed with all its layers. */
#define IMAGE_SIZE_MAX (10ULL * 1024 * 1024 * 1024)

struct cached {
	struct cached *next;
	char *path;
	struct stat st;            /* of path when it was read */
	struct image img;
	char *error;               /* why it could not be unpacked, or NULL */
};

struct images {
	struct cached *list;
	uint64_t size_max;         /* IMAGE_SIZE_MAX, or LB_IMAGE_SIZE_MAX */
};

struct images *images_new(void)
{
	struct images *im = xcalloc(1, sizeof(struct images));
	const char *max = getenv("LB_IMAGE_SIZE_MAX");

	im->size_max = max && *max ? strtoull(max, NULL, 10) : IMAGE_SIZE_MAX;
	return im;
}

void images_free(struct images *im)
{
	if (!im)
		return;
	while (im->list) {
		struct cached *c = im->list;
		im->list = c->next;
		free(c->path);
		free(c->error);
		free(c->img.root);
		free(c->img.digest);
		oci_config_release(&c->img.cfg);
		free(c);
	}
	free(im);
}

/* The file rel inside dir (no link may lead out of dir), read whole; new, or NULL with err. */
static char *read_in(const char *dir, const char *rel, size_t *n, struct lb_err *err)
{
	char path[PATH_MAX], *real = NULL, *data = NULL;
	size_t dl = strlen(dir);
	FILE *f = NULL;
	long len;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (!(real = realpath(path, NULL)) || strncmp(real, dir, dl) != 0 || real[dl] != '/') {
		lb_err_set(err, "the image has no '%s'%s", rel, real ? " inside it" : "");
		goto out;
	}
	if (!(f = fopen(real, "rb")) || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || len > JSON_MAX ||
	    fseek(f, 0, SEEK_SET) != 0) {
		lb_err_set(err, "cannot read the image's '%s'%s", rel, f ? " (too large)" : "");
		goto out;
	}
	data = xmalloc((size_t)len + 1);
	if (fread(data, 1, (size_t)len, f) != (size_t)len) {
		lb_err_set(err, "cannot read the image's '%s'", rel);
		free(data);
		data = NULL;
		goto out;
	}
	data[len] = '\0';
	*n = (size_t)len;
out:
	if (f)
		fclose(f);
	free(real);
	return data;
}

static const char *oci_arch(void)
{
	struct utsname u;

	/* OCI platform names (Go's GOARCH). */
	return uname(&u) == 0 && strcmp(u.machine, "aarch64") == 0 ? "arm64" : "amd64";
}

/* The image's manifest, from an OCI index.json or a docker manifest.json. */
static int find_manifest(const char *dir, struct oci_manifest *m, struct lb_err *err)
{
	char *json, *digest = NULL, *blob = NULL;
	size_t n;
	bool nested = true;
	int rc = -1;
	struct lb_err ignore = { "" };

	if (!(json = read_in(dir, "index.json", &n, &ignore))) {
		if (!(json = read_in(dir, "manifest.json", &n, &ignore)))
			return lb_err_set(err, "it is neither an OCI image layout (index.json) nor a docker save "
					  "archive (manifest.json)");
		rc = docker_manifest_parse(json, n, m, err);
		free(json);
		return rc;
	}
	/* An index may name an index (a multi-platform image): follow a few levels. */
	for (int depth = 0; nested && depth < 4; depth++) {
		free(digest);
		digest = NULL;
		if (oci_index_pick(json, n, oci_arch(), &digest, &nested, err) < 0)
			goto out;
		free(blob);
		blob = NULL;
		free(json);
		json = NULL;
		if (oci_blob_path(digest, &blob, err) < 0 || !(json = read_in(dir, blob, &n, err)))
			goto out;
	}
	rc = nested ? lb_err_set(err, "image indexes nest too deeply") : oci_manifest_parse(json, n, m, err);
out:
	free(json);
	free(digest);
	free(blob);
	return rc;
}

int images_cache_path(char *out, size_t size)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;

	if (xdg && *xdg)
		n = snprintf(out, size, "%s/lb/images", xdg);
	else if (home && *home)
		n = snprintf(out, size, "%s/.cache/lb/images", home);
	else
		return -1;
	return n > 0 && (size_t)n < size ? 0 : -1;
}

/* $XDG_CACHE_HOME/lb/images, else ~/.cache/lb/images, created; -1 with err. */
static int cache_dir(char *out, size_t size, struct lb_err *err)
{
	char path[PATH_MAX];

	if (images_cache_path(path, sizeof(path)) < 0)
		return lb_err_set(err, "neither XDG_CACHE_HOME nor HOME is set: no cache for images");
	for (char *s = path + 1; ; s++) {
		char c = *s;
		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return lb_err_set(err, "cannot create '%s': %s", path, strerror(errno));
		*s = c;
		if (!c)
			break;
	}
	if (!realpath(path, out) || strlen(out) >= size)
		return lb_err_set(err, "cannot resolve '%s': %s", path, strerror(errno));
	return 0;
}

/* Applies the layers into cache/HEX/rootfs unless it is there already. */
static int build_root(const char *dir, const struct oci_manifest *m, const char *workdir, const char *cache,
		      const char *hex, uint64_t size_max, struct lb_err *err)
{
	struct image_room room = { size_max, size_max };   /* all the layers together */
	char final[PATH_MAX + 80], work[PATH_MAX + 16], root[PATH_MAX + 32], layer[PATH_MAX * 2];
	static const char *const mounts[] = { "proc", "dev", "tmp" };
	struct lb_err e2 = { "" };
	struct stat st;

	snprintf(final, sizeof(final), "%s/%s", cache, hex);
	if (stat(final, &st) == 0)
		return 0;
	if (tmp_dirs_make(work, sizeof(work), cache, TMP_DIRS_CACHE) < 0)
		return lb_err_set(err, "cannot create a directory in '%s': %s", cache, strerror(errno));
	snprintf(root, sizeof(root), "%s/rootfs", work);
	if (mkdir(root, 0755) != 0) {
		lb_err_set(err, "cannot create '%s': %s", root, strerror(errno));
		goto fail;
	}
	log_info("image: unpacking %zu layer%s into %s", m->nlayers, m->nlayers == 1 ? "" : "s", final);
	for (size_t i = 0; i < m->nlayers; i++) {
		char *real;

		snprintf(layer, sizeof(layer), "%s/%s", dir, m->layers[i]);
		real = realpath(layer, NULL);
		if (!real || strncmp(real, dir, strlen(dir)) != 0) {
			lb_err_set(err, "the image has no layer '%s'", m->layers[i]);
			free(real);
			goto fail;
		}
		if (image_tar_extract(real, root, true, &room, &e2) < 0) {
			lb_err_set(err, "layer %s: %s", m->layers[i], e2.msg);
			free(real);
			goto fail;
		}
		free(real);
	}
	/* Why: Docker and Lambda create a WorkingDir the image's layers do not have. */
	if (workdir && image_tar_mkdir(root, workdir, &e2) < 0) {
		lb_err_set(err, "WorkingDir '%s': %s", workdir, e2.msg);
		goto fail;
	}
	/* Mount points for the sandbox's /proc, /dev and /tmp (the root is mounted read-only). */
	for (size_t i = 0; i < ARRAY_LEN(mounts); i++) {
		char p[PATH_MAX + 48];
		snprintf(p, sizeof(p), "%s/%s", root, mounts[i]);
		if (lstat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
			layer_fs_remove(p);
			mkdir(p, 0755);
		}
	}
	if (rename(work, final) != 0 && errno != EEXIST && errno != ENOTEMPTY) {
		lb_err_set(err, "cannot rename '%s': %s", work, strerror(errno));
		goto fail;
	}
	layer_fs_remove(work);      /* another lb renamed first: its copy is as good */
	return 0;
fail:
	layer_fs_remove(work);
	return -1;
}

/* Reads the image in dir (a layout or an extracted archive) and finds or builds its root. */
static int load(const char *dir, uint64_t size_max, struct image *img, struct lb_err *err)
{
	struct oci_manifest m = { 0 };
	char *json = NULL, cache[PATH_MAX], hex[2 * SHA256_LEN + 1], root[PATH_MAX + 96];
	size_t n;
	int rc = -1;

	if (find_manifest(dir, &m, err) < 0)
		return -1;
	if (!(json = read_in(dir, m.config, &n, err)) || oci_config_parse(json, n, &img->cfg, err) < 0)
		goto out;
	/* Docker's image id: the digest of the configuration, which names every layer's content. */
	sha256_hex(json, n, hex);
	if (cache_dir(cache, sizeof(cache), err) < 0 || build_root(dir, &m, img->cfg.workdir, cache, hex, size_max, err) < 0)
		goto out;
	snprintf(root, sizeof(root), "%s/%s/rootfs", cache, hex);
	img->root = xstrdup(root);
	img->digest = xmalloc(strlen(hex) + 8);
	sprintf(img->digest, "sha256:%s", hex);
	rc = 0;
out:
	if (rc < 0)
		oci_config_release(&img->cfg);
	free(json);
	oci_manifest_release(&m);
	return rc;
}

static int unpack(const char *path, const struct stat *st, uint64_t size_max, struct image *img,
		  struct lb_err *err)
{
	/* An archive's own files (its layers, compressed or not) may not pass the limit either. */
	struct image_room room = { size_max, size_max };
	char scratch[PATH_MAX], *real = NULL;
	int rc;

	if (S_ISDIR(st->st_mode)) {
		real = realpath(path, NULL);
		rc = real ? load(real, size_max, img, err) : lb_err_set(err, "cannot resolve: %s", strerror(errno));
		free(real);
		return rc;
	}
	if (tmp_dirs_make(scratch, sizeof(scratch), tmp_dirs_base(), TMP_DIRS_IMAGE) < 0)
		return lb_err_set(err, "cannot create a scratch directory: %s", strerror(errno));
	real = realpath(scratch, NULL);
	rc = real && image_tar_extract(path, real, false, &room, err) == 0 ? load(real, size_max, img, err) : -1;
	if (!real)
		lb_err_set(err, "cannot resolve '%s': %s", scratch, strerror(errno));
	layer_fs_remove(scratch);
	free(real);
	return rc;
}

const struct image *images_get(struct images *im, const char *path, struct lb_err *err)
{
	struct cached *c;
	struct stat st;
	struct lb_err e2 = { "" };

	if (stat(path, &st) != 0) {
		lb_err_set(err, "image '%s': %s", path, strerror(errno));
		return NULL;
	}
	/* An unchanged file is read once, failures too: a bad image is not unpacked per request. */
	for (c = im->list; c; c = c->next)
		if (strcmp(c->path, path) == 0 && c->st.st_ino == st.st_ino && c->st.st_size == st.st_size &&
		    c->st.st_mtim.tv_sec == st.st_mtim.tv_sec && c->st.st_mtim.tv_nsec == st.st_mtim.tv_nsec)
			break;
	if (!c) {
		c = xcalloc(1, sizeof(*c));
		if (unpack(path, &st, im->size_max, &c->img, &e2) < 0)
			c->error = xstrdup(e2.msg);
		c->path = xstrdup(path);
		c->st = st;
		c->next = im->list;
		im->list = c;
	}
	if (c->error) {
		lb_err_set(err, "image '%s': %s", path, c->error);
		return NULL;
	}
	return &c->img;
}

int image_mkdir(const struct image *img, const char *dir, struct lb_err *err)
{
	return image_tar_mkdir(img->root, dir, err);
}

/* Whether prog is an executable on PATH. */
static bool on_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	while (path && *path) {
		size_t n = strcspn(path, ":");
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog);
		if (n && access(buf, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

enum image_isolation image_isolation(void)
{
	const char *force = getenv("LB_IMAGE_SANDBOX");

	if (force && strcmp(force, "bwrap") == 0)
		return on_path("bwrap") ? IMAGE_BWRAP : IMAGE_NONE;
	if (force && strcmp(force, "chroot") == 0)
		return geteuid() == 0 && on_path("unshare") ? IMAGE_CHROOT : IMAGE_NONE;
	if (on_path("bwrap"))
		return IMAGE_BWRAP;
	return geteuid() == 0 && on_path("unshare") ? IMAGE_CHROOT : IMAGE_NONE;
}

struct argv {
	char **v;
	size_t n, cap;
};

static void push(struct argv *a, const char *s)
{
	xgrow(&a->v, &a->cap, a->n + 2, sizeof(*a->v));
	a->v[a->n++] = xstrdup(s);
	a->v[a->n] = NULL;
}

/*
 * Without bubblewrap, as root: a private mount namespace (unshare -m) in
 * which the root is bound read-only onto itself with /proc, /dev and the
 * private /tmp inside, then `unshare --root --wd` (chroot and chdir).
 */
static const char chroot_script[] =
	"set -e; r=$1 t=$2 w=$3; shift 3; "
	"mount --bind \"$r\" \"$r\"; mount -o remount,bind,ro \"$r\"; "
	"mount -t proc proc \"$r/proc\"; mount --rbind /dev \"$r/dev\"; mount --bind \"$t\" \"$r/tmp\"; "
	"exec unshare --root=\"$r\" --wd=\"$w\" -- \"$@\"";

char **image_argv(const struct image *img, char *const *run, const char *workdir, const char *tmpdir,
		  struct lb_err *err)
{
	struct argv a = { 0 };
	enum image_isolation iso = image_isolation();

	if (iso == IMAGE_NONE) {
		lb_err_set(err, "running an image needs bubblewrap ('bwrap', Debian package bubblewrap) "
				"or lb running as root");
		return NULL;
	}
	if (iso == IMAGE_BWRAP) {
		const char *pre[] = { "bwrap", "--ro-bind", img->root, "/", "--proc", "/proc", "--dev", "/dev",
				      "--bind", tmpdir, "/tmp", "--chdir", workdir,
				      /* lb's exit takes the sandbox with it, as its process group does. */
				      "--die-with-parent", "--" };
		for (size_t i = 0; i < ARRAY_LEN(pre); i++)
			push(&a, pre[i]);
	} else {
		const char *pre[] = { "unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c",
				      chroot_script, "lb-image", img->root, tmpdir, workdir };
		for (size_t i = 0; i < ARRAY_LEN(pre); i++)
			push(&a, pre[i]);
	}
	for (size_t i = 0; run[i]; i++)
		push(&a, run[i]);
	return a.v;
}
