/*
 * lambda_api: lb's own Lambda Invoke API, served when the configuration
 * has `lambda_api: {port: N}` (lambda-runtime-api.md §4): the AWS SDKs, the
 * AWS CLI or curl invoke the configured functions, their versions and
 * aliases with POST /2015-03-31/functions/{FunctionName}/invocations,
 * synchronously (RequestResponse), in the background (Event) or not at all
 * (DryRun), with the log tail and AWS's error answers.
 *
 * The server outlives its listeners, as http_server's does: a reload that
 * moves the API to another address binds a new listener and closes the old
 * one, and connections accepted by the old one carry on.
 */
#ifndef LB_LAMBDA_API_H
#define LB_LAMBDA_API_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "base/err.h"
#include "base/util.h"

struct event_base;
struct lambda;
struct lambda_api;
struct http_listener;

/* lambda and rng are borrowed and must outlive the server. */
struct lambda_api *lambda_api_new(struct event_base *base, struct lambda *lambda, struct rng *rng);
/* Names resolve against cfg from now on (takes a reference). */
void lambda_api_set_config(struct lambda_api *api, struct config *cfg);

/* Binds a numeric address (port 0: a free one). NULL with err on failure.
 * http_listener_port and http_listener_close (net/http_server.h) apply. */
struct http_listener *lambda_api_listen(struct lambda_api *api, const char *address, int port,
					struct lb_err *err);

/* Stops accepting and closes idle connections; requests in flight finish
 * (their connections close after the answer), Event invocations run on. */
void lambda_api_shutdown(struct lambda_api *api);
/* The drain ran out: every RequestResponse invocation still in flight is
 * answered 500 ServiceException (one warning line each) and cancelled; its
 * sandbox is stopped at lambda_free. Returns how many. */
unsigned lambda_api_cut(struct lambda_api *api);
/* Connections with a request in flight plus Event attempts running (events
 * waiting for a retry are not counted: they are dropped at exit). */
size_t lambda_api_busy(const struct lambda_api *api);
/* Closes everything, cancels what still runs and frees api. NULL-safe;
 * call it before lambda_free. */
void lambda_api_free(struct lambda_api *api);

#endif
