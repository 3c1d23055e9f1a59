/*
 * regex_rule: ALB's regex dialect on top of PCRE2 (alb-listener-rules.md §1.4).
 *
 * regex_unsupported is a small scanner over the pattern that knows just
 * enough PCRE syntax to find the constructs ALB refuses: escapes (\Q..\E
 * quoting included), character classes, group openers and quantifiers. It
 * runs before PCRE2 sees the pattern, so a refused feature is reported by
 * name even where PCRE2 would accept it. What PCRE2 itself rejects (an
 * unbalanced parenthesis) comes back with PCRE2's message and offset.
 *
 * Compiled code and match context are made once per regex at load; PCRE2
 * allocates them with malloc and arena_defer frees them with the
 * configuration. The match data is the thread's (`workers` loops share a
 * configuration's regexes), grown to the largest pattern it searched. The match context caps backtracking (match, depth and heap
 * limits) so a pathological pattern cannot stall the event loop; a match
 * that hits a cap is reported as -1, never as a match. JIT is used when
 * PCRE2 has it.
 */
#include "alb/regex_rule.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Backtracking caps: far above what a rule of at most 1024 characters needs
 * against one request's host or URL, far below a noticeable stall. */
enum {
	REGEX_MATCH_LIMIT = 200000,
	REGEX_DEPTH_LIMIT = 10000,
	REGEX_HEAP_LIMIT_KB = 4096,
};

struct regex {
	pcre2_code *code;
	pcre2_match_context *mctx;
	uint32_t ncaptures;
};

