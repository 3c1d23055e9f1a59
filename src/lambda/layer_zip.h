/*
 * layer_zip: unpacks a layer's .zip archive into a merged layer directory, as
 * Lambda unpacks each layer into /opt (zlib's inflate; no external command).
 */
#ifndef LB_LAYER_ZIP_H
#define LB_LAYER_ZIP_H

#include "base/err.h"

/*
 * Extracts every entry of the archive at zip_path under the directory dir,
 * replacing what is already there at the same paths (layer_fs_place). An
 * entry named with an absolute path or "..", an encrypted entry, an
 * unsupported compression method or a damaged archive fails the whole
 * extraction: -1 with err set ("entry '../x' ..."); dir may then hold part of it.
 */
int layer_zip_extract(const char *zip_path, const char *dir, struct lb_err *err);

#endif
