/* Fuzzes desync_classify_head with arbitrary request heads: it must never read
 * out of bounds, and every verdict must carry a reason unless compliant. */
#include <stdint.h>
#include <stdlib.h>

#include "alb/desync.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	struct desync_header *hdrs = NULL;
	size_t cap = 0;
	/* An exact-size copy, so ASan catches a read one past the head. */
	char *head = malloc(n ? n : 1);
	struct desync_verdict v;

	for (size_t i = 0; i < n; i++)
		head[i] = (char)data[i];
	v = desync_classify_head(head, n, &hdrs, &cap);
	if ((v.cls == DESYNC_COMPLIANT) != (v.reason == NULL))
		abort();
	free(hdrs);
	free(head);
	return 0;
}
