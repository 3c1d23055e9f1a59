/* Fuzzes what a client controls in the authenticate actions before any
 * decryption: the input is a Cookie header value (up to the first NUL) and a
 * callback query string (after it). The session shards are joined, the value
 * decoded as base64url, and the decoded bytes read as a session and as a login
 * state (as they would be once opened); the query's state, code and error are
 * read as form values. Whatever the bytes, each returns 0 or -1 and leaks
 * nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alb/auth_oidc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	const char *p = (const char *)data, *nul = memchr(p, '\0', n);
	size_t cn = nul ? (size_t)(nul - p) : n;
	struct sv query = nul ? (struct sv){ nul + 1, n - cn - 1 } : SV_NULL;
	struct http_request req;
	struct buf joined = BUF_INIT, raw = BUF_INIT, mem = BUF_INIT, url = BUF_INIT;
	struct auth_session s;
	struct auth_state st;
	int k;

	http_request_init(&req);
	http_request_set_target(&req, SV("/"));
	http_request_add_header(&req, SV("Cookie"), (struct sv){ p, cn });
	k = auth_cookie_join(&req, "AWSELBAuthSessionCookie", &joined);
	if (k < 0 || k > AUTH_SHARDS_MAX)
		abort();
	if (auth_b64url_decode(&raw, joined.p ? joined.p : "", joined.len) == 0) {
		if (auth_session_read(raw.p ? raw.p : "", raw.len, &s, &mem) == 0 &&
		    (!s.access_token || !s.claims))
			abort();
		if (auth_state_read(raw.p ? raw.p : "", raw.len, &st, &url) == 0 && !st.url)
			abort();
		buf_reset(&mem);
		auth_claims_sub(raw.p ? raw.p : "", &mem);
	}
	auth_form_get(query, "state", &url);
	auth_form_get(query, "code", &url);
	auth_form_get(query, "error", &url);
	http_request_release(&req);
	buf_release(&joined);
	buf_release(&raw);
	buf_release(&mem);
	buf_release(&url);
	return 0;
}
