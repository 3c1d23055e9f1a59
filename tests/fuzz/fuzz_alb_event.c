/* Fuzzes alb_event_write: the input is split into a target, header lines and a
 * body; whatever the bytes (but NUL, see below), the event must be valid JSON of
 * the mode's shape. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alb/alb_event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

/*
 * jansson only checks the event here; it is not what is fuzzed, and lb's
 * code in this target does not use it. Its nodes come from an arena
 * emptied for each input instead of from ASan's allocator, where their
 * allocations, quarantine and page faults took about a third of each
 * execution. An arena that fills up passes on to malloc.
 */
static _Alignas(16) char oracle_arena[1 << 20];
static size_t oracle_used;

static void *oracle_alloc(size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (n > sizeof(oracle_arena) - oracle_used)
		return malloc(n);
	oracle_used += n;
	return oracle_arena + oracle_used - n;
}

static void oracle_free(void *p)
{
	if (p && ((char *)p < oracle_arena || (char *)p >= oracle_arena + sizeof(oracle_arena)))
		free(p);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	json_set_alloc_funcs(oracle_alloc, oracle_free);
	return 0;
}

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
		oracle_used = 0;
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
