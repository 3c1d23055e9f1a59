/*
 * access_log: a pending-lines buffer and a flush event. The first line queued
 * in an event-loop iteration activates the flush event, which libevent runs
 * after the callbacks already active in that iteration: one write per
 * iteration, lines never delayed past it.
 *
 * With `workers`, each loop has its own access_log on the same path (each
 * fd O_APPEND); one process-wide mutex around each flush's writes keeps a
 * flush's whole lines together even when write(2) is short (a pipe, stdout).
 */
#include "access_log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/util.h"

struct access_log {
	char *path;
	int fd;
	struct buf pending;
	struct event *flush_ev;
	bool flush_armed;
};

static pthread_mutex_t write_mu = PTHREAD_MUTEX_INITIALIZER;

static int open_path(const char *path, struct lb_err *err)
{
	int fd;

	if (strcmp(path, "-") == 0)
		return dup(STDOUT_FILENO);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		lb_err_set(err, "cannot open access log '%s': %s", path, strerror(errno));
	return fd;
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	access_log_flush(arg);
}

struct access_log *access_log_open(struct event_base *base, const char *path, struct lb_err *err)
{
	struct access_log *al;
	int fd = open_path(path, err);

	if (fd < 0)
		return NULL;
	al = xcalloc(1, sizeof(*al));
	al->path = xstrdup(path);
	al->fd = fd;
	buf_init(&al->pending, 0);
	al->flush_ev = event_new(base, -1, 0, on_flush, al);
	return al;
}

const char *access_log_path(const struct access_log *al)
{
	return al->path;
}

void access_log_add(struct access_log *al, const struct alog_entry *e)
{
	alog_format(&al->pending, e);
	if (!al->flush_armed) {
		al->flush_armed = true;
		event_active(al->flush_ev, EV_TIMEOUT, 0);
	}
}

void access_log_flush(struct access_log *al)
{
	size_t off = 0;

	al->flush_armed = false;
	if (!al->pending.len)
		return;
	pthread_mutex_lock(&write_mu);
	while (off < al->pending.len) {
		ssize_t n = write(al->fd, al->pending.p + off, al->pending.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warn("access log '%s': %s; %zu bytes dropped", al->path,
				 n < 0 ? strerror(errno) : "short write", al->pending.len - off);
			break;
		}
		off += (size_t)n;
	}
	pthread_mutex_unlock(&write_mu);
	buf_reset(&al->pending);
}

int access_log_reopen(struct access_log *al, struct lb_err *err)
{
	int fd;

	access_log_flush(al);
	fd = open_path(al->path, err);
	if (fd < 0)
		return -1;
	close(al->fd);
	al->fd = fd;
	return 0;
}

void access_log_free(struct access_log *al)
{
	if (!al)
		return;
	access_log_flush(al);
	event_free(al->flush_ev);
	close(al->fd);
	buf_release(&al->pending);
	free(al->path);
	free(al);
}
