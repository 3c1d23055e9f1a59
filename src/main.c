/*
 * main: the command line (DESIGN.md §4), nothing else.
 *
 *   lb [-c FILE] [-p PORT] [--access-log PATH] [-v|-q]   serve
 *   lb check [-c FILE]                                   validate and summarize
 *   lb explain [-c FILE] [-X METHOD] [-H 'Name: value']... [-d BODY] URL
 *   lb ca                                                the local CA and how to trust it
 *   lb runtime fetch|which RUNTIME...                    Node/Python versions
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cfn_export.h"
#include "config/config.h"
#include "explain.h"
#include "lb.h"
#include "base/log.h"
#include "net/jwks_fetch.h"
#include "net/tls.h"
#include "net/tls_ca.h"
#include "lambda/lambda.h"
#include "lambda/runtime_fetch.h"

#define LB_VERSION "0.1.0"
#define DEFAULT_CONFIG "config/lb.yaml"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: lb [-c FILE] [-p PORT] [--access-log PATH] [-v|-q]   serve (FILE: " DEFAULT_CONFIG ")\n"
		"       lb check [-c FILE]                                   validate config and rules\n"
		"       lb explain [-c FILE] [-X METHOD] [-H 'Name: value']... [-d BODY] [--source-ip IP] URL\n"
		"                                                            show how a request is routed\n"
		"       lb export cloudformation [-c FILE]                   the configuration as a template\n"
		"       lb ca                                                print the local CA and how to trust it\n"
		"       lb runtime fetch|which RUNTIME...                    fetch Node NN / show the interpreter\n"
		"       lb --help | --version\n"
		"FILE may be a CloudFormation/SAM template or a cdk.out directory; with it:\n"
		"       --parameter NAME=VALUE   a template parameter (or AWS::Region, AWS::AccountId)\n"
		"       --port-map PORT=LOCAL    serve the listener of PORT on LOCAL (0: a free port)\n");
}

static int parse_port(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < 0 || v > 65535) {
		log_error("bad port '%s'", s);
		exit(2);
	}
	return (int)v;
}

/* --parameter K=V and --port-map P=L (templates, DESIGN.md §16); argv outlives opts. */
static struct stack_opts stack_opts;
static const char **stack_params, **stack_ports;

static int stack_option(int ch, char *arg, int argc)
{
	if (!strchr(arg, '=') || arg[0] == '=') {
		log_error("'%s' must be NAME=VALUE", arg);
		exit(2);
	}
	if (!stack_params) {
		stack_params = xcalloc((size_t)argc, sizeof(*stack_params));
		stack_ports = xcalloc((size_t)argc, sizeof(*stack_ports));
		stack_opts.params = stack_params;
		stack_opts.port_maps = stack_ports;
	}
	if (ch == 'P')
		stack_params[stack_opts.nparams++] = arg;
	else
		stack_ports[stack_opts.nport_maps++] = arg;
	return 0;
}

#define STACK_LONGOPTS { "parameter", required_argument, NULL, 'P' }, \
	{ "port-map", required_argument, NULL, 'M' }

static int cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		STACK_LONGOPTS,
		{ "access-log", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct lb_options opt = { DEFAULT_CONFIG, -1, NULL, &stack_opts };
	int ch;

	while ((ch = getopt_long(argc, argv, "c:p:vqh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': opt.config_path = optarg; break;
		case 'p': opt.port = parse_port(optarg); break;
		case 'a': opt.access_log = optarg; break;
		case 'P': case 'M': stack_option(ch, optarg, argc); break;
		case 'v': log_set_level(LOG_DEBUG); break;
		case 'q': log_set_level(LOG_WARN); break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("lb " LB_VERSION "\n"); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return lb_serve(&opt);
}

static int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = { STACK_LONGOPTS, { NULL, 0, NULL, 0 } };
	const char *path = DEFAULT_CONFIG;
	struct lb_err err = { "" };
	struct config *cfg;
	int ch;

	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		if (ch == 'P' || ch == 'M') {
			stack_option(ch, optarg, argc);
			continue;
		}
		if (ch != 'c') {
			usage(stderr);
			return 2;
		}
		path = optarg;
	}
	cfg = config_load_stack(path, &stack_opts, &err);
	if (!cfg || tls_check(cfg, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		config_unref(cfg);
		return 1;
	}
	config_summary(cfg, stdout);
	config_unref(cfg);
	return 0;
}

static int cmd_explain(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "source-ip", required_argument, NULL, 's' },
		STACK_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG;
	struct explain_request er = { 0 };
	const char **headers = xcalloc((size_t)argc, sizeof(*headers));
	struct lb_err err = { "" };
	struct config *cfg = NULL;
	int ch, status = 2;

	while ((ch = getopt_long(argc, argv, "c:X:H:d:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': path = optarg; break;
		case 'X': er.method = optarg; break;
		case 'H': headers[er.nheaders++] = optarg; break;
		case 'd': er.body = optarg; break;
		case 's': er.source_ip = optarg; break;
		case 'P': case 'M': stack_option(ch, optarg, argc); break;
		default: usage(stderr); goto out;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		goto out;
	}
	er.url = argv[optind];
	er.headers = headers;
	status = 1;
	cfg = config_load_stack(path, &stack_opts, &err);
	/* jwt-validation's JWKS URLs, as lb fetches them; unreachable: no keys, said once. */
	if (cfg && jwks_fetch_all(cfg, &err) < 0)
		fprintf(stderr, "lb explain: %s\n", err.msg);
	if (!cfg || explain_print(cfg, &er, stdout, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		goto out;
	}
	status = 0;
out:
	config_unref(cfg);
	free(headers);
	return status;
}

/* lb export cloudformation [-c FILE]: the configuration as a template on stdout. */
static int cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = { STACK_LONGOPTS, { NULL, 0, NULL, 0 } };
	const char *path = DEFAULT_CONFIG;
	struct lb_err err = { "" };
	struct config *cfg;
	int ch, rc;

	if (argc < 2 || strcmp(argv[1], "cloudformation") != 0) {
		usage(stderr);
		return 2;
	}
	argc--, argv++;
	while ((ch = getopt_long(argc, argv, "c:", longopts, NULL)) != -1) {
		if (ch == 'P' || ch == 'M') {
			stack_option(ch, optarg, argc);
			continue;
		}
		if (ch != 'c') {
			usage(stderr);
			return 2;
		}
		path = optarg;
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!(cfg = config_load_stack(path, &stack_opts, &err))) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	rc = cfn_export(cfg, stdout, stderr) == 0 && fflush(stdout) == 0 ? 0 : 1;
	config_unref(cfg);
	return rc;
}

/* `lb ca`: the local CA of `certificates: auto` (made if missing). */
static int cmd_ca(void)
{
	struct lb_err err;

	if (tls_ca_explain(stdout, &err) < 0) {
		log_error("%s", err.msg);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "export") == 0)
		return cmd_export(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "ca") == 0)
		return cmd_ca();
	if (argc > 1 && strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "explain") == 0)
		return cmd_explain(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "runtime") == 0) {
		char *dir = lambda_find_runtimes("/proc/self/exe");
		int status = runtime_cmd(argc - 1, argv + 1, dir);

		free(dir);
		return status;
	}
	return cmd_serve(argc, argv);
}
