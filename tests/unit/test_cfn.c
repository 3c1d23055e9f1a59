/*
 * Unit tests for cfn_eval and cfn_node: CloudFormation's intrinsic functions,
 * conditions, parameters, mappings and the Ref/GetAtt values of resources,
 * evaluated over a template written to a temporary file. Each probe is the
 * top-level key "Probe" of a template whose resources are TEMPLATE below;
 * results are rendered as text ("a", "[a, b]", "{K: v}", "(novalue)").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/cfn.h"
#include "test.h"

static char path[] = "/tmp/lb-test-cfn-XXXXXX";
static struct lb_err err;
static char out[4096];

#define TEMPLATE                                                                          \
	"Parameters:\n"                                                                   \
	"  Stage: {Type: String, Default: dev}\n"                                         \
	"  List: {Type: CommaDelimitedList, Default: \"a,b,c\"}\n"                        \
	"Mappings:\n"                                                                     \
	"  M: {dev: {W: \"3\"}, prod: {W: \"1\"}}\n"                                      \
	"Conditions:\n"                                                                   \
	"  IsDev: !Equals [!Ref Stage, dev]\n"                                            \
	"  IsProd: !Not [!Condition IsDev]\n"                                             \
	"  Any: !Or [!Condition IsDev, !Condition IsProd]\n"                              \
	"  Both: !And [!Condition IsDev, !Condition IsProd]\n"                            \
	"Resources:\n"                                                                    \
	"  Fn: {Type: AWS::Lambda::Function, Properties: {FunctionName: !Sub \"f-${Stage}\"}}\n" \
	"  Anon: {Type: AWS::Lambda::Function}\n"                                         \
	"  V1: {Type: AWS::Lambda::Version, Properties: {FunctionName: !Ref Fn}}\n"       \
	"  VA: {Type: AWS::Lambda::Version, Properties: {FunctionName: !GetAtt Anon.Arn}}\n" \
	"  V2: {Type: AWS::Lambda::Version, Properties: {FunctionName: !Ref Fn}}\n"       \
	"  Al: {Type: AWS::Lambda::Alias, Properties: {FunctionName: !Ref Fn, Name: live,\n" \
	"       FunctionVersion: !GetAtt V2.Version}}\n"                                  \
	"  Sam: {Type: AWS::Serverless::Function, Properties: {AutoPublishAlias: prod}}\n" \
	"  TG: {Type: AWS::ElasticLoadBalancingV2::TargetGroup, Properties: {Name: web}}\n" \
	"  LB: {Type: AWS::ElasticLoadBalancingV2::LoadBalancer}\n"                       \
	"  Role: {Type: AWS::IAM::Role}\n"                                                \
	"  Off: {Type: AWS::Lambda::Function, Condition: IsProd}\n"                       \
	"  C1: {Type: AWS::Lambda::Function, Properties: {FunctionName: !Ref C2}}\n"      \
	"  C2: {Type: AWS::Lambda::Function, Properties: {FunctionName: !Ref C1}}\n"

static void render(struct buf *b, const struct ynode *n)
{
	if (!n) {
		buf_puts(b, "(novalue)");
		return;
	}
	if (n->type == YNODE_SCALAR) {
		buf_puts(b, n->str);
		return;
	}
	buf_puts(b, n->type == YNODE_SEQUENCE ? "[" : "{");
	for (size_t i = 0; i < n->n; i++) {
		if (i)
			buf_puts(b, ", ");
		if (n->type == YNODE_SEQUENCE) {
			render(b, n->items[i]);
		} else {
			buf_printf(b, "%s: ", n->pairs[i].key->str);
			render(b, n->pairs[i].value);
		}
	}
	buf_puts(b, n->type == YNODE_SEQUENCE ? "]" : "}");
}

/* Evaluates the YAML expr in the template tmpl with the given --parameter values. */
static const char *eval_in(const char *tmpl, const char *expr, const char *const *params,
			   size_t nparams)
{
	struct stack_opts opts = { .params = params, .nparams = nparams };
	struct buf b = BUF_INIT, skipped = BUF_INIT;
	struct ynode *v;
	struct ydoc *doc;
	struct cfn c;
	FILE *f = fopen(path, "w");

	fprintf(f, "%sProbe: %s\n", tmpl, expr);
	fclose(f);
	if (!(doc = ydoc_load_tagged(path, &err)))
		return err.msg;
	c = (struct cfn){ .a = &doc->arena, .file = path, .opts = &opts, .skipped = &skipped,
			  .region = "us-east-1", .account = "123456789012", .stack = "st", .err = &err };
	c.root = cfn_flip(c.a, doc->root);
	cfn_stacks_init(&c);
	if (cfn_resources(&c, &err) || cfn_eval(&c, ydoc_get(c.root, "Probe"), &v)) {
		snprintf(out, sizeof(out), "%s", strchr(err.msg, ':') + 1);
	} else {
		render(&b, v);
		snprintf(out, sizeof(out), "%s", buf_cstr(&b));
	}
	buf_release(&b);
	buf_release(&skipped);
	ydoc_free(doc);
	return out;
}

static const char *eval_with(const char *expr, const char *const *params, size_t nparams)
{
	return eval_in(TEMPLATE, expr, params, nparams);
}

static const char *eval(const char *expr)
{
	return eval_with(expr, NULL, 0);
}

