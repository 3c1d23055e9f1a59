// console.* as AWS's Node.js runtime patches it (text format): every call writes one
// record "<ISO time>\t<request id>\t<LEVEL>\t<util.format(...)>" to stdout. Before the
// first invocation the request id is "undefined", as in AWS.
//
// AWS turns newlines inside a record into "\r" so that CloudWatch keeps it as one event;
// lb reads the function's output line by line and prefixes each line, so newlines are
// kept as they are here (a "\r" would make terminals overwrite the line).

import util from 'node:util';
import { intoError, toFormatted } from './errors.mjs';

// The same global slot AWS's runtime uses, so code that reads it keeps working.
const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');

export function setRequestId(id) {
  globalThis[REQUEST_ID] = id;
}

function write(level, message, params) {
  process.stdout.write(
    `${new Date().toISOString()}\t${globalThis[REQUEST_ID]}\t${level}\t${util.format(message, ...params)}\n`,
  );
}

export function patchConsole() {
  console.trace = (msg, ...params) => write('TRACE', msg, params);
  console.debug = (msg, ...params) => write('DEBUG', msg, params);
  console.info = (msg, ...params) => write('INFO', msg, params);
  console.log = console.info;
  console.warn = (msg, ...params) => write('WARN', msg, params);
  console.error = (msg, ...params) => write('ERROR', msg, params);
  console.fatal = (msg, ...params) => write('FATAL', msg, params);
}

/** Logs an error the runtime reports ("Invoke Error", "Uncaught Exception", ...). */
export function logError(what, err) {
  console.error(what, toFormatted(intoError(err)));
}
