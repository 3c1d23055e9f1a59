/*
 * alb_result: a Lambda function's result document → the response ALB sends,
 * or the reason ALB answers 502 instead (alb-lambda-targets.md §2,
 * DESIGN.md §6).
 *
 * Validation follows the rule the evidence supports (§2.3): statusCode must
 * be an integer in 100–599, every other known key that is present must have
 * its JSON type, and null is never a right type. Anything else is
 * LambdaInvalidResponse; a document over ALB_RESULT_MAX bytes is
 * LambdaResponseTooLarge before it is parsed.
 *
 * Memory: the struct is reused for every invocation a sandbox serves, so
 * reset keeps its memory. Everything in it outlives the jansson document:
 * header names and values are copied into headers.mem while the document is
 * walked, each header recorded as a view with a NULL pointer and only its
 * length, and the reason and content type follow them. mem may move while it
 * grows, so the pointers are set in one pass at the end (fixup), once
 * nothing more is appended. The body is decoded into r->body.
 */
#include "alb/alb_result.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "base/util.h"

void alb_result_init(struct alb_result *r)
{
	memset(r, 0, sizeof(*r));
	header_list_init(&r->headers);
	buf_init(&r->body, 0);
}

void alb_result_reset(struct alb_result *r)
{
	r->status = 0;
	r->reason = r->content_type = SV_NULL;
	header_list_reset(&r->headers);
	r->has_date = false;
	buf_reset(&r->body);
	r->error_reason = NULL;
	r->detail[0] = '\0';
}

void alb_result_release(struct alb_result *r)
{
	header_list_release(&r->headers);
	buf_release(&r->body);
	alb_result_init(r);
}

__attribute__((format(printf, 3, 4)))
static int fail(struct alb_result *r, const char *reason, const char *fmt, ...)
{
	va_list ap;

	r->error_reason = reason;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
	return -1;
}

#define INVALID(r, ...) fail(r, "LambdaInvalidResponse", __VA_ARGS__)

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		break;
	}
	return "null";
}

/* ---- shape ---- */

/*
 * Optional keys and their types. A wrong type, null included, is a 502
 * (§2.3: body null, headers null, statusDescription null and
 * multiValueHeaders null are all reported; a string isBase64Encoded or a
 * non-string body is unverified and follows the same rule, §7). Both header
 * fields are checked whatever the mode: the reported nulls were in the field
 * the mode ignores (aws-lambda-go-api-proxy#79, aws-lambda-go#529). Keys
 * not listed here are ignored (unverified, §6 q8).
 */
static const struct field {
	const char *key;
	json_type type;   /* JSON_TRUE stands for either boolean */
} fields[] = {
	{ "statusDescription", JSON_STRING },
	{ "headers", JSON_OBJECT },
	{ "multiValueHeaders", JSON_OBJECT },
	{ "body", JSON_STRING },
	{ "isBase64Encoded", JSON_TRUE },
};

static bool has_type(const json_t *v, json_type want)
{
	return want == JSON_TRUE ? json_is_boolean(v) : json_typeof(v) == want;
}

static int check_fields(struct alb_result *r, json_t *doc)
{
	for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
		json_t *v = json_object_get(doc, fields[i].key);

		if (v && !has_type(v, fields[i].type))
			return INVALID(r, "%s is %s", fields[i].key, type_name(v));
	}
	return 0;
}

/* statusCode is the one required key (§2.2; missing: Adyen#1249; a string:
 * apig-wsgi#52). A real such as 200.0 and codes outside 100–599 are
 * unverified (§2.3) and rejected: they are no HTTP status. */
static int parse_status(struct alb_result *r, json_t *doc)
{
	json_t *v = json_object_get(doc, "statusCode");
	json_int_t code;

	if (!v)
		return INVALID(r, "statusCode is missing");
	if (!json_is_integer(v))
		return INVALID(r, "statusCode is %s", type_name(v));
	code = json_integer_value(v);
	/* A 1xx is not a final answer: sending one would desynchronize the
	 * client's connection, so lb refuses it like any invalid status. */
	if (code < 200 || code > 599)
		return INVALID(r, "statusCode %" JSON_INTEGER_FORMAT " is outside 200-599", code);
	r->status = (int)code;
	return 0;
}

/* isBase64Encoded: ALB decodes the body (§2.1); MIME-style base64 with line
 * breaks is a 502 (serverless-java-container#339), so decoding is strict. */
static int parse_body(struct alb_result *r, json_t *doc)
{
	json_t *body = json_object_get(doc, "body");
	const char *s = body ? json_string_value(body) : "";
	size_t n = body ? json_string_length(body) : 0;

	if (!json_is_true(json_object_get(doc, "isBase64Encoded"))) {
		buf_append(&r->body, s, n);
		return 0;
	}
	if (base64_decode(s, n, &r->body) < 0)
		return INVALID(r, "body is not valid base64");
	return 0;
}

