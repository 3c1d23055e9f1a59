/*
 * layer_fs: making room for one path of a layer in a merged layer directory.
 *
 * The rule is Lambda's, where each layer is unpacked over /opt in order: a
 * later layer's entry replaces whatever an earlier one had at the same path,
 * and directories merge. lb's choice where unpacking would fail instead: a
 * directory replaces a file or link (and the reverse removes the directory's
 * whole subtree), so a merge never stops half-way.
 *
 * Every check uses lstat and every removal unlinks the link itself: links are
 * never followed inside the merged tree. Directories are created 0755 whatever
 * their mode in the layer, so lb can always remove the tree again.
 *
 * Links that lead out: the merged tree is what a function sees as /opt, but
 * it is not at /opt, so a link that leaves it (or names /opt itself) would
 * lead elsewhere than on Lambda. layer_fs_links resolves each link as the
 * kernel would with the tree at /opt, makes one into /opt relative and
 * removes one that climbs out of it with "..". An absolute link elsewhere
 * (/usr/bin/python3, /etc) is kept as written: the function runs on this
 * machine's files, where it leads to what its name says, as on Lambda.
 */
#include "lambda/layer_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"

int layer_fs_clean(const char *name, size_t n, char *out, size_t size)
{
	size_t o = 0;

	if (size == 0 || (n > 0 && name[0] == '/') || memchr(name, '\0', n))
		return -1;
	for (size_t i = 0; i < n;) {
		size_t len = 0;

		while (i + len < n && name[i + len] != '/')
			len++;
		if (len == 2 && name[i] == '.' && name[i + 1] == '.')
			return -1;
		if (len > 0 && !(len == 1 && name[i] == '.')) {
			if (o + (o > 0) + len >= size)
				return -1;
			if (o > 0)
				out[o++] = '/';
			memcpy(out + o, name + i, len);
			o += len;
		}
		i += len + 1;
	}
	out[o] = '\0';
	return 0;
}

/* Makes path a real directory: kept if it is one, else what is there is replaced. */
static int make_dir(const char *path, struct lb_err *err)
{
	struct stat st;

	if (lstat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		if (unlink(path) != 0)
			return lb_err_set(err, "cannot replace '%s': %s", path, strerror(errno));
	} else if (errno != ENOENT) {
		return lb_err_set(err, "cannot access '%s': %s", path, strerror(errno));
	}
	if (mkdir(path, 0755) != 0)
		return lb_err_set(err, "cannot create '%s': %s", path, strerror(errno));
	return 0;
}

int layer_fs_clear(const char *path, enum layer_kind kind, struct lb_err *err)
{
	struct stat st;

	if (lstat(path, &st) == 0) {
		if (kind == LAYER_DIR && S_ISDIR(st.st_mode))
			return 0;
		if (layer_fs_remove(path) != 0)
			return lb_err_set(err, "cannot replace '%s': %s", path, strerror(errno));
	} else if (errno != ENOENT) {
		return lb_err_set(err, "cannot access '%s': %s", path, strerror(errno));
	}
	if (kind == LAYER_DIR && mkdir(path, 0755) != 0)
		return lb_err_set(err, "cannot create '%s': %s", path, strerror(errno));
	return 0;
}

int layer_fs_place(const char *root, const char *rel, enum layer_kind kind, char *path, size_t size,
		   struct lb_err *err)
{
	size_t root_len = strlen(root);
	int n = snprintf(path, size, "%s/%s", root, rel);

	if (n < 0 || (size_t)n >= size)
		return lb_err_set(err, "path too long: '%s/%s'", root, rel);
	for (char *slash = path + root_len + 1; (slash = strchr(slash, '/')) != NULL; slash++) {
		int r;

		*slash = '\0';
		r = make_dir(path, err);
		*slash = '/';
		if (r)
			return -1;
	}
	return layer_fs_clear(path, kind, err);
}

