/*
 * invoke_api: what Lambda's Invoke operation accepts and how it refuses.
 *
 * FunctionName follows API_Invoke's pattern, read as the four forms the
 * documentation names (NAME, NAME:QUALIFIER, ACCOUNT:function:NAME[:Q],
 * arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:Q]); anything else is
 * the ValidationException AWS's request validation sends. A function is
 * found when its name is configured and any region or account the request
 * names is lb's own; a qualifier must be $LATEST, a version or an alias of
 * a local function (an endpoint function's qualifiers live at its endpoint
 * and are passed on unchecked, as target groups do).
 *
 * Error documents copy AWS's observed bodies: {"Message","Type"} for
 * ResourceNotFoundException and ServiceException, {"Type","message"} for the
 * others, and the 413 AWS really sends is RequestEntityTooLargeException
 * (aws/aws-sdk-go#3080), not the RequestTooLargeException of the API model.
 */
#include "alb/invoke_api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/base64.h"

#define PATH_PREFIX "/2015-03-31/functions/"
#define PATH_SUFFIX "/invocations"

/* Why: API_Invoke's FunctionName is at most 170 characters, its Qualifier 1-128. */
#define FUNCTION_NAME_MAX 170
#define QUALIFIER_MAX 128

#define NAME_PATTERN "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?" \
		     "(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
#define QUALIFIER_PATTERN "(|[a-zA-Z0-9$_-]+)"

static int set_error(struct invoke_error *e, int status, const char *type, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int set_error(struct invoke_error *e, int status, const char *type, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	e->type = type;
	e->reason = NULL;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return -1;
}

bool invoke_api_is_invoke(struct sv method, struct sv path, struct sv *name)
{
	size_t pn = sizeof(PATH_PREFIX) - 1, sn = sizeof(PATH_SUFFIX) - 1;

	if (!sv_eq_cstr(method, "POST") || path.n <= pn + sn || memcmp(path.p, PATH_PREFIX, pn) != 0 ||
	    memcmp(path.p + path.n - sn, PATH_SUFFIX, sn) != 0)
		return false;
	*name = (struct sv){ path.p + pn, path.n - pn - sn };
	return memchr(name->p, '/', name->n) == NULL;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = ascii_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes s into out (NUL-terminated); false when it does not fit.
 * A '%' not followed by two hex digits stays as it is. */
static bool percent_decode(struct sv s, char *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];

		if (c == '%' && i + 2 < s.n && hex_digit(s.p[i + 1]) >= 0 && hex_digit(s.p[i + 2]) >= 0) {
			c = (char)(hex_digit(s.p[i + 1]) * 16 + hex_digit(s.p[i + 2]));
			i += 2;
		}
		if (n + 1 >= max || c == '\0')
			return false;
		out[n++] = c;
	}
	out[n] = '\0';
	return true;
}

static bool all_of(const char *s, const char *set)
{
	return *s && strspn(s, set) == strlen(s);
}

#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

static bool name_ok(const char *s)
{
	return all_of(s, ALNUM "-_.");
}

static bool qualifier_ok(const char *s)
{
	return strcmp(s, "$LATEST") == 0 || all_of(s, ALNUM "-_");
}

static bool account_ok(const char *s)
{
	return strlen(s) == 12 && all_of(s, "0123456789");
}

/* API_Invoke's region part: [a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d */
static bool region_ok(const char *s)
{
	const char *p = s, *last;

	if (strspn(p, "abcdefghijklmnopqrstuvwxyz") < 2 || p[2] != '-')
		return false;
	last = strrchr(s, '-');
	if (!last || last <= s + 3 || strlen(last) != 2 || last[1] < '0' || last[1] > '9' || last[-1] == '-')
		return false;
	for (p = s + 3; p < last; p++)
		if (*p != '-' && (*p < 'a' || *p > 'z'))
			return false;
	return true;
}

struct name_parts {
	const char *partition, *region, *account;   /* NULL when not given */
	const char *name, *qualifier;
};

