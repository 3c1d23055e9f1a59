/*
 * log: lb's own diagnostics, one line each on stderr ("lb: warning: ...").
 * The level is chosen once at start-up by main (-v, -q) and never changes
 * while serving; it is the only process-wide setting in lb.
 */
#ifndef LB_LOG_H
#define LB_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Bytes from outside (a function's error document, say) made fit for one log
 * line: p[0..n) copied into out (cap bytes, NUL-terminated), each control byte
 * written as \n, \r, \t, \0 or \xHH, cut with "..." where it does not fit.
 * With ascii, every byte past 0x7f is \xHH too: for bytes from the network,
 * whose UTF-8 may hide C1 controls a terminal obeys (U+009B is CSI). Returns out.
 */
const char *log_escape(char *out, size_t cap, const char *p, size_t n, bool ascii);

/*
 * Functions' lines (sandbox_log.c) go out with log_writev. Between
 * log_hold and log_release (one pass of an event loop: net_dispatch) they
 * are gathered, per thread, and leave in one write at the release: the
 * END, REPORT and START lines of every invocation ending in a pass cost
 * one system call. lb's own lines write what is held first, so the order
 * is kept.
 */
struct iovec;
void log_writev(const struct iovec *v, int n);
void log_hold(void);
void log_release(void);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
