/*
 * platform_log: formats Lambda's JSON platform records (see the header).
 * Field names and order follow Lambda's records as its JSON log format and
 * Telemetry API document them; numbers are milliseconds with three decimals
 * (durationMs) or whole units (billedDurationMs, memorySizeMB,
 * maxMemoryUsedMB). errorType comes from the runtime, so it is escaped; the
 * request id and version are lb's own (a UUID, "$LATEST" or digits).
 */
#include "lambda/platform_log.h"

#include <stdarg.h>
#include <stdio.h>

#include "base/util.h"

static size_t put(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static size_t put(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	int k;

	va_start(ap, fmt);
	k = vsnprintf(out, n, fmt, ap);
	va_end(ap);
	if (k < 0)
		return 0;
	return (size_t)k < n ? (size_t)k : n - 1;
}

/* s as the inside of a JSON string. */
static void json_text(const char *s, char *out, size_t n)
{
	size_t k = 0;

	for (; *s && k + 7 < n; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			out[k++] = '\\';
			out[k++] = (char)c;
		} else if (c < 0x20) {
			k += (size_t)snprintf(out + k, n - k, "\\u%04x", c);
		} else {
			out[k++] = (char)c;
		}
	}
	out[k] = '\0';
}

/* ",\"errorType\":\"...\"" when the invocation failed with a type, else "". */
static void error_field(const struct platform_end *e, char *out, size_t n)
{
	char esc[160];

	out[0] = '\0';
	if (!e->error_type || !*e->error_type || !e->status || !*e->status ||
	    e->status[0] == 's')   /* success */
		return;
	json_text(e->error_type, esc, sizeof(esc));
	snprintf(out, n, ",\"errorType\":\"%s\"", esc);
}

void platform_time(int64_t wall_us, char out[28])
{
	time_iso8601_us(wall_us, out);
	out[23] = 'Z';
	out[24] = '\0';
}

size_t platform_start(char *out, size_t n, const char *time, const char *request_id,
		      const char *version)
{
	return put(out, n, "{\"time\":\"%s\",\"type\":\"platform.start\",\"record\":{\"requestId\":\"%s\","
		   "\"version\":\"%s\"}}", time, request_id, version);
}

size_t platform_runtime_done(char *out, size_t n, const char *time, const struct platform_end *e)
{
	char err[200];

	error_field(e, err, sizeof(err));
	return put(out, n, "{\"time\":\"%s\",\"type\":\"platform.runtimeDone\",\"record\":{\"requestId\":"
		   "\"%s\",\"status\":\"%s\"%s,\"metrics\":{\"durationMs\":%.3f,\"producedBytes\":%zu}}}",
		   time, e->request_id, e->status, err, e->duration_ms, e->produced_bytes);
}

size_t platform_report(char *out, size_t n, const char *time, const struct platform_end *e)
{
	char err[200], init[64] = "";

	error_field(e, err, sizeof(err));
	/* Only a cold start's report has initDurationMs, as REPORT has Init Duration. */
	if (e->init_ms >= 0)
		snprintf(init, sizeof(init), ",\"initDurationMs\":%.3f", e->init_ms);
	return put(out, n, "{\"time\":\"%s\",\"type\":\"platform.report\",\"record\":{\"requestId\":\"%s\","
		   "\"metrics\":{\"durationMs\":%.3f,\"billedDurationMs\":%ld,\"memorySizeMB\":%d,"
		   "\"maxMemoryUsedMB\":%ld%s},\"status\":\"%s\"%s}}",
		   time, e->request_id, e->duration_ms, e->billed_ms, e->memory_mb, e->max_memory_mb,
		   init, e->status, err);
}

size_t platform_init_error(char *out, size_t n, const char *time, double init_ms,
			   const char *error_type)
{
	char esc[160];

	json_text(error_type, esc, sizeof(esc));
	return put(out, n, "{\"time\":\"%s\",\"type\":\"platform.initReport\",\"record\":{"
		   "\"initializationType\":\"on-demand\",\"phase\":\"init\",\"status\":\"error\","
		   "\"errorType\":\"%s\",\"metrics\":{\"durationMs\":%.3f}}}", time, esc, init_ms);
}
