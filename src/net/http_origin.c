/*
 * http_origin: where an exchange goes (http_client.h's struct http_origin):
 * a numeric address, or a name resolved now (blocking, fine for local
 * names), or through the client's cache, which keeps a remote name's
 * answer for a minute. A name with both IPv4 and IPv6 addresses keeps one of
 * each, IPv4 first and the other as the alternate a refused connection falls
 * back to; which of them an origin tries first is the client's (struct
 * http_origin_pref), moved here by http_origin_answered.
 */
#include "net/http_client_int.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/util.h"

#define RESOLVE_TTL_SECONDS 60
#define RESOLVE_MAX 64

struct resolved {
	struct resolved *next;
	char *host;
	int port;
	int64_t expires;               /* monotonic seconds */
	struct http_origin origin;
};

/* Sets the port of sa (IPv4 or IPv6) and writes its pool name into key. */
static void addr_set_port(struct sockaddr_storage *sa, int port, char *key, size_t n)
{
	char ip[INET6_ADDRSTRLEN];

	if (sa->ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
		s6->sin6_port = htons((uint16_t)port);
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(key, n, "[%s]:%d", ip, port);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
		s4->sin_port = htons((uint16_t)port);
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(key, n, "%s:%d", ip, port);
	}
}

void http_origin_set_port(struct http_origin *o, int port)
{
	addr_set_port(&o->addr, port, o->key, sizeof(o->key));
	if (o->alt_len)
		addr_set_port(&o->alt, port, o->alt_key, sizeof(o->alt_key));
}

const struct sockaddr *http_origin_addr(const struct http_origin *o, bool alt, socklen_t *len)
{
	*len = alt ? o->alt_len : o->addr_len;
	return (const struct sockaddr *)(alt ? &o->alt : &o->addr);
}

int http_origin_numeric(struct http_origin *o, const char *address, int port)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&o->addr;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&o->addr;

	memset(o, 0, sizeof(*o));
	if (inet_pton(AF_INET, address, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		o->addr_len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, address, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		o->addr_len = sizeof(*s6);
	} else {
		return -1;
	}
	http_origin_set_port(o, port);
	return 0;
}

int http_origin_resolve(struct http_origin *o, const char *host, int port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai = NULL;
	char service[8];

	if (http_origin_numeric(o, host, port) == 0)
		return 0;
	snprintf(service, sizeof(service), "%d", port);
	if (getaddrinfo(host, service, &hints, &ai) != 0 || !ai)
		return -1;
	http_origin_from_addrinfo(o, ai, port);
	freeaddrinfo(ai);
	return 0;
}

static const struct addrinfo *first_of(const struct addrinfo *ai, int family)
{
	while (ai && ai->ai_family != family)
		ai = ai->ai_next;
	return ai;
}

void http_origin_from_addrinfo(struct http_origin *o, const struct addrinfo *ai, int port)
{
	/* IPv4 first, whatever order getaddrinfo prefers: Debian's /etc/hosts
	 * gives localhost ::1 as well, and local services often listen on
	 * 127.0.0.1 only. IPv6 is the alternate: Node >= 17 servers listen
	 * on ::1 only when told "localhost". */
	const struct addrinfo *v4 = first_of(ai, AF_INET), *v6 = first_of(ai, AF_INET6);
	const struct addrinfo *pick = v4 ? v4 : v6 ? v6 : ai;

	memset(o, 0, sizeof(*o));
	memcpy(&o->addr, pick->ai_addr, pick->ai_addrlen);
	o->addr_len = pick->ai_addrlen;
	if (v4 && v6) {
		memcpy(&o->alt, v6->ai_addr, v6->ai_addrlen);
		o->alt_len = v6->ai_addrlen;
	}
	http_origin_set_port(o, port);
}

bool http_origin_alt_first(const struct http_origin_pref *p, const struct http_origin *o)
{
	return o->alt_len && p->alt_first;
}

void http_origin_answered(struct http_origin_pref *p, const struct http_origin *o, bool alt, bool fell_back,
			  const char *what)
{
	if (!o->alt_len)
		return;
	/* Sticky: a steady state costs no refused connect per new connection. */
	p->alt_first = alt;
	if (!fell_back || p->logged)
		return;
	p->logged = true;
	log_info("%s %s refused the connection; %s, the other address of its name, took it and is tried first "
		 "from now on", what, alt ? o->key : o->alt_key, alt ? o->alt_key : o->key);
}

int http_client_resolve(struct http_client *hc, struct http_origin *o, const char *host, int port)
{
	struct timespec now;
	struct resolved **pp, *r;
	size_t n = 0;

	if (http_origin_numeric(o, host, port) == 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	for (pp = &hc->resolved; (r = *pp); n++) {
		if (r->expires <= now.tv_sec || n >= RESOLVE_MAX) {
			*pp = r->next;       /* stale, or past the cap: forgotten */
			free(r->host);
			free(r);
			continue;
		}
		if (r->port == port && strcmp(r->host, host) == 0) {
			*o = r->origin;
			return 0;
		}
		pp = &r->next;
	}
	if (http_origin_resolve(o, host, port) < 0)
		return -1;
	r = xcalloc(1, sizeof(*r));
	r->host = xstrdup(host);
	r->port = port;
	r->expires = now.tv_sec + RESOLVE_TTL_SECONDS;
	r->origin = *o;
	r->next = hc->resolved;
	hc->resolved = r;
	return 0;
}

void hc_forget_names(struct http_client *hc)
{
	while (hc->resolved) {
		struct resolved *r = hc->resolved;
		hc->resolved = r->next;
		free(r->host);
		free(r);
	}
}
