/*
 * mask: keeps secrets out of the console and the inspection API. Pure.
 *
 * Header values of Authorization, Proxy-Authorization, Cookie, Set-Cookie,
 * X-Amz-Security-Token and X-Api-Key are replaced by "***" — keeping what
 * helps debugging and is not secret: an Authorization scheme ("Bearer ***"),
 * cookie names ("session=***; theme=***"), a Set-Cookie's attributes.
 * Environment variables whose names look secret (KEY, SECRET, TOKEN,
 * PASSWORD, ...) are masked whole.
 */
#ifndef LB_INSPECT_MASK_H
#define LB_INSPECT_MASK_H

#include <stdbool.h>

#include "base/buf.h"
#include "base/util.h"

/* Whether a header's value is masked (name case-insensitive). */
bool mask_header_is_secret(struct sv name);
/* Whether an environment variable's value is masked (name case-insensitive). */
bool mask_env_is_secret(const char *name);
/* Appends value as the console shows it for header name. */
void mask_header_value(struct sv name, struct sv value, struct buf *out);
/* Appends an HTTP head ("Name: value" lines, CRLF or LF) with secret values masked. */
void mask_head(struct sv head, struct buf *out);
/*
 * Appends JSON text with the string values (or arrays of strings) of secret
 * header names masked, wherever such a key appears (an event's headers and
 * multiValueHeaders, a result's). Works on truncated text: it never needs
 * the document to be whole, and never breaks the JSON it copies.
 */
void mask_json(struct sv json, struct buf *out);

#endif
