/*
 * xqueue: a mutex-protected singly linked list of messages and one event of
 * the owning loop, made active by whoever posts into an empty queue (one
 * wake-up per batch, not per message).
 */
#include "net/xqueue.h"

#include <pthread.h>
#include <stdlib.h>

#include <event2/event.h>

#include "base/util.h"

struct xmsg {
	struct xmsg *next;
	xqueue_fn fn;
	void *arg;
};

struct xqueue {
	pthread_mutex_t mu;
	struct xmsg *head, **tail;
	struct event *ev;       /* NULL once detached */
};

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	xqueue_run(arg);
}

struct xqueue *xqueue_new(struct event_base *base)
{
	struct xqueue *q = xcalloc(1, sizeof(*q));

	pthread_mutex_init(&q->mu, NULL);
	q->tail = &q->head;
	q->ev = event_new(base, -1, 0, on_wake, q);
	return q;
}

void xqueue_post(struct xqueue *q, xqueue_fn fn, void *arg)
{
	struct xmsg *m = xcalloc(1, sizeof(*m));
	bool wake;

	m->fn = fn;
	m->arg = arg;
	pthread_mutex_lock(&q->mu);
	wake = q->head == NULL && q->ev;
	*q->tail = m;
	q->tail = &m->next;
	if (wake)
		event_active(q->ev, EV_READ, 0);
	pthread_mutex_unlock(&q->mu);
}

static struct xmsg *take_all(struct xqueue *q)
{
	struct xmsg *m;

	pthread_mutex_lock(&q->mu);
	m = q->head;
	q->head = NULL;
	q->tail = &q->head;
	pthread_mutex_unlock(&q->mu);
	return m;
}

static void run_list(struct xmsg *m, bool discard)
{
	while (m) {
		struct xmsg *next = m->next;

		m->fn(m->arg, discard);
		free(m);
		m = next;
	}
}

void xqueue_run(struct xqueue *q)
{
	run_list(take_all(q), false);
}

void xqueue_detach(struct xqueue *q)
{
	pthread_mutex_lock(&q->mu);
	if (q->ev)
		event_free(q->ev);
	q->ev = NULL;
	pthread_mutex_unlock(&q->mu);
}

void xqueue_free(struct xqueue *q)
{
	struct xmsg *m;

	if (!q)
		return;
	xqueue_detach(q);
	while ((m = take_all(q)) != NULL)
		run_list(m, true);
	pthread_mutex_destroy(&q->mu);
	free(q);
}
