/* Fuzzes alb_result_parse in both modes: a document is either a response whose
 * head serializes, or refused with one of ALB's two reasons. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alb/alb_result.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

static void check(const char *doc, size_t n, bool multi)
{
	struct alb_result r;
	struct http_response resp;
	struct buf head = BUF_INIT;

	alb_result_init(&r);
	if (alb_result_parse(&r, doc, n, multi) == 0) {
		alb_result_response(&r, &resp);
		if (resp.status < 200 || resp.status > 599)
			abort();
		http_response_head(&head, &resp, "Sat, 28 Nov 2026 07:11:35 GMT", true, false);
	} else if (strcmp(r.error_reason, "LambdaInvalidResponse") != 0 &&
		   strcmp(r.error_reason, "LambdaResponseTooLarge") != 0) {
		abort();
	}
	buf_release(&head);
	alb_result_release(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	char *doc = malloc(n ? n : 1);

	memcpy(doc, data, n);
	check(doc, n, false);
	check(doc, n, true);
	free(doc);
	return 0;
}