/* Maps the template tmpl onto lb's configuration: "ok", or the error after the file name. */
static const char *map_in(const char *tmpl)
{
	struct buf skipped = BUF_INIT;
	struct ynode *v;
	struct ydoc *doc;
	struct cfn c;
	FILE *f = fopen(path, "w");

	fputs(tmpl, f);
	fclose(f);
	if (!(doc = ydoc_load_tagged(path, &err)))
		return err.msg;
	c = (struct cfn){ .a = &doc->arena, .file = path, .skipped = &skipped, .region = "us-east-1",
			  .account = "123456789012", .stack = "st", .err = &err };
	c.root = cfn_flip(c.a, doc->root);
	cfn_stacks_init(&c);
	if (cfn_resources(&c, &err) || cfn_config(&c, &v))
		snprintf(out, sizeof(out), "%s", strchr(err.msg, ':') + 1);
	else
		snprintf(out, sizeof(out), "ok");
	buf_release(&skipped);
	ydoc_free(doc);
	return out;
}

TEST(ref_of_a_parameter_is_its_default_or_the_command_lines_value)
{
	static const char *const prod[] = { "Stage=prod" };

	CHECK_STR(eval("!Ref Stage"), "dev");
	CHECK_STR(eval_with("!Ref Stage", prod, 1), "prod");
	CHECK_STR(eval("!Ref List"), "[a, b, c]");
	CHECK_STR(eval("{Ref: AWS::Region}"), "us-east-1");
	CHECK_STR(eval("!Sub '${AWS::AccountId} ${AWS::Partition} ${AWS::StackName}'"),
		  "123456789012 aws st");
}

TEST(ref_of_a_function_is_its_name_and_getatt_arn_its_arn)
{
	CHECK_STR(eval("!Ref Fn"), "f-dev");
	CHECK_STR(eval("!Ref Anon"), "Anon");
	CHECK_STR(eval("!GetAtt Fn.Arn"), "arn:aws:lambda:us-east-1:123456789012:function:f-dev");
	CHECK_STR(eval("!GetAtt [Fn, Arn]"), "arn:aws:lambda:us-east-1:123456789012:function:f-dev");
	CHECK_STR(eval("{\"Fn::GetAtt\": [Fn, Arn]}"),
		  "arn:aws:lambda:us-east-1:123456789012:function:f-dev");
}

TEST(versions_are_numbered_per_function_in_template_order)
{
	CHECK_STR(eval("!GetAtt V1.Version"), "1");
	CHECK_STR(eval("!GetAtt VA.Version"), "1");
	CHECK_STR(eval("!GetAtt V2.Version"), "2");
	CHECK_STR(eval("!Ref V2"), "arn:aws:lambda:us-east-1:123456789012:function:f-dev:2");
	CHECK_STR(eval("!Ref Al"), "arn:aws:lambda:us-east-1:123456789012:function:f-dev:live");
}

TEST(sam_alias_and_version_references)
{
	CHECK_STR(eval("!Ref Sam.Alias"), "arn:aws:lambda:us-east-1:123456789012:function:Sam:prod");
	CHECK_STR(eval("!Ref Sam.Version"), "arn:aws:lambda:us-east-1:123456789012:function:Sam:1");
	CHECK_STR(eval("!GetAtt Sam.Alias.Name"), "prod");
	CHECK_STR(eval("!Sub '${Sam.Alias}'"), "arn:aws:lambda:us-east-1:123456789012:function:Sam:prod");
}

TEST(elb_resources_have_arns_and_names)
{
	CHECK(strncmp(eval("!Ref TG"), "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
		      "targetgroup/web/", 68) == 0);
	CHECK(strncmp(eval("!GetAtt TG.TargetGroupFullName"), "targetgroup/web/", 16) == 0);
	CHECK_STR(eval("!GetAtt TG.TargetGroupName"), "web");
	CHECK(strncmp(eval("!GetAtt LB.LoadBalancerFullName"), "app/LB/", 7) == 0);
	CHECK_STR(eval("!GetAtt TG.Nope"), "26:8: unknown attribute 'Nope' of 'TG' "
		  "(AWS::ElasticLoadBalancingV2::TargetGroup)");
}

#define ELB_ARN "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
#define LISTENERS                                                                           \
	"Resources:\n"                                                                     \
	"  LB: {Type: AWS::ElasticLoadBalancingV2::LoadBalancer, Properties: {Name: web}}\n" \
	"  L: {Type: AWS::ElasticLoadBalancingV2::Listener, Properties: {LoadBalancerArn: !Ref LB}}\n" \
	"  R: {Type: AWS::ElasticLoadBalancingV2::ListenerRule,\n"                         \
	"      Properties: {ListenerArn: !GetAtt L.ListenerArn}}\n"                         \
	"  Lit: {Type: AWS::ElasticLoadBalancingV2::Listener, Properties:\n"               \
	"        {LoadBalancerArn: \"" ELB_ARN "loadbalancer/app/web/5ea0e11948721ef1\"}}\n" \
	"  Imp: {Type: AWS::ElasticLoadBalancingV2::Listener,\n"                           \
	"        Properties: {LoadBalancerArn: !ImportValue shared-lb}}\n"                  \
	"  Far: {Type: AWS::ElasticLoadBalancingV2::Listener, Properties:\n"               \
	"        {LoadBalancerArn: \"" ELB_ARN "loadbalancer/app/far/0123456789abcdef\"}}\n" \
	"  NoLb: {Type: AWS::ElasticLoadBalancingV2::Listener}\n"                          \
	"  Stray: {Type: AWS::ElasticLoadBalancingV2::ListenerRule, Properties: {ListenerArn: x}}\n" \
	"  Nlb: {Type: AWS::ElasticLoadBalancingV2::LoadBalancer,\n"                       \
	"        Properties: {Name: tcp, Type: network}}\n"                                 \
	"  NL: {Type: AWS::ElasticLoadBalancingV2::Listener, Properties: {LoadBalancerArn: !Ref Nlb}}\n"

