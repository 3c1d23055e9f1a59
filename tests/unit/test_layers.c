/*
 * Unit tests for layers (layers.c, layer_zip.c, layer_fs.c): merging
 * directory and .zip layers in order into a directory, the zip rules
 * (modes, links, ZIP64, refused paths, damaged archives), the merged
 * directories' lifetimes and the environment Lambda sets for layers.
 *
 * Everything happens under one temporary directory (TMPDIR is pointed there,
 * so layers_acquire's own temporary directory lands in it too). Zip files
 * are written by a small builder below, with zlib's deflate.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "base/buf.h"
#include "lambda/layer_fs.h"
#include "lambda/layers.h"
#include "le_put.h"
#include "test.h"

static char fixture[] = "/tmp/lb-test-layers-XXXXXX";
static struct lb_err err;
static int serial;

/* --- files ------------------------------------------------------------------------ */

static const char *at(const char *rel)
{
	static char paths[8][4096];
	static int next;
	char *p = paths[next++ % 8];

	snprintf(p, 4096, "%s/%s", fixture, rel);
	return p;
}

static void mkdirs(const char *path)
{
	char tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *s = tmp + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(tmp, 0755);
			*s = '/';
		}
	}
	mkdir(tmp, 0755);
}

/* Writes text at dir/rel (parents created) with mode. */
static void put(const char *dir, const char *rel, const char *text, mode_t mode)
{
	char path[4096], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	mkdirs(path);
	*slash = '/';
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* The content of dir/rel, or "(missing)". */
static const char *get(const char *dir, const char *rel)
{
	static char text[4096];
	char path[4096];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if (!(f = fopen(path, "r")))
		return "(missing)";
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

static mode_t mode_of(const char *dir, const char *rel)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return lstat(path, &st) == 0 ? st.st_mode : 0;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* A new empty directory under the fixture. */
static const char *fresh_dir(const char *prefix)
{
	char rel[64];
	const char *p;

	snprintf(rel, sizeof(rel), "%s%d", prefix, ++serial);
	p = at(rel);
	mkdirs(p);
	return p;
}

/* --- a zip writer ------------------------------------------------------------------- */

struct zentry {
	const char *name;
	const char *data;     /* a link's target for S_IFLNK */
	unsigned mode;        /* with type bits; 0: no mode (DOS host) */
	bool deflate;
};

static size_t deflate_raw(const char *in, size_t n, unsigned char *out, size_t cap)
{
	z_stream zs;

	memset(&zs, 0, sizeof(zs));
	deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)n;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	deflate(&zs, Z_FINISH);
	deflateEnd(&zs);
	return cap - zs.avail_out;
}

/* Writes a zip archive of n entries at path; zip64 puts sizes, offsets and the
 * entry count in ZIP64 records. bad_crc spoils the first entry's CRC-32. */
static const char *zip_write(const char *name, const struct zentry *e, size_t n, bool zip64,
			     bool bad_crc)
{
	struct buf b = BUF_INIT, cd = BUF_INIT;
	const char *path = at(name);
	uint64_t cd_at;
	FILE *f;

	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(e[i].data ? e[i].data : ""), nlen = strlen(e[i].name), clen = len;
		unsigned char packed[8192];
		const void *data = e[i].data ? e[i].data : "";
		uint32_t crc = (uint32_t)crc32(0, data, (uInt)len) ^ (bad_crc && i == 0 ? 1 : 0);
		uint64_t offset = b.len;

		if (e[i].deflate) {
			clen = deflate_raw(data, len, packed, sizeof(packed));
			data = packed;
		}
		put32(&b, 0x04034b50);
		put16(&b, 20);
		put16(&b, 0);
		put16(&b, e[i].deflate ? 8 : 0);
		put16(&b, 0);
		put16(&b, 0x21);
		put32(&b, crc);
		put32(&b, (uint32_t)clen);
		put32(&b, (uint32_t)len);
		put16(&b, (unsigned)nlen);
		put16(&b, 0);
		buf_append(&b, e[i].name, nlen);
		buf_append(&b, data, clen);

		put32(&cd, 0x02014b50);
		put16(&cd, (e[i].mode ? 3u << 8 : 0) | 30);
		put16(&cd, zip64 ? 45 : 20);
		put16(&cd, 0);
		put16(&cd, e[i].deflate ? 8 : 0);
		put16(&cd, 0);
		put16(&cd, 0x21);
		put32(&cd, crc);
		put32(&cd, zip64 ? 0xffffffff : (uint32_t)clen);
		put32(&cd, zip64 ? 0xffffffff : (uint32_t)len);
		put16(&cd, (unsigned)nlen);
		put16(&cd, zip64 ? 28 : 0);
		put16(&cd, 0);
		put16(&cd, 0);
		put16(&cd, 0);
		put32(&cd, (uint32_t)e[i].mode << 16);
		put32(&cd, zip64 ? 0xffffffff : (uint32_t)offset);
		buf_append(&cd, e[i].name, nlen);
		if (zip64) {
			put16(&cd, 1);
			put16(&cd, 24);
			put64(&cd, len);
			put64(&cd, clen);
			put64(&cd, offset);
		}
	}
	cd_at = b.len;
	buf_append(&b, cd.p, cd.len);
	if (zip64) {
		uint64_t end64 = b.len;

		put32(&b, 0x06064b50);
		put64(&b, 44);
		put16(&b, 45);
		put16(&b, 45);
		put32(&b, 0);
		put32(&b, 0);
		put64(&b, n);
		put64(&b, n);
		put64(&b, cd.len);
		put64(&b, cd_at);
		put32(&b, 0x07064b50);
		put32(&b, 0);
		put64(&b, end64);
		put32(&b, 1);
	}
	put32(&b, 0x06054b50);
	put16(&b, 0);
	put16(&b, 0);
	put16(&b, zip64 ? 0xffff : (unsigned)n);
	put16(&b, zip64 ? 0xffff : (unsigned)n);
	put32(&b, zip64 ? 0xffffffff : (uint32_t)cd.len);
	put32(&b, zip64 ? 0xffffffff : (uint32_t)cd_at);
	put16(&b, 0);
	f = fopen(path, "wb");
	fwrite(b.p, 1, b.len, f);
	fclose(f);
	buf_release(&b);
	buf_release(&cd);
	return path;
}

/*
 * A zip of n entries "big/I" of size bytes of zeros each, deflated: one
 * sync-flushed chunk of 1 MB of zeros repeated (each chunk stands alone),
 * then an empty final block. A few hundred KB that unzip to n * size bytes.
 */
