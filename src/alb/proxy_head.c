/* proxy_head: request and answer heads across the proxy, without I/O. */
#include "alb/proxy_head.h"

#include <stdio.h>
#include <string.h>

static const char *const hop_by_hop[] = {
	"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
};

/* Whether name appears in a Connection header's comma-separated list. */
static bool listed_in_connection(struct sv name, const struct http_header *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct sv rest = h[i].value, token;

		if (!sv_eq_cstr_nocase(h[i].name, "connection"))
			continue;
		while (rest.p) {
			rest = sv_cut(rest, ',', &token);
			if (sv_eq_nocase(sv_trim(token), name))
				return true;
		}
	}
	return false;
}

bool proxy_hop_by_hop(struct sv name, const struct http_header *h, size_t n)
{
	for (size_t i = 0; i < ARRAY_LEN(hop_by_hop); i++)
		if (sv_eq_cstr_nocase(name, hop_by_hop[i]))
			return true;
	return listed_in_connection(name, h, n);
}

bool proxy_is_websocket(const struct http_request *req)
{
	const struct http_header *up = http_request_header(req, "upgrade");

	return up && sv_eq_cstr_nocase(sv_trim(up->value), "websocket");
}

static void put_header(struct buf *out, struct sv name, struct sv value)
{
	buf_append(out, name.p, name.n);
	buf_puts(out, ": ");
	buf_append(out, value.p, value.n);
	buf_puts(out, "\r\n");
}

/* The request-target in origin form: an absolute-form target loses its
 * scheme and authority (its empty path is "/"); the fragment never goes. */
static void put_target(struct buf *out, const struct http_request *req)
{
	if (!req->uri_host.n) {
		buf_append(out, req->target.p, req->target.n);
		return;
	}
	buf_append(out, req->path.p, req->path.n);
	if (req->has_query) {
		buf_putc(out, '?');
		buf_append(out, req->query.p, req->query.n);
	}
}

void proxy_request_head(struct buf *out, const struct http_request *req, const struct header_list *fwd,
			struct sv default_host, bool preserve_host)
{
	bool websocket = proxy_is_websocket(req), has_host = false;

	buf_append(out, req->method.p, req->method.n);
	buf_putc(out, ' ');
	put_target(out, req);
	buf_puts(out, " HTTP/1.1\r\n");
	for (size_t i = 0; i < fwd->n; i++) {
		const struct http_header *h = &fwd->v[i];

		if (sv_eq_cstr_nocase(h->name, "content-length") ||
		    proxy_hop_by_hop(h->name, req->headers, req->nheaders)) {
			if (!(websocket && sv_eq_cstr_nocase(h->name, "upgrade")))
				continue;
		}
		if (sv_eq_cstr_nocase(h->name, "host")) {
			has_host = true;
			if (!preserve_host) {
				/* ALB lower-cases host names toward targets
				 * (alb-http-targets-and-tls.md §1.4, "HTTP headers"). */
				buf_append(out, h->name.p, h->name.n);
				buf_puts(out, ": ");
				for (size_t k = 0; k < h->value.n; k++)
					buf_putc(out, ascii_lower(h->value.p[k]));
				buf_puts(out, "\r\n");
				continue;
			}
		}
		put_header(out, h->name, h->value);
	}
	/* ALB gives an HTTP/1.0 request without Host one naming the load
	 * balancer, since HTTP/1.1 toward the target needs it (§1.3). */
	if (!has_host)
		put_header(out, SV("Host"), default_host);
	if (req->framing == HTTP_FRAMING_CHUNKED)
		buf_puts(out, "Transfer-Encoding: chunked\r\n");
	else if (req->framing == HTTP_FRAMING_LENGTH)
		buf_printf(out, "Content-Length: %llu\r\n", (unsigned long long)req->content_length);
	if (websocket)
		buf_puts(out, "Connection: Upgrade\r\n");
	buf_puts(out, "\r\n");
}

void proxy_response_headers(const struct http_reply *reply, struct header_list *out)
{
	header_list_reset(out);
	for (size_t i = 0; i < reply->nheaders; i++) {
		const struct http_header *h = &reply->headers[i];

		if (proxy_hop_by_hop(h->name, reply->headers, reply->nheaders)) {
			/* A switch of protocols names the new one to the client. */
			bool keep = reply->upgrade && (sv_eq_cstr_nocase(h->name, "upgrade") ||
						       sv_eq_cstr_nocase(h->name, "connection"));
			if (!keep)
				continue;
		}
		header_list_add(out, h->name, h->value);
	}
}
