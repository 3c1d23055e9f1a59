/* base64: encoding and strict decoding. */
#include "base/base64.h"

#include <stdbool.h>
#include <stdint.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encode(const void *in, size_t n, char *out)
{
	const unsigned char *s = in;
	char *o = out;
	size_t i = 0;

	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = alphabet[(v >> 6) & 63];
		*o++ = alphabet[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0);
		*o++ = alphabet[v >> 18];
		*o++ = alphabet[(v >> 12) & 63];
		*o++ = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
		*o++ = '=';
	}
	return (size_t)(o - out);
}

int base64_encode_buf(const void *in, size_t n, struct buf *out)
{
	char *dst = buf_reserve(out, base64_encoded_len(n));

	if (!dst)
		return -1;
	buf_commit(out, base64_encode(in, n, dst));
	return 0;
}

/* Each byte's value in the alphabet, -1 for a byte outside it ('=' too): one
 * load per byte where a chain of range tests took up to eight compares. */
static const int8_t values[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
	-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1
};

static int value_of(unsigned char c)
{
	return values[c];
}

int base64_decode(const char *in, size_t n, struct buf *out)
{
	size_t start = out->len;
	char *dst;

	if (n % 4)
		return -1;
	dst = buf_reserve(out, n / 4 * 3);
	if (!dst)
		return -1;
	size_t k = 0;
	for (size_t i = 0; i < n; i += 4) {
		int a = value_of((unsigned char)in[i]), b = value_of((unsigned char)in[i + 1]);
		int c = value_of((unsigned char)in[i + 2]), d = value_of((unsigned char)in[i + 3]);
		bool last = i + 4 == n;

		if (a < 0 || b < 0)
			goto bad;
		if (c < 0 || d < 0) {
			/* Padding is allowed only at the very end: "xx==" or "xxx=". */
			if (!last || in[i + 3] != '=' || (c < 0 && in[i + 2] != '='))
				goto bad;
			dst[k++] = (char)(a << 2 | b >> 4);
			if (c >= 0)
				dst[k++] = (char)(b << 4 | c >> 2);
			continue;
		}
		dst[k++] = (char)(a << 2 | b >> 4);
		dst[k++] = (char)(b << 4 | c >> 2);
		dst[k++] = (char)(c << 6 | d);
	}
	buf_commit(out, k);
	return 0;
bad:
	out->len = start;
	if (out->p)
		out->p[start] = '\0';
	return -1;
}
