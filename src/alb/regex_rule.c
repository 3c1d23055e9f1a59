/*
 * regex_rule: ALB's regex dialect on top of PCRE2 (alb-listener-rules.md §1.4).
 *
 * The check for constructs ALB refuses is made over PCRE2's own reading of
 * the pattern, not over its text: the pattern is compiled a second time with
 * PCRE2_AUTO_CALLOUT, which puts a callout before every item, and
 * pcre2_callout_enumerate gives each item's offset and length. Comments
 * ((?#...) and (?x)'s #...), \Q...\E, escapes, character classes and option
 * scopes are thus PCRE2's business; lb only names the item that starts at
 * each offset ("(?=" is a lookahead, "\1" a backreference) and looks for a
 * possessive '+' in the item's quantifier. Explicit callouts are listed by
 * enumerating the real code. A pattern PCRE2 rejects is reported with
 * PCRE2's message and offset before any of this.
 *
 * Compiled code and match context are made once per regex at load; PCRE2
 * allocates them with malloc and arena_defer frees them with the
 * configuration. The match data is the thread's (`workers` loops share a
 * configuration's regexes), grown to the largest pattern it searched. The
 * match context caps backtracking (match, depth and heap limits) so a
 * pathological pattern cannot stall the event loop; a match that hits a cap
 * is reported as -1, never as a match. JIT is used when PCRE2 has it.
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

/* Why: rules are visible ASCII (§1.1): no UTF mode, no Unicode properties,
 * and no \C (which could split a UTF character). */
#define REGEX_OPTIONS (PCRE2_NEVER_UTF | PCRE2_NEVER_UCP | PCRE2_NEVER_BACKSLASH_C)

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

