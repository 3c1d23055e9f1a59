/*
 * alog_fmt: one access-log line in ALB's format, every field in order
 * (alb-listener-rules.md §5.1), from plain values. Pure; access_log writes it.
 */
#ifndef LB_ALOG_FMT_H
#define LB_ALOG_FMT_H

#include <stdint.h>

#include "base/buf.h"
#include "base/util.h"

#define ALOG_PRIORITY_NONE (-2)   /* logged as "-" */

struct alog_entry {
	const char *type;               /* "http" */
	int64_t time_us;                /* when the response was generated (wall clock) */
	const char *elb;                /* "app/NAME/ID" */
	const char *client_ip;
	uint16_t client_port;
	const char *target;             /* "ip:port", or NULL: "-" (Lambda, not dispatched) */
	double request_processing;      /* seconds; negative: -1 */
	double target_processing;
	double response_processing;
	int elb_status;
	int target_status;              /* <= 0: "-" */
	uint64_t received_bytes;
	uint64_t sent_bytes;
	/* The "request" field: METHOD scheme://HOST:PORT TARGET VERSION; an empty
	 * method logs a malformed request as "- scheme://HOST:PORT- -". */
	struct sv method;
	const char *scheme;             /* "http" */
	struct sv host;
	uint16_t port;
	struct sv request_target;
	const char *version;            /* "HTTP/1.1" */
	struct sv user_agent;           /* empty: "-"; truncated at 8 KB */
	const char *target_group_arn;   /* NULL: "-" */
	struct sv trace_id;             /* empty: "-" */
	int matched_rule_priority;      /* 0 default rule, -1 evaluation error, ALOG_PRIORITY_NONE: "-" */
	int64_t request_creation_us;
	const char *actions_executed;   /* "forward", "fixed-response", "redirect"; NULL: "-" */
	struct sv redirect_url;         /* empty: "-" */
	const char *error_reason;       /* NULL: "-" */
	const char *classification;     /* NULL: "-" */
	const char *classification_reason;
	const char *conn_trace_id;      /* "TID_..." */
	struct sv transformed_host;     /* after a host-header-rewrite; empty: "-" */
	struct sv transformed_uri;      /* after a url-rewrite; empty: "-" */
	const char *transform_status;   /* request_transform_status; NULL: "-" */
	/* HTTPS (NULL: "-") */
	const char *ssl_cipher;         /* "ECDHE-RSA-AES128-GCM-SHA256" */
	const char *ssl_protocol;       /* "TLSv1.2" */
	const char *domain_name;        /* the SNI that chose the certificate */
	const char *chosen_cert_arn;
};

/* Appends the line, with its trailing newline, to out. */
void alog_format(struct buf *out, const struct alog_entry *e);

#endif
