/* target_select: ALB's routing algorithms, fail open and slow start. */
#include "alb/target_select.h"

#include "test.h"

#define H HEALTH_HEALTHY
#define U HEALTH_UNHEALTHY
#define I HEALTH_INITIAL
#define D HEALTH_DRAINING
#define X HEALTH_UNUSED
#define S 1000000 /* microseconds per second */

static struct tg_attributes attrs(enum lb_algorithm algo)
{
	return (struct tg_attributes){
		.deregistration_delay = 300,
		.algorithm = algo,
		.lb_cookie_duration = 86400,
		.app_cookie_duration = 86400,
		.min_healthy_count = 1,
	};
}

static void set_health(struct target_state *t, size_t n, const enum target_health *h)
{
	for (size_t i = 0; i < n; i++)
		t[i] = (struct target_state){ .health = h[i] };
}

/* The next k picks as a string of digits ('-' for none). */
static const char *picks(struct target_selector *s, const struct tg_attributes *a,
			 const struct target_state *t, size_t n, int k, int exclude)
{
	static char out[64];
	struct rng rng;

	rng_seed_fixed(&rng, 1);
	for (int i = 0; i < k; i++) {
		int p = target_select(s, a, t, n, 0, &rng, exclude);

		out[i] = p < 0 ? '-' : (char)('0' + p);
	}
	out[k] = '\0';
	return out;
}

static const char *rr(const enum target_health *h, size_t n, int k)
{
	struct tg_attributes a = attrs(ALGO_ROUND_ROBIN);
	struct target_state t[8];
	struct target_selector s;
	const char *r;

	set_health(t, n, h);
	target_selector_init(&s);
	r = picks(&s, &a, t, n, k, -1);
	target_selector_release(&s);
	return r;
}

TEST(round_robin_is_sequential_over_healthy_targets)
{
	static const enum target_health h[] = { H, H, H };

	CHECK_STR(rr(h, 3, 7), "0120120");
}

TEST(round_robin_skips_unhealthy_and_initial_targets)
{
	static const enum target_health h[] = { H, U, H, I };

	CHECK_STR(rr(h, 4, 6), "020202");
}

TEST(all_unhealthy_fails_open_to_every_registered_target)
{
	static const enum target_health h[] = { U, D, U, X };

	CHECK_STR(rr(h, 4, 6), "020202");
}

TEST(initial_targets_take_part_in_fail_open)
{
	static const enum target_health h[] = { I, I, U };

	CHECK_STR(rr(h, 3, 6), "012012");
}

TEST(no_registered_target_is_none)
{
	static const enum target_health h[] = { D, X };

	CHECK_STR(rr(h, 2, 3), "---");
	CHECK_STR(rr(h, 0, 2), "--");
}

TEST(minimum_healthy_count_fails_open_below_it)
{
	struct tg_attributes a = attrs(ALGO_ROUND_ROBIN);
	struct target_state t[3];
	struct target_selector s;
	static const enum target_health h[] = { H, U, I };

	set_health(t, 3, h);
	target_selector_init(&s);
	CHECK_STR(picks(&s, &a, t, 3, 3, -1), "000");
	a.min_healthy_count = 2;
	CHECK_STR(picks(&s, &a, t, 3, 4, -1), "1201");
	target_selector_release(&s);
}

TEST(minimum_healthy_percentage_fails_open_below_it)
{
	struct tg_attributes a = attrs(ALGO_ROUND_ROBIN);
	struct target_state t[4];
	struct target_selector s;
	static const enum target_health h[] = { H, U, U, D };

	a.min_healthy_percentage = 50;
	set_health(t, 4, h);
	target_selector_init(&s);
	/* 1 healthy of 3 registered (33%) is below 50%: all three. */
	CHECK(target_group_fails_open(&a, t, 4));
	CHECK_STR(picks(&s, &a, t, 4, 3, -1), "012");
	/* 2 of 3 (66%) is not. */
	t[1].health = H;
	CHECK(!target_group_fails_open(&a, t, 4));
	CHECK_STR(picks(&s, &a, t, 4, 4, -1), "0101");
	/* Exactly 50% is not below it. */
	t[3].health = U;
	CHECK(!target_group_fails_open(&a, t, 4));
	target_selector_release(&s);
}

