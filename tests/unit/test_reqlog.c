/* inspect/reqlog: the console's ring of recent requests. */
#include <stdio.h>
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

TEST(set_num_writes_name_colon_number_without_printf)
{
	struct reqlog *rl = reqlog_new(1, 100);
	struct reqrec *r = reqlog_next(rl);

	reqlog_set_num(rl, r, RF_CLIENT, "127.0.0.1", 54321);
	reqlog_set_num(rl, r, RF_RULE, "lb.yaml", 0);
	reqlog_set_num(rl, r, RF_LISTENER, "", -12);
	CHECK_STR(rec_get(r, RF_CLIENT).p, "127.0.0.1:54321");
	CHECK_INT(rec_get(r, RF_CLIENT).n, 15);
	CHECK_STR(rec_get(r, RF_RULE).p, "lb.yaml:0");
	CHECK_STR(rec_get(r, RF_LISTENER).p, ":-12");
	reqlog_free(rl);
}

TEST(set_small_grows_the_slot_when_needed_and_keeps_fields_terminated)
{
	struct reqlog *rl = reqlog_new(1, 4);
	struct reqrec *r = reqlog_next(rl);
	static char head[5000];
	char name[40];

	/* many fields into a fresh (empty) buffer: the first ones take the slow path */
	for (int i = 0; i < 20; i++) {
		if (rec_field_is_large((enum rec_field)i))
			continue;
		snprintf(name, sizeof(name), "value-%d", i);
		reqlog_set_small(rl, r, (enum rec_field)i, name, strlen(name));
	}
	for (int i = 0; i < 20; i++) {
		if (rec_field_is_large((enum rec_field)i))
			continue;
		snprintf(name, sizeof(name), "value-%d", i);
		CHECK_STR(rec_get(r, (enum rec_field)i).p, name);
	}
	/* a head bigger than a small field is kept whole (its own limit) */
	memset(head, 'h', sizeof(head) - 1);
	reqlog_set_small(rl, r, RF_HEAD, head, sizeof(head) - 1);
	CHECK_INT(rec_get(r, RF_HEAD).n, sizeof(head) - 1);
	CHECK(!rec_truncated(r, RF_HEAD));
	/* a small field past its limit is cut and marked, as reqlog_set does */
	reqlog_set_small(rl, r, RF_HOST, head, sizeof(head) - 1);
	CHECK_INT(rec_get(r, RF_HOST).n, REC_SMALL_MAX);
	CHECK(rec_truncated(r, RF_HOST));
	/* a large field given to it keeps the body limit */
	reqlog_set_small(rl, r, RF_EVENT, "abcdef", 6);
	CHECK_STR(rec_get(r, RF_EVENT).p, "abcd");
	CHECK(rec_truncated(r, RF_EVENT));
	reqlog_free(rl);
}

TEST(a_reused_slot_keeps_its_buffer_and_forgets_truncation)
{
	struct reqlog *rl = reqlog_new(1, 4);
	struct reqrec *r = reqlog_next(rl);
	const char *before;

	reqlog_set(rl, r, RF_BODY, "too long", 8);
	reqlog_set_small(rl, r, RF_METHOD, "GET", 3);
	CHECK(rec_truncated(r, RF_BODY));
	before = r->data.p;
	r = reqlog_next(rl);
	CHECK(r->data.p == before);
	CHECK(!rec_has(r, RF_BODY));
	CHECK(!rec_truncated(r, RF_BODY));
	reqlog_set_small(rl, r, RF_METHOD, "PUT", 3);
	CHECK(r->data.p == before);      /* fits: no allocation */
	CHECK_STR(rec_get(r, RF_METHOD).p, "PUT");
	reqlog_free(rl);
}

