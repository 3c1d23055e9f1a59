/*
 * err: a failure with a message a person will read, e.g.
 * "config/lb.yaml:12:5: unknown key 'prority'". Load-time code fills one and
 * returns -1 in a single line: return lb_err_set(err, "...", ...);
 */
#ifndef LB_ERR_H
#define LB_ERR_H

struct lb_err {
	char msg[1024];
};

/* Formats the message into err (if not NULL) and returns -1. */
int lb_err_set(struct lb_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, prefixed with "file:line:col: " (line and col 1-based; col 0 omits it). */
int lb_err_at(struct lb_err *err, const char *file, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif
