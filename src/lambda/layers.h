/*
 * layers: what a function version unpacks before its runtime starts, as
 * Lambda does — its `layers:` (directories or .zip files) merged in order
 * into one directory that stands for /opt, and its code when that is a .zip
 * file, extracted into a directory that stands for /var/task (the task root)
 * — and the environment variables that point the runtime at /opt
 * (DESIGN.md §5, §7).
 *
 * lb cannot provide /opt or /var/task itself without containers, so these
 * directories live in a private temporary directory ($TMPDIR/lb-layers-PID-
 * XXXXXX, created when the first one is needed, removed by layers_free, or
 * by the next lb when this one is killed: tmp_dirs.h) and take their places
 * in every path; LB_LAYERS_DIR names the merged layers for the function,
 * LAMBDA_TASK_ROOT the task root.
 *
 * One pair per function version and configuration: built when a sandbox of
 * that version first starts, shared by its later sandboxes, and removed once
 * a newer configuration is in force and no sandbox uses it — but for the
 * extracted code, which the newer configuration reuses while the zip is
 * unchanged. Functions with neither layers nor .zip code never get here.
 */
#ifndef LB_LAYERS_H
#define LB_LAYERS_H

#include <stdbool.h>
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

/* Whether s has something to unpack: layers, or code that is a .zip file. */
bool layers_unpacks(const struct function_settings *s);

/*
 * The unpacked directories of s (the settings of fn_name's version under
 * cfg, layers_unpacks(s)), built on first use: a new reference, or NULL with
 * err set ("layer '/x/a.zip': entry '../y' is refused: ...", "code
 * '/x/fn.zip': its entries unzip to ..."). The code is extracted first, and
 * the code and the layers together may take at most LAYER_UNZIPPED_MAX
 * bytes. A failed build is not kept, so the next call tries again. Takes a
 * reference to cfg while the directories exist.
 */
struct layer_dir *layers_acquire(struct layers *ls, struct config *cfg, const char *fn_name,
				 const char *version, const struct function_settings *s,
				 struct lb_err *err);
/* Drops a reference from layers_acquire. NULL-safe. */
void layers_release(struct layer_dir *d);
/* The merged layers' absolute path (borrowed while referenced), or NULL without layers. */
const char *layer_dir_path(const struct layer_dir *d);
/* The extracted .zip code's absolute path, the task root (borrowed while
 * referenced), or NULL when the code is a directory. */
const char *layer_dir_task(const struct layer_dir *d);

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
