/*
 * sandbox_mem: a sandbox's memory (sandbox_int.h) — the peak REPORT shows,
 * and Lambda's memory_size limit, enforced by sampling the process tree.
 */
#include "lambda/sandbox_int.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "lambda/proc_mem.h"

/*
 * Folds a reading in KB into the peak, in MB rounded up. Lambda's limit
 * makes more than memory_size impossible; lb's samples catch it a little late.
 */
static void note_peak_kb(struct sandbox *sb, long kb)
{
	long mb = (kb + 1023) / 1024;

	if (mb > sb->peak_mb)
		sb->peak_mb = mb;
	if (sb->peak_mb > sb->memory_size)
		sb->peak_mb = sb->memory_size;
}

/*
 * Peak resident memory of the runtime process in MB (Lambda's "Max Memory
 * Used"). It is a high-water mark, so reading /proc at most once a second
 * keeps the REPORT line right to within a second's growth at a fraction of
 * the cost of reading it per invocation. The 100 ms samples and the exit's
 * rusage are folded in too: a process that died has no /proc to read.
 */
long sandbox_peak_memory_mb(struct sandbox *sb)
{
	char path[64], text[2048];
	const char *p;
	ssize_t n;
	int fd;

	if (sb->peak_read_us && time_mono_us() - sb->peak_read_us < 1000000)
		return sb->peak_mb;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)sb->pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return sb->peak_mb;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n > 0) {
		text[n] = '\0';
		if ((p = strstr(text, "VmHWM:")))
			note_peak_kb(sb, strtol(p + 6, NULL, 10));
	}
	sb->peak_read_us = time_mono_us();
	return sb->peak_mb;
}

/*
 * Lambda kills an environment whose memory goes over the function's memory
 * size; the invocation fails with "Runtime exited with error: signal:
 * killed" (Runtime.ExitError) and REPORT shows the whole size used. lb
 * samples the process tree every 100 ms from the start of an init or an
 * invocation until one sample after the sandbox went idle: the clock is not
 * restarted by each invocation, so back-to-back invocations shorter than the
 * interval are sampled too, and so is what the last one left resident.
 */
#define MEM_SAMPLE_MS 100

void sandbox_on_mem_sample(evutil_socket_t fd, short what, void *arg)
{
	struct sandbox *sb = arg;
	long kb;

	(void)fd;
	(void)what;
	if (sb->pid <= 0 || sb->state == SB_DEAD || sb->oom_killed)
		return;
	kb = proc_tree_rss_kb(sb->pid);
	note_peak_kb(sb, kb);
	if (kb > (long)sb->memory_size * 1024) {
		log_warn("[%s] memory %ld MB over memory_size %d MB: killing the sandbox", sb->log_name,
			 (kb + 1023) / 1024, sb->memory_size);
		sb->oom_killed = true;
		sb->peak_mb = sb->memory_size;
		sb->peak_read_us = time_mono_us();
		event_del(sb->mem_ev);
		sandbox_kill_processes(sb);
	} else if (sb->state == SB_IDLE) {
		event_del(sb->mem_ev);
	}
}

/* Starts sampling unless it is under way (event_add would restart the clock). */
void sandbox_mem_watch(struct sandbox *sb)
{
	struct timeval every = { 0, MEM_SAMPLE_MS * 1000 };

	if (!event_pending(sb->mem_ev, EV_TIMEOUT, NULL))
		event_add(sb->mem_ev, &every);
}

void sandbox_mem_reaped(struct sandbox *sb, long max_rss_kb)
{
	note_peak_kb(sb, max_rss_kb);
	/* Not /proc/PID again for its last REPORT: the pid may be reused by now. */
	sb->peak_read_us = time_mono_us();
}
