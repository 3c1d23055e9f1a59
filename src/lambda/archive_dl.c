/*
 * archive_dl: resolving libarchive's functions at run time (archive_dl.h).
 *
 * The table is filled once and kept for the life of the process, like the
 * library's mapping itself: it is the one piece of process-wide state here,
 * written only when the loading succeeded whole, so a partly filled table is
 * never seen. RTLD_LOCAL keeps libarchive's symbols (and its dependencies')
 * out of the global namespace.
 */
#include "lambda/archive_dl.h"

#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

#include "base/util.h"

static const struct {
	const char *name;
	size_t off;
} syms[] = {
	{ "archive_read_new", offsetof(struct archive_dl, read_new) },
	{ "archive_read_support_filter_all", offsetof(struct archive_dl, read_support_filter_all) },
	{ "archive_read_support_format_tar", offsetof(struct archive_dl, read_support_format_tar) },
	{ "archive_read_open_filename", offsetof(struct archive_dl, read_open_filename) },
	{ "archive_read_next_header", offsetof(struct archive_dl, read_next_header) },
	{ "archive_read_data_block", offsetof(struct archive_dl, read_data_block) },
	{ "archive_read_free", offsetof(struct archive_dl, read_free) },
	{ "archive_error_string", offsetof(struct archive_dl, error_string) },
	{ "archive_entry_pathname", offsetof(struct archive_dl, entry_pathname) },
	{ "archive_entry_filetype", offsetof(struct archive_dl, entry_filetype) },
	{ "archive_entry_perm", offsetof(struct archive_dl, entry_perm) },
	{ "archive_entry_hardlink", offsetof(struct archive_dl, entry_hardlink) },
	{ "archive_entry_symlink", offsetof(struct archive_dl, entry_symlink) },
	{ "archive_entry_size", offsetof(struct archive_dl, entry_size) },
};

static struct archive_dl table;
static int loaded;

const struct archive_dl *archive_dl_get(struct lb_err *err)
{
	struct archive_dl t;
	void *h;

	if (loaded)
		return &table;
	h = dlopen(ARCHIVE_DL_LIB, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		lb_err_set(err, "cannot load %s (install libarchive13): %s", ARCHIVE_DL_LIB, dlerror());
		return NULL;
	}
	for (size_t i = 0; i < ARRAY_LEN(syms); i++) {
		void *f = dlsym(h, syms[i].name);
		if (!f) {
			lb_err_set(err, "cannot load %s: no %s", ARCHIVE_DL_LIB, syms[i].name);
			dlclose(h);
			return NULL;
		}
		/* POSIX guarantees a data pointer from dlsym converts to a function pointer. */
		memcpy((char *)&t + syms[i].off, &f, sizeof(f));
	}
	table = t;
	loaded = 1;
	return &table;
}
