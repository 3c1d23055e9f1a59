/*
 * auth_keys: the per-process secrets of lb's authenticate actions, made at
 * start with OpenSSL's libcrypto: an AES-256-GCM key that seals session
 * cookies and login states (encrypted and authenticated, as ALB's session
 * cookie is encrypted), and a P-256 key that signs x-amzn-oidc-data (ES256),
 * with its kid and its public key PEM (served at /.lb/keys/{kid}). A restart
 * makes new keys: sessions of the previous run no longer open, and users
 * log in again. One set per process: every event loop (`workers: N`) holds
 * the same keys, so a session cookie sealed by one loop opens on another and
 * x-amzn-oidc-data from any loop verifies with the key at /.lb/keys/{kid}.
 */
#ifndef LB_NET_AUTH_KEYS_H
#define LB_NET_AUTH_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct auth_keys;

/*
 * Returns a reference to the process's keys, made by the first call (under a
 * lock; any thread); NULL if libcrypto fails. The keys are read-only once made.
 */
struct auth_keys *auth_keys_get(void);
void auth_keys_put(struct auth_keys *k);   /* drops a reference; NULL-safe */

/* The signing key's id (a UUID, as ALB's kids are) and its PEM public key. */
const char *auth_keys_kid(const struct auth_keys *k);
const char *auth_keys_pem(const struct auth_keys *k);

/* Appends base64url(iv | AES-256-GCM(pt) | tag), unpadded. */
void auth_seal(const struct auth_keys *k, const void *pt, size_t n, struct buf *out);
/* Appends the plaintext of a sealed s; -1 if it does not open (forged, other key, garbled). */
int auth_open(const struct auth_keys *k, const char *s, size_t n, struct buf *out);
/* The ES256 signature of in: r | s, 32 bytes each (JWS). -1 on failure. */
int auth_sign_es256(const struct auth_keys *k, const void *in, size_t n, uint8_t sig[64]);

#endif
