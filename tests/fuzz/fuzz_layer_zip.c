/*
 * Fuzzes layer archives (lambda/layer_zip): any bytes must extract or fail
 * with a message, and nothing may be written outside the target directory
 * (zip slip, through links or otherwise).
 */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lambda/layer_zip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

static char dir[64], zip[96], out[96];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* The fuzz directory holds only the archive and the output directory. */
static void check_nothing_escaped(void)
{
	struct stat st;
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		abort();
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "in.zip") &&
		    strcmp(e->d_name, "out"))
			abort();
	closedir(d);
	if (lstat(out, &st) != 0 || !S_ISDIR(st.st_mode))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	struct lb_err err;
	uint64_t room = LAYER_UNZIPPED_MAX;
	FILE *f;

	if (!*dir) {
		strcpy(dir, "/tmp/lb-fuzz-zip-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		snprintf(zip, sizeof(zip), "%s/in.zip", dir);
		snprintf(out, sizeof(out), "%s/out", dir);
	}
	f = fopen(zip, "wb");
	if (!f)
		abort();
	fwrite(data, 1, n, f);
	fclose(f);
	if (mkdir(out, 0700) != 0)
		abort();
	memset(&err, 0, sizeof(err));
	if (layer_zip_extract(zip, out, &room, &err) < 0 && !err.msg[0])
		abort();   /* a refusal always says why */
	check_nothing_escaped();
	nftw(out, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
