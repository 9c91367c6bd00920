"""Access rules on a share's public URL: `--basic-auth` (401 challenge at the relay, credentials
stripped before the machine) and `--allow-ip` (403 for other TCP peers), with every refusal in the
relay's access log with its reason."""
from __future__ import annotations

import json
import re
import socket
import ssl

import pytest

import topology as T
import vshare as V

# The password holds a colon: only the user id ends at the first one (RFC 7617).
PASSWORD = "s3cret:with-colon"


def _curl(topo, share, path="/", extra=()):
    """(status, response headers text, body) of one GET from the client netns."""
    r = topo.client.run(["curl", "-sS", "--max-time", "10", "-D", "-", "-o", "/dev/stderr",
                         *V.curl_args(share), *extra, share.url + path], timeout=20)
    assert r.returncode == 0, r.stderr
    head = r.stdout.decode(errors="replace")
    status = int(head.split(None, 2)[1])
    return status, head, r.stderr


def _refusal_re(share, client, status, reason):
    return r'^\S+ %s %s "GET /\S*" %d 0 \d+ms acl=%s$' % (re.escape(share.name), re.escape(client), status, re.escape(reason))


def test_basic_auth(topo, relay, new_share):
    start = relay.proc.line_count()
    share = new_share(extra=["--basic-auth", "alice:" + PASSWORD])
    share.proc.wait_line(r"default: Basic auth: user alice$", timeout=5)
    assert PASSWORD not in share.proc.output

    status, head, _ = _curl(topo, share)
    assert status == 401, head
    assert re.search(r'(?im)^WWW-Authenticate: Basic realm="vshare %s"\r?$' % re.escape(share.name), head), head
    relay.proc.wait_line(_refusal_re(share, T.CLIENT_IP, 401, "basic-auth:missing"), timeout=5, start=start)

    status, head, _ = _curl(topo, share, extra=["-u", "alice:wrong"])
    assert status == 401, head
    relay.proc.wait_line(_refusal_re(share, T.CLIENT_IP, 401, "basic-auth:wrong"), timeout=5, start=start)
    status, head, _ = _curl(topo, share, extra=["-u", "mallory:" + PASSWORD])
    assert status == 401, head

    status, head, body = _curl(topo, share, extra=["-u", "alice:" + PASSWORD])
    assert status == 200 and b"vm-index-ok" in body, head
    # The machine never sees the credentials: the relay removed the header it checked.
    status, head, body = _curl(topo, share, "/headers", extra=["-u", "alice:" + PASSWORD])
    assert status == 200, head
    names = [name.lower() for name, _ in json.loads(body)]
    assert "authorization" not in names and "x-forwarded-for" in names, names
    # Verified once, then served from the relay's cache: a keep-alive series works too.
    r = topo.client.run(["curl", "-sS", "--max-time", "10", "-w", "%{http_code}\\n", *V.curl_args(share),
                         "-u", "alice:" + PASSWORD] + ["-o", "/dev/null", share.url + "/"] * 5, timeout=20)
    assert r.stdout.split() == [b"200"] * 5, r.stdout
    assert PASSWORD not in relay.proc.output


def test_allow_ip(topo, relay, new_share, second_client_ip):
    start = relay.proc.line_count()
    share = new_share(extra=["--allow-ip", "%s/32,fd00::/8" % T.CLIENT_IP, "--allow-ip", "192.0.2.0/24"])
    share.proc.wait_line(r"default: Allowed addresses: %s/32, fd00::/8, 192.0.2.0/24$" % re.escape(T.CLIENT_IP), timeout=5)

    status, head, body = _curl(topo, share)
    assert status == 200 and b"vm-index-ok" in body, head
    status, head, _ = _curl(topo, share, extra=["--interface", second_client_ip])
    assert status == 403, head
    # A forwarded-for header from the client changes nothing: the TCP peer is what counts.
    status, head, _ = _curl(topo, share, extra=["--interface", second_client_ip, "-H", "X-Forwarded-For: " + T.CLIENT_IP])
    assert status == 403, head
    relay.proc.wait_line(_refusal_re(share, second_client_ip, 403, "allow-ip"), timeout=5, start=start)


def _tls_hello(topo, host: str, port: int, source: str) -> str:
    """Sends a ClientHello naming `host` from `source`; how the handshake ended (nothing answers TLS here)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    def run():
        raw = socket.create_connection((T.RELAY_CLIENT_SIDE_IP, port), timeout=5, source_address=(source, 0))
        try:
            ctx.wrap_socket(raw, server_hostname=host).close()
            return "handshake"
        except (ssl.SSLError, OSError) as e:
            return type(e).__name__
        finally:
            raw.close()
    return topo.client.call(run, timeout=20)


def test_allow_ip_closes_https_passthrough(topo, relay, new_share, second_client_ip):
    start = relay.proc.line_count()
    share = new_share(extra=["--https", "8443", "--allow-ip", T.CLIENT_IP])
    host = "%s.%s" % (share.name, V.DOMAIN)
    _tls_hello(topo, host, relay.https_port, second_client_ip)
    relay.proc.wait_line(r' %s %s "TLS %s" refused acl=allow-ip$' % (re.escape(share.name), re.escape(second_client_ip),
                                                                      re.escape(share.name)), timeout=5, start=start)
    # From the allowed address the same hello is passed on to the machine.
    _tls_hello(topo, host, relay.https_port, T.CLIENT_IP)
    relay.proc.wait_line(r' %s %s "TLS %s" passthrough$' % (re.escape(share.name), re.escape(T.CLIENT_IP), re.escape(share.name)),
                         timeout=5, start=start)
    assert not re.search(r' %s \S+ "TLS %s" passthrough' % (re.escape(share.name), re.escape(share.name)),
                         "\n".join(l for l in relay.proc.output_since(start) if second_client_ip in l))


def test_basic_auth_refuses_https(topo, relay):
    argv = V.share_argv(relay, token=relay.token, extra=["--https", "8443", "--basic-auth", "alice:pw"])
    r = topo.share_host.run(argv, timeout=20, env=V.clean_env())
    assert r.returncode == 2, r
    assert b"--basic-auth protects the HTTP URL only" in r.stderr, r.stderr
