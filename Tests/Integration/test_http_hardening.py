"""The public HTTP path under abuse (issue 11), seen from outside: nothing smuggled behind a refused
upgrade, what a client claims about its address replaced, only one plain `Transfer-Encoding:
chunked`, deadlines for silent bodies, silent machines and idle upgraded connections, the relay's
own answers and cut-short responses in the access log, and a flood of refusals rate-limited."""
from __future__ import annotations

import json
import re
import socket
import time

import pytest

import topology as T
import vshare as V
from servers import websocket as ws

SILENT_PORT = 8009   # a listener in the vm netns that accepts and never answers
SHORT = "body=2s,response=3s,upgraded=3s"


def _statuses(resp: bytes) -> list[int]:
    return [int(m) for m in re.findall(rb"HTTP/1\.[01] (\d{3}) ", resp)]


def _log_line(relay, start: int, share: str, method_path: str, status: int, suffix: str = "") -> re.Match:
    rx = r'^\S+ %s %s "%s" %d \d+ (\d+)ms%s$' % (re.escape(share), re.escape(T.CLIENT_IP), re.escape(method_path),
                                                 status, re.escape(suffix))
    return relay.proc.wait_line(rx, timeout=5, start=start, hint="(access log line for %s %d%s)" % (method_path, status, suffix))


# Smuggling and forwarding headers ---------------------------------------------------

@pytest.mark.timeout(30)
def test_bytes_behind_a_refused_upgrade_are_parsed_as_a_request(topo, relay, share):
    """`Connection: Upgrade` the machine refuses (400: no Sec-WebSocket-Key), with a second request
    right behind it. Passed on raw, that request would reach the machine as the client wrote it;
    held and parsed, it is re-serialized, its X-Forwarded-For replaced by the client's address."""
    first = ("GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n" % share.host_header)
    second = ("GET /headers HTTP/1.1\r\nHost: %s\r\nX-Forwarded-For: 6.6.6.6\r\nConnection: close\r\n\r\n"
              % share.host_header)
    resp, _ = V.raw_exchange(topo, share.port, (first + second).encode(), wait=10)
    assert _statuses(resp) == [400, 200], resp[:600]
    body = resp[resp.rindex(b"\r\n\r\n") + 4:]
    headers = {k.lower(): v for k, v in json.loads(body)}
    assert headers.get("x-forwarded-for") == T.CLIENT_IP, headers


@pytest.mark.timeout(30)
def test_client_address_claims_and_hop_by_hop_fields_are_not_forwarded(topo, relay, share):
    req = ("GET /headers HTTP/1.1\r\nHost: %s\r\nX-Forwarded-For: 1.2.3.4\r\nForwarded: for=1.2.3.4\r\n"
           "X-Real-IP: 1.2.3.4\r\nConnection: close, X-Secret\r\nX-Secret: hop\r\nX-Kept: end\r\n\r\n" % share.host_header)
    resp, _ = V.raw_exchange(topo, share.port, req.encode(), wait=10)
    assert _statuses(resp) == [200], resp[:300]
    fields = json.loads(resp[resp.index(b"\r\n\r\n") + 4:])
    names = [k.lower() for k, _ in fields]
    headers = {k.lower(): v for k, v in fields}
    assert names.count("x-forwarded-for") == 1 and headers["x-forwarded-for"] == T.CLIENT_IP, fields
    assert "forwarded" not in names and "x-real-ip" not in names and "x-secret" not in names, fields
    assert headers.get("x-kept") == "end", fields


