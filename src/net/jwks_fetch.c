/*
 * jwks_fetch: a jwt-validation action's JWKS from its URL (see jwks_fetch.h).
 * One GET with lb's http_client; the answer (at most 150 KB, ALB's limit)
 * is parsed by rules_jwks_parse into the configuration's arena, so the keys
 * live exactly as long as the configuration that uses them.
 */
#include "net/jwks_fetch.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "config/rules_jwt.h"
#include "net/http_client.h"

enum {
	JWKS_BODY_MAX = 150 * 1024,   /* ALB refuses a JWKS response over 150 KB */
	JWKS_TIMEOUT = 10,            /* seconds: connect, and idle */
};
#define JWKS_REFRESH_MIN_US (5 * 1000000LL)

struct fetch {
	struct fetch *prev, *next;    /* background refreshes in flight (the list below) */
	struct http_exchange *x;
	struct config *cfg;
	struct jwt_validation_cfg *j;
	struct event_base *base;      /* blocking mode: the private loop to break */
	struct http_client *own;      /* blocking mode: freed after */
	struct buf body;
	int status;
	bool too_big, done, unchanged;
	char msg[200];                /* why it failed; empty on success */
};

/* Background refreshes in flight on this thread's loop, so that its shutdown can cancel
 * them (each loop runs and cancels its own). */
static __thread struct fetch *inflight;

static pthread_mutex_t jwks_mu = PTHREAD_MUTEX_INITIALIZER;

void jwks_lock(void)
{
	pthread_mutex_lock(&jwks_mu);
}

void jwks_unlock(void)
{
	pthread_mutex_unlock(&jwks_mu);
}

void jwks_snapshot(const struct jwt_validation_cfg *j, struct jwt_validation_cfg *out)
{
	jwks_lock();
	*out = *j;
	jwks_unlock();
}

static void fetch_done(struct fetch *f);

static void on_head(void *cookie, struct http_reply *reply)
{
	((struct fetch *)cookie)->status = reply->status;
}

static void on_body(void *cookie, const char *p, size_t n)
{
	struct fetch *f = cookie;

	if (buf_append(&f->body, p, n))
		f->too_big = true;
}

static bool bytes_eq(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	return an == bn && memcmp(a, b, an) == 0;
}

/* Whether two key lists are the same keys in the same order. */
static bool keys_same(const struct jwk_rsa *a, size_t na, const struct jwk_rsa *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if ((!a[i].kid != !b[i].kid) || (a[i].kid && strcmp(a[i].kid, b[i].kid) != 0) ||
		    !bytes_eq(a[i].n, a[i].n_len, b[i].n, b[i].n_len) ||
		    !bytes_eq(a[i].e, a[i].e_len, b[i].e, b[i].e_len))
			return false;
	return true;
}

static void on_end(void *cookie)
{
	struct fetch *f = cookie;
	struct jwk_rsa *keys = NULL;
	size_t nkeys = 0;
	struct arena tmp = { 0 };
	const char *text = f->body.p ? f->body.p : "";
	char why[160];

	jwks_lock();     /* the arena and j's keys are shared with the other loops */
	if (f->status != 200)
		snprintf(f->msg, sizeof(f->msg), "answered %d", f->status);
	else if (f->too_big)
		snprintf(f->msg, sizeof(f->msg), "answered over 150 KB");
	else if (rules_jwks_parse(&tmp, text, f->body.len, &keys, &nkeys, why, sizeof(why)))
		snprintf(f->msg, sizeof(f->msg), "%s", why);
	/* Why: the configuration's arena only grows, and any client can make lb refetch
	 * (every 5 s, with a token no key verifies): the same keys again must cost nothing. */
	else if (!(f->unchanged = keys_same(keys, nkeys, f->j->keys, f->j->nkeys)) &&
		 rules_jwks_parse(&f->cfg->arena, text, f->body.len, &keys, &nkeys, why, sizeof(why)) == 0) {
		f->j->keys = keys;
		f->j->nkeys = nkeys;
	}
	jwks_unlock();
	arena_release(&tmp);
	fetch_done(f);
}

static void on_error(void *cookie, enum http_client_error e)
{
	struct fetch *f = cookie;

	snprintf(f->msg, sizeof(f->msg), "%s",
		 e == HTTP_CLIENT_TLS ? "the TLS handshake failed or the certificate did not verify" :
		 e == HTTP_CLIENT_REFUSED ? "the connection was refused" :
		 e == HTTP_CLIENT_CONNECT_TIMEOUT || e == HTTP_CLIENT_TIMEOUT ? "it timed out" :
		 "it did not answer over HTTP");
	fetch_done(f);
}

static const struct http_exchange_cbs fetch_cbs = { on_head, on_body, on_end, on_error, NULL };