/* Why: AWS builds a listener's ARN on its load balancer's (name and id) and a rule's on
 * its listener's; the template's own load balancer may also be named by a literal ARN. */
TEST(listener_and_rule_arns_are_built_on_their_load_balancers)
{
	CHECK_STR(eval_in(LISTENERS, "!Ref LB", NULL, 0),
		  ELB_ARN "loadbalancer/app/web/5ea0e11948721ef1");
	CHECK_STR(eval_in(LISTENERS, "!Ref L", NULL, 0),
		  ELB_ARN "listener/app/web/5ea0e11948721ef1/af64014c86022b6b");
	CHECK_STR(eval_in(LISTENERS, "!GetAtt L.ListenerArn", NULL, 0),
		  ELB_ARN "listener/app/web/5ea0e11948721ef1/af64014c86022b6b");
	CHECK_STR(eval_in(LISTENERS, "!Ref R", NULL, 0),
		  ELB_ARN "listener-rule/app/web/5ea0e11948721ef1/af64014c86022b6b/af640f4c86024335");
	CHECK_STR(eval_in(LISTENERS, "!GetAtt R.RuleArn", NULL, 0),
		  ELB_ARN "listener-rule/app/web/5ea0e11948721ef1/af64014c86022b6b/af640f4c86024335");
	CHECK_STR(eval_in(LISTENERS, "!Ref Lit", NULL, 0),
		  ELB_ARN "listener/app/web/5ea0e11948721ef1/24ec9419b87f1a96");
}

/* Why: a network load balancer's ARN says net where an application one's says app. */
TEST(a_network_load_balancer_and_its_listener_have_net_arns)
{
	CHECK_STR(eval_in(LISTENERS, "!Ref Nlb", NULL, 0),
		  ELB_ARN "loadbalancer/net/tcp/56d0b41944429590");
	CHECK_STR(eval_in(LISTENERS, "!GetAtt Nlb.LoadBalancerFullName", NULL, 0), "net/tcp/56d0b41944429590");
	CHECK_STR(eval_in(LISTENERS, "!GetAtt LB.LoadBalancerFullName", NULL, 0),
		  "app/web/5ea0e11948721ef1");
	CHECK_STR(eval_in(LISTENERS, "!Ref NL", NULL, 0),
		  ELB_ARN "listener/net/tcp/56d0b41944429590/09203807b5b534c7");
}

TEST(a_listener_whose_load_balancer_is_not_the_templates_has_no_arn)
{
	CHECK_STR(eval_in(LISTENERS, "!Ref Imp", NULL, 0), "9:39: Fn::ImportValue reads another "
		  "stack's exports, which lb cannot see: write the value here");
	CHECK_STR(eval_in(LISTENERS, "!Ref Far", NULL, 0), "11:27: '" ELB_ARN
		  "loadbalancer/app/far/0123456789abcdef' is not a load balancer of this template");
	CHECK_STR(eval_in(LISTENERS, "!Ref NoLb", NULL, 0),
		  "12:9: listener 'NoLb' needs LoadBalancerArn");
	CHECK_STR(eval_in(LISTENERS, "!Ref Stray", NULL, 0),
		  "13:86: 'x' is not a listener of this template");
}

/* A load balancer with one listener, whose attributes are line 3, and a target group
 * whose properties are line 9. */
static const char *map_attrs(const char *lb_attrs, const char *tg_props)
{
	static char t[2048];

	snprintf(t, sizeof(t),
		 "Resources:\n"
		 "  LB:\n"
		 "    {Type: AWS::ElasticLoadBalancingV2::LoadBalancer, Properties: {%s}}\n"
		 "  L:\n"
		 "    Type: AWS::ElasticLoadBalancingV2::Listener\n"
		 "    Properties: {LoadBalancerArn: !Ref LB, Port: 8080, DefaultActions:\n"
		 "      [{Type: fixed-response, FixedResponseConfig: {StatusCode: \"200\"}}]}\n"
		 "  TG:\n"
		 "    {Type: AWS::ElasticLoadBalancingV2::TargetGroup, Properties: {%s}}\n",
		 lb_attrs, tg_props);
	return map_in(t);
}

