/*
 * net: socket helpers shared by the front end (http_server), the Runtime API
 * (runtime_api) and the Invoke API (lambda_api).
 */
#ifndef LB_NET_H
#define LB_NET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "base/err.h"

/*
 * Listens on a numeric IPv4/IPv6 address ("localhost" means 127.0.0.1); port 0
 * picks a free port, reported in *bound_port. The listener accepts with
 * close-on-exec, so function processes never inherit client sockets. NULL
 * with err ("what: cannot listen on ...") on failure.
 */
struct evconnlistener *net_listen(struct event_base *base, evconnlistener_cb cb, void *arg,
				  const char *what, const char *address, int port, int backlog,
				  bool reuse_port, uint16_t *bound_port, struct lb_err *err);

/*
 * Writes what bev has queued now, from the callback that queued it, rather
 * than on the next loop turn: no write event and no epoll change per answer.
 * Returns the bytes the socket did not take (the caller enables EV_WRITE).
 */
size_t net_write_now(struct bufferevent *bev);

/*
 * net_write_now for an OpenSSL bufferevent whose handshake is done and whose
 * callbacks are deferred (BEV_OPT_DEFER_CALLBACKS): runs its write event's
 * callback now, so OpenSSL encrypts and sends from the callback that queued
 * the answer. Returns the bytes still queued.
 */
size_t net_tls_write_now(struct bufferevent *bev);

/*
 * One read(2) of up to chunk bytes from fd onto the end of in, a socket
 * bufferevent's input, for a reader that reads the socket itself: the
 * bufferevent would ask the kernel how much is readable (an ioctl) before
 * every read. Returns what read(2) returned (errno set when negative).
 */
ssize_t net_read_now(struct evbuffer *in, int fd, size_t chunk);

/*
 * A new event loop whose epoll changes wait for the next epoll_wait and
 * cancel out within one pass (libevent's changelist): a write event added
 * for an answer and deleted once it is written costs no system call. lb
 * never dup()s a descriptor it watches, which that mode requires.
 */
struct event_base *net_base_new(void);

/*
 * event_base_dispatch, one pass of the loop at a time: what functions log
 * during a pass (every event that epoll reported at once) is held and leaves
 * in one write after it (log_hold). Returns as event_base_dispatch does.
 */
int net_dispatch(struct event_base *base);

/* Raises the soft limit on open descriptors to the hard limit; the new soft
 * limit (or the old one, when it cannot be raised). */
long net_raise_fd_limit(void);

/*
 * Whether the peer acknowledged bytes on fd since *mark was last set (the
 * kernel's count of bytes acked, TCP_INFO); sets *mark to the count now.
 * A write timeout uses it to tell a slow reader from a stalled one.
 */
bool net_acked_moved(int fd, uint64_t *mark);

/* Bytes written to fd that its peer has not acknowledged yet (SIOCOUTQ); 0 on error. */
size_t net_unacked(int fd);

#endif
