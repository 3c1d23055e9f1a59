/*
 * layer_zip: a small zip reader over zlib's inflate, for layers.
 *
 * The archive is mapped read-only and read through its central directory,
 * the authoritative list of entries (local headers only locate each entry's
 * data). Stored and deflated entries are supported, with ZIP64 sizes and
 * offsets; encrypted entries, other methods and split archives are refused.
 * Every bound is checked against the file's size and every entry against its
 * size and CRC-32, so a damaged archive is an error, never a crash.
 *
 * Paths: an entry named with an absolute path or a ".." component is refused
 * and fails the whole layer (the zip-slip rule), and entries are placed with
 * layer_fs_place, which never follows a link inside the merged tree, so
 * nothing is written outside it.
 *
 * Size: the entries' declared sizes are added up before anything is
 * written and must fit in what is left of Lambda's unzipped limit for the
 * function's layers; an entry longer than it declares is damaged. A zip
 * bomb is therefore refused before it takes any disk.
 *
 * Modes: an archive made on Unix (or macOS) records each entry's mode. Files
 * keep their permission bits, which is what keeps bin/ executable, as Lambda
 * keeps them when it unpacks a layer; symbolic links are recreated as links
 * (their target is the entry's data). Entries from other systems become 0644
 * files. Directories are always 0755 (layer_fs.c).
 */
#include "lambda/layer_zip.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "lambda/layer_fs.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_END 0x06054b50u
#define SIG_END64 0x06064b50u
#define SIG_LOCATOR64 0x07064b50u
#define END_SIZE 22           /* end of central directory record, without its comment */
#define END64_SIZE 56
#define LOCATOR64_SIZE 20
#define CENTRAL_SIZE 46       /* central directory header, without name, extra, comment */
#define LOCAL_SIZE 30
#define COMMENT_MAX 65535
#define ALL_ONES 0xffffffffu  /* a 32-bit field whose value is in the ZIP64 extra field */
#define HOST_UNIX 3           /* "version made by" hosts whose attributes hold a mode */
#define HOST_OSX 19
#define FLAG_ENCRYPTED 0x0001
#define METHOD_STORED 0
#define METHOD_DEFLATED 8
#define CHUNK (64 * 1024)

struct zip {
	const uint8_t *p;         /* the mapped archive */
	size_t n;
};

struct zip_entry {
	const char *raw;          /* the name as stored (not NUL-terminated) */
	size_t raw_len;
	char name[PATH_MAX];      /* cleaned (layer_fs_clean) */
	unsigned made_by, flags, method;
	uint32_t crc, attrs;
	uint64_t csize, usize, offset;
};

/* Where an entry's bytes go: a file, or memory (a link's target). */
struct sink {
	int fd;                   /* -1: mem */
	char *mem;
	size_t cap, len;
	uint64_t total, limit;    /* bytes so far; the entry's declared size */
	uLong crc;
};

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int damaged(struct lb_err *err, const char *what)
{
	return lb_err_set(err, "damaged zip archive (%s)", what);
}

/* The central directory: its entry count, offset and size (ZIP64 when needed). */
static int find_directory(const struct zip *z, uint64_t *count, uint64_t *at, uint64_t *size,
			  struct lb_err *err)
{
	size_t lowest = z->n > END_SIZE + COMMENT_MAX ? z->n - END_SIZE - COMMENT_MAX : 0;
	size_t pos = z->n - END_SIZE + 1;
	const uint8_t *e = NULL, *loc, *r;

	/* The end record is last in the file but for a comment of up to 64 KB. */
	while (pos-- > lowest) {
		if (le32(z->p + pos) == SIG_END) {
			e = z->p + pos;
			break;
		}
	}
	if (!e)
		return lb_err_set(err, "not a zip archive (no end of central directory record)");
	if (le16(e + 4) != 0 || le16(e + 6) != 0)
		return lb_err_set(err, "split zip archives are not supported");
	*count = le16(e + 10);
	*size = le32(e + 12);
	*at = le32(e + 16);
	if (*count == 0xffff || *size == ALL_ONES || *at == ALL_ONES) {
		uint64_t r_off;

		if (pos < LOCATOR64_SIZE || le32((loc = e - LOCATOR64_SIZE)) != SIG_LOCATOR64)
			return damaged(err, "ZIP64 locator missing");
		r_off = le64(loc + 8);
		if (r_off > z->n || z->n - r_off < END64_SIZE || le32((r = z->p + r_off)) != SIG_END64)
			return damaged(err, "ZIP64 end record missing");
		*count = le64(r + 32);
		*size = le64(r + 40);
		*at = le64(r + 48);
	}
	if (*at > z->n || *size > z->n - *at)
		return damaged(err, "central directory out of bounds");
	return 0;
}

