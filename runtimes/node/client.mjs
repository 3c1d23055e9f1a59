// A small client for the Lambda Runtime API
// (http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/...).
//
// HTTP/1.1 over one keep-alive TCP connection (node:net, TCP_NODELAY), one request at a
// time, no timeouts (the /next GET waits as long as it takes). A request - request line,
// headers with Content-Length, body - is one string handed to one socket.write(), so it
// leaves in one send. Node's http client would do the same exchange about twice as slowly
// per invocation, and the Runtime API is a fixed, local peer.
//
// The socket is unref'd while no request is in flight, so the client never keeps the
// event loop alive by itself (context.callbackWaitsForEmptyEventLoop relies on that).

import net from 'node:net';
import { toRapidResponse } from './errors.mjs';

const BASE = '/2018-06-01/runtime';
const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';
const USER_AGENT = `lb-runtime-nodejs/${process.versions.node}`;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0); // never written to: shared by every parser

/** Errors that mean the Runtime API is gone (lb stopped or the sandbox is torn down). */
export function isConnectionError(err) {
  return ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTCONN', 'ECONNABORTED'].includes(err?.code);
}

function connectionError(message) {
  const err = new Error(message);
  err.code = 'ECONNRESET';
  return err;
}

// A header value must be visible ASCII; anything else becomes "Unhandled".
function headerValue(s) {
  return typeof s === 'string' && /^[\x20-\x7e]{1,200}$/.test(s) ? s : 'Unhandled';
}

/**
 * Incremental HTTP/1.1 response parser: push(data) returns true once complete; then
 * `rest` holds the bytes after the answer (the start of the next one, when pipelined).
 * `headers` is a Map from lower-case names to values (repeated ones joined by ", "): a
 * Map costs about half of what a plain object with these names as properties does.
 */
class ResponseParser {
  constructor(method) {
    this.method = method;
    this.head = EMPTY; // bytes before the end of the head
    this.status = 0;
    this.headers = null;
    this.mode = null; // 'none' | 'length' | 'chunked' | 'close'
    this.chunks = [];
    this.size = 0;
    this.remaining = 0;
    this.body = null;
    this.rest = null;
    this.started = false;
  }

  push(data) {
    this.started = true;
    if (this.headers === null) {
      const from = Math.max(0, this.head.length - 3);
      this.head = this.head.length ? Buffer.concat([this.head, data]) : data;
      const end = this.head.indexOf(CRLFCRLF, from);
      if (end < 0) return false;
      const rest = this.head.subarray(end + 4);
      this.parseHead(this.head.toString('latin1', 0, end));
      if (this.status >= 100 && this.status < 200) {
        // An interim response: the real one follows.
        this.head = EMPTY;
        this.headers = null;
        return rest.length ? this.push(rest) : false;
      }
      if (this.mode === 'none') return this.finish(EMPTY, rest);
      data = rest;
      if (!data.length && this.mode !== 'length') return false;
    }
    if (this.mode === 'length') {
      this.chunks.push(data);
      this.size += data.length;
      if (this.size < this.remaining) return false;
      const all = this.chunks.length === 1 ? data : Buffer.concat(this.chunks, this.size);
      return this.finish(all.subarray(0, this.remaining), all.subarray(this.remaining));
    }
    if (this.mode === 'chunked') return this.pushChunked(data);
    this.chunks.push(data); // 'close': the body ends with the connection
    this.size += data.length;
    return false;
  }

