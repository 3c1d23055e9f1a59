/*
 * layers: merged layer directories and extracted .zip code, one pair per
 * function version and configuration, in a private temporary directory.
 *
 * Merging follows Lambda, which unpacks each layer into /opt in the order
 * the function lists them: a later layer's file replaces an earlier one's
 * at the same path and directories merge (layer_fs.c has the edge cases).
 * A .zip layer is extracted (layer_zip.c). A directory layer is copied file
 * by file (copy_file_range, so the kernel copies, or shares blocks where the
 * file system can) rather than mirrored with links, because:
 *  - Node.js loads a module from its real path (it resolves links), so a
 *    linked file would look up its neighbours and its node_modules in its
 *    own layer instead of the merged tree, and a later layer's override of a
 *    file next to it would go unseen;
 *  - /opt is read-only in Lambda: a function writing to its layer files must
 *    not change the developer's layer directory;
 *  - a merged directory is a snapshot, as a published layer version is.
 * Links: a layer's links are kept as links, zip or directory alike; after
 * each layer, one that would climb out of the merged tree with ".." is
 * removed with a warning and one to /opt/PATH made relative (layer_fs_links): the tree is
 * the function's /opt, but not at /opt.
 * Code that is a .zip file is extracted the same way (layer_zip.c: no
 * entry outside the directory, modes kept) into "N-NAME-VERSION-task" beside
 * the merged layers "N-NAME-VERSION", and that directory is the task root.
 * The extraction (a struct task) outlives a reload while the zip is
 * unchanged (same device, inode, size, modification and change times) and
 * the configuration in force still gives that function version that zip:
 * the next configuration's layer_dir reuses it instead of extracting again.
 * A task nobody uses is removed once its zip changed or the configuration
 * no longer names it.
 * Together the code and the layers' files may take Lambda's unzipped limit
 * (250 MB), a zip's declared sizes counted before it is extracted, so a zip
 * bomb fails the build before it fills $TMPDIR. A code directory is not
 * counted: lb runs it where it is, and never copies it.
 * The cost is paid once per version and configuration, at the version's
 * first cold start, in lb's one thread (about 0.2 s for 5,000 files, the
 * same as unzip; other requests wait meanwhile); edits to a layer or to a
 * code .zip show after a reload (SIGHUP), which merges the layers again and
 * extracts the code again if the zip changed.
 *
 * Lifetimes: a layer_dir holds a reference to its configuration, so the
 * (configuration, settings) pair that identifies it cannot be reused while
 * it exists. Sandboxes hold references to layer_dirs; one whose configuration
 * is no longer in force is removed, both directories, with its last
 * reference, and layers_free removes what is left when lb exits.
 */
#include "lambda/layers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "lambda/layer_fs.h"
#include "lambda/layer_zip.h"
#include "lambda/tmp_dirs.h"
#include "base/log.h"
#include "base/util.h"

/* Lambda's PATH before /opt/bin, for an lb started without PATH. */
#define DEFAULT_PATH "/usr/local/bin:/usr/bin/:/bin"

/* A function version's extracted .zip code, shared by the layer_dirs of successive configurations. */
struct task {
	struct task *next;
	char *fn, *version, *zip;    /* whose code, and the zip's path */
	struct stat st;              /* of the zip when it was extracted */
	char *path;                  /* the task root */
	uint64_t size;               /* its entries' declared sizes: what it takes of Lambda's limit */
	int refs;                    /* layer_dirs using it */
};

struct layer_dir {
	struct layers *ls;
	struct layer_dir *next;
	struct config *cfg;                       /* referenced */
	const struct function_settings *settings; /* in cfg */
	char *path;                               /* the merged layers, or NULL */
	struct task *task;                        /* the extracted .zip code, or NULL */
	int refs;
};

struct layers {
	char *root;                  /* the temporary directory; NULL until needed */
	const struct config *current;
	unsigned serial;             /* merged directories built so far: unique names */
	struct layer_dir *dirs;
	struct task *tasks;
};

static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *str_printf(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b, NULL);
}

/* --- merging ------------------------------------------------------------------- */

/* The source and destination of a directory layer's walk, extended per level. */
struct walk {
	char src[PATH_MAX], dst[PATH_MAX];
	size_t nsrc, ndst;
	struct stat dest;            /* the merged directory: never copied into itself */
	uint64_t *room;              /* bytes the layers' files may still take */
};

