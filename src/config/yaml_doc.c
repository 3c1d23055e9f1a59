/*
 * yaml_doc: libyaml's event stream turned into a tree of positioned nodes.
 *
 * The whole file is read into memory first (capped), so that libyaml's
 * reader errors, which carry a byte offset rather than a mark, can still be
 * reported with a line and column. Nodes live in the document's arena; the
 * child arrays are built in a malloc'd vector and copied there when their
 * collection ends. Nesting is bounded so a hostile file cannot exhaust the
 * stack. The typed reads of the tree are in yaml_read.c.
 *
 * Error messages follow git: lowercase, no full stop, the subject quoted.
 */
#include "config/yaml_doc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/buf.h"

#define YDOC_MAX_BYTES (4u << 20) /* a configuration is a few KB; refuse surprises */
#define YDOC_MAX_DEPTH 64
/* Nodes aliases may add in all (each alias counts its anchor's expanded
 * tree), so "a: &a [*b, *b, ...]" nested a few times cannot expand into
 * billions of nodes for the readers that walk the tree. */
#define YDOC_MAX_ALIASED 100000

struct anchor {
	const char *name;
	struct ynode *node;
};

struct loader {
	yaml_parser_t parser;
	struct ydoc *doc;
	const char *path;
	const char *text;        /* the file, for positions of reader errors */
	size_t len;
	bool tags;               /* keep local tags (ydoc_load_tagged) */
	struct anchor *anchors;  /* in definition order; a later one of a name wins */
	size_t nanchors, anchors_cap;
	size_t aliased;          /* nodes aliases added so far */
	struct lb_err *err;
};

static int load_node(struct loader *ld, yaml_event_t *ev, int depth, struct ynode **out);

static int vset_at(struct lb_err *err, const char *file, int line, int col, const char *fmt,
		   va_list ap)
{
	char msg[sizeof(err->msg)];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	return lb_err_at(err, file, line, col, "%s", msg);
}

int ydoc_err(struct lb_err *err, const struct ynode *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset_at(err, at->file, at->line, at->col, fmt, ap);
	va_end(ap);
	return -1;
}

static int err_mark(struct loader *ld, const yaml_mark_t *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int err_mark(struct loader *ld, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset_at(ld->err, ld->path, (int)m->line + 1, (int)m->column + 1, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * libyaml's reader reports a byte offset only: find its line and column,
 * counting characters (not UTF-8 continuation bytes) as libyaml's marks do.
 */
static yaml_mark_t mark_at_offset(const struct loader *ld, size_t off)
{
	yaml_mark_t m = { off, 0, 0 };

	for (size_t i = 0; i < off && i < ld->len; i++) {
		if (ld->text[i] == '\n') {
			m.line++;
			m.column = 0;
		} else if (((unsigned char)ld->text[i] & 0xc0) != 0x80) {
			m.column++;
		}
	}
	return m;
}

static int syntax_error(struct loader *ld)
{
	const yaml_parser_t *p = &ld->parser;
	yaml_mark_t m = p->problem_mark;

	if (p->error == YAML_MEMORY_ERROR) {
		fprintf(stderr, "lb: out of memory parsing %s\n", ld->path);
		abort();
	}
	if (p->error == YAML_READER_ERROR)
		m = mark_at_offset(ld, p->problem_offset);
	if (p->context)
		return err_mark(ld, &m, "%s (%s that started on line %zu)", p->problem,
				p->context, p->context_mark.line + 1);
	return err_mark(ld, &m, "%s", p->problem ? p->problem : "invalid YAML");
}

static int next_event(struct loader *ld, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&ld->parser, ev))
		return syntax_error(ld);
	return 0;
}

static struct ynode *node_new(struct loader *ld, enum ynode_type type, const yaml_mark_t *m)
{
	struct ynode *n = arena_alloc(&ld->doc->arena, sizeof(*n));

	n->type = type;
	n->file = ld->path;
	n->line = (int)m->line + 1;
	n->col = (int)m->column + 1;
	return n;
}

/*
 * Tags would change what a scalar means, so only CloudFormation's local
 * short forms are kept (ydoc_load_tagged); *anchor gets the node's anchor.
 */
static int check_properties(struct loader *ld, const yaml_event_t *ev, const char **keep,
			    const char **anchor_out)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		break;
	default:
		break;
	}
	*anchor_out = (const char *)anchor;
	/* CloudFormation's short forms are local tags ("!Ref"); "!!str" and
	 * friends arrive as "tag:yaml.org,2002:..." and stay refused. */
	if (tag && ld->tags && tag[0] == '!' && tag[1] && tag[1] != '!') {
		*keep = (const char *)tag;
		return 0;
	}
	if (tag)
		return err_mark(ld, &ev->start_mark, "tag '%s' is not supported",
				(const char *)tag);
	return 0;
}

