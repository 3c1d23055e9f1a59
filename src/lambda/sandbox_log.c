/*
 * sandbox_log: what a sandbox writes to lb's stderr (sandbox_int.h).
 *
 * Each line the function (or an extension) writes becomes "[name] line",
 * and goes to Telemetry API subscribers too; a line longer than
 * LOG_LINE_MAX is logged in pieces. An invocation that asked for its log
 * tail also gets its lines in a ring (struct log_tail). Around each
 * invocation, Lambda's frame: START, then END and REPORT in one write, as
 * text or, with log_format JSON, as platform records (platform_log.h).
 */
#include "lambda/sandbox_int.h"

#include <stdarg.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "base/log.h"
#include "lambda/extensions.h"
#include "lambda/platform_log.h"
#include "lambda/telemetry.h"

/* A line longer than this is logged in pieces. */
#define LOG_LINE_MAX (64 * 1024)

static void tail_add(struct log_tail *t, const char *p, size_t n)
{
	if (n > SANDBOX_LOG_TAIL_MAX) {
		p += n - SANDBOX_LOG_TAIL_MAX;
		n = SANDBOX_LOG_TAIL_MAX;
	}
	while (n) {
		size_t k = SANDBOX_LOG_TAIL_MAX - t->end < n ? SANDBOX_LOG_TAIL_MAX - t->end : n;

		memcpy(t->ring + t->end, p, k);
		t->end = (t->end + k) % SANDBOX_LOG_TAIL_MAX;
		t->len = t->len + k < SANDBOX_LOG_TAIL_MAX ? t->len + k : SANDBOX_LOG_TAIL_MAX;
		p += k;
		n -= k;
	}
}

struct sv sandbox_log_tail(struct sandbox *sb)
{
	struct log_tail *t = sb->tail;
	size_t start;

	if (!sb->tail_ready || !t)
		return (struct sv){ "", 0 };
	start = (t->end + SANDBOX_LOG_TAIL_MAX - t->len) % SANDBOX_LOG_TAIL_MAX;
	if (start + t->len <= SANDBOX_LOG_TAIL_MAX) {
		memcpy(t->flat, t->ring + start, t->len);
	} else {
		size_t first = SANDBOX_LOG_TAIL_MAX - start;
		memcpy(t->flat, t->ring + start, first);
		memcpy(t->flat + first, t->ring, t->len - first);
	}
	return (struct sv){ t->flat, t->len };
}

/* Writes lines to lb's stderr as "[name] line", all in one write. */
void sandbox_log_lines(struct sandbox *sb, const struct sv *lines, size_t n)
{
	struct iovec v[3 * 2];

	for (size_t i = 0; i < n; i++) {
		if (sb->capturing) {
			tail_add(sb->tail, lines[i].p, lines[i].n);
			tail_add(sb->tail, "\n", 1);
		}
		v[3 * i] = (struct iovec){ sb->log_head, sb->log_head_len };
		v[3 * i + 1] = (struct iovec){ (void *)lines[i].p, lines[i].n };
		v[3 * i + 2] = (struct iovec){ "\n", 1 };
	}
	log_writev(v, (int)(3 * n));
}

void sandbox_log_line(struct sandbox *sb, const char *line, size_t n)
{
	struct sv one = { line, n };

	sandbox_log_lines(sb, &one, 1);
}

/* Appends s to line[at..cap), cut at cap. */
static size_t put(char *line, size_t at, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (n > cap - at)
		n = cap - at;
	memcpy(line + at, s, n);
	return at + n;
}

/* START, the first line of every invocation: put together without printf. */
void sandbox_log_start(struct sandbox *sb)
{
	char line[511];
	size_t n = put(line, 0, sizeof(line), "START RequestId: ");

	n = put(line, n, sizeof(line), sb->request_id);
	n = put(line, n, sizeof(line), " Version: ");
	n = put(line, n, sizeof(line), sb->version);
	sandbox_log_line(sb, line, n);
}

