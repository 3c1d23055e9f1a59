// A module resolution hook for lb's Node.js runtime, registered by bootstrap.mjs when
// NODE_PATH is set (lb sets it for a function with layers).
//
// Node consults NODE_PATH only for require(); an ES module's `import x from "pkg"` does
// not look there. Lambda's Node.js runtimes do, since nodejs18.x ("The Node.js 18.x
// runtime for Lambda searches the folders listed in NODE_PATH when loading ES modules",
// AWS Compute Blog, "Node.js 18.x runtime now available in AWS Lambda"), which is how a
// handler imports a package from a layer's nodejs/node_modules. This hook does the same:
// a bare specifier that Node's own resolution does not find is resolved again as if
// imported from beside each NODE_PATH folder, in order, so Node's algorithm (package.json
// "exports", conditions) still decides which file it is.

import path from 'node:path';
import { pathToFileURL } from 'node:url';

let folders = [];

export function initialize(data) {
  folders = String(data?.nodePath || '')
    .split(path.delimiter)
    .filter((dir) => path.isAbsolute(dir) && path.basename(path.resolve(dir)) === 'node_modules')
    .map((dir) => path.resolve(dir));
}

// "pkg", "@scope/pkg/sub": not relative, absolute, a URL ("node:", "file:") or "#import".
function isBare(specifier) {
  return !/^(?:[./#]|[a-zA-Z][a-zA-Z\d+.-]*:)/.test(specifier);
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !isBare(specifier)) throw err;
    for (const folder of folders) {
      // A module beside `folder` finds packages in it first, then walks up: only a
      // result inside the folder counts.
      const parentURL = pathToFileURL(path.join(path.dirname(folder), '__lb_node_path__.mjs')).href;
      let found;
      try {
        found = await nextResolve(specifier, { ...context, parentURL });
      } catch (again) {
        if (again?.code !== 'ERR_MODULE_NOT_FOUND') throw again;
        continue;
      }
      if (found.url.startsWith(pathToFileURL(folder).href + '/')) return found;
    }
    throw err;
  }
}