static int load_scalar(struct loader *ld, const yaml_event_t *ev, struct ynode **out)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	struct ynode *n;

	if (memchr(s, '\0', len))
		return err_mark(ld, &ev->start_mark, "NUL byte in a string");
	n = node_new(ld, YNODE_SCALAR, &ev->start_mark);
	n->str = arena_strndup(&ld->doc->arena, s, len);
	n->len = len;
	n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
	*out = n;
	return 0;
}

static int load_sequence(struct loader *ld, const yaml_event_t *start, int depth,
			 struct ynode **out)
{
	struct ynode *n = node_new(ld, YNODE_SEQUENCE, &start->start_mark);
	struct ynode **v = NULL;
	size_t cap = 0;
	int rc = -1;

	for (;;) {
		yaml_event_t ev;
		struct ynode *item;

		if (next_event(ld, &ev))
			goto out;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (load_node(ld, &ev, depth + 1, &item))
			goto out;
		xgrow(&v, &cap, n->n + 1, sizeof(*v));
		v[n->n++] = item;
	}
	n->items = arena_alloc(&ld->doc->arena, n->n * sizeof(*v));
	if (n->n)
		memcpy(n->items, v, n->n * sizeof(*v));
	*out = n;
	rc = 0;
out:
	free(v);
	return rc;
}

/* Reads one key/value pair after its key event; rejects duplicate keys. */
static int load_pair(struct loader *ld, yaml_event_t *key_ev, int depth, const struct ypair *prev,
		     size_t nprev, struct ypair *out)
{
	yaml_event_t ev;

	if (load_node(ld, key_ev, depth + 1, &out->key))
		return -1;
	if (out->key->type != YNODE_SCALAR)
		return ydoc_err(ld->err, out->key, "mapping keys must be strings");
	for (size_t i = 0; i < nprev; i++) {
		if (strcmp(prev[i].key->str, out->key->str) == 0)
			return ydoc_err(ld->err, out->key, "duplicate key '%s' (first on line %d)",
					out->key->str, prev[i].key->line);
	}
	if (next_event(ld, &ev))
		return -1;
	return load_node(ld, &ev, depth + 1, &out->value);
}

/* "<<" written plain: YAML 1.1's merge key (quoted, it is an ordinary key). */
static bool is_merge(const struct ynode *key)
{
	return !key->quoted && strcmp(key->str, "<<") == 0;
}

static bool has_key(const struct ypair *p, size_t n, const char *key, bool skip_merge)
{
	for (size_t i = 0; i < n; i++) {
		if (!(skip_merge && is_merge(p[i].key)) && strcmp(p[i].key->str, key) == 0)
			return true;
	}
	return false;
}

/*
 * YAML 1.1 merge keys, as PyYAML, SAM CLI and `aws cloudformation package`
 * resolve them: "<<: *defaults" (or a list of mappings) adds each key of the
 * mappings the mapping does not write itself, the first mapping of a list
 * winning, at the place of the "<<". Merged pairs keep their positions, so
 * an error in one names the line that wrote it. Replaces n's pairs.
 */
