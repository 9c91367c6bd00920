"""Share options end to end: HTTPS by SNI (never decrypted), --disable-http, a target
that refuses, and a share that loses its relay connection and gets its name back."""
from __future__ import annotations

import hashlib
import os
import re
import ssl
import subprocess
import sys
import signal
import time

import pytest

import topology as T
import vshare as V

VM_SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "servers", "vm_server.py")
VM_HTTPS_PORT = 8443
HTTPS_URL_RE = re.compile(r"HTTPS URL: (\S+)")
# The plain-HTTP URL line ("==> default: URL: http://..."), not the "HTTPS URL:" line.
HTTP_URL_LINE_RE = re.compile(r"(?<!HTTPS )URL: ")


def _openssl(*args: str, cwd) -> None:
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, "openssl %s failed: %s" % (" ".join(args), r.stderr)


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory):
    """A throwaway CA and a server certificate for *.share.test signed by it (openssl CLI)."""
    d = tmp_path_factory.mktemp("tls")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "testCA.key", "-out", "testCA.pem", "-days", "2",
             "-subj", "/CN=vshare integration test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    _openssl("req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr",
             "-subj", "/CN=*.%s" % V.DOMAIN, cwd=d)
    (d / "server.ext").write_text("basicConstraints=CA:FALSE\n"
                                  "keyUsage=critical,digitalSignature\n"
                                  "extendedKeyUsage=serverAuth\n"
                                  "subjectAltName=DNS:*.%s\n" % V.DOMAIN)
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "testCA.pem", "-CAkey", "testCA.key",
             "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.pem", cwd=d)
    return d


@pytest.fixture(scope="module")
def vm_tls_server(topo, test_ca, vm_server):
    """The vm's own HTTPS server on 10.201.1.2:8443 (same pages as the HTTP one, /scheme says https)."""
    proc = topo.vm.popen([sys.executable, "-u", VM_SERVER, "--host", T.VM_IP, "--port", str(VM_HTTPS_PORT),
                          "--tls-cert", str(test_ca / "server.pem"), "--tls-key", str(test_ca / "server.key")],
                         name="vm-tls-server")
    proc.wait_line(r"^READY ", timeout=10)
    topo.share_host.wait_tcp((T.VM_IP, VM_HTTPS_PORT), timeout=5, proc=proc)
    yield proc
    proc.stop()


def _curl_https(topo, test_ca, host: str, port: int, path: str = "/", max_time: float = 10):
    return topo.client.run(["curl", "-sS", "--max-time", str(max_time), "-w", "\\n%{http_code}",
                            "--cacert", str(test_ca / "testCA.pem"),
                            "--resolve", "%s:%d:%s" % (host, port, T.RELAY_CLIENT_SIDE_IP),
                            "https://%s:%d%s" % (host, port, path)], timeout=max_time + 10)


def _split(out: bytes) -> tuple[bytes, bytes]:
    body, _, code = out.rpartition(b"\n")
    return body, code


# HTTPS by SNI ------------------------------------------------------------------

