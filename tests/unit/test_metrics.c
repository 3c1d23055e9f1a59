/* inspect/metrics: Prometheus's text exposition format. */
#include <string.h>

#include "test.h"
#include "inspect/metrics.h"

TEST(a_counter_is_written_with_help_type_and_labels)
{
	struct metrics *m = metrics_new();
	int f = metrics_family(m, "aws_lambda_invocations_total", "Invocations", METRIC_COUNTER, NULL, 0);
	struct buf out = BUF_INIT;

	metrics_inc(m, f, "function=\"api\",version=\"1\"", 1);
	metrics_inc(m, f, "function=\"api\",version=\"1\"", 2);
	metrics_inc(m, f, "function=\"web\",version=\"$LATEST\"", 1);
	metrics_write(m, &out);
	CHECK_STR(buf_cstr(&out), "# HELP aws_lambda_invocations_total Invocations\n"
				  "# TYPE aws_lambda_invocations_total counter\n"
				  "aws_lambda_invocations_total{function=\"api\",version=\"1\"} 3\n"
				  "aws_lambda_invocations_total{function=\"web\",version=\"$LATEST\"} 1\n");
	CHECK(metrics_value(m, f, "function=\"api\",version=\"1\"") == 3);
	buf_release(&out);
	metrics_free(m);
}

TEST(a_histogram_has_cumulative_buckets_inf_sum_and_count)
{
	static const double bounds[] = { 0.1, 1 };
	struct metrics *m = metrics_new();
	int f = metrics_family(m, "d_seconds", "Duration", METRIC_HISTOGRAM, bounds, 2);
	struct buf out = BUF_INIT;

	metrics_observe(m, f, "f=\"a\"", 0.05);
	metrics_observe(m, f, "f=\"a\"", 0.1);   /* le is inclusive */
	metrics_observe(m, f, "f=\"a\"", 0.5);
	metrics_observe(m, f, "f=\"a\"", 2);
	metrics_write(m, &out);
	CHECK_STR(buf_cstr(&out), "# HELP d_seconds Duration\n"
				  "# TYPE d_seconds histogram\n"
				  "d_seconds_bucket{f=\"a\",le=\"0.1\"} 2\n"
				  "d_seconds_bucket{f=\"a\",le=\"1\"} 3\n"
				  "d_seconds_bucket{f=\"a\",le=\"+Inf\"} 4\n"
				  "d_seconds_sum{f=\"a\"} 2.65\n"
				  "d_seconds_count{f=\"a\"} 4\n");
	buf_release(&out);
	metrics_free(m);
}

TEST(a_gauge_is_set_and_cleared)
{
	struct metrics *m = metrics_new();
	int f = metrics_family(m, "g", "G", METRIC_GAUGE, NULL, 0);
	struct buf out = BUF_INIT;

	metrics_set(m, f, "", 3);
	metrics_set(m, f, "", 2);
	metrics_write(m, &out);
	CHECK_STR(buf_cstr(&out), "# HELP g G\n# TYPE g gauge\ng 2\n");
	metrics_clear(m, f);
	buf_reset(&out);
	metrics_write(m, &out);
	CHECK_STR(buf_cstr(&out), "# HELP g G\n# TYPE g gauge\n");
	buf_release(&out);
	metrics_free(m);
}

TEST(label_values_are_escaped)
{
	struct buf l = BUF_INIT;

	metrics_label(&l, "a", "x\"y\\z\nw");
	metrics_label(&l, "b", "");
	CHECK_STR(buf_cstr(&l), "a=\"x\\\"y\\\\z\\nw\",b=\"\"");
	buf_release(&l);
}

int main(void)
{
	RUN(a_counter_is_written_with_help_type_and_labels);
	RUN(a_histogram_has_cumulative_buckets_inf_sum_and_count);
	RUN(a_gauge_is_set_and_cleared);
	RUN(label_values_are_escaped);
	return test_done();
}