static int merge_keys(struct loader *ld, struct ynode *n, const struct ypair *v, size_t nv)
{
	struct ypair *out = NULL;
	size_t cap = 0, nout = 0;

	for (size_t i = 0; i < nv; i++) {
		const struct ynode *m = v[i].value;
		size_t nsrc;

		if (!is_merge(v[i].key)) {
			xgrow(&out, &cap, nout + 1, sizeof(*out));
			out[nout++] = v[i];
			continue;
		}
		nsrc = m->type == YNODE_SEQUENCE ? m->n : 1;
		for (size_t s = 0; s < nsrc; s++) {
			const struct ynode *src = m->type == YNODE_SEQUENCE ? m->items[s] : m;

			if (src->type != YNODE_MAPPING) {
				free(out);
				return ydoc_err(ld->err, src, "a merge key ('<<') takes a mapping or a "
						"list of mappings, as '<<: *defaults' or '<<: [*a, *b]'");
			}
			for (size_t k = 0; k < src->n; k++) {
				const char *key = src->pairs[k].key->str;

				if (has_key(v, nv, key, true) || has_key(out, nout, key, false))
					continue;
				xgrow(&out, &cap, nout + 1, sizeof(*out));
				out[nout++] = src->pairs[k];
			}
		}
	}
	n->n = nout;
	n->pairs = arena_alloc(&ld->doc->arena, nout * sizeof(*out));
	if (nout)
		memcpy(n->pairs, out, nout * sizeof(*out));
	free(out);
	return 0;
}

static int load_mapping(struct loader *ld, const yaml_event_t *start, int depth,
			struct ynode **out)
{
	struct ynode *n = node_new(ld, YNODE_MAPPING, &start->start_mark);
	struct ypair *v = NULL;
	size_t cap = 0;
	int rc = -1;

	for (;;) {
		yaml_event_t ev;

		if (next_event(ld, &ev))
			goto out;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		xgrow(&v, &cap, n->n + 1, sizeof(*v));
		if (load_pair(ld, &ev, depth, v, n->n, &v[n->n]))
			goto out;
		n->n++;
	}
	if (has_key(v, n->n, "<<", false)) {
		if (merge_keys(ld, n, v, n->n))
			goto out;
	} else {
		n->pairs = arena_alloc(&ld->doc->arena, n->n * sizeof(*v));
		if (n->n)
			memcpy(n->pairs, v, n->n * sizeof(*v));
	}
	*out = n;
	rc = 0;
out:
	free(v);
	return rc;
}

/* The nodes of n's tree as aliases expand it, counted into ld->aliased up to the cap. */
static int count_aliased(struct loader *ld, const struct ynode *n)
{
	if (++ld->aliased > YDOC_MAX_ALIASED)
		return -1;
	for (size_t i = 0; n->type == YNODE_SEQUENCE && i < n->n; i++) {
		if (count_aliased(ld, n->items[i]))
			return -1;
	}
	for (size_t i = 0; n->type == YNODE_MAPPING && i < n->n; i++) {
		if (count_aliased(ld, n->pairs[i].key) || count_aliased(ld, n->pairs[i].value))
			return -1;
	}
	return 0;
}

/*
 * "*name": the node of the latest "&name" before it, shared, not copied (an
 * error in it names where the anchor wrote it). An anchor is defined once
 * its node ends, so a node cannot contain itself.
 */
static int load_alias(struct loader *ld, const yaml_event_t *ev, struct ynode **out)
{
	const char *name = (const char *)ev->data.alias.anchor;

	for (size_t i = ld->nanchors; i-- > 0;) {
		if (strcmp(ld->anchors[i].name, name) != 0)
			continue;
		if (count_aliased(ld, ld->anchors[i].node))
			return err_mark(ld, &ev->start_mark, "aliases expand to more than %d nodes",
					YDOC_MAX_ALIASED);
		*out = ld->anchors[i].node;
		return 0;
	}
	return err_mark(ld, &ev->start_mark, "alias '*%s' names no anchor ('&%s') before it", name,
			name);
}

