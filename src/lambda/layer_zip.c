/*
 * layer_zip: a small zip extractor over zlib's inflate, for layers and for
 * a function's .zip code.
 *
 * The archive is mapped read-only and read through its central directory
 * (base/zip_dir.c), the authoritative list of entries (local headers only
 * locate each entry's data). Stored and deflated entries are supported,
 * with ZIP64 sizes and offsets; encrypted entries, other methods and split
 * archives are refused.
 * Every bound is checked against the file's size and every entry against its
 * size and CRC-32, so a damaged archive is an error, never a crash.
 *
 * Paths: an entry named with an absolute path or a ".." component is
 * refused and fails the whole archive (the zip-slip rule), and entries are
 * placed with layer_fs_place, which never follows a link inside the tree it
 * builds, so nothing is written outside it.
 *
 * Size: the entries' declared sizes are added up before anything is
 * written and must fit in what is left of Lambda's unzipped limit for the
 * function's code and layers; an entry longer than it declares is damaged.
 * A zip bomb is therefore refused before it takes any disk.
 *
 * Modes: an archive made on Unix (or macOS) records each entry's mode. Files
 * keep their permission bits, which is what keeps bin/ executable, as Lambda
 * keeps them when it unpacks a layer; symbolic links are recreated as links
 * (their target is the entry's data). Entries from other systems become 0644
 * files. Directories are always 0755 (layer_fs.c). A file that not everyone
 * may read (0600, 0000, 0700) is made readable by all (and executable by all
 * when its owner may execute it), with one warning per archive: Lambda runs
 * the function as a user that does not own the files, so there it could not
 * read them; lb runs it as its own user, where it could, and says so instead.
 */
#include "lambda/layer_zip.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "base/log.h"
#include "base/zip_dir.h"
#include "lambda/layer_fs.h"

#define SIG_LOCAL 0x04034b50u
#define LOCAL_SIZE 30
#define HOST_UNIX 3           /* "version made by" hosts whose attributes hold a mode */
#define HOST_OSX 19
#define FLAG_ENCRYPTED 0x0001
#define METHOD_STORED 0
#define METHOD_DEFLATED 8
#define CHUNK (64 * 1024)

struct zip {
	const uint8_t *p;         /* the mapped archive */
	size_t n;
	unsigned unreadable;      /* files not readable by everyone, made readable */
	char first[128];          /* the first of them, and its mode: for the warning */
};

/* A central directory entry, with its name cleaned (layer_fs_clean). */
struct zip_entry {
	struct zip_dir_entry d;
	char name[PATH_MAX];
};

/* Where an entry's bytes go: a file, or memory (a link's target). */
struct sink {
	int fd;                   /* -1: mem */
	char *mem;
	size_t cap, len;
	uint64_t total, limit;    /* bytes so far; the entry's declared size */
	uLong crc;
};