/* ---- headers ---- */

/* RFC 9110 §5.5: CR, LF and NUL in a field value are dangerous. */
static bool is_field_text(struct sv s)
{
	for (size_t i = 0; i < s.n; i++)
		if (s.p[i] == '\r' || s.p[i] == '\n' || s.p[i] == '\0')
			return false;
	return true;
}

/*
 * Headers the function may not set (§2.1, DOC S-LF: ALB ignores hop-by-hop
 * headers such as Connection and Transfer-Encoding and computes
 * Content-Length). Server: ALB always sends its own Server: awselb/2.0
 * (§2.5); whether a function's Server replaces it is unverified (§2.5, §6
 * q9), lb keeps ALB's.
 */
static bool is_dropped(struct sv name)
{
	static const char *const names[] = {
		"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
		"trailer", "upgrade", "content-length", "server",
	};

	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (sv_eq_cstr_nocase(name, names[i]))
			return true;
	return false;
}

/* A header name for r->detail: at most 40 bytes, anything but printable
 * ASCII shown as '?', so a function cannot break lb's log line. */
struct name_text {
	char s[48];
};

static struct name_text name_text(struct sv name)
{
	struct name_text t;
	size_t n = name.n > 40 ? 40 : name.n;

	for (size_t i = 0; i < n; i++)
		t.s[i] = name.p[i] > 0x20 && name.p[i] < 0x7f ? name.p[i] : '?';
	strcpy(t.s + n, name.n > n ? "..." : "");
	return t;
}

/* State of one walk over the header field of the mode. */
struct header_walk {
	struct alb_result *r;
	const char *field;    /* "headers" or "multiValueHeaders", for messages */
	struct sv ctype;      /* the first Content-Type, still in the document */
};

static struct sv json_sv(const json_t *s)
{
	return (struct sv){ json_string_value(s), json_string_length(s) };
}

/* One header line from the function: validated, then dropped, taken as the
 * content type, or copied into mem in order (views made at fixup). */
static int add_header(struct header_walk *w, struct sv name, const json_t *value)
{
	struct alb_result *r = w->r;
	struct sv v = json_sv(value);

	/* Unverified what ALB does with these (§2.3); lb cannot write them. */
	if (!sv_is_token(name))
		return INVALID(r, "%s name \"%s\" is not a token", w->field, name_text(name).s);
	if (!is_field_text(v))
		return INVALID(r, "%s \"%s\" has CR, LF or NUL in its value", w->field,
			       name_text(name).s);
	if (is_dropped(name))
		return 0;
	if (sv_eq_cstr_nocase(name, "content-type")) {
		/* ALB writes Content-Type in its own place in the head (§2.5
		 * captures). A second one is dropped: lb's choice. */
		if (!w->ctype.p)
			w->ctype = v;
		return 0;
	}
	/* A function's Date is kept in its position (§2.5, serverlessish#4). */
	if (sv_eq_cstr_nocase(name, "date"))
		r->has_date = true;
	xgrow(&r->headers.v, &r->headers.cap, r->headers.n + 1, sizeof(*r->headers.v));
	r->headers.v[r->headers.n++] = (struct http_header){ { NULL, name.n }, { NULL, v.n } };
	buf_append(&r->headers.mem, name.p, name.n);
	buf_append(&r->headers.mem, v.p, v.n);
	return 0;
}

/*
 * Single mode: each key of `headers` is one header line, so case variants
 * such as "set-cookie" and "Set-Cookie" both go out (§2.4, Mangum #189,
 * confirmed by AWS support). Values must be strings (§2.3: booleans and
 * numbers give 502).
 */
static int walk_single(struct header_walk *w, json_t *obj)
{
	for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
		struct sv name = { json_object_iter_key(it), json_object_iter_key_len(it) };
		json_t *v = json_object_iter_value(it);

		if (!json_is_string(v))
			return INVALID(w->r, "header \"%s\" is %s", name_text(name).s, type_name(v));
		if (add_header(w, name, v) < 0)
			return -1;
	}
	return 0;
}

/* Multi mode: each value of each key is its own line, in order (§2.4). */
static int walk_multi(struct header_walk *w, json_t *obj)
{
	for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
		struct sv name = { json_object_iter_key(it), json_object_iter_key_len(it) };
		json_t *arr = json_object_iter_value(it), *v;
		size_t i;

		if (!json_is_array(arr))
			return INVALID(w->r, "multiValueHeaders \"%s\" is %s", name_text(name).s,
				       type_name(arr));
		json_array_foreach(arr, i, v) {
			if (!json_is_string(v))
				return INVALID(w->r, "multiValueHeaders \"%s\" holds %s",
					       name_text(name).s, type_name(v));
			if (add_header(w, name, v) < 0)
				return -1;
		}
	}
	return 0;
}

