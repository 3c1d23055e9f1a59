/*
 * listeners: bind first, swap second. TLS contexts are made before any
 * socket changes, so a bad certificate fails the load with nothing moved.
 */
#include "listeners.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http_server.h"
#include "net/tls.h"
#include "base/util.h"

struct bound {
	char *address;
	bool https;
	int cfg_port;             /* the configured port (after -p), the key for reloads */
	struct http_listener *l;
	bool fresh;               /* bound by the reload in progress */
};

/* "lb: listening on http://ADDRESS:PORT", once per newly bound listener (tests read it). */
static void print_listening(const struct bound *b)
{
	bool v6 = strchr(b->address, ':') != NULL;

	printf("lb: listening on %s://%s%s%s:%u\n", b->https ? "https" : "http", v6 ? "[" : "",
	       b->address, v6 ? "]" : "", http_listener_port(b->l));
}

static bool same_listener(const struct bound *b, const struct listener_cfg *lc, int port)
{
	return b->cfg_port == lc->port && strcmp(b->address, lc->address) == 0 &&
	       (port < 0 || http_listener_port(b->l) == port);
}

/* A listener's routing.http.response.* attributes, on every answer it gives. */
static void set_answer_headers(struct http_listener *l, const struct listener_attrs *a)
{
	const char *names[RESP_H_COUNT], *values[RESP_H_COUNT];
	size_t n = 0;

	for (int i = 0; i < RESP_H_COUNT; i++) {
		if (!a->response[i])
			continue;
		names[n] = config_response_header_name((enum resp_header)i);
		values[n++] = a->response[i];
	}
	http_listener_set_answer_headers(l, names, values, n, !a->server_enabled);
}

int listener_set_bind(struct listener_set *ls, const struct config *cfg, const uint16_t *ports,
		      struct lb_err *err)
{
	size_t n = cfg->nlisteners, i, k;
	struct bound *next = xcalloc(n, sizeof(*next));
	bool *reused = xcalloc(ls->nbound + 1, sizeof(*reused));
	struct tls_listener **tls = xcalloc(n, sizeof(*tls));
	int r = -1;

	/* TLS first: a bad certificate fails the load before any socket changes. */
	for (i = 0; i < n; i++) {
		if (cfg->listeners[i].protocol == PROTO_HTTPS &&
		    !(tls[i] = tls_listener_new(cfg, &cfg->listeners[i], err)))
			goto out;
	}
	for (i = 0; i < n; i++) {
		const struct listener_cfg *lc = &cfg->listeners[i];
		int port = ports ? ports[i] : -1;

		next[i].address = xstrdup(lc->address);
		next[i].https = lc->protocol == PROTO_HTTPS;
		next[i].cfg_port = lc->port;
		for (k = 0; k < ls->nbound; k++)
			if (!reused[k] && same_listener(&ls->bound[k], lc, port))
				break;
		if (k < ls->nbound) {
			reused[k] = true;
			next[i].l = ls->bound[k].l;
			continue;
		}
		next[i].l = http_server_listen(ls->server, "listener", lc->address, ports ? port : lc->port, err);
		if (!next[i].l)
			goto out;
		next[i].fresh = true;
	}
	for (k = 0; k < ls->nbound; k++) {
		if (!reused[k])
			http_listener_close(ls->bound[k].l);
		free(ls->bound[k].address);
	}
	free(ls->bound);
	ls->bound = next;
	ls->nbound = n;
	next = NULL;
	for (i = 0; i < ls->nbound; i++) {
		http_listener_set_tls(ls->bound[i].l, tls[i]);
		tls[i] = NULL;
		set_answer_headers(ls->bound[i].l, &cfg->listeners[i].attrs);
		if (ls->bound[i].fresh && !ports)
			print_listening(&ls->bound[i]);
		ls->bound[i].fresh = false;
		http_listener_set_index(ls->bound[i].l, (int)i);
	}
	if (!ports)
		fflush(stdout);
	r = 0;
out:
	for (i = 0; next && i < n; i++) {
		if (next[i].fresh)
			http_listener_close(next[i].l);
		free(next[i].address);
	}
	free(next);
	free(reused);
	for (i = 0; i < n; i++)
		tls_listener_free(tls[i]);
	free(tls);
	return r;
}

uint16_t listener_set_port(const struct listener_set *ls, size_t i)
{
	return http_listener_port(ls->bound[i].l);
}

void listener_set_release(struct listener_set *ls)
{
	for (size_t i = 0; i < ls->nbound; i++)
		free(ls->bound[i].address);
	free(ls->bound);
	ls->bound = NULL;
	ls->nbound = 0;
}
