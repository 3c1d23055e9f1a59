/*
 * fwd_headers: the header list ALB sends toward a target
 * (alb-http-targets-and-tls.md §1.4, alb-listener-rules.md §4.1).
 *
 * The request's headers keep their order and their names' case; lb changes
 * only what ALB changes: Host is rewritten where the first one was, the
 * X-Forwarded-For headers become one where the first one was, the client's
 * X-Forwarded-Proto, X-Forwarded-Port, X-Amzn-Trace-Id and Expect go, and
 * ALB's own X-Forwarded-Proto, X-Forwarded-Port and X-Amzn-Trace-Id follow
 * the request's headers, the trace id last. Where ALB puts the headers it
 * adds is unverified (§1.4's worked example); this order matches that
 * example, and keeping X-Forwarded-For where the client had it is lb's choice.
 *
 * Memory: a header that passes unchanged is a view into the request. Every
 * value lb makes is written into out->mem first, recorded as an offset, and
 * only then turned into a view: mem may move while it grows, but not after
 * the last value is in it.
 */
#include "alb/fwd_headers.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void header_list_init(struct header_list *l)
{
	l->v = NULL;
	l->n = l->cap = 0;
	buf_init(&l->mem, 0);
}

void header_list_reset(struct header_list *l)
{
	l->n = 0;
	buf_reset(&l->mem);
}

void header_list_release(struct header_list *l)
{
	free(l->v);
	buf_release(&l->mem);
	header_list_init(l);
}

