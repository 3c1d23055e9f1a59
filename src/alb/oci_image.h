/*
 * oci_image: the pure rules of a container image on disk (no I/O) — the
 * JSON of an OCI image layout (index.json, manifests), of a `docker save`
 * archive (manifest.json), of the image configuration (Entrypoint, Cmd,
 * WorkingDir, Env), the names of layer entries (whiteouts, paths that must
 * stay inside the root) and Lambda's ImageConfig overrides. lambda/image.c
 * does the reading and unpacking.
 */
#ifndef LB_OCI_IMAGE_H
#define LB_OCI_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* Where an image's parts are, as paths relative to the image directory. */
struct oci_manifest {
	char *config;              /* the configuration blob */
	size_t nlayers;
	char **layers;             /* layer blobs, lowest first */
};

/* The part of an image configuration that says how to run it. */
struct oci_config {
	size_t nentrypoint, ncmd, nenv;
	char **entrypoint;         /* config.Entrypoint */
	char **cmd;                /* config.Cmd */
	char **env;                /* config.Env, "NAME=value" */
	char *workdir;             /* config.WorkingDir, or NULL */
};

/*
 * "sha256:<64 hex>" (or another algorithm and its hex) to "blobs/ALG/HEX";
 * -1 with err for anything else, so a digest can never name a path outside
 * blobs/. Returns new in *path.
 */
int oci_blob_path(const char *digest, char **path, struct lb_err *err);

/*
 * The manifest an index.json (or a nested image index) points at: the only
 * one, else the one for linux on amd64 (arm64 on arm64 machines: arch), else
 * the first. *digest is new; *nested says it is itself an index.
 */
int oci_index_pick(const char *json, size_t n, const char *arch, char **digest, bool *nested,
		   struct lb_err *err);
/* An image manifest (OCI or Docker v2 schema 2): its config and layer blobs. */
int oci_manifest_parse(const char *json, size_t n, struct oci_manifest *m, struct lb_err *err);
/* A `docker save` manifest.json: the first image's Config and Layers (checked paths). */
int docker_manifest_parse(const char *json, size_t n, struct oci_manifest *m, struct lb_err *err);
void oci_manifest_release(struct oci_manifest *m);

/*
 * An image configuration; fields it lacks (or null) stay empty. Entrypoint and
 * Cmd are lists of strings or one string (Docker reads both), Env a list of
 * strings, WorkingDir a string: another type is -1 with err naming the field.
 * User is ignored.
 */
int oci_config_parse(const char *json, size_t n, struct oci_config *c, struct lb_err *err);
void oci_config_release(struct oci_config *c);

/*
 * An archive entry's name as a path relative to the root: leading "/" and
 * "./" dropped, "." components and repeated or trailing slashes removed.
 * -1 for a ".." component (the layer would write outside the root) or a
 * name that is the root itself. Returns new in *out.
 */
int oci_entry_path(const char *name, char **out);

enum oci_whiteout {
	OCI_WH_NONE,
	OCI_WH_FILE,               /* DIR/.wh.NAME: DIR/NAME of lower layers is deleted */
	OCI_WH_OPAQUE,             /* DIR/.wh..wh..opq: DIR's lower-layer contents are hidden */
};

/*
 * What a normalized entry path means: for OCI_WH_FILE *target is the path
 * deleted, for OCI_WH_OPAQUE the directory emptied (new; "" for the root).
 */
enum oci_whiteout oci_whiteout(const char *path, char **target);

/*
 * The command a sandbox runs: Lambda's ImageConfig EntryPoint and Command
 * replace the image's ENTRYPOINT and CMD separately (NULL: not set), then
 * the two are concatenated. NULL-terminated, new; NULL when empty.
 */
char **oci_run_argv(const struct oci_config *c, const char *const *entry_point, size_t nentry,
		    const char *const *command, size_t ncommand);
void oci_argv_free(char **argv);

#endif
