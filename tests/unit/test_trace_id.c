#include <string.h>

#include "test.h"
#include "alb/trace_id.h"

static const uint8_t RND[12] = { 0x4d, 0xea, 0x00, 0x86, 0xf9, 0x76,
				 0x3a, 0xc0, 0x66, 0x7b, 0x11, 0x5a };
#define EPOCH 0x5c34e93eu
#define ID "1-5c34e93e-4dea0086f9763ac0667b115a"

/* Builds from an incoming value (NULL: no header) and compares the exact bytes. */
static void check_build(const char *incoming, size_t headers_bytes, const char *want)
{
	struct buf out = BUF_INIT;

	trace_id_build(&out, incoming ? sv_from(incoming) : SV_NULL, incoming != NULL,
		       headers_bytes, EPOCH, RND);
	CHECK_MEM(out.p, out.len, want);
	buf_release(&out);
}

TEST(no_incoming_header_gives_a_fresh_root)
{
	check_build(NULL, 300, "Root=" ID);
}

TEST(root_epoch_is_eight_hex_digits_zero_padded)
{
	static const uint8_t zero[12];
	struct buf out = BUF_INIT;

	trace_id_build(&out, SV_NULL, false, 0, 0x1234, zero);
	CHECK_MEM(out.p, out.len, "Root=1-00001234-000000000000000000000000");
	buf_reset(&out);
	trace_id_build(&out, SV_NULL, false, 0, 0xffffffffu, zero);
	CHECK_MEM(out.p, out.len, "Root=1-ffffffff-000000000000000000000000");
	buf_release(&out);
}

TEST(incoming_root_gets_self_inserted_in_front)
{
	check_build("Root=1-67891233-abcdef012345678912345678", 300,
		    "Self=" ID ";Root=1-67891233-abcdef012345678912345678");
}

TEST(incoming_root_keeps_custom_fields_unchanged)
{
	check_build("Root=1-67891233-abcdef012345678912345678;CalledFrom=app", 300,
		    "Self=" ID ";Root=1-67891233-abcdef012345678912345678;CalledFrom=app");
	check_build("Sampled=1;Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8",
		    300,
		    "Self=" ID ";Sampled=1;Root=1-67891233-abcdef012345678912345678;"
		    "Parent=53995c3f42cd8ad8");
}

TEST(incoming_self_is_replaced_in_place)
{
	check_build("Self=1-67891233-12456789abcdef012345678;Root=1-67891233-abcdef012345678912345678;CalledFrom=app",
		    300, "Self=" ID ";Root=1-67891233-abcdef012345678912345678;CalledFrom=app");
}

TEST(incoming_self_after_root_is_replaced_where_it_is)
{
	check_build("Root=1-67891233-abcdef012345678912345678;Self=old;X=y", 300,
		    "Root=1-67891233-abcdef012345678912345678;Self=" ID ";X=y");
	check_build("Root=r;Self=", 300, "Root=r;Self=" ID);
}

TEST(incoming_without_root_or_self_gets_root_in_front)
{
	check_build("CalledFrom=app", 300, "Root=" ID ";CalledFrom=app");
	check_build("garbage", 300, "Root=" ID ";garbage");
}

TEST(field_keys_are_case_sensitive)
{
	check_build("root=1-67891233-abcdef012345678912345678", 300,
		    "Root=" ID ";root=1-67891233-abcdef012345678912345678");
	check_build("self=x;Root=r", 300, "Self=" ID ";self=x;Root=r");
}

TEST(empty_incoming_header_gives_a_fresh_root)
{
	check_build("", 300, "Root=" ID);
	check_build("  ", 300, "Root=" ID);
}

TEST(headers_over_7kb_give_a_fresh_root_only)
{
	check_build("Root=1-67891233-abcdef012345678912345678;CalledFrom=app", 7169, "Root=" ID);
	check_build("Self=a;Root=b", 7169, "Root=" ID);
	check_build(NULL, 100000, "Root=" ID);
}

TEST(headers_of_exactly_7kb_keep_the_incoming_fields)
{
	check_build("Root=r", 7168, "Self=" ID ";Root=r");
}

TEST(build_appends_to_existing_buffer)
{
	struct buf out = BUF_INIT;

	buf_puts(&out, "X-Amzn-Trace-Id: ");
	trace_id_build(&out, SV("Root=r"), true, 10, EPOCH, RND);
	CHECK_MEM(out.p, out.len, "X-Amzn-Trace-Id: Self=" ID ";Root=r");
	buf_release(&out);
}

TEST(root_returns_the_root_value)
{
	struct sv r = trace_id_root(SV("Self=1-1-2;Root=1-5c34e93e-4dea0086f9763ac0667b115a;X=y"));

	CHECK_MEM(r.p, r.n, "1-5c34e93e-4dea0086f9763ac0667b115a");
	r = trace_id_root(SV("Root=1-58337364-23a8c76965a2ef7629b185e3"));
	CHECK_MEM(r.p, r.n, "1-58337364-23a8c76965a2ef7629b185e3");
}

TEST(root_is_null_when_absent)
{
	CHECK(trace_id_root(SV("Self=1-2-3;CalledFrom=app")).p == NULL);
	CHECK(trace_id_root(SV("RootX=1")).p == NULL);
	CHECK(trace_id_root(SV("Root")).p == NULL);
	CHECK(trace_id_root(SV("")).p == NULL);
}

TEST(root_of_a_built_value_is_the_new_or_incoming_root)
{
	struct buf out = BUF_INIT;
	struct sv r;

	trace_id_build(&out, SV("CalledFrom=app"), true, 10, EPOCH, RND);
	r = trace_id_root((struct sv){ out.p, out.len });
	CHECK_MEM(r.p, r.n, ID);
	buf_reset(&out);
	trace_id_build(&out, SV("Root=1-a-b"), true, 10, EPOCH, RND);
	r = trace_id_root((struct sv){ out.p, out.len });
	CHECK_MEM(r.p, r.n, "1-a-b");
	buf_release(&out);
}

int main(void)
{
	RUN(no_incoming_header_gives_a_fresh_root);
	RUN(root_epoch_is_eight_hex_digits_zero_padded);
	RUN(incoming_root_gets_self_inserted_in_front);
	RUN(incoming_root_keeps_custom_fields_unchanged);
	RUN(incoming_self_is_replaced_in_place);
	RUN(incoming_self_after_root_is_replaced_where_it_is);
	RUN(incoming_without_root_or_self_gets_root_in_front);
	RUN(field_keys_are_case_sensitive);
	RUN(empty_incoming_header_gives_a_fresh_root);
	RUN(headers_over_7kb_give_a_fresh_root_only);
	RUN(headers_of_exactly_7kb_keep_the_incoming_fields);
	RUN(build_appends_to_existing_buffer);
	RUN(root_returns_the_root_value);
	RUN(root_is_null_when_absent);
	RUN(root_of_a_built_value_is_the_new_or_incoming_root);
	return test_done();
}
