/*
 * platform_log: Lambda's JSON platform records, the lines a function whose
 * logging_config says `log_format: JSON` gets instead of START, END, REPORT
 * and INIT_REPORT (DESIGN.md §18): one JSON object per line,
 * {"time", "type", "record"}, the time in UTC with milliseconds.
 *
 *   START        platform.start        {requestId, version}
 *   END          platform.runtimeDone  {requestId, status, [errorType], metrics}
 *   REPORT       platform.report       {requestId, metrics, status, [errorType]}
 *   INIT_REPORT  platform.initReport   {initializationType, phase, status, errorType, metrics}
 *
 * Pure: each function formats into out (n bytes) and returns the length
 * written, without the NUL (cut to n - 1 if out is too small).
 */
#ifndef LB_PLATFORM_LOG_H
#define LB_PLATFORM_LOG_H

#include <stddef.h>
#include <stdint.h>

struct platform_end {
	const char *request_id;
	const char *status;      /* success, error, timeout, failure */
	const char *error_type;  /* with a status other than success, or NULL */
	double duration_ms;
	long billed_ms;
	int memory_mb;
	long max_memory_mb;
	double init_ms;          /* < 0: not the sandbox's first invocation */
	size_t produced_bytes;   /* the result's size */
};

/* "2026-12-04T13:44:17.123Z" (wall-clock microseconds to milliseconds). */
void platform_time(int64_t wall_us, char out[28]);
size_t platform_start(char *out, size_t n, const char *time, const char *request_id,
		      const char *version);
size_t platform_runtime_done(char *out, size_t n, const char *time, const struct platform_end *e);
size_t platform_report(char *out, size_t n, const char *time, const struct platform_end *e);
size_t platform_init_error(char *out, size_t n, const char *time, double init_ms,
			   const char *error_type);

#endif
