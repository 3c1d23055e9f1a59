/*
 * target_count: requests in flight to each target, counted over every event
 * loop of `workers: N` (least_outstanding_requests balances on the total).
 *
 * A loop's struct target_rt counts its forwards on a struct target_count:
 * its own (one loop), or the entry of a process-wide table shared by every
 * loop's targets, found by (target group name, target key) when the target
 * is registered. Counts are relaxed atomics; the table's mutex guards only
 * entries coming and going (registrations, reloads).
 */
#ifndef LB_TARGETS_TARGET_COUNT_H
#define LB_TARGETS_TARGET_COUNT_H

#include <stdatomic.h>

struct target_count {
	atomic_uint n;                 /* requests in flight */
	/* in a table: */
	struct target_count *next;
	char *group;
	char *key;
	unsigned refs;                 /* under the table's mutex */
};

struct target_counts;

/* A table with one reference; it lives while any reference does. */
struct target_counts *target_counts_new(void);
struct target_counts *target_counts_ref(struct target_counts *c);
void target_counts_unref(struct target_counts *c);

/* The entry of (group, key), made at 0 if new, with one more reference. */
struct target_count *target_counts_get(struct target_counts *c, const char *group, const char *key);
/* Drops a reference from target_counts_get; the last one frees the entry. */
void target_counts_put(struct target_counts *c, struct target_count *e);

static inline void target_count_add(struct target_count *e)
{
	atomic_fetch_add_explicit(&e->n, 1, memory_order_relaxed);
}

static inline void target_count_sub(struct target_count *e)
{
	atomic_fetch_sub_explicit(&e->n, 1, memory_order_relaxed);
}

static inline unsigned target_count_load(const struct target_count *e)
{
	return atomic_load_explicit(&e->n, memory_order_relaxed);
}

#endif
