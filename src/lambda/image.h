/*
 * image: container images without Docker. A function's `image:` (a `docker
 * save`/`podman save` archive, possibly gzip-compressed, or an OCI image
 * layout directory) is unpacked once into a per-user cache keyed by the
 * image's configuration digest ($XDG_CACHE_HOME/lb/images/HEX, else
 * ~/.cache/lb/images/HEX): its layers applied in order with OCI/Docker
 * whiteouts, then its WorkingDir created if they did not make it. A sandbox runs rooted there (lambda_env.c builds its command
 * with image_argv).
 */
#ifndef LB_IMAGE_H
#define LB_IMAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "alb/oci_image.h"
#include "base/err.h"

struct images;

struct image {
	char *root;                /* the unpacked root file system (absolute, no links) */
	char *digest;              /* "sha256:HEX" of its configuration */
	struct oci_config cfg;     /* Entrypoint, Cmd, WorkingDir, Env */
};

/*
 * An image's files may take at most 10 GB (Lambda's limit for a container
 * image, all layers uncompressed); LB_IMAGE_SIZE_MAX=BYTES replaces it, for
 * tests.
 */
struct images *images_new(void);
void images_free(struct images *im);

/* The cache's folder, $XDG_CACHE_HOME/lb/images else $HOME/.cache/lb/images, not
 * created; -1 when neither is set (or the path does not fit in size bytes). */
int images_cache_path(char *out, size_t size);

/*
 * The image at path, unpacked into the cache when it is not there yet
 * (blocking). Borrowed from im; it stays valid until images_free. An image
 * file that changed since it was last read is read again. NULL with err.
 */
const struct image *images_get(struct images *im, const char *path, struct lb_err *err);

/*
 * Makes dir (as the image sees it: "/var/task") a directory in img's root,
 * creating what is missing (0755), as Docker creates a missing working
 * directory when a container starts. Its links are followed inside the
 * root. -1 with err when a file is in the way.
 */
int image_mkdir(const struct image *img, const char *dir, struct lb_err *err);

/* How image sandboxes are isolated: bubblewrap, chroot (root only), or neither available. */
enum image_isolation { IMAGE_BWRAP, IMAGE_CHROOT, IMAGE_NONE };
/* What this machine offers; LB_IMAGE_SANDBOX=bwrap|chroot forces one (tests). */
enum image_isolation image_isolation(void);

/*
 * The command line that starts run (the image's entrypoint and command, or
 * Lambda's ImageConfig overrides) rooted in img: its root read-only, tmpdir
 * as its private /tmp, /proc, /dev, the host's network (the Runtime API is
 * on 127.0.0.1), in workdir. NULL-terminated, new (free each string and the
 * array); NULL with err when nothing can isolate it.
 */
char **image_argv(const struct image *img, char *const *run, const char *workdir, const char *tmpdir,
		  struct lb_err *err);

#endif
