/*
 * access_log: writes ALB access-log lines (alog_fmt) to a file or stdout.
 * Lines are gathered in memory and written once per event-loop iteration, so
 * a busy loop iteration costs one write(2) however many requests it served.
 */
#ifndef LB_ACCESS_LOG_H
#define LB_ACCESS_LOG_H

#include "alb/alog_fmt.h"
#include "base/err.h"

struct event_base;
struct access_log;

/* path "-" is stdout; a file is opened for appending. NULL with err on failure. */
struct access_log *access_log_open(struct event_base *base, const char *path, struct lb_err *err);
const char *access_log_path(const struct access_log *al);
/* Formats and queues one line. */
void access_log_add(struct access_log *al, const struct alog_entry *e);
/* Writes what is queued now. */
void access_log_flush(struct access_log *al);
/* Reopens the file (after log rotation); keeps the old one on failure. */
int access_log_reopen(struct access_log *al, struct lb_err *err);
/* Flushes and closes. NULL-safe. */
void access_log_free(struct access_log *al);

#endif
