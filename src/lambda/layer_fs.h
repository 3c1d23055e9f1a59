/*
 * layer_fs: the file-system steps of building a merged layer directory, shared
 * by layers.c (directory layers) and layer_zip.c (.zip layers): checking a
 * path that comes from a layer, making room for it in the merged tree, and
 * removing trees.
 *
 * The merged tree belongs to lb. Nothing here follows a symbolic link inside
 * it when creating or removing, so a link that one layer put there can never
 * send a later write outside the tree.
 */
#ifndef LB_LAYER_FS_H
#define LB_LAYER_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "base/err.h"

enum layer_kind { LAYER_DIR, LAYER_FILE, LAYER_LINK };

/*
 * Normalizes a path taken from a layer (n bytes, not NUL-terminated) into out
 * ("a//./b/" gives "a/b"; the layer's root gives ""). -1 when it is absolute,
 * has a ".." component or a NUL byte, or does not fit in size bytes.
 */
int layer_fs_clean(const char *name, size_t n, char *out, size_t size);

/*
 * Makes room for rel (from layer_fs_clean, not "") under root and writes
 * "root/rel" into path (size bytes). Every parent of rel is made a real
 * directory (a file or link there is replaced: the later layer wins). What
 * is at rel itself is removed, except that a directory stays where kind is
 * LAYER_DIR (directories merge); a LAYER_DIR is then created if missing.
 */
int layer_fs_place(const char *root, const char *rel, enum layer_kind kind, char *path, size_t size,
		   struct lb_err *err);
/* layer_fs_place for a path whose parent is known to be a real directory. */
int layer_fs_clear(const char *path, enum layer_kind kind, struct lb_err *err);

/* Creates the new file path (after layer_fs_place) for writing; an fd, or -1 with err set. */
int layer_fs_create(const char *path, struct lb_err *err);
/* Writes all n bytes; -1 with errno set. */
int layer_fs_write(int fd, const void *p, size_t n);

/* The kernel's bound on the links met in one path name (ELOOP). */
#define LAYER_FS_LINKS_MAX 40

enum layer_fs_lead {
	LAYER_FS_IN,          /* out names where it leads, inside the tree */
	LAYER_FS_UP,          /* ".." above the mount point */
	LAYER_FS_ELSEWHERE,   /* an absolute path not under the mount point */
	LAYER_FS_LOOP,        /* more links on the way than the kernel follows (ELOOP) */
	LAYER_FS_UNREADABLE,  /* a link on the way could not be read (errno) */
	LAYER_FS_TOO_LONG,
};

/*
 * Resolves path, met in the directory dir of the tree at root ("" for root
 * itself), as the kernel would with the tree mounted at mount ("/opt"), or as
 * the file system's root when mount is NULL: every symbolic link on its way
 * is followed inside root (an absolute target from the mount point); ".."
 * above the mount point leaves the tree, above "/" stays there. Writes the
 * result, relative to root, into out (size bytes) when LAYER_FS_IN.
 */
enum layer_fs_lead layer_fs_resolve(const char *root, const char *mount, const char *dir, const char *path,
				    char *out, size_t size);

/*
 * Checks every symbolic link in the merged tree at root, which the function
 * sees as Lambda's /opt: a link to /opt/PATH is rewritten relative, so it
 * leads to root/PATH; a link that climbs out of the tree with ".." (resolved
 * as the kernel would with the tree at /opt, the links on its way followed)
 * is removed. Absolute targets elsewhere (/usr/bin/python3) stay as written. Returns how many were
 * removed, the first as "'NAME' -> 'TARGET'" in first (size bytes); -1 with
 * err.
 */
int layer_fs_links(const char *root, char *first, size_t size, struct lb_err *err);

/* Removes path and everything under it, never following links; -1 with errno set. */
int layer_fs_remove(const char *path);

#endif