static int damaged(struct lb_err *err, const char *what)
{
	return lb_err_set(err, "damaged zip archive (%s)", what);
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
	const uint8_t *local = z->p + e->d.offset;
	uint64_t start;

	if (e->d.offset > z->n || z->n - e->d.offset < LOCAL_SIZE || zip_le32(local) != SIG_LOCAL)
		return damaged(err, "local header out of place");
	start = e->d.offset + LOCAL_SIZE + zip_le16(local + 26) + zip_le16(local + 28);
	if (start > z->n || e->d.csize > z->n - start)
		return damaged(err, "entry data out of bounds");
	s->crc = crc32(0, Z_NULL, 0);
	s->limit = e->d.usize;
	if (e->d.method == METHOD_STORED) {
		for (uint64_t done = 0; done < e->d.csize;) {
			size_t n = e->d.csize - done > CHUNK ? CHUNK : (size_t)(e->d.csize - done);

			if (sink_put(s, z->p + start + done, n, e, err))
				return -1;
			done += n;
		}
	} else if (e->d.method == METHOD_DEFLATED) {
		if (inflate_raw(z->p + start, e->d.csize, s, e, err))
			return -1;
	} else {
		return lb_err_set(err, "entry '%s' uses compression method %u (only stored and deflated "
				  "are supported)", e->name, e->d.method);
	}
	if (s->total != e->d.usize || s->crc != e->d.crc)
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

/*
 * The mode a file entry gets. Why: Lambda runs functions as a user that is
 * not the owner of /var/task's and /opt's files, so a file only its owner may
 * read fails there (EACCES); lb gives everyone the owner's read and execute
 * bits and counts the file for a warning.
 */
static mode_t file_mode(struct zip *z, const struct zip_entry *e, bool has_mode, mode_t mode)
{
	mode_t perm = mode & 0777;

	if (!has_mode)
		return 0644;
	if ((perm & 0444) == 0444)
		return perm;
	if (z->unreadable++ == 0)
		snprintf(z->first, sizeof(z->first), "'%.100s', mode %04o", e->name, (unsigned)perm);
	return perm | 0444 | (perm & 0100 ? 0111 : 0);
}

static int extract_entry(struct zip *z, struct zip_entry *e, const char *dir, struct lb_err *err)
{
	unsigned host = e->d.made_by >> 8;
	mode_t mode = host == HOST_UNIX || host == HOST_OSX ? (mode_t)(e->d.attrs >> 16) : 0;
	bool is_dir = (e->d.name_len > 0 && e->d.name[e->d.name_len - 1] == '/') || S_ISDIR(mode);
	char path[PATH_MAX];

	/* Why: extracting "../x" or "/x" would write outside /opt (zip slip); refused. */
	if (layer_fs_clean(e->d.name, e->d.name_len, e->name, sizeof(e->name)) != 0)
		return lb_err_set(err, "entry '%.*s' is refused: absolute paths and '..' are not allowed",
				  (int)(e->d.name_len > 200 ? 200 : e->d.name_len), e->d.name);
	if (!e->name[0])
		return 0;   /* the root itself: "./" */
	if (e->d.flags & FLAG_ENCRYPTED)
		return lb_err_set(err, "entry '%s' is encrypted", e->name);
	if (is_dir)
		return layer_fs_place(dir, e->name, LAYER_DIR, path, sizeof(path), err);
	if (S_ISLNK(mode))
		return extract_link(z, e, dir, err);
	return extract_file(z, e, dir, file_mode(z, e, host == HOST_UNIX || host == HOST_OSX, mode), err);
}

/*
 * Why: Lambda refuses code and layers whose unzipped size passes 262144000
 * bytes. Every entry's declared size is taken from *room before anything is
 * written, so a zip bomb is refused up front instead of filling the disk
 * (entry_read never writes more than an entry declares).
 */
static int take_room(struct zip_dir dir, uint64_t *room, struct lb_err *err)
{
	struct zip_dir_entry e;
	uint64_t total = 0;
	int rc;

	while ((rc = zip_dir_next(&dir, &e, err)) == 1)
		total = e.usize > UINT64_MAX - total ? UINT64_MAX : total + e.usize;
	if (rc < 0)
		return -1;
	if (total > *room)
		return lb_err_set(err, "its entries unzip to %llu bytes, more than the %llu left of "
				  "Lambda's limit of %llu bytes (250 MB) for a function's code and layers",
				  (unsigned long long)total, (unsigned long long)*room,
				  (unsigned long long)LAYER_UNZIPPED_MAX);
	*room -= total;
	return 0;
}

static int extract_all(struct zip *z, const char *dir, uint64_t *room, struct lb_err *err)
{
	struct zip_dir cd;
	struct zip_entry e;
	int rc;

	if (zip_dir_open(&cd, z->p, z->n, err) || take_room(cd, room, err))
		return -1;
	while ((rc = zip_dir_next(&cd, &e.d, err)) == 1)
		if (extract_entry(z, &e, dir, err))
			return -1;
	return rc;
}

int layer_zip_extract(const char *zip_path, const char *dir, uint64_t *room, struct lb_err *err)
{
	struct zip z = { NULL, 0, 0, "" };
	int rc;

	if (zip_dir_map(zip_path, &z.p, &z.n, err))
		return -1;
	rc = extract_all(&z, dir, room, err);
	if (rc == 0 && z.unreadable)
		log_warn("'%s': %u file%s not readable by everyone (the first: %s): extracted readable by "
			 "all, but Lambda runs functions as a user that does not own %s, so reading %s fails "
			 "there (zip with mode 644, or 755 for programs)", zip_path, z.unreadable,
			 z.unreadable == 1 ? "" : "s", z.first, z.unreadable == 1 ? "it" : "them",
			 z.unreadable == 1 ? "it" : "them");
	zip_dir_unmap(z.p, z.n);
	return rc;
}
