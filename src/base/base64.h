/*
 * base64: the standard alphabet with padding (RFC 4648 §4), as Lambda uses for
 * isBase64Encoded bodies. Decoding is strict: no whitespace, no line breaks
 * (ALB rejects MIME-style base64 with CRLF), correct padding only.
 */
#ifndef LB_BASE64_H
#define LB_BASE64_H

#include <stddef.h>

#include "base/buf.h"

static inline size_t base64_encoded_len(size_t n)
{
	return 4 * ((n + 2) / 3);
}

/* Writes base64_encoded_len(n) characters to out (no NUL); returns that count. */
size_t base64_encode(const void *in, size_t n, char *out);
/* Appends the encoding of in to out; -1 if out's maximum would be passed. */
int base64_encode_buf(const void *in, size_t n, struct buf *out);
/* Appends the decoded bytes to out; -1 on invalid input or out's maximum. */
int base64_decode(const char *in, size_t n, struct buf *out);

#endif
