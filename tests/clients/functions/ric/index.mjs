// A plain Lambda handler served by AWS's own Node.js runtime interface client
// (npm aws-lambda-ric 3.3.0) instead of lb's bundled runtime: lb starts
// `node .../aws-lambda-ric index.handler` in this directory as a provided.al2023 function,
// and the client talks to lb's Runtime API with AWS's native (aws-lambda-cpp + curl) code.
// tests/clients/test_aws_lambda_ric.py drives it.

class TeapotError extends Error {
  constructor(message) {
    super(message);
    this.name = 'TeapotError';
  }
}

let invocations = 0;

export const handler = async (event, context) => {
  invocations += 1;
  const sub = event.path.replace(/^\/ric\/?/, '');
  if (sub === 'throw') throw new TeapotError('thrown on purpose');
  if (sub === 'reject') return Promise.reject(new Error('rejected on purpose'));
  if (sub === 'invalid') return { hello: 'no statusCode here' };
  if (sub === 'binary') {
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/octet-stream' },
      isBase64Encoded: true,
      body: Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('base64'),
    };
  }
  if (sub === 'hang') await new Promise((resolve) => setTimeout(resolve, 60000));
  if (sub === 'exit') process.exit(3);
  console.log(`ric handler: ${event.httpMethod} ${event.path}`);
  const e = process.env;
  return {
    statusCode: 200,
    statusDescription: '200 OK',
    headers: { 'content-type': 'application/json', 'x-runtime': 'aws-lambda-ric' },
    body: JSON.stringify({
      invocations,
      pid: process.pid,
      event: {
        httpMethod: event.httpMethod,
        path: event.path,
        query: event.queryStringParameters,
        body: event.body,
        isBase64Encoded: event.isBase64Encoded,
        targetGroupArn: event.requestContext?.elb?.targetGroupArn,
      },
      context: {
        awsRequestId: context.awsRequestId,
        functionName: context.functionName,
        functionVersion: context.functionVersion,
        invokedFunctionArn: context.invokedFunctionArn,
        memoryLimitInMB: context.memoryLimitInMB,
        logGroupName: context.logGroupName,
        logStreamName: context.logStreamName,
        remaining: context.getRemainingTimeInMillis(),
      },
      env: {
        AWS_LAMBDA_RUNTIME_API: e.AWS_LAMBDA_RUNTIME_API,
        LAMBDA_TASK_ROOT: e.LAMBDA_TASK_ROOT,
        _HANDLER: e._HANDLER,
        _X_AMZN_TRACE_ID: e._X_AMZN_TRACE_ID ?? null,
        cwd: process.cwd(),
      },
    }),
  };
};
