/*
 * alog_fmt: formats one ALB access-log line (alb-listener-rules.md §5.1,
 * fields 1–33, space separated, newline terminated) from a struct alog_entry.
 *
 * Pure and stateless: the caller owns every input and the output buffer;
 * nothing is allocated beyond appending to it. A line must stay one line that
 * ALB log parsers (Athena's regex, AWS's own samples) split correctly, so
 * every quoted field is escaped (see put_quoted).
 */
#include "alb/alog_fmt.h"

#include <stdio.h>

/* "User-Agent string ... truncated at 8 KB" (§5.1 field 14; §4.3). */
#define ALOG_USER_AGENT_MAX 8192

static const char *or_dash(const char *s)
{
	return s ? s : "-";
}

/*
 * The inside of a quoted field. AWS documents no escaping: lb's choice is
 * '"' and '\' preceded by a backslash, and bytes below 0x20 or from 0x7f up
 * as \xNN, so a client cannot end a field early, forge fields or break the
 * line. Runs of plain bytes are copied in one append.
 */
static void put_escaped(struct buf *out, struct sv s)
{
	static const char digits[] = "0123456789abcdef";
	size_t start = 0;

	if (!s.n)
		return;
	for (size_t i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];
		char esc[4] = { '\\', (char)c };
		size_t n = 2;

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			continue;
		if (c != '"' && c != '\\') {
			esc[1] = 'x';
			esc[2] = digits[c >> 4];
			esc[3] = digits[c & 15];
			n = 4;
		}
		buf_append(out, s.p + start, i - start);
		buf_append(out, esc, n);
		start = i + 1;
	}
	buf_append(out, s.p + start, s.n - start);
}

/* " \"value\"", or " \"-\"" when the value is empty. */
static void put_quoted(struct buf *out, struct sv s)
{
	buf_puts(out, " \"");
	if (s.n)
		put_escaped(out, s);
	else
		buf_putc(out, '-');
	buf_putc(out, '"');
}

static void put_quoted_cstr(struct buf *out, const char *s)
{
	put_quoted(out, sv_from(s));
}

static void put_time(struct buf *out, int64_t wall_us)
{
	char iso[28];

	time_iso8601_us(wall_us, iso);
	buf_putc(out, ' ');
	buf_puts(out, iso);
}

/* Seconds with millisecond precision; -1 for a step that never happened (§5.1 fields 6–8). */
static void put_seconds(struct buf *out, double s)
{
	if (s < 0)
		buf_puts(out, " -1");
	else
		buf_printf(out, " %.3f", s);
}

/* Field 9 always has a status: "000" when ALB closed an HTTP/2 connection
 * without one (§4.3, §4.4). */
static void put_elb_status(struct buf *out, int status)
{
	buf_printf(out, " %03d", status > 0 ? status : 0);
}

/* Field 10: "-" when the target gave no response (§5.1). */
static void put_target_status(struct buf *out, int status)
{
	if (status > 0)
		buf_printf(out, " %d", status);
	else
		buf_puts(out, " -");
}

/*
 * Field 13: "METHOD scheme://host:port/target VERSION", the URL as sent. A
 * request that could not be parsed logs as "- http://host:80- -" (§5.1, the
 * 2025-03 sample of §5.4).
 */
static void put_request(struct buf *out, const struct alog_entry *e)
{
	buf_puts(out, " \"");
	put_escaped(out, e->method.n ? e->method : SV("-"));
	buf_putc(out, ' ');
	put_escaped(out, sv_from(e->scheme ? e->scheme : "http"));
	buf_puts(out, "://");
	put_escaped(out, e->host);
	buf_printf(out, ":%u", (unsigned)e->port);
	if (e->method.n) {
		/* "http://host" and "http://host?q": an empty path is "/" (RFC 9112 §3.2.1). */
		if (!e->request_target.n || e->request_target.p[0] == '?' || e->request_target.p[0] == '#')
			buf_putc(out, '/');
		put_escaped(out, e->request_target);
		buf_putc(out, ' ');
		put_escaped(out, sv_from(e->version));
	} else {
		buf_puts(out, "- -");
	}
	buf_putc(out, '"');
}

static void put_user_agent(struct buf *out, struct sv ua)
{
	if (ua.n > ALOG_USER_AGENT_MAX)
		ua.n = ALOG_USER_AGENT_MAX;
	put_quoted(out, ua);
}

static void put_priority(struct buf *out, int priority)
{
	if (priority == ALOG_PRIORITY_NONE)
		buf_puts(out, " -");
	else
		buf_printf(out, " %d", priority);
}

/*
 * Fields 26–27 list every target tried, "currently one item equal to" fields
 * 5 and 10 (§5.1). With no target:port at all (a Lambda target, or nothing
 * dispatched) both lists are "-": AWS's Lambda sample (§5.4) logs "-" "-"
 * there even with target status 200.
 */
static void put_target_lists(struct buf *out, const struct alog_entry *e)
{
	char status[16] = "";

	put_quoted_cstr(out, e->target);
	if (e->target && e->target_status > 0)
		snprintf(status, sizeof(status), "%d", e->target_status);
	put_quoted_cstr(out, status);
}

void alog_format(struct buf *out, const struct alog_entry *e)
{
	buf_puts(out, or_dash(e->type));
	put_time(out, e->time_us);
	/* client:port is "ip:port" (§5.1 field 4); an IPv6 client is written
	 * without brackets, as ALB's field reads (unverified). */
	buf_printf(out, " %s %s:%u %s", or_dash(e->elb), or_dash(e->client_ip),
		   (unsigned)e->client_port, or_dash(e->target));
	put_seconds(out, e->request_processing);
	put_seconds(out, e->target_processing);
	put_seconds(out, e->response_processing);
	put_elb_status(out, e->elb_status);
	put_target_status(out, e->target_status);
	buf_printf(out, " %llu %llu", (unsigned long long)e->received_bytes,
		   (unsigned long long)e->sent_bytes);
	put_request(out, e);
	put_user_agent(out, e->user_agent);
	/* ssl_cipher, ssl_protocol: "-" on a non-HTTPS listener (§5.1 fields 15–16). */
	buf_printf(out, " %s %s %s", or_dash(e->ssl_cipher), or_dash(e->ssl_protocol),
		   or_dash(e->target_group_arn));
	put_quoted(out, e->trace_id);
	/* domain_name, chosen_cert_arn: "-" without TLS (fields 19–20); the
	 * domain is "-" too when no certificate matched the SNI (§2.3). */
	put_quoted_cstr(out, e->domain_name);
	put_quoted_cstr(out, e->chosen_cert_arn);
	put_priority(out, e->matched_rule_priority);
	put_time(out, e->request_creation_us);
	put_quoted_cstr(out, e->actions_executed);
	put_quoted(out, e->redirect_url);
	put_quoted_cstr(out, e->error_reason);
	put_target_lists(out, e);
	put_quoted_cstr(out, e->classification);
	put_quoted_cstr(out, e->classification_reason);
	buf_printf(out, " %s", or_dash(e->conn_trace_id));
	/* transformed_host, transformed_uri, request_transform_status: the
	 * rule transforms' results (fields 31–33). */
	put_quoted(out, e->transformed_host);
	put_quoted(out, e->transformed_uri);
	put_quoted_cstr(out, e->transform_status);
	buf_putc(out, '\n');
}