  parseHead(text) {
    // Line by line with indexOf: no array of lines, no copy of a line.
    let eol = text.indexOf('\r\n');
    if (eol < 0) eol = text.length;
    // "HTTP/1.1 200 OK": the word after the first space.
    const sp = text.indexOf(' ');
    const sp2 = sp < 0 || sp >= eol ? -1 : text.indexOf(' ', sp + 1);
    this.status = sp < 0 || sp >= eol ? NaN : Number(text.slice(sp + 1, sp2 < 0 || sp2 > eol ? eol : sp2));
    const headers = new Map();
    for (let pos = eol + 2; pos < text.length; pos = eol + 2) {
      eol = text.indexOf('\r\n', pos);
      if (eol < 0) eol = text.length;
      const c = text.indexOf(':', pos);
      if (c <= pos || c >= eol) continue;
      const name = text.slice(pos, c).trim().toLowerCase();
      const value = text.slice(c + 1, eol).trim();
      const prev = headers.get(name);
      headers.set(name, prev === undefined ? value : `${prev}, ${value}`);
    }
    this.headers = headers;
    if (this.method === 'HEAD' || this.status === 204 || this.status === 304) this.mode = 'none';
    else if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
      this.mode = 'chunked';
      this.pending = EMPTY;
    } else if (headers.get('content-length') !== undefined) {
      this.remaining = Number(headers.get('content-length'));
      this.mode = this.remaining > 0 ? 'length' : 'none';
    } else this.mode = 'close';
  }

  pushChunked(data) {
    let buf = this.pending.length ? Buffer.concat([this.pending, data]) : data;
    for (;;) {
      if (this.remaining > 0) {
        // inside a chunk: its data, then CRLF
        if (buf.length < this.remaining + 2) break;
        this.chunks.push(buf.subarray(0, this.remaining));
        this.size += this.remaining;
        buf = buf.subarray(this.remaining + 2);
        this.remaining = 0;
      }
      const eol = buf.indexOf('\r\n');
      if (eol < 0) break;
      if (this.trailers) {
        buf = buf.subarray(eol + 2);
        if (eol === 0) return this.finish(Buffer.concat(this.chunks, this.size), buf);
        continue;
      }
      const size = parseInt(buf.subarray(0, eol).toString('latin1').split(';')[0], 16);
      buf = buf.subarray(eol + 2);
      if (size === 0) this.trailers = true;
      else this.remaining = size;
    }
    this.pending = buf;
    return false;
  }

  /** The connection ended: completes a body delimited by the end of the connection. */
  end() {
    if (this.headers !== null && this.mode === 'close') {
      return this.finish(Buffer.concat(this.chunks, this.size));
    }
    return false;
  }

  finish(body, rest) {
    this.body = body;
    this.rest = rest ?? null;
    return true;
  }
}

export class RuntimeClient {
  constructor(address) {
    if (!address) throw new Error('AWS_LAMBDA_RUNTIME_API is not set');
    const m = /^\[(.*)\]:(\d+)$/.exec(address) || /^(.*):(\d+)$/.exec(address);
    if (!m) throw new Error(`AWS_LAMBDA_RUNTIME_API is not host:port: ${address}`);
    this.host = m[1];
    this.port = Number(m[2]);
    this.hostHeader = address;
    // The part of every request after its request line, built once.
    this.fixed = ` HTTP/1.1\r\nHost: ${address}\r\nUser-Agent: ${USER_AGENT}\r\n`;
    this.nextData = `GET ${BASE}/invocation/next${this.fixed}\r\n`;
    this.socket = null;
    this.queue = []; // requests not yet written
    this.inflight = []; // written, answers awaited in order
  }

