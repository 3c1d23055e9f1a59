/*
 * runtime_fetch: the interpreter for each `runtime:` (see the header for the
 * policy), and the Node cache.
 *
 * What the machine has is asked once per lb process and kept in struct
 * runtimes: the local node's major (`node --version`, about 30 ms), whether
 * each python3.N runs, and the Python runtimes already warned about. Asking
 * starts a process (a second with a pyenv shim; one that has not answered
 * within 2 seconds is killed and counts as absent), so runtimes_resolve asks
 * when a configuration is set, before it serves: a cold start only reads the
 * answers, and the event loop never waits for a probe on a request. The cache is only ever read here:
 * runtimes/fetch_node.py writes it (download, sha512 check against the
 * registry's integrity, atomic rename), so a node-NN/bin/node that exists is
 * complete. lb runs that script and waits for it only before it serves (and
 * for `lb runtime fetch`); a sandbox start never downloads, it finds the
 * binary or fails the invocation with a one-line reason.
 */
#include "lambda/runtime_fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "config/config.h"

#define WARNED_MAX 16
/* How long asking an interpreter may take (a pyenv shim takes about a second). */
#define PROBE_TIMEOUT_MS 2000
#define NODE_MAJOR_MAX 128 /* Node majors lb knows of (a table per major) */
#define PYTHON_MINOR_MAX 64

extern char **environ;

struct runtimes {
	char *dir;               /* runtimes/ (fetch_node.py) */
	int local_node;          /* major of `node` on PATH; 0 none; -1 not asked yet */
	char local_node_text[32];
	char *paths[NODE_MAJOR_MAX];  /* per major: the interpreter to use, once known */
	signed char python_ok[PYTHON_MINOR_MAX];  /* python3.N runs: 1 yes, 0 no, -1 not asked */
	char *warned[WARNED_MAX];     /* python runtimes whose fallback was logged */
	size_t nwarned;
};

/* --- pure ------------------------------------------------------------------------ */

static int parse_uint(const char *s, const char **end)
{
	int v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9' && v < 100000)
		v = v * 10 + (*s++ - '0');
	*end = s;
	return v;
}

int runtime_parse(const char *name, struct runtime_id *out)
{
	const char *end;

	*out = (struct runtime_id){ RUNTIME_PROVIDED, 0, 0 };
	if (strncmp(name, "provided.", 9) == 0 && name[9])
		return 0;
	if (strncmp(name, "nodejs", 6) == 0) {
		/* Lambda's Node runtimes are named nodejsNN.x. */
		if ((out->major = parse_uint(name + 6, &end)) <= 0 || strcmp(end, ".x") != 0)
			return -1;
		out->lang = RUNTIME_NODE;
		return 0;
	}
	if (strncmp(name, "python3.", 8) == 0) {
		if ((out->minor = parse_uint(name + 8, &end)) < 0 || *end)
			return -1;
		out->lang = RUNTIME_PYTHON;
		out->major = 3;
		return 0;
	}
	return -1;
}

int runtime_cache_dir(const char *xdg_cache_home, const char *home, char *out, size_t n)
{
	int k;

	/* XDG Base Directory: a relative XDG_CACHE_HOME is invalid and ignored. */
	if (xdg_cache_home && xdg_cache_home[0] == '/')
		k = snprintf(out, n, "%s/lb", xdg_cache_home);
	else if (home && home[0] == '/')
		k = snprintf(out, n, "%s/.cache/lb", home);
	else
		return -1;
	return k > 0 && (size_t)k < n ? 0 : -1;
}

int runtime_node_major(const char *text)
{
	const char *end;
	int v;

	if (text[0] != 'v')
		return 0;
	v = parse_uint(text + 1, &end);
	return v > 0 && *end == '.' ? v : 0;
}

/* --- what the machine has ------------------------------------------------------- */

struct runtimes *runtimes_new(const char *runtimes_dir)
{
	struct runtimes *rt = xcalloc(1, sizeof(*rt));

	rt->dir = xstrdup(runtimes_dir);
	rt->local_node = -1;
	memset(rt->python_ok, -1, sizeof(rt->python_ok));
	return rt;
}

void runtimes_free(struct runtimes *rt)
{
	if (!rt)
		return;
	for (size_t i = 0; i < NODE_MAJOR_MAX; i++)
		free(rt->paths[i]);
	for (size_t i = 0; i < rt->nwarned; i++)
		free(rt->warned[i]);
	free(rt->dir);
	free(rt);
}

