/*
 * tmp_dirs: the names of lb's temporary directories, and the removal at
 * start of those an lb killed with SIGKILL (or crashed) left behind.
 *
 * lb makes, and removes when it stops:
 *   $TMPDIR/lb-tmp-PID-XXXXXX     a sandbox's private /tmp (lambda_env.c)
 *   $TMPDIR/lb-layers-PID-XXXXXX  merged layers and extracted .zip code (layers.c)
 *   $TMPDIR/lb-image-PID-XXXXXX   an image archive's scratch copy (image.c)
 *   <image cache>/.tmp-PID-XXXXXX an image root being unpacked (image.c)
 * ($TMPDIR/lb-inline-UID-HASH is a cache meant to stay: not named here.)
 *
 * PID is lb's own process id. `workers: N` runs threads of that one
 * process (workers.c), and every directory above is made by lb itself (a
 * sandbox's /tmp before the sandbox is spawned), never by a function's
 * process, so the pid in a name is alive for as long as an lb can use the
 * directory. A directory whose pid is gone is left over, as long as pids
 * mean the same to every lb sharing the directory (one pid namespace).
 */
#ifndef LB_TMP_DIRS_H
#define LB_TMP_DIRS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The prefixes of lb's directories in $TMPDIR, and in the image cache. */
#define TMP_DIRS_TMP "lb-tmp"
#define TMP_DIRS_LAYERS "lb-layers"
#define TMP_DIRS_IMAGE "lb-image"
#define TMP_DIRS_CACHE ".tmp"

/* --- pure ------------------------------------------------------------------------ */

/* Writes the mkdtemp template "DIR/PREFIX-PID-XXXXXX" into out; -1 if it does not fit. */
int tmp_dirs_template(char *out, size_t size, const char *dir, const char *prefix, pid_t pid);

/*
 * The pid in name when name is "PREFIX-PID-XXXXXX" (a decimal pid, then
 * mkdtemp's six letters and digits) for one of prefixes (NULL-terminated);
 * 0 for anything else, the pid-less "PREFIX-XXXXXX" of older lbs included.
 */
pid_t tmp_dirs_pid(const char *name, const char *const *prefixes);

/*
 * Whether an entry named with pid (tmp_dirs_pid) was left by an lb that is
 * gone and may be removed by lb running as uid me: it is a directory owned
 * by me, and probe, the errno of kill(pid, 0) (0 when it succeeded), is
 * ESRCH.
 */
bool tmp_dirs_stale(pid_t pid, bool is_dir, uid_t owner, uid_t me, int probe);

/* --- I/O ------------------------------------------------------------------------- */

/* $TMPDIR, or /tmp when it is unset or empty. */
const char *tmp_dirs_base(void);

/*
 * Creates a new private directory DIR/PREFIX-PID-XXXXXX (mkdtemp) with
 * lb's pid, its path in out (size bytes); -1 with errno.
 */
int tmp_dirs_make(char *out, size_t size, const char *dir, const char *prefix);

/*
 * Removes the directories of lb processes that are gone, in $TMPDIR and in
 * image_cache (images_cache_path; NULL: none), and says so in one line.
 * Once, at start, before lb serves.
 */
void tmp_dirs_sweep(const char *image_cache);

#endif
