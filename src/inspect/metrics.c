/*
 * metrics: families in declaration order, each with its series in order of
 * first use, so the text is stable from scrape to scrape.
 */
#include "inspect/metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

struct series {
	char *labels;
	double value;          /* counter, gauge; a histogram's sum */
	uint64_t count;        /* histogram */
	uint64_t *buckets;     /* histogram: observations <= each bound (not cumulative) */
};

struct family {
	const char *name, *help;
	enum metric_type type;
	const double *bounds;
	size_t nbounds;
	struct series *s;
	size_t n, cap;
};

struct metrics {
	struct family *f;
	size_t n, cap;
};

struct metrics *metrics_new(void)
{
	return xcalloc(1, sizeof(struct metrics));
}

static void family_clear(struct family *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->s[i].labels);
		free(f->s[i].buckets);
	}
	f->n = 0;
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		family_clear(&m->f[i]);
		free(m->f[i].s);
	}
	free(m->f);
	free(m);
}

int metrics_family(struct metrics *m, const char *name, const char *help, enum metric_type type,
		   const double *buckets, size_t nbuckets)
{
	xgrow(&m->f, &m->cap, m->n + 1, sizeof(*m->f));
	m->f[m->n] = (struct family){ name, help, type, buckets, nbuckets, NULL, 0, 0 };
	return (int)m->n++;
}

static int series_find(struct metrics *m, int family, const char *labels)
{
	struct family *f = &m->f[family];
	struct series *s;

	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->s[i].labels, labels) == 0)
			return (int)i;
	xgrow(&f->s, &f->cap, f->n + 1, sizeof(*f->s));
	s = &f->s[f->n];
	memset(s, 0, sizeof(*s));
	s->labels = xstrdup(labels);
	if (f->type == METRIC_HISTOGRAM)
		s->buckets = xcalloc(f->nbounds + 1, sizeof(*s->buckets));
	return (int)f->n++;
}

static struct series *series_get(struct metrics *m, int family, const char *labels)
{
	int i = series_find(m, family, labels);   /* first: it may move the series */

	return &m->f[family].s[i];
}

int metrics_series(struct metrics *m, int family, const char *labels)
{
	return series_find(m, family, labels);
}

void metrics_add(struct metrics *m, int family, int series, double v)
{
	m->f[family].s[series].value += v;
}

void metrics_inc(struct metrics *m, int family, const char *labels, double v)
{
	series_get(m, family, labels)->value += v;
}

void metrics_set(struct metrics *m, int family, const char *labels, double v)
{
	series_get(m, family, labels)->value = v;
}

void metrics_observe_at(struct metrics *m, int family, int series, double v)
{
	const struct family *f = &m->f[family];
	struct series *s = &f->s[series];
	size_t i = 0;

	while (i < f->nbounds && v > f->bounds[i])
		i++;
	s->buckets[i]++;
	s->count++;
	s->value += v;
}

void metrics_observe(struct metrics *m, int family, const char *labels, double v)
{
	int i = series_find(m, family, labels);

	metrics_observe_at(m, family, i, v);
}

void metrics_clear(struct metrics *m, int family)
{
	family_clear(&m->f[family]);
}

double metrics_value(const struct metrics *m, int family, const char *labels)
{
	const struct family *f = &m->f[family];

	for (size_t i = 0; i < f->n; i++)
		if (strcmp(f->s[i].labels, labels) == 0)
			return f->type == METRIC_HISTOGRAM ? (double)f->s[i].count : f->s[i].value;
	return 0;
}

void metrics_label(struct buf *out, const char *name, const char *value)
{
	if (out->len)
		buf_putc(out, ',');
	buf_printf(out, "%s=\"", name);
	for (const char *p = value; *p; p++) {
		if (*p == '\\' || *p == '"')
			buf_putc(out, '\\');
		if (*p == '\n')
			buf_puts(out, "\\n");
		else
			buf_putc(out, *p);
	}
	buf_putc(out, '"');
}

/* A number as the format writes it: integers plainly, others in %g's shortest exact form. */
static void put_number(struct buf *out, double v)
{
	if (v == (double)(int64_t)v && v < 9e15 && v > -9e15)
		buf_printf(out, "%lld", (long long)v);
	else
		buf_printf(out, "%.15g", v);
}

static void put_sample(struct buf *out, const char *name, const char *suffix, const char *labels,
		       const char *extra, double v)
{
	buf_printf(out, "%s%s", name, suffix);
	if (*labels || extra) {
		buf_putc(out, '{');
		buf_puts(out, labels);
		if (extra)
			buf_printf(out, "%s%s", *labels ? "," : "", extra);
		buf_putc(out, '}');
	}
	buf_putc(out, ' ');
	put_number(out, v);
	buf_putc(out, '\n');
}

static void put_histogram(struct buf *out, const struct family *f, const struct series *s)
{
	uint64_t cum = 0;
	char le[48];

	for (size_t i = 0; i < f->nbounds; i++) {
		cum += s->buckets[i];
		snprintf(le, sizeof(le), "le=\"%g\"", f->bounds[i]);
		put_sample(out, f->name, "_bucket", s->labels, le, (double)cum);
	}
	put_sample(out, f->name, "_bucket", s->labels, "le=\"+Inf\"", (double)s->count);
	put_sample(out, f->name, "_sum", s->labels, NULL, s->value);
	put_sample(out, f->name, "_count", s->labels, NULL, (double)s->count);
}

void metrics_write(const struct metrics *m, struct buf *out)
{
	static const char *const types[] = { "counter", "gauge", "histogram" };

	for (size_t i = 0; i < m->n; i++) {
		const struct family *f = &m->f[i];

		buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, types[f->type]);
		for (size_t k = 0; k < f->n; k++) {
			if (f->type == METRIC_HISTOGRAM)
				put_histogram(out, f, &f->s[k]);
			else
				put_sample(out, f->name, "", f->s[k].labels, NULL, f->s[k].value);
		}
	}
}