TEST(routable_is_healthy_or_fail_open_never_draining)
{
	struct tg_attributes a = attrs(ALGO_ROUND_ROBIN);
	struct target_state t[3];
	static const enum target_health h[] = { H, U, D };

	set_health(t, 3, h);
	CHECK(target_routable(&a, t, 3, 0));
	CHECK(!target_routable(&a, t, 3, 1));
	CHECK(!target_routable(&a, t, 3, 2));
	CHECK(!target_routable(&a, t, 3, 3));
	t[0].health = U;
	CHECK(target_routable(&a, t, 3, 0));
	CHECK(target_routable(&a, t, 3, 1));
	CHECK(!target_routable(&a, t, 3, 2));
	t[0].health = X;
	CHECK(!target_routable(&a, t, 3, 0));
}

TEST(excluded_target_is_not_picked)
{
	struct tg_attributes a = attrs(ALGO_ROUND_ROBIN);
	struct target_state t[3];
	struct target_selector s;
	static const enum target_health h[] = { H, H, U };

	set_health(t, 3, h);
	target_selector_init(&s);
	CHECK_STR(picks(&s, &a, t, 3, 3, 1), "000");
	CHECK_STR(picks(&s, &a, t, 2, 1, 0), "1");
	a.algorithm = ALGO_LEAST_OUTSTANDING;
	CHECK_STR(picks(&s, &a, t, 3, 3, 0), "111");
	a.algorithm = ALGO_WEIGHTED_RANDOM;
	CHECK_STR(picks(&s, &a, t, 3, 3, 0), "111");
	/* Excluding the only healthy target does not make the group fail open. */
	t[1].health = D;
	CHECK_STR(picks(&s, &a, t, 3, 2, 0), "--");
	t[0].health = U;
	CHECK_STR(picks(&s, &a, t, 3, 2, 0), "22");
	t[2].health = D;
	CHECK_STR(picks(&s, &a, t, 3, 2, 0), "--");
	target_selector_release(&s);
}

TEST(round_robin_survives_a_shrinking_group)
{
	struct tg_attributes a = attrs(ALGO_ROUND_ROBIN);
	struct target_state t[5];
	struct target_selector s;
	static const enum target_health h[] = { H, H, H, H, H };

	set_health(t, 5, h);
	target_selector_init(&s);
	CHECK_STR(picks(&s, &a, t, 5, 4, -1), "0123");
	CHECK_STR(picks(&s, &a, t, 2, 4, -1), "0101");
	target_selector_release(&s);
}

TEST(least_outstanding_picks_the_fewest_in_flight)
{
	struct tg_attributes a = attrs(ALGO_LEAST_OUTSTANDING);
	struct target_state t[4];
	struct target_selector s;
	static const enum target_health h[] = { H, H, H, U };

	set_health(t, 4, h);
	t[0].outstanding = 3;
	t[1].outstanding = 1;
	t[2].outstanding = 2;
	t[3].outstanding = 0;   /* unhealthy: not a candidate */
	target_selector_init(&s);
	CHECK_STR(picks(&s, &a, t, 4, 2, -1), "11");
	t[1].outstanding = 5;
	CHECK_STR(picks(&s, &a, t, 4, 1, -1), "2");
	target_selector_release(&s);
}

TEST(least_outstanding_ties_rotate)
{
	struct tg_attributes a = attrs(ALGO_LEAST_OUTSTANDING);
	struct target_state t[3];
	struct target_selector s;
	static const enum target_health h[] = { H, H, H };

	set_health(t, 3, h);
	target_selector_init(&s);
	CHECK_STR(picks(&s, &a, t, 3, 6, -1), "012012");
	t[1].outstanding = 1;
	CHECK_STR(picks(&s, &a, t, 3, 4, -1), "0202");
	target_selector_release(&s);
}

TEST(least_outstanding_fails_open_too)
{
	struct tg_attributes a = attrs(ALGO_LEAST_OUTSTANDING);
	struct target_state t[3];
	struct target_selector s;
	static const enum target_health h[] = { U, U, D };

	set_health(t, 3, h);
	t[0].outstanding = 2;
	target_selector_init(&s);
	CHECK_STR(picks(&s, &a, t, 3, 2, -1), "11");
	target_selector_release(&s);
}

