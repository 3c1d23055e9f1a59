/*
 * reqlog: the ring. Slot i holds record id where (id - 1) % history == i,
 * so finding an id is one division and a check that the slot still holds it.
 */
#include "inspect/reqlog.h"

#include <stdarg.h>
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

struct reqrec *reqlog_next(struct reqlog *rl)
{
	uint64_t id = ++rl->last_id;
	struct reqrec *r = &rl->slots[(id - 1) % rl->history];
	struct buf data = r->data;

	buf_reset(&data);
	memset(r, 0, sizeof(*r));
	r->data = data;
	r->id = id;
	r->priority = -1;
	r->t_request = r->t_target = r->t_response = r->t_total = -1;
	r->t_init = r->t_invoke = -1;
	return r;
}

/* Small fields are names and numbers; cut them too, so a slot stays bounded. */
#define SMALL_MAX 2048
/* Heads are kept whole up to ALB's own limit on them (64 KB of headers, a 16 KB line). */
#define HEAD_MAX (80 * 1024)

void reqlog_set(struct reqlog *rl, struct reqrec *r, enum rec_field f, const char *p, size_t n)
{
	size_t max = rec_field_is_large(f) ? rl->body_limit
		     : f == RF_HEAD || f == RF_FWD_HEADERS ? HEAD_MAX : SMALL_MAX;
	struct rec_str *s = &r->f[f];

	s->truncated = n > max;
	if (n > max)
		n = max;
	s->off = (uint32_t)r->data.len;
	s->len = (uint32_t)n;
	s->set = true;
	buf_append(&r->data, p, n);
	buf_putc(&r->data, '\0');
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

struct sv rec_get(const struct reqrec *r, enum rec_field f)
{
	if (!r->f[f].set)
		return SV("");
	return (struct sv){ r->data.p + r->f[f].off, r->f[f].len };
}

bool rec_truncated(const struct reqrec *r, enum rec_field f)
{
	return r->f[f].truncated;
}

bool rec_has(const struct reqrec *r, enum rec_field f)
{
	return r->f[f].set;
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
