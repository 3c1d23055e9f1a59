/*
 * buf: the one owning byte buffer, with an optional hard maximum (curl's
 * dynbuf idea): appending past the maximum fails and leaves the buffer as it
 * was, which is exactly what a body or document size limit needs.
 * The contents are always followed by a NUL byte that is not counted in len,
 * so p can be read as a C string when it holds text.
 */
#ifndef LB_BUF_H
#define LB_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <string.h>

struct buf {
	char *p;        /* NULL until the first append */
	size_t len;
	size_t cap;
	size_t max;     /* 0: no maximum */
};

#define BUF_INIT { NULL, 0, 0, 0 }

void buf_init(struct buf *b, size_t max);
/* Each returns 0, or -1 (buffer unchanged) when the result would pass max. */
int buf_append_slow(struct buf *b, const void *p, size_t n);
static inline int buf_append(struct buf *b, const void *p, size_t n)
{
	/* Inline when the room is there (a response head is ~40 appends). */
	if (b->len + n < b->cap && (!b->max || b->len + n <= b->max)) {
		if (n)
			memcpy(b->p + b->len, p, n);
		b->len += n;
		b->p[b->len] = '\0';
		return 0;
	}
	return buf_append_slow(b, p, n);
}
int buf_puts(struct buf *b, const char *s);
static inline int buf_putc(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Makes room for n more bytes and returns where they go; commit with buf_commit. */
char *buf_reserve(struct buf *b, size_t n);
void buf_commit(struct buf *b, size_t n);
/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);
/* The contents as a C string ("" when empty). */
const char *buf_cstr(const struct buf *b);
/* Hands the contents to the caller (free() it) and empties the buffer. */
char *buf_detach(struct buf *b, size_t *len);
void buf_release(struct buf *b);

#endif
