/*
 * invoke_client: one call to a remote Lambda Invoke API
 * (POST /2015-03-31/functions/{name}/invocations, lambda-runtime-api.md §4):
 * AWS Lambda itself (`endpoint: aws`, signed with SigV4), AWS's runtime
 * interface emulator in a container, `sam local start-lambda`, LocalStack,
 * or lb's own Invoke API, over http:// or https://.
 */
#ifndef LB_INVOKE_CLIENT_H
#define LB_INVOKE_CLIENT_H

#include <stddef.h>

#include "config/config.h"
#include "lambda/sandbox.h"

struct event_base;
struct http_client;
struct invoke_client;

/* Called once, from an event callback; the client frees itself afterwards. */
typedef void (*invoke_client_done_fn)(void *cookie, enum invoke_status status, const char *body, size_t n,
				      const char *error_type);

/* Starts the call (payload copied) through hc (borrowed; its pools and TLS sessions
 * are shared by every call); log_tail asks for X-Amz-Log-Type: Tail; client_context
 * (decoded JSON, or NULL) is sent base64-encoded as X-Amz-Client-Context. default_region:
 * the region of `endpoint: aws` when nothing else names one. A failure to connect or
 * to find credentials is reported through done too. A non-2xx answer other than 429 is
 * INVOKE_REJECTED, error_type its x-amzn-ErrorType (else "ServiceException"). */
struct invoke_client *invoke_client_start(struct event_base *base, struct http_client *hc,
					  const char *default_region, const struct function_cfg *fn,
					  const char *qualifier, const char *payload, size_t len,
					  const char *trace_id, const char *client_context, bool log_tail,
					  invoke_client_done_fn done,
					  void *cookie);
/* What the answer said besides its body, for use during done: its HTTP status, its
 * X-Amz-Executed-Version (NULL when absent) and its decoded X-Amz-Log-Result. */
int invoke_client_http_status(struct invoke_client *c);
/* Whether a failed call got as far as sending its request (the function may have run). */
bool invoke_client_delivered(const struct invoke_client *c);
const char *invoke_client_executed_version(const struct invoke_client *c);
struct sv invoke_client_log_tail(struct invoke_client *c);
/* Abandons the call without reporting. NULL-safe. */
void invoke_client_free(struct invoke_client *c);

/* How a 200 answer's body and X-Amz-Function-Error header read (pure, for tests):
 * the emulator sends function errors as 200 with an {errorMessage, errorType}
 * body and no header, and timeouts as "Task timed out after N.00 seconds". */
enum invoke_status invoke_client_classify(const char *body, size_t n, bool has_function_error);

#endif
