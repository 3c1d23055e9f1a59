/*
 * http_listener: a server's listening sockets — binding one, closing it with
 * its connections, its number in the configuration, the headers and TLS it
 * answers with, and the pause in accepting when descriptors run out.
 * Accepted connections go to http_server.c (conn_on_accept).
 */
#include "net/http_conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "base/log.h"
#include "net/h2_server.h"
#include "net/net.h"
#include "net/tls.h"

/* A pause in accepting when descriptors run out. */
#define ACCEPT_PAUSE_MS 100

static void on_accept_resume(evutil_socket_t fd, short what, void *arg)
{
	struct http_listener *l = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(l->ev);
}

static void on_accept_error(struct evconnlistener *ev, void *arg)
{
	struct http_listener *l = arg;
	struct timeval pause = { 0, ACCEPT_PAUSE_MS * 1000 };
	int e = errno;

	if (e != EMFILE && e != ENFILE && e != ENOBUFS && e != ENOMEM) {
		log_warn("accept failed: %s", strerror(e));
		return;
	}
	/* The refused connection stays in the backlog and keeps the listener
	 * readable: retrying at once would spin, so accepting pauses and the
	 * connections already open go on being served. The figures are the
	 * process's: descriptors are one pool for every server and thread. */
	if (!l->starved) {
		struct rlimit rl;
		char limit[24] = "unknown";

		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
			dec_u64((uint64_t)rl.rlim_cur, limit);
		log_warn("out of descriptors (%s; limit %s) with %zu client connections open in lb: "
			 "new connections wait", strerror(e), limit, conn_count_in_process());
	}
	l->starved = true;
	evconnlistener_disable(ev);
	evtimer_add(l->accept_resume, &pause);
}

struct http_listener *http_server_listen(struct http_server *s, const char *what, const char *address,
					 int port, struct lb_err *err)
{
	struct http_listener *l = xcalloc(1, sizeof(*l));

	l->srv = s;
	l->ev = net_listen(s->base, conn_on_accept, l, what, address, port, 1024, s->reuse_port, &l->port, err);
	if (!l->ev) {
		free(l);
		return NULL;
	}
	evconnlistener_set_error_cb(l->ev, on_accept_error);
	l->accept_resume = evtimer_new(s->base, on_accept_resume, l);
	l->next = s->listeners;
	if (s->listeners)
		s->listeners->prev = l;
	s->listeners = l;
	return l;
}

uint16_t http_listener_port(const struct http_listener *l)
{
	return l->port;
}

void http_listener_set_index(struct http_listener *l, int index)
{
	l->index = index;
	/* A listener's connections are its own, not every one on its port:
	 * two listeners may share a port on different addresses. */
	for (struct conn *c = l->srv->conns; c; c = c->next) {
		if (c->listener != l)
			continue;
		c->listener_index = index;
		/* A request not shown to the owner yet is routed with the
		 * configuration that numbered the listeners so. */
		if (c->state == CONN_HEAD)
			c->req.listener = index;
	}
}

void http_listener_close(struct http_listener *l)
{
	struct http_server *s;

	if (!l)
		return;
	s = l->srv;
	if (l->prev)
		l->prev->next = l->next;
	else
		s->listeners = l->next;
	if (l->next)
		l->next->prev = l->prev;
	/* Its connections end with the request they are in (ALB closes the
	 * connections of a deleted listener); idle ones at once. */
	for (struct conn *c = s->conns, *next; c; c = next) {
		next = c->next;
		if (c->listener != l)
			continue;
		c->listener = NULL;
		if (c->h2)
			h2_conn_shutdown(c->h2);
		else if (c->state == CONN_HEAD)
			conn_free(c);
		else
			c->close_after = true;
	}
	evconnlistener_free(l->ev);
	event_free(l->accept_resume);
	tls_listener_free(l->tls);
	answer_extra_unref(l->extra);
	free(l);
}

void answer_extra_unref(struct answer_extra *x)
{
	if (!x || --x->refs > 0)
		return;
	for (size_t i = 0; i < x->n; i++) {
		free((char *)x->headers[i].name.p);
		free((char *)x->headers[i].value.p);
	}
	free(x->headers);
	free(x);
}

void http_listener_set_answer_headers(struct http_listener *l, const char *const *names,
				      const char *const *values, size_t n, bool no_server)
{
	struct answer_extra *x = NULL;

	if (n || no_server) {
		x = xcalloc(1, sizeof(*x));
		x->refs = 1;
		x->no_server = no_server;
		x->headers = xcalloc(n ? n : 1, sizeof(*x->headers));
		for (size_t i = 0; i < n; i++) {
			x->headers[i].name = sv_from(xstrdup(names[i]));
			x->headers[i].value = sv_from(xstrdup(values[i]));
		}
		x->n = n;
	}
	answer_extra_unref(l->extra);
	l->extra = x;
}

void http_listener_set_tls(struct http_listener *l, struct tls_listener *tls)
{
	if (l->tls == tls)
		return;
	tls_listener_free(l->tls);
	l->tls = tls;
}
