// WebSocket echo target for lb's tests, written with the `ws` library (a real,
// widely used server implementation, so lb's tunnel is tested against the framing,
// masking checks and close handshake of production code, not our own).
//
//   node echo.mjs [--port 0] [--id NAME]     prints its port on the first line of stdout
//
// Upgrades on any path under /ws are accepted; the 101 carries X-Backend-Id: NAME.
// Every message is sent back as it came (text as text, binary as binary); a text
// message "close:CODE" makes the server close with CODE and reason "bye". On /ws/headers
// the first message is JSON {target, headers: [[name, value], ...]}: the upgrade request
// exactly as the server received it (names in their original case and order). Plain
// HTTP requests get 200 "ws echo NAME". ws answers pings with pongs by itself.
import http from "node:http";
import { WebSocketServer } from "ws";

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const id = opt("--id", "ws");
const port = Number(opt("--port", "0"));

const server = http.createServer((req, res) => {
  const body = `ws echo ${id}\n`;
  res.writeHead(200, { "Content-Type": "text/plain", "Content-Length": Buffer.byteLength(body), "X-Backend-Id": id });
  res.end(body);
});

const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
wss.on("headers", (headers) => headers.push(`X-Backend-Id: ${id}`));

server.on("upgrade", (req, socket, head) => {
  if (!req.url.startsWith("/ws")) {
    socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
});

wss.on("connection", (ws, req) => {
  if (req.url.startsWith("/ws/headers")) {
    const pairs = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) pairs.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
    ws.send(JSON.stringify({ target: req.url, headers: pairs }));
  }
  ws.on("message", (data, isBinary) => {
    const m = !isBinary && /^close:(\d+)$/.exec(data.toString());
    if (m) ws.close(Number(m[1]), "bye");
    else ws.send(data, { binary: isBinary });
  });
  ws.on("error", () => {});
});

server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.on("SIGTERM", () => process.exit(0));