/* Why: CloudFormation refuses these shapes; lb used to drop them without a word. */
TEST(attributes_and_matcher_of_the_wrong_shape_are_errors_at_their_place)
{
	CHECK_STR(map_attrs("LoadBalancerAttributes: {Key: a, Value: b}", ""),
		  "3:92: 'LoadBalancerAttributes' must be a list");
	CHECK_STR(map_attrs("LoadBalancerAttributes: [x]", ""),
		  "3:93: 'LoadBalancerAttributes' must be a list of mappings");
	CHECK_STR(map_attrs("LoadBalancerAttributes: [{Key: idle_timeout.timeout_seconds}]", ""),
		  "3:93: missing key 'Value'");
	CHECK_STR(map_attrs("LoadBalancerAttributes: [{Value: x}]", ""), "3:93: missing key 'Key'");
	CHECK_STR(map_attrs("LoadBalancerAttributes: [{Key: a, Vaule: b}]", ""),
		  "3:102: unknown key 'Vaule' (did you mean 'Value'?)");
	CHECK_STR(map_attrs("LoadBalancerAttributes: [{Key: a, Value: [b]}]", ""),
		  "3:109: 'Value' must be a string");
	CHECK_STR(map_attrs("", "TargetGroupAttributes: {a: b}"),
		  "9:90: 'TargetGroupAttributes' must be a list");
	CHECK_STR(map_attrs("", "TargetGroupAttributes: [[Key, x]]"),
		  "9:91: 'TargetGroupAttributes' must be a list of mappings");
	CHECK_STR(map_attrs("", "TargetGroupAttributes: [{Key: [a], Value: b}]"),
		  "9:97: 'Key' must be a string");
	CHECK_STR(map_attrs("", "Matcher: \"200\""), "9:76: 'Matcher' must be a mapping");
	CHECK_STR(map_attrs("", "Matcher: {}"), "9:76: 'Matcher' needs HttpCode or GrpcCode");
	CHECK_STR(map_attrs("", "Matcher: {HttpCodes: \"200\"}"),
		  "9:77: unknown key 'HttpCodes' (did you mean 'HttpCode'?)");
	CHECK_STR(map_attrs("", "Matcher: {HttpCode: [\"200\"]}"),
		  "9:87: 'HttpCode' must be a string");
}

/* Why: CloudFormation stringifies a number or boolean Value; keys lb does not emulate
 * are AWS's to honour and stay accepted. */
TEST(attributes_take_scalar_values_and_keys_lb_does_not_emulate)
{
	CHECK_STR(map_attrs("LoadBalancerAttributes: [{Key: idle_timeout.timeout_seconds, Value: 30},"
			    " {Key: deletion_protection.enabled, Value: true}]",
			    "Port: 80, Protocol: HTTP, Matcher: {HttpCode: 200},"
			    " TargetGroupAttributes: [{Key: stickiness.enabled, Value: false}]"),
		  "ok");
	CHECK_STR(map_attrs("", "Port: 80, Protocol: HTTP, Matcher: {GrpcCode: \"0-99\"}, "
			    "ProtocolVersion: GRPC"), "ok");
}

TEST(resources_lb_does_not_emulate_get_placeholders)
{
	CHECK_STR(eval("!Ref Role"), "Role");
	CHECK_STR(eval("!GetAtt Role.Arn"), "Role.Arn");
}

TEST(sub_replaces_variables_references_attributes_and_keeps_literals)
{
	CHECK_STR(eval("!Sub '${Stage}-${Fn}-${!Literal}-${TG.TargetGroupName}'"),
		  "dev-f-dev-${Literal}-web");
	CHECK_STR(eval("!Sub ['${A}/${Stage}', {A: !Ref Fn}]"), "f-dev/dev");
	CHECK_STR(eval("!Sub 'x${Stage'"), "26:8: Fn::Sub: '${' without '}'");
}

TEST(join_select_split_base64_and_getazs)
{
	CHECK_STR(eval("!Join [',', [a, !Ref Stage, !Select [2, !Ref List]]]"), "a,dev,c");
	CHECK_STR(eval("!Join ['', []]"), "");
	CHECK_STR(eval("!Split ['|', 'a||b']"), "[a, , b]");
	CHECK_STR(eval("!Select ['1', !Split [',', 'x,y']]"), "y");
	CHECK_STR(eval("!Select [3, !Ref List]"), "26:17: Fn::Select: index '3' is not in 0-2");
	CHECK_STR(eval("!Base64 hello"), "aGVsbG8=");
	CHECK_STR(eval("{\"Fn::Base64\": !Sub '${Stage}'}"), "ZGV2");
	CHECK_STR(eval("!Select [0, !GetAZs '']"), "us-east-1a");
}

TEST(getatt_short_form_splits_at_the_first_dot)
{
	CHECK_STR(eval("!GetAtt Role.Some.Nested"), "Role.Some.Nested");
}

TEST(if_chooses_by_condition_and_novalue_removes)
{
	static const char *const prod[] = { "Stage=prod" };

	CHECK_STR(eval("!If [IsDev, yes, no]"), "yes");
	CHECK_STR(eval_with("!If [IsDev, yes, no]", prod, 1), "no");
	CHECK_STR(eval("{A: !If [IsProd, x, !Ref AWS::NoValue], B: b}"), "{B: b}");
	CHECK_STR(eval("[a, !If [IsProd, x, !Ref AWS::NoValue]]"), "[a]");
	CHECK_STR(eval("[!If [Any, any, none], !If [Both, both, notboth]]"), "[any, notboth]");
	CHECK_STR(eval("!If [Nope, a, b]"), "26:13: no condition 'Nope' in Conditions");
}

TEST(find_in_map_looks_up_two_levels)
{
	static const char *const prod[] = { "Stage=prod" };

	CHECK_STR(eval("!FindInMap [M, !Ref Stage, W]"), "3");
	CHECK_STR(eval_with("!FindInMap [M, !Ref Stage, W]", prod, 1), "1");
	CHECK_STR(eval("!FindInMap [M, qa, W]"), "26:23: Fn::FindInMap: no key 'qa'");
}

TEST(errors_name_the_expression)
{
	CHECK_STR(eval("!Ref Nope"), "26:8: unresolved reference 'Nope': not a parameter, "
		  "resource or pseudo-parameter");
	CHECK_STR(eval("!Ref Off"), "26:8: 'Off' is not created: its condition is false");
	CHECK_STR(eval("!Cidr [a, 1, 2]"), "26:8: Fn::Cidr is not supported");
	CHECK_STR(eval("!ImportValue x"), "26:8: Fn::ImportValue reads another stack's exports, "
		  "which lb cannot see: write the value here");
	CHECK_STR(eval("!Ref C1"), "24:7: 'C1' refers to itself through its references");
	CHECK_STR(eval("!Join [a]"), "26:8: Fn::Join takes a list of 2 values");
}

