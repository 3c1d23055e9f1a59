/* net: numeric addresses only; lb never resolves names to listen on. */
#include "net/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <linux/sockios.h>
#include <linux/tcp.h>   /* struct tcp_info with tcpi_bytes_acked (glibc's lacks it) */
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/bufferevent_struct.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "base/log.h"

static int parse_address(const char *address, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (strcmp(address, "localhost") == 0)
		address = "127.0.0.1";
	if (inet_pton(AF_INET, address, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, address, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return 0;
	}
	return -1;
}

struct evconnlistener *net_listen(struct event_base *base, evconnlistener_cb cb, void *arg,
				  const char *what, const char *address, int port, int backlog,
				  bool reuse_port, uint16_t *bound_port, struct lb_err *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct evconnlistener *ev;

	if (parse_address(address, port, &ss, &len) < 0) {
		lb_err_set(err, "%s: cannot listen on '%s': not a numeric IP address", what, address);
		return NULL;
	}
	ev = evconnlistener_new_bind(base, cb, arg, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC |
				     (reuse_port ? LEV_OPT_REUSEABLE_PORT : 0), backlog, (struct sockaddr *)&ss, (int)len);
	if (!ev) {
		int e = errno;

		lb_err_set(err, "%s: cannot listen on %s:%d: %s%s", what, address, port, strerror(e),
			   e == EADDRINUSE ? " (another process, perhaps another lb, has it: stop it, "
					     "or choose another port; 0 takes a free one)" : "");
		return NULL;
	}
	len = sizeof(ss);
	getsockname(evconnlistener_get_fd(ev), (struct sockaddr *)&ss, &len);
	*bound_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						 : ((struct sockaddr_in *)&ss)->sin_port);
	return ev;
}

struct event_base *net_base_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (!cfg)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

int net_dispatch(struct event_base *base)
{
	int r;

	for (;;) {
		log_hold();
		r = event_base_loop(base, EVLOOP_ONCE);
		log_release();
		if (r != 0 || event_base_got_exit(base) || event_base_got_break(base))
			return r;
	}
}

size_t net_write_now(struct bufferevent *bev)
{
	struct evbuffer *out = bufferevent_get_output(bev);

	if (evbuffer_get_length(out)) {
		/* A socket bufferevent freezes its output's start so only it drains
		 * it; this write is the bufferevent's own, done early. */
		evbuffer_unfreeze(out, 1);
		evbuffer_write(out, bufferevent_getfd(bev));
		evbuffer_freeze(out, 1);
	}
	return evbuffer_get_length(out);
}

size_t net_tls_write_now(struct bufferevent *bev)
{
	struct evbuffer *out = bufferevent_get_output(bev);
	struct event *ev = &bev->ev_write;

	if (!evbuffer_get_length(out))
		return 0;
	bufferevent_enable(bev, EV_WRITE);
	/* libevent's OpenSSL bufferevent writes only from its write event, one
	 * loop turn (an epoll change and a wake-up) later. Once the handshake is
	 * done, that event's callback writes while EV_WRITE is enabled and
	 * deletes the event when the output is empty; the owner's callbacks it
	 * runs are deferred. */
	if (SSL_is_init_finished(bufferevent_openssl_get_ssl(bev)))
		event_get_callback(ev)(event_get_fd(ev), EV_WRITE, event_get_callback_arg(ev));
	return evbuffer_get_length(out);
}

ssize_t net_read_now(struct evbuffer *in, int fd, size_t chunk)
{
	struct evbuffer_iovec v;
	ssize_t n;

	/* The bufferevent freezes its input's end so only it appends; the caller is its reader now. */
	evbuffer_unfreeze(in, 0);
	evbuffer_reserve_space(in, (ev_ssize_t)chunk, &v, 1);
	n = read(fd, v.iov_base, v.iov_len);
	if (n > 0) {
		v.iov_len = (size_t)n;
		evbuffer_commit_space(in, &v, 1);
	}
	evbuffer_freeze(in, 0);
	return n;
}

long net_raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		struct rlimit want = { rl.rlim_max, rl.rlim_max };
		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			rl.rlim_cur = rl.rlim_max;
	}
	return rl.rlim_cur == RLIM_INFINITY ? -1 : (long)rl.rlim_cur;
}

bool net_acked_moved(int fd, uint64_t *mark)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	uint64_t was = *mark;

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return false;
	*mark = ti.tcpi_bytes_acked;
	return *mark != was;
}

size_t net_unacked(int fd)
{
	int n = 0;

	return ioctl(fd, SIOCOUTQ, &n) == 0 && n > 0 ? (size_t)n : 0;
}
