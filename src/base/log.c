/*
 * log: writes one line per call to stderr with a single write(2), so lines
 * from lb and from function processes sharing stderr never interleave mid-line.
 */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* Lines held for one write (log.h); one per event loop's thread. */
static _Thread_local struct {
	int depth;
	size_t len;
	char buf[16384];
} held;

static enum log_level current_level = LOG_INFO;

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

static void flush_held(void)
{
	size_t len = held.len;

	held.len = 0;
	if (len && write(STDERR_FILENO, held.buf, len) < 0)
		return;
}

void log_hold(void)
{
	held.depth++;
}

void log_release(void)
{
	if (--held.depth == 0)
		flush_held();
}

void log_writev(const struct iovec *v, int n)
{
	size_t total = 0;

	for (int i = 0; i < n; i++)
		total += v[i].iov_len;
	if (held.depth && total > sizeof(held.buf) - held.len)
		flush_held();
	if (!held.depth || total > sizeof(held.buf)) {
		ssize_t r = writev(STDERR_FILENO, v, n);

		(void)r;   /* stderr gone: nothing else to tell */
		return;
	}
	for (int i = 0; i < n; i++) {
		memcpy(held.buf + held.len, v[i].iov_base, v[i].iov_len);
		held.len += v[i].iov_len;
	}
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	static const char *const prefix[] = { "lb: error: ", "lb: warning: ", "lb: ", "lb: debug: " };
	char line[2048];
	va_list ap;
	int n, m;

	if (level > current_level)
		return;
	n = snprintf(line, sizeof(line), "%s", prefix[level]);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	flush_held();
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

const char *log_escape(char *out, size_t cap, const char *p, size_t n, bool ascii)
{
	static const char hex[] = "0123456789abcdef";
	size_t limit, at = 0, keep = 0, i;

	if (!cap)
		return out;
	limit = cap - 1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		char e[4] = { (char)c };
		size_t k = 1;

		if (c == '\n' || c == '\r' || c == '\t' || c == 0) {
			e[0] = '\\';
			e[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : '0';
			k = 2;
		} else if (c < 0x20 || c == 0x7f || (ascii && c >= 0x80)) {
			e[0] = '\\';
			e[1] = 'x';
			e[2] = hex[c >> 4];
			e[3] = hex[c & 15];
			k = 4;
		}
		if (at + k > limit)
			break;
		memcpy(out + at, e, k);
		at += k;
		if (at + 3 <= limit)
			keep = at;   /* where a cut leaves room for "..." */
	}
	if (i < n && limit >= 3) {
		at = keep;
		memcpy(out + at, "...", 3);
		at += 3;
	}
	out[at] = '\0';
	return out;
}
