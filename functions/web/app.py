"""The demo's web function: an HTML page, a form and a PNG image, as an ALB
Lambda target in single-value mode (the target group's default)."""
import base64
import html
import struct
import urllib.parse
import zlib

from demo_theme import STYLE   # from the layer layers/theme, as from /opt/python in Lambda

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>lb demo</title>
<style>{style}</style></head>
<body>
<h1>lb: a local Application Load Balancer</h1>
<p>This page comes from a Python Lambda function behind listener rule 20.
Every link below is routed by the rules in <code>rules/demo.yaml</code>.</p>
<ul>
<li><a href="/api/echo?name=ada&amp;tag=a&amp;tag=b">/api/echo</a> &mdash; a Node function in
multi-value mode echoes the ALB event it received</li>
<li><a href="/cookies">/cookies</a> &mdash; sets two cookies (<code>multiValueHeaders</code>)</li>
<li><a href="/shop">/shop</a> &mdash; an ordinary HTTP service (two instances, an <code>ip</code> target group, round robin)</li>
<li><a href="/ab">/ab</a> &mdash; a weighted forward to two versions, sticky (<code>AWSALBTG</code> cookie)</li>
<li><a href="/image.png">/image.png</a> &mdash; a binary image returned with <code>isBase64Encoded</code></li>
<li><a href="/form">/form</a> &mdash; a form POST (its body reaches the function base64-encoded)</li>
<li><a href="/old/docs">/old/docs</a> &mdash; a 302 redirect action</li>
<li><a href="/health">/health</a> &mdash; a fixed response</li>
<li><a href="/nowhere">/nowhere</a> &mdash; the default rule: 404</li>
</ul>
<p>Your request: <code>{method} {path}</code>, cookies: <code>{cookies}</code>,
trace id <code>{trace}</code>.</p>
</body></html>
"""

FORM = """<!doctype html>
<html><head><meta charset="utf-8"><title>form</title></head><body>
<h1>A form POST through lb</h1>
<form method="post" action="/form">
<label>Name <input name="name" value="Ada"></label>
<label>Note <input name="note" value="λ &amp; friends"></label>
<button type="submit">Send</button></form>
{result}
<p><a href="/">back</a></p></body></html>
"""


def png(width=96, height=96):
    """A small gradient PNG, built with the standard library."""
    rows = b"".join(
        b"\x00" + bytes(v for x in range(width) for v in (x * 255 // width, y * 255 // height, 160))
        for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def html_response(body, status=200):
    return {"statusCode": status, "statusDescription": f"{status} OK" if status == 200 else str(status),
            "headers": {"Content-Type": "text/html; charset=utf-8"}, "body": body}


def form(event):
    result = ""
    if event["httpMethod"] == "POST":
        raw = event.get("body", "")
        # ALB sends a form body base64-encoded: its type is not text/* or JSON.
        if event.get("isBase64Encoded"):
            raw = base64.b64decode(raw).decode("utf-8", "replace")
        fields = urllib.parse.parse_qs(raw)
        items = "".join(f"<li>{html.escape(k)} = {html.escape(', '.join(v))}</li>" for k, v in fields.items())
        result = (f"<p>The function received <code>isBase64Encoded: {str(event.get('isBase64Encoded')).lower()}"
                  f"</code> and decoded:</p><ul>{items}</ul>")
    return html_response(FORM.format(result=result))


def handler(event, context):
    path = event["path"]
    headers = event.get("headers", {})
    if path == "/image.png":
        return {"statusCode": 200, "headers": {"Content-Type": "image/png", "Cache-Control": "max-age=60"},
                "body": base64.b64encode(png()).decode(), "isBase64Encoded": True}
    if path == "/form":
        return form(event)
    if path == "/health-check":
        return {"statusCode": 200, "body": "ok"}
    print(f"serving {path} for {headers.get('user-agent', '?')} (request {context.aws_request_id})")
    return html_response(PAGE.format(style=STYLE, method=html.escape(event["httpMethod"]), path=html.escape(path),
                                     cookies=html.escape(headers.get("cookie", "none")),
                                     trace=html.escape(headers.get("x-amzn-trace-id", ""))))