int layer_fs_create(const char *path, struct lb_err *err)
{
	/* Owner-writable while lb fills it; the layer's mode is applied afterwards. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		lb_err_set(err, "cannot create '%s': %s", path, strerror(errno));
	return fd;
}

int layer_fs_write(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

int layer_fs_remove(const char *path)
{
	/* FTW_PHYS: links are removed, not followed; FTW_DEPTH: contents before their directory. */
	return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

/* --- links leading out of the merged tree ------------------------------------------ */

/* path without the mount point it starts with ("/opt/x" under "/opt" gives "x"); NULL if not under it. */
static const char *under(const char *mount, const char *path)
{
	size_t n = strlen(mount);

	if (strncmp(path, mount, n) != 0 || (path[n] != '/' && path[n] != '\0'))
		return NULL;
	return path + n + strspn(path + n, "/");
}

/* Drops done's last component; returns done's new length. */
static size_t drop_last(char *done, size_t nd)
{
	char *slash = memrchr(done, '/', nd);

	nd = slash ? (size_t)(slash - done) : 0;
	done[nd] = '\0';
	return nd;
}

enum layer_fs_lead layer_fs_resolve(const char *root, const char *mount, const char *dir, const char *path,
				    char *out, size_t size)
{
	char rest[PATH_MAX], next[PATH_MAX], tmp[PATH_MAX * 2], at[PATH_MAX * 2];
	size_t nd;
	int links = 0;

	if (path[0] == '/') {
		if (mount && !(path = under(mount, path)))
			return LAYER_FS_ELSEWHERE;
		dir = "";
	}
	if ((nd = (size_t)snprintf(out, size, "%s", dir)) >= size ||
	    (size_t)snprintf(rest, sizeof(rest), "%s", path) >= sizeof(rest))
		return LAYER_FS_TOO_LONG;
	while (*rest) {
		size_t n = strcspn(rest, "/"), skip = n + (rest[n] == '/');
		struct stat st;
		ssize_t tn;
		bool dot = n == 0 || (n == 1 && rest[0] == '.'), dotdot = n == 2 && rest[0] == '.' && rest[1] == '.';

		if (!dot && !dotdot) {
			if (nd + 1 + n >= size)
				return LAYER_FS_TOO_LONG;
			if (nd)
				out[nd++] = '/';
			memcpy(out + nd, rest, n);
			out[nd += n] = '\0';
		}
		memmove(rest, rest + skip, strlen(rest + skip) + 1);
		if (dotdot) {
			/* Above "/", ".." stays at "/"; above a mount point it leaves the tree. */
			if (nd == 0 && mount)
				return LAYER_FS_UP;
			nd = drop_last(out, nd);
		}
		if (dot || dotdot)
			continue;
		if ((size_t)snprintf(at, sizeof(at), "%s/%s", root, out) >= sizeof(at))
			return LAYER_FS_TOO_LONG;
		if (lstat(at, &st) != 0 || !S_ISLNK(st.st_mode))
			continue;
		if (++links > LAYER_FS_LINKS_MAX)
			return LAYER_FS_LOOP;
		if ((tn = readlink(at, next, sizeof(next) - 1)) < 0)
			return LAYER_FS_UNREADABLE;
		next[tn] = '\0';
		if (next[0] == '/') {
			const char *in = mount ? under(mount, next) : next;

			if (!in)
				return LAYER_FS_ELSEWHERE;
			nd = 0;
			memmove(next, in, strlen(in) + 1);
		} else {
			nd = drop_last(out, nd);
		}
		out[nd] = '\0';
		if ((size_t)snprintf(tmp, sizeof(tmp), "%s/%s", next, rest) >= sizeof(rest))
			return LAYER_FS_TOO_LONG;
		memcpy(rest, tmp, strlen(tmp) + 1);
	}
	return LAYER_FS_IN;
}

/* Where a link of the merged tree leads with the tree at /opt; a loop leads nowhere: inside. */
static enum layer_fs_lead leads_out(const char *root, const char *dir, const char *target)
{
	char out[PATH_MAX];
	enum layer_fs_lead lead = layer_fs_resolve(root, "/opt", dir, target, out, sizeof(out));

	return lead == LAYER_FS_LOOP || lead == LAYER_FS_UNREADABLE ? LAYER_FS_IN
	       : lead == LAYER_FS_TOO_LONG ? LAYER_FS_UP : lead;
}

struct link_walk {
	const char *root;
	char rel[PATH_MAX];          /* the entry, relative to root */
	size_t nrel;
	int removed;
	char *first;                 /* the first removed: "'NAME' -> 'TARGET'" */
	size_t size;
};

/* target (absolute, under /opt) as the same path relative to the link's directory dir. */
static int opt_relative(const char *dir, const char *target, char *out, size_t size)
{
	const char *in = under("/opt", target);
	size_t o = 0;

	for (const char *s = dir; *s; s += strcspn(s, "/"), s += *s == '/')
		o += (size_t)snprintf(out + o, o < size ? size - o : 0, "../");
	o += (size_t)snprintf(out + o, o < size ? size - o : 0, "%s", in);
	while (o > 1 && o < size && out[o - 1] == '/')
		out[--o] = '\0';
	if (o == 0)
		o = (size_t)snprintf(out, size, ".");
	return o < size ? 0 : -1;
}

static int check_link(struct link_walk *w, struct lb_err *err)
{
	char path[PATH_MAX * 2], target[PATH_MAX], dir[PATH_MAX], rel[PATH_MAX];
	const char *slash = strrchr(w->rel, '/');
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", w->root, w->rel);
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - w->rel) : 0, w->rel);
	if ((n = readlink(path, target, sizeof(target) - 1)) < 0)
		return lb_err_set(err, "cannot read the link '%s': %s", path, strerror(errno));
	target[n] = '\0';
	/* Why: on Lambda a link to /opt/PATH leads into the layers; lb's /opt is this tree. */
	if (under("/opt", target) && opt_relative(dir, target, rel, sizeof(rel)) == 0 &&
	    leads_out(w->root, dir, rel) == LAYER_FS_IN) {
		if (unlink(path) != 0 || symlink(rel, path) != 0)
			return lb_err_set(err, "cannot rewrite the link '%s': %s", path, strerror(errno));
		return 0;
	}
	/* Why: lb's /opt is not at /opt, so ".." above it would reach lb's temporary files,
	 * never what it reaches on Lambda: such a link is not kept. */
	if (leads_out(w->root, dir, target) == LAYER_FS_UP) {
		if (unlink(path) != 0)
			return lb_err_set(err, "cannot remove the link '%s': %s", path, strerror(errno));
		if (w->removed++ == 0)
			snprintf(w->first, w->size, "'%s' -> '%s'", w->rel, target);
	}
	return 0;
}

