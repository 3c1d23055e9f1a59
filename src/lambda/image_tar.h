/*
 * image_tar: extracting a tar archive (plain, gzip, or any filter libarchive
 * reads) into a directory lb owns — a `docker save` archive into a scratch
 * directory, or an image layer onto the root it builds.
 */
#ifndef LB_IMAGE_TAR_H
#define LB_IMAGE_TAR_H

#include <stdbool.h>

#include "base/err.h"

/*
 * Extracts archive into root (an existing directory, absolute, without
 * symbolic links on its way). layer: apply OCI/Docker whiteouts (.wh.NAME
 * deletes NAME of lower layers, .wh..wh..opq empties its directory) before
 * the entries. An entry below a link of an earlier entry or layer goes where
 * the link leads, resolved inside root (as Docker and containerd apply
 * layers; ".." never climbs above root), so nothing is ever written outside
 * it. A path with ".." or a hard link out of the root fails with err naming
 * the entry (not the archive: the caller knows how to name it); device files
 * are skipped.
 */
int image_tar_extract(const char *archive, const char *root, bool layer, struct lb_err *err);

#endif
