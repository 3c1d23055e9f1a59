/*
 * invoke_client: one Invoke API call on lb's HTTP client (keep-alive pools,
 * TLS with session reuse). The endpoint is the function's URL, or for
 * `endpoint: aws` https://lambda.REGION.amazonaws.com (or the URL in
 * AWS_ENDPOINT_URL_LAMBDA / AWS_ENDPOINT_URL, as the SDKs honour them), and
 * then the request is signed with SigV4 with the standard credential chain
 * (aws_env). The host name is resolved synchronously, at most once a minute.
 *
 * Outcomes: a refused or failed connection (TLS included), or no byte for the
 * function's timeout plus a grace period, is INVOKE_UNREACHABLE (ALB: 504);
 * 429 is INVOKE_THROTTLED; another error status is INVOKE_REJECTED with the
 * endpoint's x-amzn-ErrorType; 200 is a result or, with X-Amz-Function-Error
 * (or the emulator's error body), a function error. No call is retried: a
 * retried RequestResponse invocation may run the function twice.
 */
#include "lambda/invoke_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <jansson.h>

#include "alb/sigv4.h"
#include "base/base64.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/sha256.h"
#include "base/util.h"
#include "lambda/aws_env.h"
#include "net/http_client.h"

/* Time beyond the function's timeout an endpoint gets to answer. */
#define GRACE_SECONDS 2
/* ALB's connect timeout toward targets. */
#define CONNECT_SECONDS 10
/* Past Lambda's 6 MB result limit: an answer this big is not an Invoke answer. */
#define ANSWER_MAX (16 * 1024 * 1024)

struct invoke_client {
	struct http_exchange *x;
	struct event *defer;           /* reports a failure found before any I/O */
	invoke_client_done_fn done;
	void *cookie;
	int status;
	bool has_function_error;
	bool delivered;                /* the request reached the endpoint: the function may have run */
	struct buf body;
	struct buf version, log_b64, error_type, log;  /* header values lb reads, the decoded log */
	char *name;
	char defer_why[512];
	enum invoke_status defer_status;
};

static const struct http_exchange_cbs exchange_cbs;

enum invoke_status invoke_client_classify(const char *body, size_t n, bool has_function_error)
{
	static const char timed_out[] = "Task timed out after";
	json_t *doc;
	enum invoke_status st = INVOKE_OK;

	if (has_function_error)
		return INVOKE_FUNCTION_ERROR;
	if (n >= sizeof(timed_out) - 1 && memcmp(body, timed_out, sizeof(timed_out) - 1) == 0)
		return INVOKE_TIMEOUT;
	/* As SAM CLI does: an object with errorMessage and errorType is an error. */
	doc = json_loadb(body, n, 0, NULL);
	if (json_is_object(doc) && json_is_string(json_object_get(doc, "errorMessage")) &&
	    json_is_string(json_object_get(doc, "errorType")) && !json_object_get(doc, "statusCode"))
		st = INVOKE_FUNCTION_ERROR;
	json_decref(doc);
	return st;
}

static void finish(struct invoke_client *c, enum invoke_status status, const char *body, size_t n,
		   const char *error_type)
{
	c->x = NULL;     /* the client frees the exchange after its callback */
	c->done(c->cookie, status, body, n, error_type);
	invoke_client_free(c);
}

static void fail(struct invoke_client *c, const char *why)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "{\"errorMessage\":\"%s\",\"errorType\":\"LambdaConnectionError\"}", why);

	log_warn("function %s: endpoint %s", c->name, why);
	finish(c, INVOKE_UNREACHABLE, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1,
	       "LambdaConnectionError");
}

/* --- the answer ------------------------------------------------------------------- */

static void keep_header(struct buf *b, const struct http_reply *r, const char *name)
{
	const struct http_header *h = http_header_find(r->headers, r->nheaders, name);

	buf_reset(b);
	if (h)
		buf_append(b, h->value.p, h->value.n);   /* capped: the rest is dropped */
}

static void on_head(void *cookie, struct http_reply *reply)
{
	struct invoke_client *c = cookie;

	c->status = reply->status;
	c->has_function_error = http_header_find(reply->headers, reply->nheaders, "x-amz-function-error") != NULL;
	keep_header(&c->version, reply, "x-amz-executed-version");
	keep_header(&c->log_b64, reply, "x-amz-log-result");
	keep_header(&c->error_type, reply, "x-amzn-errortype");
}

static void on_body(void *cookie, const char *p, size_t n)
{
	struct invoke_client *c = cookie;

	if (buf_append(&c->body, p, n) < 0 && c->x) {
		struct http_exchange *x = c->x;
		c->x = NULL;
		http_exchange_cancel(x);
		c->delivered = true;
		fail(c, "sent an answer over 16 MB");
	}
}