/* START/END/REPORT lines, framed like the function's own output. */
void sandbox_log_frame(struct sandbox *sb, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		sandbox_log_line(sb, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void drain_output(struct sandbox *sb, struct bufferevent *bev, bool eof)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	bool ext = bev == sb->xout;
	char *line;
	size_t n;

	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF))) {
		if (n && line[n - 1] == '\r')
			n--;
		sandbox_log_line(sb, line, n);
		telemetry_output(extensions_telemetry(sb->ext), ext, line, n);
		free(line);
	}
	while (evbuffer_get_length(in) >= LOG_LINE_MAX || (eof && evbuffer_get_length(in) > 0)) {
		size_t k = evbuffer_get_length(in) < LOG_LINE_MAX ? evbuffer_get_length(in) : LOG_LINE_MAX;
		char *p = (char *)evbuffer_pullup(in, (ssize_t)k);
		sandbox_log_line(sb, p, k);
		telemetry_output(extensions_telemetry(sb->ext), ext, p, k);
		evbuffer_drain(in, k);
	}
}

/*
 * Reads what is in bev's pipe now, ahead of its read event. A socket
 * bufferevent freezes its input's end so that only it appends to it: this
 * read is the bufferevent's own, done early. Plain read()s into a stack
 * buffer: evbuffer_read would ask FIONREAD first, one more system call. A
 * pipe returns all it holds up to the size asked, so a short read emptied it.
 */
static void read_now(struct bufferevent *bev)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	int fd = bufferevent_getfd(bev);
	char chunk[16384];
	ssize_t n;

	do {
		n = read(fd, chunk, sizeof(chunk));
		if (n <= 0)
			break;
		evbuffer_unfreeze(in, 0);
		evbuffer_add(in, chunk, (size_t)n);
		evbuffer_freeze(in, 0);
	} while ((size_t)n == sizeof(chunk));
}

/*
 * Logs the lines waiting in a pipe now: before END and REPORT (the runtime
 * wrote them before posting its result, and Lambda shows them first), and
 * once the process has exited (eof: a partial last line included).
 */
void sandbox_log_pending(struct sandbox *sb, struct bufferevent *bev, bool eof)
{
	if (!bev)
		return;
	read_now(bev);
	drain_output(sb, bev, eof);
}

/*
 * sandbox_log_pending for the three pipes before END, with one poll(2)
 * asking which hold anything: usually none does, and three reads would
 * each answer EAGAIN. Then the runtime's unterminated last line: Lambda
 * logs what an invocation wrote without a final newline as a line of that
 * invocation (the extensions' pipe keeps its partial line: they run on).
 */
void sandbox_log_waiting(struct sandbox *sb)
{
	struct bufferevent *bev[3] = { sb->xout, sb->out, sb->err };
	struct pollfd p[3];
	nfds_t n = 0;

	for (int i = 0; i < 3; i++)
		if (bev[i])
			p[n++] = (struct pollfd){ bufferevent_getfd(bev[i]), POLLIN, 0 };
	if (poll(p, n, 0) > 0) {
		n = 0;
		for (int i = 0; i < 3; i++)
			if (bev[i] && p[n++].revents)
				read_now(bev[i]);
	}
	for (int i = 0; i < 3; i++)
		if (bev[i])
			drain_output(sb, bev[i], bev[i] != sb->xout);
}

void sandbox_on_output(struct bufferevent *bev, void *arg)
{
	drain_output(arg, bev, false);
}

void sandbox_on_output_event(struct bufferevent *bev, short what, void *arg)
{
	struct sandbox *sb = arg;

	(void)what;
	drain_output(sb, bev, true);
	bufferevent_disable(bev, EV_READ);
}

/* --- the Lambda log frame ----------------------------------------------------- */

const char *sandbox_record_status(enum invoke_status st)
{
	switch (st) {
	case INVOKE_OK: return "success";
	case INVOKE_FUNCTION_ERROR: return "error";
	case INVOKE_EXIT: return "error";   /* the runtime gone: Lambda reports "error" with the platform's error type */
	case INVOKE_TIMEOUT: return "timeout";
	default: return "failure";
	}
}

/* The error type REPORT names: Lambda reports a sandbox killed for memory as Runtime.OutOfMemory. */
static const char *report_error_type(const struct sandbox *sb, enum invoke_status st, const char *error_type)
{
	return st == INVOKE_EXIT && sb->oom_killed ? "Runtime.OutOfMemory" : error_type;
}

