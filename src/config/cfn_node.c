/*
 * cfn_node: building lb-config trees out of template nodes. Every node is
 * allocated in the caller's arena and copies the file, line and column of
 * the template node it stands for, so errors found later point into the
 * template. Mappings and sequences grow by copying into a larger arena
 * block: they are small, and the arena frees everything at once.
 */
#include <string.h>

#include "config/cfn.h"

static struct ynode *node_at(struct arena *a, enum ynode_type type, const struct ynode *at)
{
	struct ynode *n = arena_alloc(a, sizeof(*n));

	n->type = type;
	n->file = at->file;
	n->line = at->line;
	n->col = at->col;
	return n;
}

struct ynode *cfn_scalar(struct arena *a, const struct ynode *at, const char *s)
{
	struct ynode *n = node_at(a, YNODE_SCALAR, at);

	n->str = arena_strdup(a, s);
	n->len = strlen(s);
	n->quoted = true; /* an evaluated value is text, never YAML's null */
	return n;
}

struct ynode *cfn_map(struct arena *a, const struct ynode *at)
{
	return node_at(a, YNODE_MAPPING, at);
}

struct ynode *cfn_seq(struct arena *a, const struct ynode *at)
{
	return node_at(a, YNODE_SEQUENCE, at);
}

/* Room for one more: capacities are powers of two, so n tells when to grow. */
static void *grow(struct arena *a, void *old, size_t n, size_t size)
{
	void *p;

	if (n && (n & (n - 1)) != 0)
		return old;
	p = arena_alloc(a, (n ? 2 * n : 1) * size);
	if (n)
		memcpy(p, old, n * size);
	return p;
}

void cfn_put(struct arena *a, struct ynode *map, const char *key, struct ynode *value)
{
	struct ypair *p;

	if (!value)
		return;
	map->pairs = grow(a, map->pairs, map->n, sizeof(*map->pairs));
	p = &map->pairs[map->n++];
	p->key = cfn_scalar(a, value, key);
	p->value = value;
}

void cfn_push(struct arena *a, struct ynode *seq, struct ynode *item)
{
	if (!item)
		return;
	seq->items = grow(a, seq->items, seq->n, sizeof(*seq->items));
	seq->items[seq->n++] = item;
}

static struct ynode *copy_untagged(struct arena *a, const struct ynode *n)
{
	struct ynode *c = arena_alloc(a, sizeof(*c));

	*c = *n;
	c->tag = NULL;
	c->items = NULL;
	c->pairs = NULL;
	c->n = 0;
	if (n->type == YNODE_SEQUENCE) {
		for (size_t i = 0; i < n->n; i++)
			cfn_push(a, c, cfn_flip(a, n->items[i]));
	} else if (n->type == YNODE_MAPPING) {
		for (size_t i = 0; i < n->n; i++) {
			struct ypair *p;

			c->pairs = grow(a, c->pairs, c->n, sizeof(*c->pairs));
			p = &c->pairs[c->n++];
			p->key = n->pairs[i].key;
			p->value = cfn_flip(a, n->pairs[i].value);
		}
	}
	return c;
}

/*
 * Why: cfn-flip's rule (aws-integration.md §4.2): "!Ref" and "!Condition"
 * keep their names, every other "!X" becomes "Fn::X", and the scalar form
 * of "!GetAtt A.B.C" splits at the first dot into [A, B.C].
 */
struct ynode *cfn_flip(struct arena *a, const struct ynode *n)
{
	struct ynode *arg = copy_untagged(a, n), *m;
	const char *t = n->tag;

	if (!t)
		return arg;
	t++;
	if (strcmp(t, "GetAtt") == 0 && n->type == YNODE_SCALAR) {
		const char *dot = strchr(n->str, '.');
		struct ynode *seq = cfn_seq(a, n);
		char *head = arena_strndup(a, n->str, dot ? (size_t)(dot - n->str) : n->len);

		cfn_push(a, seq, cfn_scalar(a, n, head));
		if (dot)
			cfn_push(a, seq, cfn_scalar(a, n, dot + 1));
		arg = seq;
	}
	m = cfn_map(a, n);
	if (strcmp(t, "Ref") == 0 || strcmp(t, "Condition") == 0) {
		cfn_put(a, m, t, arg);
	} else {
		char *k = arena_alloc(a, strlen(t) + 5);

		memcpy(k, "Fn::", 4);
		strcpy(k + 4, t);
		cfn_put(a, m, k, arg);
	}
	return m;
}

const struct ynode *cfn_merge(struct arena *a, const struct ynode *base, const struct ynode *over)
{
	struct ynode *m;

	if (!base)
		return over;
	if (!over)
		return base;
	if (base->type == YNODE_SEQUENCE && over->type == YNODE_SEQUENCE) {
		m = cfn_seq(a, over);
		for (size_t i = 0; i < base->n; i++)
			cfn_push(a, m, base->items[i]);
		for (size_t i = 0; i < over->n; i++)
			cfn_push(a, m, over->items[i]);
		return m;
	}
	if (base->type != YNODE_MAPPING || over->type != YNODE_MAPPING ||
	    cfn_intrinsic(base, NULL) || cfn_intrinsic(over, NULL))
		return over;
	m = cfn_map(a, over);
	for (size_t i = 0; i < base->n; i++) {
		const char *k = base->pairs[i].key->str;

		cfn_put(a, m, k, (struct ynode *)cfn_merge(a, base->pairs[i].value,
							    ydoc_get(over, k)));
	}
	for (size_t i = 0; i < over->n; i++) {
		if (!ydoc_get(base, over->pairs[i].key->str))
			cfn_put(a, m, over->pairs[i].key->str, over->pairs[i].value);
	}
	return m;
}

const char *cfn_intrinsic(const struct ynode *n, const struct ynode **arg)
{
	const char *k;

	if (!n || n->type != YNODE_MAPPING || n->n != 1)
		return NULL;
	k = n->pairs[0].key->str;
	if (strcmp(k, "Ref") != 0 && strcmp(k, "Condition") != 0 && strncmp(k, "Fn::", 4) != 0)
		return NULL;
	if (arg)
		*arg = n->pairs[0].value;
	return k;
}

/* s ends in "<sha256>.json", after a '/' or at its start: the hash, else NULL. */
static const char *json_asset_key(const char *s, size_t n)
{
	const char *h;

	if (n < 69)
		return NULL;
	h = s + n - 69;
	if (strcmp(h + 64, ".json") != 0 || strspn(h, "0123456789abcdef") != 64 ||
	    (h > s && h[-1] != '/'))
		return NULL;
	return h;
}

static const char *asset_hash(struct arena *a, const struct ynode *n, int depth)
{
	const char *h;

	if (!n || depth > 16)
		return NULL;
	if (n->type == YNODE_SCALAR)
		return (h = json_asset_key(n->str, n->len)) ? arena_strndup(a, h, 64) : NULL;
	for (size_t i = 0; i < n->n; i++) {
		if ((h = asset_hash(a, n->type == YNODE_MAPPING ? n->pairs[i].value : n->items[i],
				    depth + 1)))
			return h;
	}
	return NULL;
}

/*
 * Why: CDK uploads a nested stack's template as a file asset whose S3 object
 * key is its hash + ".json", and writes the TemplateURL as an Fn::Join (or
 * Fn::Sub) of the bucket's URL and that key (aws-integration.md §6.1).
 */
const char *cfn_asset_hash(struct arena *a, const struct ynode *n)
{
	return asset_hash(a, n, 0);
}
