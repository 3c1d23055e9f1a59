/*
 * xqueue: messages to one event loop from other threads (`workers`). A
 * message is a function and its argument; xqueue_post appends it under a
 * mutex and wakes the owning loop (event_active, which needs
 * evthread_use_pthreads before the loop's event_base is made); the loop
 * runs what is queued, in order, in its own thread.
 *
 * The queue outlives its loop: xqueue_detach (in the owner's thread, before
 * its event_base is freed) stops the wake-ups; messages posted after it wait
 * until xqueue_free runs them with discard set (free what they carry).
 */
#ifndef LB_NET_XQUEUE_H
#define LB_NET_XQUEUE_H

#include <stdbool.h>

struct event_base;
struct xqueue;

/* discard: the loop is gone (free the message's resources, act on nothing). */
typedef void (*xqueue_fn)(void *arg, bool discard);

struct xqueue *xqueue_new(struct event_base *base);
/* Any thread. */
void xqueue_post(struct xqueue *q, xqueue_fn fn, void *arg);
/* Runs what is queued now (the owner's thread). */
void xqueue_run(struct xqueue *q);
/* The owner's thread, before freeing its event_base. */
void xqueue_detach(struct xqueue *q);
/* Runs what is left with discard set, then frees q. NULL-safe. */
void xqueue_free(struct xqueue *q);

#endif