/* The thread's last search: its regex, result and groups. */
static _Thread_local struct {
	pcre2_match_data *md;
	uint32_t pairs;
	const struct regex *re;
	int rc;
} last;

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A {n}, {n,} or {n,m} quantifier at p: its length, or 0 when the brace is
 * a literal (PCRE2's rule for what a '{' starts). */
static size_t brace_quantifier(const char *p)
{
	size_t i = 1;

	if (!is_digit(p[i]))
		return 0;
	while (is_digit(p[i]))
		i++;
	if (p[i] == ',') {
		i++;
		while (is_digit(p[i]))
			i++;
	}
	return p[i] == '}' ? i + 1 : 0;
}

/* The construct a backslash escape at p stands for, if ALB refuses it. */
static const char *escape_unsupported(const char *p)
{
	char c = p[1];

	/* Why: ALB refuses backreferences and Unicode classes (§1.4). */
	if (c >= '1' && c <= '9')
		return "a backreference";
	if (c == 'k')
		return "a backreference";
	if (c == 'g')
		return (p[2] == '<' || p[2] == '\'') ? "a subroutine call" : "a backreference";
	if (c == 'p' || c == 'P' || c == 'X')
		return "a Unicode class";
	return NULL;
}

/* The end of a character class starting at p ('['), checking its escapes. */
static const char *class_end(const char *p, const char **bad, const char **bad_at)
{
	const char *q = p + 1;

	if (*q == '^')
		q++;
	if (*q == ']')           /* a leading ']' is literal */
		q++;
	while (*q && *q != ']') {
		if (q[0] == '[' && q[1] == ':') {       /* [:alpha:] */
			const char *end = strstr(q + 2, ":]");
			if (end) {
				q = end + 2;
				continue;
			}
		}
		if (*q == '\\' && q[1]) {
			if ((q[1] == 'p' || q[1] == 'P') && !*bad) {
				*bad = "a Unicode class";
				*bad_at = q;
			}
			q += 2;
			continue;
		}
		q++;
	}
	return *q ? q + 1 : q;
}

/* The construct a group opener at p ('(') starts, if ALB refuses it. */
static const char *group_unsupported(const char *p)
{
	/* (*VERB) and (*alpha_assertion:...) are PCRE's own extensions: the
	 * lookaround and atomic spellings among them are refused by name in
	 * ALB's list; lb refuses the whole family (backtracking control). */
	if (p[1] == '*')
		return "a (*...) verb or assertion";
	if (p[1] != '?')
		return NULL;
	switch (p[2]) {
	case '=':
	case '!':
		return "a lookahead";
	case '<':
		return (p[3] == '=' || p[3] == '!') ? "a lookbehind" : NULL;
	case '>':
		return "an atomic group";
	case 'R':
	case '&':
		return "recursion or a subroutine call";
	case '+':
	case '-':
		return is_digit(p[3]) ? "recursion or a subroutine call" : NULL;
	case 'P':
		if (p[3] == '=')
			return "a backreference";
		if (p[3] == '>')
			return "recursion or a subroutine call";
		return NULL;
	case 'C':
		return "a callout";
	case '(':
		return p[3] == 'R' ? "recursion or a subroutine call" : NULL;
	default:
		return is_digit(p[2]) ? "recursion or a subroutine call" : NULL;
	}
}

const char *regex_unsupported(const char *pattern, size_t *at)
{
	const char *p = pattern, *bad = NULL, *bad_at = NULL;
	bool after_quantifier = false;

	while (*p && !bad) {
		bool quant = false;

		if (p[0] == '\\' && p[1] == 'Q') {          /* \Q...\E: all literal */
			const char *e = strstr(p + 2, "\\E");
			p = e ? e + 2 : p + strlen(p);
		} else if (p[0] == '\\' && p[1]) {
			if ((bad = escape_unsupported(p)))
				bad_at = p;
			p += 2;
		} else if (p[0] == '[') {
			p = class_end(p, &bad, &bad_at);
		} else if (p[0] == '(') {
			if ((bad = group_unsupported(p)))
				bad_at = p;
			p++;
		} else if (p[0] == '*' || p[0] == '+' || p[0] == '?' ||
			   (p[0] == '{' && brace_quantifier(p))) {
			/* Why: ALB refuses possessive quantifiers (§1.4): a '+'
			 * right after a quantifier ("a++", "a?+", "a{2}+"). */
			if (after_quantifier && p[0] == '+') {
				bad = "a possessive quantifier";
				bad_at = p;
			}
			/* "a+?" is lazy, not a new quantifier: the '?' ends the run. */
			quant = !(after_quantifier && p[0] == '?');
			p += p[0] == '{' ? brace_quantifier(p) : 1;
		} else {
			p++;
		}
		after_quantifier = quant;
	}
	if (bad)
		*at = (size_t)(bad_at - pattern);
	return bad;
}

static void regex_free(void *p)
{
	struct regex *re = p;

	pcre2_match_context_free(re->mctx);
	pcre2_code_free(re->code);
}

struct regex *regex_compile(struct arena *a, const char *pattern, char *msg, size_t msglen)
{
	/* Why: rules are visible ASCII (§1.1): no UTF mode, no Unicode
	 * properties, and no \C (which could split a UTF character). */
	uint32_t options = PCRE2_NEVER_UTF | PCRE2_NEVER_UCP | PCRE2_NEVER_BACKSLASH_C;
	const char *what;
	size_t at = 0;
	int errcode;
	PCRE2_SIZE erroff;
	pcre2_code *code;
	struct regex *re;

	if ((what = regex_unsupported(pattern, &at))) {
		snprintf(msg, msglen, "%s at offset %zu is not supported", what, at);
		return NULL;
	}
	code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, options, &errcode, &erroff, NULL);
	if (!code) {
		PCRE2_UCHAR text[160];

		pcre2_get_error_message(errcode, text, sizeof(text));
		snprintf(msg, msglen, "%s at offset %zu", (const char *)text, (size_t)erroff);
		return NULL;
	}
	(void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  /* without JIT: the interpreter */
	re = arena_alloc(a, sizeof(*re));
	re->code = code;
	re->mctx = pcre2_match_context_create(NULL);
	if (!re->mctx) {       /* out of memory is fatal in lb */
		fputs("lb: out of memory\n", stderr);
		abort();
	}
	pcre2_set_match_limit(re->mctx, REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(re->mctx, REGEX_DEPTH_LIMIT);
	pcre2_set_heap_limit(re->mctx, REGEX_HEAP_LIMIT_KB);
	pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &re->ncaptures);
	arena_defer(a, regex_free, re);
	return re;
}

uint32_t regex_capture_count(const struct regex *re)
{
	return re->ncaptures;
}

int regex_search(struct regex *re, struct sv subject)
{
	/* A view may be empty with a NULL pointer; PCRE2 wants a valid one. */
	PCRE2_SPTR s = subject.p ? (PCRE2_SPTR)subject.p : (PCRE2_SPTR) "";

	if (last.pairs < re->ncaptures + 1) {
		pcre2_match_data_free(last.md);
		last.pairs = re->ncaptures + 1;
		last.md = pcre2_match_data_create(last.pairs, NULL);
		if (!last.md) {       /* out of memory is fatal in lb */
			fputs("lb: out of memory\n", stderr);
			abort();
		}
	}
	last.re = re;
	last.rc = pcre2_match(re->code, s, subject.n, 0, 0, last.md, re->mctx);
	if (last.rc >= 0)
		return 1;
	return last.rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

bool regex_group(const struct regex *re, uint32_t n, size_t *start, size_t *end)
{
	PCRE2_SIZE *ov;

	if (last.re != re || last.rc < 0 || n > re->ncaptures)
		return false;
	/* rc 0 means the ovector was too small: it never is, it fits the pattern. */
	if (last.rc > 0 && n >= (uint32_t)last.rc)
		return false;   /* groups past the last one set did not take part */
	ov = pcre2_get_ovector_pointer(last.md);
	if (ov[2 * n] == PCRE2_UNSET)
		return false;
	*start = ov[2 * n];
	*end = ov[2 * n + 1];
	return true;
}

void regex_thread_release(void)
{
	pcre2_match_data_free(last.md);
	last.md = NULL;
	last.pairs = 0;
	last.re = NULL;
}
