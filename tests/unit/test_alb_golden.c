/*
 * Golden test: each event a real ALB sent (every .json in tests/data/captured-events,
 * alb-lambda-targets.md §1.10) is turned back into the HTTP request that
 * produced it, run through fwd_headers_build and alb_event_write in the
 * capture's mode, and lb's event is compared with the capture key by key.
 *
 * Re-creating the request: header names are sent Title-Cased (as curl
 * does), so lower-casing is exercised; every value of a multi-value header
 * is its own line; the query string is rebuilt from the query map in order.
 * What ALB adds is fed back as the connection it came from: the captured
 * x-forwarded-for is the peer address, x-forwarded-port the listener port,
 * x-forwarded-proto https or not, x-amzn-trace-id the trace id, so those
 * compare exactly too. The README allows ignoring them; only two things are
 * not compared:
 *  - host: fwd_headers lower-cases it, while two captures keep the
 *    mixed-case ELB DNS name;
 *  - x-imforwards (2018–2019 only, §1.7): lb omits it.
 * Top-level nulls (the 2026 capture's typed logger, §1.1) must be absent
 * from lb's event. The 2019 base64 capture's body was redacted to
 * "base64_encoded_string", which is not base64: the request gets a binary
 * body of the captured content-length (242 bytes) and the expected body is
 * its base64, so the shape (base64, isBase64Encoded true) is what is tested.
 */
#include <glob.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "alb/alb_event.h"
#include "base/base64.h"
#include "alb/fwd_headers.h"
#include "test.h"

static const struct lb_attributes defaults = {
	.idle_timeout = 60,
	.xff_mode = XFF_APPEND,
};

static const char *path_now;

/* The parts of a capture that describe the client's connection. */
struct conn_facts {
	const char *xff, *port, *proto, *trace;
};

/* "x-voker-probe" → "X-Voker-Probe", in the arena. */
static char *title_case(struct arena *a, const char *name)
{
	char *s = arena_strdup(a, name);

	for (char *p = s; *p; p++)
		if ((p == s || p[-1] == '-') && *p >= 'a' && *p <= 'z')
			*p = (char)(*p - 32);
	return s;
}

/* Where a header ALB adds goes in the facts, or NULL for a client header. */
static const char **fact_of(struct conn_facts *f, const char *name)
{
	return !strcmp(name, "x-forwarded-for")   ? &f->xff
	       : !strcmp(name, "x-forwarded-port")  ? &f->port
	       : !strcmp(name, "x-forwarded-proto") ? &f->proto
	       : !strcmp(name, "x-amzn-trace-id")   ? &f->trace
						     : NULL;
}

/* The capture's header map → request headers; ALB's own headers → facts. */
static void add_headers(struct http_request *req, json_t *map, struct conn_facts *f,
			struct arena *a)
{
	const char *name;
	json_t *vals;

	json_object_foreach(map, name, vals) {
		const char **fact = fact_of(f, name);
		size_t i;
		json_t *v;

		if (!strcmp(name, "x-imforwards"))
			continue;
		if (fact) {
			*fact = json_string_value(json_is_array(vals) ? json_array_get(vals, 0) : vals);
			continue;
		}
		if (!json_is_array(vals)) {
			http_request_add_header(req, sv_from(title_case(a, name)),
						sv_from(json_string_value(vals)));
			continue;
		}
		json_array_foreach(vals, i, v)
			http_request_add_header(req, sv_from(title_case(a, name)),
						sv_from(json_string_value(v)));
	}
}

/* path?k=v&k=v from the query map, in the capture's order. */
static void build_target(struct buf *t, const char *path, json_t *query)
{
	const char *key;
	json_t *vals;
	char sep = '?';

	buf_puts(t, path);
	json_object_foreach(query, key, vals) {
		size_t i;
		json_t *v;

		if (!json_is_array(vals)) {
			buf_printf(t, "%c%s=%s", sep, key, json_string_value(vals));
			sep = '&';
			continue;
		}
		json_array_foreach(vals, i, v) {
			buf_printf(t, "%c%s=%s", sep, key, json_string_value(v));
			sep = '&';
		}
	}
}

/* The request body; for a redacted base64 body, a made-up one of the
 * captured length, whose base64 then replaces the capture's body. */
static void build_body(struct http_request *req, json_t *want)
{
	const char *body = json_string_value(json_object_get(want, "body"));
	const struct http_header *cl = http_request_header(req, "content-length");

	if (!json_is_true(json_object_get(want, "isBase64Encoded"))) {
		buf_puts(&req->body, body);
	} else if (base64_decode(body, strlen(body), &req->body) < 0) {
		struct buf b64 = BUF_INIT;
		uint64_t n = 0;

		CHECK(cl && sv_to_u64(cl->value, &n) == 0);
		for (uint64_t i = 0; i < n; i++)
			buf_putc(&req->body, (char)(i * 37 + 11));
		base64_encode_buf(req->body.p, req->body.len, &b64);
		json_object_set_new(want, "body", json_stringn(b64.p, b64.len));
		buf_release(&b64);
	}
	/* The capture is consistent with itself. */
	if (cl)
		CHECK_INT(req->body.len, strtoull(cl->value.p, NULL, 10));
}

