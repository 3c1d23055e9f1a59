/*
 * workers: `workers: N` (a load-balancer setting, default 1) — N-1 more
 * event loops, each in its own thread with its own http_server, router
 * (and rng), targets (HTTP client pools) and access-log buffer, bound with
 * SO_REUSEPORT to the ports of the main loop's listeners. They share one
 * configuration (refcounted), main's sandbox pool (lambda_xthread), main's
 * health checks (targets_apply_health) and main's console.
 *
 * Everything reaches a worker as a message on its queue (xqueue): a new
 * configuration after a reload, a target's new health, stop (drain) and
 * stop now. workers: 1 makes none of this: no thread, no queue, no lock.
 */
#ifndef LB_WORKERS_H
#define LB_WORKERS_H

#include <stdbool.h>
#include <stdint.h>

#include "alb/sticky.h"
#include "base/buf.h"
#include "base/err.h"
#include "config/config.h"

struct console;
struct http_server;
struct lambda;
struct targets;
struct xqueue;
struct workers;

/* The number of loops cfg asks for: workers:, `auto` is one per CPU. */
int workers_wanted(const struct config *cfg);

/*
 * Makes n-1 workers serving cfg on ports (main's listeners' ports, by
 * index), with access log alog_path (NULL none); they run once
 * workers_run is called. main_q runs on main's loop; main_targets's health
 * changes are passed on. NULL with err when a worker cannot bind.
 */
struct workers *workers_new(int n, struct config *cfg, const uint16_t *ports, const char *alog_path,
			    struct xqueue *main_q, struct lambda *lambda, struct targets *main_targets,
			    struct http_server *main_server, struct console *console, struct lb_err *err);
/* Starts the workers' threads. */
int workers_run(struct workers *ws, struct lb_err *err);
/* A reload: each worker switches to cfg at its next loop iteration; once
 * all have, "reloaded PATH" is logged (tests wait for it). */
void workers_set_config(struct workers *ws, struct config *cfg, const uint16_t *ports, const char *alog_path);
/* SIGTERM: each worker stops accepting and drains until deadline_us. */
void workers_stop(struct workers *ws, int64_t deadline_us);
/* A second signal: each worker's loop ends now. */
void workers_stop_now(struct workers *ws);
/* Loops still running. */
int workers_running(const struct workers *ws);
/* Waits for every worker's thread to end (after their loops stopped). */
void workers_join(struct workers *ws);
/* Frees what the workers leave (after main's queue is freed). NULL-safe. */
void workers_free(struct workers *ws);
/* /metrics: lb_worker_connections{worker="I"}, connections each loop accepted (none with one loop). */
void workers_metrics_write(struct buf *out);

#endif
