/*
 * listeners: one event loop's listener sockets for a configuration's
 * listeners, matched across reloads by (address, configured port) so
 * unchanged ones keep their sockets (and their port, when it is 0).
 */
#ifndef LB_LISTENERS_H
#define LB_LISTENERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "config/config.h"

struct http_server;
struct bound;

struct listener_set {
	struct http_server *server;   /* borrowed */
	struct bound *bound;
	size_t nbound;
};

/*
 * Makes the set the one cfg describes, binding every new listener before
 * changing anything, so on failure everything stays as it was. ports: NULL
 * binds the configured ports and prints "lb: listening on ..." for each new
 * one (tests read it); otherwise ports[i] is the port to bind for listener i
 * (a worker binds main's, SO_REUSEPORT) and nothing is printed.
 */
int listener_set_bind(struct listener_set *ls, const struct config *cfg, const uint16_t *ports,
		      struct lb_err *err);
/* The port listener i is bound to. */
uint16_t listener_set_port(const struct listener_set *ls, size_t i);
/* Frees the set's memory (its listeners go with their http_server). */
void listener_set_release(struct listener_set *ls);

#endif