static const char *zip_zeros(const char *name, size_t n, uint32_t size)
{
	static unsigned char zeros[1 << 20];
	unsigned char chunk[8192];
	static const unsigned char final_block[] = { 1, 0, 0, 0xff, 0xff };
	struct buf b = BUF_INIT, cd = BUF_INIT, data = BUF_INIT;
	const char *path = at(name);
	uint32_t crc = (uint32_t)crc32(0, NULL, 0);
	size_t clen, cd_len;
	z_stream zs;
	FILE *f;

	memset(&zs, 0, sizeof(zs));
	deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	zs.next_in = zeros;
	zs.avail_in = sizeof(zeros);
	zs.next_out = chunk;
	zs.avail_out = sizeof(chunk);
	deflate(&zs, Z_SYNC_FLUSH);
	clen = sizeof(chunk) - zs.avail_out;
	deflateEnd(&zs);
	for (uint32_t done = 0; done < size; done += sizeof(zeros)) {
		buf_append(&data, chunk, clen);
		crc = (uint32_t)crc32(crc, zeros, sizeof(zeros));
	}
	buf_append(&data, final_block, sizeof(final_block));
	for (size_t i = 0; i < n; i++) {
		char entry[32];
		uint64_t offset = b.len;
		size_t nlen = (size_t)snprintf(entry, sizeof(entry), "big/%zu", i);

		put32(&b, 0x04034b50);
		put16(&b, 20);
		put16(&b, 0);
		put16(&b, 8);
		put16(&b, 0);
		put16(&b, 0x21);
		put32(&b, crc);
		put32(&b, (uint32_t)data.len);
		put32(&b, size);
		put16(&b, (unsigned)nlen);
		put16(&b, 0);
		buf_append(&b, entry, nlen);
		buf_append(&b, data.p, data.len);
		put32(&cd, 0x02014b50);
		put16(&cd, 3u << 8 | 30);
		put16(&cd, 20);
		put16(&cd, 0);
		put16(&cd, 8);
		put16(&cd, 0);
		put16(&cd, 0x21);
		put32(&cd, crc);
		put32(&cd, (uint32_t)data.len);
		put32(&cd, size);
		put16(&cd, (unsigned)nlen);
		put16(&cd, 0);
		put16(&cd, 0);
		put16(&cd, 0);
		put16(&cd, 0);
		put32(&cd, (uint32_t)(S_IFREG | 0644) << 16);
		put32(&cd, (uint32_t)offset);
		buf_append(&cd, entry, nlen);
	}
	cd_len = cd.len;
	put32(&cd, 0x06054b50);
	put16(&cd, 0);
	put16(&cd, 0);
	put16(&cd, (unsigned)n);
	put16(&cd, (unsigned)n);
	put32(&cd, (uint32_t)cd_len);
	put32(&cd, (uint32_t)b.len);
	put16(&cd, 0);
	f = fopen(path, "wb");
	fwrite(b.p, 1, b.len, f);
	fwrite(cd.p, 1, cd.len, f);
	fclose(f);
	buf_release(&b);
	buf_release(&cd);
	buf_release(&data);
	return path;
}

static int merge(const char *dest, const char *a, const char *b)
{
	const char *paths[] = { a, b };

	err.msg[0] = '\0';
	return layers_merge(dest, paths, b ? 2 : 1, &err);
}

/* --- merging directories ---------------------------------------------------------------- */

TEST(later_layer_file_replaces_earlier_and_directories_merge)
{
	const char *a = fresh_dir("a"), *b = fresh_dir("b"), *out = fresh_dir("out");

	put(a, "python/common.py", "A", 0644);
	put(a, "python/only_a.py", "only a", 0644);
	put(b, "python/common.py", "B", 0644);
	put(b, "nodejs/node_modules/x/index.js", "x", 0644);
	CHECK_INT(merge(out, a, b), 0);
	CHECK_STR(get(out, "python/common.py"), "B");
	CHECK_STR(get(out, "python/only_a.py"), "only a");
	CHECK_STR(get(out, "nodejs/node_modules/x/index.js"), "x");
}

TEST(layer_order_decides_which_file_wins)
{
	const char *a = fresh_dir("a"), *b = fresh_dir("b"), *out = fresh_dir("out");

	put(a, "lib/conf", "A", 0644);
	put(b, "lib/conf", "B", 0644);
	CHECK_INT(merge(out, b, a), 0);
	CHECK_STR(get(out, "lib/conf"), "A");
}

TEST(directory_layer_files_are_copies_with_their_mode)
{
	const char *a = fresh_dir("a"), *out = fresh_dir("out");
	char path[4096];
	FILE *f;

	put(a, "bin/tool", "#!/bin/sh\necho tool\n", 0755);
	put(a, "data.txt", "original", 0640);
	CHECK_INT(merge(out, a, NULL), 0);
	CHECK(S_ISREG(mode_of(out, "bin/tool")));
	CHECK_INT(mode_of(out, "bin/tool") & 0777, 0755);
	CHECK_INT(mode_of(out, "data.txt") & 0777, 0640);
	/* Writing the merged copy leaves the layer alone, as /opt is read-only in Lambda. */
	snprintf(path, sizeof(path), "%s/data.txt", out);
	f = fopen(path, "w");
	fputs("changed", f);
	fclose(f);
	CHECK_STR(get(a, "data.txt"), "original");
}

TEST(links_in_a_directory_layer_stay_links)
{
	const char *a = fresh_dir("a"), *out = fresh_dir("out");
	char path[4096], target[256];
	ssize_t n;

	put(a, "lib/libx.so.1", "elf", 0644);
	snprintf(path, sizeof(path), "%s/lib/libx.so", a);
	CHECK_INT(symlink("libx.so.1", path), 0);
	CHECK_INT(merge(out, a, NULL), 0);
	CHECK(S_ISLNK(mode_of(out, "lib/libx.so")));
	snprintf(path, sizeof(path), "%s/lib/libx.so", out);
	n = readlink(path, target, sizeof(target) - 1);
	CHECK_INT(n, 9);
	target[n > 0 ? n : 0] = '\0';
	CHECK_STR(target, "libx.so.1");
	CHECK_STR(get(out, "lib/libx.so"), "elf");
}

