/*
 * ext_api: Extensions API and Telemetry API rules and documents. Error
 * types are Lambda's (as its runtime interface emulator names them):
 * Extension.InvalidExtensionName, Extension.InvalidEventType and
 * InvalidRequestFormat for registrations (403), ValidationError for
 * telemetry subscriptions (400).
 */
#include "alb/ext_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static int fail(struct ext_api_error *e, int status, const char *type, const char *msg)
{
	e->status = status;
	e->type = type;
	snprintf(e->message, sizeof(e->message), "%s", msg);
	return -1;
}

static char *dump(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(j);
	return s;
}

int ext_api_register_parse(struct sv name, const char *body, size_t n, unsigned *events,
			   struct ext_api_error *e)
{
	json_t *doc, *evs, *ev;
	size_t i;

	*events = 0;
	/* Lambda requires Lambda-Extension-Name (the executable's file name). */
	if (!name.p || name.n == 0)
		return fail(e, 403, "Extension.InvalidExtensionName", "Empty extension name");
	doc = json_loadb(body, n, 0, NULL);
	if (!doc || !json_is_object(doc)) {
		json_decref(doc);
		return fail(e, 403, "InvalidRequestFormat", "Invalid request body: expected {\"events\": [...]}");
	}
	evs = json_object_get(doc, "events");
	if (evs && !json_is_array(evs)) {
		json_decref(doc);
		return fail(e, 403, "InvalidRequestFormat", "events must be an array");
	}
	json_array_foreach(evs, i, ev) {
		const char *s = json_string_value(ev);

		if (s && strcmp(s, "INVOKE") == 0)
			*events |= EXT_EVENT_INVOKE;
		else if (s && strcmp(s, "SHUTDOWN") == 0)
			*events |= EXT_EVENT_SHUTDOWN;
		else {
			char msg[160];
			snprintf(msg, sizeof(msg), "Unknown event type: %.100s", s ? s : "(not a string)");
			json_decref(doc);
			return fail(e, 403, "Extension.InvalidEventType", msg);
		}
	}
	json_decref(doc);
	return 0;
}

char *ext_api_error_json(const char *type, const char *message)
{
	return dump(json_pack("{s:s, s:s}", "errorMessage", message, "errorType", type));
}

char *ext_api_register_json(const char *function_name, const char *version, const char *handler,
			    const char *account_id)
{
	json_t *j = json_pack("{s:s, s:s, s:s}", "functionName", function_name, "functionVersion", version,
			      "handler", handler ? handler : "");

	if (account_id)
		json_object_set_new(j, "accountId", json_string(account_id));
	return dump(j);
}

char *ext_api_invoke_json(const char *request_id, int64_t deadline_ms, const char *function_arn,
			  const char *trace_id)
{
	return dump(json_pack("{s:s, s:I, s:s, s:s, s:{s:s, s:s}}", "eventType", "INVOKE", "deadlineMs",
			      (json_int_t)deadline_ms, "requestId", request_id, "invokedFunctionArn", function_arn,
			      "tracing", "type", "X-Amzn-Trace-Id", "value", trace_id ? trace_id : ""));
}

char *ext_api_shutdown_json(const char *reason, int64_t deadline_ms)
{
	return dump(json_pack("{s:s, s:s, s:I}", "eventType", "SHUTDOWN", "shutdownReason", reason, "deadlineMs",
			      (json_int_t)deadline_ms));
}

/* Reads an optional integer field in [lo, hi]; -1 if present and invalid. */
static int int_field(json_t *obj, const char *key, int lo, int hi, int *out)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return -1;
	*out = (int)json_integer_value(v);
	return 0;
}

/* http://HOST:PORT/path — HOST sandbox.localdomain (Lambda's name for the
 * environment itself), localhost or 127.0.0.1, all of them this machine. */
