// console.* as AWS's Node.js runtime patches it. Every call writes one record to stdout:
//
// - Text format (the default): "<ISO time>\t<request id>\t<LEVEL>\t<util.format(...)>".
//   Before the first invocation the request id is "undefined", as in AWS.
// - JSON format (AWS_LAMBDA_LOG_FORMAT=JSON, from the function's logging_config): one
//   JSON object per record, {"timestamp", "level", "requestId", "message"}, AWS's shape:
//   a single argument is the message as it is (an object stays an object), several are
//   util.format'ed into a string, and the first Error among them adds errorType,
//   errorMessage and stackTrace.
//
// AWS_LAMBDA_LOG_LEVEL (TRACE, DEBUG, INFO, WARN, ERROR, FATAL) turns the methods below
// that level into no-ops, as AWS's runtime does; Lambda sets it only for JSON logs.
//
// AWS turns newlines inside a text record into "\r" so that CloudWatch keeps it as one
// event; lb reads the function's output line by line and prefixes each line, so newlines
// are kept as they are here (a "\r" would make terminals overwrite the line). A JSON
// record has no raw newline anyway.

import util from 'node:util';
import { intoError, toFormatted } from './errors.mjs';

// The same global slot AWS's runtime uses, so code that reads it keeps working.
const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
const JSON_FORMAT = process.env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON';
const MIN_LEVEL = Math.max(0, LEVELS.indexOf(process.env.AWS_LAMBDA_LOG_LEVEL?.toUpperCase() ?? 'TRACE'));

export function setRequestId(id) {
  globalThis[REQUEST_ID] = id;
}

// An Error inside a logged object: AWS's runtime writes it as these three fields.
function errorReplacer(key, value) {
  if (value instanceof Error) {
    return Object.assign({
      errorType: value?.constructor?.name ?? 'UnknownError',
      errorMessage: value.message,
      stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : [],
    }, value);
  }
  return value;
}

function jsonRecord(level, params, extra) {
  const record = { timestamp: new Date().toISOString(), level, requestId: globalThis[REQUEST_ID] };
  if (params.length === 1 && !extra) {
    record.message = params[0];
    try {
      return JSON.stringify(record, errorReplacer);
    } catch {
      record.message = util.format(params[0]);   // a cycle, a BigInt: as text
      return JSON.stringify(record);
    }
  }
  record.message = util.format(...params);
  const err = params.find((p) => p instanceof Error);
  if (err) {
    record.errorType = err?.constructor?.name ?? 'UnknownError';
    record.errorMessage = err.message;
    record.stackTrace = typeof err.stack === 'string' ? err.stack.split('\n') : [];
  }
  return JSON.stringify(Object.assign(record, extra));
}

function write(level, params) {
  if (JSON_FORMAT) {
    process.stdout.write(jsonRecord(level, params) + '\n');
    return;
  }
  process.stdout.write(
    `${new Date().toISOString()}\t${globalThis[REQUEST_ID]}\t${level}\t${util.format(...params)}\n`,
  );
}

function method(level) {
  return LEVELS.indexOf(level) >= MIN_LEVEL ? (...params) => write(level, params) : () => {};
}

export function patchConsole() {
  console.trace = method('TRACE');
  console.debug = method('DEBUG');
  console.info = method('INFO');
  console.log = console.info;
  console.warn = method('WARN');
  console.error = method('ERROR');
  console.fatal = method('FATAL');
}

/** Logs an error the runtime reports ("Invoke Error", "Uncaught Exception", ...). */
export function logError(what, err) {
  const formatted = toFormatted(intoError(err));
  if (LEVELS.indexOf('ERROR') < MIN_LEVEL) return;
  if (!JSON_FORMAT) {
    console.error(what, formatted);
    return;
  }
  // JSON: the error's fields beside the message, as AWS's runtime writes them.
  const fields = JSON.parse(formatted);
  process.stdout.write(jsonRecord('ERROR', [what], {
    errorType: fields.errorType, errorMessage: fields.errorMessage, stackTrace: fields.stackTrace,
  }) + '\n');
}
