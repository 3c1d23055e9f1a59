// An ordinary Express 5 app, written the way people write them (no knowledge of Lambda).
// http.js wraps it with serverless-http, codegenie.js with @codegenie/serverless-express;
// tests/clients/test_express.py drives both through lb. Every route answers with what the
// app saw, so the tests can assert what each adapter made of lb's ALB event.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const express = require('express');

// A 16x16 RGB PNG (677 bytes; a browser checks every chunk's CRC when it decodes it).
const PNG = fs.readFileSync(path.join(__dirname, 'image.png'));

function cookies(req) {
  const out = {};
  for (const part of (req.get('cookie') || '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

function seen(req) {
  return {
    method: req.method,
    path: req.path,
    originalUrl: req.originalUrl,
    query: req.query,
    params: req.params,
    protocol: req.protocol,
    hostname: req.hostname,
    cookies: cookies(req),
    headers: {
      'x-custom': req.get('x-custom') ?? null,
      'x-forwarded-for': req.get('x-forwarded-for') ?? null,
      'x-forwarded-proto': req.get('x-forwarded-proto') ?? null,
      'x-forwarded-port': req.get('x-forwarded-port') ?? null,
      'x-amzn-trace-id': req.get('x-amzn-trace-id') ?? null,
      'content-type': req.get('content-type') ?? null,
    },
  };
}

const app = express();
app.set('trust proxy', true); // behind a load balancer: X-Forwarded-* are the client's
app.set('etag', false);

const items = express.Router();
items.use(express.json());
items.get('/', (req, res) => res.json({ route: 'list', ...seen(req) }));
items.post('/', (req, res) => {
  res.status(201).location(`/app/items/${req.body.id}`)
    .json({ route: 'create', body: req.body, ...seen(req) });
});
items.put('/:id', (req, res) => res.json({ route: 'replace', body: req.body, ...seen(req) }));
items.patch('/:id', (req, res) => res.json({ route: 'patch', body: req.body, ...seen(req) }));
items.delete('/:id', (req, res) => res.set('X-Deleted', req.params.id).status(204).end());
app.use('/app/items', items);

app.get('/app/echo', (req, res) => res.json({ route: 'echo', ...seen(req) }));

// What the app saw next to the event lb sent (the wrappers keep an untouched copy of it).
app.get('/app/event', (req, res) => res.json({ route: 'event', app: seen(req), event: globalThis.lbEvent }));

app.get('/app/cookies', (req, res) => {
  res.cookie('session', 'abc123', { httpOnly: true, path: '/' });
  res.cookie('theme', 'dark', { path: '/app', maxAge: 3600 * 1000 });
  res.json({ route: 'cookies', ...seen(req) });
});

app.get('/app/status/:code', (req, res) => {
  res.set('X-Custom-Header', `custom-${req.params.code}`);
  res.set('Cache-Control', 'no-store');
  res.status(Number(req.params.code)).type('text/plain').send(`status ${req.params.code}`);
});

app.get('/app/redirect', (req, res) => res.redirect(302, '/app/echo?from=redirect'));

app.get('/app/image.png', (req, res) => res.type('image/png').send(PNG));

app.get('/app/bytes/:n', (req, res) => {
  const n = Number(req.params.n);
  const buf = Buffer.alloc(n);
  for (let i = 0; i < n; i++) buf[i] = (i * 7 + (i >> 8)) & 255;
  res.type('application/octet-stream').send(buf);
});

app.post('/app/upload', express.raw({ type: () => true, limit: '2mb' }), (req, res) => {
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  res.json({
    route: 'upload',
    length: body.length,
    sha256: crypto.createHash('sha256').update(body).digest('hex'),
    ...seen(req),
  });
});

app.post('/app/form', express.urlencoded({ extended: false }), (req, res) => {
  res.json({ route: 'form', form: req.body, ...seen(req) });
});

app.get('/app/boom', () => {
  throw new Error('boom');
});

// Pages for the browser test (tests/clients/test_chromium.py): a page that sets two cookies,
// shows the PNG and has a form; the form posts, and is redirected (303) to a result page.
const html = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
app.get('/app/page', (req, res) => {
  res.cookie('session', 'abc123', { httpOnly: true, path: '/' });
  res.cookie('theme', 'dark', { path: '/app' });
  res.type('html').send(`<!doctype html>
<html><head><meta charset="utf-8"><title>lb client page</title></head><body>
<p id="from">${html(req.query.from ?? '')}</p>
<img id="img" src="/app/image.png" alt="gradient">
<form id="form" method="post" action="/app/form-submit">
  <input name="name"> <input name="note"> <button id="send" type="submit">Send</button>
</form>
</body></html>`);
});
app.post('/app/form-submit', express.urlencoded({ extended: false }), (req, res) => {
  const q = new URLSearchParams({ ...req.body, cookiesAtPost: Object.keys(cookies(req)).sort().join(',') });
  res.redirect(303, `/app/result?${q}`);
});
app.get('/app/result', (req, res) => {
  const seenNow = { method: req.method, query: req.query, cookies: cookies(req) };
  res.type('html').send(`<!doctype html>
<html><head><meta charset="utf-8"><title>result</title></head><body>
<pre id="out">${html(JSON.stringify(seenNow))}</pre>
</body></html>`);
});

// Express's own 404 ("Cannot GET /app/…") and 500 pages are left as they are.

module.exports = { app, PNG };