TEST(later_directory_replaces_earlier_file_and_file_replaces_directory)
{
	const char *a = fresh_dir("a"), *b = fresh_dir("b"), *out = fresh_dir("out");

	put(a, "thing", "a file", 0644);
	put(a, "tree/deep/f", "in a tree", 0644);
	put(b, "thing/inside", "now a directory", 0644);
	put(b, "tree", "now a file", 0644);
	CHECK_INT(merge(out, a, b), 0);
	CHECK_STR(get(out, "thing/inside"), "now a directory");
	CHECK_STR(get(out, "tree"), "now a file");
}

TEST(missing_layer_names_the_layer)
{
	const char *out = fresh_dir("out"), *missing = at("no-such-layer");

	CHECK_INT(merge(out, missing, NULL), -1);
	CHECK(strstr(err.msg, "layer '") == err.msg);
	CHECK(strstr(err.msg, "no-such-layer': cannot access: No such file or directory") != NULL);
}

/* --- zip layers --------------------------------------------------------------------- */

TEST(zip_layer_extracts_files_directories_and_modes)
{
	static const struct zentry e[] = {
		{ "python/", NULL, S_IFDIR | 0755, false },
		{ "python/mod.py", "VALUE = 'zip'\n", S_IFREG | 0644, true },
		{ "bin/tool", "#!/bin/sh\necho from zip\n", S_IFREG | 0755, true },
		{ "./etc//conf", "stored", S_IFREG | 0600, false },
		{ "dos.txt", "no mode", 0, false },
	};
	const char *zip = zip_write("modes.zip", e, 5, false, false), *out = fresh_dir("out");

	CHECK_INT(merge(out, zip, NULL), 0);
	CHECK_STR(get(out, "python/mod.py"), "VALUE = 'zip'\n");
	CHECK_STR(get(out, "bin/tool"), "#!/bin/sh\necho from zip\n");
	CHECK_INT(mode_of(out, "bin/tool") & 0777, 0755);
	CHECK_INT(mode_of(out, "python/mod.py") & 0777, 0644);
	CHECK_STR(get(out, "etc/conf"), "stored");
	CHECK_INT(mode_of(out, "etc/conf") & 0777, 0644);     /* made readable: see below */
	CHECK_INT(mode_of(out, "dos.txt") & 0777, 0644);
	CHECK(S_ISDIR(mode_of(out, "python")));
}

/* Why: Lambda runs functions as a user that does not own the files: they must be world-readable. */
TEST(zip_files_only_their_owner_may_read_are_made_readable_by_all)
{
	static const struct zentry e[] = {
		{ "secret.py", "X = 1\n", S_IFREG | 0600, true },
		{ "nothing.txt", "none", S_IFREG | 0000, false },
		{ "bin/run", "#!/bin/sh\n", S_IFREG | 0700, false },
		{ "group.txt", "g", S_IFREG | 0640, false },
		{ "wide.txt", "w", S_IFREG | 0664, false },
	};
	const char *zip = zip_write("private.zip", e, 5, false, false), *out = fresh_dir("out");

	CHECK_INT(merge(out, zip, NULL), 0);
	CHECK_INT(mode_of(out, "secret.py") & 0777, 0644);
	CHECK_INT(mode_of(out, "nothing.txt") & 0777, 0444);
	CHECK_INT(mode_of(out, "bin/run") & 0777, 0755);     /* its owner could run it: everyone can */
	CHECK_INT(mode_of(out, "group.txt") & 0777, 0644);
	CHECK_INT(mode_of(out, "wide.txt") & 0777, 0664);    /* readable already: kept as it is */
	CHECK_STR(get(out, "secret.py"), "X = 1\n");
}

TEST(zip64_records_are_read)
{
	static const struct zentry e[] = {
		{ "python/big.py", "X = 64\n", S_IFREG | 0644, true },
		{ "bin/run", "#!/bin/sh\n", S_IFREG | 0755, false },
	};
	const char *zip = zip_write("zip64.zip", e, 2, true, false), *out = fresh_dir("out");

	CHECK_INT(merge(out, zip, NULL), 0);
	CHECK_STR(get(out, "python/big.py"), "X = 64\n");
	CHECK_INT(mode_of(out, "bin/run") & 0777, 0755);
}

TEST(zip_links_are_links)
{
	static const struct zentry e[] = {
		{ "lib/libz.so.1", "elf", S_IFREG | 0644, false },
		{ "lib/libz.so", "libz.so.1", S_IFLNK | 0777, false },
	};
	const char *zip = zip_write("links.zip", e, 2, false, false), *out = fresh_dir("out");

	CHECK_INT(merge(out, zip, NULL), 0);
	CHECK(S_ISLNK(mode_of(out, "lib/libz.so")));
	CHECK_STR(get(out, "lib/libz.so"), "elf");
}

TEST(zip_entry_with_dotdot_is_refused_and_nothing_escapes)
{
	static const struct zentry e[] = {
		{ "python/ok.py", "ok", S_IFREG | 0644, false },
		{ "python/../../escaped", "evil", S_IFREG | 0644, false },
	};
	const char *zip = zip_write("slip.zip", e, 2, false, false), *out = fresh_dir("out");
	char expect[4200];

	CHECK_INT(merge(out, zip, NULL), -1);
	snprintf(expect, sizeof(expect),
		 "layer '%s': entry 'python/../../escaped' is refused: absolute paths and '..' are "
		 "not allowed", zip);
	CHECK_STR(err.msg, expect);
	CHECK(!exists(at("escaped")));
}

TEST(zip_entry_with_absolute_path_is_refused)
{
	char name[4200];
	struct zentry e[] = { { name, "evil", S_IFREG | 0644, false } };
	const char *zip, *out = fresh_dir("out");

	snprintf(name, sizeof(name), "%s", at("absolute-escape"));
	zip = zip_write("absolute.zip", e, 1, false, false);
	CHECK_INT(merge(out, zip, NULL), -1);
	CHECK(strstr(err.msg, "is refused: absolute paths and '..' are not allowed") != NULL);
	CHECK(!exists(name));
}

TEST(zip_entry_never_writes_through_an_earlier_link)
{
	const char *outside = fresh_dir("outside"), *out = fresh_dir("out");
	struct zentry e[] = {
		{ "python", outside, S_IFLNK | 0777, false },
		{ "python/planted.py", "evil", S_IFREG | 0644, false },
	};
	const char *zip = zip_write("through-link.zip", e, 2, false, false);

	CHECK_INT(merge(out, zip, NULL), 0);
	/* The later entry replaced the link with a directory inside the layer. */
	CHECK(S_ISDIR(mode_of(out, "python")));
	CHECK_STR(get(out, "python/planted.py"), "evil");
	CHECK_STR(get(outside, "planted.py"), "(missing)");
}

