/*
 * auth_oidc: formats of the authenticate actions. Login states and sessions
 * are small JSON documents; the caller seals them (AES-256-GCM) so a client
 * can neither read nor forge them. The session cookie carries the user's
 * claims and access token, encrypted, as ALB's does, so lb keeps no
 * session table.
 */
#include "alb/auth_oidc.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/base64.h"
#include "base/util.h"

void auth_b64url(struct buf *out, const void *in, size_t n, bool padded)
{
	size_t len = base64_encoded_len(n), at = out->len;
	char *p;

	base64_encode_buf(in, n, out);
	p = out->p + at;
	for (size_t i = 0; i < len; i++)
		p[i] = p[i] == '+' ? '-' : p[i] == '/' ? '_' : p[i];
	while (!padded && out->len > at && out->p[out->len - 1] == '=')
		out->len--;
	if (out->p)
		out->p[out->len] = '\0';
}

int auth_b64url_decode(struct buf *out, const char *s, size_t n)
{
	struct buf t;
	int rc;

	buf_init(&t, 0);
	for (size_t i = 0; i < n; i++) {
		char c = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
		if (c == '+' && s[i] == '+')
			c = '!';     /* not base64url: refused below */
		if (c == '/' && s[i] == '/')
			c = '!';
		buf_append(&t, &c, 1);
	}
	while (t.len % 4)
		buf_append(&t, "=", 1);
	rc = base64_decode(t.p ? t.p : "", t.len, out);
	buf_release(&t);
	return rc;
}

void auth_url_encode(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			buf_append(out, s + i, 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			buf_append(out, e, 3);
		}
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int auth_form_get(struct sv form, const char *name, struct buf *out)
{
	size_t nl = strlen(name), i = 0;

	buf_reset(out);
	while (i < form.n) {
		size_t end = i;
		while (end < form.n && form.p[end] != '&')
			end++;
		if (end - i > nl && form.p[i + nl] == '=' && memcmp(form.p + i, name, nl) == 0) {
			for (size_t j = i + nl + 1; j < end; j++) {
				char c = form.p[j];
				if (c == '+')
					c = ' ';
				else if (c == '%' && j + 2 < end && hexval(form.p[j + 1]) >= 0 &&
					 hexval(form.p[j + 2]) >= 0) {
					c = (char)(hexval(form.p[j + 1]) * 16 + hexval(form.p[j + 2]));
					j += 2;
				}
				buf_append(out, &c, 1);
			}
			return 0;
		}
		i = end + 1;
	}
	return -1;
}

void auth_state_write(struct buf *out, const struct auth_state *st)
{
	json_t *j = json_pack("{sI si ss ss}", "t", (json_int_t)st->issued, "r", st->priority,
			      "n", st->nonce, "u", st->url);
	char *s = json_dumps(j, JSON_COMPACT);

	buf_append(out, s, strlen(s));
	free(s);
	json_decref(j);
}

int auth_state_read(const char *p, size_t n, struct auth_state *st, struct buf *urlbuf)
{
	json_t *j = json_loadb(p, n, 0, NULL);
	json_int_t t = 0;
	int r = 0, rc = -1;
	const char *nonce = NULL, *url = NULL;

	if (j && json_unpack(j, "{sI si ss ss}", "t", &t, "r", &r, "n", &nonce, "u", &url) == 0 &&
	    strlen(nonce) < sizeof(st->nonce)) {
		st->issued = t;
		st->priority = r;
		snprintf(st->nonce, sizeof(st->nonce), "%s", nonce);
		buf_reset(urlbuf);
		buf_append(urlbuf, url, strlen(url) + 1);
		st->url = urlbuf->p;
		rc = 0;
	}
	json_decref(j);
	return rc;
}

static void param(struct buf *out, const char *name, const char *value)
{
	buf_printf(out, "&%s=", name);
	auth_url_encode(out, value, strlen(value));
}

void auth_authorize_url(struct buf *out, const struct auth_cfg *a, const char *redirect_uri,
			const char *state, const char *nonce)
{
	const char *ep = a->authorization_endpoint;

	buf_append(out, ep, strlen(ep));
	buf_append(out, strchr(ep, '?') ? "&" : "?", 1);
	buf_append(out, "response_type=code", 18);
	param(out, "client_id", a->client_id);
	param(out, "redirect_uri", redirect_uri);
	param(out, "scope", a->scope);
	param(out, "state", state);
	param(out, "nonce", nonce);
	for (size_t i = 0; i < a->nextra; i++)
		param(out, a->extra[i].name, a->extra[i].value);
}

void auth_session_write(struct buf *out, const struct auth_session *s)
{
	json_t *j = json_pack("{sI ss ss ss ss}", "e", (json_int_t)s->exp, "a", s->access_token,
			      "c", s->claims, "i", s->issuer, "k", s->client_id);
	char *d = json_dumps(j, JSON_COMPACT);

	buf_append(out, d, strlen(d));
	free(d);
	json_decref(j);
}

int auth_session_read(const char *p, size_t n, struct auth_session *s, struct buf *mem)
{
	json_t *j = json_loadb(p, n, 0, NULL);
	json_int_t e = 0;
	const char *str[4] = { NULL };
	size_t off[4];
	int rc = -1;

	buf_reset(mem);
	if (j && json_unpack(j, "{sI ss ss ss ss}", "e", &e, "a", &str[0], "c", &str[1],
			     "i", &str[2], "k", &str[3]) == 0) {
		for (int i = 0; i < 4; i++) {
			off[i] = mem->len;
			buf_append(mem, str[i], strlen(str[i]) + 1);
		}
		s->exp = e;
		s->access_token = mem->p + off[0];
		s->claims = mem->p + off[1];
		s->issuer = mem->p + off[2];
		s->client_id = mem->p + off[3];
		rc = 0;
	}
	json_decref(j);
	return rc;
}

bool auth_cookie_get(const struct http_request *req, const char *name, struct sv *out)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];
		const char *p = h->value.p, *end = p + h->value.n;

		if (!sv_eq_cstr_nocase(h->name, "cookie"))
			continue;
		while (p < end) {
			const char *semi = memchr(p, ';', (size_t)(end - p));
			const char *e = semi ? semi : end;
			while (p < e && *p == ' ')
				p++;
			if ((size_t)(e - p) > nl && p[nl] == '=' && memcmp(p, name, nl) == 0) {
				*out = (struct sv){ p + nl + 1, (size_t)(e - p - nl - 1) };
				return true;
			}
			p = e + 1;
		}
	}
	return false;
}

