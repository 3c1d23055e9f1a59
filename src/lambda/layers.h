/*
 * layers: what a function version sees under /opt in Lambda — its `layers:`
 * (directories or .zip files) merged in order into one directory, and the
 * environment variables that point the runtime at it (DESIGN.md §5, §7).
 *
 * lb cannot provide /opt itself without containers, so the merged directory
 * lives in a private temporary directory (mkdtemp under $TMPDIR or /tmp,
 * created when the first one is needed, removed by layers_free) and takes
 * /opt's place in every path; LB_LAYERS_DIR names it for the function.
 *
 * One merged directory per function version and configuration: built when a
 * sandbox of that version first starts, shared by its later sandboxes, and
 * removed once a newer configuration is in force and no sandbox uses it.
 * Functions without layers never get here.
 */
#ifndef LB_LAYERS_H
#define LB_LAYERS_H

#include <stddef.h>

#include "config/config.h"
#include "base/err.h"

struct layers;
struct layer_dir;

/* Nothing is created on disk until the first layers_acquire. */
struct layers *layers_new(void);
/* Removes every merged directory and the temporary directory, and frees ls.
 * No sandbox may use them any more. NULL-safe. */
void layers_free(struct layers *ls);

/* cfg is the configuration in force from now on (borrowed; compared by
 * identity): unused merged directories of earlier ones are removed now,
 * the others when released. */
void layers_set_config(struct layers *ls, const struct config *cfg);

/*
 * The merged directory of s (the settings of fn_name's version under cfg,
 * s->nlayers > 0), built on first use: a new reference, or NULL with err set
 * ("layer '/x/a.zip': entry '../y' is refused: ..."). A failed build is not
 * kept, so the next call tries again. Takes a reference to cfg while the
 * directory exists.
 */
struct layer_dir *layers_acquire(struct layers *ls, struct config *cfg, const char *fn_name,
				 const char *version, const struct function_settings *s,
				 struct lb_err *err);
/* Drops a reference from layers_acquire. NULL-safe. */
void layers_release(struct layer_dir *d);
/* The merged directory's absolute path (borrowed while referenced). */
const char *layer_dir_path(const struct layer_dir *d);

/*
 * Merges the layers at paths (directories or .zip files), in order, into the
 * existing directory dest: a later layer's file replaces an earlier one's at
 * the same relative path, and directories merge. Files of directory layers
 * are copied (not linked): see layers.c. Their files together may take at
 * most LAYER_UNZIPPED_MAX bytes (Lambda's limit); past it the merge fails
 * ("... more than the N left of Lambda's limit ..."), a .zip before any of
 * its entries is written.
 */
int layers_merge(const char *dest, const char *const *paths, size_t n, struct lb_err *err);

/* At most this many variables come from layers_env. */
#define LAYERS_ENV_MAX 5

/*
 * The variables Lambda sets for layers, with opt (a merged directory) in
 * place of /opt, for a function of this runtime: PATH and LD_LIBRARY_PATH
 * (lb's own value, or Lambda's default, then opt/bin and opt/lib), NODE_PATH
 * (nodejs*), PYTHONPATH (python3.*), and LB_LAYERS_DIR. Each "NAME=value" is
 * new (free() it) in out; returns how many.
 */
size_t layers_env(const char *opt, const char *runtime, const char *path, const char *ld_path,
		  char *out[LAYERS_ENV_MAX]);

#endif
