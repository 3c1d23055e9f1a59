/*
 * zip_dir: a zip archive's central directory, read from bytes in memory.
 *
 * The central directory is the authoritative list of a zip's entries (local
 * headers only locate each entry's data), so reading it is how lb checks
 * that a function's .zip code is a zip at load time, and how layer_zip.c
 * walks an archive it extracts. ZIP64 counts, sizes and offsets are read;
 * split archives are refused. Every bound is checked against the archive's
 * size, so damaged bytes give an error, never a read outside them.
 */
#ifndef LB_ZIP_DIR_H
#define LB_ZIP_DIR_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Little-endian fields of a zip record (zip_dir.c and lambda/layer_zip.c). */
static inline uint16_t zip_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t zip_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A cursor over the entries of the archive at p (n bytes, borrowed). */
struct zip_dir {
	const uint8_t *p;
	size_t n;
	uint64_t count, done;     /* entries the end record declares; read so far */
	uint64_t at, end;         /* the next entry's offset; the directory's end */
};

/* One central directory entry. name points into the archive (not NUL-terminated). */
struct zip_dir_entry {
	const char *name;
	size_t name_len;
	unsigned made_by, flags, method;
	uint32_t crc, attrs;
	uint64_t csize, usize, offset;
};

/*
 * Finds the central directory of the archive at p (n bytes): 0, or -1 with
 * err ("not a zip archive (no end of central directory record)", "damaged
 * zip archive (...)", "split zip archives are not supported").
 */
int zip_dir_open(struct zip_dir *z, const void *p, size_t n, struct lb_err *err);

/* The next entry into e: 1, 0 after the last one, or -1 with err when damaged. */
int zip_dir_next(struct zip_dir *z, struct zip_dir_entry *e, struct lb_err *err);

/*
 * Maps the regular file at path read-only into *p and *n (release with
 * zip_dir_unmap): 0, or -1 with err ("cannot open: ...", "not a zip archive"
 * for anything too short to be one or not a regular file).
 */
int zip_dir_map(const char *path, const uint8_t **p, size_t *n, struct lb_err *err);
/* Unmaps what zip_dir_map mapped. NULL-safe. */
void zip_dir_unmap(const uint8_t *p, size_t n);

/*
 * Whether the file at path is a zip archive whose central directory reads
 * to its last entry: 0, or -1 with err as above. Nothing is extracted and
 * no entry's data is read.
 */
int zip_dir_check_file(const char *path, struct lb_err *err);

#endif