/*
 * Lambda's JSON format (logging_config log_format JSON): END becomes
 * platform.runtimeDone and REPORT platform.report (platform_log.h).
 */
static void log_end_json(struct sandbox *sb, double ms, long billed, enum invoke_status st,
			 size_t produced, const char *error_type)
{
	struct platform_end e = { sb->request_id, sandbox_record_status(st), error_type, ms, billed,
				  sb->memory_size, 0, -1, produced };
	char t[28], done[512], report[640];
	struct sv lines[2];

	if (!sb->init_reported) {
		e.init_ms = sb->init_ms;
		sb->init_reported = true;
	}
	if (!sb->system_info)
		return;   /* system_log_level WARN: these INFO records are filtered out */
	e.max_memory_mb = sandbox_peak_memory_mb(sb);
	platform_time(time_wall_us(), t);
	lines[0] = (struct sv){ done, platform_runtime_done(done, sizeof(done), t, &e) };
	lines[1] = (struct sv){ report, platform_report(report, sizeof(report), t, &e) };
	sandbox_log_lines(sb, lines, 2);
}

/* Appends v in decimal. */
static size_t put_num(char *line, size_t at, size_t cap, long v)
{
	char d[21];

	dec_u64(v > 0 ? (uint64_t)v : 0, d);
	return put(line, at, cap, d);
}

/* Appends us as milliseconds with two decimals, as Lambda's REPORT shows them. */
static size_t put_ms(char *line, size_t at, size_t cap, int64_t us)
{
	char d[24];

	dec_ms2(us, d);
	return put(line, at, cap, d);
}

void sandbox_log_end(struct sandbox *sb, enum invoke_status st, size_t produced,
		    const char *error_type)
{
	int64_t us = time_mono_us() - sb->started_us;
	/* Lambda bills whole milliseconds, rounded up. */
	long billed = (long)((us + 999) / 1000);
	char end[96], report[384];
	struct sv lines[2];
	size_t n;

	if (sb->json_logs) {
		log_end_json(sb, (double)us / 1000.0, billed, st, st == INVOKE_OK ? produced : 0,
			     report_error_type(sb, st, error_type));
		return;
	}
	/* Put together without printf: this runs once per invocation. */
	n = put(end, 0, sizeof(end), "END RequestId: ");
	lines[0] = (struct sv){ end, put(end, n, sizeof(end), sb->request_id) };
	n = put(report, 0, sizeof(report), "REPORT RequestId: ");
	n = put(report, n, sizeof(report), sb->request_id);
	n = put(report, n, sizeof(report), "\tDuration: ");
	n = put_ms(report, n, sizeof(report), us);
	n = put(report, n, sizeof(report), " ms\tBilled Duration: ");
	n = put_num(report, n, sizeof(report), billed);
	n = put(report, n, sizeof(report), " ms\tMemory Size: ");
	n = put_num(report, n, sizeof(report), sb->memory_size);
	n = put(report, n, sizeof(report), " MB\tMax Memory Used: ");
	n = put_num(report, n, sizeof(report), sandbox_peak_memory_mb(sb));
	n = put(report, n, sizeof(report), " MB");
	/* Only a cold start's REPORT has Init Duration. */
	if (!sb->init_reported) {
		n = put(report, n, sizeof(report), "\tInit Duration: ");
		n = put_ms(report, n, sizeof(report), (int64_t)(sb->init_ms * 1000.0 + 0.5));
		n = put(report, n, sizeof(report), " ms");
		sb->init_reported = true;
	}
	/* Lambda's REPORT ends with how the platform saw a failed invocation: a
	 * timeout, or the runtime gone (a handler's own error adds nothing). */
	if (st == INVOKE_TIMEOUT) {
		n = put(report, n, sizeof(report), "\tStatus: timeout");
	} else if (st == INVOKE_EXIT && error_type) {
		n = put(report, n, sizeof(report), "\tStatus: error\tError Type: ");
		n = put(report, n, sizeof(report), report_error_type(sb, st, error_type));
	}
	lines[1] = (struct sv){ report, n };
	/* END and REPORT leave in one write. */
	sandbox_log_lines(sb, lines, 2);
}
