/*
 * sandbox_int: what the sandbox's files share. Private to sandbox*.c.
 *
 *   sandbox.c       the process, its invocations, the Runtime API and extension callbacks
 *   sandbox_log.c   the function's output lines, the log tail, START/END/REPORT
 *                   (text or Lambda's JSON platform records)
 *   sandbox_mem.c   memory: the peak for REPORT, the memory_size limit while it works
 */
#ifndef LB_LAMBDA_SANDBOX_INT_H
#define LB_LAMBDA_SANDBOX_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "base/buf.h"
#include "base/util.h"
#include "lambda/sandbox.h"

enum sb_state { SB_STARTING, SB_IDLE, SB_BUSY, SB_DEAD };

/* The last SANDBOX_LOG_TAIL_MAX bytes written, and a flat copy to hand out. */
struct log_tail {
	char ring[SANDBOX_LOG_TAIL_MAX];
	size_t end;              /* where the next byte goes */
	size_t len;              /* bytes held */
	char flat[SANDBOX_LOG_TAIL_MAX];
};

struct sandbox {
	const struct sandbox_cbs *cbs;
	void *cookie;
	char *log_name;
	char *log_head;          /* "[log_name] ", the prefix of each of its lines */
	size_t log_head_len;
	char *version;
	int memory_size;
	bool json_logs;          /* platform records as Lambda's JSON lines */
	bool system_info;        /* INFO platform records are shown (system_log_level not WARN) */
	pid_t pid;
	enum sb_state state;
	struct runtime_api *ra;
	struct bufferevent *out, *err;
	struct bufferevent *xout; /* the extensions' stdout and stderr, or NULL */
	struct event *timer;
	struct event *mem_ev;    /* samples memory while the runtime works */
	bool oom_killed;         /* killed for going over memory_size */

	/* the invocation being run */
	bool has_inv;
	bool delivered;
	char request_id[40];
	int timeout;
	struct buf inv_payload;
	char *inv_arn, *inv_trace;
	char *inv_context;       /* its client context, or NULL */
	int64_t started_us;      /* when the runtime got the event */
	bool capturing;          /* its log lines go to tail too */
	bool tail_ready;         /* tail holds the invocation that just ended */
	struct log_tail *tail;

	int64_t spawned_us;
	long peak_mb;            /* peak seen: VmHWM reads, samples, the exit's rusage */
	int64_t peak_read_us;    /* when /proc was last read (or the process reaped) */
	double init_ms;          /* reported once, on the first REPORT */
	bool init_reported;

	struct extensions *ext;  /* Extensions and Telemetry APIs */
	bool runtime_waiting;    /* the runtime asked for work; extensions may hold it */
	struct event *kill_timer; /* SHUTDOWN given: kill when it fires */
	const char *shutdown_reason;
	const char *end_status;  /* for platform.runtimeDone/report */
	int64_t deadline_us;     /* monotonic end of the invocation's time, extensions included */
	pid_t ext_pids[16];      /* extension processes, -1 once reaped */
	size_t next_pids;
};

/* sandbox_log.c */
/* Writes lines to lb's stderr as "[name] line", all in one write (and to the tail if capturing). */
void sandbox_log_lines(struct sandbox *sb, const struct sv *lines, size_t n);
void sandbox_log_line(struct sandbox *sb, const char *line, size_t n);
/* The START line of the invocation being delivered. */
void sandbox_log_start(struct sandbox *sb);
/* START/END/REPORT lines, framed like the function's own output. */
void sandbox_log_frame(struct sandbox *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Logs the lines waiting in a pipe now (eof: a partial last line included); bev may be NULL. */
void sandbox_log_pending(struct sandbox *sb, struct bufferevent *bev, bool eof);
/* The same, for the three pipes before END: the runtime's partial last line included. */
void sandbox_log_waiting(struct sandbox *sb);
/* The read and event callbacks of the output pipes (arg: the sandbox). */
void sandbox_on_output(struct bufferevent *bev, void *arg);
void sandbox_on_output_event(struct bufferevent *bev, short what, void *arg);
/* END and REPORT (or platform.runtimeDone and platform.report) for the invocation that ended. */
void sandbox_log_end(struct sandbox *sb, enum invoke_status st, size_t produced, const char *error_type);
/* Lambda's platform status for how an invocation ended (JSON records, Telemetry API). */
const char *sandbox_record_status(enum invoke_status st);

/* sandbox.c */
/* SIGKILL to the sandbox's process group and to every process below its runtime
 * and extensions, in a group of their own or not; nothing while it has no process. */
void sandbox_kill_processes(struct sandbox *sb);

/* sandbox_mem.c */
/* Peak resident memory of the runtime process in MB (read at most once a second). */
long sandbox_peak_memory_mb(struct sandbox *sb);
/*
 * The memory sample event's callback (arg: the sandbox), and starting the
 * samples (at a spawn and at each invocation; they stop one sample after the
 * sandbox is idle).
 */
void sandbox_on_mem_sample(evutil_socket_t fd, short what, void *arg);
void sandbox_mem_watch(struct sandbox *sb);
/* Folds the reaped process's peak (wait4's ru_maxrss, KB) in; /proc has it no more. */
void sandbox_mem_reaped(struct sandbox *sb, long max_rss_kb);

#endif
