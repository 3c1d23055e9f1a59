/*
 * image_tar: extracting a tar archive (plain, gzip, or any filter libarchive
 * reads) into a directory lb owns — a `docker save` archive into a scratch
 * directory, or an image layer onto the root it builds.
 */
#ifndef LB_IMAGE_TAR_H
#define LB_IMAGE_TAR_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

/*
 * What an image's files may take on disk: max, the whole limit (Lambda's is
 * 10 GB, all layers uncompressed), and left, what is left of it, shared by
 * the extractions of one image.
 */
struct image_room {
	uint64_t max, left;
};

/*
 * Extracts archive into root (an existing directory, absolute, without
 * symbolic links on its way). layer: apply OCI/Docker whiteouts (.wh.NAME
 * deletes NAME of lower layers, .wh..wh..opq empties its directory) before
 * the entries. An entry below a link of an earlier entry or layer goes where
 * the link leads, resolved inside root (as Docker and containerd apply
 * layers; ".." never climbs above root), so nothing is ever written outside
 * it. A path with ".." or a hard link out of the root fails with err naming
 * the entry (not the archive: the caller knows how to name it); device files
 * are skipped. Each file's declared size is taken from room->left before
 * any of it is written: a file that does not fit fails with err naming it
 * and room->max, and nothing of it is written.
 */
int image_tar_extract(const char *archive, const char *root, bool layer, struct image_room *room,
		      struct lb_err *err);

/*
 * Makes dir (a path as the image sees it, "/var/task") a directory in root,
 * resolved as entries are (its links followed inside root, ".." never above
 * it), creating each missing directory (0755). -1 with err when a file is in
 * its way.
 */
int image_tar_mkdir(const char *root, const char *dir, struct lb_err *err);

#endif
