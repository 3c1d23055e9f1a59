/*
 * trace_id: the X-Amzn-Trace-Id value ALB sends toward targets and logs
 * (alb-listener-rules.md §6): "Root=1-<8 hex epoch>-<24 hex>" when none came
 * in; a "Self=1-..." field inserted before an incoming Root (or replacing an
 * incoming Self), other fields kept. Pure: time and randomness are inputs.
 */
#ifndef LB_TRACE_ID_H
#define LB_TRACE_ID_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/util.h"

/*
 * Appends the outgoing header value to out. incoming: the request's
 * X-Amzn-Trace-Id value (has_incoming false when absent). headers_bytes: size
 * of the request's header block; past 7 KB ALB sends a fresh Root only.
 */
void trace_id_build(struct buf *out, struct sv incoming, bool has_incoming, size_t headers_bytes,
		    uint32_t epoch_s, const uint8_t rnd[12]);

/* The Root field's value ("1-5c34e93e-4dea0086f9763ac0667b115a") of a header value. */
struct sv trace_id_root(struct sv value);

#endif
