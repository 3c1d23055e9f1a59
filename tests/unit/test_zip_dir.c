/*
 * Unit tests for zip_dir (base/zip_dir.c): finding a zip's central directory
 * (after a comment, through ZIP64 records), walking its entries, and the
 * errors for bytes that are not a zip or whose directory is damaged or cut
 * short — what `lb check` says about a function's .zip code.
 *
 * Archives are built in memory by a small writer below (stored entries: the
 * directory reader never looks at data).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/zip_dir.h"
#include "le_put.h"
#include "test.h"

static struct lb_err err;

/*
 * A zip of the NULL-terminated names, each a stored entry holding its own
 * name, made on Unix with mode 0755; zip64 moves the counts, sizes and
 * offsets to ZIP64 records; comment follows the end record.
 */
static void zip_build(struct buf *b, const char *const *names, bool zip64, const char *comment)
{
	struct buf cd = BUF_INIT;
	uint64_t n = 0, cd_at;

	for (; names[n]; n++) {
		size_t len = strlen(names[n]);
		uint64_t offset = b->len;

		put32(b, 0x04034b50);
		put16(b, 20);
		put16(b, 0);
		put16(b, 0);
		put32(b, 0);
		put32(b, 0);
		put32(b, (uint32_t)len);
		put32(b, (uint32_t)len);
		put16(b, (unsigned)len);
		put16(b, 0);
		buf_append(b, names[n], len);
		buf_append(b, names[n], len);

		put32(&cd, 0x02014b50);
		put16(&cd, 3u << 8 | 30);
		put16(&cd, zip64 ? 45 : 20);
		put16(&cd, 0);
		put16(&cd, 0);
		put32(&cd, 0);
		put32(&cd, 0);
		put32(&cd, zip64 ? 0xffffffff : (uint32_t)len);
		put32(&cd, zip64 ? 0xffffffff : (uint32_t)len);
		put16(&cd, (unsigned)len);
		put16(&cd, zip64 ? 28 : 0);
		put16(&cd, 0);
		put16(&cd, 0);
		put16(&cd, 0);
		put32(&cd, (uint32_t)(S_IFREG | 0755) << 16);
		put32(&cd, zip64 ? 0xffffffff : (uint32_t)offset);
		buf_append(&cd, names[n], len);
		if (zip64) {
			put16(&cd, 1);
			put16(&cd, 24);
			put64(&cd, len);
			put64(&cd, len);
			put64(&cd, offset);
		}
	}
	cd_at = b->len;
	buf_append(b, cd.p, cd.len);
	if (zip64) {
		uint64_t end64 = b->len;

		put32(b, 0x06064b50);
		put64(b, 44);
		put16(b, 45);
		put16(b, 45);
		put32(b, 0);
		put32(b, 0);
		put64(b, n);
		put64(b, n);
		put64(b, cd.len);
		put64(b, cd_at);
		put32(b, 0x07064b50);
		put32(b, 0);
		put64(b, end64);
		put32(b, 1);
	}
	put32(b, 0x06054b50);
	put16(b, 0);
	put16(b, 0);
	put16(b, zip64 ? 0xffff : (unsigned)n);
	put16(b, zip64 ? 0xffff : (unsigned)n);
	put32(b, zip64 ? 0xffffffff : (uint32_t)cd.len);
	put32(b, zip64 ? 0xffffffff : (uint32_t)cd_at);
	put16(b, comment ? (unsigned)strlen(comment) : 0);
	if (comment)
		buf_append(b, comment, strlen(comment));
	buf_release(&cd);
}

/* Walks the directory of b: how many entries, -1 on an error (err set). */
static int walk(const struct buf *b, char names[][64], int max)
{
	struct zip_dir z;
	struct zip_dir_entry e;
	int n = 0, rc;

	err.msg[0] = '\0';
	if (zip_dir_open(&z, b->p, b->len, &err))
		return -1;
	while ((rc = zip_dir_next(&z, &e, &err)) == 1) {
		if (n < max)
			snprintf(names[n], 64, "%.*s %llu %o", (int)e.name_len, e.name,
				 (unsigned long long)e.usize, (unsigned)(e.attrs >> 16) & 0777);
		n++;
	}
	return rc < 0 ? -1 : n;
}

static const char *const three[] = { "index.py", "lib/util.py", "bootstrap", NULL };

TEST(entries_are_read_in_directory_order_with_sizes_and_modes)
{
	struct buf b = BUF_INIT;
	char names[4][64];

	zip_build(&b, three, false, NULL);
	CHECK_INT(walk(&b, names, 4), 3);
	CHECK_STR(names[0], "index.py 8 755");
	CHECK_STR(names[1], "lib/util.py 11 755");
	CHECK_STR(names[2], "bootstrap 9 755");
	buf_release(&b);
}

TEST(the_end_record_is_found_before_a_comment)
{
	struct buf b = BUF_INIT;
	char names[4][64];

	zip_build(&b, three, false, "made by a test");
	CHECK_INT(walk(&b, names, 4), 3);
	buf_release(&b);
}

TEST(zip64_counts_sizes_and_offsets_are_read)
{
	struct buf b = BUF_INIT;
	char names[4][64];

	zip_build(&b, three, true, NULL);
	CHECK_INT(walk(&b, names, 4), 3);
	CHECK_STR(names[1], "lib/util.py 11 755");
	buf_release(&b);
}