TEST(zip_layer_overrides_directory_layer_and_back)
{
	static const struct zentry e[] = { { "python/shared.py", "NAME = 'zip'\n", S_IFREG | 0644, true } };
	const char *dir = fresh_dir("a"), *zip = zip_write("override.zip", e, 1, false, false);
	const char *out1 = fresh_dir("out"), *out2 = fresh_dir("out");

	put(dir, "python/shared.py", "NAME = 'dir'\n", 0644);
	CHECK_INT(merge(out1, dir, zip), 0);
	CHECK_STR(get(out1, "python/shared.py"), "NAME = 'zip'\n");
	CHECK_INT(merge(out2, zip, dir), 0);
	CHECK_STR(get(out2, "python/shared.py"), "NAME = 'dir'\n");
}

/* Why: Lambda refuses layers that unzip to more than 262144000 bytes (250 MB). */
TEST(zip_bomb_is_refused_before_anything_is_written)
{
	const char *bomb = zip_zeros("bomb.zip", 3, 100u << 20), *out = fresh_dir("out");
	struct stat st;

	stat(bomb, &st);
	CHECK(st.st_size < 1 << 20);              /* under 1 MB on disk, 300 MB unzipped */
	CHECK_INT(merge(out, bomb, NULL), -1);
	CHECK(strstr(err.msg, "bomb.zip': its entries unzip to 314572800 bytes, more than the "
			      "262144000 left of Lambda's limit of 262144000 bytes (250 MB)") != NULL);
	CHECK(mode_of(out, "big") == 0);       /* refused up front: nothing written */
}

TEST(layers_share_the_unzipped_limit)
{
	const char *dir = fresh_dir("dirlayer"), *out = fresh_dir("out"), *out2 = fresh_dir("out");
	const char *rest = zip_zeros("rest.zip", 1, 100u << 20);
	char big[4096];
	int fd;

	/* 200 MB in a directory layer and a zip of 100 MB: each fits, not both. */
	snprintf(big, sizeof(big), "%s/blob", dir);
	fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0 && ftruncate(fd, 200 << 20) == 0);
	close(fd);
	CHECK_INT(merge(out, dir, rest), -1);
	CHECK(strstr(err.msg, "rest.zip': its entries unzip to 104857600 bytes, more than the "
			      "52428800 left of Lambda's limit") != NULL);
	CHECK(mode_of(out, "big") == 0);
	/* The directory layer's own files count too. */
	CHECK_INT(merge(out2, rest, dir), -1);
	CHECK(strstr(err.msg, "/blob' takes 209715200 bytes, more than the 157286400 left of "
			      "Lambda's limit of 262144000 bytes (250 MB)") != NULL);
}

TEST(damaged_zip_and_non_zip_fail_with_a_reason)
{
	static const struct zentry e[] = { { "python/x.py", "x = 1\n", S_IFREG | 0644, true } };
	const char *bad = zip_write("badcrc.zip", e, 1, false, true), *out = fresh_dir("out");
	const char *junk = at("junk.zip");
	FILE *f = fopen(junk, "w");

	fputs("this is not a zip archive, just some text long enough", f);
	fclose(f);
	CHECK_INT(merge(out, bad, NULL), -1);
	CHECK(strstr(err.msg, "entry 'python/x.py' is damaged (size or CRC-32 mismatch)") != NULL);
	CHECK_INT(merge(out, junk, NULL), -1);
	CHECK(strstr(err.msg, "junk.zip': not a zip archive (no end of central directory record)") !=
	      NULL);
}

/* --- links leading out of /opt -------------------------------------------------------- */

static void link_at(const char *dir, const char *rel, const char *target)
{
	char path[4096], *slash;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	mkdirs(path);
	*slash = '/';
	if (symlink(target, path) != 0) {
		perror(path);
		exit(1);
	}
}

/* dir/rel, in one of a few rotating buffers. */
static const char *at_in(const char *dir, const char *rel)
{
	static char paths[4][4096];
	static int next;
	char *p = paths[next++ % 4];

	snprintf(p, 4096, "%s/%s", dir, rel);
	return p;
}

/* The target of the link dir/rel, or "(no link)". */
static const char *link_of(const char *dir, const char *rel)
{
	static char target[4096];
	char path[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	if ((n = readlink(path, target, sizeof(target) - 1)) < 0)
		return "(no link)";
	target[n] = '\0';
	return target;
}

/* How many links under dir lead outside it (the kernel resolving them where dir is). */
static int links_leading_out(const char *dir)
{
	char *real = realpath(dir, NULL), cmd[4200], line[4096];
	size_t n = strlen(real);
	int out = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "find '%s' -type l", dir);
	f = popen(cmd, "r");
	while (fgets(line, sizeof(line), f)) {
		char *to;

		line[strcspn(line, "\n")] = '\0';
		if ((to = realpath(line, NULL)) != NULL && !(strncmp(to, real, n) == 0 && (to[n] == '/' || !to[n]))) {
			fprintf(stderr, "# '%s' leads to '%s'\n", line, to);
			out++;
		}
		free(to);
	}
	pclose(f);
	free(real);
	return out;
}

/* Runs merge with stderr going to a buffer: lb's warnings, in text. */
static int merge_logged(const char *dest, const char *a, const char *b, char *text, size_t size)
{
	int saved = dup(2), fd = open(at("stderr.txt"), O_RDWR | O_CREAT | O_TRUNC, 0600), rc;
	ssize_t n;

	fflush(stderr);
	dup2(fd, 2);
	rc = merge(dest, a, b);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, text, size - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	close(fd);
	return rc;
}

