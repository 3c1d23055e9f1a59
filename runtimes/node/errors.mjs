// Error classes and error formatting, as AWS's Node.js runtime interface client
// (aws-lambda-nodejs-runtime-interface-client, src/Errors.js and src/utils/error.ts) has them.

import util from 'node:util';

class RuntimeError extends Error {}

export class ImportModuleError extends RuntimeError {
  constructor(original) {
    super(String(original));
  }
}
export class HandlerNotFound extends RuntimeError {}
export class MalformedHandlerName extends RuntimeError {}
export class UserCodeSyntaxError extends RuntimeError {
  constructor(original) {
    super(String(original));
    if (typeof original?.stack === 'string') this.stack = original.stack;
  }
}
export class UnhandledPromiseRejection extends RuntimeError {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
export class JSONStringifyError extends RuntimeError {
  constructor() {
    super('Unable to stringify response body');
  }
}
export class NodeJsExit extends RuntimeError {
  constructor() {
    super(
      'The Node.js event loop became empty before the async handler settled its promise ' +
        '(a promise that never resolves, or work detached from it)',
    );
  }
}

for (const cls of [
  ImportModuleError,
  HandlerNotFound,
  MalformedHandlerName,
  UserCodeSyntaxError,
  UnhandledPromiseRejection,
  JSONStringifyError,
  NodeJsExit,
]) {
  cls.prototype.name = `Runtime.${cls.name}`;
}

function isErrorLike(obj) {
  return (
    obj != null &&
    typeof obj.name === 'string' &&
    typeof obj.message === 'string' &&
    typeof obj.stack === 'string' &&
    obj.name !== '' &&
    obj.message !== '' &&
    obj.stack !== ''
  );
}

/**
 * The body posted to /error and /init/error: {errorType, errorMessage, stackTrace}.
 * Errors give their name, message and stack lines; any other thrown value gives
 * errorType = typeof value, errorMessage = String(value), as AWS's client does.
 */
export function toRapidResponse(error) {
  try {
    if (error instanceof Error || util.types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: String(error.name ?? 'Error'),
        errorMessage: String(error.message ?? ''),
        stackTrace: typeof error.stack === 'string' ? error.stack.split('\n') : [],
      };
    }
    return { errorType: typeof error, errorMessage: String(error), stackTrace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or ' +
        'more of its message, name, and stack',
      stackTrace: [],
    };
  }
}

export function intoError(err) {
  return err instanceof Error ? err : new Error(err);
}

// Error name, message, code and stack are not enumerable: add them so the log line
// shows them, with any enumerable properties the error carries.
function withEnumerableProperties(value) {
  if (value instanceof Error) {
    const ret = Object.assign(
      { errorType: value.name, errorMessage: value.message, code: value.code },
      value,
    );
    if (typeof value.stack === 'string') ret.stack = value.stack.split('\n');
    return ret;
  }
  return value;
}

/** The error as AWS logs it: a tab, then JSON. */
export function toFormatted(error) {
  try {
    return '\t' + JSON.stringify(error, (_k, v) => withEnumerableProperties(v));
  } catch {
    return '\t' + JSON.stringify(toRapidResponse(error));
  }
}
