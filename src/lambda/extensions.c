/*
 * extensions: the Extensions API of one sandbox (see extensions.h).
 *
 * Each registered extension has an identifier (a UUID, the
 * Lambda-Extension-Identifier header it must send back), the events it
 * asked for, the /event/next it has waiting (held like the runtime's
 * /next) and at most one undelivered event. It is "ready" when a /next
 * waits and nothing is pending. Answers and error documents are Lambda's
 * (alb/ext_api.c).
 */
#include "lambda/extensions.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alb/ext_api.h"
#include "base/log.h"
#include "base/util.h"
#include "lambda/telemetry.h"
#include "net/http_server.h"

/* Lambda allows up to 10 extensions per function. */
#define EXT_MAX 10

struct ext {
	char id[37];
	char name[128];
	unsigned events;
	struct http_request *waiter;  /* its /event/next, unanswered */
	char *pending;                /* the event it has not had yet */
	bool shutdown_sent;
};

struct extensions {
	const struct extensions_cbs *cbs;
	void *cookie;
	char *function_name, *version, *handler, *account_id;
	size_t expected;
	struct ext exts[EXT_MAX];
	size_t n;
	bool closed;
	bool shutting_down;
	struct telemetry *tel;
	struct rng rng;               /* extension and event identifiers */
	char date[30];
};

static const char *date_now(struct extensions *x)
{
	time_http_date(time_wall_us() / 1000000, x->date);
	return x->date;
}

static void answer(struct extensions *x, struct http_request *req, int status, const char *json,
		   const struct http_header *h, size_t nh)
{
	struct http_response resp = {
		.status = status,
		.content_type = SV("application/json"),
		.headers = h,
		.nheaders = nh,
		.body = sv_from(json),
		.bare = true,
	};

	http_server_respond(req, &resp, date_now(x));
}

static void answer_error(struct extensions *x, struct http_request *req, int status, const char *type,
			 const char *message)
{
	char *json = ext_api_error_json(type, message);

	answer(x, req, status, json, NULL, 0);
	free(json);
}

static struct ext *find(struct extensions *x, struct http_request *req)
{
	const struct http_header *h = http_request_header(req, "lambda-extension-identifier");

	if (!h) {
		answer_error(x, req, 403, "Extension.MissingHeader", "Missing Lambda-Extension-Identifier header");
		return NULL;
	}
	for (size_t i = 0; i < x->n; i++)
		if (sv_eq_cstr(h->value, x->exts[i].id))
			return &x->exts[i];
	answer_error(x, req, 403, "Extension.UnknownExtensionIdentifier", "Unknown extension identifier");
	return NULL;
}

bool extensions_ready(const struct extensions *x)
{
	if (x->n < x->expected)
		return false;
	for (size_t i = 0; i < x->n; i++)
		if (!x->exts[i].waiter || x->exts[i].pending)
			return false;
	return true;
}

static bool shutdown_done(const struct extensions *x)
{
	for (size_t i = 0; i < x->n; i++)
		if ((x->exts[i].events & EXT_EVENT_SHUTDOWN) && (!x->exts[i].shutdown_sent || !x->exts[i].waiter))
			return false;
	return true;
}

/* Answers e's waiting /event/next with its pending event. */
static void send_event(struct extensions *x, struct ext *e)
{
	char event_id[37];
	struct http_header h[1];
	struct http_request *req = e->waiter;
	char *ev = e->pending;

	rng_uuid(&x->rng, event_id);
	h[0] = (struct http_header){ SV("Lambda-Extension-Event-Identifier"), sv_from(event_id) };
	e->waiter = NULL;
	e->pending = NULL;
	answer(x, req, 200, ev, h, 1);
	free(ev);
}

static void queue_event(struct extensions *x, struct ext *e, char *json)
{
	free(e->pending);
	e->pending = json;
	if (e->waiter)
		send_event(x, e);
}

