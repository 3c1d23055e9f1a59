/*
 * runtime_fetch: which interpreter runs a function's `runtime:` (DESIGN.md §18).
 *
 * Lambda's nodejsNN.x runs Node NN and python3.N runs Python 3.N; code that
 * works on one major can break on another, so lb runs the version a function
 * declares where it can:
 *
 *   nodejsNN.x   the machine's `node` when its major is NN, else Node NN from
 *                lb's cache (<cache>/node-NN/bin/node), fetched once from the
 *                npm registry by runtimes/fetch_node.py (`lb runtime fetch`,
 *                or lb itself at start for the functions it serves).
 *   python3.N    `python3.N` on PATH, else `python3` with one warning line
 *                naming the version that serves it (Python's minor versions
 *                differ far less than Node's majors, and Debian ships one).
 *   provided.*   no interpreter: the function's own bootstrap.
 *
 * <cache> is $XDG_CACHE_HOME/lb, else $HOME/.cache/lb.
 */
#ifndef LB_RUNTIME_FETCH_H
#define LB_RUNTIME_FETCH_H

#include <stddef.h>

#include "base/err.h"

struct config;

enum runtime_lang { RUNTIME_PROVIDED, RUNTIME_NODE, RUNTIME_PYTHON };

struct runtime_id {
	enum runtime_lang lang;
	int major;      /* nodejs20.x: 20; python3.12: 3 */
	int minor;      /* python3.12: 12; else 0 */
};

/* Parses "nodejs20.x", "python3.12", "provided.al2023". -1 for anything else. Pure. */
int runtime_parse(const char *name, struct runtime_id *out);
/* "<cache>" from XDG_CACHE_HOME and HOME as given (either may be NULL); -1 if neither
 * gives an absolute path. Pure. */
int runtime_cache_dir(const char *xdg_cache_home, const char *home, char *out, size_t n);
/* "v18.20.4\n" -> 18; 0 when it is not a Node version string. Pure. */
int runtime_node_major(const char *version_output);

/* What this machine has, looked up once each; one per lb process, used by one thread. */
struct runtimes;

/* runtimes_dir: the bundled clients' folder (it holds fetch_node.py). Returns new. */
struct runtimes *runtimes_new(const char *runtimes_dir);
void runtimes_free(struct runtimes *rt);

/*
 * The program that runs `runtime` for function fn_name: "node", an absolute
 * path to a cached Node, "python3.12" or "python3". NULL with err (one line
 * saying what is missing and how to get it) when it is not available; the
 * caller fails the invocation as an init failure. The string lives as long
 * as rt. Logs the Python fallback once per runtime name.
 */
const char *runtimes_interpreter(struct runtimes *rt, const char *runtime, const char *fn_name,
				 struct lb_err *err);

/*
 * Fetches Node `major` into the cache unless it is there (blocking; progress
 * on stderr). On success *path (if not NULL) is the node binary, newly
 * allocated. -1 with err otherwise.
 */
int runtimes_fetch_node(struct runtimes *rt, int major, char **path, struct lb_err *err);

/*
 * Before serving: fetches every Node major that cfg's local functions declare
 * and this machine lacks. A failure is one log line; those functions then
 * fail their invocations as an init failure would.
 */
void runtimes_prefetch(struct runtimes *rt, const struct config *cfg);

/*
 * Asks the machine, now, about every interpreter cfg's local functions need
 * (a process per interpreter not asked before, so a reload only waits for new
 * versions), so that runtimes_interpreter on a request never starts one. Logs
 * nothing but the Python fallback warning; missing interpreters are reported
 * by runtimes_interpreter when a function starts.
 */
void runtimes_resolve(struct runtimes *rt, const struct config *cfg);

/* `lb runtime fetch RUNTIME...` and `lb runtime which RUNTIME...`: exit status. */
int runtime_cmd(int argc, char **argv, const char *runtimes_dir);

#endif
