/*
 * archive_dl: libarchive, loaded the first time an image is unpacked.
 *
 * lb is not linked with libarchive: linking it makes the loader map the
 * libraries libarchive needs (libicu, libxml2, libstdc++ ...) into every lb,
 * several megabytes of idle RSS for a feature most configurations never use.
 * <archive.h> still gives the types and prototypes; the table holds the few
 * functions image_tar calls.
 */
#ifndef LB_ARCHIVE_DL_H
#define LB_ARCHIVE_DL_H

#include <archive.h>
#include <archive_entry.h>

#include "base/err.h"

#define ARCHIVE_DL_LIB "libarchive.so.13"

struct archive_dl {
	__typeof__(archive_read_new) *read_new;
	__typeof__(archive_read_support_filter_all) *read_support_filter_all;
	__typeof__(archive_read_support_format_tar) *read_support_format_tar;
	__typeof__(archive_read_open_filename) *read_open_filename;
	__typeof__(archive_read_next_header) *read_next_header;
	__typeof__(archive_read_data_block) *read_data_block;
	__typeof__(archive_read_free) *read_free;
	__typeof__(archive_error_string) *error_string;
	__typeof__(archive_entry_pathname) *entry_pathname;
	__typeof__(archive_entry_filetype) *entry_filetype;
	__typeof__(archive_entry_perm) *entry_perm;
	__typeof__(archive_entry_hardlink) *entry_hardlink;
	__typeof__(archive_entry_symlink) *entry_symlink;
	__typeof__(archive_entry_size) *entry_size;
};

/*
 * The table, loading libarchive on the first call (it stays loaded). NULL
 * with err set ("cannot load libarchive.so.13: ...") when the library or
 * one of its functions is missing; a later call tries again.
 */
const struct archive_dl *archive_dl_get(struct lb_err *err);

#endif
