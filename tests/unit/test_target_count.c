/* target_count: the in-flight counts every loop of `workers` shares per target. */
#include "targets/target_count.h"

#include <pthread.h>

#include "test.h"

TEST(same_group_and_key_share_one_count)
{
	struct target_counts *c = target_counts_new();
	struct target_count *a0 = target_counts_get(c, "web", "127.0.0.1:80");
	struct target_count *a1 = target_counts_get(c, "web", "127.0.0.1:80");
	struct target_count *other_group = target_counts_get(c, "api", "127.0.0.1:80");
	struct target_count *other_key = target_counts_get(c, "web", "127.0.0.1:81");

	CHECK(a0 == a1);
	CHECK(other_group != a0);
	CHECK(other_key != a0);
	target_count_add(a0);
	target_count_add(a1);
	target_count_add(other_group);
	CHECK_INT(target_count_load(a0), 2);
	target_count_sub(a1);
	CHECK_INT(target_count_load(a0), 1);
	CHECK_INT(target_count_load(other_group), 1);
	CHECK_INT(target_count_load(other_key), 0);
	target_counts_put(c, a0);
	target_counts_put(c, a1);
	target_counts_put(c, other_group);
	target_counts_put(c, other_key);
	target_counts_unref(c);
}

TEST(an_entry_made_again_after_its_last_put_starts_at_zero)
{
	struct target_counts *c = target_counts_new();
	struct target_count *e = target_counts_get(c, "web", "k");

	target_count_add(e);
	target_counts_put(c, e);
	e = target_counts_get(c, "web", "k");
	CHECK_INT(target_count_load(e), 0);
	target_counts_put(c, e);
	target_counts_unref(c);
}

TEST(the_table_lives_while_a_reference_does)
{
	struct target_counts *c = target_counts_new();
	struct target_counts *again = target_counts_ref(c);
	struct target_count *e;

	target_counts_unref(c);
	e = target_counts_get(again, "web", "k");
	target_count_add(e);
	CHECK_INT(target_count_load(e), 1);
	target_counts_put(again, e);
	target_counts_unref(again);
}

#define ADDS 100000

static void *add_many(void *arg)
{
	for (int i = 0; i < ADDS; i++)
		target_count_add(arg);
	return NULL;
}

TEST(counts_from_two_threads_add_up)
{
	struct target_counts *c = target_counts_new();
	struct target_count *e = target_counts_get(c, "web", "k");
	pthread_t th;

	CHECK_INT(pthread_create(&th, NULL, add_many, e), 0);
	add_many(e);
	pthread_join(th, NULL);
	CHECK_INT(target_count_load(e), 2 * ADDS);
	target_counts_put(c, e);
	target_counts_unref(c);
}

int main(void)
{
	RUN(same_group_and_key_share_one_count);
	RUN(an_entry_made_again_after_its_last_put_starts_at_zero);
	RUN(the_table_lives_while_a_reference_does);
	RUN(counts_from_two_threads_add_up);
	return test_done();
}
