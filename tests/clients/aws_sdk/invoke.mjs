// Runs Invoke calls with the AWS SDK for JavaScript v3 (@aws-sdk/client-lambda, from
// tests/clients/node_modules) against lb's Invoke API and prints what the SDK returned or
// threw, as one JSON line. Used by tests/clients/test_aws_sdk.py.
//
//   echo '[{"FunctionName": "f", "Qualifier": "1", "payload": {...}}, ...]' | node invoke.mjs PORT
//
// Each call may set FunctionName, Qualifier, InvocationType, LogType and either `payload`
// (JSON-encoded by this script) or `raw` (sent as given). The client is pointed at
// http://127.0.0.1:PORT with region us-east-1 and dummy credentials, with no retries, so
// every answer is the first one lb gave.
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";

const port = process.argv[2];
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const callsJson = Buffer.concat(chunks).toString("utf8");
const client = new LambdaClient({
  endpoint: `http://127.0.0.1:${port}`,
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDLOCALTESTING", secretAccessKey: "local-testing-secret" },
  maxAttempts: 1,
});

const results = [];
for (const call of JSON.parse(callsJson)) {
  const { payload, raw, ...input } = call;
  if (payload !== undefined) input.Payload = new TextEncoder().encode(JSON.stringify(payload));
  if (raw !== undefined) input.Payload = new TextEncoder().encode(raw);
  try {
    const out = await client.send(new InvokeCommand(input));
    results.push({
      ok: true,
      StatusCode: out.StatusCode,
      ExecutedVersion: out.ExecutedVersion ?? null,
      FunctionError: out.FunctionError ?? null,
      LogResult: out.LogResult ?? null,
      Payload: out.Payload ? Buffer.from(out.Payload).toString("utf8") : null,
      requestId: out.$metadata.requestId ?? null,
    });
  } catch (e) {
    results.push({
      ok: false,
      name: e.name,
      message: e.message,
      fault: e.$fault ?? null,
      httpStatusCode: e.$metadata?.httpStatusCode ?? null,
      Type: e.Type ?? null,
      Reason: e.Reason ?? null,
      isLambdaError: e.constructor?.name ?? null,
    });
  }
}
console.log(JSON.stringify(results));