TEST(fields_inside_the_head_are_places_in_its_copy)
{
	static const char head[] = "GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\n\r\n";
	char other[] = "other.example";
	struct reqlog *rl = reqlog_new(2, 64);
	struct reqrec *r = reqlog_next(rl);
	size_t used;
	struct sv v;

	reqlog_set_small(rl, r, RF_HEAD, head, sizeof(head) - 1);
	used = r->data.len;
	reqlog_set_in(rl, r, RF_METHOD, RF_HEAD, head, head, 3);
	reqlog_set_in(rl, r, RF_TARGET, RF_HEAD, head, head + 4, 6);
	reqlog_set_in(rl, r, RF_HOST, RF_HEAD, head, strstr(head, "example.com"), 11);
	CHECK_INT(r->data.len, used);    /* no bytes copied */
	v = rec_get(r, RF_METHOD);
	CHECK(sv_eq_cstr(v, "GET"));
	CHECK(sv_eq_cstr(rec_get(r, RF_TARGET), "/a?b=1"));
	CHECK(sv_eq_cstr(rec_get(r, RF_HOST), "example.com"));
	CHECK(rec_has(r, RF_HOST) && !rec_truncated(r, RF_HOST));
	/* bytes from elsewhere (the listener's address as host), or past the head: copied */
	reqlog_set_in(rl, r, RF_HOST, RF_HEAD, head, other, strlen(other));
	other[0] = 'X';
	CHECK_STR(rec_get(r, RF_HOST).p, "other.example");
	reqlog_set_in(rl, r, RF_TARGET, RF_HEAD, head, head + sizeof(head) - 3, 3);
	CHECK_INT(rec_get(r, RF_TARGET).n, 3);
	CHECK(r->data.len > used);
	/* without a head: copied */
	r = reqlog_next(rl);
	reqlog_set_in(rl, r, RF_METHOD, RF_HEAD, head, head, 3);
	CHECK_STR(rec_get(r, RF_METHOD).p, "GET");
	reqlog_free(rl);
}

TEST(static_words_are_named_not_copied)
{
	struct reqlog *rl = reqlog_new(1, 64);
	struct reqrec *r = reqlog_next(rl);

	reqlog_set_small(rl, r, RF_HEAD, "GET / HTTP/1.1\r\n\r\n", 18);
	reqlog_set_static(r, RF_VERSION, RS_HTTP11);
	reqlog_set_static(r, RF_ACTION, RS_FIXED_RESPONSE);
	reqlog_set_static(r, RF_RULE, RS_DEFAULT);
	CHECK_INT(r->data.len, 19);
	CHECK_STR(rec_get(r, RF_VERSION).p, "HTTP/1.1");
	CHECK_INT(rec_get(r, RF_VERSION).n, 8);
	CHECK_STR(rec_get(r, RF_ACTION).p, "fixed-response");
	CHECK_STR(rec_get(r, RF_RULE).p, "default");
	CHECK(rec_has(r, RF_RULE) && !rec_truncated(r, RF_RULE));
	/* set again as a copy: the copy is read */
	reqlog_set_small(rl, r, RF_ACTION, "forward", 7);
	CHECK_STR(rec_get(r, RF_ACTION).p, "forward");
	r = reqlog_next(rl);
	CHECK(!rec_has(r, RF_VERSION));
	reqlog_free(rl);
}

int main(void)
{
	RUN(records_get_growing_ids_and_are_found_by_id);
	RUN(fields_inside_the_head_are_places_in_its_copy);
	RUN(static_words_are_named_not_copied);
	RUN(the_oldest_record_is_overwritten_when_the_ring_is_full);
	RUN(a_reused_slot_forgets_the_previous_fields);
	RUN(bodies_past_the_limit_are_cut_and_marked);
	RUN(heads_are_not_cut_at_the_body_limit);
	RUN(fields_stay_readable_after_the_buffer_grows);
	RUN(set_num_writes_name_colon_number_without_printf);
	RUN(set_small_grows_the_slot_when_needed_and_keeps_fields_terminated);
	RUN(a_reused_slot_keeps_its_buffer_and_forgets_truncation);
	return test_done();
}