/* Splits a decoded FunctionName (modified in place) into its parts. */
static bool split_name(char *s, struct name_parts *np)
{
	char *tok[9];
	size_t n = 0;

	memset(np, 0, sizeof(*np));
	for (char *p = s;; p++) {
		if (n == ARRAY_LEN(tok))
			return false;
		tok[n++] = p;
		p = strchr(p, ':');
		if (!p)
			break;
		*p = '\0';
	}
	if (strcmp(tok[0], "arn") == 0) {
		if ((n != 7 && n != 8) || strncmp(tok[1], "aws", 3) != 0 || !all_of(tok[1], ALNUM "-") ||
		    strcmp(tok[2], "lambda") != 0 || !region_ok(tok[3]) || !account_ok(tok[4]) ||
		    strcmp(tok[5], "function") != 0)
			return false;
		*np = (struct name_parts){ tok[1], tok[3], tok[4], tok[6], n == 8 ? tok[7] : NULL };
	} else if (n >= 3 && strcmp(tok[1], "function") == 0) {
		if (n > 4 || !account_ok(tok[0]))
			return false;
		*np = (struct name_parts){ NULL, NULL, tok[0], tok[2], n == 4 ? tok[3] : NULL };
	} else if (n <= 2) {
		*np = (struct name_parts){ NULL, NULL, NULL, tok[0], n == 2 ? tok[1] : NULL };
	} else {
		return false;
	}
	return name_ok(np->name) &&
	       (!np->qualifier || (qualifier_ok(np->qualifier) && strlen(np->qualifier) <= QUALIFIER_MAX));
}

/* The Qualifier parameter of a query string, decoded; false when absent. */
static bool query_qualifier(struct sv query, char *out, size_t max, bool *fits)
{
	struct sv rest = query, pair;

	*fits = true;
	while (rest.p) {
		rest = sv_cut(rest, '&', &pair);
		if (pair.n >= 10 && memcmp(pair.p, "Qualifier=", 10) == 0) {
			*fits = percent_decode((struct sv){ pair.p + 10, pair.n - 10 }, out, max);
			return true;
		}
	}
	return false;
}

/* Whether q names a version or an alias of fn. */
static bool has_qualifier(const struct function_cfg *fn, const char *q)
{
	for (size_t i = 0; i < fn->nversions; i++)
		if (strcmp(fn->versions[i].version, q) == 0)
			return true;
	for (size_t i = 0; i < fn->naliases; i++)
		if (strcmp(fn->aliases[i].name, q) == 0)
			return true;
	return false;
}

static int bad_name(struct sv raw_name, struct invoke_error *e)
{
	char shown[FUNCTION_NAME_MAX * 3 + 1];

	if (!percent_decode(raw_name, shown, sizeof(shown)))
		snprintf(shown, sizeof(shown), "%.*s", (int)(raw_name.n < 200 ? raw_name.n : 200), raw_name.p);
	return set_error(e, 400, "ValidationException", "1 validation error detected: Value '%.200s' at "
			 "'functionName' failed to satisfy constraint: Member must satisfy regular "
			 "expression pattern: " NAME_PATTERN, shown);
}

static int not_found(const struct config *cfg, const struct name_parts *np, const char *qualifier,
		     struct invoke_error *e)
{
	return set_error(e, 404, "ResourceNotFoundException",
			 "Function not found: arn:%s:lambda:%s:%s:function:%s%s%s",
			 np->partition ? np->partition : "aws", np->region ? np->region : cfg->lb.region,
			 np->account ? np->account : cfg->lb.account_id, np->name, *qualifier ? ":" : "",
			 qualifier);
}

int invoke_api_resolve(const struct config *cfg, struct sv raw_name, struct sv query,
		       struct invoke_target *out, struct invoke_error *e)
{
	char name[FUNCTION_NAME_MAX + 1], qq[QUALIFIER_MAX + 2];
	struct name_parts np;
	bool has_qq, fits;
	const char *q;

