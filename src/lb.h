/*
 * lb: the serving process — configuration, listeners, signals and ordered
 * teardown around one event loop. main parses the command line and calls
 * lb_serve; everything per-request lives below (router, http_server).
 */
#ifndef LB_LB_H
#define LB_LB_H

struct lb_options {
	const char *config_path;  /* config/lb.yaml */
	int port;                 /* -p: overrides the first listener's port; -1 none */
	const char *access_log;   /* --access-log: overrides load_balancer.access_log; NULL none */
	const struct stack_opts *stack; /* --parameter, --port-map for templates; NULL none */
};

/* Serves until SIGTERM/SIGINT; returns the process exit status. */
int lb_serve(const struct lb_options *opt);

#endif
