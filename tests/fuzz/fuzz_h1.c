/*
 * Fuzzes the HTTP/1 reader (net/h1_read) with request and response streams:
 * the transcript of what it reads (heads, bodies, ends, failures) must be the
 * same whether the bytes arrive whole, cut at three fuzzer-chosen offsets, or
 * one at a time — the property every front-end and client read relies on.
 *
 * Input: byte 0 picks the kind, the limits and how a reply is read (to a
 * HEAD, to an upgrade), bytes 1-3 the cuts, the rest is the stream.
 */
#include <stdint.h>

#include "h1_transcript.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

/* Small limits reach the line and header caps with short inputs. */
static const struct h1_limits small_request = {64, 256, true, DESYNC_MODE_DEFENSIVE};
static const struct h1_limits small_strict = {64, 256, true, DESYNC_MODE_STRICTEST};
static const struct h1_limits small_reply = {64, 256, false, DESYNC_MODE_MONITOR};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	enum kind kind;
	const struct h1_limits *lim;
	unsigned flags;
	bool eof;
	size_t cuts[3];
	char *in, *whole, *split, *bytes;

	if (n < 4)
		return 0;
	kind = (data[0] & 1) ? REPLY : REQUEST;
	flags = (data[0] & 2 ? T_SKIP_BODY : 0) | (data[0] & 32 ? T_UPGRADE_ASKED : 0);
	eof = data[0] & 4;
	switch ((data[0] >> 3) & 3) {
	case 0:
		lim = kind == REQUEST ? &h1_limits_alb_request : &h1_limits_alb_response;
		break;
	case 1:
		lim = kind == REQUEST ? &small_strict : &small_reply;
		break;
	default:
		lim = kind == REQUEST ? &small_request : &small_reply;
		break;
	}
	n -= 4;
	/* An exact-size copy, so ASan catches a read one past the stream. */
	in = malloc(n ? n : 1);
	memcpy(in, data + 4, n);
	for (int i = 0; i < 3; i++)
		cuts[i] = n ? (size_t)data[1 + i] * n / 256 : 0;
	/* Cuts must be in order. */
	if (cuts[0] > cuts[1]) { size_t t = cuts[0]; cuts[0] = cuts[1]; cuts[1] = t; }
	if (cuts[1] > cuts[2]) { size_t t = cuts[1]; cuts[1] = cuts[2]; cuts[2] = t; }
	if (cuts[0] > cuts[1]) { size_t t = cuts[0]; cuts[0] = cuts[1]; cuts[1] = t; }

	whole = transcript(kind, lim, flags, in, n, NULL, 0, eof);
	split = transcript(kind, lim, flags, in, n, cuts, 3, eof);
	bytes = transcript_bytes(kind, lim, flags, in, n, eof);
	if (strcmp(whole, split) != 0 || strcmp(whole, bytes) != 0)
		abort();
	free(whole);
	free(split);
	free(bytes);
	free(in);
	return 0;
}
