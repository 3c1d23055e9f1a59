/*
 * invoke_api: the rules of Lambda's Invoke operation (lambda-runtime-api.md
 * §4, AWS's API_Invoke) for lb's own Invoke API server (lambda_api.c):
 * which function and qualifier a request names, its invocation and log
 * types, its payload limits, and the JSON error documents AWS answers with.
 *
 * Pure: no sockets, no libevent. Everything is a function of the request's
 * parts and the configuration.
 */
#ifndef LB_INVOKE_API_H
#define LB_INVOKE_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "config/config.h"
#include "base/util.h"

/* Why: Lambda's payload quotas, 6 MB synchronous and 1 MB asynchronous
 * (API_Invoke; AWS's own 413 messages give 6291456 bytes). */
#define INVOKE_SYNC_PAYLOAD_MAX (6 * 1024 * 1024)
#define INVOKE_ASYNC_PAYLOAD_MAX (1024 * 1024)
/* Why: Lambda's limit on X-Amz-Client-Context, in bytes of its base64 (API_Invoke). */
#define INVOKE_CLIENT_CONTEXT_MAX 3583

enum invoke_type { INVOKE_TYPE_REQUEST_RESPONSE, INVOKE_TYPE_EVENT, INVOKE_TYPE_DRY_RUN };

/* An AWS service error: status, x-amzn-ErrorType and the JSON body's fields. */
struct invoke_error {
	int status;
	const char *type;        /* "ResourceNotFoundException" */
	const char *reason;      /* TooManyRequestsException's Reason, or NULL */
	char message[768];
};

/* What a request invokes. */
struct invoke_target {
	const struct function_cfg *fn;   /* borrowed from the configuration */
	char qualifier[129];             /* a version or alias; "" for $LATEST */
};

/* Whether method and path are the Invoke operation's
 * (POST /2015-03-31/functions/{FunctionName}/invocations); *name gets the
 * raw, still percent-encoded {FunctionName}. */
bool invoke_api_is_invoke(struct sv method, struct sv path, struct sv *name);

/*
 * Resolves FunctionName (raw from the path: a name, NAME:QUALIFIER, a
 * partial ARN ACCOUNT:function:NAME[:QUALIFIER] or a full ARN) and the
 * query's Qualifier against cfg. 0 with *out filled, or -1 with *e
 * (ValidationException 400, InvalidParameterValueException 400 when the two
 * qualifiers differ, ResourceNotFoundException 404).
 */
int invoke_api_resolve(const struct config *cfg, struct sv raw_name, struct sv query,
		       struct invoke_target *out, struct invoke_error *e);

/* X-Amz-Invocation-Type (absent: RequestResponse); -1 with *e on another value. */
int invoke_api_invocation_type(const struct sv *value, enum invoke_type *out, struct invoke_error *e);
/* X-Amz-Log-Type: None (or absent) or Tail; -1 with *e on another value. */
int invoke_api_log_type(const struct sv *value, bool *tail, struct invoke_error *e);

/*
 * X-Amz-Client-Context: base64 of a JSON object, at most
 * INVOKE_CLIENT_CONTEXT_MAX bytes. 0 with the decoded JSON text appended to
 * out (nothing when the header is absent or empty), or -1 with *e
 * (InvalidRequestContentException 400).
 */
int invoke_api_client_context(const struct sv *value, struct buf *out, struct invoke_error *e);

/* The largest payload an invocation type takes. */
size_t invoke_api_payload_max(enum invoke_type type);
/*
 * Checks a payload of total bytes (p holds them unless total is over the
 * maximum): RequestEntityTooLargeException 413, then
 * InvalidRequestContentException 400 unless it is JSON. An empty or blank
 * payload is allowed (the function gets {}).
 */
int invoke_api_check_payload(enum invoke_type type, const char *p, size_t n, uint64_t total,
			     struct invoke_error *e);

/* TooManyRequestsException for fn (reserved concurrency or not). */
void invoke_api_throttled(const struct function_cfg *fn, struct invoke_error *e);
/* ServiceException 500 with message. */
void invoke_api_service_error(const char *message, struct invoke_error *e);
/*
 * The error for a request the HTTP layer refused with status: 408
 * RequestTimeoutException (read timeout), 501 NotImplemented (an unsupported
 * Transfer-Encoding), 505 HttpVersionNotSupported (an HTTP/2.0 request line);
 * anything else 400 InvalidRequestContentException (malformed).
 */
void invoke_api_http_error(int status, struct invoke_error *e);

/* Appends e's JSON body, shaped as AWS sends that error type. */
void invoke_api_error_body(const struct invoke_error *e, struct buf *out);

#endif
