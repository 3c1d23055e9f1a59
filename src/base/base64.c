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

static int value_of(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
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
