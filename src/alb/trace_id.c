/*
 * trace_id: builds the X-Amzn-Trace-Id value ALB sends toward a target
 * (alb-listener-rules.md §6). A value is a list of "Key=value" fields
 * separated by ';'; ALB reads only Root and Self, spelled exactly so, and
 * passes every other field through untouched. The time and the random bytes
 * of a new id are parameters, so the output is a pure function of the inputs.
 *
 * Nothing here allocates beyond appending to the caller's buffer, and the
 * incoming value is never modified: it is copied around the one field that
 * changes.
 */
#include "alb/trace_id.h"

#include <string.h>

/* ALB rewrites the header to a fresh Root once the request's headers exceed
 * 7 KB (alb-listener-rules.md §6); lb counts KB as 1024 bytes, as it does MB. */
#define TRACE_HEADERS_MAX 7168

/* "1-" 8 hex "-" 24 hex */
#define TRACE_ID_LEN 35

/* One id: "1-<epoch seconds as 8 hex>-<12 random bytes as 24 hex>" (§6). */
static void trace_id_format(char out[TRACE_ID_LEN + 1], uint32_t epoch_s, const uint8_t rnd[12])
{
	static const char digits[] = "0123456789abcdef";

	out[0] = '1';
	out[1] = '-';
	for (int i = 0; i < 8; i++)
		out[2 + i] = digits[(epoch_s >> (28 - 4 * i)) & 15];
	out[10] = '-';
	hex_encode(rnd, 12, out + 11);
}

/* The value of the first field named key (exact case), or SV_NULL. */
static struct sv trace_field(struct sv value, const char *key)
{
	struct sv rest = value, field, val, k;

	while (rest.p) {
		rest = sv_cut(rest, ';', &field);
		val = sv_cut(field, '=', &k);
		if (val.p && sv_eq_cstr(sv_trim(k), key))
			return val;
	}
	return SV_NULL;
}

struct sv trace_id_root(struct sv value)
{
	return trace_field(value, "Root");
}

void trace_id_build(struct buf *out, struct sv incoming, bool has_incoming, size_t headers_bytes,
		    uint32_t epoch_s, const uint8_t rnd[12])
{
	char id[TRACE_ID_LEN + 1];
	struct sv self;

	trace_id_format(id, epoch_s, rnd);
	/* An empty header carries no trace context: it gets a fresh Root too. */
	incoming = sv_trim(incoming);
	if (!has_incoming || !incoming.n || headers_bytes > TRACE_HEADERS_MAX) {
		buf_puts(out, "Root=");
		buf_append(out, id, TRACE_ID_LEN);
		return;
	}
	self = trace_field(incoming, "Self");
	if (self.p) {
		/* "If the header already has Self, ALB updates that Self value" (§6):
		 * the other fields keep their place. */
		buf_append(out, incoming.p, (size_t)(self.p - incoming.p));
		buf_append(out, id, TRACE_ID_LEN);
		buf_append(out, self.p + self.n, incoming.n - (size_t)(self.p + self.n - incoming.p));
		return;
	}
	/* With a Root, ALB puts "Self=1-...;" in front of the whole value (§6).
	 * Without a Root (only custom fields, or something unparsable) AWS says
	 * nothing: lb's choice is to start a trace with a new Root in front and
	 * keep the client's fields after it, so nothing the client sent is lost
	 * and trace_id_root always finds a Root. */
	buf_puts(out, trace_id_root(incoming).p ? "Self=" : "Root=");
	buf_append(out, id, TRACE_ID_LEN);
	buf_putc(out, ';');
	buf_append(out, incoming.p, incoming.n);
}