/* Why: each condition refers to the one before 10 times; evaluated per reference, 30
 * levels would take 10^30 evaluations. */
TEST(chained_conditions_are_evaluated_once_each)
{
	static const char *const prod[] = { "Stage=prod" };
	struct buf t = BUF_INIT;

	buf_puts(&t, "Parameters:\n  Stage: {Type: String, Default: dev}\nConditions:\n"
		 "  C0: !Equals [!Ref Stage, dev]\n");
	for (int i = 1; i < 30; i++) {
		buf_printf(&t, "  C%d: !%s [", i, i % 2 ? "And" : "Or");
		for (int j = 0; j < 10; j++)
			buf_printf(&t, "%s!Condition C%d", j ? ", " : "", i - 1);
		buf_puts(&t, "]\n");
	}
	buf_puts(&t, "  Top: !Not [!Condition C29]\nResources:\n"
		 "  F: {Type: AWS::Lambda::Function, Condition: C29}\n"
		 "  G: {Type: AWS::Lambda::Function, Condition: Top}\n");
	CHECK_STR(eval_in(buf_cstr(&t), "[!If [C29, on, off], !If [Top, on, off], !Ref F]",
			  NULL, 0), "[on, off, F]");
	CHECK_STR(eval_in(buf_cstr(&t), "[!If [C29, on, off], !If [Top, on, off], !Ref G]",
			  prod, 1), "[off, on, G]");
	buf_release(&t);
}

TEST(a_cycle_of_conditions_is_an_error)
{
	const char *cyc = "Conditions:\n"
			  "  A: !And [!Condition B, !Condition B]\n"
			  "  B: !Or [!Condition A, !Condition A]\n"
			  "Resources: {}\n";
	const char *res = "Conditions:\n"
			  "  A: !Not [!Condition B]\n"
			  "  B: !Not [!Condition A]\n"
			  "Resources:\n"
			  "  F: {Type: AWS::Lambda::Function, Condition: A}\n";

	CHECK_STR(eval_in(cyc, "!If [A, x, y]", NULL, 0),
		  "3:11: conditions nest deeper than 64 (a cycle?)");
	CHECK_STR(eval_in(res, "x", NULL, 0), "2:6: conditions nest deeper than 64 (a cycle?)");
}

TEST(parameters_are_checked_up_front)
{
	static const char *const unknown[] = { "Stag=x" };

	CHECK_STR(eval_with("a", unknown, 1), " the template declares no parameter 'Stag'");
}

/* Why: CDK's legacy synthesizer (CDK v1) leaves its asset parameters for `cdk deploy` to fill. */
TEST(cdk_legacy_asset_parameters_need_a_value_only_when_read)
{
	static const char tmpl[] =
		"Parameters:\n"
		"  AssetParametersab12S3BucketC0FFEE00: {Type: String, Description: 'S3 bucket for asset \"ab12\"'}\n"
		"  AssetParametersab12S3VersionKeyBEEF0000:\n"
		"    {Type: String, Description: 'S3 key for asset version \"ab12\"'}\n"
		"  AssetParametersab12ArtifactHashF00D0000: {Type: String, Description: 'Artifact hash for asset \"ab12\"'}\n"
		"  Mine: {Type: String}\n"
		"Resources: {}\n";
	static const char *const mine[] = { "Mine=x" };

	CHECK_STR(eval_in(tmpl, "!Ref Mine", mine, 1), "x");
	CHECK_STR(eval_in(tmpl, "!Ref AssetParametersab12S3BucketC0FFEE00", mine, 1),
		  "8:8: parameter 'AssetParametersab12S3BucketC0FFEE00' has no Default: pass --parameter "
		  "AssetParametersab12S3BucketC0FFEE00=VALUE");
	/* any other parameter without a value is still an error up front */
	CHECK_STR(eval_in(tmpl, "a", NULL, 0), "6:3: parameter 'Mine' has no Default: pass --parameter Mine=VALUE");
}

/* A SAM template: Globals.Function's keys are line 3, the function's properties line 10. */
static const char *map_sam(const char *globals, const char *props)
{
	static char t[2048];

	snprintf(t, sizeof(t),
		 "Transform: AWS::Serverless-2016-10-31\n"
		 "Globals:\n"
		 "  Function: {Runtime: python3.12, Handler: app.handler, CodeUri: src%s}\n"
		 "Resources:\n"
		 "  LB: {Type: AWS::ElasticLoadBalancingV2::LoadBalancer}\n"
		 "  L:\n"
		 "    Type: AWS::ElasticLoadBalancingV2::Listener\n"
		 "    Properties: {LoadBalancerArn: !Ref LB, Port: 8080, DefaultActions:\n"
		 "      [{Type: fixed-response, FixedResponseConfig: {StatusCode: \"200\"}}]}\n"
		 "  Fn: {Type: AWS::Serverless::Function, Properties: {%s}}\n",
		 globals, props);
	return map_in(t);
}

