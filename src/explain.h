/*
 * explain: `lb explain` — which rule a request would match and why the rules
 * before it did not, the action it takes, and what a target would receive.
 * Pure apart from printing: it builds the request in memory, no sockets.
 */
#ifndef LB_EXPLAIN_H
#define LB_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "base/err.h"

struct explain_request {
	const char *method;            /* NULL: GET, or POST with a body */
	const char *url;               /* http://host[:port]/path?query */
	const char *const *headers;    /* "Name: value" */
	size_t nheaders;
	const char *body;              /* NULL: none */
	const char *source_ip;         /* NULL: 127.0.0.1 */
	/* The port each listener of the configuration is bound to, by index (a
	 * running lb's, where port 0 became a free port); NULL: the configured
	 * ports (`lb explain` on a file). The URL's port picks a listener among
	 * these, and the listener is named by it. */
	const uint16_t *ports;
};

/* Prints the explanation to out; -1 with err for a bad URL or header. */
int explain_print(const struct config *cfg, const struct explain_request *er, FILE *out,
		  struct lb_err *err);

#endif
