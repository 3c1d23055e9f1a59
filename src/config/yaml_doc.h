/*
 * yaml_doc: a YAML file as a small tree of nodes, and typed accessors that
 * report problems as "file:line:col: message". The only libyaml user in lb.
 *
 * ydoc_load reads one file into scalars, sequences and mappings that keep
 * their 1-based line and column. It rejects what a configuration never needs
 * and what would make positions lie: duplicate keys, tags, non-scalar keys,
 * several documents, NUL bytes inside scalars. Anchors, aliases and YAML
 * 1.1's merge keys ("<<: *defaults") are resolved as PyYAML resolves them: an
 * alias is the anchored node itself (its positions are the anchor's), so a
 * tree may share nodes; readers never change a loaded node.
 *
 * Readers walk mappings with ydoc_fields: a table names every key the caller
 * understands (and, for plain values, where to store them), so a key nobody
 * asked for is an error ("unknown key 'prority' (did you mean 'priority'?)")
 * instead of being silently ignored. Keys of type YF_NODE are only declared
 * known; the caller reads them with ydoc_get.
 *
 * Every scalar is text: `port: 8080` and `port: "8080"` both read as the
 * integer 8080, as AWS's API takes attribute values as strings. An empty or
 * `~`/`null` plain scalar is null and is never a valid value.
 */
#ifndef LB_YAML_DOC_H
#define LB_YAML_DOC_H

#include <stdbool.h>
#include <stddef.h> /* offsetof, for the YFIELD_* rows */

#include "base/err.h"
#include "base/util.h"

enum ynode_type { YNODE_SCALAR, YNODE_SEQUENCE, YNODE_MAPPING };

struct ypair;

struct ynode {
	enum ynode_type type;
	const char *file;       /* the path given to ydoc_load (borrowed) */
	int line, col;          /* 1-based */
	/* YNODE_SCALAR */
	const char *str;        /* NUL-terminated, no NUL inside */
	size_t len;
	bool quoted;            /* quoted or block style: never null */
	const char *tag;        /* "!Ref" etc. (ydoc_load_tagged only); NULL when untagged */
	/* YNODE_SEQUENCE: n items; YNODE_MAPPING: n pairs, in file order */
	size_t n;
	struct ynode **items;
	struct ypair *pairs;
};

struct ypair {
	struct ynode *key;      /* always a scalar */
	struct ynode *value;
};

struct ydoc {
	struct arena arena;     /* every node */
	struct ynode *root;     /* NULL for an empty file */
};

/*
 * Reads and parses path. Borrows path: every node points to it, so it must
 * outlive the document. Returns a new document (free with ydoc_free), or NULL
 * with err set ("lb.yaml:3:7: did not find expected key").
 */
struct ydoc *ydoc_load(const char *path, struct lb_err *err);
/* Same, but local tags ("!Ref", "!GetAtt": CloudFormation's short forms) are
 * kept in ynode.tag instead of refused. */
struct ydoc *ydoc_load_tagged(const char *path, struct lb_err *err);
void ydoc_free(struct ydoc *doc);

/* Sets err to "file:line:col: message" at node at; returns -1. */
int ydoc_err(struct lb_err *err, const struct ynode *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

bool ydoc_is_null(const struct ynode *n);

/* The value (or the key node) of key in mapping map; NULL when absent. */
struct ynode *ydoc_get(const struct ynode *map, const char *key);
struct ynode *ydoc_key(const struct ynode *map, const char *key);

/*
 * Typed reads of a value written under the key what (used in messages such
 * as "'timeout' must be between 1 and 900, not 1000"). Each returns 0, or -1
 * with err set at n.
 */
int ydoc_mapping(const struct ynode *n, const char *what, struct lb_err *err);
/* A sequence whose items all have type item_type. */
int ydoc_list(const struct ynode *n, const char *what, enum ynode_type item_type,
	      struct lb_err *err);
/* Borrows the scalar's text (valid as long as the document). */
int ydoc_str(const struct ynode *n, const char *what, const char **out, struct lb_err *err);
/* A decimal integer in [min, max] (max INT_MAX: no upper bound). */
int ydoc_int(const struct ynode *n, const char *what, int min, int max, int *out,
	     struct lb_err *err);
/* true or false only (YAML 1.1's yes/no/on/off are not booleans here). */
int ydoc_bool(const struct ynode *n, const char *what, bool *out, struct lb_err *err);
/* One of names[0..nnames): *out is its index. */
int ydoc_enum(const struct ynode *n, const char *what, const char *const *names, size_t nnames,
	      int *out, struct lb_err *err);
/* A list of strings, copied into a: *out gets n pointers. */
int ydoc_str_list(const struct ynode *n, const char *what, struct arena *a, const char ***out,
		  size_t *nout, struct lb_err *err);

/*
 * n's text as a path relative to the directory of the file n was read from
 * (absolute paths are kept), copied into a. With glob set, the directory
 * part is escaped so that glob(3) takes it literally.
 */
char *ydoc_path(const struct ynode *n, bool glob, struct arena *a);

/* Sets err to "unknown key 'k'", adding "(did you mean 'x'?)" when one of
 * known[0..n) is within edit distance 2; returns -1. */
int ydoc_unknown_key(struct lb_err *err, const struct ynode *key, const char *const *known,
		     size_t n);

enum yfield_type {
	YF_NODE,      /* known; the caller reads it with ydoc_get */
	YF_STR,       /* const char *, copied into the arena */
	YF_INT,       /* int in [min, max] */
	YF_BOOL,      /* bool */
	YF_STR_LIST,  /* const char ** at off, its size_t count at off_n */
};

struct yfield {
	const char *key;
	enum yfield_type type;
	size_t off, off_n;      /* where the value goes in dst */
	int min, max;           /* YF_INT */
	bool required;
};

/* Table rows; extra designated initializers may follow, e.g. .required = true. */
#define YFIELD_NODE(k, ...) { .key = (k), .type = YF_NODE, __VA_ARGS__ }
#define YFIELD_STR(k, T, m, ...) { .key = (k), .type = YF_STR, .off = offsetof(T, m), __VA_ARGS__ }
#define YFIELD_BOOL(k, T, m, ...)                                                            \
	{ .key = (k), .type = YF_BOOL, .off = offsetof(T, m), __VA_ARGS__ }
#define YFIELD_INT(k, T, m, lo, hi, ...)                                                     \
	{ .key = (k), .type = YF_INT, .off = offsetof(T, m), .min = (lo), .max = (hi), __VA_ARGS__ }
#define YFIELD_STR_LIST(k, T, m, count, ...)                                                 \
	{ .key = (k), .type = YF_STR_LIST, .off = offsetof(T, m), .off_n = offsetof(T, count),  \
	  __VA_ARGS__ }

/*
 * Checks that map (written under what) is a mapping whose keys are all in
 * fields, that required keys are present, and stores each plain value at its
 * offset in dst (absent keys leave dst as it was: set defaults first).
 * Strings are copied into a; dst and a may be NULL when fields has only
 * YF_NODE rows, and a when it has no string rows.
 */
int ydoc_fields(const struct ynode *map, const char *what, const struct yfield *fields,
		size_t nfields, void *dst, struct arena *a, struct lb_err *err);

#endif