/* Appends s to mem and returns its offset there. */
static size_t mem_put(struct buf *mem, struct sv s)
{
	size_t off = mem->len;

	buf_append(mem, s.p, s.n);
	return off;
}

/*
 * statusDescription "201 Created" gives the reason "Created": the text after
 * the first space (DOC S-LF at launch: code and phrase separated by one
 * space, §2.1). Whether ALB uses it at all is unverified (§2.2, §6 q1);
 * DESIGN.md §6 says it does. lb's choices: a description without a space is
 * the phrase itself; an empty phrase means the standard one; the code part
 * is not compared with statusCode.
 */
static int description_reason(struct alb_result *r, json_t *doc, struct sv *reason)
{
	json_t *v = json_object_get(doc, "statusDescription");
	struct sv desc = v ? json_sv(v) : SV_NULL, code;
	struct sv after = sv_cut(desc, ' ', &code);

	*reason = after.p ? after : desc;
	if (!is_field_text(*reason))
		return INVALID(r, "statusDescription has CR, LF or NUL");
	return 0;
}

static int parse_head(struct alb_result *r, json_t *doc, bool multi_value)
{
	struct header_walk w = { r, multi_value ? "multiValueHeaders" : "headers", SV_NULL };
	json_t *obj = json_object_get(doc, w.field);
	struct sv reason;
	size_t reason_off, ctype_off, off = 0;

	/* Only the field of the mode is read; the other is ignored (§2.4). */
	if (obj && (multi_value ? walk_multi(&w, obj) : walk_single(&w, obj)) < 0)
		return -1;
	if (description_reason(r, doc, &reason) < 0)
		return -1;

	/* Fixup: mem holds each header's name and value in order, then these two. */
	reason_off = mem_put(&r->headers.mem, reason);
	ctype_off = mem_put(&r->headers.mem, w.ctype);
	for (size_t i = 0; i < r->headers.n; i++) {
		struct http_header *h = &r->headers.v[i];

		h->name.p = r->headers.mem.p + off;
		off += h->name.n;
		h->value.p = r->headers.mem.p + off;
		off += h->value.n;
	}
	r->reason = (struct sv){ r->headers.mem.p + reason_off, reason.n };
	r->content_type = (struct sv){ r->headers.mem.p + ctype_off, w.ctype.n };
	return 0;
}

int alb_result_parse(struct alb_result *r, const char *doc, size_t len, bool multi_value)
{
	json_t *root = NULL;
	json_error_t jerr;
	int ret = -1;

	alb_result_reset(r);
	/* A result over 1 MB is a 502 (§2.3, §2.6; S-LF, S-AL); 1 MB = 2^20 (DESIGN.md §6). */
	if (len > ALB_RESULT_MAX) {
		fail(r, "LambdaResponseTooLarge", "result is %zu bytes", len);
		goto out;
	}
	/* Any JSON value, to say what it was; \u0000 is legal in a body. Duplicate
	 * keys are unverified for ALB: the last one wins, as in most parsers. */
	root = json_loadb(doc, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (!root) {
		INVALID(r, "result is not JSON: %s", jerr.text);
		goto out;
	}
	/* A bare string or number is a 502 (§2.3, Adyen#1249). */
	if (!json_is_object(root)) {
		INVALID(r, "result is %s, not an object", type_name(root));
		goto out;
	}
	if (parse_status(r, root) < 0 || check_fields(r, root) < 0 || parse_body(r, root) < 0 ||
	    parse_head(r, root, multi_value) < 0)
		goto out;
	ret = 0;
out:
	json_decref(root);
	if (ret < 0) {
		/* Nothing half-built is left for a caller to send by mistake. */
		r->status = 0;
		r->has_date = false;
		header_list_reset(&r->headers);
		buf_reset(&r->body);
	}
	return ret;
}

/*
 * Content-Type when the function sets none: application/octet-stream
 * (peers.md §4, unverified; stackery/php-lambda-layer#60 reports it). lb
 * adds it only to a non-empty body: a type for no content describes nothing
 * (RFC 9110 §8.3), and ALB's behaviour there is not captured.
 */
void alb_result_response(const struct alb_result *r, struct http_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->status = r->status;
	resp->reason = r->reason;
	resp->content_type = r->content_type;
	if (!resp->content_type.n && r->body.len && http_response_has_body(r->status, false))
		resp->content_type = SV("application/octet-stream");
	resp->headers = r->headers.v;
	resp->nheaders = r->headers.n;
	resp->body = (struct sv){ r->body.p, r->body.len };
	resp->has_date = r->has_date;
}
