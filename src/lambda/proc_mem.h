/*
 * proc_mem: the resident memory of a process and its descendants, read from
 * /proc — what Lambda counts against a function's memory size — and the
 * killing of such a tree.
 */
#ifndef LB_PROC_MEM_H
#define LB_PROC_MEM_H

#include <sys/types.h>

/* Resident KB of root and every process below it (at most a few hundred);
 * -1 when root is gone. */
long proc_tree_rss_kb(pid_t root);

/* Sends SIGKILL to every process below root (at most a few hundred), found
 * before any is killed, so that none is orphaned before it is seen; root
 * itself is left to the caller. */
void proc_tree_kill_below(pid_t root);

#endif
