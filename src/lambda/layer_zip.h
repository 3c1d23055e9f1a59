/*
 * layer_zip: unpacks a .zip archive into a directory, as Lambda unpacks each
 * layer into /opt and a function's .zip code into /var/task (zlib's inflate;
 * no external command).
 */
#ifndef LB_LAYER_ZIP_H
#define LB_LAYER_ZIP_H

#include <stdint.h>

#include "base/err.h"

/* Why: Lambda refuses a function whose layers (and code) unzip to more than this. */
#define LAYER_UNZIPPED_MAX 262144000ULL

/*
 * Extracts every entry of the archive at zip_path under the directory dir,
 * replacing what is already there at the same paths (layer_fs_place). An
 * entry named with an absolute path or "..", an encrypted entry, an
 * unsupported compression method or a damaged archive fails the whole
 * extraction: -1 with err set ("entry '../x' ..."); dir may then hold part of it.
 * *room is how many bytes the extracted files may still take: the entries'
 * declared sizes are taken from it before anything is written, and more than
 * it holds fails at once, with nothing written.
 */
int layer_zip_extract(const char *zip_path, const char *dir, uint64_t *room, struct lb_err *err);

#endif
