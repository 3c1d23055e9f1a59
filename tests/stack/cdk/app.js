// A small CDK app: an ALB in front of Lambda functions (an asset directory, an
// alias on its current version, inline code), a fixed response and a weighted
// forward. test_stack.py synthesizes it offline (`node app.js OUTDIR`: no AWS
// account, no CDK CLI) and serves OUTDIR with lb.
const path = require("path");
const cdk = require("aws-cdk-lib");
const ec2 = require("aws-cdk-lib/aws-ec2");
const elbv2 = require("aws-cdk-lib/aws-elasticloadbalancingv2");
const targets = require("aws-cdk-lib/aws-elasticloadbalancingv2-targets");
const lambda = require("aws-cdk-lib/aws-lambda");

// node app.js OUTDIR [--no-asset-metadata] [--stage] [--nested] [--layer]
const outdir = process.argv[2] || "cdk.out";
const flags = process.argv.slice(3);
// The CDK CLI turns asset metadata on by default; an app synthesized without
// it asks for it the same way (aws-integration.md §6.2).
const withMetadata = !flags.includes("--no-asset-metadata");
const app = new cdk.App({
  outdir,
  context: withMetadata ? { "aws:cdk:enable-asset-metadata": true } : {},
});
// --stage: the stack inside a CDK Stage, a nested assembly (assembly-Dev/).
const scope = flags.includes("--stage") ? new cdk.Stage(app, "Dev") : app;
const stack = new cdk.Stack(scope, "AlbLambdaStack");
const vpc = ec2.Vpc.fromVpcAttributes(stack, "Vpc", {
  vpcId: "vpc-0123456789abcdef0",
  availabilityZones: ["us-east-1a", "us-east-1b"],
  publicSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
});
const hello = new lambda.Function(stack, "Hello", {
  runtime: lambda.Runtime.PYTHON_3_12,
  handler: "index.handler",
  code: lambda.Code.fromAsset(path.join(__dirname, "lambda")),
  environment: { GREETING: "hi" },
  memorySize: 256,
  timeout: cdk.Duration.seconds(10),
});
const live = new lambda.Alias(stack, "Live", { aliasName: "live", version: hello.currentVersion });
const inline = new lambda.Function(stack, "Inline", {
  runtime: lambda.Runtime.NODEJS_22_X,
  handler: "index.handler",
  code: lambda.Code.fromInline(
    'exports.handler = async (e, c) => ({statusCode: 200, body: "inline " + c.functionName});'),
});
const lb = new elbv2.ApplicationLoadBalancer(stack, "LB", { vpc, internetFacing: true });
const listener = lb.addListener("Http", { port: 80, open: false });
listener.addTargets("Fn", { targets: [new targets.LambdaTarget(hello)] });
listener.addTargets("Alias", {
  priority: 10,
  conditions: [elbv2.ListenerCondition.pathPatterns(["/live/*"])],
  targets: [new targets.LambdaTarget(live)],
});
const inlineGroup = new elbv2.ApplicationTargetGroup(stack, "InlineGroup", {
  targets: [new targets.LambdaTarget(inline)],
});
listener.addAction("Fixed", {
  priority: 20,
  conditions: [elbv2.ListenerCondition.pathPatterns(["/health"])],
  action: elbv2.ListenerAction.fixedResponse(200, { contentType: "text/plain", messageBody: "ok" }),
});
listener.addAction("Weighted", {
  priority: 30,
  conditions: [elbv2.ListenerCondition.pathPatterns(["/inline"])],
  action: elbv2.ListenerAction.weightedForward([{ targetGroup: inlineGroup, weight: 1 }]),
});
// --nested: a service in a NestedStack, joined to the parent both ways: its own
// rule on the parent's listener (a parameter of the nested stack), and a rule of
// the parent forwarding to its target group (an output of the nested stack).
if (flags.includes("--nested")) {
  const svc = new cdk.NestedStack(stack, "Service");
  const fn = new lambda.Function(svc, "Svc", {
    runtime: lambda.Runtime.PYTHON_3_12,
    handler: "index.handler",
    code: lambda.Code.fromAsset(path.join(__dirname, "lambda")),
    environment: { GREETING: "nested" },
  });
  const group = new elbv2.ApplicationTargetGroup(svc, "SvcGroup", { targets: [new targets.LambdaTarget(fn)] });
  new elbv2.ApplicationListenerRule(svc, "SvcRule", {
    listener,
    priority: 40,
    conditions: [elbv2.ListenerCondition.pathPatterns(["/svc/*"])],
    targetGroups: [group],
  });
  listener.addTargetGroups("FromParent", {
    priority: 50,
    conditions: [elbv2.ListenerCondition.pathPatterns(["/parent/*"])],
    targetGroups: [group],
  });
}
// --layer: a function whose module is in a LayerVersion's asset (layer/python).
if (flags.includes("--layer")) {
  const shared = new lambda.LayerVersion(stack, "Shared", {
    code: lambda.Code.fromAsset(path.join(__dirname, "layer")),
    compatibleRuntimes: [lambda.Runtime.PYTHON_3_12],
  });
  const layered = new lambda.Function(stack, "Layered", {
    runtime: lambda.Runtime.PYTHON_3_12,
    handler: "index.handler",
    code: lambda.Code.fromInline(
      "import shared\ndef handler(e, c):\n    return {'statusCode': 200, 'body': shared.TEXT}\n"),
    layers: [shared],
  });
  listener.addTargets("Layered", {
    priority: 60,
    conditions: [elbv2.ListenerCondition.pathPatterns(["/layer"])],
    targets: [new targets.LambdaTarget(layered)],
  });
}
app.synth();
