/* Little-endian integers appended to a buffer: the zip archives unit tests build. */
#ifndef LB_TESTS_LE_PUT_H
#define LB_TESTS_LE_PUT_H

#include <stdint.h>

#include "base/buf.h"

static inline void put16(struct buf *b, unsigned v)
{
	unsigned char c[2] = { (unsigned char)v, (unsigned char)(v >> 8) };
	buf_append(b, c, 2);
}

static inline void put32(struct buf *b, uint32_t v)
{
	put16(b, v & 0xffff);
	put16(b, v >> 16);
}

static inline void put64(struct buf *b, uint64_t v)
{
	put32(b, (uint32_t)v);
	put32(b, (uint32_t)(v >> 32));
}

#endif
