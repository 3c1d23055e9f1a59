// The Express app in app.js as a Lambda handler through serverless-http.
'use strict';

const serverless = require('serverless-http');
const { app } = require('./app');

// Responses with these types go back base64-encoded (isBase64Encoded: true).
const handle = serverless(app, { binary: ['image/*', 'application/octet-stream'] });

// Keep an untouched copy of the event for GET /app/event (serverless-http decodes the query
// maps in place before Express sees them).
module.exports.handler = (event, context) => {
  globalThis.lbEvent = structuredClone(event);
  return handle(event, context);
};
