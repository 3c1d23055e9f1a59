/* err: formatting of load-time error messages. */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>

int lb_err_set(struct lb_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int lb_err_at(struct lb_err *err, const char *file, int line, int col, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err)
		return -1;
	if (col > 0)
		n = snprintf(err->msg, sizeof(err->msg), "%s:%d:%d: ", file, line, col);
	else
		n = snprintf(err->msg, sizeof(err->msg), "%s:%d: ", file, line);
	if (n < 0 || (size_t)n >= sizeof(err->msg))
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg + n, sizeof(err->msg) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}