/* A health check carries only ELB-HealthChecker's user-agent (§3). */
static bool is_health_check(json_t *headers)
{
	const char *ua = json_string_value(json_object_get(headers, "user-agent"));

	return json_object_size(headers) == 1 && ua && !strncmp(ua, "ELB-HealthChecker/", 18);
}

/* lb's event for the request the capture describes. */
static void make_event(json_t *want, bool multi, struct buf *out)
{
	json_t *hmap = json_object_get(want, multi ? "multiValueHeaders" : "headers");
	json_t *qmap = json_object_get(want, multi ? "multiValueQueryStringParameters"
						   : "queryStringParameters");
	const char *path = json_string_value(json_object_get(want, "path"));
	const char *arn = json_string_value(
		json_object_get(json_object_get(json_object_get(want, "requestContext"), "elb"),
				"targetGroupArn"));
	struct conn_facts f = { "", "80", "http", "" };
	struct http_request req;
	struct header_list fwd;
	struct buf target = BUF_INIT;
	struct arena a = { NULL };

	build_target(&target, path, qmap);
	if (!multi && is_health_check(hmap)) {
		alb_event_write_health_check(out, target.p, arn, false);
		buf_release(&target);
		return;
	}
	http_request_init(&req);
	header_list_init(&fwd);
	req.method = sv_from(json_string_value(json_object_get(want, "httpMethod")));
	http_request_set_target(&req, (struct sv){ target.p, target.len });
	add_headers(&req, hmap, &f, &a);
	build_body(&req, want);
	req.peer_family = AF_INET;
	snprintf(req.peer_ip, sizeof(req.peer_ip), "%s", f.xff);
	req.local_port = (uint16_t)atoi(f.port);
	req.https = !strcmp(f.proto, "https");
	fwd_headers_build(&req, &defaults, sv_from(f.trace), &fwd);

	struct alb_event_input in = { &req, fwd.v, fwd.n, arn, multi };
	alb_event_write(out, &in);

	header_list_release(&fwd);
	http_request_release(&req);
	arena_release(&a);
	buf_release(&target);
}

static void check_capture(void)
{
	json_error_t err;
	json_t *want = json_load_file(path_now, 0, &err), *got = NULL, *v;
	struct buf out = BUF_INIT;
	bool multi;
	const char *key;
	void *tmp;

	if (!want) {
		FAIL_AT("%s: %s", path_now, err.text);
		return;
	}
	multi = json_is_object(json_object_get(want, "multiValueHeaders"));
	make_event(want, multi, &out);
	got = json_loadb(out.p, out.len, 0, &err);
	if (!got) {
		FAIL_AT("lb's event is not JSON: %s: %s", err.text, out.p);
		goto out;
	}
	/* A typed logger's nulls: real ALB omits the keys, and so must lb. */
	json_object_foreach_safe(want, tmp, key, v) {
		if (!json_is_null(v))
			continue;
		CHECK(json_object_get(got, key) == NULL);
		json_object_del(want, key);
	}
	json_object_del(json_object_get(want, multi ? "multiValueHeaders" : "headers"),
			"x-imforwards");
	CHECK(json_object_get(json_object_get(got, multi ? "multiValueHeaders" : "headers"),
			      "host") ||
	      !json_object_get(json_object_get(want, multi ? "multiValueHeaders" : "headers"),
			       "host"));
	json_object_del(json_object_get(want, multi ? "multiValueHeaders" : "headers"), "host");
	json_object_del(json_object_get(got, multi ? "multiValueHeaders" : "headers"), "host");
	if (!json_equal(want, got)) {
		char *w = json_dumps(want, JSON_SORT_KEYS), *g = json_dumps(got, JSON_SORT_KEYS);

		FAIL_AT("event differs\n  want %s\n  got  %s", w, g);
		free(w);
		free(g);
	}
out:
	json_decref(want);
	json_decref(got);
	buf_release(&out);
}

int main(void)
{
	glob_t g;

	if (glob("tests/data/captured-events/*.json", 0, NULL, &g) != 0) {
		printf("not ok - captured_events: none found (run from the repository root)\n");
		return 1;
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		path_now = g.gl_pathv[i];
		test_run(strrchr(path_now, '/') + 1, check_capture);
	}
	globfree(&g);
	return test_done();
}
