// process.env for lb's Node.js runtime, so that setting _X_AMZN_TRACE_ID on every
// invocation leaks nothing.
//
// Lambda's runtimes set _X_AMZN_TRACE_ID to the invocation's trace header before the
// handler runs ("Propagate the tracing header", AWS's custom runtime guide; AWS's Node.js
// runtime does `process.env._X_AMZN_TRACE_ID = ...`). Node's process.env writes through
// libc's setenv(), and glibc keeps every value ever set for the life of the process (so
// that old environ strings stay valid): with a new trace header per invocation, a sandbox
// grew some 150 bytes per invocation (13 MB per 85,000) until memory_size killed it, and
// each setenv() searched that ever larger set.
//
// So process.env becomes a Proxy over a plain object holding the environment: reads come
// from the object (no getenv()), writes and deletes go to the object and to the real
// environment (children, native code and Node's own TZ handling see them), except the
// trace header, which lives in the object only. Keys, `in`, JSON.stringify, util.inspect
// and child_process (which copies process.env for a child when no env is given) see it as
// a variable like any other; native code reading getenv("_X_AMZN_TRACE_ID") does not.

export const TRACE_ID = '_X_AMZN_TRACE_ID';

export function installEnv() {
  const real = process.env;
  const vars = Object.assign({}, real);
  delete vars[TRACE_ID];
  delete real[TRACE_ID];
  process.env = new Proxy(vars, {
    set(target, key, value) {
      if (typeof key === 'symbol') return Reflect.set(target, key, value);
      // As Node's own process.env: a value becomes a string (`= 1` stores "1").
      if (key !== TRACE_ID) real[key] = value;
      target[key] = String(value);
      return true;
    },
    deleteProperty(target, key) {
      if (typeof key !== 'symbol' && key !== TRACE_ID) delete real[key];
      return delete target[key];
    },
    defineProperty(target, key, desc) {
      if (typeof key === 'symbol') return Reflect.defineProperty(target, key, desc);
      // Node's checks (a configurable, writable, enumerable data descriptor, else a
      // TypeError), and the real environment's copy.
      Object.defineProperty(real, key, desc);
      if (key === TRACE_ID) delete real[key];
      target[key] = String(desc.value);
      return true;
    },
  });
  return process.env;
}
