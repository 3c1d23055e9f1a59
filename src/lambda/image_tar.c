/*
 * image_tar: tar extraction for images (image_tar.h), with libarchive
 * (through archive_dl, which loads it on the first extraction).
 *
 * The rules of names (normalizing, refusing "..", recognizing whiteouts)
 * are oci_image.c's; this file does the file-system work through layer_fs.
 * An entry's path is first resolved inside the root as Docker and containerd
 * resolve it (resolve_in_root: a link among its parents is followed, never
 * out of the root), so its parents are then real directories or missing, and
 * layer_fs_place makes them without following anything: nothing is written
 * through a link. A layer is read twice: its whiteouts apply to the layers
 * below it only, whatever their order in the archive, so they all go first.
 * Size: a file's declared size is taken from the image's room before it is
 * created, and a file longer than it declares is damaged, so an image past
 * its limit fails before its last file takes any disk.
 */
#include "lambda/image_tar.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>

#include "alb/oci_image.h"
#include "lambda/archive_dl.h"
#include "lambda/layer_fs.h"

static struct archive *open_archive(const struct archive_dl *ar, const char *path, struct lb_err *err)
{
	struct archive *a = ar->read_new();

	ar->read_support_filter_all(a);
	ar->read_support_format_tar(a);
	if (ar->read_open_filename(a, path, 64 * 1024) != ARCHIVE_OK) {
		lb_err_set(err, "cannot read '%s': %s", path, ar->error_string(a));
		ar->read_free(a);
		return NULL;
	}
	return a;
}

/*
 * rel as the image sees it, into out (size bytes): each symbolic link met
 * among its parent directories is followed inside root (an absolute target
 * from root, ".." never above it), its last component is kept as it is (an
 * entry replaces what is there, link or not). Why: Docker and containerd
 * apply a layer this way, resolving paths in the root's scope, so a layer's
 * lib/x.so lands in usr/lib when a lower layer made lib a link to usr/lib.
 * What out names is inside root, and its parents are real directories or
 * not there yet: nothing is ever written through a link.
 */
static int resolve_in_root(const char *root, const char *rel, char *out, size_t size, struct lb_err *err)
{
	char parent[PATH_MAX], done[PATH_MAX];
	const char *last = strrchr(rel, '/');

	if ((size_t)snprintf(parent, sizeof(parent), "%.*s", last ? (int)(last - rel) : 0, rel) >= sizeof(parent))
		return lb_err_set(err, "entry '%s': path too long", rel);
	last = last ? last + 1 : rel;
	switch (layer_fs_resolve(root, NULL, "", parent, done, sizeof(done))) {
	case LAYER_FS_IN:
		break;
	case LAYER_FS_LOOP:
		return lb_err_set(err, "entry '%s': more than %d links on its way (a loop?)", rel, LAYER_FS_LINKS_MAX);
	case LAYER_FS_UNREADABLE:
		return lb_err_set(err, "entry '%s': cannot read a link on its way: %s", rel, strerror(errno));
	default:
		return lb_err_set(err, "entry '%s': path too long", rel);
	}
	if ((size_t)snprintf(out, size, "%s%s%s", done, *done ? "/" : "", last) >= size)
		return lb_err_set(err, "entry '%s': path too long", rel);
	return 0;
}

/* Removes what dir holds (lower layers' contents), never following a link. */
static int empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[PATH_MAX + 256];
	int rc = 0;

	if (!d)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path) ||
		    layer_fs_remove(path) < 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

/* A whiteout: deletes what it names, from lower layers (its directory resolved as entries' are). */
static int apply_whiteout(const char *root, const char *rel, struct lb_err *err)
{
	char *target = NULL, path[PATH_MAX], resolved[PATH_MAX];
	enum oci_whiteout wh;
	int rc = 0;

	if (resolve_in_root(root, rel, resolved, sizeof(resolved), err) < 0)
		return -1;
	if ((wh = oci_whiteout(resolved, &target)) == OCI_WH_NONE)
		return 0;
	if ((size_t)snprintf(path, sizeof(path), "%s%s%s", root, *target ? "/" : "", target) >= sizeof(path)) {
		rc = lb_err_set(err, "whiteout '%s': path too long", rel);
		goto out;
	}
	if (wh == OCI_WH_FILE && layer_fs_remove(path) < 0 && errno != ENOENT)
		rc = lb_err_set(err, "whiteout '%s': cannot remove '%s': %s", rel, target, strerror(errno));
	if (wh == OCI_WH_OPAQUE) {
		struct stat st;
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && empty_dir(path) < 0)
			rc = lb_err_set(err, "opaque whiteout '%s': %s", rel, strerror(errno));
	}
out:
	free(target);
	return rc;
}

static int write_file(const struct archive_dl *ar, struct archive *a, const char *path, mode_t mode,
		      uint64_t size, struct lb_err *err)
{
	int fd = layer_fs_create(path, err), rc = 0;
	const void *buf;
	size_t n;
	la_int64_t off;
	int r;

	if (fd < 0)
		return -1;
	while ((r = ar->read_data_block(a, &buf, &n, &off)) == ARCHIVE_OK) {
		/* Only what was counted against the image's room is written. */
		if (off < 0 || (uint64_t)off > size || n > size - (uint64_t)off) {
			rc = lb_err_set(err, "damaged archive at '%s': more data than its size", path);
			break;
		}
		if (lseek(fd, off, SEEK_SET) < 0 || layer_fs_write(fd, buf, n) != 0) {
			rc = lb_err_set(err, "cannot write '%s': %s", path, strerror(errno));
			break;
		}
	}
	if (rc == 0 && r != ARCHIVE_EOF)
		rc = lb_err_set(err, "damaged archive at '%s': %s", path, ar->error_string(a));
	/* Sparse files: the size is the last block's end. */
	if (rc == 0 && ftruncate(fd, lseek(fd, 0, SEEK_END)) != 0)
		rc = lb_err_set(err, "cannot write '%s': %s", path, strerror(errno));
	/* No set-user-ID or set-group-ID bits: the root is lb's, run by whoever runs lb. */
	if (rc == 0 && fchmod(fd, mode & 01777) != 0)
		rc = lb_err_set(err, "cannot set the mode of '%s': %s", path, strerror(errno));
	close(fd);
	return rc;
}

/* A hard link: its target is an earlier entry of this root, found as the image sees it. */
static int write_hardlink(const char *root, const char *name, const char *target, const char *path,
			  struct lb_err *err)
{
	char *rel = NULL, resolved[PATH_MAX], tpath[PATH_MAX];
	int rc = 0;

	if (oci_entry_path(target, &rel) != 0)
		return lb_err_set(err, "entry '%s' links to '%s', outside the image root", name, target);
	if (resolve_in_root(root, rel, resolved, sizeof(resolved), err) < 0)
		rc = -1;
	else if ((size_t)snprintf(tpath, sizeof(tpath), "%s/%s", root, resolved) >= sizeof(tpath))
		rc = lb_err_set(err, "entry '%s': link target too long", name);
	/* link(2) does not follow a link at tpath itself: the new name is that link too. */
	else if (link(tpath, path) != 0)
		rc = lb_err_set(err, "entry '%s': cannot link to '%s': %s", name, target, strerror(errno));
	free(rel);
	return rc;
}

/*
 * Takes a file's declared size from room. Why: Lambda refuses a container
 * image larger than 10 GB (all layers uncompressed); lb refuses one before
 * it fills the disk.
 */
static int take_room(struct image_room *room, const char *name, la_int64_t size, struct lb_err *err)
{
	if (size < 0)
		return lb_err_set(err, "entry '%s': no size", name);
	if ((uint64_t)size > room->left)
		return lb_err_set(err, "entry '%s' takes %llu bytes, more than the %llu left of the limit of %llu "
				  "bytes for an image's files (Lambda's: 10 GB, all layers uncompressed)", name,
				  (unsigned long long)size, (unsigned long long)room->left,
				  (unsigned long long)room->max);
	room->left -= (uint64_t)size;
	return 0;
}

static int extract_entry(const struct archive_dl *ar, struct archive *a, struct archive_entry *e, const char *root, const char *rel,
			 struct image_room *room, struct lb_err *err)
{
	mode_t type = ar->entry_filetype(e), mode = ar->entry_perm(e);
	const char *hard = ar->entry_hardlink(e), *name = ar->entry_pathname(e);
	enum layer_kind kind = type == AE_IFDIR ? LAYER_DIR : type == AE_IFLNK ? LAYER_LINK : LAYER_FILE;
	char path[PATH_MAX], resolved[PATH_MAX];

