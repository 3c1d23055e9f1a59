/*
 * cfn_export: `lb export cloudformation` (DESIGN.md §16): a loaded
 * configuration as a CloudFormation template that creates the same ALB,
 * listeners, rules, target groups, functions, versions, aliases, layers and
 * the Lambda permissions ALB needs. Function and layer code is written the
 * way CDK writes assets: S3 bucket and key parameters for AWS, plus
 * aws:asset:path metadata naming the local directory, so that lb reads the
 * template back and runs the same code.
 */
#ifndef LB_CFN_EXPORT_H
#define LB_CFN_EXPORT_H

#include <stdio.h>

#include "config/config.h"

/* Writes the template as JSON to out; what it cannot express goes to warn
 * (one line each). Returns 0, or -1 when writing failed. */
int cfn_export(const struct config *cfg, FILE *out, FILE *warn);

#endif