static int walk_push(struct walk *w, const char *name, struct lb_err *err)
{
	size_t n = strlen(name);

	if (w->nsrc + 1 + n >= sizeof(w->src) || w->ndst + 1 + n >= sizeof(w->dst))
		return lb_err_set(err, "path too long: '%s/%s'", w->src, name);
	w->src[w->nsrc++] = '/';
	memcpy(w->src + w->nsrc, name, n + 1);
	w->nsrc += n;
	w->dst[w->ndst++] = '/';
	memcpy(w->dst + w->ndst, name, n + 1);
	w->ndst += n;
	return 0;
}

static void walk_pop(struct walk *w, size_t nsrc, size_t ndst)
{
	w->src[w->nsrc = nsrc] = '\0';
	w->dst[w->ndst = ndst] = '\0';
}

static int copy_bytes(int in, int out)
{
	char block[64 * 1024];
	ssize_t n;

	while ((n = read(in, block, sizeof(block))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || layer_fs_write(out, block, (size_t)n) != 0)
			return -1;
	}
	return 0;
}

static int copy_file(const char *src, const char *dst, mode_t mode, struct lb_err *err)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
	ssize_t n;

	if (in < 0)
		return lb_err_set(err, "cannot read '%s': %s", src, strerror(errno));
	if ((out = layer_fs_create(dst, err)) < 0)
		goto out;
	while ((n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0)) > 0)
		;
	/* Older kernels and some file systems cannot: copy through a buffer. */
	if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP) &&
	    lseek(in, 0, SEEK_CUR) == 0)
		n = copy_bytes(in, out);
	if (n < 0) {
		lb_err_set(err, "cannot copy '%s': %s", src, strerror(errno));
		goto out;
	}
	if (fchmod(out, mode) != 0) {
		lb_err_set(err, "cannot set the mode of '%s': %s", dst, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (out >= 0)
		close(out);
	close(in);
	return rc;
}

static int copy_tree(struct walk *w, struct lb_err *err);

/* One entry of a directory layer: w->src onto w->dst (whose parent is a directory). */
static int copy_entry(struct walk *w, struct lb_err *err)
{
	char target[PATH_MAX];
	struct stat st;
	ssize_t n;

	if (lstat(w->src, &st) != 0)
		return lb_err_set(err, "cannot access '%s': %s", w->src, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		if (st.st_dev == w->dest.st_dev && st.st_ino == w->dest.st_ino)
			return 0;
		return layer_fs_clear(w->dst, LAYER_DIR, err) || copy_tree(w, err) ? -1 : 0;
	}
	if (S_ISREG(st.st_mode)) {
		/* Why: Lambda's unzipped limit covers a layer made from this directory too. */
		if ((uint64_t)st.st_size > *w->room)
			return lb_err_set(err, "'%s' takes %lld bytes, more than the %llu left of Lambda's "
					  "limit of %llu bytes (250 MB) for a function's code and layers",
					  w->src, (long long)st.st_size, (unsigned long long)*w->room,
					  (unsigned long long)LAYER_UNZIPPED_MAX);
		*w->room -= (uint64_t)st.st_size;
		if (layer_fs_clear(w->dst, LAYER_FILE, err))
			return -1;
		/* Why: the mode is kept, so a layer's bin/ stays executable, as in Lambda. */
		return copy_file(w->src, w->dst, st.st_mode & 0777, err);
	}
	if (S_ISLNK(st.st_mode)) {
		/* A link stays a link (its target as written), as a zip made with -y keeps it;
		 * merge then checks where it leads, as for a zip's links. */
		if ((n = readlink(w->src, target, sizeof(target) - 1)) < 0)
			return lb_err_set(err, "cannot read the link '%s': %s", w->src, strerror(errno));
		target[n] = '\0';
		if (layer_fs_clear(w->dst, LAYER_LINK, err))
			return -1;
		if (symlink(target, w->dst) != 0)
			return lb_err_set(err, "cannot create the link '%s': %s", w->dst, strerror(errno));
	}
	return 0;   /* sockets, fifos, devices: nothing a layer .zip could hold either */
}

static int copy_tree(struct walk *w, struct lb_err *err)
{
	size_t nsrc = w->nsrc, ndst = w->ndst;
	DIR *d = opendir(w->src);
	struct dirent *de;
	int rc = 0;

	if (!d)
		return lb_err_set(err, "cannot read '%s': %s", w->src, strerror(errno));
	while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		rc = walk_push(w, de->d_name, err) || copy_entry(w, err) ? -1 : 0;
		walk_pop(w, nsrc, ndst);
	}
	if (rc == 0 && errno != 0)
		rc = lb_err_set(err, "cannot read '%s': %s", w->src, strerror(errno));
	closedir(d);
	return rc;
}