static int fetch_start(struct fetch *f, struct http_client *hc)
{
	struct http_exchange_opts opt = { .connect_timeout = JWKS_TIMEOUT, .idle_timeout = JWKS_TIMEOUT };
	struct http_exchange *x;
	struct http_origin origin;
	struct url_parts u;
	struct buf head;

	if (url_split(f->j->jwks_endpoint, &u)) {
		snprintf(f->msg, sizeof(f->msg), "not a URL lb can fetch");
		return -1;
	}
	if (http_client_resolve(hc, &origin, u.host, u.port)) {
		snprintf(f->msg, sizeof(f->msg), "cannot resolve %.150s", u.host);
		return -1;
	}
	opt.tls = u.https;
	opt.tls_host = u.https ? u.host : NULL;
	buf_init(&f->body, JWKS_BODY_MAX);
	buf_init(&head, 0);
	buf_printf(&head, "GET %s HTTP/1.1\r\nHost: %.*s\r\nAccept: application/json\r\n"
		   "User-Agent: ELB-JWT-Validation\r\n\r\n", u.path, (int)u.authority.n, u.authority.p);
	f->x = x = http_client_start(hc, &origin, head.p, head.len, &opt, &fetch_cbs, f);
	http_exchange_request_done(x);
	buf_release(&head);
	return 0;
}

int jwks_fetch_all(struct config *cfg, struct lb_err *err)
{
	for (size_t l = 0; l < cfg->nlisteners; l++) {
		struct listener_cfg *lc = &cfg->listeners[l];

		for (size_t r = 0; r <= lc->nrules; r++) {
			struct rule *rule = r < lc->nrules ? &lc->rules[r] : &lc->default_rule;
			struct jwt_validation_cfg *j = rule->action.jwt;
			struct fetch f = { .cfg = cfg, .j = j };

			if (!j || !j->jwks_remote || j->jwks_fetched_us)
				continue;  /* none, a file, or shared and fetched already */
			f.base = event_base_new();
			f.own = f.base ? http_client_new(f.base) : NULL;
			if (f.own && fetch_start(&f, f.own) == 0 && !f.done)
				event_base_dispatch(f.base);
			http_client_free(f.own);
			if (f.base)
				event_base_free(f.base);
			buf_release(&f.body);
			jwks_lock();
			j->jwks_fetched_us = time_mono_us();
			jwks_unlock();
			if (!f.own)
				snprintf(f.msg, sizeof(f.msg), "out of memory");
			if (f.msg[0]) {
				lb_err_set(err, "%s:%d:%d: cannot fetch the JWKS %s: %s", j->pos.file,
					   j->pos.line, j->pos.col, j->jwks_endpoint, f.msg);
				return -1;
			}
		}
	}
	return 0;
}

static void refresh_free(struct fetch *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else
		inflight = f->next;
	if (f->next)
		f->next->prev = f->prev;
	buf_release(&f->body);
	config_unref(f->cfg);
	free(f);
}

void jwks_refresh_cancel_all(void)
{
	while (inflight) {
		http_exchange_cancel(inflight->x);
		jwks_lock();
		inflight->j->jwks_fetching = false;
		jwks_unlock();
		refresh_free(inflight);
	}
}

static void fetch_done(struct fetch *f)
{
	f->done = true;
	if (f->base) {          /* blocking: jwks_fetch_all carries on */
		event_base_loopbreak(f->base);
		return;
	}
	jwks_lock();
	if (f->msg[0])
		log_warn("jwt-validation: refreshing the JWKS %s failed (%s): keeping its keys",
			 f->j->jwks_endpoint, f->msg);
	else
		log_info("jwt-validation: %s the JWKS %s (%zu RSA keys)",
			 f->unchanged ? "no new key in" : "refreshed", f->j->jwks_endpoint, f->j->nkeys);
	f->j->jwks_fetching = false;
	f->j->jwks_fetched_us = time_mono_us();
	jwks_unlock();
	refresh_free(f);
}

void jwks_refresh(struct config *cfg, struct jwt_validation_cfg *j, struct http_client *hc)
{
	struct fetch *f;
	bool go;

	/* Why: a token signed with a key lb does not hold may mean the IdP rotated its keys;
	 * at most one refresh at a time (across loops), and not more often than every 5 s. */
	if (!j->jwks_remote)
		return;
	jwks_lock();
	go = !j->jwks_fetching && time_mono_us() - j->jwks_fetched_us >= JWKS_REFRESH_MIN_US;
	if (go)
		j->jwks_fetching = true;
	jwks_unlock();
	if (!go || !(f = calloc(1, sizeof(*f)))) {
		if (go) {
			jwks_lock();
			j->jwks_fetching = false;
			jwks_unlock();
		}
		return;
	}
	f->cfg = config_ref(cfg);
	f->j = j;
	f->next = inflight;
	if (inflight)
		inflight->prev = f;
	inflight = f;
	if (fetch_start(f, hc) < 0) {
		log_warn("jwt-validation: refreshing the JWKS %s failed (%s)", j->jwks_endpoint, f->msg);
		jwks_lock();
		j->jwks_fetching = false;
		j->jwks_fetched_us = time_mono_us();
		jwks_unlock();
		refresh_free(f);
	}
}