/* Builds the node that starts with ev; always deletes ev. */
static int load_node(struct loader *ld, yaml_event_t *ev, int depth, struct ynode **out)
{
	const char *tag = NULL, *anchor = NULL;
	int rc = -1;

	if (depth > YDOC_MAX_DEPTH) {
		err_mark(ld, &ev->start_mark, "nesting deeper than %d levels", YDOC_MAX_DEPTH);
		goto out;
	}
	if (ev->type == YAML_ALIAS_EVENT) {
		rc = load_alias(ld, ev, out);
		goto out;
	}
	if (check_properties(ld, ev, &tag, &anchor))
		goto out;
	if (ev->type == YAML_SCALAR_EVENT)
		rc = load_scalar(ld, ev, out);
	else if (ev->type == YAML_SEQUENCE_START_EVENT)
		rc = load_sequence(ld, ev, depth, out);
	else if (ev->type == YAML_MAPPING_START_EVENT)
		rc = load_mapping(ld, ev, depth, out);
	else
		err_mark(ld, &ev->start_mark, "unexpected YAML event");
	if (rc == 0 && tag)
		(*out)->tag = arena_strdup(&ld->doc->arena, tag);
	if (rc == 0 && anchor) {
		xgrow(&ld->anchors, &ld->anchors_cap, ld->nanchors + 1, sizeof(*ld->anchors));
		ld->anchors[ld->nanchors++] = (struct anchor){
			arena_strdup(&ld->doc->arena, anchor), *out };
	}
out:
	yaml_event_delete(ev);
	return rc;
}

/* Reads and deletes the next event, keeping its type and position. */
static int skip_event(struct loader *ld, yaml_event_type_t *type, yaml_mark_t *mark)
{
	yaml_event_t ev;

	if (next_event(ld, &ev))
		return -1;
	*type = ev.type;
	*mark = ev.start_mark;
	yaml_event_delete(&ev);
	return 0;
}

/*
 * stream-start, then one document or none, then stream-end (libyaml checks
 * that grammar; only a second document needs refusing here).
 */
static int load_stream(struct loader *ld)
{
	static const yaml_mark_t file_start = { 0, 0, 0 };
	yaml_event_type_t type;
	yaml_mark_t mark;
	yaml_event_t ev;

	if (skip_event(ld, &type, &mark) || skip_event(ld, &type, &mark))
		return -1;
	if (type == YAML_STREAM_END_EVENT) {
		/* An empty file is an empty (null) document. */
		ld->doc->root = node_new(ld, YNODE_SCALAR, &file_start);
		ld->doc->root->str = "";
		return 0;
	}
	if (next_event(ld, &ev) || load_node(ld, &ev, 0, &ld->doc->root))
		return -1;
	if (skip_event(ld, &type, &mark) || skip_event(ld, &type, &mark))
		return -1;
	if (type == YAML_DOCUMENT_START_EVENT)
		return err_mark(ld, &mark, "a file holds a single YAML document");
	return 0;
}

static char *read_file(const char *path, size_t *len, struct lb_err *err)
{
	struct buf b;
	char chunk[4096];
	size_t got;
	FILE *f = fopen(path, "rb");
	char *text = NULL;

	if (!f) {
		lb_err_set(err, "cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	buf_init(&b, YDOC_MAX_BYTES);
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, got)) {
			lb_err_set(err, "'%s' is larger than %u bytes", path, YDOC_MAX_BYTES);
			goto out;
		}
	}
	if (ferror(f)) {
		lb_err_set(err, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	text = buf_detach(&b, len);
out:
	buf_release(&b);
	fclose(f);
	return text;
}

static struct ydoc *load(const char *path, bool tags, struct lb_err *err)
{
	struct loader ld = { .path = path, .tags = tags, .err = err };
	char *text = read_file(path, &ld.len, err);

	if (!text)
		return NULL;
	ld.text = text;
	ld.doc = xcalloc(1, sizeof(*ld.doc));
	if (!yaml_parser_initialize(&ld.parser)) {
		fprintf(stderr, "lb: out of memory starting the YAML parser\n");
		abort();
	}
	yaml_parser_set_input_string(&ld.parser, (const unsigned char *)text, ld.len);
	if (load_stream(&ld)) {
		ydoc_free(ld.doc);
		ld.doc = NULL;
	}
	yaml_parser_delete(&ld.parser);
	free(ld.anchors);
	free(text);
	return ld.doc;
}

struct ydoc *ydoc_load(const char *path, struct lb_err *err)
{
	return load(path, false, err);
}

struct ydoc *ydoc_load_tagged(const char *path, struct lb_err *err)
{
	return load(path, true, err);
}

void ydoc_free(struct ydoc *doc)
{
	if (!doc)
		return;
	arena_release(&doc->arena);
	free(doc);
}
