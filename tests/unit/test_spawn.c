/*
 * Unit tests for spawn (spawn.c): the pure path and mount-flag helpers, and
 * real processes started with sh: their process group, stdin, output, the
 * errors of a missing program or directory, and the read-only view of their
 * directories (checked where this machine lets a process have a mount
 * namespace; the integration tests check it through lb).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lambda/spawn.h"
#include "test.h"

static char fixture[] = "/tmp/lb-test-spawn-XXXXXX";
static char *const no_env[] = { "PATH=/usr/bin:/bin", NULL };

TEST(path_within_is_the_directory_or_below_it)
{
	CHECK(spawn_path_within("/a/b", "/a/b"));
	CHECK(spawn_path_within("/a/b/c", "/a/b"));
	CHECK(spawn_path_within("/a/b/c", "/a/b/"));
	CHECK(spawn_path_within("/a", "/"));
	CHECK(!spawn_path_within("/a/bc", "/a/b"));
	CHECK(!spawn_path_within("/a", "/a/b"));
	CHECK(!spawn_path_within("/x/a/b", "/a/b"));
}

TEST(locked_flags_keep_what_the_covered_mount_has)
{
	CHECK_INT(spawn_locked_flags(0), 0);
	CHECK_INT(spawn_locked_flags(ST_NOSUID | ST_NODEV), MS_NOSUID | MS_NODEV);
	CHECK_INT(spawn_locked_flags(ST_NOEXEC | ST_RELATIME | ST_RDONLY), MS_NOEXEC | MS_RELATIME);
	CHECK_INT(spawn_locked_flags(ST_NOATIME | ST_NODIRATIME), MS_NOATIME | MS_NODIRATIME);
}

/* Runs script with sh in cwd (ro, writable as spawn_req); its exit status, its
 * output in out (NUL-ended), its pid and process group. -1: not started. */
static int run(const char *script, const char *cwd, const char *ro, const char *writable, char *out, size_t size,
	       pid_t *pgid)
{
	const char *argv[] = { "sh", "-c", script, NULL };
	struct lb_err err = { "" };
	struct spawn_req r = { argv, no_env, cwd, 0, -1, -1, { ro, NULL }, writable };
	int fds[2], status;
	pid_t pid;
	ssize_t n, got = 0;

	if (pipe(fds) < 0)
		return -1;
	r.out_fd = r.err_fd = fds[1];
	if (spawn_process(&r, &pid, &err) < 0) {
		snprintf(out, size, "%s", err.msg);
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	close(fds[1]);
	*pgid = getpgid(pid);
	while ((n = read(fds[0], out + got, size - 1 - (size_t)got)) > 0)
		got += n;
	out[got] = '\0';
	close(fds[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(a_process_has_its_group_devnull_stdin_and_its_output)
{
	char out[256], expect[256];
	pid_t pgid = 0;

	CHECK_INT(run("echo $$; read x || echo eof; pwd", fixture, NULL, NULL, out, sizeof(out), &pgid), 0);
	snprintf(expect, sizeof(expect), "%d\neof\n%s\n", (int)pgid, fixture);
	CHECK_STR(out, expect);
}

TEST(a_missing_program_or_directory_is_an_error_of_the_call)
{
	const char *argv[] = { "/nonexistent-lb-dir/lb-no-such-program", NULL };
	struct lb_err err = { "" };
	pid_t pid;
	struct spawn_req r = { argv, no_env, fixture, 0, 2, 2, { NULL, NULL }, NULL };
	char out[256];

	CHECK_INT(spawn_process(&r, &pid, &err), -1);
	CHECK(strstr(err.msg, "cannot start '/nonexistent-lb-dir/lb-no-such-program'") != NULL);
	CHECK(strstr(err.msg, strerror(ENOENT)) != NULL);
	CHECK_INT(run("true", "/nonexistent-lb-dir", NULL, NULL, out, sizeof(out), &pid), -1);
	CHECK(strstr(out, "in '/nonexistent-lb-dir'") != NULL);
	/* nothing left to reap */
	CHECK_INT(waitpid(-1, NULL, WNOHANG), -1);
}

/* Whether this machine gives a process a mount namespace (as lb would ask). */
static bool namespaces_allowed(void)
{
	return system(geteuid() == 0 ? "unshare -m true 2>/dev/null" : "unshare -r -m true 2>/dev/null") == 0;
}

TEST(read_only_directories_refuse_writes_but_their_writable_one_does_not)
{
	char code[256], tmp[256], out[512];
	pid_t pgid;
	struct stat st;
	int fd;

	if (!namespaces_allowed()) {
		printf("# no mount namespace here: read-only view not checked\n");
		return;
	}
	snprintf(code, sizeof(code), "%s/code", fixture);
	snprintf(tmp, sizeof(tmp), "%s/code/tmp", fixture);
	mkdir(code, 0755);
	mkdir(tmp, 0755);
	CHECK_INT(run("touch x 2>/dev/null && echo wrote || echo refused; touch tmp/y && echo tmp", code, code, tmp, out,
		      sizeof(out), &pgid), 0);
	CHECK_STR(out, "refused\ntmp\n");
	snprintf(out, sizeof(out), "%s/x", code);
	CHECK(stat(out, &st) != 0);
	snprintf(out, sizeof(out), "%s/y", tmp);
	CHECK(stat(out, &st) == 0);
	/* lb's own view is unchanged */
	snprintf(out, sizeof(out), "%s/z", code);
	fd = open(out, O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	char cmd[128];

	if (!mkdtemp(fixture)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(path_within_is_the_directory_or_below_it);
	RUN(locked_flags_keep_what_the_covered_mount_has);
	RUN(a_process_has_its_group_devnull_stdin_and_its_output);
	RUN(a_missing_program_or_directory_is_an_error_of_the_call);
	RUN(read_only_directories_refuse_writes_but_their_writable_one_does_not);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fixture);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", fixture);
	return test_done();
}