static int parse_uri(const char *uri, struct telemetry_sub *s)
{
	const char *p, *slash, *colon;
	char *end;
	long port;
	size_t hn;

	if (strncmp(uri, "http://", 7) != 0)
		return -1;
	p = uri + 7;
	slash = strchr(p, '/');
	if (!slash)
		slash = p + strlen(p);
	colon = memchr(p, ':', (size_t)(slash - p));
	if (!colon)
		return -1;
	hn = (size_t)(colon - p);
	if (!((hn == 19 && strncmp(p, "sandbox.localdomain", hn) == 0) || (hn == 9 && strncmp(p, "localhost", hn) == 0) ||
	      (hn == 9 && strncmp(p, "127.0.0.1", hn) == 0)))
		return -1;
	snprintf(s->host, sizeof(s->host), "127.0.0.1");
	port = strtol(colon + 1, &end, 10);
	if (end != slash || port < 1 || port > 65535)
		return -1;
	s->port = (int)port;
	/* The path goes into the POST's request line: visible ASCII only (RFC 9112
	 * §3.2), whole, or a CR/LF in it would write headers of its own. */
	for (const char *q = slash; *q; q++)
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
			return -1;
	if (strlen(slash) >= sizeof(s->path))
		return -1;
	snprintf(s->path, sizeof(s->path), "%s", *slash ? slash : "/");
	return 0;
}

int ext_api_telemetry_parse(const char *body, size_t n, struct telemetry_sub *s, struct ext_api_error *e)
{
	json_t *doc = json_loadb(body, n, 0, NULL), *types, *t, *buffering, *dest;
	const char *proto, *uri;
	size_t i;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	/* Lambda's defaults: 1000 items, 256 KB, 1 second. */
	s->max_items = 1000;
	s->max_bytes = 262144;
	s->timeout_ms = 1000;
	if (!doc || !json_is_object(doc)) {
		fail(e, 400, "ValidationError", "Request body is not a JSON object");
		goto out;
	}
	types = json_object_get(doc, "types");
	if (!json_is_array(types) || json_array_size(types) == 0) {
		fail(e, 400, "ValidationError", "types must be a non-empty array");
		goto out;
	}
	json_array_foreach(types, i, t) {
		const char *v = json_string_value(t);
		if (v && strcmp(v, "platform") == 0)
			s->types |= TEL_PLATFORM;
		else if (v && strcmp(v, "function") == 0)
			s->types |= TEL_FUNCTION;
		else if (v && strcmp(v, "extension") == 0)
			s->types |= TEL_EXTENSION;
		else {
			fail(e, 400, "ValidationError", "types may hold platform, function and extension only");
			goto out;
		}
	}
	buffering = json_object_get(doc, "buffering");
	if (buffering && (!json_is_object(buffering) ||
			  int_field(buffering, "maxItems", 1000, 10000, &s->max_items) < 0 ||
			  int_field(buffering, "maxBytes", 262144, 1048576, &s->max_bytes) < 0 ||
			  int_field(buffering, "timeoutMs", 25, 30000, &s->timeout_ms) < 0)) {
		fail(e, 400, "ValidationError",
		     "buffering: maxItems 1000-10000, maxBytes 262144-1048576, timeoutMs 25-30000");
		goto out;
	}
	dest = json_object_get(doc, "destination");
	proto = json_string_value(json_object_get(dest, "protocol"));
	uri = json_string_value(json_object_get(dest, "URI"));
	if (!proto || strcmp(proto, "HTTP") != 0) {
		fail(e, 400, "ValidationError", "destination.protocol must be HTTP (lb does not deliver over TCP)");
		goto out;
	}
	if (!uri || parse_uri(uri, s) < 0) {
		fail(e, 400, "ValidationError", "destination.URI must be http://sandbox.localdomain:PORT/path");
		goto out;
	}
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

char *ext_api_telemetry_event(int64_t wall_us, const char *type, const char *record_json, const char *text,
			      size_t n)
{
	char when[28], ms[25];
	json_t *rec = record_json ? json_loads(record_json, 0, NULL) : json_stringn(text, n);

	/* A line that is not UTF-8 cannot travel in JSON: it is sent empty. */
	if (!rec)
		rec = record_json ? json_null() : json_string("");
	/* Lambda's telemetry times have milliseconds: 2022-10-12T00:00:00.000Z. */
	time_iso8601_us(wall_us, when);
	snprintf(ms, sizeof(ms), "%.23sZ", when);
	return dump(json_pack("{s:s, s:s, s:o}", "time", ms, "type", type, "record", rec));
}