static void on_end(void *cookie)
{
	struct invoke_client *c = cookie;
	const char *body = buf_cstr(&c->body);
	int status = c->status;

	if (status < 200 || status > 299) {
		/* An AWS service error: "ResourceNotFoundException", or
		 * "InvalidSignatureException:http://internal.amazon.com/..." (§3.4). */
		size_t tn = strcspn(buf_cstr(&c->error_type), ":");
		char type[128];

		if (tn)
			snprintf(type, sizeof(type), "%.*s", (int)tn, c->error_type.p);
		else
			snprintf(type, sizeof(type), "%s", status == 429 ? "TooManyRequestsException"
								 : "ServiceException");
		if (status == 429) {
			finish(c, INVOKE_THROTTLED, body, c->body.len, type);
			return;
		}
		log_warn("function %s: endpoint answered %d: %.300s", c->name, status, body);
		finish(c, INVOKE_REJECTED, body, c->body.len, type);
		return;
	}
	finish(c, invoke_client_classify(body, c->body.len, c->has_function_error), body, c->body.len,
	       c->has_function_error ? "Unhandled" : NULL);
}

static void on_error(void *cookie, enum http_client_error e)
{
	static const char *const why[] = {
		[HTTP_CLIENT_REFUSED] = "refused the connection",
		[HTTP_CLIENT_CONNECT_TIMEOUT] = "did not accept the connection in time",
		[HTTP_CLIENT_CLOSED] = "closed the connection without an answer",
		[HTTP_CLIENT_TIMEOUT] = "did not answer in time",
		[HTTP_CLIENT_MALFORMED] = "sent a malformed answer",
		[HTTP_CLIENT_TLS] = "failed the TLS handshake",
	};
	struct invoke_client *c = cookie;

	/* Past the connection the request was sent: the function may have run. */
	c->delivered = e == HTTP_CLIENT_CLOSED || e == HTTP_CLIENT_TIMEOUT || e == HTTP_CLIENT_MALFORMED;
	fail(c, why[e]);
}

static const struct http_exchange_cbs exchange_cbs = { on_head, on_body, on_end, on_error, NULL };

static void on_deferred(evutil_socket_t fd, short what, void *arg)
{
	struct invoke_client *c = arg;

	(void)fd;
	(void)what;
	if (c->defer_status == INVOKE_REJECTED) {
		char msg[700];
		int n = snprintf(msg, sizeof(msg), "{\"errorMessage\":\"%s\",\"errorType\":\"CredentialsNotFound\"}",
				 c->defer_why);
		log_warn("function %s: %s", c->name, c->defer_why);
		finish(c, INVOKE_REJECTED, msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1,
		       "CredentialsNotFound");
		return;
	}
	fail(c, c->defer_why);
}

/* --- the request ------------------------------------------------------------------ */

struct endpoint {
	bool tls;
	char host[256];
	int port;
	char prefix[512];        /* a path the Invoke paths go under ("" for none) */
	char region[64];         /* aws: the region signed for */
	bool sign;
};

/* Splits "http[s]://host[:port][/prefix]". */
static int parse_url(const char *url, struct endpoint *ep)
{
	const char *p, *slash, *colon, *hend;

	ep->tls = strncmp(url, "https://", 8) == 0;
	if (!ep->tls && strncmp(url, "http://", 7) != 0)
		return -1;
	p = url + (ep->tls ? 8 : 7);
	slash = p + strcspn(p, "/");
	if (*p == '[') {
		const char *close = memchr(p, ']', (size_t)(slash - p));
		if (!close)
			return -1;
		snprintf(ep->host, sizeof(ep->host), "%.*s", (int)(close - p - 1), p + 1);
		hend = close + 1;
	} else {
		colon = memchr(p, ':', (size_t)(slash - p));
		hend = colon ? colon : slash;
		snprintf(ep->host, sizeof(ep->host), "%.*s", (int)(hend - p), p);
	}
	ep->port = *hend == ':' ? atoi(hend + 1) : ep->tls ? 443 : 80;
	snprintf(ep->prefix, sizeof(ep->prefix), "%s", slash);
	/* "http://host/" has no prefix: the Invoke path brings its own slash. */
	if (strcmp(ep->prefix, "/") == 0)
		ep->prefix[0] = '\0';
	return ep->host[0] && ep->port > 0 && ep->port < 65536 ? 0 : -1;
}

/* arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER] names its region. */
static bool arn_region(const char *name, char *out, size_t n)
{
	const char *r;

	if (strncmp(name, "arn:", 4) != 0 || !(r = strchr(name + 4, ':')) || !(r = strchr(r + 1, ':')))
		return false;
	r++;
	snprintf(out, n, "%.*s", (int)strcspn(r, ":"), r);
	return out[0] != '\0';
}

