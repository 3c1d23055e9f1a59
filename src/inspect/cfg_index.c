/*
 * cfg_index: membership is an address range test, done on integers since
 * comparing pointers into different arrays is undefined in C.
 */
#include "inspect/cfg_index.h"

#include <stdint.h>
#include <stdlib.h>

#include "base/util.h"

void cfg_index_init(struct cfg_index *x, const struct config *cfg)
{
	size_t n = cfg ? cfg->nlisteners : 0;

	x->cfg = cfg;
	x->rule_at = xcalloc(n + 1, sizeof(*x->rule_at));
	for (size_t i = 0; i < n; i++)
		x->rule_at[i + 1] = x->rule_at[i] + cfg->listeners[i].nrules + 1;
	x->nlisteners = n;
	x->nrules = x->rule_at[n];
	x->ntgs = cfg ? cfg->ntarget_groups : 0;
}

void cfg_index_free(struct cfg_index *x)
{
	free(x->rule_at);
	x->rule_at = NULL;
	x->cfg = NULL;
	x->nlisteners = x->nrules = x->ntgs = 0;
}

/* p's index in the array a[0..n) of elements of size, or -1. */
static long index_in(const void *p, const void *a, size_t n, size_t size)
{
	uintptr_t at = (uintptr_t)p, base = (uintptr_t)a;

	if (!p || !a || at < base || at >= base + n * size || (at - base) % size)
		return -1;
	return (long)((at - base) / size);
}

long cfg_index_rule(const struct cfg_index *x, int listener, const struct rule *rule)
{
	const struct listener_cfg *l;
	long i;

	if (!x->cfg || listener < 0 || (size_t)listener >= x->cfg->nlisteners || !rule)
		return -1;
	l = &x->cfg->listeners[listener];
	if (rule == &l->default_rule)
		return (long)(x->rule_at[listener] + l->nrules);
	i = index_in(rule, l->rules, l->nrules, sizeof(*l->rules));
	return i < 0 ? -1 : (long)x->rule_at[listener] + i;
}

long cfg_index_tg(const struct cfg_index *x, const struct target_group *tg)
{
	return x->cfg ? index_in(tg, x->cfg->target_groups, x->ntgs, sizeof(*tg)) : -1;
}
