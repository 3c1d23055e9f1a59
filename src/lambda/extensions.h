/*
 * extensions: the Extensions API (/2020-01-01/extension) of one sandbox,
 * served beside its Runtime API, and its Telemetry API subscriptions
 * (/2022-07-01/telemetry, delivered by telemetry.c).
 *
 * Lambda's phase rules, which the sandbox applies through this module:
 * extensions register during init only (403 Extension.RegistrationClosed
 * after); init completes when the runtime and every registered extension
 * wait on their next event; after an invocation the environment takes the
 * next one only once every INVOKE extension has asked for its next event;
 * SHUTDOWN goes to the extensions that asked for it before the sandbox is
 * killed.
 */
#ifndef LB_EXTENSIONS_H
#define LB_EXTENSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct http_request;
struct extensions;
struct telemetry;

struct extensions_cbs {
	/* Every registered extension now waits for its next event. */
	void (*on_ready)(void *cookie);
	/* Every SHUTDOWN extension has had its SHUTDOWN and asked for more. */
	void (*on_shutdown_done)(void *cookie);
	/* An extension posted /init/error (init) or /exit/error. */
	void (*on_error)(void *cookie, bool init, const char *body, size_t n, const char *error_type);
};

struct extensions_info {
	const char *function_name, *version, *handler;
	const char *account_id;  /* for Lambda-Extension-Accept-Feature: accountId */
	size_t expected;    /* extension processes started: init waits for them to register */
};

/* The external extensions in dir (the layers' extensions/): executable files in
 * name order, at most 10, as NULL-terminated new paths (NULL if dir cannot be read). */
char **extensions_find(const char *dir);
void extensions_find_free(char **paths);

struct extensions *extensions_new(struct event_base *base, const struct extensions_info *info,
				  const struct extensions_cbs *cbs, void *cookie);
/* Serves req if its path is the Extensions or Telemetry API's; false if not. */
bool extensions_route(struct extensions *x, struct http_request *req);
/* The connection of req went away. */
void extensions_abort(struct extensions *x, struct http_request *req);
/* Whether every expected extension registered and all wait on /event/next. */
bool extensions_ready(const struct extensions *x);
/* Init is over: later registrations get 403. */
void extensions_close_registration(struct extensions *x);
/* Sends INVOKE to the extensions that registered for it. */
void extensions_invoke(struct extensions *x, const char *request_id, int64_t deadline_ms, const char *arn,
		       const char *trace_id);
/* Sends SHUTDOWN; false if no extension waits for one (kill at once). */
bool extensions_shutdown(struct extensions *x, const char *reason, int64_t deadline_ms);
/* The sandbox's telemetry hub (never NULL). */
struct telemetry *extensions_telemetry(struct extensions *x);
void extensions_free(struct extensions *x);

#endif
