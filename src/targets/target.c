/* target: what every target kind shares — answering and ending a forward. */
#include "targets/target.h"

#include <stdlib.h>
#include <string.h>

#include "net/http_server.h"
#include "targets/targets.h"

const struct target_ops *target_ops_for(const struct target_group *tg)
{
	return tg->target_type == TARGET_LAMBDA ? &lambda_target_ops : &http_target_ops;
}

void forward_init(struct forward *f)
{
	memset(f, 0, sizeof(*f));
	lambda_fwd_init(&f->lambda);
	http_fwd_init(&f->http);
}

void forward_release(struct forward *f)
{
	lambda_fwd_release(&f->lambda);
	http_fwd_release(&f->http);
	free(f->scratch_headers);
}

void forward_answer_page(struct forward *f, int status, bool close)
{
	struct http_response resp = {
		.status = status,
		.content_type = SV("text/html"),
		.body = http_error_page(status),
		.close = close,
	};

	f->out.status = status;
	http_server_respond(f->req, &resp, targets_date(f->targets));
}

void forward_respond(struct forward *f, struct http_response *resp)
{
	size_t n = resp->nheaders;

	if (f->ncookies) {
		xgrow(&f->scratch_headers, &f->cap_scratch_headers, n + f->ncookies, sizeof(*f->scratch_headers));
		if (n)
			memcpy(f->scratch_headers, resp->headers, n * sizeof(*resp->headers));
		memcpy(f->scratch_headers + n, f->cookies, f->ncookies * sizeof(*f->cookies));
		resp->headers = f->scratch_headers;
		resp->nheaders = n + f->ncookies;
	}
	f->out.status = resp->status;
	http_server_respond(f->req, resp, targets_date(f->targets));
	f->out.done_us = time_mono_us();
}

void forward_done(struct forward *f)
{
	f->done(f);
}
