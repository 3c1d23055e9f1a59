/*
 * console_metrics: /metrics. CloudWatch's metric names, as Prometheus
 * exporters of CloudWatch (prometheus/cloudwatch_exporter, YACE) spell
 * them: namespace prefix, snake case, counters ending in _total, durations
 * in seconds — so `promtool check metrics` finds nothing to lint — and
 * each HELP line names the CloudWatch metric it stands for. CloudWatch's
 * dimensions are labels with CloudWatch's values: load_balancer
 * "app/NAME/ID", target_group "targetgroup/NAME/ID", function, version.
 *
 * Counters come from console_record; gauges (healthy hosts, concurrency,
 * sandboxes) are computed at each scrape.
 */
#include "console/console_int.h"

#include <string.h>

#include "alb/health_state.h"
#include "lambda/lambda.h"
#include "targets/health.h"
#include "targets/targets.h"
#include "workers.h"

/* TargetResponseTime and Duration buckets, seconds. */
static const double time_bounds[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 };

#define ELB "aws_applicationelb_"
#define LAMBDA "aws_lambda_"

void console_metrics_init(struct console *c)
{
	static const struct {
		const char *name, *help;
		enum metric_type type;
	} defs[M_NFAMILIES] = {
		[M_REQUESTS] = { ELB "request_count_total", "RequestCount: requests lb answered", METRIC_COUNTER },
		[M_REQUESTS_TG] = { ELB "request_count_per_target_group_total",
				    "RequestCount by TargetGroup: requests forwarded to the group", METRIC_COUNTER },
		[M_ELB_3XX] = { ELB "httpcode_elb_3xx_count_total", "HTTPCode_ELB_3XX_Count: 3XX answers lb made itself (redirects)", METRIC_COUNTER },
		[M_ELB_4XX] = { ELB "httpcode_elb_4xx_count_total", "HTTPCode_ELB_4XX_Count: 4XX answers lb made itself", METRIC_COUNTER },
		[M_ELB_5XX] = { ELB "httpcode_elb_5xx_count_total", "HTTPCode_ELB_5XX_Count: 5XX answers lb made itself", METRIC_COUNTER },
		[M_ELB_500] = { ELB "httpcode_elb_500_count_total", "HTTPCode_ELB_500_Count", METRIC_COUNTER },
		[M_ELB_502] = { ELB "httpcode_elb_502_count_total", "HTTPCode_ELB_502_Count", METRIC_COUNTER },
		[M_ELB_503] = { ELB "httpcode_elb_503_count_total", "HTTPCode_ELB_503_Count", METRIC_COUNTER },
		[M_ELB_504] = { ELB "httpcode_elb_504_count_total", "HTTPCode_ELB_504_Count", METRIC_COUNTER },
		[M_TARGET_2XX] = { ELB "httpcode_target_2xx_count_total", "HTTPCode_Target_2XX_Count: 2XX answers of targets", METRIC_COUNTER },
		[M_TARGET_3XX] = { ELB "httpcode_target_3xx_count_total", "HTTPCode_Target_3XX_Count", METRIC_COUNTER },
		[M_TARGET_4XX] = { ELB "httpcode_target_4xx_count_total", "HTTPCode_Target_4XX_Count", METRIC_COUNTER },
		[M_TARGET_5XX] = { ELB "httpcode_target_5xx_count_total", "HTTPCode_Target_5XX_Count", METRIC_COUNTER },
		[M_TARGET_TIME] = { ELB "target_response_time_seconds",
				    "TargetResponseTime: from the request leaving lb to the target's answer", METRIC_HISTOGRAM },
		[M_PROCESSED_BYTES] = { ELB "processed_bytes_total", "ProcessedBytes: bytes received and sent", METRIC_COUNTER },
		[M_FIXED] = { ELB "http_fixed_response_count_total", "HTTP_Fixed_Response_Count", METRIC_COUNTER },
		[M_REDIRECT] = { ELB "http_redirect_count_total", "HTTP_Redirect_Count", METRIC_COUNTER },
		[M_LAMBDA_USER_ERROR] = { ELB "lambda_user_error_total",
					  "LambdaUserError: requests failed by the function (error, invalid or too large result)", METRIC_COUNTER },
		[M_HEALTHY] = { ELB "healthy_hosts", "HealthyHostCount: targets healthy", METRIC_GAUGE },
		[M_UNHEALTHY] = { ELB "un_healthy_hosts", "UnHealthyHostCount: targets unhealthy", METRIC_GAUGE },
		[M_INVOCATIONS] = { LAMBDA "invocations_total", "Invocations: invocations that ran, errors included", METRIC_COUNTER },
		[M_ERRORS] = { LAMBDA "errors_total", "Errors: invocations that failed in the function", METRIC_COUNTER },
		[M_THROTTLES] = { LAMBDA "throttles_total", "Throttles: invocations refused for concurrency", METRIC_COUNTER },
		[M_DURATION] = { LAMBDA "duration_seconds", "Duration: time the function ran (a cold start's init included)", METRIC_HISTOGRAM },
		[M_CONCURRENT] = { LAMBDA "concurrent_executions", "ConcurrentExecutions: invocations running now", METRIC_GAUGE },
		[M_SANDBOXES] = { LAMBDA "sandboxes", "lb's sandboxes (execution environments) by state", METRIC_GAUGE },
	};

	c->m = metrics_new();
	for (int i = 0; i < M_NFAMILIES; i++) {
		bool hist = defs[i].type == METRIC_HISTOGRAM;
		c->fam[i] = metrics_family(c->m, defs[i].name, defs[i].help, defs[i].type, hist ? time_bounds : NULL,
					   hist ? ARRAY_LEN(time_bounds) : 0);
	}
}

