/*
 * reqlog: the ring. Slot i holds record id where (id - 1) % history == i,
 * so finding an id is one division and a check that the slot still holds it.
 */
#include "inspect/reqlog.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reqlog {
	struct reqrec *slots;
	size_t history;
	size_t body_limit;
	uint64_t last_id;
};

struct reqlog *reqlog_new(size_t history, size_t body_limit)
{
	struct reqlog *rl = xcalloc(1, sizeof(*rl));

	rl->history = history ? history : 1;
	rl->body_limit = body_limit;
	rl->slots = xcalloc(rl->history, sizeof(*rl->slots));
	for (size_t i = 0; i < rl->history; i++)
		buf_init(&rl->slots[i].data, 0);
	return rl;
}

void reqlog_free(struct reqlog *rl)
{
	if (!rl)
		return;
	for (size_t i = 0; i < rl->history; i++)
		buf_release(&rl->slots[i].data);
	free(rl->slots);
	free(rl);
}

size_t reqlog_history(const struct reqlog *rl)
{
	return rl->history;
}

size_t reqlog_body_limit(const struct reqlog *rl)
{
	return rl->body_limit;
}

bool rec_field_is_large(enum rec_field f)
{
	return f == RF_BODY || f == RF_EVENT || f == RF_RESULT || f == RF_LOG;
}

/* Each field has a bit in set and truncated. */
_Static_assert(RF_NFIELDS <= 32, "a record's field bits fit in uint32_t");

/* For writing, a few bytes of memory from p on (a hint: nothing is read). */
static void prefetch(const void *p, size_t n)
{
	for (size_t i = 0; p && i < n; i += 64)
		__builtin_prefetch((const char *)p + i, 1, 3);
}

struct reqrec *reqlog_next(struct reqlog *rl)
{
	uint64_t id = ++rl->last_id;
	struct reqrec *r = &rl->slots[(id - 1) % rl->history];
	const struct reqrec *next = &rl->slots[id % rl->history];

	/*
	 * Recording walks the ring, so the slots ahead have usually left the
	 * caches by their turn: ask for the next record's buffer now (its
	 * header was asked for one record ago, so reading where the buffer is
	 * does not wait), and for the header of the one after it.
	 */
	prefetch(next->data.p, next->data.len < 512 ? next->data.len : 512);
	prefetch(&rl->slots[(id + 1) % rl->history], sizeof(*r));

	/* The numbers and the bit sets only: the field table is read through set. */
	memset(r, 0, offsetof(struct reqrec, f));
	r->data.len = 0;
	r->id = id;
	r->priority = -1;
	r->t_request = r->t_target = r->t_response = r->t_total = -1;
	r->t_init = r->t_invoke = -1;
	return r;
}

/* Small fields are names and numbers; cut them too, so a slot stays bounded. */
#define SMALL_MAX REC_SMALL_MAX
/* Heads are kept whole up to ALB's own limit on them (64 KB of headers, a 16 KB line). */
#define HEAD_MAX (80 * 1024)

static size_t field_max(const struct reqlog *rl, enum rec_field f)
{
	return rec_field_is_large(f) ? rl->body_limit : f == RF_HEAD || f == RF_FWD_HEADERS ? HEAD_MAX : SMALL_MAX;
}

/* Field f becomes a then b (cut at the field's maximum), NUL-terminated in the slot's buffer,
 * which only grows when this record is bigger than any the slot held before. */
static void put(struct reqlog *rl, struct reqrec *r, enum rec_field f, const char *a, size_t an, const char *b,
		size_t bn)
{
	size_t max = field_max(rl, f);
	struct buf *d = &r->data;
	uint32_t bit = UINT32_C(1) << f;
	char *to;

	if (an + bn > max) {
		r->truncated |= bit;
		if (an > max)
			an = max;
		bn = max - an;
	} else {
		r->truncated &= ~bit;
	}
	/* room for the field, its NUL, and buf's own NUL after len */
	to = d->len + an + bn + 2 <= d->cap ? d->p + d->len : buf_reserve(d, an + bn + 1);
	if (an)
		memcpy(to, a, an);
	if (bn)
		memcpy(to + an, b, bn);
	to[an + bn] = '\0';
	r->f[f].off = (uint32_t)d->len;
	r->f[f].len = (uint32_t)(an + bn);
	r->set |= bit;
	d->len += an + bn + 1;
	d->p[d->len] = '\0';
}

void reqlog_set(struct reqlog *rl, struct reqrec *r, enum rec_field f, const char *p, size_t n)
{
	put(rl, r, f, p, n, NULL, 0);
}

void reqlog_set_num(struct reqlog *rl, struct reqrec *r, enum rec_field f, const char *s, long n)
{
	char num[24], *e = num + sizeof(num), *q = e;
	unsigned long u = n < 0 ? 0UL - (unsigned long)n : (unsigned long)n;

	do
		*--q = (char)('0' + u % 10);
	while (u /= 10);
	if (n < 0)
		*--q = '-';
	*--q = ':';
	put(rl, r, f, s, strlen(s), q, (size_t)(e - q));
}

void reqlog_setf(struct reqlog *rl, struct reqrec *r, enum rec_field f, const char *fmt, ...)
{
	char tmp[SMALL_MAX + 1];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	reqlog_set(rl, r, f, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

const struct sv rec_statics[RS_COUNT] = {
	[RS_HTTP09] = { "HTTP/0.9", 8 }, [RS_HTTP10] = { "HTTP/1.0", 8 }, [RS_HTTP11] = { "HTTP/1.1", 8 },
	[RS_HTTP20] = { "HTTP/2.0", 8 }, [RS_DEFAULT] = { "default", 7 }, [RS_FORWARD] = { "forward", 7 },
	[RS_FIXED_RESPONSE] = { "fixed-response", 14 }, [RS_REDIRECT] = { "redirect", 8 },
};

struct sv rec_get(const struct reqrec *r, enum rec_field f)
{
	if (!rec_has(r, f))
		return SV("");
	if (r->f[f].off & REC_STATIC)
		return rec_statics[r->f[f].off & ~REC_STATIC];
	return (struct sv){ r->data.p + r->f[f].off, r->f[f].len };
}

bool rec_truncated(const struct reqrec *r, enum rec_field f)
{
	return (r->truncated >> f) & 1;
}

bool rec_has(const struct reqrec *r, enum rec_field f)
{
	return (r->set >> f) & 1;
}

const struct reqrec *reqlog_find(const struct reqlog *rl, uint64_t id)
{
	const struct reqrec *r;

	if (id == 0 || id > rl->last_id)
		return NULL;
	r = &rl->slots[(id - 1) % rl->history];
	return r->id == id ? r : NULL;
}

const struct reqrec *reqlog_recent(const struct reqlog *rl, size_t i)
{
	if (i >= rl->history || i >= rl->last_id)
		return NULL;
	return reqlog_find(rl, rl->last_id - i);
}

uint64_t reqlog_last_id(const struct reqlog *rl)
{
	return rl->last_id;
}