/* Starts argv (looked up in PATH) in a process group of its own, stdout on out_fd,
 * stdin and stderr on /dev/null. posix_spawnp's result. */
static int spawn_probe(const char *const *argv, int out_fd, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	int r;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	r = posix_spawnp(pid, argv[0], &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return r;
}

/* Reads fd to its end or the deadline, keeping the first n - 1 bytes in out.
 * Returns the bytes kept, or -1 at the deadline. */
static ssize_t read_until(int fd, char *out, size_t n, int64_t deadline_us)
{
	char sink[256];
	size_t got = 0;

	for (;;) {
		int64_t left = deadline_us - time_mono_us();
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t k;
		int r;

		if (left <= 0)
			return -1;
		r = poll(&p, 1, (int)((left + 999) / 1000));
		if (r < 0 && errno != EINTR)
			return (ssize_t)got;
		if (r <= 0)
			continue;
		/* All of it is read, the rest dropped: a writer must not block on a full pipe. */
		k = got < n - 1 ? read(fd, out + got, n - 1 - got) : read(fd, sink, sizeof(sink));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return (ssize_t)got;
		if (got < n - 1)
			got += (size_t)k;
	}
}

/*
 * The first line argv prints (stderr dropped) into out, "" if none. It gets
 * PROBE_TIMEOUT_MS in all, to answer and to exit: an interpreter that hangs
 * (a wedged shim, a dead network mount) must not stall lb's start or a
 * reload. Past it, its process group is killed and reaped, one warning line
 * says so (argv[0], then consequence), and the answer is "" (-1).
 */
static int first_line(const char *const *argv, char *out, size_t n, const char *consequence)
{
	int64_t deadline = time_mono_us() + (int64_t)PROBE_TIMEOUT_MS * 1000;
	int pfd[2], status, r;
	ssize_t got;
	pid_t pid, w;

	out[0] = '\0';
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return 0;
	r = spawn_probe(argv, pfd[1], &pid);
	close(pfd[1]);
	if (r != 0) {
		close(pfd[0]);
		return 0;   /* not installed */
	}
	got = read_until(pfd[0], out, n, deadline);
	close(pfd[0]);
	while (got >= 0 && (w = waitpid(pid, &status, WNOHANG)) <= 0) {
		if (w < 0 && errno != EINTR)
			break;
		if (time_mono_us() >= deadline)
			got = -1;
		else
			poll(NULL, 0, 5);
	}
	if (got < 0) {
		kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		log_warn("%s did not answer within %d seconds: stopped%s", argv[0], PROBE_TIMEOUT_MS / 1000,
			 consequence);
		out[0] = '\0';
		return -1;
	}
	out[got] = '\0';
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

static int local_node_major(struct runtimes *rt)
{
	static const char *const argv[] = { "node", "--version", NULL };

	if (rt->local_node < 0) {
		first_line(argv, rt->local_node_text, sizeof(rt->local_node_text),
			   "; the local node counts as missing");
		rt->local_node = runtime_node_major(rt->local_node_text);
	}
	return rt->local_node;
}

/*
 * Whether python3.N on PATH is Python 3.N. Asking it, not just looking for the
 * file: a pyenv shim exists for every version pyenv knows and fails for those
 * not selected.
 */
static bool python_runs(struct runtimes *rt, int minor)
{
	char name[32], out[32];
	const char *argv[] = { name, "-c", "import sys; print(sys.version_info[1])", NULL };

	if (minor >= PYTHON_MINOR_MAX)
		return false;
	if (rt->python_ok[minor] < 0) {
		snprintf(name, sizeof(name), "python3.%d", minor);
		first_line(argv, out, sizeof(out), "; it counts as not installed");
		rt->python_ok[minor] = out[0] && atoi(out) == minor;
	}
	return rt->python_ok[minor] == 1;
}

/* Whether an executable called name is on PATH. */
static bool on_path(const char *name)
{
	const char *path = getenv("PATH");
	char probe[PATH_MAX];

	while (path && *path) {
		size_t n = strcspn(path, ":");

		snprintf(probe, sizeof(probe), "%.*s/%s", (int)n, n ? path : ".", name);
		if (access(probe, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

static int cached_node(int major, char *out, size_t n)
{
	char dir[PATH_MAX - 32];

	if (runtime_cache_dir(getenv("XDG_CACHE_HOME"), getenv("HOME"), dir, sizeof(dir)) < 0)
		return -1;
	snprintf(out, n, "%s/node-%d/bin/node", dir, major);
	return 0;
}

static const char *node_interpreter(struct runtimes *rt, const struct runtime_id *id,
				    const char *runtime, const char *fn_name, struct lb_err *err)
{
	char path[PATH_MAX];
	int local = local_node_major(rt);

	if (id->major < NODE_MAJOR_MAX && rt->paths[id->major])
		return rt->paths[id->major];
	if (local == id->major)
		return "node";
	if (cached_node(id->major, path, sizeof(path)) == 0 && access(path, X_OK) == 0) {
		if (id->major < NODE_MAJOR_MAX)
			return rt->paths[id->major] = xstrdup(path);
		return NULL;
	}
	lb_err_set(err, "%s%s%s%s needs Node %d, but the local node is %s and the cache has no "
		   "Node %d (run 'lb runtime fetch %s' with access to the npm registry)",
		   *fn_name ? "function " : "", fn_name, *fn_name ? ": " : "", runtime, id->major,
		   local ? rt->local_node_text : "missing", id->major, runtime);
	return NULL;
}

static bool warned(struct runtimes *rt, const char *runtime)
{
	for (size_t i = 0; i < rt->nwarned; i++)
		if (strcmp(rt->warned[i], runtime) == 0)
			return true;
	if (rt->nwarned < WARNED_MAX)
		rt->warned[rt->nwarned++] = xstrdup(runtime);
	return false;
}

const char *runtimes_interpreter(struct runtimes *rt, const char *runtime, const char *fn_name,
				 struct lb_err *err)
{
	struct runtime_id id;
	char version[64];

	if (runtime_parse(runtime, &id) < 0) {
		lb_err_set(err, "function %s: runtime '%s' is not supported", *fn_name ? fn_name : "?", runtime);
		return NULL;
	}
	if (id.lang == RUNTIME_NODE)
		return node_interpreter(rt, &id, runtime, fn_name, err);
	if (id.lang != RUNTIME_PYTHON)
		return "";
	if (python_runs(rt, id.minor))
		return runtime;   /* "python3.12" is the interpreter's own name */
	if (!on_path("python3")) {
		lb_err_set(err, "%s%s%sneither %s nor python3 is installed", *fn_name ? "function " : "",
			   fn_name, *fn_name ? ": " : "", runtime);
		return NULL;
	}
	if (!warned(rt, runtime)) {
		static const char *const argv[] = { "python3", "-c",
						    "import sys; print(\"%d.%d.%d\" % sys.version_info[:3])", NULL };

		first_line(argv, version, sizeof(version), "; its version is unknown");
		log_warn("%s is not installed: python3 (Python %s) runs the %s functions",
			 runtime, version[0] ? version : "of unknown version", runtime);
	}
	return "python3";
}

/* --- fetching -------------------------------------------------------------------- */

int runtimes_fetch_node(struct runtimes *rt, int major, char **path, struct lb_err *err)
{
	char script[PATH_MAX], arg[16], out[PATH_MAX];
	const char *argv[] = { "python3", script, arg, NULL };
	posix_spawn_file_actions_t fa;
	int pfd[2], status = 0, r;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	snprintf(script, sizeof(script), "%s/fetch_node.py", rt->dir);
	snprintf(arg, sizeof(arg), "%d", major);
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return lb_err_set(err, "cannot fetch Node %d: %s", major, strerror(errno));
	/* Its stdout (the path) comes back on a pipe; its progress goes to lb's stderr. */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (r != 0) {
		close(pfd[0]);
		return lb_err_set(err, "cannot fetch Node %d: cannot run python3: %s", major, strerror(r));
	}
	while (got < sizeof(out) - 1 && (n = read(pfd[0], out + got, sizeof(out) - 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	out[got] = '\0';
	out[strcspn(out, "\n")] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !out[0])
		/* fetch_node.py has said why on stderr, in one line. */
		return lb_err_set(err, "Node %d is not available (the fetch failed; see above)", major);
	if (major < NODE_MAJOR_MAX) {
		free(rt->paths[major]);
		rt->paths[major] = xstrdup(out);
	}
	if (path)
		*path = xstrdup(out);
	return 0;
}

/* Runs fn on every runtime cfg's local, non-image functions declare. */
static void each_runtime(const struct config *cfg, void (*fn)(struct runtimes *, const char *, void *),
			 struct runtimes *rt, void *arg)
{
	for (size_t i = 0; i < cfg->nfunctions; i++) {
		const struct function_cfg *fn_cfg = &cfg->functions[i];

		if (fn_cfg->endpoint)
			continue;
		for (size_t v = 0; v <= fn_cfg->nversions; v++) {
			const char *runtime = v ? fn_cfg->versions[v - 1].settings.runtime : fn_cfg->latest.runtime;
			if (runtime)
				fn(rt, runtime, arg);
		}
	}
}

static void resolve_one(struct runtimes *rt, const char *runtime, void *arg)
{
	struct lb_err err = { "" };

	(void)arg;
	/* Quiet here: a missing interpreter is reported by each invocation it fails. */
	runtimes_interpreter(rt, runtime, "", &err);
}

void runtimes_resolve(struct runtimes *rt, const struct config *cfg)
{
	each_runtime(cfg, resolve_one, rt, NULL);
}

static void prefetch_one(struct runtimes *rt, const char *runtime, void *arg)
{
	bool *tried = arg;
	struct lb_err err = { "" };
	struct runtime_id id;

	if (runtime_parse(runtime, &id) < 0 || id.lang != RUNTIME_NODE)
		return;
	if (id.major >= NODE_MAJOR_MAX || tried[id.major])
		return;
	tried[id.major] = true;
	if (node_interpreter(rt, &id, runtime, "", &err))
		return;
	if (runtimes_fetch_node(rt, id.major, NULL, &err) < 0)
		log_error("%s: %s; its functions fail to initialize until it is fetched", runtime, err.msg);
}

void runtimes_prefetch(struct runtimes *rt, const struct config *cfg)
{
	bool tried[NODE_MAJOR_MAX] = { false };

	each_runtime(cfg, prefetch_one, rt, tried);
}

/* --- lb runtime ------------------------------------------------------------------ */

/* The absolute path of a program found on PATH, for `lb runtime which`. */
static void print_resolved(const char *prog)
{
	const char *argv[] = { "sh", "-c", "command -v \"$0\"", prog, NULL };
	char line[PATH_MAX];

	if (prog[0] == '/') {
		printf("%s\n", prog);
		return;
	}
	first_line(argv, line, sizeof(line), "");
	printf("%s\n", line[0] ? line : prog);
}

int runtime_cmd(int argc, char **argv, const char *runtimes_dir)
{
	struct runtimes *rt;
	bool fetch;
	int status = 0;

	if (argc < 3 || (strcmp(argv[1], "fetch") != 0 && strcmp(argv[1], "which") != 0)) {
		fprintf(stderr, "usage: lb runtime fetch|which RUNTIME...   e.g. lb runtime fetch nodejs20.x\n");
		return 2;
	}
	fetch = strcmp(argv[1], "fetch") == 0;
	rt = runtimes_new(runtimes_dir);
	for (int i = 2; i < argc; i++) {
		struct lb_err err = { "" };
		struct runtime_id id;
		const char *prog;

		if (runtime_parse(argv[i], &id) == 0 && id.lang == RUNTIME_PROVIDED) {
			fprintf(stderr, "lb: %s has no interpreter to fetch or find: the function's own "
				"bootstrap (its command:, or bootstrap in its code) runs it\n", argv[i]);
			status = 1;
			continue;
		}
		if (runtime_parse(argv[i], &id) < 0) {
			fprintf(stderr, "lb: '%s' is not a nodejsNN.x or python3.N runtime\n", argv[i]);
			status = 1;
			continue;
		}
		prog = runtimes_interpreter(rt, argv[i], "", &err);
		if (!prog && fetch && id.lang == RUNTIME_NODE &&
		    runtimes_fetch_node(rt, id.major, NULL, &err) == 0)
			prog = runtimes_interpreter(rt, argv[i], "", &err);
		if (!prog) {
			fprintf(stderr, "lb: %s\n", err.msg);
			status = 1;
			continue;
		}
		fflush(stdout);
		print_resolved(prog);
	}
	runtimes_free(rt);
	return status;
}
