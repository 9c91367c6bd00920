"""HTTP shares end to end: client netns -> relay -> TLS tunnel -> share agent -> vm.

The client netns can reach only the relay (test_client_cannot_reach_vm_directly
proves it), so every passing request here went through the tunnel.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
import signal
import ssl
import subprocess
import threading
import time

import pytest

import topology as T
import vshare as V
from servers import pattern, websocket as ws

MiB = 1 << 20


# 13 (first: needs no vshare binary) --------------------------------------------

def test_client_cannot_reach_vm_directly(topo, vm_server):
    """Sanity: the vm's server is up (share-host reaches it) but the client cannot reach it."""
    ok = topo.share_host.run(["curl", "-sS", "--max-time", "5", "http://%s:8000/" % T.VM_IP], timeout=15)
    assert ok.returncode == 0 and b"vm-index-ok" in ok.stdout, ok.stderr
    r = topo.client.run(["curl", "-sS", "--max-time", "3", "http://%s:8000/" % T.VM_IP], timeout=15)
    assert r.returncode != 0, "client reached the vm directly: %r" % r.stdout[:200]
    assert not topo.client.can_connect((T.VM_IP, 8000), timeout=2)
    # Nor can it reach the share-host (no forwarding on the relay).
    assert not topo.client.can_connect((T.SHARE_RELAY_SIDE_IP, 22), timeout=1)
    for ns in topo.namespaces:
        fwd = ns.run(["sysctl", "-n", "net.ipv4.ip_forward"], timeout=10)
        assert fwd.stdout.strip() == b"0", "%s has ip_forward=%r" % (ns.name, fwd.stdout)


# 1 ---------------------------------------------------------------------------

def test_index_through_url_and_access_log(topo, relay, share):
    start = relay.proc.line_count()
    r = topo.client.run(["curl", "-sS", "--max-time", "10", "-w", "\\n%{http_code}",
                         *V.curl_args(share), share.url + "/"], timeout=20)
    assert r.returncode == 0, r.stderr
    body, _, code = r.stdout.rpartition(b"\n")
    assert code == b"200", r.stdout[-300:]
    assert b"vm-index-ok" in body
    rx = (r'^\d{4}-\d\d-\d\dT\S+ %s %s "GET /" 200 \d+ \d+(\.\d+)?ms$'
          % (re.escape(share.name), re.escape(T.CLIENT_IP)))
    m = relay.proc.wait_line(rx, timeout=5, start=start,
                             hint="(access log: <ISO8601> <name> <client-ip> \"<METHOD> <path>\" <status> <bytes> <ms>ms)")
    assert re.match(V.ACCESS_LOG_RE, m.string), m.string


def test_status_lines_on_stderr_data_on_stdout(topo, relay, share):
    """Standard output is not a terminal here, so vshare's status lines go to standard error and
    standard output carries only data: the relay's access log, nothing at all from the share."""
    start = len(relay.proc.stdout_lines)
    r = topo.client.run(["curl", "-sS", "--max-time", "10", "-o", "/dev/null", *V.curl_args(share), share.url + "/"],
                        timeout=20)
    assert r.returncode == 0, r.stderr
    relay.proc.wait_line(r' %s %s "GET /" 200 ' % (re.escape(share.name), re.escape(T.CLIENT_IP)), timeout=5,
                         start=start, stream="stdout", hint="(the access log is the relay's data: standard output)")
    assert re.search(r"^==> relay: ", relay.proc.stderr, re.M), relay.proc.describe()
    assert not [l for l in relay.proc.stdout_lines if l.startswith(("==> ", "    relay: "))], relay.proc.describe()
    assert "==> default: " in share.proc.stderr and V.URL_RE.search(share.proc.stderr), share.proc.describe()
    assert share.proc.stdout == "", share.proc.describe()


# 2 ---------------------------------------------------------------------------

@pytest.mark.timeout(150)
def test_200_mib_download_is_byte_identical(topo, share):
    size = 200 * MiB
    d = V.download_big(topo, share, size)
    assert d.rc == 0, "curl failed (%d): %s" % (d.rc, d.stderr)
    assert "HTTP 200 " in d.stderr, d.stderr
    assert d.length == size, "received %d bytes, want %d" % (d.length, size)
    assert d.sha256 == pattern.sha256_of(size), "content differs from the vm's pattern"
    print("200 MiB in %.2fs (%.0f MiB/s)" % (d.seconds, 200 / d.seconds))


# 3 ---------------------------------------------------------------------------