/* Why: SAM has no ALB event type (aws-integration.md §5.1); its transform refuses one. */
TEST(sam_events_of_types_sam_does_not_have_are_errors)
{
	CHECK_STR(map_sam("", "Events: {Q: {Type: SQS, Properties: {Queue: !GetAtt Q.Arn}}}"), "ok");
	CHECK_STR(map_sam("", "Events: {Web: {Type: ALB, Properties: {Path: /x}}}"),
		  "10:75: event 'Web' of 'Fn' has Type 'ALB', which SAM does not have: a function "
		  "behind an ALB is the target of an AWS::ElasticLoadBalancingV2::TargetGroup "
		  "(TargetType: lambda, Targets: [{Id: !GetAtt Fn.Arn}])");
	CHECK_STR(map_sam("", "Events: {W: {Type: Http}}"),
		  "10:73: event 'W' of 'Fn' has Type 'Http', which is not one of SAM's event types");
	CHECK_STR(map_sam("", "Events: {W: {Properties: {}}}"), "10:66: event 'W' of 'Fn' needs a Type");
	CHECK_STR(map_sam("", "Events: [ALB]"), "10:62: 'Events' of 'Fn' must be a mapping");
	/* said even when the event is the template's only try at a load balancer */
	CHECK_STR(map_in("Transform: AWS::Serverless-2016-10-31\n"
			 "Resources:\n"
			 "  Fn:\n"
			 "    Type: AWS::Serverless::Function\n"
			 "    Properties: {Runtime: python3.12, Handler: a.h, CodeUri: src,\n"
			 "                 Events: {Web: {Type: ALB, Properties: {Path: /x}}}}\n"),
		  "6:39: event 'Web' of 'Fn' has Type 'ALB', which SAM does not have: a function "
		  "behind an ALB is the target of an AWS::ElasticLoadBalancingV2::TargetGroup "
		  "(TargetType: lambda, Targets: [{Id: !GetAtt Fn.Arn}])");
}

/* map_sam with what lb writes to stderr meanwhile in *said (static). */
static const char *map_sam_said(const char *globals, const char *props, const char **said)
{
	static char text[1024];
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);
	const char *r;
	size_t n;

	fflush(stderr);
	dup2(fileno(f), STDERR_FILENO);
	r = map_sam(globals, props);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
	*said = text;
	return r;
}

/* Why: SAM's transform refuses these Globals (aws-integration.md §5.4). */
TEST(sam_globals_of_the_wrong_shape_or_with_per_function_keys_are_errors)
{
	const char *said;

	CHECK_STR(map_sam(", Timeout: 9, Environment: {Variables: {A: b}}", ""), "ok");
	CHECK_STR(map_sam(", FunctionName: same", ""),
		  "3:71: 'FunctionName' cannot be in Globals.Function: SAM takes it only on each function");
	CHECK_STR(map_sam(", Events: {}", ""),
		  "3:71: 'Events' cannot be in Globals.Function: SAM takes it only on each function");
	CHECK_STR(map_in("Globals: [Function]\nResources: {}\n"), "1:10: 'Globals' must be a mapping");
	CHECK_STR(map_in("Globals: {Function: [Timeout]}\nResources: {}\n"),
		  "1:21: 'Globals.Function' must be a mapping");
	/* A key SAM is not known to take: said, not refused (SAM may have added it). */
	CHECK_STR(map_sam_said(", Tiemout: 9", "", &said), "ok");
	CHECK(strstr(said, ":3:71: 'Tiemout' is not a property SAM takes in Globals.Function: no "
			   "function gets it\n") != NULL);
	CHECK_STR(map_sam_said("", "", &said), "ok");
	CHECK_STR(said, "");
}

/* Why: CloudFormation refuses them; lb ran the function without its layer or variables. */
TEST(function_layers_and_environment_of_the_wrong_shape_are_errors)
{
	CHECK_STR(map_sam("", "Layers: arn:aws:lambda:us-east-1:1:layer:x:1"),
		  "10:62: 'Layers' of 'Fn' must be a list");
	CHECK_STR(map_sam("", "Layers: {Ref: AWS::Region}"), "10:68: 'Layers' of 'Fn' must be a list");
	CHECK_STR(map_sam("", "Environment: [A=b]"), "10:67: 'Environment' of 'Fn' must be a mapping");
	CHECK_STR(map_sam(", Environment: x", ""), "3:84: 'Environment' of 'Fn' must be a mapping");
	CHECK_STR(map_sam("", "Layers: [], Environment: {Variables: {A: b}}"), "ok");
}

/*
 * Why: Lambda fetches a layer named by ARN from the account that published it
 * (Powertools, Lambda Insights); lb cannot, so it says so and runs without it
 * (it refused the whole template).
 */
TEST(a_layer_published_on_aws_is_named_and_left_out)
{
	const char *said;

	CHECK_STR(map_sam_said("", "Layers: [arn:aws:lambda:us-east-1:580247275435:layer:"
				   "LambdaInsightsExtension:38]", &said), "ok");
	CHECK(strstr(said, "lb: warning: ") == said);
	CHECK_STR(strchr(said + 13, ':') + 1, "10:63: layer 'arn:aws:lambda:us-east-1:580247275435:layer:"
		  "LambdaInsightsExtension:38' is not in this template, and lb cannot fetch it from "
		  "AWS: function 'Fn' runs without it (nothing of it under /opt)\n");
	CHECK_STR(map_sam_said("", "Layers: [!Sub 'arn:${AWS::Partition}:lambda:${AWS::Region}:"
				   "017000801446:layer:AWSLambdaPowertoolsPythonV2:46']", &said), "ok");
	CHECK(strstr(said, "layer 'arn:aws:lambda:us-east-1:017000801446:layer:"
			   "AWSLambdaPowertoolsPythonV2:46' is not in this template") != NULL);
	/* Not a layer-version ARN: a typo or a missing resource stays an error. */
	CHECK_STR(map_sam("", "Layers: [arn:aws:lambda:us-east-1:1:layer:x]"),
		  "10:63: layer 'arn:aws:lambda:us-east-1:1:layer:x' is not a layer of this template "
		  "with local content");
	CHECK_STR(map_sam("", "Layers: [arn:aws:lambda:us-east-1:1:function:x:1]"),
		  "10:63: layer 'arn:aws:lambda:us-east-1:1:function:x:1' is not a layer of this "
		  "template with local content");
	CHECK_STR(map_sam("", "Layers: [Common]"),
		  "10:63: layer 'Common' is not a layer of this template with local content");
}

