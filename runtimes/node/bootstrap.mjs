// lb's bundled Node.js runtime: `node runtimes/node/bootstrap.mjs`, started by lb with
// Lambda's environment (AWS_LAMBDA_RUNTIME_API, _HANDLER, LAMBDA_TASK_ROOT, ...).
// It loads the handler and serves invocations over the Lambda Runtime API the way AWS's
// Node.js runtime does. Standard library only. See ../README.md.

import fs from 'node:fs';
import * as nodeModule from 'node:module';
import path from 'node:path';
import { RuntimeClient, isConnectionError } from './client.mjs';
import { patchConsole, setRequestId, logError } from './logging.mjs';
import { loadHandler } from './loader.mjs';
import { JSONStringifyError, NodeJsExit, UnhandledPromiseRejection } from './errors.mjs';
import { TRACE_ID, installEnv } from './environ.mjs';

const env = installEnv();
const client = new RuntimeClient(env.AWS_LAMBDA_RUNTIME_API);
const noop = () => {};

// 'init' (loading the handler), 'waiting' (for /next), 'running' (handler), 'posting'
// (result or error on its way). `current` is the invocation being served.
let state = 'init';
let served = false; // an invocation has started
let current = null;
let exitAfterPost = null;
let onBeforeExit = noop;

function say(line) {
  process.stderr.write(`lb runtime (node): ${line}\n`);
}

// The Runtime API went away (lb stopped, or tore the sandbox down): leave quietly.
function gone(err, what) {
  say(`Runtime API unavailable during ${what} (${err.code || err.message}); exiting`);
  process.exit(0);
}

// An uncaught exception or unhandled rejection. As in AWS: during init it is the init
// error; during an invocation it fails that invocation; either way the process exits
// (129 for an exception, 128 for a rejection, AWS's codes).
function fatal(err, code) {
  if (state === 'running') {
    current.settled = true;
    state = 'posting';
    onBeforeExit = noop;
    client.postError(current.id, err, () => process.exit(code));
  } else if (state === 'posting') {
    exitAfterPost = code;
  } else if (!served) {
    // During init, or after it while the first /next is pending (a rejection left
    // floating by the module): the init error, on a connection of its own.
    state = 'posting';
    new RuntimeClient(env.AWS_LAMBDA_RUNTIME_API).postInitError(err, () => process.exit(code));
  } else {
    process.exit(code);
  }
}

process.on('uncaughtException', (err) => {
  logError('Uncaught Exception', err);
  fatal(err, 129);
});
process.on('unhandledRejection', (reason, promise) => {
  const err = new UnhandledPromiseRejection(reason, promise);
  logError('Unhandled Promise Rejection', err);
  fatal(err, 128);
});
process.on('beforeExit', () => onBeforeExit());

function afterPost(err, res) {
  if (err) {
    if (isConnectionError(err)) gone(err, 'a post');
    say(`posting a result failed: ${err.message}`);
    process.exit(1);
  }
  if (res.status < 200 || res.status > 299) {
    say(`Runtime API answered ${res.status} to a result: ${res.body.toString().slice(0, 500)}`);
  }
  if (exitAfterPost !== null) process.exit(exitAfterPost);
  waiting(); // the /next went out with the post
}

function postResult(inv, result) {
  if (inv.settled) return;
  inv.settled = true;
  onBeforeExit = noop;
  state = 'posting';
  let body;
  try {
    body = JSON.stringify(result === undefined ? null : result);
  } catch {
    const e = new JSONStringifyError();
    logError('Invoke Error', e);
    client.postError(inv.id, e, afterPost, client.nextRequest(onNext));
    return;
  }
  client.postResponse(inv.id, body === undefined ? 'null' : body, afterPost, client.nextRequest(onNext));
}

function postError(inv, err) {
  if (inv.settled) return;
  inv.settled = true;
  onBeforeExit = noop;
  state = 'posting';
  logError('Invoke Error', err);
  client.postError(inv.id, err, afterPost, client.nextRequest(onNext));
}

// The client parses heads as Latin-1, byte for byte; a JSON header's text is UTF-8
// (a client context's app title may be "Café").
function parseJsonHeader(value, name) {
  if (value === undefined || value === '') return undefined;
  try {
    return JSON.parse(Buffer.from(value, 'latin1').toString('utf8'));
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
  }
}

// The function's own environment, as the context reports it. Read once: these are
// Lambda's reserved variables, set before the runtime starts.
const FUNCTION_ENV = {
  version: env.AWS_LAMBDA_FUNCTION_VERSION,
  name: env.AWS_LAMBDA_FUNCTION_NAME,
  memory: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
  logGroup: env.AWS_LAMBDA_LOG_GROUP_NAME,
  logStream: env.AWS_LAMBDA_LOG_STREAM_NAME,
};