static int merge_dir(const char *dest, const char *src, uint64_t *room, struct lb_err *err)
{
	struct walk *w = xcalloc(1, sizeof(*w));
	int rc;

	w->room = room;
	w->nsrc = (size_t)snprintf(w->src, sizeof(w->src), "%s", src);
	w->ndst = (size_t)snprintf(w->dst, sizeof(w->dst), "%s", dest);
	if (w->nsrc >= sizeof(w->src) || w->ndst >= sizeof(w->dst))
		rc = lb_err_set(err, "path too long");
	else if (stat(dest, &w->dest) != 0)
		rc = lb_err_set(err, "cannot access '%s': %s", dest, strerror(errno));
	else
		rc = copy_tree(w, err);
	free(w);
	return rc;
}

static int merge(const char *dest, const char *const *paths, size_t n, uint64_t *room,
		 struct lb_err *err)
{
	for (size_t i = 0; i < n; i++) {
		struct lb_err why = { "" };
		struct stat st;
		char first[PATH_MAX * 2 + 8];
		int rc;

		if (stat(paths[i], &st) != 0)
			rc = lb_err_set(&why, "cannot access: %s", strerror(errno));
		else if (S_ISDIR(st.st_mode))
			rc = merge_dir(dest, paths[i], room, &why);
		else
			rc = layer_zip_extract(paths[i], dest, room, &why);
		if (rc)
			return lb_err_set(err, "layer '%s': %s", paths[i], why.msg);
		/* After each layer, as a later one may change where an earlier one's links lead. */
		if ((rc = layer_fs_links(dest, first, sizeof(first), &why)) < 0)
			return lb_err_set(err, "layer '%s': %s", paths[i], why.msg);
		if (rc > 0)
			log_warn("layer '%s': %d link%s climbing out of /opt with '..' not kept (the first: %s): lb's "
				 "/opt is a directory of its own, where such a link would reach lb's files, not what it "
				 "reaches on Lambda", paths[i], rc, rc == 1 ? "" : "s", first);
	}
	return 0;
}

int layers_merge(const char *dest, const char *const *paths, size_t n, struct lb_err *err)
{
	uint64_t room = LAYER_UNZIPPED_MAX;

	return merge(dest, paths, n, &room, err);
}

/* --- the merged directories ---------------------------------------------------------- */

struct layers *layers_new(void)
{
	return xcalloc(1, sizeof(struct layers));
}

static int make_root(struct layers *ls, struct lb_err *err)
{
	const char *base = tmp_dirs_base();
	char dir[PATH_MAX];

	if (tmp_dirs_make(dir, sizeof(dir), base, TMP_DIRS_LAYERS) < 0)
		return lb_err_set(err, "cannot create a temporary directory in '%s': %s", base, strerror(errno));
	ls->root = xstrdup(dir);
	return 0;
}

static void remove_tree(const char *path)
{
	if (path && layer_fs_remove(path) != 0 && errno != ENOENT)
		log_warn("cannot remove '%s': %s", path, strerror(errno));
}

/* A new directory at path; -1 with err. */
static int make_dir(const char *path, struct lb_err *err)
{
	if (mkdir(path, 0755) != 0)
		return lb_err_set(err, "cannot create '%s': %s", path, strerror(errno));
	return 0;
}

static void task_release(struct layers *ls, struct task *t);