TEST(links_climbing_out_of_opt_are_not_kept_from_a_directory_layer)
{
	const char *a = fresh_dir("a"), *out = fresh_dir("out");
	char text[4096];

	put(a, "lib/libx.so.1", "elf", 0644);
	link_at(a, "lib/libx.so", "libx.so.1");                  /* inside: kept as written */
	link_at(a, "nodejs/node_modules/shared", "../../../packages/shared");  /* a monorepo's */
	link_at(a, "python/etc", "/etc");                        /* the system's: kept */
	link_at(a, "bin/x", "/opt/lib/libx.so");                 /* Lambda's /opt: made relative */
	link_at(a, "self", ".");
	link_at(a, "through", "self/../passwd");                 /* self is the root: ".." leaves it */
	link_at(a, "loop", "loop");                              /* leads nowhere, inside */
	CHECK_INT(merge_logged(out, a, NULL, text, sizeof(text)), 0);
	CHECK_STR(link_of(out, "lib/libx.so"), "libx.so.1");
	CHECK_STR(get(out, "lib/libx.so"), "elf");
	CHECK_STR(link_of(out, "bin/x"), "../lib/libx.so");
	CHECK_STR(get(out, "bin/x"), "elf");
	CHECK_STR(link_of(out, "self"), ".");
	CHECK_STR(link_of(out, "loop"), "loop");
	CHECK(!exists(at_in(out, "nodejs/node_modules/shared")));
	CHECK_STR(link_of(out, "python/etc"), "/etc");
	CHECK(!exists(at_in(out, "through")));
	CHECK(S_ISDIR(mode_of(out, "nodejs/node_modules")));    /* the directories stay */
	CHECK_INT(links_leading_out(out), 1);                    /* python/etc alone */
	CHECK(strstr(text, "lb: warning: layer '") != NULL);
	CHECK(strstr(text, "': 2 links climbing out of /opt with '..' not kept (the first: '") != NULL);
	CHECK(strstr(text, "'): lb's /opt is a directory of its own, where such a link would reach lb's files, not what it "
			   "reaches on Lambda\n") != NULL);
	/* The layer itself is left as it was. */
	CHECK_STR(link_of(a, "python/etc"), "/etc");
}

TEST(links_climbing_out_of_opt_are_not_kept_from_a_zip_layer_nor_after_a_later_layer)
{
	static const struct zentry e[] = {
		{ "lib/libz.so.1", "elf", S_IFREG | 0644, false },
		{ "lib/libz.so", "libz.so.1", S_IFLNK | 0777, false },
		{ "lib/up", "../../..", S_IFLNK | 0777, false },
		{ "bin/z", "/opt/lib/libz.so.1", S_IFLNK | 0777, false },
		{ "opt", "/opt", S_IFLNK | 0777, false },
		{ "task", "/var/task", S_IFLNK | 0777, false },
	};
	static const struct zentry later[] = {
		{ "r", ".", S_IFLNK | 0777, false },             /* r, a directory below, becomes the root */
	};
	const char *zip = zip_write("out-links.zip", e, 6, false, false), *out = fresh_dir("out");
	const char *b = zip_write("later-links.zip", later, 1, false, false), *a = fresh_dir("a");
	const char *out2 = fresh_dir("out");
	char text[4096], want[4200];

	CHECK_INT(merge_logged(out, zip, NULL, text, sizeof(text)), 0);
	CHECK_STR(link_of(out, "lib/libz.so"), "libz.so.1");
	CHECK_STR(link_of(out, "bin/z"), "../lib/libz.so.1");
	CHECK_STR(link_of(out, "opt"), ".");
	CHECK(!exists(at_in(out, "lib/up")));
	CHECK_STR(link_of(out, "task"), "/var/task");           /* absolute elsewhere: as written */
	snprintf(want, sizeof(want), "lb: warning: layer '%s': 1 link climbing out of /opt with '..' not kept (the first: ", zip);
	CHECK(strstr(text, want) != NULL);

	/* A link of one layer that leads inside until a later layer makes r the root. */
	put(a, "r/keep.txt", "k", 0644);
	link_at(a, "a", "r/../x");
	CHECK_INT(merge_logged(out2, a, b, text, sizeof(text)), 0);
	CHECK(!exists(at_in(out2, "a")));
	CHECK_STR(link_of(out2, "r"), ".");
	CHECK_INT(links_leading_out(out2), 0);
	snprintf(want, sizeof(want), "lb: warning: layer '%s': 1 link climbing out of /opt with '..' not kept (the first: "
		 "'a' -> 'r/../x'): lb's /opt is a directory of its own, where such a link would reach lb's files, not "
		 "what it reaches on Lambda\n", b);
	CHECK_STR(text, want);
}

TEST(clean_paths)
{
	char out[64];

	CHECK_INT(layer_fs_clean("a//./b/", 7, out, sizeof(out)), 0);
	CHECK_STR(out, "a/b");
	CHECK_INT(layer_fs_clean("./", 2, out, sizeof(out)), 0);
	CHECK_STR(out, "");
	CHECK_INT(layer_fs_clean("a/..b", 5, out, sizeof(out)), 0);
	CHECK_STR(out, "a/..b");
	CHECK_INT(layer_fs_clean("..", 2, out, sizeof(out)), -1);
	CHECK_INT(layer_fs_clean("a/../b", 6, out, sizeof(out)), -1);
	CHECK_INT(layer_fs_clean("/etc/passwd", 11, out, sizeof(out)), -1);
	CHECK_INT(layer_fs_clean("a\0b", 3, out, sizeof(out)), -1);
}

/* --- merged directories and their lifetimes --------------------------------------------- */

static struct config *fake_config(void)
{
	struct config *cfg = calloc(1, sizeof(*cfg));

	cfg->refs = 1;
	return cfg;
}

TEST(merged_directory_is_built_once_reused_and_removed_with_its_configuration)
{
	const char *a = fresh_dir("a"), *b = fresh_dir("b");
	const char *paths[] = { a, b };
	struct function_settings s = { .runtime = "python3.12", .nlayers = 2, .layers = paths };
	struct config *cfg1 = fake_config(), *cfg2 = fake_config();
	struct layers *ls = layers_new();
	struct layer_dir *d1, *d2, *d3;
	char path1[4096], root[4096];

	put(a, "python/m.py", "A", 0644);
	put(b, "python/m.py", "B", 0644);
	layers_set_config(ls, cfg1);
	d1 = layers_acquire(ls, cfg1, "api", "$LATEST", &s, &err);
	CHECK(d1 != NULL);
	if (!d1)
		return;
	snprintf(path1, sizeof(path1), "%s", layer_dir_path(d1));
	snprintf(root, sizeof(root), "%s", path1);
	*strrchr(root, '/') = '\0';
	CHECK(strncmp(root, fixture, strlen(fixture)) == 0);   /* under $TMPDIR */
	CHECK(strstr(path1, "-api-latest") != NULL);
	CHECK_STR(get(path1, "python/m.py"), "B");
	d2 = layers_acquire(ls, cfg1, "api", "$LATEST", &s, &err);
	CHECK(d2 == d1);
	layers_release(d2);
	layers_release(d1);
	CHECK(exists(path1));              /* still the configuration in force: kept for reuse */
	/* A reload: the unused directory of the old configuration goes at once. */
	layers_set_config(ls, cfg2);
	CHECK(!exists(path1));
	d3 = layers_acquire(ls, cfg2, "api", "3", &s, &err);
	CHECK(d3 != NULL);
	if (d3) {
		CHECK(strstr(layer_dir_path(d3), "-api-3") != NULL);
		snprintf(path1, sizeof(path1), "%s", layer_dir_path(d3));
		layers_set_config(ls, cfg1);   /* d3 is in use: it stays until released */
		CHECK(exists(path1));
		layers_release(d3);
		CHECK(!exists(path1));
	}
	layers_free(ls);
	CHECK(!exists(root));
	CHECK_INT(cfg1->refs, 1);
	CHECK_INT(cfg2->refs, 1);
	free(cfg1);
	free(cfg2);
}