TEST(an_empty_archive_has_no_entries)
{
	static const char *const none[] = { NULL };
	struct buf b = BUF_INIT;
	char names[1][64];

	zip_build(&b, none, false, NULL);
	CHECK_INT(b.len, 22);
	CHECK_INT(walk(&b, names, 1), 0);
	buf_release(&b);
}

TEST(bytes_that_are_not_a_zip_say_so)
{
	struct buf b = BUF_INIT;
	char names[1][64];

	buf_append(&b, "print('hello')\n", 15);
	CHECK_INT(walk(&b, names, 1), -1);
	CHECK_STR(err.msg, "not a zip archive (no end of central directory record)");
	buf_append(&b, "#!/bin/sh\nexec python3 -m something --with-a-long-argument\n", 59);
	CHECK_INT(walk(&b, names, 1), -1);
	CHECK_STR(err.msg, "not a zip archive (no end of central directory record)");
	buf_release(&b);
}

TEST(a_truncated_archive_is_not_read_past_its_end)
{
	struct buf b = BUF_INIT, cut = BUF_INIT;
	char names[4][64];

	zip_build(&b, three, false, NULL);
	/* Cut off the end record: no directory to find. */
	buf_append(&cut, b.p, b.len - 10);
	CHECK_INT(walk(&cut, names, 4), -1);
	CHECK_STR(err.msg, "not a zip archive (no end of central directory record)");
	buf_release(&cut);
	/* Cut from the front (a download that lost its start): the directory's offset is past the end. */
	buf_append(&cut, b.p + 40, b.len - 40);
	CHECK_INT(walk(&cut, names, 4), -1);
	CHECK(strncmp(err.msg, "damaged zip archive (", 21) == 0);
	buf_release(&cut);
	buf_release(&b);
}

TEST(a_damaged_directory_is_an_error_not_a_crash)
{
	struct buf b = BUF_INIT;
	char names[4][64];
	uint8_t *p;

	zip_build(&b, three, false, NULL);
	p = (uint8_t *)b.p;
	/* The end record claims one entry more than the directory holds. */
	p[b.len - 12] = 4;
	p[b.len - 14] = 4;
	CHECK_INT(walk(&b, names, 4), -1);
	CHECK_STR(err.msg, "damaged zip archive (central directory entry out of place)");
	p[b.len - 12] = 3;
	p[b.len - 14] = 3;
	/* The directory's size runs past the end record. */
	p[b.len - 10] = 0xff;
	CHECK_INT(walk(&b, names, 4), -1);
	CHECK_STR(err.msg, "damaged zip archive (central directory out of bounds)");
	buf_release(&b);
}

TEST(split_archives_are_refused)
{
	struct buf b = BUF_INIT;
	char names[4][64];

	zip_build(&b, three, false, NULL);
	((uint8_t *)b.p)[b.len - 18] = 1;   /* number of this disk */
	CHECK_INT(walk(&b, names, 4), -1);
	CHECK_STR(err.msg, "split zip archives are not supported");
	buf_release(&b);
}

/* Writes b to a new file in dir; returns its path (static). */
static const char *file_of(const char *dir, const char *name, const void *p, size_t n)
{
	static char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	fwrite(p, 1, n, f);
	fclose(f);
	return path;
}

TEST(check_file_reads_a_file_and_names_what_is_wrong)
{
	char dir[] = "/tmp/lb-test-zip-dir-XXXXXX";
	struct buf b = BUF_INIT;

	if (!mkdtemp(dir))
		return;
	zip_build(&b, three, false, NULL);
	CHECK_INT(zip_dir_check_file(file_of(dir, "good.zip", b.p, b.len), &err), 0);
	CHECK_INT(zip_dir_check_file(file_of(dir, "cut.zip", b.p, b.len - 30), &err), -1);
	CHECK_STR(err.msg, "not a zip archive (no end of central directory record)");
	CHECK_INT(zip_dir_check_file(file_of(dir, "tiny.zip", "PK", 2), &err), -1);
	CHECK_STR(err.msg, "not a zip archive");
	CHECK_INT(zip_dir_check_file(file_of(dir, "empty.zip", "", 0), &err), -1);
	CHECK_STR(err.msg, "not a zip archive");
	CHECK_INT(zip_dir_check_file(dir, &err), -1);
	CHECK_STR(err.msg, "not a zip archive");
	CHECK_INT(zip_dir_check_file("/nonexistent/lb-test.zip", &err), -1);
	CHECK_STR(err.msg, "cannot open: No such file or directory");
	buf_release(&b);
	unlink(file_of(dir, "good.zip", "", 0));
	unlink(file_of(dir, "cut.zip", "", 0));
	unlink(file_of(dir, "tiny.zip", "", 0));
	unlink(file_of(dir, "empty.zip", "", 0));
	rmdir(dir);
}

int main(void)
{
	RUN(entries_are_read_in_directory_order_with_sizes_and_modes);
	RUN(the_end_record_is_found_before_a_comment);
	RUN(zip64_counts_sizes_and_offsets_are_read);
	RUN(an_empty_archive_has_no_entries);
	RUN(bytes_that_are_not_a_zip_say_so);
	RUN(a_truncated_archive_is_not_read_past_its_end);
	RUN(a_damaged_directory_is_an_error_not_a_crash);
	RUN(split_archives_are_refused);
	RUN(check_file_reads_a_file_and_names_what_is_wrong);
	return test_done();
}
