// The Express app in app.js as a Lambda handler through @codegenie/serverless-express.
'use strict';

const express = require('express');
const serverlessExpress = require('@codegenie/serverless-express');
const { app } = require('./app');

// Workaround for CodeGenieApp/serverless-express#698 (4.16 and later): when Express's
// finalhandler answers (a 404, or an error nobody handled) it calls on-finished on the
// adapter's request object, which may throw `TypeError: ee.on is not a function` — only
// while the request stream has not ended yet, so it comes and goes. Answering 404s and
// errors in the app, as many apps do anyway, keeps finalhandler out of the way.
const outer = express();
outer.use(app);
outer.use((req, res) => {
  res.status(404).type('html').send(`<!DOCTYPE html>\n<pre>Cannot ${req.method} ${req.path}</pre>\n`);
});
outer.use((err, req, res, next) => { // eslint-disable-line no-unused-vars
  res.status(err.status || 500).type('html').send(`<!DOCTYPE html>\n<pre>${err.name}: ${err.message}</pre>\n`);
});

const handle = serverlessExpress({
  app: outer,
  binarySettings: { contentTypes: ['image/*', 'application/octet-stream'] },
});

// Keep an untouched copy of the event for GET /app/event.
module.exports.handler = (event, context) => {
  globalThis.lbEvent = structuredClone(event);
  return handle(event, context);
};