@pytest.mark.timeout(60)
def test_https_by_sni_is_not_decrypted(topo, relay, test_ca, vm_tls_server, new_share, share):
    s = new_share(extra=["--https", str(VM_HTTPS_PORT)])
    m = s.proc.wait_line(HTTPS_URL_RE, timeout=5, hint="(--https: the share prints its HTTPS URL)")
    https_url = m.group(1)
    assert https_url == "https://%s.%s:%d" % (s.name, V.DOMAIN, relay.https_port), https_url
    host = "%s.%s" % (s.name, V.DOMAIN)

    # curl trusts ONLY the vm's test CA: a relay that terminated TLS could not pass this.
    start = relay.proc.line_count()
    for path, want in (("/", b"vm-index-ok"), ("/scheme", b"https")):
        r = _curl_https(topo, test_ca, host, relay.https_port, path)
        assert r.returncode == 0, "curl exit %d: %s" % (r.returncode, r.stderr)
        body, code = _split(r.stdout)
        assert code == b"200", r.stdout[-300:]
        assert want in body, body[:300]
    relay.proc.wait_line(r" %s %s \"TLS %s\" passthrough$" % (re.escape(s.name), re.escape(T.CLIENT_IP),
                                                                re.escape(s.name)),
                         timeout=5, start=start, hint="(the relay logs each passthrough connection)")

    # The certificate the client sees is byte for byte the vm's own.
    def peer_cert() -> bytes:
        ctx = ssl.create_default_context(cafile=str(test_ca / "testCA.pem"))
        raw = T.socket.create_connection((T.RELAY_CLIENT_SIDE_IP, relay.https_port), timeout=10)
        with ctx.wrap_socket(raw, server_hostname=host) as tls:
            return tls.getpeercert(binary_form=True)

    der = topo.client.call(peer_cert, timeout=20)
    pem = (test_ca / "server.pem").read_text()
    want_der = ssl.PEM_cert_to_DER_cert(pem)
    assert hashlib.sha256(der).hexdigest() == hashlib.sha256(want_der).hexdigest(), \
        "the client did not get the vm's certificate (the relay terminated TLS?)"

    # A ClientHello for a name with no share: the connection is closed, no certificate is served.
    unknown = "nosuch-name-0000.%s" % V.DOMAIN
    r = _curl_https(topo, test_ca, unknown, relay.https_port)
    assert r.returncode != 0 and r.returncode != 28, \
        "curl exit %d (want a closed connection, not success or a timeout): %r %r" % (r.returncode, r.stdout[-200:], r.stderr)
    # An HTTP-only share's name is not served on the HTTPS port either.
    r = _curl_https(topo, test_ca, share.host, relay.https_port)
    assert r.returncode != 0 and r.returncode != 28, \
        "HTTPS to an HTTP-only share: curl exit %d %r" % (r.returncode, r.stderr)
    assert relay.proc.poll() is None, relay.proc.describe()

    # The same share still serves plain HTTP.
    status, body, _ = V.client_get(topo, s.host, s.port, "/scheme")
    assert (status, body) == (200, b"http")


# --disable-http ----------------------------------------------------------------

@pytest.mark.timeout(60)
def test_disable_http_serves_only_https(topo, relay, test_ca, vm_tls_server):
    proc = topo.share_host.popen(V.share_argv(relay, token=relay.token, http_port=None,
                                              extra=["--disable-http", "--https", str(VM_HTTPS_PORT)]),
                                 name="share-https-only", env=V.clean_env())
    try:
        name = proc.wait_line(V.SHARE_AT_RE, V.START_TIMEOUT).group(1)
        assert V.NAME_RE.match(name), name
        https_url = proc.wait_line(HTTPS_URL_RE, 5).group(1)
        host = "%s.%s" % (name, V.DOMAIN)
        assert https_url == "https://%s:%d" % (host, relay.https_port), https_url
        proc.wait_line(r"Local HTTP port: disabled", 1, hint="(--disable-http)")
        # Let any further output arrive, then: no plain URL line at all.
        time.sleep(0.3)
        assert not [l for l in proc.output_since(0) if HTTP_URL_LINE_RE.search(l)], \
            "--disable-http printed a URL line:\n" + proc.output
        assert "http://" not in proc.output, proc.output

        status, body, _ = V.client_get(topo, host, relay.http_port)
        assert status == 404, "http:// for an HTTPS-only share answered %d: %r" % (status, body[:200])
        assert name.encode() not in body

        r = _curl_https(topo, test_ca, host, relay.https_port, "/scheme")
        assert r.returncode == 0, r.stderr
        assert _split(r.stdout) == (b"https", b"200"), r.stdout[-200:]
        assert proc.poll() is None, proc.describe()
    finally:
        proc.stop()


# A target that refuses -----------------------------------------------------------

@pytest.mark.timeout(30)
def test_target_that_refuses_is_502(topo, new_share):
    assert not topo.share_host.can_connect((T.VM_IP, 8999), timeout=2), "something listens on vm:8999"
    s = new_share(http_port=8999)
    for _ in range(2):  # and again: one failed dial must not break the share
        status, body, resp = V.client_get(topo, s.host, s.port, timeout=10)
        assert status == 502, "status %d: %r" % (status, body[:300])
        assert (resp.getheader("Content-Type") or "").startswith("text/html"), resp.getheaders()
        assert b"<html" in body.lower() and b"</html>" in body.lower(), body[:300]
    assert s.proc.poll() is None, s.proc.describe()


# Reconnect -----------------------------------------------------------------------