// The callback and the context, as AWS builds them. The first of callback/succeed/fail/
// done wins; callback(null, result) waits for the event loop to empty unless
// callbackWaitsForEmptyEventLoop is false.
function callbackContext(inv) {
  let finished = false;
  const wait = { forEmptyEventLoop: true };
  const once =
    (fn) =>
    (...args) => {
      if (!finished) {
        finished = true;
        fn(...args);
      }
    };
  const callback = once((err, result) => {
    onBeforeExit = noop;
    if (err !== undefined && err !== null) postError(inv, err);
    else if (!wait.forEmptyEventLoop) postResult(inv, result);
    else onBeforeExit = () => setImmediate(() => postResult(inv, result));
  });
  const done = once((err, result) => {
    onBeforeExit = noop;
    if (err !== undefined && err !== null) postError(inv, err);
    else postResult(inv, result);
  });
  const markFinished = () => {
    finished = true;
  };
  return [callback, done, wait, markFinished];
}

// The context's own properties, in AWS's order: callbackWaitsForEmptyEventLoop (get/set),
// succeed, fail, done, then the function's and the invocation's data. One object literal,
// where AWS Object.assign()s the data onto the first four: the same object, built in one
// step. Throws if a JSON header does not parse (the invocation fails, as in AWS).
function invokeContext(id, headers, done, wait) {
  const deadline = Number(headers.get('lambda-runtime-deadline-ms'));
  return {
    get callbackWaitsForEmptyEventLoop() {
      return wait.forEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      wait.forEmptyEventLoop = value;
    },
    succeed: (result) => done(null, result),
    fail: (err) => done(err === undefined || err === null ? 'handled' : err, null),
    done,
    functionVersion: FUNCTION_ENV.version,
    functionName: FUNCTION_ENV.name,
    memoryLimitInMB: FUNCTION_ENV.memory,
    logGroupName: FUNCTION_ENV.logGroup,
    logStreamName: FUNCTION_ENV.logStream,
    clientContext: parseJsonHeader(headers.get('lambda-runtime-client-context'), 'ClientContext'),
    identity: parseJsonHeader(headers.get('lambda-runtime-cognito-identity'), 'CognitoIdentity'),
    invokedFunctionArn: headers.get('lambda-runtime-invoked-function-arn'),
    awsRequestId: id,
    tenantId: headers.get('lambda-runtime-aws-tenant-id'),
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}

function invoke(handler, isAsync, headers, body) {
  const id = headers.get('lambda-runtime-aws-request-id');
  if (!id) {
    say('the Runtime API sent an event without Lambda-Runtime-Aws-Request-Id');
    process.exit(1);
  }
  const inv = { id, settled: false };
  current = inv;
  served = true;
  state = 'running';
  setRequestId(id);
  const trace = headers.get('lambda-runtime-trace-id');
  if (trace) env[TRACE_ID] = trace;
  else delete env[TRACE_ID];

  const [callback, done, wait, markFinished] = callbackContext(inv);
  // If the handler never completes and the event loop empties: an async handler fails
  // (Runtime.NodeJsExit), any other completes with null. Both as AWS.
  onBeforeExit = () => {
    markFinished();
    if (isAsync) postError(inv, new NodeJsExit());
    else postResult(inv, null);
  };

  try {
    const context = invokeContext(id, headers, done, wait);
    const result = handler(JSON.parse(body), context, callback);
    if (result && typeof result.then === 'function') {
      result.then(context.succeed, context.fail).catch(context.fail);
    } else if (result !== undefined && handler.length < 3) {
      // lb's choice (Node 24's runtime does the same; Node <= 22 ignores the value and
      // completes with null when the event loop empties): a synchronous handler's return
      // value is its result.
      context.succeed(result);
    }
  } catch (err) {
    callback(err);
  }
}

let handler = null;
let isAsync = false;

function waiting() {
  state = 'waiting';
  current = null;
}

// The answer to /next. After the first, each /next is pipelined behind the post of the
// previous result (written in the same send; lb's Runtime API answers requests on a
// connection in order): one send and one wake-up of lb fewer per invocation.
function onNext(err, res) {
  if (err) {
    if (isConnectionError(err)) gone(err, '/next');
    say(`/next failed: ${err.message}`);
    process.exit(1);
  }
  if (res.status !== 200) {
    say(`/next answered ${res.status}: ${res.body.toString().slice(0, 500)}; exiting`);
    process.exit(1);
  }
  invoke(handler, isAsync, res.headers, res.body.toString('utf8'));
}

patchConsole();
// Lambda's Node.js runtimes look for an ES module's packages in NODE_PATH too (layers'
// nodejs/node_modules): nodepath.mjs. Its hooks thread costs some 50 ms of start-up, so it
// is registered only when a NODE_PATH folder exists (a function with Node.js layers);
// module.register exists from Node 18.19 / 20.6.
const nodePath = (env.NODE_PATH || '').split(path.delimiter).filter((dir) => dir && fs.existsSync(dir));
if (nodePath.length && typeof nodeModule.register === 'function') {
  nodeModule.register('./nodepath.mjs', import.meta.url, {
    data: { nodePath: nodePath.join(path.delimiter) },
  });
}
try {
  handler = await loadHandler(env.LAMBDA_TASK_ROOT || process.cwd(), env._HANDLER);
} catch (err) {
  logError('Uncaught Exception', err);
  fatal(err, 129);
}
if (handler) {
  isAsync = handler.constructor?.name === 'AsyncFunction';
  waiting();
  client.next(onNext);
}
