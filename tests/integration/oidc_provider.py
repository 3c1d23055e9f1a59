#!/usr/bin/env python3
"""A small, real OpenID provider for lb's authentication tests (Python stdlib only).

    with OidcProvider(client_id="lb", client_secret="s3cret") as idp:
        idp.url                     # http://127.0.0.1:PORT (the issuer)
        idp.authorizations          # the query of each /authorize, parsed
        idp.token_requests          # each /token request: {auth, form}
        idp.userinfo_requests       # each /userinfo request's header fields, [(name, value)]
        OidcProvider(tls=(cert, key))  # served over HTTPS as https://localhost:PORT
        idp.token_gate = threading.Event()  # /token waits until it is set

Endpoints: /.well-known/openid-configuration; /authorize auto-approves the test
user and redirects to redirect_uri with code and state (or error=access_denied
when the scope has "refuse"); /token checks the client's credentials
(client_secret_basic or client_secret_post), the code and the redirect_uri, and
answers access_token and an id_token carrying the nonce; /userinfo checks the
bearer token and answers the user's claims (a 7 KB "bio" claim when the scope
has "big"); /jwks holds the HS256 key id only (the id tokens are HMAC-signed
with the client secret, as OpenID allows for confidential clients).

Hostile answers, for lb's checks, by scope word: "crlf-token" and "crlf-sub"
append "\r\nX-Injected: yes" to the access token or the sub (the token stays
valid for /userinfo without it); "no-sub" leaves the sub out of /userinfo's
claims; "no-nonce" and "wrong-nonce" spoil the ID token's nonce claim.
"""
import base64
import hashlib
import hmac
import http.server
import json
import secrets
import ssl
import threading
import urllib.parse

USER = {"sub": "user-1234", "email": "ada@example.com", "name": "Ada Lovelace",
        "email_verified": True}
INJECT = "\r\nX-Injected: yes"   # what a hostile IdP appends to a value lb puts in a header


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class OidcProvider:
    def __init__(self, client_id="lb-client", client_secret="s3cret", host="127.0.0.1",
                 tls=None):
        self.client_id = client_id
        self.client_secret = client_secret
        self.codes = {}          # code -> {redirect_uri, nonce, scope}
        self.tokens = {}         # access token -> scope
        self.authorizations = []
        self.token_requests = []
        self.userinfo_requests = []
        self.lock = threading.Lock()
        self.token_gate = None   # a threading.Event /token waits for (set: answer)
        self.token_waiting = threading.Event()
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def send_json(self, status, doc, headers=()):
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def redirect(self, url):
                self.send_response(302)
                self.send_header("Location", url)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):
                u = urllib.parse.urlsplit(self.path)
                q = dict(urllib.parse.parse_qsl(u.query))
                if u.path == "/.well-known/openid-configuration":
                    self.send_json(200, provider.discovery())
                elif u.path == "/authorize":
                    self.authorize(q)
                elif u.path == "/userinfo":
                    self.userinfo()
                elif u.path == "/jwks":
                    self.send_json(200, {"keys": [{"kty": "oct", "kid": "hs", "alg": "HS256"}]})
                else:
                    self.send_json(404, {"error": "not_found"})

            def authorize(self, q):
                with provider.lock:
                    provider.authorizations.append(q)
                if q.get("client_id") != provider.client_id or q.get("response_type") != "code":
                    self.send_json(400, {"error": "invalid_request"})
                    return
                sep = "&" if "?" in q["redirect_uri"] else "?"
                if "refuse" in q.get("scope", "").split():
                    self.redirect(q["redirect_uri"] + sep + urllib.parse.urlencode(
                        {"error": "access_denied", "state": q.get("state", "")}))
                    return
                code = secrets.token_urlsafe(16)
                with provider.lock:
                    provider.codes[code] = {"redirect_uri": q["redirect_uri"],
                                            "nonce": q.get("nonce"), "scope": q.get("scope", "")}
                self.redirect(q["redirect_uri"] + sep + urllib.parse.urlencode(
                    {"code": code, "state": q.get("state", "")}))

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(n).decode()))
                if urllib.parse.urlsplit(self.path).path != "/token":
                    self.send_json(404, {"error": "not_found"})
                    return
                auth = self.headers.get("Authorization")
                if provider.token_gate is not None:
                    provider.token_waiting.set()
                    provider.token_gate.wait(30)
                with provider.lock:
                    provider.token_requests.append({"auth": auth, "form": form})
                cid, secret = form.get("client_id"), form.get("client_secret")
                if auth and auth.startswith("Basic "):
                    pair = base64.b64decode(auth[6:]).decode()
                    cid, secret = (urllib.parse.unquote_plus(x) for x in pair.split(":", 1))
                if cid != provider.client_id or secret != provider.client_secret:
                    self.send_json(401, {"error": "invalid_client"})
                    return
                with provider.lock:
                    grant = provider.codes.pop(form.get("code"), None)
                if (form.get("grant_type") != "authorization_code" or not grant or
                        grant["redirect_uri"] != form.get("redirect_uri")):
                    self.send_json(400, {"error": "invalid_grant"})
                    return
                at = secrets.token_urlsafe(24)
                with provider.lock:
                    provider.tokens[at] = grant["scope"]
                scope, nonce = grant["scope"].split(), grant["nonce"]
                nonce = None if "no-nonce" in scope else "wrong" if "wrong-nonce" in scope else nonce
                sent = at + INJECT if "crlf-token" in scope else at
                self.send_json(200, {"access_token": sent, "token_type": "Bearer", "expires_in": 3600,
                                     "id_token": provider.id_token(nonce)},
                               headers=[("Cache-Control", "no-store")])

            def userinfo(self):
                with provider.lock:
                    provider.userinfo_requests.append(list(self.headers.items()))
                auth = self.headers.get("Authorization", "")
                scope = provider.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
                if scope is None:
                    self.send_json(401, {"error": "invalid_token"})
                    return
                claims = dict(USER)
                if "big" in scope.split():
                    claims["bio"] = "x" * 7000
                if "crlf-sub" in scope.split():
                    claims["sub"] += INJECT
                if "no-sub" in scope.split():
                    del claims["sub"]
                self.send_json(200, claims)

        self.server = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        # lb may close a connection mid-answer (its client left): not an error here
        self.server.handle_error = lambda request, client_address: None
        self.port = self.server.server_address[1]
        scheme = "http"
        if tls:
            # tls: (certificate file, key file); the issuer is then https://localhost:PORT
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
            scheme, host = "https", "localhost"
        self.url = f"{scheme}://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def discovery(self):
        return {"issuer": self.url, "authorization_endpoint": self.url + "/authorize",
                "token_endpoint": self.url + "/token", "userinfo_endpoint": self.url + "/userinfo",
                "jwks_uri": self.url + "/jwks", "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["HS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                          "client_secret_post"]}

    def id_token(self, nonce):
        head = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "hs"}).encode())
        claims = {"iss": self.url, "sub": USER["sub"], "aud": self.client_id, "iat": 0,
                  "exp": 2 ** 31 - 1}
        if nonce:
            claims["nonce"] = nonce
        body = b64url(json.dumps(claims).encode())
        sig = hmac.new(self.client_secret.encode(), f"{head}.{body}".encode(), hashlib.sha256)
        return f"{head}.{body}.{b64url(sig.digest())}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
