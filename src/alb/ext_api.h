/*
 * ext_api: the pure rules of Lambda's Extensions API (/2020-01-01/extension)
 * and Telemetry API (/2022-07-01/telemetry): what a registration or a
 * subscription may say, the errors Lambda answers, and the JSON documents
 * it sends (registration answer, INVOKE and SHUTDOWN events, telemetry
 * records). The I/O lives in lambda/extensions.c and lambda/telemetry.c.
 */
#ifndef LB_EXT_API_H
#define LB_EXT_API_H

#include <stddef.h>
#include <stdint.h>

#include "base/util.h"

#define EXT_EVENT_INVOKE 1u
#define EXT_EVENT_SHUTDOWN 2u

#define TEL_PLATFORM 1u
#define TEL_FUNCTION 2u
#define TEL_EXTENSION 4u

struct ext_api_error {
	int status;
	const char *type;
	char message[192];
};

/* A registration: name is the Lambda-Extension-Name header (SV_NULL if absent),
 * body its {"events": [...]}. Sets *events; -1 with e on a bad request. */
int ext_api_register_parse(struct sv name, const char *body, size_t n, unsigned *events,
			   struct ext_api_error *e);

/* {"errorMessage":..,"errorType":..}; malloc'd. */
char *ext_api_error_json(const char *type, const char *message);
/* The registration answer {"functionName","functionVersion","handler"}, and
 * "accountId" when account_id is not NULL; malloc'd. */
char *ext_api_register_json(const char *function_name, const char *version, const char *handler,
			    const char *account_id);
/* The INVOKE event; malloc'd. */
char *ext_api_invoke_json(const char *request_id, int64_t deadline_ms, const char *function_arn,
			  const char *trace_id);
/* The SHUTDOWN event (reason: spindown, timeout, failure); malloc'd. */
char *ext_api_shutdown_json(const char *reason, int64_t deadline_ms);

struct telemetry_sub {
	unsigned types;       /* TEL_* */
	int max_items;        /* 1000-10000, default 1000 */
	int max_bytes;        /* 262144-1048576, default 262144 */
	int timeout_ms;       /* 25-30000, default 1000 */
	char host[64];        /* where to connect (sandbox.localdomain → 127.0.0.1) */
	int port;
	char path[256];       /* path and query of the destination */
};

/* A PUT /2022-07-01/telemetry body. -1 with e (400 ValidationError) if invalid. */
int ext_api_telemetry_parse(const char *body, size_t n, struct telemetry_sub *s, struct ext_api_error *e);

/* One telemetry event {"time","type","record"}: record is JSON text (record_json)
 * or, when record_json is NULL, the string text[0..n). malloc'd. */
char *ext_api_telemetry_event(int64_t wall_us, const char *type, const char *record_json, const char *text,
			      size_t n);

#endif