TEST(weighted_random_is_uniform_over_healthy_targets)
{
	struct tg_attributes a = attrs(ALGO_WEIGHTED_RANDOM);
	struct target_state t[4];
	struct target_selector s;
	struct rng rng;
	static const enum target_health h[] = { H, U, H, H };
	int count[4] = { 0 }, repeats = 0, last = -1;

	set_health(t, 4, h);
	target_selector_init(&s);
	rng_seed_fixed(&rng, 42);
	for (int i = 0; i < 30000; i++) {
		int p = target_select(&s, &a, t, 4, 0, &rng, -1);

		if (p < 0 || p > 3)
			break;
		count[p]++;
		repeats += p == last;
		last = p;
	}
	CHECK_INT(count[1], 0);
	CHECK_INT(count[0] + count[2] + count[3], 30000);
	/* Each of three gets a third, within 3% (the seed is fixed: exact counts repeat). */
	for (int i = 0; i < 4; i += i == 0 ? 2 : 1) {
		CHECK(count[i] > 9700);
		CHECK(count[i] < 10300);
	}
	/* A random order, not a rotation: the same target comes twice in a row
	 * about a third of the time. */
	CHECK(repeats > 9000);
	CHECK(repeats < 11000);
	target_selector_release(&s);
}

TEST(weighted_random_fails_open_too)
{
	struct tg_attributes a = attrs(ALGO_WEIGHTED_RANDOM);
	struct target_state t[3];
	struct target_selector s;
	static const enum target_health h[] = { U, X, I };
	const char *r;

	set_health(t, 3, h);
	target_selector_init(&s);
	r = picks(&s, &a, t, 3, 40, -1);
	CHECK(strchr(r, '0') != NULL);
	CHECK(strchr(r, '2') != NULL);
	CHECK(strchr(r, '1') == NULL);
	CHECK(strchr(r, '-') == NULL);
	target_selector_release(&s);
}

TEST(slow_start_weight_ramps_linearly_from_the_floor)
{
	struct tg_attributes a = attrs(ALGO_ROUND_ROBIN);
	struct target_state t = { .health = H, .healthy_since_us = 10 * S, .slow_start = true };

	a.slow_start = 100;
	CHECK_INT(target_weight(&a, &t, 10 * S), TARGET_WEIGHT_FLOOR);
	CHECK_INT(target_weight(&a, &t, 60 * S), 505);
	CHECK_INT(target_weight(&a, &t, 85 * S), 752);
	CHECK_INT(target_weight(&a, &t, 110 * S), TARGET_WEIGHT_FULL);
	/* Not in slow start, unhealthy, or slow start off: full. */
	t.slow_start = false;
	CHECK_INT(target_weight(&a, &t, 10 * S), TARGET_WEIGHT_FULL);
	t.slow_start = true;
	t.health = U;
	CHECK_INT(target_weight(&a, &t, 10 * S), TARGET_WEIGHT_FULL);
	t.health = H;
	a.slow_start = 0;
	CHECK_INT(target_weight(&a, &t, 10 * S), TARGET_WEIGHT_FULL);
}

/* How often target 1 (in slow start since 0) is picked beside target 0 in
 * rounds picks at now_us; the first nfirst - 1 picks as digits into first. */
static int slow_start_picks(int64_t now_us, int rounds, char *first, size_t nfirst)
{
	struct tg_attributes a = attrs(ALGO_ROUND_ROBIN);
	struct target_state t[2] = {
		{ .health = H },
		{ .health = H, .healthy_since_us = 0, .slow_start = true },
	};
	struct target_selector s;
	struct rng rng;
	int ones = 0;

	a.slow_start = 100;
	rng_seed_fixed(&rng, 1);
	target_selector_init(&s);
	for (int i = 0; i < rounds; i++) {
		int p = target_select(&s, &a, t, 2, now_us, &rng, -1);

		ones += p == 1;
		if ((size_t)i < nfirst - 1)
			first[i] = (char)('0' + p);
	}
	first[nfirst - 1] = '\0';
	target_selector_release(&s);
	return ones;
}