	if (!hard && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
		return 0;   /* devices, FIFOs, sockets: nothing a function needs, and root-only to make */
	if (!hard && type == AE_IFREG && take_room(room, name, ar->entry_size(e), err) < 0)
		return -1;
	if (resolve_in_root(root, rel, resolved, sizeof(resolved), err) < 0 ||
	    layer_fs_place(root, resolved, kind, path, sizeof(path), err) < 0)
		return -1;
	if (hard)
		return write_hardlink(root, name, hard, path, err);
	if (type == AE_IFDIR)
		return chmod(path, (mode & 01777) | 0700) == 0 ? 0 : lb_err_set(err, "cannot chmod '%s': %s", path, strerror(errno));
	if (type == AE_IFLNK) {
		/* The target stays as written: it is resolved inside the root when the sandbox runs. */
		if (symlink(ar->entry_symlink(e) ? ar->entry_symlink(e) : "", path) != 0)
			return lb_err_set(err, "cannot create link '%s': %s", path, strerror(errno));
		return 0;
	}
	return write_file(ar, a, path, mode, (uint64_t)ar->entry_size(e), err);
}

/* One pass over archive: whiteouts only (pass 0) or everything else (pass 1). */
static int extract_pass(const struct archive_dl *ar, const char *archive, const char *root, bool layer, int pass,
			struct image_room *room, struct lb_err *err)
{
	struct archive *a = open_archive(ar, archive, err);
	struct archive_entry *e;
	int r = ARCHIVE_OK, rc = 0;

	if (!a)
		return -1;
	while (rc == 0 && ((r = ar->read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)) {
		const char *name = ar->entry_pathname(e);
		char *rel = NULL, *target = NULL;
		int p = oci_entry_path(name ? name : "", &rel);
		bool wh;

		if (p < 0) {
			rc = lb_err_set(err, "entry '%s' is outside the image root ('..'): refused", name);
			break;
		}
		if (p > 0)
			continue;   /* the root itself */
		wh = layer && oci_whiteout(rel, &target) != OCI_WH_NONE;
		free(target);
		if (pass == 0 && wh)
			rc = apply_whiteout(root, rel, err);
		else if (pass == 1 && !wh)
			rc = extract_entry(ar, a, e, root, rel, room, err);
		free(rel);
	}
	if (rc == 0 && r != ARCHIVE_EOF && r != ARCHIVE_OK && r != ARCHIVE_WARN)
		rc = lb_err_set(err, "damaged archive: %s", ar->error_string(a));
	ar->read_free(a);
	return rc;
}

int image_tar_extract(const char *archive, const char *root, bool layer, struct image_room *room,
		      struct lb_err *err)
{
	const struct archive_dl *ar = archive_dl_get(err);

	if (!ar)
		return -1;
	if (layer && extract_pass(ar, archive, root, layer, 0, room, err) < 0)
		return -1;
	return extract_pass(ar, archive, root, layer, 1, room, err);
}

int image_tar_mkdir(const char *root, const char *dir, struct lb_err *err)
{
	char rel[PATH_MAX], resolved[PATH_MAX], path[PATH_MAX * 2];
	size_t n;

	/* "DIR/.": every component of DIR is resolved, links included. */
	if ((size_t)snprintf(rel, sizeof(rel), "%s/.", dir) >= sizeof(rel))
		return lb_err_set(err, "path too long");
	if (resolve_in_root(root, rel, resolved, sizeof(resolved), err) < 0)
		return -1;
	/* "a/b/." gives "a/b", "." the root itself. */
	n = strlen(resolved);
	n = n >= 2 ? n - 2 : 0;
	for (size_t i = 1; i <= n; i++) {
		struct stat st;

		if (i < n && resolved[i] != '/')
			continue;
		snprintf(path, sizeof(path), "%s/%.*s", root, (int)i, resolved);
		if (lstat(path, &st) == 0) {
			if (!S_ISDIR(st.st_mode))
				return lb_err_set(err, "'/%.*s' is not a directory in the image", (int)i, resolved);
		} else if (mkdir(path, 0755) != 0 && errno != EEXIST) {
			return lb_err_set(err, "cannot create '/%.*s': %s", (int)i, resolved, strerror(errno));
		}
	}
	return 0;
}