const char *console_labels(struct console *c, const struct target_group *tg)
{
	const char *slash;

	buf_reset(&c->labels);
	metrics_label(&c->labels, "load_balancer", c->cfg->lb.elb);
	/* CloudWatch's TargetGroup dimension: the ARN's last part, "targetgroup/NAME/ID". */
	if (tg && (slash = strstr(tg->arn, ":targetgroup/")) != NULL)
		metrics_label(&c->labels, "target_group", slash + 1);
	return c->labels.p;
}

struct health_count {
	int healthy, unhealthy;
};

static void count_target(void *cookie, const char *key, const struct health_state *hs, unsigned in_flight)
{
	struct health_count *hc = cookie;

	(void)key;
	(void)in_flight;
	if (hs->health == HEALTH_HEALTHY)
		hc->healthy++;
	else if (hs->health == HEALTH_UNHEALTHY)
		hc->unhealthy++;
}

static void scrape_gauges(struct console *c)
{
	const struct config *cfg = c->cfg;

	for (int i = M_HEALTHY; i <= M_UNHEALTHY; i++)
		metrics_clear(c->m, c->fam[i]);
	metrics_clear(c->m, c->fam[M_CONCURRENT]);
	metrics_clear(c->m, c->fam[M_SANDBOXES]);
	for (size_t i = 0; i < cfg->ntarget_groups; i++) {
		const struct target_group *tg = &cfg->target_groups[i];
		struct health_count hc = { 0, 0 };
		const struct health_state *hs;

		if (tg->target_type == TARGET_LAMBDA) {
			hs = health_lambda_state(c->health, tg->name);
			if (hs && tg->function)
				count_target(&hc, NULL, hs, 0);
		} else {
			targets_each(c->targets, tg, count_target, &hc);
		}
		console_labels(c, tg);
		metrics_set(c->m, c->fam[M_HEALTHY], c->labels.p, hc.healthy);
		metrics_set(c->m, c->fam[M_UNHEALTHY], c->labels.p, hc.unhealthy);
	}
	for (size_t i = 0; i < cfg->nfunctions; i++) {
		const char *name = cfg->functions[i].name;
		static const char *const states[] = { "starting", "warm", "busy" };
		struct lambda_pool_stats st;
		size_t n[3];

		lambda_pool_stats(c->lambda, name, &st);
		n[0] = st.starting;
		n[1] = st.idle;
		n[2] = st.busy;
		buf_reset(&c->labels);
		metrics_label(&c->labels, "function", name);
		metrics_set(c->m, c->fam[M_CONCURRENT], c->labels.p, (double)(st.busy + st.starting));
		for (size_t k = 0; k < ARRAY_LEN(states); k++) {
			buf_reset(&c->labels);
			metrics_label(&c->labels, "function", name);
			metrics_label(&c->labels, "state", states[k]);
			metrics_set(c->m, c->fam[M_SANDBOXES], c->labels.p, (double)n[k]);
		}
	}
}

void console_metrics_write(struct console *c, struct buf *out)
{
	const char *lb = console_labels(c, NULL);

	/* The load balancer's counters show from the start, at 0. */
	for (int i = M_REQUESTS; i <= M_ELB_504; i++)
		if (i != M_REQUESTS_TG)
			metrics_inc(c->m, c->fam[i], lb, 0);
	metrics_inc(c->m, c->fam[M_PROCESSED_BYTES], lb, 0);
	metrics_inc(c->m, c->fam[M_FIXED], lb, 0);
	metrics_inc(c->m, c->fam[M_REDIRECT], lb, 0);
	scrape_gauges(c);
	metrics_write(c->m, out);
	workers_metrics_write(out);
}
