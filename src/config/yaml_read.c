/*
 * yaml_read: the typed reads of a yaml_doc tree (declared in yaml_doc.h).
 *
 * Nothing here knows what lb's keys mean: config and rules describe their
 * mappings as yfield tables, and ydoc_fields walks a mapping against one,
 * storing plain values and refusing keys the table does not name, with a
 * "did you mean" for near misses. Every failure is one ydoc_err at the node
 * that is wrong. Pure: no I/O, no state; strings are copied only into the
 * arena a caller passes.
 */
#include "config/yaml_doc.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"

#define SUGGEST_MAX_LEN 64     /* keys longer than this get no "did you mean" */
#define LIST_KEYS_MAX 6        /* places with at most this many keys list them */
#define SUGGEST_MAX_DISTANCE 2

bool ydoc_is_null(const struct ynode *n)
{
	return n->type == YNODE_SCALAR && !n->quoted &&
	       (n->len == 0 || strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0 ||
		strcmp(n->str, "Null") == 0 || strcmp(n->str, "NULL") == 0);
}

static const struct ypair *pair_of(const struct ynode *map, const char *key)
{
	if (!map || map->type != YNODE_MAPPING)
		return NULL;
	for (size_t i = 0; i < map->n; i++) {
		if (strcmp(map->pairs[i].key->str, key) == 0)
			return &map->pairs[i];
	}
	return NULL;
}

struct ynode *ydoc_get(const struct ynode *map, const char *key)
{
	const struct ypair *p = pair_of(map, key);

	return p ? p->value : NULL;
}

struct ynode *ydoc_key(const struct ynode *map, const char *key)
{
	const struct ypair *p = pair_of(map, key);

	return p ? p->key : NULL;
}

int ydoc_mapping(const struct ynode *n, const char *what, struct lb_err *err)
{
	if (n->type == YNODE_MAPPING)
		return 0;
	if (!what)
		return ydoc_err(err, n, "the document must be a mapping");
	return ydoc_err(err, n, "'%s' must be a mapping", what);
}

static bool is_value(const struct ynode *n)
{
	return n->type == YNODE_SCALAR && !ydoc_is_null(n);
}

int ydoc_list(const struct ynode *n, const char *what, enum ynode_type item_type,
	      struct lb_err *err)
{
	static const char *const kinds[] = {
		[YNODE_SCALAR] = "strings",
		[YNODE_SEQUENCE] = "lists",
		[YNODE_MAPPING] = "mappings",
	};

	if (n->type != YNODE_SEQUENCE)
		return ydoc_err(err, n, "'%s' must be a list", what);
	for (size_t i = 0; i < n->n; i++) {
		const struct ynode *item = n->items[i];

		if (item->type != item_type || (item_type == YNODE_SCALAR && !is_value(item)))
			return ydoc_err(err, item, "'%s' must be a list of %s", what,
					kinds[item_type]);
	}
	return 0;
}

int ydoc_str(const struct ynode *n, const char *what, const char **out, struct lb_err *err)
{
	if (n->type != YNODE_SCALAR)
		return ydoc_err(err, n, "'%s' must be a string", what);
	if (ydoc_is_null(n))
		return ydoc_err(err, n, "'%s' has no value", what);
	*out = n->str;
	return 0;
}

int ydoc_int(const struct ynode *n, const char *what, int min, int max, int *out,
	     struct lb_err *err)
{
	const char *s = n->str;
	char *end;
	long long v;

	if (!is_value(n))
		return ydoc_err(err, n, "'%s' must be an integer", what);
	if (!(s[0] >= '0' && s[0] <= '9') && !(s[0] == '-' && s[1] >= '0' && s[1] <= '9'))
		return ydoc_err(err, n, "'%s' must be an integer, not '%s'", what, s);
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end)
		return ydoc_err(err, n, "'%s' must be an integer, not '%s'", what, s);
	if (errno == ERANGE || v < min || v > max) {
		if (max == INT_MAX)
			return ydoc_err(err, n, "'%s' must be at least %d, not %s", what, min, s);
		return ydoc_err(err, n, "'%s' must be between %d and %d, not %s", what, min, max,
				s);
	}
	*out = (int)v;
	return 0;
}

int ydoc_bool(const struct ynode *n, const char *what, bool *out, struct lb_err *err)
{
	if (!is_value(n))
		return ydoc_err(err, n, "'%s' must be true or false", what);
	if (strcmp(n->str, "true") == 0)
		*out = true;
	else if (strcmp(n->str, "false") == 0)
		*out = false;
	else
		return ydoc_err(err, n, "'%s' must be true or false, not '%s'", what, n->str);
	return 0;
}

/* "a, b or c" */
static void join_names(struct buf *b, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_puts(b, i + 1 == n ? " or " : ", ");
		buf_puts(b, names[i]);
	}
}