TEST(failed_build_leaves_nothing_and_is_tried_again)
{
	static const struct zentry bad[] = { { "../x", "x", S_IFREG | 0644, false } };
	static const struct zentry good[] = { { "python/x.py", "x", S_IFREG | 0644, false } };
	const char *zip = zip_write("retry.zip", bad, 1, false, false);
	const char *paths[] = { zip };
	struct function_settings s = { .runtime = "nodejs20.x", .nlayers = 1, .layers = paths };
	struct config *cfg = fake_config();
	struct layers *ls = layers_new();
	struct layer_dir *d;

	layers_set_config(ls, cfg);
	CHECK(layers_acquire(ls, cfg, "fn", "1", &s, &err) == NULL);
	CHECK(strstr(err.msg, "entry '../x' is refused") != NULL);
	CHECK_INT(cfg->refs, 1);
	zip_write("retry.zip", good, 1, false, false);
	d = layers_acquire(ls, cfg, "fn", "1", &s, &err);
	CHECK(d != NULL);
	if (d)
		CHECK_STR(get(layer_dir_path(d), "python/x.py"), "x");
	layers_release(d);
	layers_free(ls);
	CHECK_INT(cfg->refs, 1);
	free(cfg);
}

TEST(no_layers_means_no_temporary_directory)
{
	struct layers *ls = layers_new();
	char before[4096];
	int n = 0;
	FILE *p;

	/* Nothing is created until a merged directory is needed. */
	snprintf(before, sizeof(before), "ls -d %s/lb-layers-* 2>/dev/null | wc -l", fixture);
	layers_set_config(ls, NULL);
	p = popen(before, "r");
	if (p) {
		if (fscanf(p, "%d", &n) != 1)
			n = -1;
		pclose(p);
	}
	CHECK_INT(n, 0);
	layers_free(ls);
}

/* --- a function's .zip code ---------------------------------------------------------------- */

/* The entries of dir, one name each, sorted, joined by spaces ("" when empty). */
static const char *listing(const char *dir)
{
	static char out[4096];
	char cmd[4200];
	FILE *p;
	size_t n = 0;

	snprintf(cmd, sizeof(cmd), "ls -1 %s 2>/dev/null | sort | tr '\\n' ' '", dir);
	out[0] = '\0';
	if ((p = popen(cmd, "r"))) {
		n = fread(out, 1, sizeof(out) - 1, p);
		pclose(p);
	}
	out[n] = '\0';
	if (n && out[n - 1] == ' ')
		out[n - 1] = '\0';
	return out;
}

/* The one temporary directory ($TMPDIR/lb-layers-*) that exists now, or "(none)". */
static const char *layers_root(void)
{
	static char root[4096];
	glob_t g;

	snprintf(root, sizeof(root), "%s/lb-layers-*", fixture);
	if (glob(root, 0, NULL, &g) != 0 || g.gl_pathc != 1)
		snprintf(root, sizeof(root), "(none)");
	else
		snprintf(root, sizeof(root), "%s", g.gl_pathv[0]);
	globfree(&g);
	return root;
}

/* The temporary directory layers_acquire made, from one of its paths. */
static const char *root_of(const char *path)
{
	static char root[4096];

	snprintf(root, sizeof(root), "%s", path);
	*strrchr(root, '/') = '\0';
	return root;
}

TEST(only_layers_or_zip_code_need_unpacking)
{
	static const struct zentry e[] = { { "index.py", "x", S_IFREG | 0644, false } };
	const char *dir = fresh_dir("code"), *zip = zip_write("unpacks.zip", e, 1, false, false);
	const char *paths[] = { dir };
	struct function_settings s = { .runtime = "python3.12", .code = dir };

	CHECK(!layers_unpacks(&s));          /* a code directory runs where it is */
	s.code = zip;
	CHECK(layers_unpacks(&s));
	s.code = dir;
	s.nlayers = 1;
	s.layers = paths;
	CHECK(layers_unpacks(&s));
	s = (struct function_settings){ .image = "img.tar" };   /* an image: no code at all */
	CHECK(!layers_unpacks(&s));
}

/* Why: Lambda unzips a function's deployment package into /var/task, keeping modes. */
TEST(zip_code_is_extracted_into_a_task_root_beside_the_merged_layers)
{
	static const struct zentry code[] = {
		{ "bootstrap", "#!/bin/sh\n", S_IFREG | 0755, true },
		{ "lib/", NULL, S_IFDIR | 0755, false },
		{ "lib/mod.py", "VALUE = 1\n", S_IFREG | 0644, true },
	};
	const char *zip = zip_write("code.zip", code, 3, false, false), *layer = fresh_dir("a");
	const char *paths[] = { layer };
	struct function_settings s = { .runtime = "provided.al2023", .code = zip, .nlayers = 1,
				       .layers = paths };
	struct config *cfg1 = fake_config(), *cfg2 = fake_config();
	struct layers *ls = layers_new();
	struct layer_dir *d, *again;
	char task[4096], opt[4096], root[4096];

	put(layer, "bin/tool", "tool", 0755);
	layers_set_config(ls, cfg1);
	d = layers_acquire(ls, cfg1, "api", "$LATEST", &s, &err);
	CHECK(d != NULL);
	if (!d)
		return;
	CHECK(layer_dir_task(d) != NULL && layer_dir_path(d) != NULL);
	snprintf(task, sizeof(task), "%s", layer_dir_task(d));
	snprintf(opt, sizeof(opt), "%s", layer_dir_path(d));
	snprintf(root, sizeof(root), "%s", root_of(task));
	CHECK(strlen(task) > 16 && strcmp(task + strlen(task) - 16, "-api-latest-task") == 0);
	CHECK(strncmp(task, opt, strlen(opt)) == 0 && strcmp(task + strlen(opt), "-task") == 0);
	CHECK(strncmp(root, fixture, strlen(fixture)) == 0);          /* under $TMPDIR */
	CHECK_STR(get(task, "lib/mod.py"), "VALUE = 1\n");
	CHECK_INT(mode_of(task, "bootstrap") & 0777, 0755);         /* still executable */
	CHECK_STR(get(opt, "bin/tool"), "tool");
	again = layers_acquire(ls, cfg1, "api", "$LATEST", &s, &err);   /* extracted once */
	CHECK(again == d);
	layers_release(again);
	layers_release(d);
	CHECK(exists(task));              /* the configuration in force may start another sandbox */
	layers_set_config(ls, cfg2);      /* a reload: both go at once, unused */
	CHECK(!exists(task));
	CHECK(!exists(opt));
	CHECK_STR(listing(root), "");
	/* The new configuration extracts the zip again (it may have changed). */
	d = layers_acquire(ls, cfg2, "api", "$LATEST", &s, &err);
	CHECK(d != NULL);
	if (d)
		CHECK(strcmp(layer_dir_task(d), task) != 0);
	layers_release(d);
	layers_free(ls);
	CHECK(!exists(root));
	CHECK_INT(cfg1->refs, 1);
	CHECK_INT(cfg2->refs, 1);
	free(cfg1);
	free(cfg2);
}

