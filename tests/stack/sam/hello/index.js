exports.handler = async (event, context) => ({
  statusCode: 200,
  multiValueHeaders: { "content-type": ["application/json"] },
  body: JSON.stringify({
    fn: context.functionName,
    version: context.functionVersion,
    arn: context.invokedFunctionArn,
    fromGlobals: process.env.FROM_GLOBALS,
    overridden: process.env.OVERRIDDEN,
    path: event.path,
  }),
});