TEST(slow_start_shares_at_0_50_and_100_percent)
{
	char first[16];

	/* Smooth weighted round robin gives each target exactly its weight per
	 * total-weight picks: 10 of 1010 at the start. */
	CHECK_INT(slow_start_picks(0, 1010, first, sizeof(first)), 10);
	/* Half-way: 505 of 1505, spread evenly (never twice in a row). */
	CHECK_INT(slow_start_picks(50 * S, 1505, first, sizeof(first)), 505);
	CHECK_STR(first, "010010010010010");
	/* After the period: plain rotation. */
	CHECK_INT(slow_start_picks(100 * S, 1000, first, sizeof(first)), 500);
	CHECK_STR(first, "010101010101010");
}

TEST(slow_start_target_is_not_picked_when_unhealthy)
{
	struct tg_attributes a = attrs(ALGO_ROUND_ROBIN);
	struct target_state t[3] = {
		{ .health = H },
		{ .health = H, .healthy_since_us = 0, .slow_start = true },
		{ .health = U },
	};
	struct target_selector s;
	int count[3] = { 0 };

	a.slow_start = 30;
	target_selector_init(&s);
	for (int i = 0; i < 1010; i++) {
		int p = target_select(&s, &a, t, 3, 0, NULL, -1);

		if (p >= 0)
			count[p]++;
	}
	CHECK_INT(count[0], 1000);
	CHECK_INT(count[1], 10);
	CHECK_INT(count[2], 0);
	target_selector_release(&s);
}

TEST(slow_start_entry_follows_albs_rules)
{
	struct tg_attributes a = attrs(ALGO_ROUND_ROBIN);
	struct target_state t[3] = {
		{ .health = H, .healthy_since_us = 0 },
		{ .health = H, .healthy_since_us = 50 * S },
		{ .health = U },
	};

	a.slow_start = 60;
	/* Another healthy target not in slow start exists: it enters. */
	CHECK(target_enters_slow_start(&a, t, 3, 1));
	/* Registered with the group's first targets: it does not. */
	t[1].first_registration = true;
	CHECK(!target_enters_slow_start(&a, t, 3, 1));
	t[1].first_registration = false;
	/* The only healthy target: it does not. */
	t[0].health = U;
	CHECK(!target_enters_slow_start(&a, t, 3, 1));
	/* The other healthy one is itself still in slow start: it does not... */
	t[0] = (struct target_state){ .health = H, .healthy_since_us = 0, .slow_start = true };
	t[1].healthy_since_us = 59 * S;
	CHECK(!target_enters_slow_start(&a, t, 3, 1));
	/* ...until the other's period is over. */
	t[1].healthy_since_us = 60 * S;
	CHECK(target_enters_slow_start(&a, t, 3, 1));
	/* Slow start off, or another algorithm: never. */
	a.slow_start = 0;
	CHECK(!target_enters_slow_start(&a, t, 3, 1));
	a.slow_start = 60;
	a.algorithm = ALGO_LEAST_OUTSTANDING;
	CHECK(!target_enters_slow_start(&a, t, 3, 1));
}

int main(void)
{
	RUN(round_robin_is_sequential_over_healthy_targets);
	RUN(round_robin_skips_unhealthy_and_initial_targets);
	RUN(all_unhealthy_fails_open_to_every_registered_target);
	RUN(initial_targets_take_part_in_fail_open);
	RUN(no_registered_target_is_none);
	RUN(minimum_healthy_count_fails_open_below_it);
	RUN(minimum_healthy_percentage_fails_open_below_it);
	RUN(routable_is_healthy_or_fail_open_never_draining);
	RUN(excluded_target_is_not_picked);
	RUN(round_robin_survives_a_shrinking_group);
	RUN(least_outstanding_picks_the_fewest_in_flight);
	RUN(least_outstanding_ties_rotate);
	RUN(least_outstanding_fails_open_too);
	RUN(weighted_random_is_uniform_over_healthy_targets);
	RUN(weighted_random_fails_open_too);
	RUN(slow_start_weight_ramps_linearly_from_the_floor);
	RUN(slow_start_shares_at_0_50_and_100_percent);
	RUN(slow_start_target_is_not_picked_when_unhealthy);
	RUN(slow_start_entry_follows_albs_rules);
	return test_done();
}
