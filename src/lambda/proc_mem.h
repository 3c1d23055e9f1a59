/*
 * proc_mem: the resident memory of a process and its descendants, read from
 * /proc — what Lambda counts against a function's memory size.
 */
#ifndef LB_PROC_MEM_H
#define LB_PROC_MEM_H

#include <sys/types.h>

/* Resident KB of root and every process below it (at most a few hundred);
 * -1 when root is gone. */
long proc_tree_rss_kb(pid_t root);

#endif