	if (!percent_decode(raw_name, name, sizeof(name)) || !*name || !split_name(name, &np))
		return bad_name(raw_name, e);
	has_qq = query_qualifier(query, qq, sizeof(qq), &fits);
	if (has_qq && (!fits || strlen(qq) > QUALIFIER_MAX || (*qq && !all_of(qq, ALNUM "$_-"))))
		return set_error(e, 400, "ValidationException", "1 validation error detected: Value '%.200s' at "
				 "'qualifier' failed to satisfy constraint: Member must satisfy regular "
				 "expression pattern: " QUALIFIER_PATTERN, fits ? qq : "");
	/* Why: a qualifier in both places must be the same one (Lambda's
	 * InvalidParameterValueException, with its own message). A region or
	 * account other than lb's names a function lb does not have. */
	if (has_qq && *qq && np.qualifier && strcmp(qq, np.qualifier) != 0)
		return set_error(e, 400, "InvalidParameterValueException",
				 "The derived qualifier from the function name does not match the specified "
				 "qualifier.");
	q = has_qq && *qq ? qq : np.qualifier ? np.qualifier : "";
	out->fn = config_function(cfg, np.name);
	if (!out->fn || (np.region && strcmp(np.region, cfg->lb.region) != 0) ||
	    (np.account && strcmp(np.account, cfg->lb.account_id) != 0))
		return not_found(cfg, &np, q, e);
	if (*q && strcmp(q, "$LATEST") != 0 && !out->fn->endpoint && !has_qualifier(out->fn, q))
		return not_found(cfg, &np, q, e);
	snprintf(out->qualifier, sizeof(out->qualifier), "%.128s", strcmp(q, "$LATEST") == 0 ? "" : q);
	return 0;
}

int invoke_api_invocation_type(const struct sv *value, enum invoke_type *out, struct invoke_error *e)
{
	if (!value || sv_eq_cstr(*value, "RequestResponse"))
		*out = INVOKE_TYPE_REQUEST_RESPONSE;
	else if (sv_eq_cstr(*value, "Event"))
		*out = INVOKE_TYPE_EVENT;
	else if (sv_eq_cstr(*value, "DryRun"))
		*out = INVOKE_TYPE_DRY_RUN;
	else
		return set_error(e, 400, "ValidationException", "1 validation error detected: Value '%.*s' at "
				 "'invocationType' failed to satisfy constraint: Member must satisfy enum value "
				 "set: [Event, RequestResponse, DryRun]", (int)(value->n < 200 ? value->n : 200),
				 value->p);
	return 0;
}

int invoke_api_log_type(const struct sv *value, bool *tail, struct invoke_error *e)
{
	*tail = value && sv_eq_cstr(*value, "Tail");
	if (!value || *tail || sv_eq_cstr(*value, "None"))
		return 0;
	return set_error(e, 400, "ValidationException", "1 validation error detected: Value '%.*s' at "
			 "'logType' failed to satisfy constraint: Member must satisfy enum value set: "
			 "[Tail, None]", (int)(value->n < 200 ? value->n : 200), value->p);
}

int invoke_api_client_context(const struct sv *value, struct buf *out, struct invoke_error *e)
{
	size_t at = out->len;
	json_t *doc = NULL;

	/* lb's choice: an empty header is no client context (Lambda's answer unverified). */
	if (!value || !value->n)
		return 0;
	/* Lambda's limit is on the base64; its error for a longer one is
	 * unverified: lb answers as for a malformed one, naming the limit. */
	if (value->n > INVOKE_CLIENT_CONTEXT_MAX)
		return set_error(e, 400, "InvalidRequestContentException",
				 "Client context must be at most %d bytes of Base64 (got %zu).",
				 INVOKE_CLIENT_CONTEXT_MAX, value->n);
	/* Why: Lambda decodes it and wants a JSON object (the mobile SDK's
	 * {"client","custom","env"}); its message for anything else is this one. */
	if (base64_decode(value->p, value->n, out) == 0)
		doc = json_loadb(out->p + at, out->len - at,
				 JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, NULL);
	if (!json_is_object(doc)) {
		json_decref(doc);
		out->len = at;
		if (out->p)
			out->p[at] = '\0';
		return set_error(e, 400, "InvalidRequestContentException",
				 "Client context must be a valid Base64-encoded JSON object.");
	}
	json_decref(doc);
	return 0;
}

size_t invoke_api_payload_max(enum invoke_type type)
{
	return type == INVOKE_TYPE_EVENT ? INVOKE_ASYNC_PAYLOAD_MAX : INVOKE_SYNC_PAYLOAD_MAX;
}

