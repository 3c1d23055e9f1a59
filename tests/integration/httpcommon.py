"""Shared pieces of the HTTP-target tests: config for instance/ip target groups in
front of tests/integration/backend.py backends. Python stdlib only.
"""
import json

from lbcommon import config


def http_group(name, backends, port=None, attributes=None, health=None, target_type="ip", extra=""):
    """A target group (YAML text for `target_groups:`) with one {id, port} per backend
    (a Backend, or a raw port number)."""
    ports = [b if isinstance(b, int) else b.port for b in backends]
    targets = ", ".join(f"{{id: 127.0.0.1, port: {p}}}" for p in ports)
    text = (f"  - name: {name}\n"
            f"    target_type: {target_type}\n"
            f"    protocol: HTTP\n"
            f"    port: {port or (ports[0] if ports else 80)}\n"
            f"    targets: [{targets}]\n")
    if attributes:
        text += "    attributes:\n" + "".join(f"      {k}: {v}\n" for k, v in attributes.items())
    if health is not None:
        text += f"    health_check: {health}\n"
    return text + extra


def forward_config(groups, default="web", attributes=None):
    """lb.yaml with one listener forwarding to target group default unless a rule says otherwise."""
    listener = ("  - port: 0\n"
                "    rules: [\"rules/*.yaml\"]\n"
                f"    default_actions: [{{type: forward, target_group: {default}}}]\n")
    return config(attributes=attributes, listeners=listener, target_groups="target_groups:\n" + "".join(groups))


def echo(r):
    """The JSON the backend's /echo answered with."""
    return json.loads(r.body)


def sent_headers(r):
    """The headers the backend received, as (name, value) pairs in order."""
    return [tuple(h) for h in echo(r)["headers"]]
