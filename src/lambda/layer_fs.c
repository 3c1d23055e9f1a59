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
 */
#include "lambda/layer_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