static int check_dir(struct link_walk *w, struct lb_err *err)
{
	char path[PATH_MAX * 2];
	size_t nrel = w->nrel;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	snprintf(path, sizeof(path), "%s%s%s", w->root, nrel ? "/" : "", w->rel);
	if (!(d = opendir(path)))
		return lb_err_set(err, "cannot read '%s': %s", path, strerror(errno));
	while (rc == 0 && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		unsigned char type = de->d_type;
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (nrel + 1 + len >= sizeof(w->rel)) {
			rc = lb_err_set(err, "path too long: '%s/%s'", path, de->d_name);
			break;
		}
		w->nrel = (size_t)sprintf(w->rel + nrel, "%s%s", nrel ? "/" : "", de->d_name) + nrel;
		if (type == DT_UNKNOWN) {   /* file systems without d_type */
			char full[PATH_MAX * 2];

			snprintf(full, sizeof(full), "%s/%s", w->root, w->rel);
			type = lstat(full, &st) != 0 ? DT_UNKNOWN : S_ISDIR(st.st_mode) ? DT_DIR
			       : S_ISLNK(st.st_mode) ? DT_LNK : DT_REG;
		}
		if (type == DT_DIR)
			rc = check_dir(w, err);
		else if (type == DT_LNK)
			rc = check_link(w, err);
		w->rel[w->nrel = nrel] = '\0';
	}
	closedir(d);
	return rc;
}

int layer_fs_links(const char *root, char *first, size_t size, struct lb_err *err)
{
	struct link_walk *w = xcalloc(1, sizeof(*w));
	int rc;

	w->root = root;
	w->first = first;
	w->size = size;
	rc = check_dir(w, err) < 0 ? -1 : w->removed;
	free(w);
	return rc;
}