TEST(zip_code_without_layers_has_no_merged_directory)
{
	static const struct zentry code[] = { { "index.py", "x = 1\n", S_IFREG | 0644, true } };
	const char *zip = zip_write("alone.zip", code, 1, false, false);
	struct function_settings s = { .runtime = "python3.12", .code = zip };
	struct config *cfg = fake_config();
	struct layers *ls = layers_new();
	struct layer_dir *d;

	layers_set_config(ls, cfg);
	d = layers_acquire(ls, cfg, "solo", "2", &s, &err);
	CHECK(d != NULL);
	if (d) {
		CHECK(layer_dir_path(d) == NULL);
		CHECK_STR(get(layer_dir_task(d), "index.py"), "x = 1\n");
		CHECK_STR(listing(root_of(layer_dir_task(d))), strrchr(layer_dir_task(d), '/') + 1);
	}
	layers_release(d);
	layers_free(ls);
	free(cfg);
}

/* Why: Lambda's 262144000 bytes unzipped cover a function's code and its layers together. */
TEST(zip_code_and_layers_share_the_unzipped_limit_and_a_failure_leaves_nothing)
{
	const char *half = zip_zeros("half.zip", 1, 150u << 20);
	const char *bomb = zip_zeros("code-bomb.zip", 3, 100u << 20);
	const char *paths[] = { half };
	struct function_settings s = { .runtime = "python3.12", .code = half, .nlayers = 1,
				       .layers = paths };
	struct config *cfg = fake_config();
	struct layers *ls = layers_new();
	char expect[4400];

	layers_set_config(ls, cfg);
	CHECK(layers_acquire(ls, cfg, "fn", "$LATEST", &s, &err) == NULL);
	snprintf(expect, sizeof(expect), "layer '%s': its entries unzip to 157286400 bytes, more than "
		 "the 104857600 left of Lambda's limit of 262144000 bytes (250 MB) for a function's "
		 "code and layers", half);
	CHECK_STR(err.msg, expect);
	s = (struct function_settings){ .runtime = "python3.12", .code = bomb };
	CHECK(layers_acquire(ls, cfg, "fn", "$LATEST", &s, &err) == NULL);
	snprintf(expect, sizeof(expect), "code '%s': its entries unzip to 314572800 bytes, more than "
		 "the 262144000 left of Lambda's limit of 262144000 bytes (250 MB) for a function's "
		 "code and layers", bomb);
	CHECK_STR(err.msg, expect);
	CHECK_INT(cfg->refs, 1);
	/* Neither build left anything: the extracted half of the first was removed. */
	CHECK_STR(listing(layers_root()), "");
	layers_free(ls);
	CHECK_STR(layers_root(), "(none)");
	free(cfg);
}

TEST(zip_code_with_an_entry_outside_is_refused_and_retried)
{
	static const struct zentry bad[] = {
		{ "index.py", "ok", S_IFREG | 0644, false },
		{ "../escaped.py", "evil", S_IFREG | 0644, false },
	};
	static const struct zentry good[] = { { "index.py", "fixed", S_IFREG | 0644, false } };
	const char *zip = zip_write("slip-code.zip", bad, 2, false, false);
	struct function_settings s = { .runtime = "python3.12", .code = zip };
	struct config *cfg = fake_config();
	struct layers *ls = layers_new();
	struct layer_dir *d;
	char expect[4300];

	layers_set_config(ls, cfg);
	CHECK(layers_acquire(ls, cfg, "fn", "1", &s, &err) == NULL);
	snprintf(expect, sizeof(expect), "code '%s': entry '../escaped.py' is refused: absolute paths "
		 "and '..' are not allowed", zip);
	CHECK_STR(err.msg, expect);
	CHECK_STR(listing(layers_root()), "");       /* nothing escaped, nothing kept */
	zip_write("slip-code.zip", good, 1, false, false);
	d = layers_acquire(ls, cfg, "fn", "1", &s, &err);   /* a failure is not kept: tried again */
	CHECK(d != NULL);
	if (d)
		CHECK_STR(get(layer_dir_task(d), "index.py"), "fixed");
	layers_release(d);
	layers_free(ls);
	free(cfg);
}

/* A configuration with one function, api, whose $LATEST runs the code zip. */
static struct config *config_with_zip(struct function_cfg *fn, const char *zip)
{
	struct config *cfg = fake_config();

	*fn = (struct function_cfg){ .name = "api", .latest = { .runtime = "python3.12", .code = zip } };
	cfg->functions = fn;
	cfg->nfunctions = 1;
	return cfg;
}

