/*
 * lambda_int: what lambda's files share. Private to lambda.c, lambda_pool.c
 * and lambda_env.c; everything else uses lambda.h.
 *
 *   lambda.c        invocations: ids, versions, results, the Invoke API client,
 *                   reaping processes, configurations, lifecycle
 *   lambda_pool.c   the pools: sandboxes started, reused, retired, provisioned;
 *                   invocations dispatched or queued
 *   lambda_env.c    what a sandbox runs: its command, environment and /tmp
 */
#ifndef LB_LAMBDA_INT_H
#define LB_LAMBDA_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "lambda/lambda.h"

struct event;
struct http_client;
struct image;
struct images;
struct invoke_client;
struct layer_dir;
struct layers;
struct runtimes;

/* FINISHING: its invocation is over and its runtime has not asked for the next yet. */
enum entry_state { E_STARTING, E_IDLE, E_BUSY, E_FINISHING, E_DEAD };

struct entry {
	struct pool *pool;
	struct entry *prev, *next;
	struct sandbox *sb;
	struct config *cfg;
	const struct function_settings *settings;
	const char *version;
	enum entry_state state;
	struct invocation *inv;
	struct event *idle_timer;
	struct layer_dir *layers;        /* its merged layers (/opt) and extracted .zip code, or NULL */
	char *tmpdir;                    /* its private /tmp (TMPDIR), removed with it */
	bool provisioned;                /* provisioned concurrency: started ahead, never idles out */
	bool was_ready;                  /* its runtime initialized */
};

/* What a sandbox runs: a version of a function under a configuration. */
struct start_ctx {
	struct config *cfg;
	const struct function_cfg *fn;
	const struct function_settings *settings;
	const char *version;
	bool provisioned;
};

struct pool {
	struct lambda *l;
	struct pool *next;
	char *name;
	struct entry *entries;
	size_t nlive;                    /* entries not yet dead */
	struct invocation *queue, **queue_tail;
	size_t nqueued;
};

struct invocation {
	struct lambda *l;
	struct pool *pool;
	struct invocation *next;         /* queue or deferred list */
	struct config *cfg;
	const struct function_cfg *fn;
	const struct function_settings *settings;
	const char *version;
	const char *payload;
	size_t len;
	char request_id[37];
	char *arn, *trace;
	char *client_context;            /* the decoded JSON, or NULL (ALB's invocations) */
	invoke_done_fn done;
	void *cookie;
	struct invoke_client *remote;
	bool log_tail;
	struct sv log;                   /* the sandbox's log tail, during lambda_invocation_finish */
	int remote_status;
	bool remote_delivered;
	enum invoke_status deferred_status;
	const char *deferred_body;
	const char *deferred_type;
	bool queued;
	bool cold;                       /* started a sandbox */
	int64_t start_us, run_us;        /* monotonic: lambda_invoke, delivery to a sandbox */
};

struct lambda {
	struct event_base *base;
	struct rng *rng;
	char *runtimes_dir;
	struct config *cfg;
	struct pool *pools;
	struct event *sigchld;
	struct event *defer_ev;
	struct invocation *deferred;
	int idle_seconds;
	bool closing;                  /* lb is exiting: start nothing */
	struct layers *layers;
	struct http_client *remote;    /* Invoke API calls of endpoint functions: pooled, TLS sessions kept */
	invoke_observer_fn observer;
	void *observer_cookie;
	struct runtimes *runtimes;       /* which node or python runs each runtime */
	struct images *images;           /* unpacked container images (image.h) */
};

/* A NULL-terminated vector of strings it owns: a command or an environment. */
struct strvec {
	char **v;
	size_t n, cap;
};

/* lambda.c */
void lambda_invocation_free(struct invocation *inv);
/* Reports the result to the caller (unless cancelled) and frees inv. */
void lambda_invocation_finish(struct invocation *inv, enum invoke_status status, const char *body, size_t n,
			      const char *error_type);
/* Ends inv from an event callback: results never arrive inside lambda_invoke. body is static. */
void lambda_defer_finish(struct invocation *inv, enum invoke_status status, const char *body,
			 const char *error_type);

/* lambda_pool.c */
/* The pool of fn's name, created when first asked for. */
struct pool *lambda_pool_get(struct lambda *l, const struct function_cfg *fn);
/* The function's concurrency under the current configuration (0 once removed). */
size_t lambda_pool_capacity(const struct pool *p);
/* Runs inv now if the pool can (or ends it if no sandbox starts); false when it must wait. */
bool lambda_pool_dispatch(struct pool *p, struct invocation *inv);
/* Starts the sandboxes provisioned concurrency asks for under the current configuration. */
void lambda_pool_provision(struct pool *p);
/* Stops e's sandbox; it is freed once its process is reaped. */
void lambda_pool_entry_stop(struct entry *e);
/* Frees what an entry holds (its sandbox's process is gone or being killed). */
void lambda_pool_entry_release(struct entry *e);

/* lambda_env.c */
/* The command that runs a function's runtime from task (its task root); opt: its merged
 * layers, or NULL. -1 with err. */
int lambda_env_argv(const struct lambda *l, const char *fn_name, const struct function_settings *s,
		    const char *task, const char *opt, struct strvec *argv, struct lb_err *err);
/* An image function's command, isolated in its unpacked image (*img borrowed). -1 with err. */
int lambda_env_image_argv(struct lambda *l, const struct function_settings *s, const char *tmpdir,
			  const struct image **img, struct strvec *argv, struct lb_err *err);
/* Lambda's environment for what c runs from task (its task root) plus the function's
 * variables; opt, img may be NULL. */
void lambda_env_build(struct lambda *l, const struct start_ctx *c, const char *task,
		      const char *opt, const char *tmpdir, const struct image *img, struct strvec *env);
/* Puts the directory of prog (a Node from lb's cache) first on env's PATH. */
void lambda_env_bin_first(const char *prog, const struct function_settings *s, struct strvec *env);
/* A private directory for the sandbox's /tmp, under lb's TMPDIR; NULL with err. */
char *lambda_env_tmpdir(struct lb_err *err);
/* Frees the strings of sv and its vector. */
void lambda_env_release(struct strvec *sv);

#endif
