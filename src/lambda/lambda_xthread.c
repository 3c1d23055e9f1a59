/*
 * lambda_xthread: an invocation crosses to the main thread as one message
 * (run), its result comes back as one (done), and a cancel is one more
 * (cancel). The worker's side (cancelled) is touched only by the worker, the
 * main side (inv, state) only by main; the queues' mutex orders the rest.
 *
 * Who frees it: the worker after done; main when a cancel reaches it before
 * the result left; and when a cancel crosses the result, both hold it and
 * the last of the two (refs) frees it.
 */
#include "lambda/lambda_xthread.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "net/xqueue.h"

struct xlambda {
	struct lambda *l;
	struct xqueue *main_q, *own_q;
};

enum xstate { X_QUEUED, X_RUNNING, X_RETURNED };

struct xinvocation {
	struct xlambda *x;
	/* the request: copied by the worker, read by main */
	struct config *cfg;
	const struct function_cfg *fn;
	const char *qualifier;
	char *payload;
	size_t len;
	char *trace_id;
	bool log_tail;
	/* worker side */
	invoke_done_fn done;
	void *cookie;
	bool cancelled;
	int refs;                  /* atomic: 2, until a side lets go after a crossing */
	/* main side */
	struct invocation *inv;
	enum xstate state;
	/* the result: written by main, read by the worker */
	struct invoke_result res;
	char *r_payload, *r_error_type, *r_version, *r_request_id, *r_log;
};

struct xlambda *xlambda_new(struct lambda *l, struct xqueue *main_q, struct xqueue *own_q)
{
	struct xlambda *x = xcalloc(1, sizeof(*x));

	x->l = l;
	x->main_q = main_q;
	x->own_q = own_q;
	return x;
}

void xlambda_free(struct xlambda *x)
{
	free(x);
}

static void xinv_free(struct xinvocation *xi)
{
	config_unref(xi->cfg);
	free(xi->payload);
	free(xi->trace_id);
	free(xi->r_payload);
	free(xi->r_error_type);
	free(xi->r_version);
	free(xi->r_request_id);
	free(xi->r_log);
	free(xi);
}

static char *dup_n(const char *p, size_t n)
{
	char *s = xmalloc(n + 1);

	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static char *dup_opt(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* --- the worker's thread ------------------------------------------------------------ */

static void on_returned(void *arg, bool discard)
{
	struct xinvocation *xi = arg;

	if (!xi->cancelled) {
		/* No cancel will come: main is done with it. */
		if (!discard)
			xi->done(xi->cookie, &xi->res);
		xinv_free(xi);
		return;
	}
	if (__atomic_sub_fetch(&xi->refs, 1, __ATOMIC_ACQ_REL) == 0)
		xinv_free(xi);
}

/* --- the main thread ---------------------------------------------------------------- */

static void on_main_done(void *cookie, const struct invoke_result *res)
{
	struct xinvocation *xi = cookie;

	xi->inv = NULL;
	xi->state = X_RETURNED;
	xi->res = *res;
	xi->r_payload = dup_n(res->payload ? res->payload : "", res->payload ? res->len : 0);
	xi->r_error_type = dup_opt(res->error_type);
	xi->r_version = dup_opt(res->version);
	xi->r_request_id = dup_opt(res->request_id);
	xi->r_log = dup_n(res->log ? res->log : "", res->log ? res->log_len : 0);
	xi->res.payload = xi->r_payload;
	xi->res.error_type = xi->r_error_type;
	xi->res.version = xi->r_version;
	xi->res.request_id = xi->r_request_id;
	xi->res.log = xi->r_log;
	xqueue_post(xi->x->own_q, on_returned, xi);
}

static void on_run(void *arg, bool discard)
{
	struct xinvocation *xi = arg;
	/* Only ALB's invocations cross threads: no client context. */
	struct invoke_request req = { xi->cfg, xi->fn, xi->qualifier, xi->payload, xi->len, xi->trace_id,
				      xi->log_tail, NULL };

	if (discard)
		return;     /* its cancel follows and frees it */
	xi->state = X_RUNNING;
	xi->inv = lambda_invoke(xi->x->l, &req, on_main_done, xi);
}

static void on_cancel(void *arg, bool discard)
{
	struct xinvocation *xi = arg;

	(void)discard;     /* main's queue is freed before its lambda: cancel anyway */
	if (xi->state == X_RETURNED) {
		/* The result crossed the cancel: the worker holds it too. */
		if (__atomic_sub_fetch(&xi->refs, 1, __ATOMIC_ACQ_REL) == 0)
			xinv_free(xi);
		return;
	}
	if (xi->inv)
		lambda_cancel(xi->inv);
	xinv_free(xi);       /* lambda_cancel: done never comes */
}

/* --- the worker's thread ------------------------------------------------------------ */

struct xinvocation *xlambda_invoke(struct xlambda *x, const struct invoke_request *req, invoke_done_fn done,
				   void *cookie)
{
	struct xinvocation *xi = xcalloc(1, sizeof(*xi));

	xi->x = x;
	xi->cfg = config_ref(req->cfg);
	xi->fn = req->fn;
	xi->qualifier = req->qualifier;
	xi->payload = dup_n(req->payload, req->len);
	xi->len = req->len;
	xi->trace_id = dup_opt(req->trace_id);
	xi->log_tail = req->log_tail;
	xi->done = done;
	xi->cookie = cookie;
	xi->refs = 2;
	xqueue_post(x->main_q, on_run, xi);
	return xi;
}

void xlambda_cancel(struct xinvocation *xi)
{
	xi->cancelled = true;
	xqueue_post(xi->x->main_q, on_cancel, xi);
}
