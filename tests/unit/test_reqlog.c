/* inspect/reqlog: the console's ring of recent requests. */
#include <string.h>

#include "test.h"
#include "inspect/reqlog.h"

static void set(struct reqlog *rl, struct reqrec *r, enum rec_field f, const char *s)
{
	reqlog_set(rl, r, f, s, strlen(s));
}

TEST(records_get_growing_ids_and_are_found_by_id)
{
	struct reqlog *rl = reqlog_new(3, 100);
	struct reqrec *a = reqlog_next(rl), *b;

	set(rl, a, RF_METHOD, "GET");
	b = reqlog_next(rl);
	set(rl, b, RF_METHOD, "POST");
	CHECK_INT(a->id, 1);
	CHECK_INT(b->id, 2);
	CHECK(reqlog_find(rl, 1) == a);
	CHECK_STR(rec_get(reqlog_find(rl, 2), RF_METHOD).p, "POST");
	CHECK(reqlog_find(rl, 0) == NULL);
	CHECK(reqlog_find(rl, 3) == NULL);
	CHECK_INT(reqlog_last_id(rl), 2);
	reqlog_free(rl);
}

TEST(the_oldest_record_is_overwritten_when_the_ring_is_full)
{
	struct reqlog *rl = reqlog_new(2, 100);

	for (int i = 0; i < 5; i++)
		reqlog_setf(rl, reqlog_next(rl), RF_TARGET, "/%d", i + 1);
	CHECK(reqlog_find(rl, 3) == NULL);
	CHECK_STR(rec_get(reqlog_find(rl, 4), RF_TARGET).p, "/4");
	CHECK_STR(rec_get(reqlog_find(rl, 5), RF_TARGET).p, "/5");
	CHECK(reqlog_recent(rl, 0) == reqlog_find(rl, 5));
	CHECK(reqlog_recent(rl, 1) == reqlog_find(rl, 4));
	CHECK(reqlog_recent(rl, 2) == NULL);
	reqlog_free(rl);
}

TEST(a_reused_slot_forgets_the_previous_fields)
{
	struct reqlog *rl = reqlog_new(1, 100);
	struct reqrec *r = reqlog_next(rl);

	set(rl, r, RF_FUNCTION, "api");
	r->cold = true;
	r = reqlog_next(rl);
	CHECK(!rec_has(r, RF_FUNCTION));
	CHECK_STR(rec_get(r, RF_FUNCTION).p, "");
	CHECK(!r->cold);
	CHECK_INT(r->priority, -1);
	reqlog_free(rl);
}

TEST(bodies_past_the_limit_are_cut_and_marked)
{
	struct reqlog *rl = reqlog_new(2, 4);
	struct reqrec *r = reqlog_next(rl);
	struct sv v;

	set(rl, r, RF_EVENT, "{\"a\":1}");
	set(rl, r, RF_RESULT, "abcd");
	v = rec_get(r, RF_EVENT);
	CHECK_MEM(v.p, v.n, "{\"a\"");
	CHECK(rec_truncated(r, RF_EVENT));
	CHECK(!rec_truncated(r, RF_RESULT));
	CHECK_STR(rec_get(r, RF_RESULT).p, "abcd");
	reqlog_free(rl);
}

TEST(heads_are_not_cut_at_the_body_limit)
{
	struct reqlog *rl = reqlog_new(1, 4);
	struct reqrec *r = reqlog_next(rl);

	set(rl, r, RF_HEAD, "GET / HTTP/1.1\r\nX-Marker: m\r\n\r\n");
	CHECK(!rec_truncated(r, RF_HEAD));
	CHECK(strstr(rec_get(r, RF_HEAD).p, "X-Marker: m") != NULL);
	reqlog_free(rl);
}

TEST(fields_stay_readable_after_the_buffer_grows)
{
	struct reqlog *rl = reqlog_new(1, 100000);
	struct reqrec *r = reqlog_next(rl);
	static char big[60000];

	memset(big, 'x', sizeof(big) - 1);
	set(rl, r, RF_METHOD, "PUT");
	set(rl, r, RF_BODY, big);
	CHECK_STR(rec_get(r, RF_METHOD).p, "PUT");
	CHECK_INT(rec_get(r, RF_BODY).n, sizeof(big) - 1);
	reqlog_free(rl);
}

int main(void)
{
	RUN(records_get_growing_ids_and_are_found_by_id);
	RUN(the_oldest_record_is_overwritten_when_the_ring_is_full);
	RUN(a_reused_slot_forgets_the_previous_fields);
	RUN(bodies_past_the_limit_are_cut_and_marked);
	RUN(heads_are_not_cut_at_the_body_limit);
	RUN(fields_stay_readable_after_the_buffer_grows);
	return test_done();
}
