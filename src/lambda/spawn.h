/*
 * spawn: starts a sandbox's process (its runtime or an extension) the way
 * Lambda's environment looks to it: in its own process group, stdin on
 * /dev/null, and its code and layers read-only (Lambda's /var/task and /opt
 * are on a read-only file system; only /tmp is writable).
 *
 * The read-only view is a private mount namespace of the child: the
 * directories are bind-mounted on themselves read-only there, so the function
 * sees EROFS where Lambda gives it EROFS, and lb and everything else on the
 * machine still see them as they are. A user other than root gets the
 * namespace through a user namespace mapping only its own ids, so the
 * function still runs as that user. Where the kernel refuses either (a
 * container without the privilege, user namespaces turned off), the process
 * starts anyway with its code writable, and lb warns once.
 *
 * The process is killed (SIGKILL) when the thread that started it ends: call
 * it from lb's main thread, which ends only with lb.
 */
#ifndef LB_LAMBDA_SPAWN_H
#define LB_LAMBDA_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/err.h"

#define SPAWN_READ_ONLY_MAX 2

struct spawn_req {
	const char *const *argv;   /* argv[0] looked up in lb's PATH */
	char *const *envp;
	const char *cwd;
	pid_t pgroup;              /* the process group to join; 0: a new one of its own */
	int out_fd, err_fd;        /* its stdout and stderr */
	/* Directories made read-only for it (NULL entries are skipped), and one
	 * under them that stays writable (its /tmp, when TMPDIR is inside its
	 * code), or NULL. */
	const char *read_only[SPAWN_READ_ONLY_MAX];
	const char *writable;
};

/* Starts the process; its pid in *pid. -1 with err when it could not be started. */
int spawn_process(const struct spawn_req *r, pid_t *pid, struct lb_err *err);

/* Whether path is dir or below it ("/a/b" is below "/a", "/ab" is not). Pure. */
bool spawn_path_within(const char *path, const char *dir);

/* The mount(2) flags a read-only remount of a bind mount must keep from the
 * statvfs(3) f_flag of what it covers: the kernel refuses to drop them in a
 * user namespace (they are locked). Pure. */
unsigned long spawn_locked_flags(unsigned long f_flag);

#endif
