/*
 * http_origin: where an exchange goes (http_client.h's struct http_origin):
 * a numeric address, or a name resolved now (blocking, fine for local
 * names), or through the client's cache, which keeps a remote name's
 * answer for a minute.
 */
#include "net/http_client_int.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static void origin_key(struct http_origin *o, int port)
{
	char ip[INET6_ADDRSTRLEN];

	if (o->addr.ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&o->addr)->sin6_addr, ip, sizeof(ip));
		snprintf(o->key, sizeof(o->key), "[%s]:%d", ip, port);
	} else {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&o->addr)->sin_addr, ip, sizeof(ip));
		snprintf(o->key, sizeof(o->key), "%s:%d", ip, port);
	}
}

int http_origin_numeric(struct http_origin *o, const char *address, int port)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)&o->addr;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&o->addr;

	memset(o, 0, sizeof(*o));
	if (inet_pton(AF_INET, address, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		o->addr_len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, address, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		o->addr_len = sizeof(*s6);
	} else {
		return -1;
	}
	origin_key(o, port);
	return 0;
}

int http_origin_resolve(struct http_origin *o, const char *host, int port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *ai = NULL, *pick;
	char service[8];

	if (http_origin_numeric(o, host, port) == 0)
		return 0;
	snprintf(service, sizeof(service), "%d", port);
	if (getaddrinfo(host, service, &hints, &ai) != 0 || !ai)
		return -1;
	/* One address is tried: an IPv4 one when the name has both. Debian's
	 * /etc/hosts gives localhost ::1 as well, and local services often
	 * listen on 127.0.0.1 only. */
	for (pick = ai; pick && pick->ai_family != AF_INET; pick = pick->ai_next)
		;
	if (!pick)
		pick = ai;
	memset(o, 0, sizeof(*o));
	memcpy(&o->addr, pick->ai_addr, pick->ai_addrlen);
	o->addr_len = pick->ai_addrlen;
	freeaddrinfo(ai);
	origin_key(o, port);
	return 0;
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