int invoke_api_check_payload(enum invoke_type type, const char *p, size_t n, uint64_t total,
			     struct invoke_error *e)
{
	size_t max = invoke_api_payload_max(type);
	json_error_t jerr;
	json_t *doc;

	if (total > max)
		/* AWS's wording, e.g. "6291478 byte payload is too large for the
		 * RequestResponse invocation type (limit 6291456 bytes)". */
		return set_error(e, 413, "RequestEntityTooLargeException",
				 "%llu byte payload is too large for the %s invocation type (limit %zu bytes)",
				 (unsigned long long)total,
				 type == INVOKE_TYPE_EVENT     ? "Event"
				 : type == INVOKE_TYPE_DRY_RUN ? "DryRun"
							       : "RequestResponse",
				 max);
	while (n && memchr(" \t\r\n", *p, 4)) {
		p++;
		n--;
	}
	if (!n)
		return 0;
	/* Lambda parses with Jackson, which takes any JSON value, big numbers and \u0000. */
	doc = json_loadb(p, n, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &jerr);
	if (doc) {
		json_decref(doc);
		return 0;
	}
	return set_error(e, 400, "InvalidRequestContentException",
			 "Could not parse request body into json: Could not parse payload into json: %s\n"
			 " at [Source: (byte[]); line: %d, column: %d]", jerr.text, jerr.line, jerr.column);
}

void invoke_api_throttled(const struct function_cfg *fn, struct invoke_error *e)
{
	set_error(e, 429, "TooManyRequestsException", "Rate Exceeded.");
	/* Why: Lambda names which limit was hit, the function's reserved
	 * concurrency or the account's (ThrottleReason in the API model). */
	e->reason = fn->reserved_concurrency >= 0 ? "ReservedFunctionConcurrentInvocationLimitExceeded"
						   : "ConcurrentInvocationLimitExceeded";
}

void invoke_api_service_error(const char *message, struct invoke_error *e)
{
	set_error(e, 500, "ServiceException", "%s", message);
}

void invoke_api_http_error(int status, struct invoke_error *e)
{
	switch (status) {
	case 408:
		/* Why: Lambda's common error for a request whose reading timed out
		 * (API reference, Common Errors: 408, "Reading the Request timed out"). */
		set_error(e, 408, "RequestTimeoutException", "Reading the request timed out.");
		break;
	case 501:
		/* Why: Lambda lists no error for these two; AWS's own front end (S3's
		 * codes and words) answers them so. Lambda's answer is unverified. */
		set_error(e, 501, "NotImplemented",
			  "A header you provided implies functionality that is not implemented: Transfer-Encoding");
		break;
	case 505:
		set_error(e, 505, "HttpVersionNotSupported", "The HTTP version specified is not supported.");
		break;
	default:
		set_error(e, 400, "InvalidRequestContentException", "malformed HTTP request");
		break;
	}
}

/* Errors of AWS's front end, before the operation (Lambda's Common Errors): {"message"} only. */
static bool front_end_error(const char *type)
{
	static const char *const types[] = { "ValidationException", "UnknownOperationException",
					     "RequestTimeoutException", "NotImplemented", "HttpVersionNotSupported" };

	for (size_t i = 0; i < ARRAY_LEN(types); i++) {
		if (strcmp(type, types[i]) == 0)
			return true;
	}
	return false;
}

void invoke_api_error_body(const struct invoke_error *e, struct buf *out)
{
	json_t *doc = json_object();
	char *text;

	if (strcmp(e->type, "ResourceNotFoundException") == 0 || strcmp(e->type, "ServiceException") == 0) {
		json_object_set_new(doc, "Message", json_string(e->message));
		json_object_set_new(doc, "Type", json_string(e->status >= 500 ? "Service" : "User"));
	} else if (front_end_error(e->type)) {
		json_object_set_new(doc, "message", json_string(e->message));
	} else {
		if (e->reason)
			json_object_set_new(doc, "Reason", json_string(e->reason));
		json_object_set_new(doc, "Type", json_string("User"));
		json_object_set_new(doc, "message", json_string(e->message));
	}
	text = json_dumps(doc, JSON_COMPACT);
	buf_puts(out, text);
	free(text);
	json_decref(doc);
}
