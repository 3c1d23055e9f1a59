// The demo's API function: a JSON API in multi-value mode (the target group
// sets lambda.multi_value_headers.enabled), so the event has multiValueHeaders
// and multiValueQueryStringParameters, and the result answers with
// multiValueHeaders — which is how a function sets two cookies.
let invocations = 0;

export const handler = async (event, context) => {
  invocations += 1;
  if (event.path === "/ab") {
    return {
      statusCode: 200,
      multiValueHeaders: { "Content-Type": ["text/html; charset=utf-8"] },
      body: `<p style="color:${process.env.COLOR}">${process.env.GREETING} from version ` +
        `${context.functionVersion} (${process.env.COLOR}). Reload: the AWSALBTG cookie keeps ` +
        `you here. <a href="/">Back</a></p>`,
    };
  }
  if (event.path === "/cookies") {
    return {
      statusCode: 200,
      multiValueHeaders: {
        "Content-Type": ["text/html; charset=utf-8"],
        "Set-Cookie": ["flavour=chocolate; Path=/", `visit=${Date.now()}; Path=/; HttpOnly`],
      },
      body: '<p>Two cookies set. <a href="/">Back to the page</a>, which shows them.</p>',
    };
  }
  return {
    statusCode: 200,
    multiValueHeaders: { "Content-Type": ["application/json"] },
    body: JSON.stringify(
      {
        greeting: process.env.GREETING,
        function: `${context.functionName}:${context.functionVersion}`,
        invokedArn: context.invokedFunctionArn,
        warmInvocations: invocations,
        event,
      },
      null,
      2,
    ),
  };
};
