"""TLS helpers for integration tests: certificates made with the openssl CLI in a
temporary directory, and raw HTTP/1.1 connections over TLS (Python's ssl).

    pki = Pki()                                   # a CA in a temp dir
    site = pki.issue("site", dns=["localhost"], ip=["127.0.0.1"])
    client = pki.issue("alice", client=True)
    old = pki.issue("old", client=True, expired=True)
    c = TlsConn(port, cafile=pki.ca_cert, server_hostname="localhost", cert=client)
    c.send(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"); r = c.read_response()

Everything is made once per Pki (a few hundred milliseconds with EC keys) and
removed with pki.cleanup() (or at interpreter exit).
"""
import atexit
import os
import shutil
import socket
import ssl
import subprocess
import tempfile

from lbtest import Conn

OPENSSL = shutil.which("openssl") or "openssl"


def openssl(*args, cwd=None, input=None):
    """Runs the openssl CLI; raises with its stderr on failure."""
    p = subprocess.run([OPENSSL] + list(args), cwd=cwd, capture_output=True, input=input,
                       timeout=60)
    if p.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {p.stderr.decode(errors='replace')}")
    return p.stdout.decode(errors="replace")


class Cert:
    """A certificate (PEM; leaf then chain) and its private key (PEM)."""

    def __init__(self, cert, key):
        self.cert, self.key = cert, key

    def pem(self):
        with open(self.cert) as f:
            return f.read()


CA_CNF = """\
[ca]
default_ca = local
[local]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}/newcerts
serial = {dir}/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = copy
[any]
organizationName = optional
organizationalUnitName = optional
commonName = supplied
[req]
distinguished_name = dn
[dn]
"""


class Pki:
    """A certificate authority in a temporary directory."""

    def __init__(self, name="lb test CA", key="ec"):
        self.dir = tempfile.mkdtemp(prefix="lbtls-")
        atexit.register(self.cleanup)
        os.makedirs(os.path.join(self.dir, "newcerts"))
        open(os.path.join(self.dir, "index.txt"), "w").close()
        with open(os.path.join(self.dir, "serial"), "w") as f:
            f.write("1000\n")
        self.cnf = os.path.join(self.dir, "ca.cnf")
        with open(self.cnf, "w") as f:
            f.write(CA_CNF.format(dir=self.dir))
        self.ca_key = self._key("ca", key)
        self.ca_cert = os.path.join(self.dir, "ca.pem")
        openssl("req", "-x509", "-new", "-key", self.ca_key, "-out", self.ca_cert, "-days", "30",
                "-subj", f"/O=lb tests/CN={name}", "-config", self.cnf,
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def _key(self, name, kind):
        path = self.path(name + ".key")
        if kind == "rsa":
            openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path)
        else:
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)
        return path

    def issue(self, name, dns=(), ip=(), client=False, expired=False, key="ec", cn=None):
        """A certificate signed by this CA: a server one for dns/ip names, or a client one."""
        k = self._key(name, key)
        csr = self.path(name + ".csr")
        subj = f"/O=lb tests/OU={'clients' if client else 'servers'}/CN={cn or name}"
        args = ["req", "-new", "-key", k, "-out", csr, "-subj", subj, "-config", self.cnf]
        sans = [f"DNS:{d}" for d in dns] + [f"IP:{i}" for i in ip]
        if sans:
            args += ["-addext", "subjectAltName=" + ",".join(sans)]
        eku = "clientAuth" if client else "serverAuth"
        args += ["-addext", f"extendedKeyUsage={eku}"]
        openssl(*args)
        out = self.path(name + ".pem")
        dates = (["-startdate", "20200101000000Z", "-enddate", "20200201000000Z"] if expired
                 else ["-days", "30"])
        openssl("ca", "-batch", "-config", self.cnf, "-cert", self.ca_cert, "-keyfile",
                self.ca_key, "-in", csr, "-out", out, "-notext", *dates)
        return Cert(out, k)


def client_context(cafile=None, cert=None, verify=True, min_version=None, max_version=None,
                   ciphers=None, alpn=("http/1.1",)):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if verify:
        ctx.load_verify_locations(cafile)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if cert:
        ctx.load_cert_chain(cert.cert, cert.key)
    if min_version:
        ctx.minimum_version = min_version
    if max_version:
        ctx.maximum_version = max_version
    if ciphers:
        ctx.set_ciphers(ciphers)
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


class TlsConn(Conn):
    """A raw HTTP connection over TLS, with lbtest.Conn's reading helpers."""

    def __init__(self, port, cafile=None, server_hostname="localhost", cert=None, host="127.0.0.1",
                 timeout=10, context=None, **ctx_args):
        ctx = context or client_context(cafile, cert, **ctx_args)
        raw = socket.create_connection((host, port), timeout=timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.sock = ctx.wrap_socket(raw, server_hostname=server_hostname)
        except Exception:
            raw.close()
            raise
        self.buf = b""

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except ssl.SSLEOFError:
            chunk = b""
        if not chunk:
            raise EOFError("connection closed")
        self.buf += chunk

    @property
    def version(self):
        return self.sock.version()

    @property
    def cipher(self):
        return self.sock.cipher()[0]

    def peer_cert(self):
        return self.sock.getpeercert()


def https_listener(certs="auto", policy=None, mtls=None, attributes=None, port=0,
                   rules='["rules/*.yaml"]', default_body="no rule matched", default=None):
    """YAML of one HTTPS listener (indented for a `listeners:` list).

    certs: "auto", None (no key) or a list of Cert; mtls: YAML flow mapping text;
    attributes: dict; default: YAML flow text of default_actions (else a fixed 404)."""
    lines = [f"  - port: {port}", "    protocol: HTTPS", f"    rules: {rules}"]
    if policy:
        lines.append(f"    ssl_policy: {policy}")
    if certs == "auto":
        lines.append("    certificates: auto")
    elif certs:
        items = ", ".join(f"{{certificate: {c.cert}, private_key: {c.key}}}" for c in certs)
        lines.append(f"    certificates: [{items}]")
    if mtls:
        lines.append(f"    mutual_authentication: {mtls}")
    if attributes:
        lines.append("    attributes:")
        lines += [f'      {k}: "{v}"' for k, v in attributes.items()]
    if default:
        return "\n".join(lines + [f"    default_actions: {default}"]) + "\n"
    lines += ["    default_actions:",
              "      - type: fixed-response",
              "        fixed_response: {status_code: \"404\", content_type: text/plain, "
              f"message_body: \"{default_body}\"}}"]
    return "\n".join(lines) + "\n"


def s_client(port, *args, host="127.0.0.1", request=None, timeout=20):
    """Runs `openssl s_client` against port: (exit status, stdout + stderr)."""
    cmd = [OPENSSL, "s_client", "-connect", f"{host}:{port}", "-no_ign_eof"] + list(args)
    data = request if request is not None else b""
    p = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout)
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")