int ydoc_enum(const struct ynode *n, const char *what, const char *const *names, size_t nnames,
	      int *out, struct lb_err *err)
{
	struct buf list = BUF_INIT;

	for (size_t i = 0; i < nnames && is_value(n); i++) {
		if (strcmp(n->str, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	join_names(&list, names, nnames);
	if (is_value(n))
		ydoc_err(err, n, "'%s' must be %s, not '%s'", what, buf_cstr(&list), n->str);
	else
		ydoc_err(err, n, "'%s' must be %s", what, buf_cstr(&list));
	buf_release(&list);
	return -1;
}

int ydoc_str_list(const struct ynode *n, const char *what, struct arena *a, const char ***out,
		  size_t *nout, struct lb_err *err)
{
	const char **v;

	if (ydoc_list(n, what, YNODE_SCALAR, err))
		return -1;
	v = arena_alloc(a, n->n * sizeof(*v));
	for (size_t i = 0; i < n->n; i++)
		v[i] = arena_strndup(a, n->items[i]->str, n->items[i]->len);
	*out = v;
	*nout = n->n;
	return 0;
}

char *ydoc_path(const struct ynode *n, bool glob, struct arena *a)
{
	const char *slash = strrchr(n->file, '/');
	struct buf b = BUF_INIT;
	char *path;

	if (n->str[0] == '/' || !slash)
		return arena_strdup(a, n->str);
	for (const char *p = n->file; p <= slash; p++) {
		if (glob && strchr("*?[\\", *p))
			buf_putc(&b, '\\');
		buf_putc(&b, *p);
	}
	buf_puts(&b, n->str);
	path = arena_strdup(a, buf_cstr(&b));
	buf_release(&b);
	return path;
}

/* Optimal string alignment distance: edits, with a swap of neighbours as one. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t rows[3][SUGGEST_MAX_LEN + 1];
	size_t *pp = rows[0], *p = rows[1], *c = rows[2];

	if (la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		p[j] = j;
	for (size_t i = 1; i <= la; i++) {
		c[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t best = p[j - 1] + cost;

			if (p[j] + 1 < best)
				best = p[j] + 1;
			if (c[j - 1] + 1 < best)
				best = c[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    pp[j - 2] + 1 < best)
				best = pp[j - 2] + 1;
			c[j] = best;
		}
		size_t *t = pp;
		pp = p;
		p = c;
		c = t;
	}
	return p[lb];
}

int ydoc_unknown_key(struct lb_err *err, const struct ynode *key, const char *const *known,
		     size_t n)
{
	const char *best = NULL;
	size_t best_d = SUGGEST_MAX_DISTANCE + 1;

	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(key->str, known[i]);

		if (d < best_d && d < strlen(known[i])) {
			best = known[i];
			best_d = d;
		}
	}
	if (best)
		return ydoc_err(err, key, "unknown key '%s' (did you mean '%s'?)", key->str, best);
	/* No near miss: a short list of what the place takes says more ("variables"
	 * under environment) than the bare key. */
	if (n > 0 && n <= LIST_KEYS_MAX) {
		char list[LIST_KEYS_MAX * (SUGGEST_MAX_LEN + 2)];
		size_t len = 0;

		for (size_t i = 0; i < n && len < sizeof(list); i++)
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", known[i]);
		return ydoc_err(err, key, "unknown key '%s' (it takes: %s)", key->str, list);
	}
	return ydoc_err(err, key, "unknown key '%s'", key->str);
}

static const struct yfield *field_find(const struct yfield *fields, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(fields[i].key, key) == 0)
			return &fields[i];
	}
	return NULL;
}

static int field_unknown(struct lb_err *err, const struct ynode *key, const struct yfield *fields,
			 size_t n)
{
	const char **names = xmalloc(n * sizeof(*names));
	int rc;

	for (size_t i = 0; i < n; i++)
		names[i] = fields[i].key;
	rc = ydoc_unknown_key(err, key, names, n);
	free(names);
	return rc;
}

static int field_store(const struct yfield *f, const struct ynode *v, char *dst, struct arena *a,
		       struct lb_err *err)
{
	const char *s;

	switch (f->type) {
	case YF_NODE:
		return 0;
	case YF_STR:
		if (ydoc_str(v, f->key, &s, err))
			return -1;
		*(const char **)(dst + f->off) = arena_strndup(a, s, v->len);
		return 0;
	case YF_INT:
		return ydoc_int(v, f->key, f->min, f->max, (int *)(dst + f->off), err);
	case YF_BOOL:
		return ydoc_bool(v, f->key, (bool *)(dst + f->off), err);
	case YF_STR_LIST:
		return ydoc_str_list(v, f->key, a, (const char ***)(dst + f->off),
				     (size_t *)(dst + f->off_n), err);
	}
	return -1;
}

int ydoc_fields(const struct ynode *map, const char *what, const struct yfield *fields,
		size_t nfields, void *dst, struct arena *a, struct lb_err *err)
{
	if (ydoc_mapping(map, what, err))
		return -1;
	for (size_t i = 0; i < map->n; i++) {
		const struct ypair *p = &map->pairs[i];
		const struct yfield *f = field_find(fields, nfields, p->key->str);

		if (!f)
			return field_unknown(err, p->key, fields, nfields);
		if (field_store(f, p->value, dst, a, err))
			return -1;
	}
	for (size_t i = 0; i < nfields; i++) {
		if (fields[i].required && !pair_of(map, fields[i].key))
			return ydoc_err(err, map, "missing key '%s'", fields[i].key);
	}
	return 0;
}