/* `endpoint: aws`: the region (given, the ARN's, the SDK chain's, the load balancer's) and URL. */
static int aws_endpoint(const struct function_cfg *fn, const struct aws_creds *creds, const char *default_region,
			struct endpoint *ep)
{
	const char *override = aws_env_endpoint_url();
	char url[300];

	if (fn->region)
		snprintf(ep->region, sizeof(ep->region), "%s", fn->region);
	else if (!arn_region(fn->remote_name, ep->region, sizeof(ep->region)))
		snprintf(ep->region, sizeof(ep->region), "%s", creds->region ? creds->region : default_region);
	/* China's partition has its own DNS suffix (aws-integration.md §3.3). */
	snprintf(url, sizeof(url), "https://lambda.%s.amazonaws.com%s", ep->region,
		 strncmp(ep->region, "cn-", 3) == 0 ? ".cn" : "");
	ep->sign = true;
	return parse_url(override ? override : url, ep);
}

/* Host header value: the port only when not the scheme's default. */
static void host_value(char *out, size_t n, const struct endpoint *ep)
{
	bool v6 = strchr(ep->host, ':') != NULL;

	if (ep->port == (ep->tls ? 443 : 80))
		snprintf(out, n, v6 ? "[%s]" : "%s", ep->host);
	else
		snprintf(out, n, v6 ? "[%s]:%d" : "%s:%d", ep->host, ep->port);
}

static void build_head(struct buf *head, const struct function_cfg *fn, const char *qualifier,
		       const struct endpoint *ep, const struct aws_creds *creds, size_t len, const char *payload,
		       const char *trace_id, const char *client_context, bool log_tail)
{
	struct buf path = BUF_INIT, query = BUF_INIT, context = BUF_INIT;
	char host[300];

	/* The SDKs UriEncode the FunctionName label: "name:alias" travels as "name%3Aalias". */
	buf_printf(&path, "%s/2015-03-31/functions/", ep->prefix);
	sigv4_uri_encode(&path, sv_from(fn->remote_name));
	buf_puts(&path, "/invocations");
	if (qualifier) {
		buf_puts(&query, "Qualifier=");
		sigv4_uri_encode(&query, sv_from(qualifier));
	}
	host_value(host, sizeof(host), ep);
	buf_printf(head, "POST %s%s%s HTTP/1.1\r\nHost: %s\r\n", buf_cstr(&path), query.len ? "?" : "",
		   buf_cstr(&query), host);
	buf_puts(head, "X-Amz-Invocation-Type: RequestResponse\r\n");
	if (log_tail)
		buf_puts(head, "X-Amz-Log-Type: Tail\r\n");
	/* The invocation's client context goes on as it came: base64 of the JSON
	 * (the same bytes, as lb's decoding is strict). */
	if (client_context) {
		base64_encode_buf(client_context, strlen(client_context), &context);
		buf_printf(head, "X-Amz-Client-Context: %s\r\n", buf_cstr(&context));
	}
	if (ep->sign) {
		char date[17], hash[65];
		struct sigv4_header h[6] = { { SV("host"), sv_from(host) },
					     { SV("x-amz-invocation-type"), SV("RequestResponse") } };
		size_t nh = 2;
		struct sigv4_result res = { BUF_INIT, BUF_INIT, BUF_INIT, "" };

		sigv4_amz_date((int64_t)time(NULL), date);
		sha256_hex(payload, len, hash);
		h[nh++] = (struct sigv4_header){ SV("x-amz-date"), sv_from(date) };
		if (log_tail)
			h[nh++] = (struct sigv4_header){ SV("x-amz-log-type"), SV("Tail") };
		/* An x-amz-* header, so signed, as botocore does (§1.12 vector D). */
		if (client_context)
			h[nh++] = (struct sigv4_header){ SV("x-amz-client-context"), { context.p, context.len } };
		/* Temporary credentials: the token is signed, as the SDKs do (§1.10). */
		if (creds->session_token)
			h[nh++] = (struct sigv4_header){ SV("x-amz-security-token"), sv_from(creds->session_token) };
		struct sigv4_request r = { SV("POST"), { path.p, path.len }, { buf_cstr(&query), query.len }, h, nh, hash };
		struct sigv4_credentials kc = { creds->access_key, creds->secret_key };
		struct sigv4_scope scope = { date, ep->region, "lambda" };

		sigv4_sign(&r, &kc, &scope, &res);
		buf_printf(head, "X-Amz-Date: %s\r\n", date);
		if (creds->session_token)
			buf_printf(head, "X-Amz-Security-Token: %s\r\n", creds->session_token);
		buf_printf(head, "Authorization: %s\r\n", buf_cstr(&res.authz));
		log_debug("function %s: canonical request:\n%s", fn->name, buf_cstr(&res.creq));
		sigv4_result_release(&res);
	}
	/* Not signed: the SDKs never sign the trace header (botocore's list, §1.5). */
	buf_printf(head, "X-Amzn-Trace-Id: %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
		   trace_id, len);
	buf_release(&path);
	buf_release(&query);
	buf_release(&context);
}

