#!/usr/bin/env python3
"""The demo's HTTP service: not a Lambda function but an ordinary web server, the kind
an ALB's instance or ip target group fronts (a container, a dev server). `make run`
starts two of them (ports 8081 and 8082) behind the `shop` target group.

    python3 functions/service/server.py --port 8081

Pages: /shop (the catalogue, which instance answered and the headers the load
balancer added), /shop/health (the target group's health check), /shop/stream (a
chunked answer, sent in pieces). Python stdlib only.
"""
import argparse
import html
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ITEMS = [("Teapot", 18), ("Kettle", 32), ("Mug", 7)]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"          # keep-alive, as ALB reuses target connections
    server_version = "demo-shop/1.0"

    def log_message(self, fmt, *args):      # lb's access log says it all
        pass

    def send(self, status, ctype, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        port = self.server.server_address[1]
        if self.path == "/shop/health":
            self.send(200, "text/plain", "ok\n")
        elif self.path == "/shop/stream":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(5):
                piece = f"piece {i + 1} of 5 from :{port}\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
                time.sleep(0.2)
            self.wfile.write(b"0\r\n\r\n")
        elif self.path.split("?")[0] in ("/shop", "/shop/"):
            added = ["Host", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Port", "X-Amzn-Trace-Id"]
            rows = "".join(f"<tr><td>{html.escape(n)}</td><td>{html.escape(self.headers.get(n) or '-')}</td></tr>"
                           for n in added)
            items = "".join(f"<li>{html.escape(n)} &mdash; ${p}</li>" for n, p in ITEMS)
            self.send(200, "text/html; charset=utf-8", f"""<!doctype html>
<html><head><title>Shop</title></head><body>
<h1>Shop</h1>
<p>Served by the HTTP service on port <b>{port}</b> (target group <code>shop</code>,
round robin over two instances: reload to see the other one).</p>
<ul>{items}</ul>
<h2>Headers the load balancer sent</h2>
<table>{rows}</table>
<p><a href="/shop/stream">/shop/stream</a> &mdash; a chunked answer, streamed through</p>
<p><a href="/">back</a></p>
</body></html>
""")
        elif self.path == "/shop/api/items":
            self.send(200, "application/json", json.dumps([{"name": n, "price": p} for n, p in ITEMS]))
        else:
            self.send(404, "text/plain", "no such page in the shop\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8081)
    ap.add_argument("--address", default="127.0.0.1")
    args = ap.parse_args()
    ThreadingHTTPServer((args.address, args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
