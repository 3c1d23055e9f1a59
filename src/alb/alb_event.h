/*
 * alb_event: the JSON event an ALB sends a Lambda target
 * (alb-lambda-targets.md §1): requestContext.elb.targetGroupArn, httpMethod,
 * path, the query and header maps of the target group's mode, body and
 * isBase64Encoded. Pure: written straight into a buffer, no JSON tree.
 */
#ifndef LB_ALB_EVENT_H
#define LB_ALB_EVENT_H

#include <stdbool.h>

#include "base/buf.h"
#include "alb/fwd_headers.h"
#include "alb/http_msg.h"

/* ALB: a request body over 1 MB gets 413 without invoking (1 MB = 2^20, DESIGN.md §6). */
#define ALB_EVENT_BODY_MAX (1024 * 1024)

struct alb_event_input {
	const struct http_request *req;      /* method, path, query, body */
	const struct http_header *headers;   /* the headers toward the target (fwd_headers) */
	size_t nheaders;
	const char *target_group_arn;
	bool multi_value;                    /* lambda.multi_value_headers.enabled */
};

/* Appends the event JSON to out. False when a header value or a text body
 * (isBase64Encoded false) is not UTF-8: ALB does not invoke (LambdaBadRequest). */
bool alb_event_write(struct buf *out, const struct alb_event_input *in);

/* Appends a health-check event (GET path, only user-agent ELB-HealthChecker/2.0). */
void alb_event_write_health_check(struct buf *out, const char *path, const char *target_group_arn,
				  bool multi_value);

/* Whether ALB sends a body with this Content-Type/Content-Encoding as text
 * (false: base64 with isBase64Encoded true). */
bool alb_event_body_is_text(struct sv content_type, bool has_content_encoding);

/* Appends s as a JSON string literal (quotes included), escaping as JSON requires. */
void json_write_string(struct buf *out, const char *s, size_t n);

/* The length of the well-formed UTF-8 sequence starting at p (n > 0 bytes), or 0. */
size_t utf8_len(const unsigned char *p, size_t n);

#endif