/* lb runs saved images (lb.yaml's image:), but pulls and builds none. */
TEST(image_functions_of_a_template_say_how_lb_can_run_them)
{
	CHECK_STR(map_sam("", "PackageType: Image, ImageUri: 1.dkr.ecr.us-east-1.amazonaws.com/f:1"),
		  "10:67: function 'Fn' is a container image, which lb cannot pull or build: save it "
		  "(docker save -o fn.tar IMAGE) and serve it from an lb.yaml function's image: key");
}

/*
 * The code path a CDK template's function maps to without asset metadata, the
 * template written as DIR/Stack.template.json beside DIR/<asset> (when not
 * NULL, a file if its name ends in .zip, else a folder) and, when files is not
 * NULL, DIR/Stack.assets.json with {"files": files}: "code: PATH" or the error.
 */
static const char *cdk_code_listed(const char *asset, const char *files)
{
	static const char key[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char dir[] = "/tmp/lb-test-cdk-XXXXXX", file[128], staged[128], manifest[128];
	struct buf skipped = BUF_INIT, b = BUF_INIT;
	struct ynode *v;
	struct ydoc *doc;
	struct cfn c;
	FILE *f;

	if (!mkdtemp(dir))
		return "mkdtemp failed";
	snprintf(file, sizeof(file), "%s/Stack.template.json", dir);
	snprintf(staged, sizeof(staged), "%s/%s", dir, asset ? asset : "none");
	if (asset && strstr(asset, ".zip"))
		fclose(fopen(staged, "w"));
	else if (asset)
		mkdir(staged, 0755);
	f = fopen(file, "w");
	fprintf(f, "{\"Resources\": {\"Fn\": {\"Type\": \"AWS::Lambda::Function\", \"Properties\": {"
		"\"Runtime\": \"python3.12\", \"Handler\": \"index.handler\", \"Code\": "
		"{\"S3Bucket\": \"b\", \"S3Key\": \"%s.zip\"}}}}}\n", key);
	fclose(f);
	snprintf(manifest, sizeof(manifest), "%s/Stack.assets.json", dir);
	if (files) {
		f = fopen(manifest, "w");
		fprintf(f, "{\"version\": \"55.0.0\", \"files\": %s}\n", files);
		fclose(f);
	}
	snprintf(out, sizeof(out), "%s", "(no document)");
	if ((doc = ydoc_load_tagged(file, &err))) {
		c = (struct cfn){ .a = &doc->arena, .file = file, .skipped = &skipped,
				  .region = "us-east-1", .account = "123456789012", .stack = "st", .err = &err };
		c.root = cfn_flip(c.a, doc->root);
		cfn_stacks_init(&c);
		v = cfn_seq(c.a, c.root);
		if (cfn_resources(&c, &err) || cfn_functions(&c, v)) {
			snprintf(out, sizeof(out), "%s", strchr(err.msg, ':') + 1);
		} else {
			buf_puts(&b, "code: ");
			render(&b, ydoc_get(v->items[0], "code"));
			snprintf(out, sizeof(out), "%s", buf_cstr(&b));
		}
		ydoc_free(doc);
	}
	buf_release(&b);
	buf_release(&skipped);
	unlink(file);
	unlink(manifest);
	unlink(staged);
	rmdir(staged);
	rmdir(dir);
	return out;
}

static const char *cdk_code(const char *asset)
{
	return cdk_code_listed(asset, NULL);
}

/* Why: CDK stages a folder asset as asset.HASH, a .zip file asset (Code.fromAsset('app.zip'))
 * as asset.HASH.zip. */
TEST(cdk_staged_code_without_metadata_is_the_folder_or_the_zip)
{
	static const char hash[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	char want[128];

	snprintf(want, sizeof(want), "code: asset.%s", hash);
	CHECK_STR(cdk_code(want + 6), want);
	CHECK_STR(cdk_code(NULL), want);     /* neither: the folder's name, which config reports */
	snprintf(want, sizeof(want), "code: asset.%s.zip", hash);
	CHECK_STR(cdk_code(want + 6), want);
}

/*
 * Why: CDK's assets manifest names each asset's staged copy by its hash, relative
 * to the manifest: a Stage's is in the cloud assembly's root, above its template
 * (lb looked for asset.HASH beside the template). A hash it does not list, or a
 * packaging CDK has no file assets of, leaves the copy beside the template.
 */
TEST(cdk_staged_code_without_metadata_is_where_the_assets_manifest_says)
{
#define HASH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	CHECK_STR(cdk_code_listed(NULL, "{\"" HASH "\": {\"source\": {\"path\": \"../asset." HASH "\", "
				  "\"packaging\": \"zip\"}}}"), "code: ../asset." HASH);
	CHECK_STR(cdk_code_listed(NULL, "{\"" HASH "\": {\"source\": {\"path\": \"../asset." HASH
				  ".zip\", \"packaging\": \"file\"}}}"), "code: ../asset." HASH ".zip");
	CHECK_STR(cdk_code_listed(NULL, "{\"" HASH "\": {\"source\": {\"path\": \"../x\", "
				  "\"packaging\": \"tar\"}}}"), "code: asset." HASH);
	CHECK_STR(cdk_code_listed(NULL, "{\"fedcba\": {\"source\": {\"path\": \"../x\"}}}"),
		  "code: asset." HASH);
	CHECK_STR(cdk_code_listed(NULL, "[]"), "code: asset." HASH);
#undef HASH
}

