/* Fuzzes glob_match: the first byte picks the flags, the rest splits at the first
 * NUL into pattern and text. A pattern always matches itself when it has no
 * wildcard and no escape, and "*" matches anything. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alb/match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	char *copy;
	struct sv pattern, text;
	bool nocase, escapes;
	const char *nul;

	if (n < 1)
		return 0;
	nocase = data[0] & 1;
	escapes = data[0] & 2;
	copy = malloc(n);
	memcpy(copy, data + 1, n - 1);
	nul = memchr(copy, '\0', n - 1);
	pattern = (struct sv){ copy, nul ? (size_t)(nul - copy) : n - 1 };
	text = nul ? (struct sv){ nul + 1, (size_t)(copy + n - 1 - nul - 1) } : pattern;
	glob_match(pattern, text, nocase, escapes);
	if (!memchr(pattern.p, '*', pattern.n) && !memchr(pattern.p, '?', pattern.n) &&
	    !memchr(pattern.p, '\\', pattern.n) && !glob_match(pattern, pattern, nocase, escapes))
		abort();
	if (!glob_match(SV("*"), text, nocase, escapes))
		abort();
	free(copy);
	return 0;
}
