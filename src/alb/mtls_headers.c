/*
 * mtls_headers: see mtls_headers.h.
 *
 * Choices where AWS is silent (§4.1 #18): client-sent X-Amzn-Mtls-* (and
 * renamed) headers are removed on every listener, so a client cannot pose
 * as a verified certificate; the PEM encoding leaves "+=/" as AWS's text
 * says (its example shows "=" as %3D; decoders accept both); passthrough
 * without a client certificate sends no header.
 */
#include "alb/mtls_headers.h"

#include <stdio.h>
#include <string.h>

static bool mtls_safe(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~' || c == '+' || c == '=' || c == '/';
}

void mtls_url_encode(struct buf *out, const char *pem, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)pem[i];

		if (mtls_safe(c)) {
			buf_putc(out, (char)c);
			continue;
		}
		buf_putc(out, '%');
		buf_putc(out, hex[c >> 4]);
		buf_putc(out, hex[c & 15]);
	}
}

/* Why: ISO 8601 years have four digits; strftime's %Y writes year 1 as "1"
 * (a GeneralizedTime reaches back to year 0). */
static void iso_time(struct buf *out, const struct tm *t)
{
	buf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02dZ", t->tm_year + 1900, t->tm_mon + 1,
		   t->tm_mday, t->tm_hour, t->tm_min, t->tm_sec);
}

void mtls_validity(struct buf *out, const struct tm *nb, const struct tm *na)
{
	buf_puts(out, "NotBefore=");
	iso_time(out, nb);
	buf_puts(out, ";NotAfter=");
	iso_time(out, na);
}

/* The names this module owns besides X-Amzn-Mtls-*: AWS's and the listener's. */
#define OWNED_MAX (4 + MTLS_H_COUNT)

static size_t owned_names(const struct listener_attrs *la, struct sv owned[OWNED_MAX])
{
	size_t n = 0;

	owned[n++] = SV("x-amzn-tls-version");
	owned[n++] = SV("x-amzn-tls-cipher-suite");
	owned[n++] = sv_from(la->tls_version_name);
	owned[n++] = sv_from(la->tls_cipher_name);
	for (int i = 0; i < MTLS_H_COUNT; i++)
		owned[n++] = sv_from(la->mtls_names[i]);
	return n;
}

/* Whether name is one of owned[n] or X-Amzn-Mtls-*: lengths first, as most
 * names toward the target (X-Forwarded-*, X-Amzn-Trace-Id) are none of them. */
static bool is_tls_header(struct sv name, const struct sv *owned, size_t n)
{
	if (name.n >= 12 && sv_eq_cstr_nocase((struct sv){ name.p, 12 }, "x-amzn-mtls-"))
		return true;
	for (size_t i = 0; i < n; i++)
		if (sv_eq_nocase(name, owned[i]))
			return true;
	return false;
}

/* enum mtls_header (config.h) and enum http_mtls_value (http_msg.h) name the same headers. */
_Static_assert((int)MTLS_H_COUNT == (int)HTTP_MTLS_COUNT, "mTLS header tables differ");
_Static_assert((int)MTLS_H_LEAF == (int)HTTP_MTLS_LEAF, "mTLS header tables differ");

void mtls_headers_apply(struct header_list *out, const struct http_request *req,
			const struct lb_attributes *lba, const struct listener_attrs *la)
{
	const struct http_tls *t = req->tls;
	struct sv owned[OWNED_MAX];
	size_t nowned = owned_names(la, owned), k = 0;

	for (size_t i = 0; i < out->n; i++) {
		if (!is_tls_header(out->v[i].name, owned, nowned))
			out->v[k++] = out->v[i];
	}
	out->n = k;
	if (!t)
		return;
	for (int i = 0; i < HTTP_MTLS_COUNT; i++) {
		if (t->mtls[i])
			header_list_add(out, sv_from(la->mtls_names[i]), sv_from(t->mtls[i]));
	}
	/* Why: routing.http.x_amzn_tls_version_and_cipher_suite.enabled adds
	 * both, in OpenSSL's spelling (§2.7). */
	if (lba->tls_headers && t->protocol && t->cipher) {
		header_list_add(out, sv_from(la->tls_version_name), sv_from(t->protocol));
		header_list_add(out, sv_from(la->tls_cipher_name), sv_from(t->cipher));
	}
}
