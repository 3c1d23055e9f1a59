// A local stand-in for AWS Lambda's Invoke API over HTTPS that verifies SigV4 with
// the AWS SDK's own signer (@smithy/signature-v4), independent of lb's C signer.
//
//   node server.js CERT KEY CREDS_JSON
//
// CREDS_JSON maps access key ids to {"secret": ..., "token": ... or null}. The server
// prints "port N" on stdout once listening, then one JSON line per request:
// {path, headers, signed_headers, verdict}. The function name in the path picks the
// answer (see ANSWERS); a request that fails verification gets AWS's 403.
"use strict";
const https = require("https");
const fs = require("fs");
const { SignatureV4 } = require("@smithy/signature-v4");
const { Hash } = require("@smithy/hash-node");

const [cert, key, credsJson] = process.argv.slice(2);
const CREDS = JSON.parse(credsJson);

const json = (o) => JSON.stringify(o);
const ANSWERS = {
  fails: [200, { "X-Amz-Function-Error": "Unhandled" }, json({ errorMessage: "boom", errorType: "Error" })],
  throttled: [429, { "x-amzn-ErrorType": "TooManyRequestsException", "Retry-After": "1" },
    json({ Reason: "ReservedFunctionConcurrentInvocationLimitExceeded", Type: "User", message: "Rate Exceeded." })],
  missing: [404, { "x-amzn-ErrorType": "ResourceNotFoundException" },
    json({ Type: "User", Message: "Function not found: arn:aws:lambda:us-east-1:123456789012:function:missing" })],
  broken: [500, { "x-amzn-ErrorType": "ServiceException" }, json({ Type: "Service", Message: "internal" })],
};

function deny(res, code, message) {
  const type = code === "InvalidSignatureException"
    ? "InvalidSignatureException:http://internal.amazon.com/coral/com.amazon.coral.service/" : code;
  res.writeHead(403, { "Content-Type": "application/json", "x-amzn-ErrorType": type, "x-amzn-RequestId": "req-403" });
  res.end(json({ message }));
}

// "20150830T123600Z" -> Date
function parseAmzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || "");
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : null;
}

async function verify(req, body) {
  const authz = req.headers.authorization || "";
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(authz);
  if (!m) return ["IncompleteSignatureException", "Authorization header is malformed: " + authz];
  const [, keyId, day, region, service, signedList, signature] = m;
  const cred = CREDS[keyId];
  if (!cred) return ["UnrecognizedClientException", "The security token included in the request is invalid."];
  const token = req.headers["x-amz-security-token"];
  if ((cred.token || null) !== (token || null))
    return ["UnrecognizedClientException", "The security token included in the request is invalid."];
  const date = parseAmzDate(req.headers["x-amz-date"]);
  if (!date || req.headers["x-amz-date"].slice(0, 8) !== day)
    return ["IncompleteSignatureException", "bad or missing X-Amz-Date"];
  if (Math.abs(Date.now() - date.getTime()) > 5 * 60 * 1000)
    return ["InvalidSignatureException", "Signature expired"];
  const signed = signedList.split(";");
  // AWS requires host and every x-amz-* header sent to be signed.
  for (const name of Object.keys(req.headers))
    if ((name === "host" || name.startsWith("x-amz-")) && !signed.includes(name))
      return ["InvalidSignatureException", "header " + name + " is not signed"];
  const headers = {};
  for (const name of signed) {
    if (req.headers[name] === undefined) return ["InvalidSignatureException", "signed header " + name + " is absent"];
    if (name !== "x-amz-date" && name !== "x-amz-security-token") headers[name] = req.headers[name];
  }
  const url = new URL(req.url, "https://" + req.headers.host);
  const query = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const signer = new SignatureV4({
    credentials: { accessKeyId: keyId, secretAccessKey: cred.secret, sessionToken: token },
    region, service, sha256: Hash.bind(null, "sha256"), applyChecksum: false, uriEscapePath: true,
  });
  const out = await signer.sign({
    method: req.method, protocol: "https:", hostname: url.hostname, port: url.port,
    path: url.pathname, query, headers, body,
  }, { signingDate: date });
  const expected = /Signature=([0-9a-f]{64})/.exec(out.headers.authorization)[1];
  if (expected !== signature || service !== "lambda")
    return ["InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."];
  return null;
}

const server = https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    const body = Buffer.concat(chunks);
    const failure = await verify(req, body).catch((e) => ["InvalidSignatureException", String(e)]);
    const m = /\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(new URL(req.url, "https://x").pathname);
    const name = m ? decodeURIComponent(m[1]) : "";
    const qualifier = new URL(req.url, "https://x").searchParams.get("Qualifier");
    process.stdout.write(json({ method: req.method, url: req.url, headers: req.headers, name, qualifier,
      verdict: failure ? failure[0] : "ok", detail: failure ? failure[1] : "",
      tls_reused: req.socket.isSessionReused(), sni: req.socket.servername || null }) + "\n");
    if (failure) return deny(res, failure[0], failure[1]);
    const answer = ANSWERS[name.split(":").pop()] || ANSWERS[name];
    if (answer) {
      res.writeHead(answer[0], Object.assign({ "Content-Type": "application/json", "x-amzn-RequestId": "req-1" }, answer[1]));
      return res.end(answer[2]);
    }
    const event = JSON.parse(body.toString("utf8"));
    const close = name.endsWith("-close") ? { Connection: "close" } : {};
    res.writeHead(200, Object.assign({ "Content-Type": "application/json", "X-Amz-Executed-Version": qualifier || "$LATEST" }, close));
    res.end(json({ statusCode: 200, headers: { "content-type": "application/json" },
      body: json({ function: name, qualifier, path: event.path, token: req.headers["x-amz-security-token"] || null }) }));
  });
});
server.keepAliveTimeout = 30000;
server.listen(0, "127.0.0.1", () => process.stdout.write("port " + server.address().port + "\n"));
process.on("SIGTERM", () => process.exit(0));