def _relay_conn_sport(topo, pid: int, relay: V.Relay) -> int:
    """The local port of process `pid`'s established TCP connection to the relay's control port."""
    r = topo.share_host.run(["ss", "-tnpH", "state", "established", "dst", T.RELAY_SHARE_SIDE_IP,
                             "dport", "=", ":%d" % relay.control_port], timeout=10, check=True)
    ports = []
    for line in r.stdout.decode().splitlines():
        if "pid=%d," % pid in line:
            local = line.split()[2]  # Recv-Q Send-Q Local Peer Process (state omitted)
            ports.append(int(local.rsplit(":", 1)[1]))
    assert len(ports) == 1, "want exactly one relay connection of pid %d:\n%s" % (pid, r.stdout.decode())
    return ports[0]


@pytest.mark.timeout(60)
def test_reconnect_keeps_the_name(topo, relay, new_share, share):
    s = new_share()
    status, _, _ = V.client_get(topo, s.host, s.port)
    assert status == 200
    sport = _relay_conn_sport(topo, s.proc.pid, relay)
    start = s.proc.line_count()
    # Kill just this share's connection (the module share shares the namespace and must survive).
    r = topo.share_host.run(["ss", "-K", "-tnH", "dst", T.RELAY_SHARE_SIDE_IP, "dport", "=",
                             ":%d" % relay.control_port, "sport", "=", ":%d" % sport], timeout=10)
    if r.returncode != 0 or b"not supported" in r.stderr.lower():
        pytest.fail("ss -K failed (%d): %s" % (r.returncode, r.stderr.decode()))
    t0 = time.monotonic()
    s.proc.wait_line(r"reconnecting", timeout=5, start=start,
                     hint="(the share must notice the lost connection; ss -K killed it)")
    s.proc.wait_line(r"Reconnected.*\b%s\b" % re.escape(s.name), timeout=10, start=start,
                     hint="(it must get its old name back)")
    took, seen = V.wait_status(topo, s.host, s.port, 200, within=max(0.5, 10 - (time.monotonic() - t0)))
    print("200 again %.2fs after the kill (%s)" % (time.monotonic() - t0, V._squash(seen)))
    assert not [l for l in s.proc.output_since(start) if V.SHARE_AT_RE.search(l)], \
        "the share announced a new name:\n" + s.proc.output
    assert _relay_conn_sport(topo, s.proc.pid, relay) != sport
    # The other share was not touched.
    assert share.proc.poll() is None and "reconnecting" not in share.proc.output, share.proc.describe()
    status, body, _ = V.client_get(topo, share.host, share.port)
    assert status == 200 and b"vm-index-ok" in body


# A relay that lost its state (its database) has forgotten every share: the agent reconnects and
# gets a new one. (A relay that keeps its database keeps the share: test_relay_store.py.) ---------

@pytest.mark.timeout(60)
def test_relay_without_its_database_gives_a_new_share(topo, tmp_path, vm_server):
    data = str(tmp_path / "restart-relay")
    ports = dict(control_port=7446, http_port=8083, https_port=8446)   # no other test's relay
    first = V.start_relay(topo, data, name="relay-restart-1", **ports)
    second = None
    try:
        s = V.start_share(topo, first, name="share-restart")
        status, _, _ = V.client_get(topo, s.host, s.port)
        assert status == 200
        start = s.proc.line_count()
        first.proc.signal(signal.SIGKILL)   # a crash: no goodbye to the agent
        first.proc.wait(timeout=5)
        s.proc.wait_line(r"reconnecting", timeout=10, start=start, hint="(the agent must notice the relay is gone)")
        for suffix in ("", "-wal", "-shm"):
            path = os.path.join(data, "relay.db" + suffix)
            if os.path.exists(path):
                os.remove(path)
        second = V.start_relay(topo, data, name="relay-restart-2", **ports)   # same CA and token, no database
        m = s.proc.wait_line(V.SHARE_AT_RE, timeout=15, start=start,
                             hint="(after reconnecting to a relay that lost the share, a new name)")
        new_name = m.group(1)
        assert new_name != s.name
        assert "no longer held" in s.proc.output, s.proc.describe()
        new_host = "%s.%s" % (new_name, V.DOMAIN)
        V.wait_status(topo, new_host, s.port, 200, within=5)
        status, _, _ = V.client_get(topo, s.host, s.port)
        assert status == 404, "the old name must be gone after the relay restart"
        assert s.proc.poll() is None, s.proc.describe()
    finally:
        for relay in (first, second):
            if relay is not None:
                relay.proc.stop()