/* cfn_asset_hash of each item of the YAML list probes, "(none)" when NULL. */
static const char *asset_hashes(const char *probes)
{
	struct buf b = BUF_INIT;
	FILE *f = fopen(path, "w");
	struct ydoc *doc;
	struct arena a = { 0 };
	const struct ynode *list;

	fprintf(f, "Probe: %s\n", probes);
	fclose(f);
	if (!(doc = ydoc_load_tagged(path, &err)))
		return err.msg;
	list = cfn_flip(&a, ydoc_get(doc->root, "Probe"));
	for (size_t i = 0; i < list->n; i++) {
		const char *h = cfn_asset_hash(&a, list->items[i]);

		buf_printf(&b, "%s%s", i ? " " : "", h ? h : "(none)");
	}
	snprintf(out, sizeof(out), "%s", buf_cstr(&b));
	buf_release(&b);
	arena_release(&a);
	ydoc_free(doc);
	return out;
}

TEST(a_cdk_nested_stacks_template_url_names_its_asset_hash)
{
	CHECK_STR(asset_hashes("[!Join ['', ['https://s3.', !Ref 'AWS::Region', '.', !Ref 'AWS::URLSuffix', "
			       "'/', !Sub 'cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}', "
			       "'/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.json']], "
			       "!Sub 'https://s3.${AWS::Region}.amazonaws.com/b/"
			       "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210.json', "
			       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.json]"),
		  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef "
		  "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210 "
		  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	/* Not a hash: 63 digits, upper case, a longer name, a zip asset, no URL. */
	CHECK_STR(asset_hashes("['/123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.json', "
			       "'/0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef.json', "
			       "'x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.json', "
			       "'/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.zip', "
			       "{Ref: Url}]"),
		  "(none) (none) (none) (none) (none)");
}

TEST(only_sams_transform_is_read)
{
	FILE *f = fopen(path, "w");
	struct buf skipped = BUF_INIT;
	struct ydoc *doc;
	struct cfn c;

	fputs("Transform: [AWS::Serverless-2016-10-31, AWS::LanguageExtensions]\n"
	      "Resources: {}\n", f);
	fclose(f);
	doc = ydoc_load_tagged(path, &err);
	c = (struct cfn){ .a = &doc->arena, .file = path, .skipped = &skipped, .region = "r",
			  .account = "a", .stack = "s", .err = &err };
	c.root = cfn_flip(c.a, doc->root);
	cfn_stacks_init(&c);
	CHECK_INT(cfn_resources(&c, &err), -1);
	CHECK(strstr(err.msg, ":1:41: transform 'AWS::LanguageExtensions' is not supported"));
	ydoc_free(doc);
	buf_release(&skipped);
}

int main(void)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return 1;
	close(fd);
	RUN(ref_of_a_parameter_is_its_default_or_the_command_lines_value);
	RUN(ref_of_a_function_is_its_name_and_getatt_arn_its_arn);
	RUN(versions_are_numbered_per_function_in_template_order);
	RUN(sam_alias_and_version_references);
	RUN(elb_resources_have_arns_and_names);
	RUN(listener_and_rule_arns_are_built_on_their_load_balancers);
	RUN(a_listener_whose_load_balancer_is_not_the_templates_has_no_arn);
	RUN(a_network_load_balancer_and_its_listener_have_net_arns);
	RUN(attributes_and_matcher_of_the_wrong_shape_are_errors_at_their_place);
	RUN(attributes_take_scalar_values_and_keys_lb_does_not_emulate);
	RUN(resources_lb_does_not_emulate_get_placeholders);
	RUN(sub_replaces_variables_references_attributes_and_keeps_literals);
	RUN(join_select_split_base64_and_getazs);
	RUN(getatt_short_form_splits_at_the_first_dot);
	RUN(if_chooses_by_condition_and_novalue_removes);
	RUN(find_in_map_looks_up_two_levels);
	RUN(errors_name_the_expression);
	RUN(chained_conditions_are_evaluated_once_each);
	RUN(a_cycle_of_conditions_is_an_error);
	RUN(parameters_are_checked_up_front);
	RUN(cdk_legacy_asset_parameters_need_a_value_only_when_read);
	RUN(only_sams_transform_is_read);
	RUN(sam_events_of_types_sam_does_not_have_are_errors);
	RUN(sam_globals_of_the_wrong_shape_or_with_per_function_keys_are_errors);
	RUN(function_layers_and_environment_of_the_wrong_shape_are_errors);
	RUN(a_layer_published_on_aws_is_named_and_left_out);
	RUN(image_functions_of_a_template_say_how_lb_can_run_them);
	RUN(cdk_staged_code_without_metadata_is_the_folder_or_the_zip);
	RUN(cdk_staged_code_without_metadata_is_where_the_assets_manifest_says);
	RUN(a_cdk_nested_stacks_template_url_names_its_asset_hash);
	unlink(path);
	return test_done();
}
