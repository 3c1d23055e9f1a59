/* Fuzzes alb_event_write: the input is split into a target, header lines and a
 * body; whatever the bytes (but NUL, see below), the event must be valid JSON of
 * the mode's shape. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alb/alb_event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

/* The next '\n'-terminated piece of *rest. */
static struct sv next_piece(struct sv *rest)
{
	struct sv piece;

	*rest = sv_cut(*rest, '\n', &piece);
	return piece;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	char *copy = malloc(n + 1);
	struct sv rest = { copy, n }, target, line, name, value;
	struct http_request req;
	struct buf out = BUF_INIT;
	json_t *doc;

	/* lb's parser never lets a NUL into a target or header name, and jansson
	 * refuses \u0000 in object keys (where query keys and header names go). */
	for (size_t i = 0; i < n; i++)
		copy[i] = data[i] ? (char)data[i] : '\x01';
	http_request_init(&req);
	req.method = SV("POST");
	target = next_piece(&rest);
	http_request_set_target(&req, target);
	while (rest.p && (line = next_piece(&rest)).n) {
		value = sv_cut(line, ':', &name);
		http_request_add_header(&req, name, value.p ? value : SV_NULL);
	}
	if (rest.p) {
		req.keep_body = true;
		buf_append(&req.body, rest.p, rest.n);
	}
	for (int multi = 0; multi < 2; multi++) {
		struct alb_event_input in = { &req, req.headers, req.nheaders, "arn:tg", multi };
		buf_reset(&out);
		alb_event_write(&out, &in);
		doc = json_loadb(out.p, out.len, JSON_ALLOW_NUL, NULL);
		if (!json_is_object(doc) || !json_object_get(doc, multi ? "multiValueHeaders" : "headers"))
			abort();
		json_decref(doc);
	}
	buf_release(&out);
	http_request_release(&req);
	free(copy);
	return 0;
}