void header_list_add(struct header_list *l, struct sv name, struct sv value)
{
	xgrow(&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = (struct http_header){ name, value };
}

/* The names fwd_headers treats apart from the others. */
enum fwd_name {
	FWD_OTHER,      /* passes on */
	FWD_HOST,       /* rewritten unless preserve_host_header */
	FWD_XFF,        /* X-Forwarded-For: the xff mode decides */
	FWD_CONSUMED,   /* never passes on: is_consumed below */
};

/*
 * Which of them name is, in any case. Every header of every request passes
 * here, so its length picks the one or two names it can be before a byte
 * is compared, rather than comparing it with all six in turn.
 *
 * Headers ALB never passes on from the client (FWD_CONSUMED): it sets its
 * own X-Forwarded-Proto, X-Forwarded-Port and X-Amzn-Trace-Id, and answers
 * Expect itself (§1.4, §1.6). That ALB replaces a client's
 * X-Forwarded-Proto/-Port is unverified (§1.4).
 */
static enum fwd_name fwd_name_of(struct sv name)
{
	switch (name.n) {
	case 4:
		return sv_eq_cstr_nocase(name, "host") ? FWD_HOST : FWD_OTHER;
	case 6:
		return sv_eq_cstr_nocase(name, "expect") ? FWD_CONSUMED : FWD_OTHER;
	case 15:
		if (sv_eq_cstr_nocase(name, "x-forwarded-for"))
			return FWD_XFF;
		return sv_eq_cstr_nocase(name, "x-amzn-trace-id") ? FWD_CONSUMED : FWD_OTHER;
	case 16:
		return sv_eq_cstr_nocase(name, "x-forwarded-port") ? FWD_CONSUMED : FWD_OTHER;
	case 17:
		return sv_eq_cstr_nocase(name, "x-forwarded-proto") ? FWD_CONSUMED : FWD_OTHER;
	default:
		return FWD_OTHER;
	}
}

static bool is_xff(struct sv name)
{
	return name.n == 15 && sv_eq_cstr_nocase(name, "x-forwarded-for");
}

/* ALB's 463 limit counts addresses: non-empty comma-separated entries. */
size_t fwd_xff_count(const struct http_request *req)
{
	size_t n = 0;

	for (size_t i = 0; i < req->nheaders; i++) {
		struct sv rest = req->headers[i].value, entry;

		if (!is_xff(req->headers[i].name))
			continue;
		while (rest.p) {
			rest = sv_cut(rest, ',', &entry);
			n += sv_trim(entry).n > 0;
		}
	}
	return n;
}

/* A value lb built in out->mem: an offset, because mem may still move. */
struct fwd_value {
	bool set;       /* built: the header goes out */
	bool placed;    /* already in the list */
	size_t off, n;
};

/* What lb adds or rewrites for one request, built before the list itself. */
struct fwd_values {
	struct fwd_value host, xff, port, trace;
};

static void value_begin(struct header_list *out, struct fwd_value *v)
{
	v->set = true;
	v->off = out->mem.len;
}

static void value_end(struct header_list *out, struct fwd_value *v)
{
	v->n = out->mem.len - v->off;
}

static struct sv value_view(const struct header_list *out, struct fwd_value v)
{
	return (struct sv){ out->mem.p + v.off, v.n };
}

/* The port the client wrote after http_request_host's host ("" if none),
 * found in the text that host came from. */
static struct sv host_port(const struct http_request *req, struct sv host)
{
	struct sv src = req->uri_host.n ? req->uri_host : http_request_header(req, "host")->value;
	const char *end = src.p + src.n, *after = host.p + host.n;

	if (after < end && *after == ':')
		return (struct sv){ after + 1, (size_t)(end - after - 1) };
	return SV_NULL;
}

/*
 * Host with preserve_host_header off (§1.4; alb-listener-rules.md §4.1): on
 * listener port 80 or 443 any port is removed; on another port the client's
 * port stays and ":<listener port>" is added when it sent none. The name
 * keeps its case: AWS's guide says ALB lower-cases it, but real Lambda events
 * carry mixed-case hosts (alb-lambda-targets.md §1.10 C and D), and Lambda
 * targets are what lb serves. An empty Host stays empty (lb's choice).
 */
static void build_host(const struct http_request *req, struct sv host, struct header_list *out,
		       struct fwd_value *v)
{
	struct sv port = host_port(req, host);

	value_begin(out, v);
	buf_append(&out->mem, host.p, host.n);
	if (host.n && req->local_port != 80 && req->local_port != 443) {
		if (port.n) {
			buf_putc(&out->mem, ':');
			buf_append(&out->mem, port.p, port.n);
		} else {
			buf_printf(&out->mem, ":%u", (unsigned)req->local_port);
		}
	}
	value_end(out, v);
}

/*
 * X-Forwarded-For in append mode (§1.4): ALB appends ", <client>" to the
 * existing value, as the client wrote it; several incoming headers are
 * joined with ", " first, and empty ones skipped. With xff_client_port the
 * client is "ip:port", or "[v6]:port" (the only form with brackets).
 */
static void build_xff(const struct http_request *req, bool client_port, struct header_list *out,
		      struct fwd_value *v)
{
	value_begin(out, v);
	for (size_t i = 0; i < req->nheaders; i++) {
		struct sv value = sv_trim(req->headers[i].value);

		if (!is_xff(req->headers[i].name) || !value.n)
			continue;
		buf_append(&out->mem, value.p, value.n);
		buf_puts(&out->mem, ", ");
	}
	if (!client_port)
		buf_puts(&out->mem, req->peer_ip);
	else if (req->peer_family == AF_INET6)
		buf_printf(&out->mem, "[%s]:%u", req->peer_ip, (unsigned)req->peer_port);
	else
		buf_printf(&out->mem, "%s:%u", req->peer_ip, (unsigned)req->peer_port);
	value_end(out, v);
}

static void build_values(const struct http_request *req, const struct lb_attributes *attrs,
			 struct sv trace_id, struct header_list *out, struct fwd_values *vals)
{
	/* The host of an absolute-form target, else of the first Host header. */
	struct sv host = http_request_host(req);

	memset(vals, 0, sizeof(*vals));
	if (!attrs->preserve_host && host.p)
		build_host(req, host, out, &vals->host);
	if (attrs->xff_mode == XFF_APPEND)
		build_xff(req, attrs->xff_client_port, out, &vals->xff);
	value_begin(out, &vals->port);
	buf_printf(&out->mem, "%u", (unsigned)req->local_port);
	value_end(out, &vals->port);
	value_begin(out, &vals->trace);
	buf_append(&out->mem, trace_id.p, trace_id.n);
	value_end(out, &vals->trace);
}

/* RFC 9110 tokens are wider; ALB's rule is [-A-Za-z0-9]+ (§1.4). */
static bool name_is_valid(struct sv name)
{
	for (size_t i = 0; i < name.n; i++) {
		char c = ascii_lower(name.p[i]);
		if (!(c == '-' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return false;
	}
	return name.n > 0;
}

/* Puts a value lb built in place of the first header it replaces; later
 * ones are dropped. */
static void place_once(struct header_list *out, struct sv name, struct fwd_value *v)
{
	if (!v->placed)
		header_list_add(out, name, value_view(out, *v));
	v->placed = true;
}

static void forward_header(const struct http_header *h, const struct lb_attributes *attrs,
			   struct fwd_values *vals, struct header_list *out)
{
	enum fwd_name kind = fwd_name_of(h->name);

	if ((attrs->drop_invalid_headers && !name_is_valid(h->name)) || kind == FWD_CONSUMED)
		return;
	if (!attrs->preserve_host && kind == FWD_HOST) {
		place_once(out, SV("Host"), &vals->host);
		return;
	}
	if (kind != FWD_XFF) {
		header_list_add(out, h->name, h->value);
		return;
	}
	switch (attrs->xff_mode) {
	case XFF_APPEND:
		place_once(out, SV("X-Forwarded-For"), &vals->xff);
		break;
	case XFF_PRESERVE:
		header_list_add(out, h->name, h->value);
		break;
	case XFF_REMOVE:
		break;
	}
}

void fwd_headers_build(const struct http_request *req, const struct lb_attributes *attrs,
		       struct sv trace_id, struct header_list *out)
{
	struct fwd_values vals;

	header_list_reset(out);
	build_values(req, attrs, trace_id, out, &vals);
	for (size_t i = 0; i < req->nheaders; i++)
		forward_header(&req->headers[i], attrs, &vals, out);
	/* An absolute-form request without a Host header still gets one; a
	 * request without any X-Forwarded-For gets one in append mode. */
	if (vals.host.set)
		place_once(out, SV("Host"), &vals.host);
	if (vals.xff.set)
		place_once(out, SV("X-Forwarded-For"), &vals.xff);
	header_list_add(out, SV("X-Forwarded-Proto"), req->https ? SV("https") : SV("http"));
	header_list_add(out, SV("X-Forwarded-Port"), value_view(out, vals.port));
	header_list_add(out, SV("X-Amzn-Trace-Id"), value_view(out, vals.trace));
}
