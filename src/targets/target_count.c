/*
 * target_count: the table of in-flight counts shared by every loop's targets.
 */
#include "targets/target_count.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

struct target_counts {
	pthread_mutex_t mu;
	atomic_uint refs;
	struct target_count *entries;
};

struct target_counts *target_counts_new(void)
{
	struct target_counts *c = xcalloc(1, sizeof(*c));

	pthread_mutex_init(&c->mu, NULL);
	atomic_init(&c->refs, 1);
	return c;
}

struct target_counts *target_counts_ref(struct target_counts *c)
{
	atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
	return c;
}

void target_counts_unref(struct target_counts *c)
{
	if (!c || atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) != 1)
		return;
	/* Every entry went with the targets that held it. */
	pthread_mutex_destroy(&c->mu);
	free(c);
}

struct target_count *target_counts_get(struct target_counts *c, const char *group, const char *key)
{
	struct target_count *e;

	pthread_mutex_lock(&c->mu);
	for (e = c->entries; e; e = e->next)
		if (strcmp(e->group, group) == 0 && strcmp(e->key, key) == 0)
			break;
	if (!e) {
		e = xcalloc(1, sizeof(*e));
		atomic_init(&e->n, 0);
		e->group = xstrdup(group);
		e->key = xstrdup(key);
		e->next = c->entries;
		c->entries = e;
	}
	e->refs++;
	pthread_mutex_unlock(&c->mu);
	return e;
}

void target_counts_put(struct target_counts *c, struct target_count *e)
{
	struct target_count **pp;

	pthread_mutex_lock(&c->mu);
	if (--e->refs == 0) {
		for (pp = &c->entries; *pp != e; pp = &(*pp)->next)
			;
		*pp = e->next;
		free(e->group);
		free(e->key);
		free(e);
	}
	pthread_mutex_unlock(&c->mu);
}