/* The ZIP64 extra field (id 1) holds, in this order, the fields that are all ones. */
static int read_zip64(const uint8_t *x, size_t n, struct zip_entry *e)
{
	uint64_t *fields[] = { &e->usize, &e->csize, &e->offset };

	while (n >= 4) {
		size_t id = le16(x), len = le16(x + 2);
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

static int sink_put(struct sink *s, const void *p, size_t n, const struct zip_entry *e,
		    struct lb_err *err)
{
	if (n > s->limit - s->total)
		return lb_err_set(err, "entry '%s' is damaged (longer than its declared size)", e->name);
	s->total += n;
	s->crc = crc32(s->crc, p, (uInt)n);
	if (s->fd >= 0) {
		if (layer_fs_write(s->fd, p, n) != 0)
			return lb_err_set(err, "entry '%s': cannot write: %s", e->name, strerror(errno));
		return 0;
	}
	if (n > s->cap - s->len)
		return lb_err_set(err, "entry '%s': link target too long", e->name);
	memcpy(s->mem + s->len, p, n);
	s->len += n;
	return 0;
}

static int inflate_raw(const uint8_t *data, uint64_t n, struct sink *s, const struct zip_entry *e,
		       struct lb_err *err)
{
	z_stream zs;
	unsigned char out[CHUNK];
	uint64_t left = n;
	int zr = Z_OK, rc = -1;

	memset(&zs, 0, sizeof(zs));
	/* Negative window bits: raw deflate data, no zlib header (zip's format). */
	if (inflateInit2(&zs, -MAX_WBITS) != Z_OK)
		return lb_err_set(err, "entry '%s': cannot start inflating", e->name);
	zs.next_in = (Bytef *)data;   /* zlib's API is not const; it only reads */
	while (zr != Z_STREAM_END) {
		if (zs.avail_in == 0 && left > 0) {
			zs.avail_in = left > (1u << 30) ? (1u << 30) : (uInt)left;
			left -= zs.avail_in;
		}
		zs.next_out = out;
		zs.avail_out = sizeof(out);
		zr = inflate(&zs, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END && !(zr == Z_BUF_ERROR && left > 0)) {
			lb_err_set(err, "entry '%s' is damaged (%s)", e->name,
				   zs.msg ? zs.msg : "truncated deflate data");
			goto out;
		}
		if (sink_put(s, out, sizeof(out) - zs.avail_out, e, err))
			goto out;
	}
	rc = 0;
out:
	inflateEnd(&zs);
	return rc;
}

/* An entry's bytes into s, checked against its size and CRC-32. */
static int entry_read(const struct zip *z, const struct zip_entry *e, struct sink *s,
		      struct lb_err *err)
{
	const uint8_t *local = z->p + e->offset;
	uint64_t start;

	if (e->offset > z->n || z->n - e->offset < LOCAL_SIZE || le32(local) != SIG_LOCAL)
		return damaged(err, "local header out of place");
	start = e->offset + LOCAL_SIZE + le16(local + 26) + le16(local + 28);
	if (start > z->n || e->csize > z->n - start)
		return damaged(err, "entry data out of bounds");
	s->crc = crc32(0, Z_NULL, 0);
	s->limit = e->usize;
	if (e->method == METHOD_STORED) {
		for (uint64_t done = 0; done < e->csize;) {
			size_t n = e->csize - done > CHUNK ? CHUNK : (size_t)(e->csize - done);

			if (sink_put(s, z->p + start + done, n, e, err))
				return -1;
			done += n;
		}
	} else if (e->method == METHOD_DEFLATED) {
		if (inflate_raw(z->p + start, e->csize, s, e, err))
			return -1;
	} else {
		return lb_err_set(err, "entry '%s' uses compression method %u (only stored and deflated "
				  "are supported)", e->name, e->method);
	}
	if (s->total != e->usize || s->crc != e->crc)
		return lb_err_set(err, "entry '%s' is damaged (size or CRC-32 mismatch)", e->name);
	return 0;
}

static int extract_file(const struct zip *z, const struct zip_entry *e, const char *dir, mode_t mode,
			struct lb_err *err)
{
	char path[PATH_MAX];
	struct sink s = { .fd = -1 };
	int rc;

	if (layer_fs_place(dir, e->name, LAYER_FILE, path, sizeof(path), err))
		return -1;
	if ((s.fd = layer_fs_create(path, err)) < 0)
		return -1;
	rc = entry_read(z, e, &s, err);
	if (rc == 0 && fchmod(s.fd, mode) != 0)
		rc = lb_err_set(err, "cannot set the mode of '%s': %s", path, strerror(errno));
	close(s.fd);
	return rc;
}

static int extract_link(const struct zip *z, const struct zip_entry *e, const char *dir,
			struct lb_err *err)
{
	char path[PATH_MAX], target[PATH_MAX];
	struct sink s = { .fd = -1, .mem = target, .cap = sizeof(target) - 1 };

	if (entry_read(z, e, &s, err))
		return -1;
	target[s.len] = '\0';
	if (s.len == 0 || memchr(target, '\0', s.len))
		return lb_err_set(err, "entry '%s': bad link target", e->name);
	if (layer_fs_place(dir, e->name, LAYER_LINK, path, sizeof(path), err))
		return -1;
	if (symlink(target, path) != 0)
		return lb_err_set(err, "cannot create the link '%s': %s", path, strerror(errno));
	return 0;
}

static int extract_entry(const struct zip *z, struct zip_entry *e, const char *dir, struct lb_err *err)
{
	unsigned host = e->made_by >> 8;
	mode_t mode = host == HOST_UNIX || host == HOST_OSX ? (mode_t)(e->attrs >> 16) : 0;
	bool is_dir = (e->raw_len > 0 && e->raw[e->raw_len - 1] == '/') || S_ISDIR(mode);
	char path[PATH_MAX];

	/* Why: extracting "../x" or "/x" would write outside /opt (zip slip); refused. */
	if (layer_fs_clean(e->raw, e->raw_len, e->name, sizeof(e->name)) != 0)
		return lb_err_set(err, "entry '%.*s' is refused: absolute paths and '..' are not allowed",
				  (int)(e->raw_len > 200 ? 200 : e->raw_len), e->raw);
	if (!e->name[0])
		return 0;   /* the root itself: "./" */
	if (e->flags & FLAG_ENCRYPTED)
		return lb_err_set(err, "entry '%s' is encrypted", e->name);
	if (is_dir)
		return layer_fs_place(dir, e->name, LAYER_DIR, path, sizeof(path), err);
	if (S_ISLNK(mode))
		return extract_link(z, e, dir, err);
	return extract_file(z, e, dir, (mode & 0777) ? (mode & 0777) : 0644, err);
}

/*
 * The central directory entry at *at (before end) into e, *at moved past it.
 * ZIP64 sizes and offsets are read from its extra field.
 */
static int next_entry(const struct zip *z, uint64_t *at, uint64_t end, struct zip_entry *e,
		      struct lb_err *err)
{
	const uint8_t *c = z->p + *at;
	size_t nlen, xlen, clen;

	if (end - *at < CENTRAL_SIZE || le32(c) != SIG_CENTRAL)
		return damaged(err, "central directory entry out of place");
	nlen = le16(c + 28);
	xlen = le16(c + 30);
	clen = le16(c + 32);
	if (end - *at - CENTRAL_SIZE < (uint64_t)nlen + xlen + clen)
		return damaged(err, "central directory entry out of bounds");
	*e = (struct zip_entry){
		.raw = (const char *)c + CENTRAL_SIZE, .raw_len = nlen,
		.made_by = le16(c + 4), .flags = le16(c + 8), .method = le16(c + 10),
		.crc = le32(c + 16), .csize = le32(c + 20), .usize = le32(c + 24),
		.attrs = le32(c + 38), .offset = le32(c + 42),
	};
	if ((e->usize == ALL_ONES || e->csize == ALL_ONES || e->offset == ALL_ONES) &&
	    read_zip64(c + CENTRAL_SIZE + nlen, xlen, e) != 0)
		return damaged(err, "bad ZIP64 extra field");
	*at += CENTRAL_SIZE + nlen + xlen + clen;
	return 0;
}

/*
 * Why: Lambda refuses code and layers whose unzipped size passes 262144000
 * bytes. Every entry's declared size is taken from *room before anything is
 * written, so a zip bomb is refused up front instead of filling the disk
 * (entry_read never writes more than an entry declares).
 */
static int take_room(const struct zip *z, uint64_t count, uint64_t at, uint64_t end, uint64_t *room,
		     struct lb_err *err)
{
	uint64_t total = 0;

	for (uint64_t i = 0; i < count; i++) {
		struct zip_entry e;

		if (next_entry(z, &at, end, &e, err))
			return -1;
		total = e.usize > UINT64_MAX - total ? UINT64_MAX : total + e.usize;
	}
	if (total > *room)
		return lb_err_set(err, "its entries unzip to %llu bytes, more than the %llu left of "
				  "Lambda's limit of %llu bytes (250 MB) for a function's layers",
				  (unsigned long long)total, (unsigned long long)*room,
				  (unsigned long long)LAYER_UNZIPPED_MAX);
	*room -= total;
	return 0;
}

static int extract_all(const struct zip *z, const char *dir, uint64_t *room, struct lb_err *err)
{
	uint64_t count = 0, at = 0, size = 0, end;

	if (find_directory(z, &count, &at, &size, err))
		return -1;
	end = at + size;
	if (take_room(z, count, at, end, room, err))
		return -1;
	for (uint64_t i = 0; i < count; i++) {
		struct zip_entry e;

		if (next_entry(z, &at, end, &e, err) || extract_entry(z, &e, dir, err))
			return -1;
	}
	return 0;
}

int layer_zip_extract(const char *zip_path, const char *dir, uint64_t *room, struct lb_err *err)
{
	struct zip z = { NULL, 0 };
	struct stat st;
	void *map = MAP_FAILED;
	int fd = open(zip_path, O_RDONLY | O_CLOEXEC), rc = -1;

	if (fd < 0)
		return lb_err_set(err, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < END_SIZE) {
		lb_err_set(err, "not a zip archive");
		goto out;
	}
	z.n = (size_t)st.st_size;
	map = mmap(NULL, z.n, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		lb_err_set(err, "cannot map: %s", strerror(errno));
		goto out;
	}
	z.p = map;
	rc = extract_all(&z, dir, room, err);
out:
	if (map != MAP_FAILED)
		munmap(map, z.n);
	close(fd);
	return rc;
}