/* Whether a comma-separated list holds token. */
static bool sv_contains_token(struct sv list, const char *token)
{
	size_t tn = strlen(token);

	for (size_t i = 0; i + tn <= list.n; i++)
		if (memcmp(list.p + i, token, tn) == 0 && (i == 0 || list.p[i - 1] == ',' || list.p[i - 1] == ' ') &&
		    (i + tn == list.n || list.p[i + tn] == ',' || list.p[i + tn] == ' '))
			return true;
	return false;
}

static void do_register(struct extensions *x, struct http_request *req)
{
	const struct http_header *h = http_request_header(req, "lambda-extension-name");
	struct ext_api_error err;
	unsigned events;
	struct ext *e;
	struct http_header out[1];
	const struct http_header *feature;
	char *json;

	if (x->closed) {
		/* Lambda registers extensions during the init phase only. */
		answer_error(x, req, 403, "Extension.RegistrationClosed", "Extension registration is closed");
		return;
	}
	if (ext_api_register_parse(h ? h->value : SV_NULL, buf_cstr(&req->body), req->body.len, &events, &err) < 0) {
		answer_error(x, req, err.status, err.type, err.message);
		return;
	}
	if (x->n == EXT_MAX) {
		answer_error(x, req, 403, "Extension.TooManyExtensions", "Too many extensions (at most 10)");
		return;
	}
	for (size_t i = 0; i < x->n; i++)
		if (sv_eq_cstr(h->value, x->exts[i].name)) {
			answer_error(x, req, 403, "Extension.InvalidExtensionName", "Extension name already registered");
			return;
		}
	e = &x->exts[x->n++];
	memset(e, 0, sizeof(*e));
	rng_uuid(&x->rng, e->id);
	snprintf(e->name, sizeof(e->name), "%.*s", (int)h->value.n, h->value.p);
	e->events = events;
	/* Lambda adds the account id for an extension that asks for it. */
	feature = http_request_header(req, "lambda-extension-accept-feature");
	json = ext_api_register_json(x->function_name, x->version, x->handler,
				     feature && sv_contains_token(feature->value, "accountId") ? x->account_id : NULL);
	out[0] = (struct http_header){ SV("Lambda-Extension-Identifier"), sv_from(e->id) };
	answer(x, req, 200, json, out, 1);
	free(json);
}

static void do_next(struct extensions *x, struct http_request *req)
{
	struct ext *e = find(x, req);

	if (!e)
		return;
	if (e->waiter) {
		answer_error(x, req, 403, "Extension.InvalidExtensionState", "An /event/next is already waiting");
		return;
	}
	e->waiter = req;
	if (e->pending) {
		send_event(x, e);
		return;
	}
	if (x->shutting_down) {
		if (shutdown_done(x))
			x->cbs->on_shutdown_done(x->cookie);
		return;
	}
	if (extensions_ready(x))
		x->cbs->on_ready(x->cookie);
}

static void do_error(struct extensions *x, struct http_request *req, bool init)
{
	const struct http_header *h = http_request_header(req, "lambda-extension-function-error-type");
	char type[128];

	if (!find(x, req))
		return;
	/* Why: as the runtime's, /init/error after the init phase is out of order (403). */
	if (init && x->closed) {
		answer_error(x, req, 403, "InvalidStateTransition", "the init phase is over");
		return;
	}
	snprintf(type, sizeof(type), "%.*s", h ? (int)h->value.n : 0, h ? h->value.p : "");
	answer(x, req, 202, "{\"status\":\"OK\"}", NULL, 0);
	x->cbs->on_error(x->cookie, init, buf_cstr(&req->body), req->body.len, *type ? type : "Extension.Unknown");
}

static void do_subscribe(struct extensions *x, struct http_request *req)
{
	struct telemetry_sub sub;
	struct ext_api_error err;
	struct ext *e = find(x, req);

	if (!e)
		return;
	if (ext_api_telemetry_parse(buf_cstr(&req->body), req->body.len, &sub, &err) < 0) {
		log_warn("extension %s: telemetry subscription refused: %s", e->name, err.message);
		answer_error(x, req, err.status, err.type, err.message);
		return;
	}
	telemetry_subscribe(x->tel, e->id, &sub);
	/* Lambda answers a subscription with a plain "OK". */
	answer(x, req, 200, "OK", NULL, 0);
}