/* Why: Lambda unzips a package once per version; an unchanged zip is not extracted at each reload. */
TEST(unchanged_zip_code_is_extracted_once_across_reloads)
{
	static const struct zentry v1[] = { { "index.py", "v = 1\n", S_IFREG | 0644, true } };
	static const struct zentry v2[] = { { "index.py", "v = 2, changed\n", S_IFREG | 0644, true } };
	const char *zip = zip_write("reused.zip", v1, 1, false, false);
	struct function_cfg fns[4];
	struct config *cfg[4];
	struct layers *ls = layers_new();
	struct layer_dir *d, *busy;
	char task[4096], root[4096];

	for (int i = 0; i < 4; i++)
		cfg[i] = config_with_zip(&fns[i], zip);
	layers_set_config(ls, cfg[0]);
	d = layers_acquire(ls, cfg[0], "api", "$LATEST", &cfg[0]->functions[0].latest, &err);
	CHECK(d != NULL);
	if (!d)
		return;
	snprintf(task, sizeof(task), "%s", layer_dir_task(d));
	snprintf(root, sizeof(root), "%s", root_of(task));
	layers_release(d);
	/* Two reloads, the zip untouched: the same extraction serves each new configuration. */
	for (int i = 1; i < 3; i++) {
		layers_set_config(ls, cfg[i]);
		CHECK(exists(task));
		d = layers_acquire(ls, cfg[i], "api", "$LATEST", &cfg[i]->functions[0].latest, &err);
		CHECK(d != NULL);
		if (d)
			CHECK_STR(layer_dir_task(d), task);
		layers_release(d);
		CHECK_STR(listing(root), strrchr(task, '/') + 1);
	}
	/* The zip changes: the next configuration extracts it anew; the old copy goes once unused. */
	busy = layers_acquire(ls, cfg[2], "api", "$LATEST", &cfg[2]->functions[0].latest, &err);
	zip_write("reused.zip", v2, 1, false, false);
	layers_set_config(ls, cfg[3]);
	CHECK(exists(task));                   /* a sandbox of cfg[2] still runs it */
	d = layers_acquire(ls, cfg[3], "api", "$LATEST", &cfg[3]->functions[0].latest, &err);
	CHECK(d != NULL);
	if (d) {
		CHECK(strcmp(layer_dir_task(d), task) != 0);
		CHECK_STR(get(layer_dir_task(d), "index.py"), "v = 2, changed\n");
	}
	layers_release(busy);
	CHECK(!exists(task));
	CHECK_STR(listing(root), d ? strrchr(layer_dir_task(d), '/') + 1 : "");
	layers_release(d);
	/* A configuration without the function: nothing of it stays. */
	cfg[0]->nfunctions = 0;
	layers_set_config(ls, cfg[0]);
	CHECK_STR(listing(root), "");
	layers_free(ls);
	for (int i = 0; i < 4; i++) {
		CHECK_INT(cfg[i]->refs, 1);
		free(cfg[i]);
	}
}

/* --- environment ---------------------------------------------------------------------- */

static void env_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
}

TEST(node_environment_puts_layer_paths_where_lambda_does)
{
	char *v[LAYERS_ENV_MAX];
	size_t n = layers_env("/m", "nodejs20.x", "/usr/bin:/bin", "/usr/lib", v);

	CHECK_INT(n, 4);
	CHECK_STR(v[0], "PATH=/usr/bin:/bin:/m/bin");
	CHECK_STR(v[1], "LD_LIBRARY_PATH=/usr/lib:/m/lib");
	CHECK_STR(v[2], "NODE_PATH=/m/nodejs/node20/node_modules:/m/nodejs/node_modules");
	CHECK_STR(v[3], "LB_LAYERS_DIR=/m");
	env_free(v, n);
}

TEST(python_environment_has_site_packages_then_python)
{
	char *v[LAYERS_ENV_MAX];
	size_t n = layers_env("/m", "python3.12", NULL, NULL, v);

	CHECK_INT(n, 4);
	CHECK_STR(v[0], "PATH=/usr/local/bin:/usr/bin/:/bin:/m/bin");
	CHECK_STR(v[1], "LD_LIBRARY_PATH=/m/lib");
	CHECK_STR(v[2], "PYTHONPATH=/m/python/lib/python3.12/site-packages:/m/python");
	CHECK_STR(v[3], "LB_LAYERS_DIR=/m");
	env_free(v, n);
}

TEST(provided_environment_has_only_bin_and_lib)
{
	char *v[LAYERS_ENV_MAX];
	size_t n = layers_env("/m", "provided.al2023", "/bin", "", v);

	CHECK_INT(n, 3);
	CHECK_STR(v[0], "PATH=/bin:/m/bin");
	CHECK_STR(v[1], "LD_LIBRARY_PATH=/m/lib");
	CHECK_STR(v[2], "LB_LAYERS_DIR=/m");
	env_free(v, n);
}

int main(void)
{
	if (!mkdtemp(fixture)) {
		perror("mkdtemp");
		return 1;
	}
	setenv("TMPDIR", fixture, 1);
	RUN(later_layer_file_replaces_earlier_and_directories_merge);
	RUN(layer_order_decides_which_file_wins);
	RUN(directory_layer_files_are_copies_with_their_mode);
	RUN(links_in_a_directory_layer_stay_links);
	RUN(later_directory_replaces_earlier_file_and_file_replaces_directory);
	RUN(missing_layer_names_the_layer);
	RUN(zip_layer_extracts_files_directories_and_modes);
	RUN(zip_files_only_their_owner_may_read_are_made_readable_by_all);
	RUN(zip64_records_are_read);
	RUN(zip_links_are_links);
	RUN(zip_entry_with_dotdot_is_refused_and_nothing_escapes);
	RUN(zip_entry_with_absolute_path_is_refused);
	RUN(zip_entry_never_writes_through_an_earlier_link);
	RUN(zip_layer_overrides_directory_layer_and_back);
	RUN(zip_bomb_is_refused_before_anything_is_written);
	RUN(layers_share_the_unzipped_limit);
	RUN(damaged_zip_and_non_zip_fail_with_a_reason);
	RUN(links_climbing_out_of_opt_are_not_kept_from_a_directory_layer);
	RUN(links_climbing_out_of_opt_are_not_kept_from_a_zip_layer_nor_after_a_later_layer);
	RUN(clean_paths);
	RUN(no_layers_means_no_temporary_directory);
	RUN(merged_directory_is_built_once_reused_and_removed_with_its_configuration);
	RUN(failed_build_leaves_nothing_and_is_tried_again);
	RUN(only_layers_or_zip_code_need_unpacking);
	RUN(zip_code_is_extracted_into_a_task_root_beside_the_merged_layers);
	RUN(zip_code_without_layers_has_no_merged_directory);
	RUN(zip_code_and_layers_share_the_unzipped_limit_and_a_failure_leaves_nothing);
	RUN(zip_code_with_an_entry_outside_is_refused_and_retried);
	RUN(unchanged_zip_code_is_extracted_once_across_reloads);
	RUN(node_environment_puts_layer_paths_where_lambda_does);
	RUN(python_environment_has_site_packages_then_python);
	RUN(provided_environment_has_only_bin_and_lib);
	layer_fs_remove(fixture);
	return test_done();
}
