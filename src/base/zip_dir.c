/*
 * zip_dir: the central directory of a zip archive (PKWARE's APPNOTE.TXT
 * §4.3.12-§4.3.16), walked entry by entry over a mapped archive.
 *
 * The end of central directory record is the last thing in the file but for
 * a comment of up to 64 KB, so it is searched for backwards from the end.
 * When one of its fields is all ones the ZIP64 end record, found through its
 * locator just before, holds the real value; an entry's sizes and offset
 * likewise move to its ZIP64 extra field. Nothing here reads an entry's data
 * or its local header: that is the extractor's (lambda/layer_zip.c).
 *
 * Pure but for zip_dir_map, which maps a file for it: libc only.
 */
#include "base/zip_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIG_CENTRAL 0x02014b50u
#define SIG_END 0x06054b50u
#define SIG_END64 0x06064b50u
#define SIG_LOCATOR64 0x07064b50u
#define END_SIZE 22           /* end of central directory record, without its comment */
#define END64_SIZE 56
#define LOCATOR64_SIZE 20
#define CENTRAL_SIZE 46       /* central directory header, without name, extra, comment */
#define COMMENT_MAX 65535
#define ALL_ONES 0xffffffffu  /* a 32-bit field whose value is in a ZIP64 record */

static uint64_t le64(const uint8_t *p)
{
	return zip_le32(p) | (uint64_t)zip_le32(p + 4) << 32;
}

static int damaged(struct lb_err *err, const char *what)
{
	return lb_err_set(err, "damaged zip archive (%s)", what);
}

int zip_dir_open(struct zip_dir *z, const void *p, size_t n, struct lb_err *err)
{
	size_t lowest = n > END_SIZE + COMMENT_MAX ? n - END_SIZE - COMMENT_MAX : 0, pos;
	const uint8_t *e = NULL, *loc, *r;
	uint64_t size;

	*z = (struct zip_dir){ .p = p, .n = n };
	if (n < END_SIZE)
		return lb_err_set(err, "not a zip archive (no end of central directory record)");
	for (pos = n - END_SIZE + 1; pos-- > lowest;) {
		if (zip_le32(z->p + pos) == SIG_END) {
			e = z->p + pos;
			break;
		}
	}
	if (!e)
		return lb_err_set(err, "not a zip archive (no end of central directory record)");
	if (zip_le16(e + 4) != 0 || zip_le16(e + 6) != 0)
		return lb_err_set(err, "split zip archives are not supported");
	z->count = zip_le16(e + 10);
	size = zip_le32(e + 12);
	z->at = zip_le32(e + 16);
	if (z->count == 0xffff || size == ALL_ONES || z->at == ALL_ONES) {
		uint64_t r_off;

		if (pos < LOCATOR64_SIZE || zip_le32((loc = e - LOCATOR64_SIZE)) != SIG_LOCATOR64)
			return damaged(err, "ZIP64 locator missing");
		r_off = le64(loc + 8);
		if (r_off > n || n - r_off < END64_SIZE || zip_le32((r = z->p + r_off)) != SIG_END64)
			return damaged(err, "ZIP64 end record missing");
		z->count = le64(r + 32);
		size = le64(r + 40);
		z->at = le64(r + 48);
	}
	if (z->at > n || size > n - z->at)
		return damaged(err, "central directory out of bounds");
	z->end = z->at + size;
	return 0;
}

/* The ZIP64 extra field (id 1) holds, in this order, the fields that are all ones. */
static int read_zip64(const uint8_t *x, size_t n, struct zip_dir_entry *e)
{
	uint64_t *fields[] = { &e->usize, &e->csize, &e->offset };

	while (n >= 4) {
		size_t id = zip_le16(x), len = zip_le16(x + 2);
		const uint8_t *q = x + 4;

		if (len > n - 4)
			return -1;
		if (id == 1) {
			for (size_t i = 0; i < 3; i++) {
				if (*fields[i] != ALL_ONES)
					continue;
				if ((size_t)(x + 4 + len - q) < 8)
					return -1;
				*fields[i] = le64(q);
				q += 8;
			}
			return 0;
		}
		x += 4 + len;
		n -= 4 + len;
	}
	return 0;
}

int zip_dir_next(struct zip_dir *z, struct zip_dir_entry *e, struct lb_err *err)
{
	const uint8_t *c = z->p + z->at;
	size_t nlen, xlen, clen;

	if (z->done == z->count)
		return 0;
	if (z->end - z->at < CENTRAL_SIZE || zip_le32(c) != SIG_CENTRAL)
		return damaged(err, "central directory entry out of place");
	nlen = zip_le16(c + 28);
	xlen = zip_le16(c + 30);
	clen = zip_le16(c + 32);
	if (z->end - z->at - CENTRAL_SIZE < (uint64_t)nlen + xlen + clen)
		return damaged(err, "central directory entry out of bounds");
	*e = (struct zip_dir_entry){
		.name = (const char *)c + CENTRAL_SIZE, .name_len = nlen,
		.made_by = zip_le16(c + 4), .flags = zip_le16(c + 8), .method = zip_le16(c + 10),
		.crc = zip_le32(c + 16), .csize = zip_le32(c + 20), .usize = zip_le32(c + 24),
		.attrs = zip_le32(c + 38), .offset = zip_le32(c + 42),
	};
	if ((e->usize == ALL_ONES || e->csize == ALL_ONES || e->offset == ALL_ONES) &&
	    read_zip64(c + CENTRAL_SIZE + nlen, xlen, e) != 0)
		return damaged(err, "bad ZIP64 extra field");
	z->at += CENTRAL_SIZE + nlen + xlen + clen;
	z->done++;
	return 1;
}

int zip_dir_map(const char *path, const uint8_t **p, size_t *n, struct lb_err *err)
{
	struct stat st;
	void *map;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

	*p = NULL;
	*n = 0;
	if (fd < 0)
		return lb_err_set(err, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < END_SIZE) {
		lb_err_set(err, "not a zip archive");
		goto out;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		lb_err_set(err, "cannot map: %s", strerror(errno));
		goto out;
	}
	*p = map;
	*n = (size_t)st.st_size;
	rc = 0;
out:
	close(fd);
	return rc;
}

void zip_dir_unmap(const uint8_t *p, size_t n)
{
	if (p)
		munmap((void *)p, n);
}

int zip_dir_check_file(const char *path, struct lb_err *err)
{
	const uint8_t *p;
	size_t n;
	struct zip_dir z;
	struct zip_dir_entry e;
	int rc;

	if (zip_dir_map(path, &p, &n, err))
		return -1;
	rc = zip_dir_open(&z, p, n, err);
	while (rc == 0 && (rc = zip_dir_next(&z, &e, err)) == 1)
		rc = 0;
	zip_dir_unmap(p, n);
	return rc;
}
