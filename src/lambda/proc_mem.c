#include "lambda/proc_mem.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* A sandbox with more processes than this is counted by its first ones. */
#define TREE_MAX 256

/* Reads a small /proc file into text; its length, or -1. */
static ssize_t read_small(const char *path, char *text, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, text, size - 1);
	close(fd);
	if (n >= 0)
		text[n] = '\0';
	return n;
}

/* Appends pid's children (of its main thread: a runtime's other threads
 * rarely fork) to pids[0..*n), up to TREE_MAX. */
static void add_children(pid_t pid, pid_t *pids, size_t *n)
{
	char path[64], text[4096], *p, *end;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	if (read_small(path, text, sizeof(text)) <= 0)
		return;
	for (p = text; *n < TREE_MAX; p = end) {
		long child = strtol(p, &end, 10);
		if (end == p)
			break;
		pids[(*n)++] = (pid_t)child;
	}
}

long proc_tree_rss_kb(pid_t root)
{
	static long page_kb;
	pid_t pids[TREE_MAX];
	size_t n = 1;
	long kb = 0;
	char path[64], text[4096];

	if (!page_kb)
		page_kb = sysconf(_SC_PAGESIZE) / 1024;
	pids[0] = root;
	for (size_t i = 0; i < n; i++) {
		long size, resident;

		snprintf(path, sizeof(path), "/proc/%d/statm", (int)pids[i]);
		if (read_small(path, text, sizeof(text)) <= 0 ||
		    sscanf(text, "%ld %ld", &size, &resident) != 2) {
			if (i == 0)
				return -1;
			continue;
		}
		kb += resident * page_kb;
		add_children(pids[i], pids, &n);
	}
	return kb;
}

void proc_tree_kill_below(pid_t root)
{
	pid_t pids[TREE_MAX];
	size_t n = 1;

	pids[0] = root;
	for (size_t i = 0; i < n; i++)
		add_children(pids[i], pids, &n);
	for (size_t i = 1; i < n; i++)
		kill(pids[i], SIGKILL);
}
