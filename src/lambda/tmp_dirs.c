/*
 * tmp_dirs: lb's temporary directories named with its pid, and the sweep of
 * those left by an lb that is gone (tmp_dirs.h has the list and why the pid
 * is lb's own).
 *
 * An lb stopped by a signal it can catch removes its directories; one killed
 * with SIGKILL, or crashed, cannot, and they would stay forever. The next lb
 * to serve removes each directory whose pid is no live process, before it
 * makes its own. It touches nothing it cannot prove is left over: only its
 * own prefixes with a pid, only directories, only its own user's, and only
 * when kill(pid, 0) says ESRCH (EPERM is another user's live process; a
 * recycled pid keeps the directory until its process is gone too). The
 * pid-less names of older lbs are left alone: nothing tells whose they are.
 */
#include "lambda/tmp_dirs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"
#include "lambda/layer_fs.h"

/* The pids named in the log line; more are counted, not listed. */
#define PIDS_LISTED 16

/* --- pure ------------------------------------------------------------------------ */

int tmp_dirs_template(char *out, size_t size, const char *dir, const char *prefix, pid_t pid)
{
	int n = snprintf(out, size, "%s/%s-%ld-XXXXXX", dir, prefix, (long)pid);

	return n > 0 && (size_t)n < size ? 0 : -1;
}

/* name past "PREFIX-" for the first of prefixes it starts with; NULL if none. */
static const char *after_prefix(const char *name, const char *const *prefixes)
{
	for (; *prefixes; prefixes++) {
		size_t n = strlen(*prefixes);

		if (strncmp(name, *prefixes, n) == 0 && name[n] == '-')
			return name + n + 1;
	}
	return NULL;
}

static bool is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

pid_t tmp_dirs_pid(const char *name, const char *const *prefixes)
{
	const char *p = after_prefix(name, prefixes);
	long pid = 0;

	/* Only what "%ld" of a pid writes: no sign, no leading zero, not 0. */
	if (!p || *p < '1' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		pid = pid * 10 + (*p - '0');
		if (pid > INT_MAX)
			return 0;
	}
	if (*p++ != '-')
		return 0;
	/* mkdtemp's suffix: six letters and digits, the whole rest of the name. */
	for (int i = 0; i < 6; i++)
		if (!is_alnum(p[i]))
			return 0;
	return p[6] == '\0' ? (pid_t)pid : 0;
}

bool tmp_dirs_stale(pid_t pid, bool is_dir, uid_t owner, uid_t me, int probe)
{
	return pid > 0 && is_dir && owner == me && probe == ESRCH;
}

/* --- I/O ------------------------------------------------------------------------- */

const char *tmp_dirs_base(void)
{
	const char *base = getenv("TMPDIR");

	return base && *base ? base : "/tmp";
}

int tmp_dirs_make(char *out, size_t size, const char *dir, const char *prefix)
{
	if (tmp_dirs_template(out, size, dir, prefix, getpid()) < 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkdtemp(out) ? 0 : -1;
}

struct sweep {
	uid_t me;
	size_t removed;
	pid_t pids[PIDS_LISTED];   /* distinct, in the order met */
	size_t npids;
	bool more;                 /* pids past PIDS_LISTED */
};

static void note_pid(struct sweep *s, pid_t pid)
{
	for (size_t i = 0; i < s->npids; i++)
		if (s->pids[i] == pid)
			return;
	if (s->npids < PIDS_LISTED)
		s->pids[s->npids++] = pid;
	else
		s->more = true;
}

/* Removes dir/name if it is a directory left by an lb that is gone. */
static void sweep_entry(struct sweep *s, DIR *d, const char *dir, const char *name,
			const char *const *prefixes)
{
	pid_t pid = tmp_dirs_pid(name, prefixes);
	char path[PATH_MAX];
	struct stat st;
	int probe;

	if (!pid || fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return;
	probe = kill(pid, 0) == 0 ? 0 : errno;
	if (!tmp_dirs_stale(pid, S_ISDIR(st.st_mode), st.st_uid, s->me, probe))
		return;
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return;
	if (layer_fs_remove(path) != 0) {
		/* ENOENT: another lb starting at the same time removed it first. */
		if (errno != ENOENT)
			log_warn("cannot remove '%s', left by lb process %ld that is gone: %s", path,
				 (long)pid, strerror(errno));
		return;
	}
	s->removed++;
	note_pid(s, pid);
}

static void sweep_dir(struct sweep *s, const char *dir, const char *const *prefixes)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	/* No such directory (no image cache yet) has nothing to sweep. */
	if (!d)
		return;
	while ((de = readdir(d)))
		sweep_entry(s, d, dir, de->d_name, prefixes);
	closedir(d);
}

static void log_sweep(const struct sweep *s)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < s->npids; i++)
		buf_printf(&b, "%s%ld", i ? ", " : "", (long)s->pids[i]);
	if (s->more)
		buf_puts(&b, ", ...");
	log_info("removed %zu temporary director%s left by %s that %s gone (pid%s %s)", s->removed,
		 s->removed == 1 ? "y" : "ies", s->npids == 1 ? "an lb process" : "lb processes",
		 s->npids == 1 ? "is" : "are", s->npids == 1 ? "" : "s", buf_cstr(&b));
	buf_release(&b);
}

void tmp_dirs_sweep(const char *image_cache)
{
	static const char *const in_tmp[] = { TMP_DIRS_TMP, TMP_DIRS_LAYERS, TMP_DIRS_IMAGE, NULL };
	static const char *const in_cache[] = { TMP_DIRS_CACHE, NULL };
	struct sweep s = { .me = geteuid() };

	sweep_dir(&s, tmp_dirs_base(), in_tmp);
	if (image_cache)
		sweep_dir(&s, image_cache, in_cache);
	if (s.removed)
		log_sweep(&s);
}
