/*
 * spawn: vfork, set the child up, exec (spawn.h).
 *
 * posix_spawn cannot give a child a mount namespace of its own, so this does
 * what it does inside: vfork (the child borrows lb's memory until its exec,
 * with no copy of lb's page tables: a fork cost about 1 ms more per start on
 * the project's machine), then system calls only, on locals prepared before
 * the vfork: nothing the child does may touch lb's memory or allocate. Its
 * signal handlers are its own (no CLONE_SIGHAND), reset before anything is
 * unblocked. It tells the parent what failed through a close-on-exec pipe,
 * as {step, errno}; end of file means the exec happened, so a missing
 * program is still an error of the call, not a later exit.
 */
#include "lambda/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"

enum step { STEP_SETUP, STEP_NAMESPACE, STEP_CHDIR, STEP_EXEC };

struct report {
	int step;
	int err;
};

/* What the child needs, made before the vfork. */
struct prepared {
	bool view;                 /* make the read-only view */
	bool userns;               /* through a user namespace (lb is not root) */
	pid_t parent;              /* lb */
	char uid_map[48], gid_map[48];
};

/* Set once the kernel refused the read-only view: later sandboxes do without it. */
static bool view_refused;

bool spawn_path_within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/' || (n == 1 && dir[0] == '/'));
}

unsigned long spawn_locked_flags(unsigned long f_flag)
{
	static const struct { unsigned long st, ms; } map[] = {
		{ ST_NOSUID, MS_NOSUID }, { ST_NODEV, MS_NODEV }, { ST_NOEXEC, MS_NOEXEC },
		{ ST_NOATIME, MS_NOATIME }, { ST_NODIRATIME, MS_NODIRATIME }, { ST_RELATIME, MS_RELATIME },
	};
	unsigned long ms = 0;

	for (size_t i = 0; i < ARRAY_LEN(map); i++)
		if (f_flag & map[i].st)
			ms |= map[i].ms;
	return ms;
}

/* --- the child ------------------------------------------------------------------- */

static void report(int fd, enum step step, int err)
{
	struct report rep = { step, err };
	ssize_t n;

	do
		n = write(fd, &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* dir bind-mounted on itself, then that mount remounted with MS_RDONLY or
 * without it (a bind mount starts with the flags of the one it copies). */
static int bind(const char *dir, unsigned long rdonly)
{
	struct statfs st;

	if (mount(dir, dir, NULL, MS_BIND | MS_REC, NULL) < 0 || statfs(dir, &st) < 0)
		return -1;
	return mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND | rdonly | spawn_locked_flags(st.f_flags), NULL);
}

static int make_view(const struct spawn_req *r, const struct prepared *p)
{
	if (p->userns) {
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			return -1;
		/* The kernel lets an unprivileged process map only its own ids, and
		 * a gid map only once setgroups(2) is denied. */
		if (write_file("/proc/self/setgroups", "deny") < 0 || write_file("/proc/self/uid_map", p->uid_map) < 0 ||
		    write_file("/proc/self/gid_map", p->gid_map) < 0)
			return -1;
	} else if (unshare(CLONE_NEWNS) < 0) {
		return -1;
	}
	/* Nothing mounted here goes back to the machine's namespace. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return -1;
	for (size_t i = 0; i < SPAWN_READ_ONLY_MAX; i++)
		if (r->read_only[i] && bind(r->read_only[i], MS_RDONLY) < 0)
			return -1;
	if (r->writable && bind(r->writable, 0) < 0)
		return -1;
	return 0;
}

static _Noreturn void child(const struct spawn_req *r, const struct prepared *p, int rep_fd)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int null_fd;

	/* A new program starts with default handlers (lb ignores SIGPIPE) and
	 * nothing blocked. */
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Its own process group, so a timeout kills everything it started. */
	null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (setpgid(0, r->pgroup) < 0 || null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 ||
	    dup2(r->out_fd, STDOUT_FILENO) < 0 || dup2(r->err_fd, STDERR_FILENO) < 0) {
		report(rep_fd, STEP_SETUP, errno);
		_exit(127);
	}
	if (p->view && make_view(r, p) < 0) {
		report(rep_fd, STEP_NAMESPACE, errno);
		_exit(127);
	}
	/* Why: a sandbox lives no longer than its environment (lb), as on
	 * Lambda, even when lb is killed with SIGKILL and cannot stop it. Set
	 * after the user namespace, whose new credentials clear it. If lb is
	 * already gone, the signal will never come: stop now. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != p->parent) {
		report(rep_fd, STEP_SETUP, errno);
		_exit(127);
	}
	/* After the mounts: a directory entered before would still be the writable one. */
	if (chdir(r->cwd) < 0) {
		report(rep_fd, STEP_CHDIR, errno);
		_exit(127);
	}
	execvpe(r->argv[0], (char *const *)r->argv, r->envp);
	report(rep_fd, STEP_EXEC, errno);
	_exit(127);
}

/* --- the parent -------------------------------------------------------------------- */

/* Starts child; its report in *rep (step -1: it exec'd). */
static int fork_child(const struct spawn_req *r, const struct prepared *p, pid_t *pid, struct report *rep)
{
	sigset_t all, old;
	int fds[2];
	ssize_t n;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	/* No handler of lb's may run in the child before it resets them. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	*pid = vfork();
	if (*pid == 0) {
		close(fds[0]);
		child(r, p, fds[1]);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(fds[1]);
	if (*pid < 0) {
		int e = errno;

		close(fds[0]);
		errno = e;
		return -1;
	}
	do
		n = read(fds[0], rep, sizeof(*rep));
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	if (n != (ssize_t)sizeof(*rep)) {
		rep->step = -1;
		return 0;
	}
	waitpid(*pid, NULL, 0);
	return 0;
}

int spawn_process(const struct spawn_req *r, pid_t *pid, struct lb_err *err)
{
	struct prepared p = { .userns = geteuid() != 0, .parent = getpid() };
	struct report rep;

	for (size_t i = 0; i < SPAWN_READ_ONLY_MAX; i++)
		p.view |= r->read_only[i] != NULL && !view_refused;
	snprintf(p.uid_map, sizeof(p.uid_map), "%u %u 1\n", (unsigned)geteuid(), (unsigned)geteuid());
	snprintf(p.gid_map, sizeof(p.gid_map), "%u %u 1\n", (unsigned)getegid(), (unsigned)getegid());
	if (fork_child(r, &p, pid, &rep) < 0)
		return lb_err_set(err, "cannot start '%s': %s", r->argv[0], strerror(errno));
	if (rep.step == STEP_NAMESPACE) {
		/* Said once per lb: every later sandbox would be refused the same way. */
		log_warn("functions' code and layers stay writable (on Lambda they are read-only): "
			 "cannot make a mount namespace for them: %s", strerror(rep.err));
		view_refused = true;
		p.view = false;
		if (fork_child(r, &p, pid, &rep) < 0)
			return lb_err_set(err, "cannot start '%s': %s", r->argv[0], strerror(errno));
	}
	if (rep.step >= 0)
		return lb_err_set(err, "cannot start '%s' in '%s': %s", r->argv[0], r->cwd, strerror(rep.err));
	return 0;
}