/* The check's findings: the leftmost refused construct. */
struct scan {
	const char *pattern;
	size_t len;                    /* strlen(pattern) */
	const char *what;
	size_t at;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void refuse(struct scan *s, const char *what, size_t at)
{
	if (what && (!s->what || at < s->at)) {
		s->what = what;
		s->at = at;
	}
}

/* A {n}, {n,} or {n,m} quantifier at p: its length, or 0 when the brace is
 * a literal (PCRE2 10.42's rule for what a '{' starts). */
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

/* The length of the escape at p ('\'): "\x{41}" and the other braced
 * forms to their '}', "\cX" three, any other two. */
static size_t escape_len(const char *p)
{
	const char *close;

	if (!p[1])
		return 1;
	if (p[2] == '{' && strchr("xoNpPgk", p[1]) && (close = strchr(p + 3, '}')))
		return (size_t)(close - p) + 1;
	return p[1] == 'c' && p[2] ? 3 : 2;
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

/*
 * The length of the character class at p ('['), when it closes within the
 * item's n characters; 0 when it does not (a '[' quoted by \Q...\E). A
 * Unicode class inside is refused into s, at offset base + its place.
 */
static size_t class_len(const char *p, size_t n, struct scan *s, size_t base)
{
	size_t i = 1;

	if (i < n && p[i] == '^')
		i++;
	if (i < n && p[i] == ']')           /* a leading ']' is literal */
		i++;
	while (i < n && p[i] != ']') {
		const char *end;

		if (p[i] == '[' && p[i + 1] == ':' && (end = strstr(p + i + 2, ":]"))) {
			i = (size_t)(end - p) + 2;          /* [:alpha:] */
		} else if (p[i] == '\\' && p[i + 1] == 'Q') {
			end = strstr(p + i + 2, "\\E");     /* quoted: literal */
			i = end ? (size_t)(end - p) + 2 : n;
		} else if (p[i] == '\\') {
			if (p[i + 1] == 'p' || p[i + 1] == 'P')
				refuse(s, "a Unicode class", base + i);
			i += escape_len(p + i);
		} else {
			i++;
		}
	}
	return i < n ? i + 1 : 0;
}

/* The construct a group opener at p ('(' then '?' or '*') starts, if ALB
 * refuses it. */
static const char *group_unsupported(const char *p)
{
	/* (*VERB) and (*alpha_assertion:...) are PCRE's own extensions: the
	 * lookaround and atomic spellings among them are refused by name in
	 * ALB's list; lb refuses the whole family (backtracking control). */
	if (p[1] == '*')
		return "a (*...) verb or assertion";
	switch (p[2]) {
	case '=':
	case '!':
	case '*':             /* (?*...): PCRE2's non-atomic lookahead */
		return "a lookahead";
	case '<':
		return p[3] && strchr("=!*", p[3]) ? "a lookbehind" : NULL;
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
	case '(':
		return p[3] == 'R' ? "recursion or a subroutine call" : NULL;
	default:
		return is_digit(p[2]) ? "recursion or a subroutine call" : NULL;
	}
}

/*
 * One item of the pattern as PCRE2 split it, at offset base, n characters:
 * an atom (a group opener, an escape, a class, a character), then its
 * quantifier, with whatever PCRE2 skipped on the way (comments, (?x)
 * spaces, \Q\E, \E). Inside \Q...\E every character is an item of its own,
 * so a quoted '(' or '\' never has its '?' or escaped letter in its item.
 */
static void item_check(struct scan *s, size_t base, size_t n)
{
	const char *p = s->pattern + base;
	bool after_quantifier = false;
	size_t i = 1, len;

	if (n >= 2 && p[0] == '(' && (p[1] == '?' || p[1] == '*')) {
		refuse(s, group_unsupported(p), base);
		return;
	}
	if (n >= 2 && p[0] == '\\' && !(n >= 3 && p[1] == '\\' && p[2] == 'E')) {
		refuse(s, escape_unsupported(p), base);
		i = escape_len(p);
	} else if (p[0] == '[' && (len = class_len(p, n, s, base))) {
		i = len;
	}
	while (i < n) {
		const char *q = p + i, *end;
		bool quant = false;

		if (q[0] == '(' && q[1] == '?' && q[2] == '#') {
			end = strchr(q, ')');
			i = end ? (size_t)(end - p) + 1 : n;
			continue;
		}
		if (q[0] == '#') {                      /* (?x) comment */
			end = strchr(q, '\n');
			i = end ? (size_t)(end - p) + 1 : n;
			continue;
		}
		if (q[0] == '\\' && (q[1] == 'Q' || q[1] == 'E')) {
			i += 2;
			continue;
		}
		if (q[0] && strchr(" \t\n\v\f\r", q[0])) {   /* (?x) space */
			i++;
			continue;
		}
		if (q[0] == '*' || q[0] == '+' || q[0] == '?' || (q[0] == '{' && brace_quantifier(q))) {
			/* Why: ALB refuses possessive quantifiers (§1.4): a '+'
			 * right after a quantifier ("a++", "a?+", "a{2}+"). */
			if (after_quantifier && q[0] == '+')
				refuse(s, "a possessive quantifier", base + i);
			/* "a+?" is lazy, not a new quantifier: the '?' ends the run. */
			quant = !(after_quantifier && q[0] == '?');
			i += q[0] == '{' ? brace_quantifier(q) : 1;
		} else {
			i++;
		}
		after_quantifier = quant;
	}
}

static int on_item(pcre2_callout_enumerate_block *b, void *data)
{
	struct scan *s = data;
	size_t at = b->pattern_position, n = b->next_item_length;

	/* An item can reach past the pattern's end ("(?-)" does): the rest is no text. */
	if (at < s->len)
		item_check(s, at, n < s->len - at ? n : s->len - at);
	return 0;
}

/* An explicit callout of the real code: (?C1) ends where its position
 * starts, (?C"text") holds its string; either way the last "(?C" before. */
static int on_callout(pcre2_callout_enumerate_block *b, void *data)
{
	struct scan *s = data;
	size_t i = b->callout_string ? b->callout_string_offset : b->pattern_position;

	while (i > 0 && strncmp(s->pattern + --i, "(?C", 3) != 0)
		;
	refuse(s, "a callout", i);
	return 0;
}

/* Refusing what cannot be checked: the check's compile, a callout before
 * each item, outgrew PCRE2's size limit (a group repeated thousands of times). */
static const char *const too_large = "a pattern too large for lb to check";

/*
 * The first construct ALB refuses in pattern, code being pattern compiled
 * with REGEX_OPTIONS, at *at; NULL when there is none.
 */
static const char *unsupported(const char *pattern, const pcre2_code *code, size_t *at)
{
	struct scan s = { pattern, strlen(pattern), NULL, 0 };
	pcre2_code *items;
	int errcode;
	PCRE2_SIZE erroff;

	/* Start-of-pattern options such as (*CR) are no items; they are (*...) too. */
	if (strncmp(pattern, "(*", 2) == 0)
		refuse(&s, group_unsupported(pattern), 0);
	/* Why callouts: PCRE's hook into the match, no regex feature ALB has. */
	pcre2_callout_enumerate(code, on_callout, &s);
	items = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
			      REGEX_OPTIONS | PCRE2_AUTO_CALLOUT, &errcode, &erroff, NULL);
	if (!items)
		refuse(&s, too_large, 0);
	else
		pcre2_callout_enumerate(items, on_item, &s);
	pcre2_code_free(items);
	*at = s.at;
	return s.what;
}

static pcre2_code *compile(const char *pattern, char *msg, size_t msglen)
{
	int errcode;
	PCRE2_SIZE erroff;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, REGEX_OPTIONS,
					 &errcode, &erroff, NULL);

	if (!code) {
		PCRE2_UCHAR text[160];

		pcre2_get_error_message(errcode, text, sizeof(text));
		snprintf(msg, msglen, "%s at offset %zu", (const char *)text, (size_t)erroff);
	}
	return code;
}

const char *regex_unsupported(const char *pattern, size_t *at)
{
	char msg[256];
	pcre2_code *code = compile(pattern, msg, sizeof(msg));
	const char *what = code ? unsupported(pattern, code, at) : NULL;

	pcre2_code_free(code);
	return what;
}

static void regex_free(void *p)
{
	struct regex *re = p;

	pcre2_match_context_free(re->mctx);
	pcre2_code_free(re->code);
}

struct regex *regex_compile(struct arena *a, const char *pattern, char *msg, size_t msglen)
{
	const char *what;
	size_t at = 0;
	pcre2_code *code = compile(pattern, msg, msglen);
	struct regex *re;

	if (!code)
		return NULL;
	if ((what = unsupported(pattern, code, &at))) {
		snprintf(msg, msglen, "%s at offset %zu is not supported", what, at);
		pcre2_code_free(code);
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