def test_100_parallel_clients(topo, share):
    n = 100
    barrier = threading.Barrier(n)

    def one(i: int):
        path = "/" if i % 2 == 0 else "/big?size=%d" % (1000 + i * 997)
        barrier.wait(timeout=30)
        status, body, _ = V.client_get(topo, share.host, share.port, path, timeout=30)
        return i, path, status, body

    futures = [topo.client.submit(one, i) for i in range(n)]
    bad = []
    for f in futures:
        try:
            i, path, status, body = f.result(timeout=90)
        except Exception as e:  # noqa: BLE001 - reported below
            bad.append("exception %r" % e)
            continue
        if status != 200:
            bad.append("%s -> %d" % (path, status))
        elif path == "/":
            if b"vm-index-ok" not in body:
                bad.append("%s -> wrong body %r" % (path, body[:80]))
        else:
            size = 1000 + i * 997
            if len(body) != size or hashlib.sha256(body).hexdigest() != pattern.sha256_of(size):
                bad.append("%s -> wrong body (%d bytes)" % (path, len(body)))
    assert not bad, "%d of %d failed: %s" % (len(bad), n, "; ".join(bad[:10]))


# 4 ---------------------------------------------------------------------------

def test_chunked_post(topo, share, tmp_path):
    rnd = random.Random(4)
    body = rnd.randbytes(5 * MiB)
    want = {"sha256": hashlib.sha256(body).hexdigest(), "length": len(body)}

    # Python http.client, irregular chunk sizes (1 byte .. 200 KiB).
    def pieces():
        i = 0
        while i < len(body):
            k = rnd.choice([1, 7, 100, 4096, 16384, 65536, 200000])
            yield body[i:i + k]
            i += k

    conn = V.ClientHTTPConnection(topo, share.host, share.port, timeout=60)
    try:
        conn.request("POST", "/echo", body=pieces(), headers={"Transfer-Encoding": "chunked"},
                     encode_chunked=True)
        resp = conn.getresponse()
        got = resp.read()
    finally:
        conn.close()
    assert resp.status == 200, got[:300]
    got = json.loads(got)
    assert got["chunked"] is True, "the vm did not receive a chunked body: %r" % got
    assert {k: got[k] for k in want} == want

    # curl, as a browser-ish client would send it.
    f = tmp_path / "body.bin"
    f.write_bytes(body)
    r = topo.client.run(["curl", "-sS", "--max-time", "60", "-H", "Transfer-Encoding: chunked",
                         "-H", "Content-Type: application/octet-stream", "--data-binary", "@%s" % f,
                         *V.curl_args(share), share.url + "/echo"], timeout=90)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["chunked"] is True and {k: got[k] for k in want} == want


# 5 ---------------------------------------------------------------------------

