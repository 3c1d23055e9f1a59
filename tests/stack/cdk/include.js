// Checks a CloudFormation template with aws-cdk-lib's cloudformation-include:
// every resource is parsed into its typed L1 construct and synthesized, which
// validates property names and types. `node include.js TEMPLATE OUTDIR`.
const cdk = require("aws-cdk-lib");
const include = require("aws-cdk-lib/cloudformation-include");

const [template, outdir] = process.argv.slice(2);
const app = new cdk.App({ outdir });
const stack = new cdk.Stack(app, "Imported");
new include.CfnInclude(stack, "Template", { templateFile: template });
app.synth();