static struct invoke_client *defer_fail(struct invoke_client *c, struct event_base *base, enum invoke_status st)
{
	c->defer_status = st;
	c->defer = event_new(base, -1, 0, on_deferred, c);
	event_active(c->defer, EV_TIMEOUT, 0);
	return c;
}

struct invoke_client *invoke_client_start(struct event_base *base, struct http_client *hc,
					  const char *default_region, const struct function_cfg *fn,
					  const char *qualifier, const char *payload, size_t len,
					  const char *trace_id, const char *client_context, bool log_tail,
					  invoke_client_done_fn done, void *cookie)
{
	struct invoke_client *c = xcalloc(1, sizeof(*c));
	struct endpoint ep = { 0 };
	struct aws_creds creds = { 0 };
	struct http_origin origin;
	struct buf head = BUF_INIT;
	struct http_exchange_opts opt = { .connect_timeout = CONNECT_SECONDS,
					  .idle_timeout = fn->latest.timeout + GRACE_SECONDS };

	c->done = done;
	c->cookie = cookie;
	c->name = xstrdup(fn->name);
	buf_init(&c->body, ANSWER_MAX);
	buf_init(&c->version, 128);
	buf_init(&c->log_b64, 8192);
	buf_init(&c->error_type, 128);
	buf_init(&c->log, 0);
	if (strcmp(fn->endpoint, "aws") == 0) {
		struct buf why = BUF_INIT;
		int rc = aws_env_credentials(&creds, &why);

		snprintf(c->defer_why, sizeof(c->defer_why), "%s", buf_cstr(&why));
		buf_release(&why);
		if (rc < 0) {
			aws_creds_release(&creds);
			return defer_fail(c, base, INVOKE_REJECTED);
		}
		if (aws_endpoint(fn, &creds, default_region, &ep) < 0) {
			snprintf(c->defer_why, sizeof(c->defer_why), "has a bad AWS_ENDPOINT_URL");
			aws_creds_release(&creds);
			return defer_fail(c, base, INVOKE_UNREACHABLE);
		}
	} else if (parse_url(fn->endpoint, &ep) < 0) {
		snprintf(c->defer_why, sizeof(c->defer_why), "has a bad URL");
		return defer_fail(c, base, INVOKE_UNREACHABLE);
	}
	if (http_client_resolve(hc, &origin, ep.host, ep.port) < 0) {
		snprintf(c->defer_why, sizeof(c->defer_why), "cannot resolve '%s'", ep.host);
		aws_creds_release(&creds);
		return defer_fail(c, base, INVOKE_UNREACHABLE);
	}
	build_head(&head, fn, qualifier, &ep, &creds, len, payload, trace_id, client_context, log_tail);
	aws_creds_release(&creds);
	/* https://: verified against the trust store and the host name, with SNI. */
	opt.tls = ep.tls;
	opt.tls_host = ep.host;
	c->x = http_client_start(hc, &origin, head.p, head.len, &opt, &exchange_cbs, c);
	http_exchange_send(c->x, payload, len);
	http_exchange_request_done(c->x);
	buf_release(&head);
	return c;
}

int invoke_client_http_status(struct invoke_client *c)
{
	return c->status;
}

bool invoke_client_delivered(const struct invoke_client *c)
{
	return c->delivered;
}

const char *invoke_client_executed_version(const struct invoke_client *c)
{
	return c->version.len ? buf_cstr(&c->version) : NULL;
}

struct sv invoke_client_log_tail(struct invoke_client *c)
{
	buf_reset(&c->log);
	if (c->log_b64.len && base64_decode(c->log_b64.p, c->log_b64.len, &c->log) < 0)
		buf_reset(&c->log);
	return (struct sv){ buf_cstr(&c->log), c->log.len };
}

void invoke_client_free(struct invoke_client *c)
{
	if (!c)
		return;
	http_exchange_cancel(c->x);
	if (c->defer)
		event_free(c->defer);
	buf_release(&c->body);
	buf_release(&c->version);
	buf_release(&c->log_b64);
	buf_release(&c->error_type);
	buf_release(&c->log);
	free(c->name);
	free(c);
}