static void dir_drop(struct layers *ls, struct layer_dir *d)
{
	for (struct layer_dir **pp = &ls->dirs; *pp; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	remove_tree(d->path);
	task_release(ls, d->task);
	config_unref(d->cfg);
	free(d->path);
	free(d);
}

/* --- extracted .zip code ------------------------------------------------------------ */

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Whether cfg gives t's function version t's zip, and the zip is as t extracted it. */
static bool task_wanted(const struct config *cfg, const struct task *t)
{
	struct stat st;

	for (size_t i = 0; cfg && i < cfg->nfunctions; i++) {
		const struct function_cfg *fn = &cfg->functions[i];
		const struct function_settings *s = NULL;

		if (strcmp(fn->name, t->fn) != 0)
			continue;
		if (strcmp(t->version, "$LATEST") == 0)
			s = &fn->latest;
		for (size_t v = 0; !s && v < fn->nversions; v++)
			if (strcmp(fn->versions[v].version, t->version) == 0)
				s = &fn->versions[v].settings;
		return s && s->code && strcmp(s->code, t->zip) == 0 && stat(t->zip, &st) == 0 &&
		       same_file(&st, &t->st);
	}
	return false;
}

static void task_drop(struct layers *ls, struct task *t)
{
	for (struct task **pp = &ls->tasks; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	remove_tree(t->path);
	free(t->fn);
	free(t->version);
	free(t->zip);
	free(t->path);
	free(t);
}

/* Drops a layer_dir's reference; an unused task goes unless the configuration in force still runs it. */
static void task_release(struct layers *ls, struct task *t)
{
	if (t && --t->refs == 0 && !task_wanted(ls->current, t))
		task_drop(ls, t);
}

/*
 * fn_name's version's code zip (st: its stat) extracted into path, or the
 * extraction made earlier from the same unchanged file: a new reference, or
 * NULL with err. Why: Lambda unzips a deployment package once per published
 * version; re-extracting an unchanged zip at every reload only costs time
 * and disk. Either way its size is taken from *room.
 */
static struct task *task_acquire(struct layers *ls, const char *fn_name, const char *version,
				 const char *zip, const struct stat *st, const char *path,
				 uint64_t *room, struct lb_err *err)
{
	struct lb_err why = { "" };
	uint64_t before = *room;
	struct task *t;

	for (t = ls->tasks; t; t = t->next) {
		if (strcmp(t->fn, fn_name) == 0 && strcmp(t->version, version) == 0 &&
		    strcmp(t->zip, zip) == 0 && same_file(&t->st, st)) {
			/* Lambda's unzipped limit counts the code however it was extracted. */
			if (t->size > *room) {
				lb_err_set(err, "code '%s': its entries unzip to %llu bytes, more than the %llu "
					   "left of Lambda's limit of %llu bytes (250 MB) for a function's code "
					   "and layers", zip, (unsigned long long)t->size,
					   (unsigned long long)*room, (unsigned long long)LAYER_UNZIPPED_MAX);
				return NULL;
			}
			*room -= t->size;
			t->refs++;
			return t;
		}
	}
	if (make_dir(path, err))
		return NULL;
	/* Lambda unzips the deployment package into /var/task, the task root. */
	if (layer_zip_extract(zip, path, room, &why)) {
		lb_err_set(err, "code '%s': %s", zip, why.msg);
		remove_tree(path);
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	*t = (struct task){ .next = ls->tasks, .fn = xstrdup(fn_name), .version = xstrdup(version),
			    .zip = xstrdup(zip), .st = *st, .path = xstrdup(path),
			    .size = before - *room, .refs = 1 };
	ls->tasks = t;
	return t;
}

bool layers_unpacks(const struct function_settings *s)
{
	struct stat st;

	/* A code path that is a regular file is a .zip (config_fn.c checked it). */
	return s->nlayers > 0 || (s->code && stat(s->code, &st) == 0 && S_ISREG(st.st_mode));
}

/*
 * Builds d's directories: the code zip extracted into d->task, then the
 * layers merged into d->path. Why: Lambda's unzipped limit (262144000
 * bytes) covers a function's code and its layers together, so both draw on
 * one room. On failure what was built is removed.
 */
static int build(struct layer_dir *d, const char *base, const char *fn_name, const char *version,
		 struct lb_err *err)
{
	const struct function_settings *s = d->settings;
	uint64_t room = LAYER_UNZIPPED_MAX;
	struct stat st;

	if (s->code && stat(s->code, &st) == 0 && S_ISREG(st.st_mode)) {
		char *task = str_printf("%s-task", base);

		d->task = task_acquire(d->ls, fn_name, version, s->code, &st, task, &room, err);
		free(task);
		if (!d->task)
			goto fail;
	}
	if (s->nlayers) {
		d->path = xstrdup(base);
		if (make_dir(d->path, err) || merge(d->path, s->layers, s->nlayers, &room, err))
			goto fail;
	}
	return 0;
fail:
	/* A failed build leaves nothing on disk: its code goes too, unless a sandbox runs it. */
	if (d->task && --d->task->refs == 0)
		task_drop(d->ls, d->task);
	d->task = NULL;
	remove_tree(d->path);
	return -1;
}

struct layer_dir *layers_acquire(struct layers *ls, struct config *cfg, const char *fn_name,
				 const char *version, const struct function_settings *s,
				 struct lb_err *err)
{
	struct layer_dir *d;
	char *base;
	int64_t t0 = time_mono_us();

	for (d = ls->dirs; d; d = d->next) {
		if (d->cfg == cfg && d->settings == s) {
			d->refs++;
			return d;
		}
	}
	if (!ls->root && make_root(ls, err))
		return NULL;
	base = str_printf("%s/%u-%s-%s", ls->root, ++ls->serial, fn_name,
			  strcmp(version, "$LATEST") == 0 ? "latest" : version);
	d = xcalloc(1, sizeof(*d));
	*d = (struct layer_dir){ .ls = ls, .settings = s, .refs = 1 };
	if (build(d, base, fn_name, version, err) != 0) {
		free(d->path);
		free(d);
		free(base);
		return NULL;
	}
	log_debug("function %s (%s): unpacked in %.1f ms (code: %s; %zu layer(s): %s)", fn_name,
		  version, (double)(time_mono_us() - t0) / 1000.0, d->task ? d->task->path : s->code,
		  s->nlayers, d->path ? d->path : "none");
	free(base);
	d->cfg = config_ref(cfg);
	d->next = ls->dirs;
	ls->dirs = d;
	return d;
}

void layers_release(struct layer_dir *d)
{
	if (d && --d->refs == 0 && d->cfg != d->ls->current)
		dir_drop(d->ls, d);
}

const char *layer_dir_path(const struct layer_dir *d)
{
	return d->path;
}

const char *layer_dir_task(const struct layer_dir *d)
{
	return d->task ? d->task->path : NULL;
}

void layers_set_config(struct layers *ls, const struct config *cfg)
{
	struct layer_dir *d = ls->dirs, *next;

	ls->current = cfg;
	for (; d; d = next) {
		next = d->next;
		if (d->refs == 0 && d->cfg != cfg)
			dir_drop(ls, d);
	}
	/* Tasks that only the dropped directories used, and that cfg runs no more (or whose zip changed). */
	for (struct task *t = ls->tasks, *tn; t; t = tn) {
		tn = t->next;
		if (t->refs == 0 && !task_wanted(cfg, t))
			task_drop(ls, t);
	}
}

void layers_free(struct layers *ls)
{
	if (!ls)
		return;
	ls->current = NULL;
	while (ls->dirs)
		dir_drop(ls, ls->dirs);
	while (ls->tasks)
		task_drop(ls, ls->tasks);
	if (ls->root && layer_fs_remove(ls->root) != 0 && errno != ENOENT)
		log_warn("cannot remove '%s': %s", ls->root, strerror(errno));
	free(ls->root);
	free(ls);
}

/* --- environment ---------------------------------------------------------------------- */

size_t layers_env(const char *opt, const char *runtime, const char *path, const char *ld_path,
		  char *out[LAYERS_ENV_MAX])
{
	size_t n = 0, digits;

	runtime = runtime ? runtime : "";
	/*
	 * Why: Lambda's PATH is /usr/local/bin:/usr/bin/:/bin:/opt/bin and its
	 * LD_LIBRARY_PATH ends with /opt/lib (Lambda's "Defined runtime
	 * environment variables"): a layer's bin/ and lib/ come after the
	 * system's, so a layer cannot shadow the runtime's own programs.
	 */
	out[n++] = str_printf("PATH=%s:%s/bin", path && *path ? path : DEFAULT_PATH, opt);
	out[n++] = ld_path && *ld_path ? str_printf("LD_LIBRARY_PATH=%s:%s/lib", ld_path, opt)
				       : str_printf("LD_LIBRARY_PATH=%s/lib", opt);
	if (strncmp(runtime, "nodejs", 6) == 0) {
		/* Why: nodejs20.x's NODE_PATH starts /opt/nodejs/node20/node_modules:
		 * /opt/nodejs/node_modules ("Layer paths for each Lambda runtime"). */
		digits = strspn(runtime + 6, "0123456789");
		out[n++] = digits ? str_printf("NODE_PATH=%s/nodejs/node%.*s/node_modules:%s/nodejs/node_modules",
					       opt, (int)digits, runtime + 6, opt)
				  : str_printf("NODE_PATH=%s/nodejs/node_modules", opt);
	} else if (strncmp(runtime, "python", 6) == 0) {
		/* Why: AWS's Python bootstrap puts the task root first, then
		 * /opt/python/lib/python3.N/site-packages, then /opt/python. */
		out[n++] = str_printf("PYTHONPATH=%s/python/lib/%s/site-packages:%s/python", opt, runtime,
				      opt);
	}
	out[n++] = str_printf("LB_LAYERS_DIR=%s", opt);
	return n;
}
