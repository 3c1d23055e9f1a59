/*
 * mask: the rules in mask.h. mask_json is a small scanner over JSON text,
 * not a parser: it tracks strings, nesting and "key": positions, which is
 * enough to find the values of secret keys in documents that may have been
 * cut at the console's body limit.
 */
#include "inspect/mask.h"

#include <string.h>

static const char *const secret_headers[] = {
	"authorization", "proxy-authorization", "cookie", "set-cookie", "x-amz-security-token", "x-api-key",
	"x-amzn-oidc-accesstoken",   /* the IdP's bearer token ALB adds after authenticate-oidc */
};

static const char *const secret_env_words[] = {
	"SECRET", "PASSWORD", "PASSWD", "TOKEN", "KEY", "CREDENTIAL", "PRIVATE", "AUTH", "SIGNATURE", "SALT",
	"COOKIE", "SESSION",
};

bool mask_header_is_secret(struct sv name)
{
	for (size_t i = 0; i < ARRAY_LEN(secret_headers); i++)
		if (sv_eq_cstr_nocase(name, secret_headers[i]))
			return true;
	return false;
}

static bool contains_nocase(const char *s, const char *word)
{
	size_t n = strlen(word);

	for (; *s; s++)
		if (sv_starts_with_nocase((struct sv){ s, strnlen(s, n) }, word))
			return true;
	return false;
}

bool mask_env_is_secret(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(secret_env_words); i++)
		if (contains_nocase(name, secret_env_words[i]))
			return true;
	return false;
}

/* "a=1; b=2" → "a=***; b=***" (only the first pair for Set-Cookie: the rest are attributes). */
static void mask_cookies(struct sv v, bool first_only, struct buf *out)
{
	size_t i = 0;
	bool first = true;

	while (i < v.n) {
		const char *semi = memchr(v.p + i, ';', v.n - i);
		size_t end = semi ? (size_t)(semi - v.p) : v.n;
		const char *eq = memchr(v.p + i, '=', end - i);

		if ((first || !first_only) && eq) {
			buf_append(out, v.p + i, (size_t)(eq + 1 - (v.p + i)));
			buf_puts(out, "***");
		} else if (first || !first_only) {
			buf_puts(out, "***");
		} else {
			buf_append(out, v.p + i, end - i);
		}
		first = false;
		if (!semi)
			break;
		buf_putc(out, ';');
		i = end + 1;
	}
}

void mask_header_value(struct sv name, struct sv value, struct buf *out)
{
	const char *sp;

	if (!mask_header_is_secret(name)) {
		buf_append(out, value.p, value.n);
	} else if (sv_eq_cstr_nocase(name, "cookie") || sv_eq_cstr_nocase(name, "set-cookie")) {
		mask_cookies(value, sv_eq_cstr_nocase(name, "set-cookie"), out);
	} else if (sv_eq_cstr_nocase(name, "authorization") || sv_eq_cstr_nocase(name, "proxy-authorization")) {
		/* The scheme says which kind of credentials came, and is no secret. */
		sp = memchr(value.p, ' ', value.n);
		if (sp)
			buf_append(out, value.p, (size_t)(sp + 1 - value.p));
		buf_puts(out, "***");
	} else {
		buf_puts(out, "***");
	}
}

void mask_head(struct sv head, struct buf *out)
{
	size_t i = 0;

	while (i < head.n) {
		const char *nl = memchr(head.p + i, '\n', head.n - i);
		size_t end = nl ? (size_t)(nl - head.p) : head.n;
		struct sv line = { head.p + i, end - i }, name, value;
		bool cr = line.n && line.p[line.n - 1] == '\r';

		if (cr)
			line.n--;
		value = sv_cut(line, ':', &name);
		if (value.p && mask_header_is_secret(sv_trim(name))) {
			buf_append(out, name.p, name.n);
			buf_puts(out, ": ");
			mask_header_value(sv_trim(name), sv_trim(value), out);
		} else {
			buf_append(out, line.p, line.n);
		}
		if (cr)
			buf_putc(out, '\r');
		if (nl)
			buf_putc(out, '\n');
		i = end + 1;
	}
}

/* The index just past the string starting at s.p[i] (a '"'), or s.n when it is cut. */
static size_t string_end(struct sv s, size_t i)
{
	for (i++; i < s.n; i++) {
		if (s.p[i] == '\\')
			i++;
		else if (s.p[i] == '"')
			return i + 1;
	}
	return s.n;
}

void mask_json(struct sv s, struct buf *out)
{
	size_t i = 0, depth = 0, arr_depth = 0;
	struct sv key = SV_NULL;   /* the secret key whose value comes next */
	struct sv arr_key = SV_NULL;

	while (i < s.n) {
		char c = s.p[i];

		if (c == '"') {
			size_t end = string_end(s, i), k = end;
			struct sv inner = { s.p + i + 1, end - i - 1 };
			bool whole = end <= s.n && end > i + 1 && s.p[end - 1] == '"';

			if (whole)
				inner.n--;
			if (key.p || (arr_depth && depth == arr_depth)) {
				buf_putc(out, '"');
				if (whole)
					mask_header_value(key.p ? key : arr_key, inner, out);
				buf_puts(out, whole ? "\"" : "");
				key = SV_NULL;
			} else {
				buf_append(out, s.p + i, end - i);
				while (k < s.n && (s.p[k] == ' ' || s.p[k] == '\n' || s.p[k] == '\r' || s.p[k] == '\t'))
					k++;
				if (whole && k < s.n && s.p[k] == ':' && mask_header_is_secret(inner))
					key = inner;
			}
			i = end;
			continue;
		}
		if (c == '[' || c == '{') {
			depth++;
			if (c == '[' && key.p) {
				arr_depth = depth;
				arr_key = key;
			}
			key = SV_NULL;
		} else if (c == ']' || c == '}') {
			if (arr_depth == depth)
				arr_depth = 0;
			if (depth)
				depth--;
		} else if (key.p && c != ':' && c != ' ' && c != '\n' && c != '\r' && c != '\t') {
			key = SV_NULL;     /* a number, true, null: nothing to mask */
		}
		buf_putc(out, c);
		i++;
	}
}