  /**
   * One exchange; cb(err, {status, headers: Map, body: Buffer}). A request that fails on a
   * reused connection before any byte of the answer arrived (the server closed the idle
   * connection) is sent once more on a fresh connection. With `then` (a request built by
   * nextRequest), that request is pipelined: written with this one, in the same send.
   */
  request(method, path, headers, body, cb, then) {
    let head = method + ' ' + path + this.fixed;
    if (body !== undefined) {
      head += `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
    }
    for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
    this.send({ method, data: `${head}\r\n${body ?? ''}`, cb, then, retried: false });
  }

  send(req) {
    this.queue.push(req);
    if (!this.inflight.length) this.startNext();
  }

  startNext() {
    const req = this.queue.shift();
    if (!req) {
      this.socket?.unref();
      return;
    }
    const batch = req.then ? [req, req.then] : [req];
    const reused = this.socket !== null;
    for (const r of batch) {
      r.parser = new ResponseParser(r.method);
      r.reused = reused;
    }
    this.inflight = batch;
    if (!reused) this.connect();
    this.socket.ref();
    this.socket.write(req.then ? req.data + req.then.data : req.data);
  }

  connect() {
    const s = net.connect({ host: this.host, port: this.port, noDelay: true });
    s.on('data', (d) => s === this.socket && this.onData(d));
    s.on('error', (err) => s === this.socket && this.onBroken(err));
    s.on('close', () => s === this.socket && this.onBroken(connectionError('socket hang up')));
    this.socket = s;
  }

  drop() {
    const s = this.socket;
    this.socket = null;
    s?.destroy();
  }

  onData(data) {
    while (data !== null) {
      const req = this.inflight[0];
      if (!req) {
        this.drop(); // bytes nobody asked for: start over on a fresh connection
        break;
      }
      if (!req.parser.push(data)) return;
      data = req.parser.rest?.length ? req.parser.rest : null;
      const connection = req.parser.headers.get('connection');
      if (connection !== undefined && /close/i.test(connection)) {
        // The server reads nothing more on this connection: a request pipelined
        // behind this one was not served, and goes again on a fresh connection.
        this.drop();
        const rest = this.inflight.slice(1);
        this.inflight = [req];
        this.complete(req, null);
        if (rest.length) this.queue.unshift(...rest);
        if (!this.inflight.length) this.startNext();
        return;
      }
      this.complete(req, null);
    }
    if (!this.inflight.length) this.startNext();
  }

  onBroken(err) {
    this.drop();
    const req = this.inflight[0];
    if (!req) return;
    if (req.parser.end()) {
      this.complete(req, null);
      this.failRest(err);
    } else if (req.reused && !req.retried && !req.parser.started && isConnectionError(err)) {
      // Sent again, with whatever was pipelined behind it.
      const batch = this.inflight;
      this.inflight = [];
      for (const r of batch) r.retried = true;
      this.queue.unshift(batch[0]);
      this.startNext();
    } else {
      this.inflight.shift();
      req.cb(err);
      this.failRest(err);
    }
  }

  /** The answered request leaves the in-flight list; its callback runs. */
  complete(req, err) {
    this.inflight.shift();
    const p = req.parser;
    if (err) req.cb(err);
    else req.cb(null, { status: p.status, headers: p.headers, body: p.body });
  }

  failRest(err) {
    const rest = this.inflight;
    this.inflight = [];
    for (const r of rest) r.cb(err);
    this.startNext();
  }

  /** The /next request, for request()'s `then`: cb(err, {status, headers, body}). */
  nextRequest(cb) {
    return { method: 'GET', data: this.nextData, cb, retried: false };
  }

  /** Waits for the next event: cb(err, {status, headers, body}). */
  next(cb) {
    this.send(this.nextRequest(cb));
  }

  /** Posts the result; `body` is the JSON text. `then`: a pipelined /next (nextRequest). */
  postResponse(id, body, cb, then) {
    this.request('POST', `${BASE}/invocation/${encodeURIComponent(id)}/response`, {}, body, cb, then);
  }

  postError(id, error, cb, then) {
    const r = toRapidResponse(error);
    this.request(
      'POST',
      `${BASE}/invocation/${encodeURIComponent(id)}/error`,
      { [ERROR_TYPE_HEADER]: headerValue(r.errorType) },
      JSON.stringify(r),
      cb,
      then,
    );
  }

  postInitError(error, cb) {
    const r = toRapidResponse(error);
    this.request(
      'POST',
      `${BASE}/init/error`,
      { [ERROR_TYPE_HEADER]: headerValue(r.errorType) },
      JSON.stringify(r),
      cb,
    );
  }
}
