/*
 * log: functions' lines held during one event leave in one write at the
 * release, and lb's own lines keep their place among them.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/log.h"
#include "test.h"

/* stderr becomes a non-blocking pipe; returns its read end. */
static int capture_stderr(int *saved)
{
	int p[2];

	if (pipe(p) < 0)
		return -1;
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	*saved = dup(STDERR_FILENO);
	dup2(p[1], STDERR_FILENO);
	close(p[1]);
	return p[0];
}

static void restore_stderr(int fd, int saved)
{
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
}

static void line(const char *s)
{
	struct iovec v[2] = { { (void *)s, strlen(s) }, { "\n", 1 } };

	log_writev(v, 2);
}

TEST(held_lines_leave_in_one_write_at_the_release)
{
	char got[256];
	int saved, fd = capture_stderr(&saved);
	ssize_t n;

	CHECK_INT(fd >= 0, 1);
	log_hold();
	line("[fn] END RequestId: a");
	log_hold();    /* holds nest: only the outer release writes */
	line("[fn] REPORT RequestId: a");
	log_release();
	CHECK_INT((int)read(fd, got, sizeof(got)), -1);
	line("[fn] START RequestId: b Version: $LATEST");
	log_release();
	n = read(fd, got, sizeof(got));
	CHECK_MEM(got, n > 0 ? (size_t)n : 0,
		  "[fn] END RequestId: a\n[fn] REPORT RequestId: a\n[fn] START RequestId: b Version: $LATEST\n");
	line("[fn] not held");
	n = read(fd, got, sizeof(got));
	CHECK_MEM(got, n > 0 ? (size_t)n : 0, "[fn] not held\n");
	restore_stderr(fd, saved);
}

TEST(lb_lines_write_what_is_held_first)
{
	char got[256];
	int saved, fd = capture_stderr(&saved);
	ssize_t n;

	log_hold();
	line("[fn] before");
	log_warn("function fn: late");
	n = read(fd, got, sizeof(got));
	CHECK_MEM(got, n > 0 ? (size_t)n : 0, "[fn] before\nlb: warning: function fn: late\n");
	line("[fn] after");
	log_release();
	n = read(fd, got, sizeof(got));
	CHECK_MEM(got, n > 0 ? (size_t)n : 0, "[fn] after\n");
	restore_stderr(fd, saved);
}

TEST(lines_larger_than_the_hold_go_straight_out)
{
	static char big[20000];
	char got[32];
	int saved, fd = capture_stderr(&saved);
	ssize_t n;

	memset(big, 'x', sizeof(big) - 1);
	log_hold();
	line("[fn] small");
	line(big);
	/* What was held went first, then the large line, in order. */
	n = read(fd, got, 11);
	CHECK_MEM(got, n > 0 ? (size_t)n : 0, "[fn] small\n");
	n = read(fd, got, 3);
	CHECK_MEM(got, n > 0 ? (size_t)n : 0, "xxx");
	log_release();
	restore_stderr(fd, saved);
}

TEST(escape_keeps_a_function_error_on_one_line)
{
	char out[64];
	static const char body[] = "{\"errorMessage\":\"a\nlb: error: forged\"}\r\n\t\x01\x7f";

	CHECK_STR(log_escape(out, sizeof(out), body, sizeof(body) - 1, false),
		  "{\"errorMessage\":\"a\\nlb: error: forged\"}\\r\\n\\t\\x01\\x7f");
	/* a NUL no longer ends the text */
	CHECK_STR(log_escape(out, sizeof(out), "\0\xff{x", 4, false), "\\0\xff{x");
	CHECK_STR(log_escape(out, sizeof(out), NULL, 0, false), "");
	/* bytes from the network: nothing past ASCII either (U+009B is a terminal's CSI) */
	CHECK_STR(log_escape(out, sizeof(out), "a\xc2\x9b" "2J\x1b", 6, true), "a\\xc2\\x9b2J\\x1b");
}

TEST(escape_cuts_with_dots_and_never_splits_an_escape)
{
	char out[8];

	CHECK_STR(log_escape(out, sizeof(out), "1234567", 7, false), "1234567");
	CHECK_STR(log_escape(out, sizeof(out), "12345678", 8, false), "1234...");
	CHECK_STR(log_escape(out, sizeof(out), "12\n45678", 8, false), "12\\n...");
	CHECK_STR(log_escape(out, sizeof(out), "123\n5678", 8, false), "123...");
	CHECK_STR(log_escape(out, 3, "12345", 5, false), "12");
}

int main(void)
{
	RUN(held_lines_leave_in_one_write_at_the_release);
	RUN(lb_lines_write_what_is_held_first);
	RUN(lines_larger_than_the_hold_go_straight_out);
	RUN(escape_keeps_a_function_error_on_one_line);
	RUN(escape_cuts_with_dots_and_never_splits_an_escape);
	return test_done();
}
