/* inspect/metrics: Prometheus's text exposition format. */
#include <stdio.h>
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

TEST(a_series_resolved_once_records_as_its_labels_would)
{
	static const double bounds[] = { 0.1, 1 };
	struct metrics *m = metrics_new();
	int c = metrics_family(m, "c_total", "C", METRIC_COUNTER, NULL, 0);
	int h = metrics_family(m, "h_seconds", "H", METRIC_HISTOGRAM, bounds, 2);
	struct buf by_number = BUF_INIT, by_labels = BUF_INIT;
	struct metrics *m2 = metrics_new();
	int c2 = metrics_family(m2, "c_total", "C", METRIC_COUNTER, NULL, 0);
	int h2 = metrics_family(m2, "h_seconds", "H", METRIC_HISTOGRAM, bounds, 2);
	int b = metrics_series(m, c, "x=\"b\"");
	int a = metrics_series(m, c, "x=\"a\"");
	int t = metrics_series(m, h, "x=\"a\"");

	CHECK_INT(metrics_series(m, c, "x=\"b\""), b);   /* found, not made again */
	/* more series after a number was handed out: the number still holds */
	for (int i = 0; i < 20; i++) {
		char l[16];
		snprintf(l, sizeof(l), "x=\"%d\"", i);
		metrics_add(m, c, metrics_series(m, c, l), i);
		metrics_inc(m2, c2, "x=\"b\"", 0);
		metrics_inc(m2, c2, "x=\"a\"", 0);
		metrics_inc(m2, c2, l, i);
	}
	metrics_add(m, c, a, 2);
	metrics_add(m, c, b, 1);
	metrics_add(m, c, a, 3);
	metrics_observe_at(m, h, t, 0.05);
	metrics_observe_at(m, h, t, 2);
	metrics_inc(m2, c2, "x=\"a\"", 2);
	metrics_inc(m2, c2, "x=\"b\"", 1);
	metrics_inc(m2, c2, "x=\"a\"", 3);
	metrics_observe(m2, h2, "x=\"a\"", 0.05);
	metrics_observe(m2, h2, "x=\"a\"", 2);
	CHECK(metrics_value(m, c, "x=\"a\"") == 5);
	metrics_write(m, &by_number);
	metrics_write(m2, &by_labels);
	CHECK_STR(buf_cstr(&by_number), buf_cstr(&by_labels));
	buf_release(&by_number);
	buf_release(&by_labels);
	metrics_free(m);
	metrics_free(m2);
}

int main(void)
{
	RUN(a_counter_is_written_with_help_type_and_labels);
	RUN(a_histogram_has_cumulative_buckets_inf_sum_and_count);
	RUN(a_gauge_is_set_and_cleared);
	RUN(label_values_are_escaped);
	RUN(a_series_resolved_once_records_as_its_labels_would);
	return test_done();
}