@pytest.mark.timeout(30)
@pytest.mark.parametrize("fields,status", [
    ("Transfer-Encoding: gzip, chunked\r\n", 501),
    ("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 400),
    ("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", 400),
])
def test_only_a_single_chunked_transfer_encoding_is_accepted(topo, relay, share, fields, status):
    start = relay.proc.line_count()
    req = "POST /echo HTTP/1.1\r\nHost: %s\r\n%s\r\n5\r\nhello\r\n0\r\n\r\n" % (share.host_header, fields)
    resp, took = V.raw_exchange(topo, share.port, req.encode(), wait=10)
    assert _statuses(resp) == [status], resp[:300]
    assert b"Transfer-Encoding" in resp, "the page says what was wrong: %r" % resp[:600]
    assert took < 5
    _log_line(relay, start, "-", "- -", status)


# Deadlines (a relay of its own with short limits) -------------------------------------

@pytest.fixture(scope="module")
def short_relay(topo, tmp_path_factory, vm_server):
    r = V.start_relay(topo, str(tmp_path_factory.mktemp("short-relay")), control_port=7451, http_port=8091,
                      https_port=8451, name="relay-short", extra=["--http-timeouts", SHORT])
    yield r
    r.proc.stop()


@pytest.fixture(scope="module")
def short_share(topo, short_relay):
    s = V.start_share(topo, short_relay, name="share-short")
    yield s
    s.proc.stop()


@pytest.fixture(scope="module")
def silent_share(topo, short_relay):
    """A share of a machine port that accepts connections and never answers."""
    listener = topo.vm.popen(["python3", "-c",
                              "import socket,time,sys\n"
                              "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                              "s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(64); print('READY', flush=True)\n"
                              "time.sleep(3600)\n", T.VM_IP, str(SILENT_PORT)], name="silent-listener")
    listener.wait_line(r"^READY", timeout=10)
    s = V.start_share(topo, short_relay, name="share-silent", http_port=SILENT_PORT)
    yield s
    s.proc.stop()
    listener.stop()


@pytest.mark.timeout(40)
def test_a_body_that_never_comes_is_answered_and_freed(topo, short_relay, short_share):
    """A head promising a gigabyte, then silence: 408 after the body limit (2 s here), not held."""
    start = short_relay.proc.line_count()
    head = "POST /echo HTTP/1.1\r\nHost: %s\r\nContent-Length: 1000000000\r\n\r\nabc" % short_share.host_header
    resp, took = V.raw_exchange(topo, short_share.port, head.encode(), wait=15)
    assert _statuses(resp) == [408], resp[:300]
    assert 1.5 <= took <= 6, "408 after %.2fs, want ~2 s" % took
    _log_line(short_relay, start, short_share.name, "POST /echo", 408)
    status, body, _ = V.client_get(topo, short_share.host, short_share.port, timeout=10)
    assert status == 200 and b"vm-index-ok" in body


@pytest.mark.timeout(40)
def test_a_response_that_never_starts_is_504(topo, short_relay, silent_share):
    start = short_relay.proc.line_count()
    req = "GET /never HTTP/1.1\r\nHost: %s\r\n\r\n" % silent_share.host_header
    resp, took = V.raw_exchange(topo, silent_share.port, req.encode(), wait=15)
    assert _statuses(resp) == [504], resp[:300]
    assert 2.5 <= took <= 7, "504 after %.2fs, want ~3 s" % took
    ms = int(_log_line(short_relay, start, silent_share.name, "GET /never", 504).group(1))
    assert ms >= 2500, "the 504 line says %d ms" % ms


@pytest.mark.timeout(40)
def test_an_idle_upgraded_connection_is_closed(topo, short_relay, short_share):
    def run():
        s = socket.create_connection((T.RELAY_CLIENT_SIDE_IP, short_share.port), timeout=10)
        try:
            s.sendall(("GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                       % (short_share.host_header, ws.new_key())).encode())
            got = b""
            while b"\r\n\r\n" not in got:
                chunk = s.recv(4096)
                assert chunk, "closed before the 101"
                got += chunk
            t0 = time.monotonic()
            s.settimeout(20)
            try:
                while s.recv(4096):
                    pass
            except ConnectionResetError:
                pass
            return got, time.monotonic() - t0
        finally:
            s.close()
    head, idle = topo.client.call(run, timeout=35)
    assert head.startswith(b"HTTP/1.1 101 "), head[:200]
    assert 2.5 <= idle <= 7, "an upgraded connection with no bytes closed after %.2fs, want ~3 s" % idle


# Access log ------------------------------------------------------------------------

@pytest.mark.timeout(30)
def test_unknown_name_is_logged(topo, relay, share):
    start = relay.proc.line_count()
    req = "GET /x HTTP/1.1\r\nHost: no-such-name-0000.%s:%d\r\n\r\n" % (V.DOMAIN, relay.http_port)
    resp, _ = V.raw_exchange(topo, relay.http_port, req.encode(), wait=10)
    assert _statuses(resp) == [404], resp[:200]
    _log_line(relay, start, "-", "GET /x", 404)


@pytest.mark.timeout(60)
def test_a_download_the_client_abandons_is_not_logged_as_complete(topo, relay, share):
    start = relay.proc.line_count()

    def run():
        s = socket.create_connection((T.RELAY_CLIENT_SIDE_IP, share.port), timeout=10)
        s.sendall(("GET /big?size=%d HTTP/1.1\r\nHost: %s\r\n\r\n" % (200 << 20, share.host_header)).encode())
        got = 0
        while got < 1 << 20:
            got += len(s.recv(65536))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()   # an RST: the browser went away mid-body
    topo.client.call(run, timeout=30)
    m = _log_line(relay, start, share.name, "GET /big?size=%d" % (200 << 20), 200, " aborted=client")
    assert relay.proc.poll() is None, m.string


# Log floods ---------------------------------------------------------------------------

@pytest.fixture
def refusing_relay(topo, tmp_path, vm_server):
    """A relay of its own: refusing the client's address must not touch the module's relay."""
    r = V.start_relay(topo, str(tmp_path / "refusing-relay"), control_port=7452, http_port=8092,
                      https_port=8452, name="relay-refusing")
    yield r
    r.proc.stop()


@pytest.mark.timeout(80)
def test_a_flood_of_refusals_is_rate_limited_in_the_log(topo, refusing_relay):
    port = refusing_relay.http_port

    def guess(i: int) -> list[int]:
        head = "GET / HTTP/1.1\r\nHost: flood-name-%04d.%s:%d\r\nConnection: close\r\n\r\n" % (i, V.DOMAIN, port)
        return _statuses(V.raw_exchange(topo, port, head.encode(), wait=15)[0])

    # 31 misses at once: 10 free, 20 slowed (at most 5 s), the 31st refuses the address.
    futures = [topo.client.submit(guess, i) for i in range(31)]
    statuses = [s for f in futures for s in f.result(timeout=30)]
    assert statuses.count(429) >= 1, statuses
    start = refusing_relay.proc.line_count()
    refused = [guess(100 + i) for i in range(60)]
    assert all(s == [429] for s in refused), refused
    time.sleep(0.5)
    lines = refusing_relay.proc.output_since(start)
    shown = [l for l in lines if re.search(r"Refused %s\b" % re.escape(T.CLIENT_IP), l)]
    assert 0 < len(shown) <= 5, "60 refusals printed %d lines:\n%s" % (len(shown), "\n".join(shown[:20]))
    # Once the flood is over, one line says how many were held back.
    refusing_relay.proc.wait_line(r"Refused %s: .* … repeated \d+ times in \d+ s$" % re.escape(T.CLIENT_IP),
                                  timeout=15, start=start, hint="(the summary of the held-back refusals)")
