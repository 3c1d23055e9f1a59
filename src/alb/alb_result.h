/*
 * alb_result: a Lambda function's result document → the HTTP response ALB
 * sends, or the reason ALB answers 502 instead (alb-lambda-targets.md §2,
 * DESIGN.md §6). Pure.
 */
#ifndef LB_ALB_RESULT_H
#define LB_ALB_RESULT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "alb/fwd_headers.h"
#include "alb/http_msg.h"

/* ALB: a result document over 1 MB → 502 LambdaResponseTooLarge. */
#define ALB_RESULT_MAX (1024 * 1024)

struct alb_result {
	int status;
	struct sv reason;            /* from statusDescription, or empty */
	struct sv content_type;      /* the function's Content-Type, or empty */
	struct header_list headers;  /* the function's other headers, in order, hop-by-hop dropped */
	bool has_date;               /* the function set Date (ALB keeps it) */
	struct buf body;             /* decoded bytes */
	const char *error_reason;    /* NULL, "LambdaInvalidResponse" or "LambdaResponseTooLarge" */
	char detail[160];            /* why, for lb's own log line */
};

void alb_result_init(struct alb_result *r);
void alb_result_reset(struct alb_result *r);
void alb_result_release(struct alb_result *r);

/*
 * Decodes doc (len bytes) as a result in the target group's mode. 0: r holds
 * the response; -1: r->error_reason and r->detail say why ALB answers 502.
 */
int alb_result_parse(struct alb_result *r, const char *doc, size_t len, bool multi_value);

/* The response for r (views into r, valid while r is). */
void alb_result_response(const struct alb_result *r, struct http_response *resp);

#endif
