/*
 * A tiny unit-test harness. Each test is a function; CHECK* record a failure
 * with file:line and let the test continue. Output, one line per test:
 *   ok - name
 *   not ok - name: file:line: what failed
 * tests/run.py counts those lines.
 *
 *   TEST(glob_star_crosses_slash) { CHECK(glob_match(...)); }
 *   int main(void) { RUN(glob_star_crosses_slash); return test_done(); }
 */
#ifndef LB_TEST_H
#define LB_TEST_H

#include <stdio.h>
#include <string.h>

static int test_failed_now;
static int test_npassed, test_nfailed;
static const char *test_current;

#define TEST(name) static void name(void)

#define FAIL_AT(...)                                                              \
	do {                                                                      \
		if (!test_failed_now)                                             \
			printf("not ok - %s: ", test_current);                    \
		else                                                              \
			printf("    also: ");                                     \
		printf("%s:%d: ", __FILE__, __LINE__);                            \
		printf(__VA_ARGS__);                                              \
		printf("\n");                                                     \
		test_failed_now = 1;                                              \
	} while (0)

#define CHECK(cond)                                                               \
	do {                                                                      \
		if (!(cond))                                                      \
			FAIL_AT("CHECK(%s)", #cond);                              \
	} while (0)

#define CHECK_INT(a, b)                                                           \
	do {                                                                      \
		long long a_ = (long long)(a), b_ = (long long)(b);               \
		if (a_ != b_)                                                     \
			FAIL_AT("%s == %lld, expected %lld", #a, a_, b_);         \
	} while (0)

#define CHECK_STR(a, b)                                                           \
	do {                                                                      \
		const char *a_ = (a), *b_ = (b);                                  \
		if (!a_ || !b_ || strcmp(a_, b_) != 0)                            \
			FAIL_AT("%s == \"%s\", expected \"%s\"", #a,               \
				a_ ? a_ : "(null)", b_ ? b_ : "(null)");          \
	} while (0)

/* Compares n bytes at a with the NUL-terminated b (lengths must match too). */
#define CHECK_MEM(a, n, b)                                                        \
	do {                                                                      \
		const char *a_ = (const char *)(a), *b_ = (b);                    \
		size_t n_ = (n);                                                  \
		if (n_ != strlen(b_) || memcmp(a_, b_, n_) != 0)                  \
			FAIL_AT("%s == \"%.*s\", expected \"%s\"", #a, (int)n_,    \
				a_ ? a_ : "", b_);                                \
	} while (0)

static inline void test_run(const char *name, void (*fn)(void))
{
	test_current = name;
	test_failed_now = 0;
	fn();
	if (test_failed_now)
		test_nfailed++;
	else {
		test_npassed++;
		printf("ok - %s\n", name);
	}
	fflush(stdout);
}

#define RUN(name) test_run(#name, name)

static inline int test_done(void)
{
	return test_nfailed ? 1 : 0;
}

#endif
