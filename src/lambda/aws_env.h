/*
 * aws_env: reads what the AWS SDKs read (the environment, ~/.aws/credentials
 * and ~/.aws/config, or the files AWS_SHARED_CREDENTIALS_FILE and
 * AWS_CONFIG_FILE name) and resolves credentials with alb/aws_creds.
 */
#ifndef LB_LAMBDA_AWS_ENV_H
#define LB_LAMBDA_AWS_ENV_H

#include "alb/aws_creds.h"
#include "base/buf.h"

/* 0, or -1 with why saying what was tried. */
int aws_env_credentials(struct aws_creds *out, struct buf *why);
/* The Lambda endpoint override: AWS_ENDPOINT_URL_LAMBDA, then AWS_ENDPOINT_URL (NULL: none). */
const char *aws_env_endpoint_url(void);

#endif
