/*
 * metrics: counters, gauges and histograms with labels, written in
 * Prometheus's text exposition format (version 0.0.4). Pure: the console
 * feeds it and serves its text at /metrics.
 *
 * A family is declared once (name, help, type, histogram buckets); a series
 * is a family plus a label set, made on its first use. Label sets are
 * passed pre-rendered ('a="x",b="y"', see metrics_label), so recording is a
 * lookup and an addition — or, on a hot path, only the addition: resolve a
 * series once with metrics_series and record through its number.
 */
#ifndef LB_INSPECT_METRICS_H
#define LB_INSPECT_METRICS_H

#include <stddef.h>

#include "base/buf.h"

enum metric_type { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

struct metrics;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);
/* Declares a family (names and help are borrowed: string literals); buckets:
 * a histogram's ascending upper bounds, without +Inf. Returns its id. */
int metrics_family(struct metrics *m, const char *name, const char *help, enum metric_type type,
		   const double *buckets, size_t nbuckets);
/* A counter's series grows by v (made at 0 first: v may be 0 to show it). */
void metrics_inc(struct metrics *m, int family, const char *labels, double v);
/* A gauge's series is v. */
void metrics_set(struct metrics *m, int family, const char *labels, double v);
/* A histogram's series observes v. */
void metrics_observe(struct metrics *m, int family, const char *labels, double v);
/* Forgets a family's series (gauges recomputed before each scrape). */
void metrics_clear(struct metrics *m, int family);
/*
 * A series' number in its family (made at 0 on this first use, as
 * metrics_inc(..., 0) would): stable until metrics_clear of the family.
 * metrics_add and metrics_observe_at record through it with no lookup.
 */
int metrics_series(struct metrics *m, int family, const char *labels);
void metrics_add(struct metrics *m, int family, int series, double v);
void metrics_observe_at(struct metrics *m, int family, int series, double v);
/* A counter or gauge series' value (0 when it does not exist): for tests and the API. */
double metrics_value(const struct metrics *m, int family, const char *labels);

/* Appends 'name="value"' (with a leading ',' unless out is empty), escaping
 * \, " and newlines as the format wants. */
void metrics_label(struct buf *out, const char *name, const char *value);
/* Appends every family: # HELP, # TYPE, then its samples. */
void metrics_write(const struct metrics *m, struct buf *out);

#endif