bool extensions_route(struct extensions *x, struct http_request *req)
{
	struct sv p = req->path;
	bool post = sv_eq_cstr(req->method, "POST");

	if (sv_eq_cstr(p, "/2020-01-01/extension/register") && post)
		do_register(x, req);
	else if (sv_eq_cstr(p, "/2020-01-01/extension/event/next") && sv_eq_cstr(req->method, "GET"))
		do_next(x, req);
	else if (sv_eq_cstr(p, "/2020-01-01/extension/init/error") && post)
		do_error(x, req, true);
	else if (sv_eq_cstr(p, "/2020-01-01/extension/exit/error") && post)
		do_error(x, req, false);
	else if (sv_eq_cstr(p, "/2022-07-01/telemetry") && sv_eq_cstr(req->method, "PUT"))
		do_subscribe(x, req);
	else
		return false;
	return true;
}

void extensions_abort(struct extensions *x, struct http_request *req)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->exts[i].waiter == req)
			x->exts[i].waiter = NULL;
}

void extensions_close_registration(struct extensions *x)
{
	x->closed = true;
}

void extensions_invoke(struct extensions *x, const char *request_id, int64_t deadline_ms, const char *arn,
		       const char *trace_id)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->exts[i].events & EXT_EVENT_INVOKE)
			queue_event(x, &x->exts[i], ext_api_invoke_json(request_id, deadline_ms, arn, trace_id));
}

bool extensions_shutdown(struct extensions *x, const char *reason, int64_t deadline_ms)
{
	bool any = false;

	x->closed = true;
	x->shutting_down = true;
	for (size_t i = 0; i < x->n; i++)
		if (x->exts[i].events & EXT_EVENT_SHUTDOWN) {
			any = true;
			x->exts[i].shutdown_sent = true;
			queue_event(x, &x->exts[i], ext_api_shutdown_json(reason, deadline_ms));
		}
	telemetry_flush(x->tel);
	return any;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

char **extensions_find(const char *dir)
{
	struct dirent **names;
	char **paths;
	size_t k = 0;
	int n = scandir(dir, &names, NULL, by_name);

	if (n < 0)
		return NULL;
	paths = xcalloc((size_t)n + 1, sizeof(*paths));
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		/* Lambda runs the executable files there (not directories, not dotfiles), at most 10. */
		if (names[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(path, X_OK) == 0 && k < EXT_MAX)
			paths[k++] = xstrdup(path);
		free(names[i]);
	}
	free(names);
	return paths;
}

void extensions_find_free(char **paths)
{
	for (size_t i = 0; paths && paths[i]; i++)
		free(paths[i]);
	free(paths);
}

struct telemetry *extensions_telemetry(struct extensions *x)
{
	return x->tel;
}

struct extensions *extensions_new(struct event_base *base, const struct extensions_info *info,
				  const struct extensions_cbs *cbs, void *cookie)
{
	struct extensions *x = xcalloc(1, sizeof(*x));

	rng_seed(&x->rng);
	x->cbs = cbs;
	x->cookie = cookie;
	x->function_name = xstrdup(info->function_name);
	x->version = xstrdup(info->version);
	x->handler = xstrdup(info->handler ? info->handler : "");
	x->account_id = xstrdup(info->account_id ? info->account_id : "");
	x->expected = info->expected;
	x->tel = telemetry_new(base, info->expected > 0);
	return x;
}

void extensions_free(struct extensions *x)
{
	if (!x)
		return;
	for (size_t i = 0; i < x->n; i++)
		free(x->exts[i].pending);
	telemetry_free(x->tel);
	free(x->function_name);
	free(x->version);
	free(x->handler);
	free(x->account_id);
	free(x);
}