def test_websocket_echo(topo, share):
    sock = topo.client.create_connection((T.RELAY_CLIENT_SIDE_IP, share.port), timeout=10)
    try:
        sock.settimeout(10)
        key = ws.new_key()
        sock.sendall(("GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                      "Origin: http://%s\r\n\r\n" % (share.host_header, key, share.host_header)).encode())
        f = sock.makefile("rb")
        status = f.readline()
        assert status.startswith(b"HTTP/1.1 101"), status
        headers = {}
        while True:
            line = f.readline()
            assert line, "connection closed inside the 101 response headers"
            if line in (b"\r\n", b"\n"):
                break
            k, _, v = line.decode().partition(":")
            headers[k.strip().lower()] = v.strip()
        assert headers.get("sec-websocket-accept") == ws.accept_key(key), headers
        assert headers.get("upgrade", "").lower() == "websocket", headers

        def read_exact(n):
            data = f.read(n)
            if len(data) != n:
                raise EOFError("connection closed mid-frame")
            return data

        messages = [
            (ws.OP_TEXT, "hello through vshare ✓".encode()),
            (ws.OP_BINARY, bytes(range(256)) * 4),
            (ws.OP_BINARY, random.Random(5).randbytes(200_000)),  # 64-bit length
            (ws.OP_TEXT, b""),
        ]
        for op, payload in messages:
            sock.sendall(ws.encode_frame(op, payload, mask=True))
            fin, rop, rpayload = ws.read_frame(read_exact)
            assert fin and rop == op and rpayload == payload, "echo mismatch for opcode %d (%d bytes)" % (op, len(payload))

        sock.sendall(ws.encode_frame(ws.OP_PING, b"ping!", mask=True))
        fin, rop, rpayload = ws.read_frame(read_exact)
        assert (rop, rpayload) == (ws.OP_PONG, b"ping!")

        sock.sendall(ws.encode_frame(ws.OP_CLOSE, b"\x03\xe8", mask=True))
        fin, rop, rpayload = ws.read_frame(read_exact)
        assert rop == ws.OP_CLOSE and rpayload[:2] == b"\x03\xe8"
    finally:
        sock.close()


# 6 ---------------------------------------------------------------------------

def test_keep_alive_reuses_one_connection(topo, share):
    conn = V.ClientHTTPConnection(topo, share.host, share.port, timeout=15)
    try:
        socks, local_ports, peers = [], [], []
        for _ in range(5):
            conn.request("GET", "/peer")
            resp = conn.getresponse()
            body = resp.read()
            assert resp.status == 200, body[:200]
            assert not resp.will_close, "relay closed/announced close on a keep-alive connection: %r" % resp.getheaders()
            socks.append(conn.sock)
            local_ports.append(conn.sock.getsockname()[1])
            peers.append(resp.getheader("X-Peer") or body.decode())
        assert conn.connects == 1, "the client had to reconnect %d times" % (conn.connects - 1)
        assert all(s is socks[0] for s in socks) and len(set(local_ports)) == 1, local_ports
        # End to end: the vm saw all five requests on one upstream connection too.
        assert len(set(peers)) == 1, "the vm saw several connections: %s" % peers
    finally:
        conn.close()


# 7 ---------------------------------------------------------------------------

def test_sigint_ends_share(topo, new_share):
    s = new_share()
    elapsed, _ = V.wait_status(topo, s.host, s.port, 200, within=2)
    t0 = time.monotonic()
    s.proc.signal(signal.SIGINT)
    took, seen = V.wait_status(topo, s.host, s.port, 404, within=1.0, poll=0.02)
    # Exited (status 0) within the same second.
    rc = s.proc.wait(timeout=max(0.05, 1.0 - (time.monotonic() - t0)))
    assert rc == 0, "share exited %d after SIGINT\n%s" % (rc, s.proc.describe())
    print("404 after %.3fs (%s); exited by %.3fs" % (took, V._squash(seen), time.monotonic() - t0))
    # and it stays gone
    status, body, _ = V.client_get(topo, s.host, s.port)
    assert status == 404 and s.name.encode() not in body


# 8 ---------------------------------------------------------------------------

def test_share_ttl_expires(topo, tmp_path, vm_server):
    ttl_relay = V.start_relay(topo, str(tmp_path / "ttl-relay"), control_port=7444, http_port=8081,
                              https_port=8444, extra=["--share-ttl", "3s"], name="relay-ttl")
    try:
        s = V.start_share(topo, ttl_relay, name="share-ttl")
        t0 = time.monotonic()
        status, body, _ = V.client_get(topo, s.host, s.port)
        assert status == 200 and b"vm-index-ok" in body
        s.proc.wait_line(r"expired", timeout=10, hint="(--share-ttl 3s)")
        at = time.monotonic() - t0
        assert at >= 2.0, "share expired after %.2fs, ttl is 3s" % at
        rc = s.proc.wait(timeout=5)
        assert rc == 0, "share exited %d after expiry\n%s" % (rc, s.proc.describe())
        V.wait_status(topo, s.host, s.port, 404, within=1.0)
        assert ttl_relay.proc.poll() is None, "relay died\n" + ttl_relay.proc.describe()
    finally:
        ttl_relay.proc.stop()


# 9 ---------------------------------------------------------------------------

def test_unknown_name_is_404(topo, relay, share):
    name = "nosuch-name-0000"
    assert name != share.name
    r = topo.client.run(["curl", "-sS", "--max-time", "10", "-w", "\\n%{http_code}",
                         *V.curl_args("%s.%s" % (name, V.DOMAIN), relay.http_port),
                         "http://%s.%s:%d/" % (name, V.DOMAIN, relay.http_port)], timeout=20)
    assert r.returncode == 0, r.stderr
    body, _, code = r.stdout.rpartition(b"\n")
    assert code == b"404", r.stdout[-300:]
    assert name.encode() not in body, "the 404 page echoes the requested name: %r" % body[:300]


# 10 --------------------------------------------------------------------------

@pytest.mark.parametrize("token", ["wrong", "missing"])
def test_bad_token_is_rejected(topo, relay, vm_server, token):
    bad = None if token == "missing" else "x" + relay.token[::-1]
    proc = topo.share_host.popen(V.share_argv(relay, token=bad), name="share-bad-token", env=V.clean_env())
    rc = proc.wait(timeout=15)
    assert rc == 1, "exit status %d, want 1\n%s" % (rc, proc.describe())
    assert "token" in proc.stderr.lower(), "stderr does not mention the token:\n" + proc.stderr
    assert not V.URL_RE.search(proc.output), "a share was created:\n" + proc.output


# 11 --------------------------------------------------------------------------

def test_relay_cert_from_another_ca_is_rejected(topo, relay, vm_server, tmp_path):
    ca, key = tmp_path / "other-ca.pem", tmp_path / "other-ca.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", str(key), "-out", str(ca), "-days", "2", "-subj", "/CN=Some other CA",
                    "-addext", "basicConstraints=critical,CA:TRUE",
                    "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
                   check=True, capture_output=True, timeout=30)
    proc = topo.share_host.popen(V.share_argv(relay, token=relay.token, ca=str(ca)), name="share-bad-ca",
                                 env=V.clean_env())
    rc = proc.wait(timeout=15)
    assert rc == 1, "exit status %d, want 1\n%s" % (rc, proc.describe())
    assert "certificate" in proc.stderr.lower(), "stderr does not mention the certificate:\n" + proc.stderr
    assert not V.URL_RE.search(proc.output), "a share was created:\n" + proc.output


# 12 --------------------------------------------------------------------------

def _send_garbage(sock, data: bytes, read_for: float = 1.0) -> None:
    """Send, then read until EOF/timeout; the relay may reset us, which is fine."""
    try:
        sock.sendall(data)
        sock.settimeout(read_for)
        deadline = time.monotonic() + read_for
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                break
    except (OSError, ssl.SSLError):
        pass


@pytest.mark.timeout(90)
def test_garbage_on_control_port(topo, relay, share, new_share):
    addr = (T.RELAY_SHARE_SIDE_IP, relay.control_port)
    rnd = random.Random(12)
    held = []  # connections left open (idle or half-sent) while we check the relay still serves
    try:
        # Plain random bytes, several shapes.
        for data in (rnd.randbytes(64 * 1024), b"\x00" * 4096, b"\xff" * 4096,
                     b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"\x16\x03\x01\xff\xff" + rnd.randbytes(300)):  # TLS record header claiming 64 KiB
            s = topo.share_host.create_connection(addr, timeout=5)
            _send_garbage(s, data)
            s.close()
        # Connect and close at once; connect and leave idle; half a TLS record header, left open.
        topo.share_host.create_connection(addr, timeout=5).close()
        held.append(topo.share_host.create_connection(addr, timeout=5))
        s = topo.share_host.create_connection(addr, timeout=5)
        s.sendall(b"\x16\x03")
        held.append(s)

        # A proper TLS connection (verifying the relay with its CA), then garbage inside it.
        ctx = ssl.create_default_context(cafile=relay.ca)
        for data in (rnd.randbytes(64 * 1024), b"\xff" * 64, b"\x00" * 64, rnd.randbytes(7)):
            raw = topo.share_host.create_connection(addr, timeout=5)
            try:
                tls = ctx.wrap_socket(raw, server_hostname=T.RELAY_SHARE_SIDE_IP)
            except ssl.SSLError as e:
                raw.close()
                raise AssertionError("TLS handshake with the relay's control port failed: %r" % e)
            _send_garbage(tls, data)
            tls.close()
        raw = topo.share_host.create_connection(addr, timeout=5)
        tls = ctx.wrap_socket(raw, server_hostname=T.RELAY_SHARE_SIDE_IP)
        tls.sendall(rnd.randbytes(3))  # a partial something, left open
        held.append(tls)

        assert relay.proc.poll() is None, "relay died\n" + relay.proc.describe()
        # The existing share still works...
        status, body, _ = V.client_get(topo, share.host, share.port)
        assert status == 200 and b"vm-index-ok" in body
        assert share.proc.poll() is None, "the existing share ended\n" + share.proc.describe()
        # ...and a new one can be created and used.
        s2 = new_share()
        assert s2.name != share.name
        status, body, _ = V.client_get(topo, s2.host, s2.port)
        assert status == 200 and b"vm-index-ok" in body
    finally:
        for s in held:
            try:
                s.close()
            except OSError:
                pass


# contract: VSHARE_RELAY / VSHARE_RELAY_CA / VSHARE_TOKEN stand in for the flags --------

def test_share_config_from_environment(topo, relay, vm_server):
    env = V.clean_env()
    env.update(VSHARE_RELAY=relay.control_addr, VSHARE_RELAY_CA=relay.ca, VSHARE_TOKEN=relay.token)
    proc = topo.share_host.popen(V.share_argv(None, token=None), name="share-env", env=env)
    try:
        m = proc.wait_line(V.URL_RE, V.START_TIMEOUT)
        s = V.Share(proc, proc.wait_line(V.SHARE_AT_RE, 1).group(1), m.group(1))
        status, body, _ = V.client_get(topo, s.host, s.port)
        assert status == 200 and b"vm-index-ok" in body
    finally:
        proc.stop()
