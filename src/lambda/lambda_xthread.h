/*
 * lambda_xthread: Lambda invocations from a worker's event loop (`workers`),
 * run by the one struct lambda on the main thread — one sandbox pool for
 * every loop. Same contract as lambda_invoke/lambda_cancel (lambda.h): done
 * is called exactly once, later, in the worker's thread, unless cancelled.
 *
 * Ownership: xlambda_invoke copies the payload and trace id once into the
 * invocation (and references req->cfg); the main thread copies the result
 * into it once; the worker frees it after done, or main frees it when a
 * cancel reaches it first. A cancel that crosses the result on its way back
 * is settled by the worker: it drops the result and frees the invocation.
 */
#ifndef LB_LAMBDA_XTHREAD_H
#define LB_LAMBDA_XTHREAD_H

#include "lambda/lambda.h"

struct xqueue;
struct xlambda;
struct xinvocation;

/* A worker's way to l: main_q runs on l's thread, own_q on the worker's. Borrowed. */
struct xlambda *xlambda_new(struct lambda *l, struct xqueue *main_q, struct xqueue *own_q);
void xlambda_free(struct xlambda *x);

/* The worker's thread. */
struct xinvocation *xlambda_invoke(struct xlambda *x, const struct invoke_request *req, invoke_done_fn done,
				   void *cookie);
void xlambda_cancel(struct xinvocation *inv);

#endif
