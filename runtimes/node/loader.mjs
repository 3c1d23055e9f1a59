// Loads the user's handler from a handler string, the way AWS's Node.js runtime does
// (aws-lambda-nodejs-runtime-interface-client: src/function/module-loader.ts,
// handler-resolver.ts, src/UserFunction.js).
//
//   "index.handler"          file <root>/index{,.js,.mjs,.cjs}, export handler
//   "src/app.handler"        file <root>/src/app{...}, export handler
//   "index.nested.handler"   file <root>/index{...}, property path nested.handler
//
// Every file is loaded with import(), so ES modules and CommonJS both work; a CommonJS
// module's exports are found among the named exports Node detects or on `default`
// (module.exports). When no file matches, the module name is resolved like require()
// from the task root (a package in node_modules).

import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import {
  HandlerNotFound,
  ImportModuleError,
  MalformedHandlerName,
  UserCodeSyntaxError,
} from './errors.mjs';

const EXTENSIONS = ['', '.js', '.mjs', '.cjs'];

function isFile(p) {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

async function loadModule(appRoot, moduleRoot, moduleName) {
  const base = path.resolve(appRoot, moduleRoot, moduleName);
  try {
    for (const ext of EXTENSIONS) {
      if (isFile(base + ext)) return await import(pathToFileURL(base + ext).href);
    }
    const require = createRequire(import.meta.url);
    const resolved = require.resolve(moduleName, {
      paths: [appRoot, path.join(appRoot, moduleRoot)],
    });
    return await import(pathToFileURL(resolved).href);
  } catch (err) {
    if (err instanceof SyntaxError) throw new UserCodeSyntaxError(err);
    if (err?.code === 'MODULE_NOT_FOUND') throw new ImportModuleError(err);
    throw err;
  }
}

function findIn(propertyPath, obj) {
  return propertyPath.split('.').reduce((o, key) => (o != null ? o[key] : undefined), obj);
}

export async function loadHandler(appRoot, fullHandler) {
  if (!fullHandler) throw new MalformedHandlerName('Bad handler: _HANDLER is not set');
  if (fullHandler.includes('..')) {
    throw new MalformedHandlerName(
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const handlerString = path.basename(fullHandler);
  const moduleRoot = fullHandler.slice(0, fullHandler.length - handlerString.length);
  const m = /^([^.]*)\.(.*)$/.exec(handlerString);
  if (!m) throw new MalformedHandlerName('Bad handler');
  const [, moduleName, handlerPath] = m;

  const mod = await loadModule(appRoot, moduleRoot, moduleName);
  let fn = findIn(handlerPath, mod);
  if (!fn && mod?.default) fn = findIn(handlerPath, mod.default);
  if (!fn) throw new HandlerNotFound(`${fullHandler} is undefined or not exported`);
  if (typeof fn !== 'function') throw new HandlerNotFound(`${fullHandler} is not a function`);
  return fn;
}