int auth_cookie_join(const struct http_request *req, const char *name, struct buf *out)
{
	char shard[300];
	struct sv v;
	int i;

	for (i = 0; i < AUTH_SHARDS_MAX; i++) {
		snprintf(shard, sizeof(shard), "%s-%d", name, i);
		if (!auth_cookie_get(req, shard, &v))
			break;
		buf_append(out, v.p, v.n);
	}
	return i;
}

size_t auth_cookie_set(struct buf *out, const char *name, const char *value, size_t n,
		       int64_t expires)
{
	char date[30];
	size_t k = 0;

	time_http_date(expires, date);
	for (size_t off = 0; (off < n || k == 0) && k < AUTH_SHARDS_MAX; k++) {
		size_t len = n - off < AUTH_SHARD_MAX ? n - off : AUTH_SHARD_MAX;
		/* ALB's session cookies: Path=/, Expires, Secure, HttpOnly; SameSite
		 * is not set by ALB (unverified), so the browser's default applies. */
		buf_printf(out, "%s-%zu=%.*s; Expires=%s; Path=/; Secure; HttpOnly", name, k,
			   (int)len, value + off, date);
		buf_append(out, "", 1);
		off += len;
	}
	return k;
}

static void b64_json(struct buf *out, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	auth_b64url(out, s, strlen(s), true);
	free(s);
}

int auth_jwt_input(struct buf *out, const char *kid, const char *signer, const char *issuer,
		   const char *client, int64_t exp, const char *claims)
{
	json_t *c = json_loads(claims, 0, NULL);
	json_t *h;

	if (!json_is_object(c)) {
		json_decref(c);
		return -1;
	}
	/* ALB's header fields (G23 listener-authenticate-users): typ, kid, alg
	 * ES256, iss, client, signer (the load balancer's ARN), exp. */
	h = json_pack("{ss ss ss ss ss ss sI}", "typ", "JWT", "kid", kid, "alg", "ES256",
		      "iss", issuer, "client", client, "signer", signer, "exp", (json_int_t)exp);
	/* The payload is the user info claims, with exp and iss added. */
	json_object_set_new(c, "exp", json_integer(exp));
	if (!json_object_get(c, "iss"))
		json_object_set_new(c, "iss", json_string(issuer));
	/* Why: ALB's x-amzn-oidc-data segments are base64url *with* '='
	 * padding (a known ALB quirk; AWS's samples decode it with PyJWT). */
	b64_json(out, h);
	buf_append(out, ".", 1);
	b64_json(out, c);
	json_decref(h);
	json_decref(c);
	return 0;
}

int auth_claims_sub(const char *claims, struct buf *out)
{
	json_t *c = json_loads(claims, 0, NULL);
	json_t *sub = c ? json_object_get(c, "sub") : NULL;
	int rc = -1;

	buf_reset(out);
	if (json_is_string(sub)) {
		buf_append(out, json_string_value(sub), strlen(json_string_value(sub)) + 1);
		out->len--;
		rc = 0;
	}
	json_decref(c);
	return rc;
}

bool auth_id_token_nonce_ok(const char *id_token, const char *nonce)
{
	const char *dot1 = strchr(id_token, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	struct buf payload;
	json_t *j = NULL, *n;
	bool ok = false;

	buf_init(&payload, 0);
	if (dot2 && auth_b64url_decode(&payload, dot1 + 1, (size_t)(dot2 - dot1 - 1)) == 0 &&
	    (j = json_loadb(payload.p ? payload.p : "", payload.len, 0, NULL))) {
		n = json_object_get(j, "nonce");
		/* lb always sends a nonce, so the claim must be there and equal
		 * (OpenID Connect Core §3.1.3.7 step 11): a missing one is refused. */
		ok = json_is_string(n) && strcmp(json_string_value(n), nonce) == 0;
	}
	json_decref(j);
	buf_release(&payload);
	return ok;
}

bool auth_bearer_token_ok(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");

	while (n && s[n] == '=')
		n++;
	return n && s[n] == '\0';
}

bool auth_field_value_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return false;
	return true;
}

void auth_headers_apply(struct header_list *out, const struct http_header *add, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < out->n; i++) {
		if (!sv_starts_with_nocase(out->v[i].name, "x-amzn-oidc-"))
			out->v[k++] = out->v[i];
	}
	out->n = k;
	for (size_t i = 0; i < n; i++)
		header_list_add(out, add[i].name, add[i].value);
}
