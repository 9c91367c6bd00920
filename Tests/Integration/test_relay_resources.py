"""Resources and liveness (issue 11), seen from outside: clients that ask for much and never read,
one address opening hundreds of sockets, a control connection that says HELLO and nothing more,
a frozen agent, and the relay's memory after a burst."""
from __future__ import annotations

import json
import os
import re
import select
import signal
import socket
import ssl
import struct
import subprocess
import time

import pytest

import test_ssh as SSH
import topology as T
import vshare as V
from test_ssh import machine  # noqa: F401 (the fixture: a user, its authorized_keys, an sshd)

MiB = 1 << 20
JOIN_TIMEOUT = 2          # --join-timeout of this module's relay (the default is 10 s)
PER_ADDRESS = 256         # the relay's default --max-conns-per-ip


@pytest.fixture(scope="module")
def relay(topo, tmp_path_factory, vm_server):
    r = V.start_relay(topo, str(tmp_path_factory.mktemp("relay-data")),
                      extra=["--join-timeout", "%ds" % JOIN_TIMEOUT])
    yield r
    r.proc.stop()


def _settled_rss_kib(pid: int, within: float = 10.0) -> int:
    """RSS once two samples a second apart agree within 512 KiB (or after `within` s)."""
    deadline = time.monotonic() + within
    last = V.rss_kib(pid)
    while time.monotonic() < deadline:
        time.sleep(1)
        now = V.rss_kib(pid)
        if abs(now - last) < 512:
            return now
        last = now
    return last


def _get(topo, share, path: str = "/", source: str | None = None, wait: float = 10) -> tuple[int, bytes]:
    """One request on a fresh connection from the client netns (from `source` if given)."""
    def run():
        s = socket.create_connection((T.RELAY_CLIENT_SIDE_IP, share.port), timeout=wait,
                                     source_address=(source, 0) if source else None)
        try:
            s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path, share.host_header)).encode())
            got = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
            return got
        finally:
            s.close()
    got = topo.client.call(run, timeout=wait + 10)
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", got)
    assert m, "not an HTTP response: %r" % got[:200]
    return int(m.group(1)), got


def _open_sockets(topo, port: int, n: int, request: bytes | None = None, rcvbuf: int | None = None,
                  resets: list | None = None) -> list:
    """`n` connections from the client netns; with `resets`, a connection reset while it is being
    made (refused at accept) is counted there instead of failing."""
    def run():
        socks = []
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if rcvbuf:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            s.settimeout(10)
            try:
                s.connect((T.RELAY_CLIENT_SIDE_IP, port))
                if request:
                    s.sendall(request)
            except ConnectionResetError:
                if resets is None:
                    raise
                resets.append(s)
                s.close()
                continue
            socks.append(s)
        return socks
    return topo.client.call(run, timeout=120)


def _close_all(socks: list) -> None:
    for s in socks:
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        except OSError:
            pass


# 1. Clients that never read ------------------------------------------------------------

@pytest.mark.timeout(120)
def test_clients_that_never_read_cost_a_stream_window_each_not_more(topo, relay, share):
    """100 connections ask for 64 MiB each and read nothing: the relay holds at most a public
    stream's window (256 KiB) for each, not the agent window (4 MiB: that was 400 MB here)."""
    pid = relay.proc.pid
    before = _settled_rss_kib(pid)
    request = ("GET /big?size=%d HTTP/1.1\r\nHost: %s\r\n\r\n" % (64 * MiB, share.host_header)).encode()
    socks = _open_sockets(topo, share.port, 100, request, rcvbuf=4096)
    try:
        during = _settled_rss_kib(pid, within=15)
        print("relay RSS %.1f MiB before, %.1f MiB with 100 clients that do not read"
              % (before / 1024, during / 1024))
        assert during - before < 80 * 1024, \
            "100 non-reading clients grew the relay by %.1f MiB (want < 80)" % ((during - before) / 1024)
        status, body = _get(topo, share)
        assert status == 200 and b"vm-index-ok" in body, body[:200]
    finally:
        _close_all(socks)


# 2. Memory after a burst ---------------------------------------------------------------------

@pytest.mark.timeout(120)
def test_memory_goes_back_after_a_burst(topo, relay, share):
    """250 clients hold a response each, then all leave: within a few seconds the relay is back
    near where it started (freed memory is trimmed, not kept in malloc's arenas)."""
    pid = relay.proc.pid
    before = _settled_rss_kib(pid)
    request = ("GET /big?size=%d HTTP/1.1\r\nHost: %s\r\n\r\n" % (8 * MiB, share.host_header)).encode()
    socks = _open_sockets(topo, share.port, 250, request, rcvbuf=4096)
    try:
        peak = _settled_rss_kib(pid, within=15)
    finally:
        _close_all(socks)
    deadline = time.monotonic() + 20
    after = V.rss_kib(pid)
    while after - before > 16 * 1024 and time.monotonic() < deadline:
        time.sleep(0.5)
        after = V.rss_kib(pid)
    print("relay RSS %.1f MiB before, %.1f MiB at the burst's peak, %.1f MiB after"
          % (before / 1024, peak / 1024, after / 1024))
    assert peak - before > 16 * 1024, "the burst held only %.1f MiB: it tested nothing" % ((peak - before) / 1024)
    assert after - before <= 16 * 1024, \
        "the relay kept %.1f MiB of the burst's %.1f MiB" % ((after - before) / 1024, (peak - before) / 1024)
    status, _ = _get(topo, share)
    assert status == 200


# 3. Per-address caps and the deadline after HELLO ---------------------------------------

@pytest.mark.timeout(120)
def test_one_address_cannot_take_every_connection(topo, relay, share, second_client_ip):
    resets: list = []
    socks = _open_sockets(topo, share.port, PER_ADDRESS + 44, resets=resets)
    try:
        # The excess is closed at accept: those sockets see EOF or a reset; the rest stay idle.
        closed = set(resets)
        deadline = time.monotonic() + 10
        while len(closed) < 44 and time.monotonic() < deadline:
            ready, _, _ = select.select([s for s in socks if s not in closed], [], [], 0.5)
            for s in ready:
                try:
                    if s.recv(1) == b"":
                        closed.add(s)
                except OSError:
                    closed.add(s)
        total = len(socks) + len(resets)
        print("%d of %d sockets from one address were closed by the relay" % (len(closed), total))
        assert len(closed) >= 44, "only %d of the 44 sockets over the cap were closed" % len(closed)
        assert total - len(closed) >= PER_ADDRESS - 8, "the relay closed %d, more than the excess" % len(closed)
        status, body = _get(topo, share, source=second_client_ip)
        assert status == 200 and b"vm-index-ok" in body, "another address was not served: %r" % body[:200]
        relay.proc.wait_line(r"Refused \d+ connections? to the http port in the last 10 s: over %d open per client address"
                             % PER_ADDRESS, timeout=15)
    finally:
        _close_all(socks)
    # Once they are gone the address is served again.
    deadline = time.monotonic() + 10
    while True:
        try:
            status, _ = _get(topo, share, wait=3)
            if status == 200:
                break
        except (OSError, AssertionError):
            pass
        assert time.monotonic() < deadline, "the first address was not served again after closing its sockets"
        time.sleep(0.2)


@pytest.mark.timeout(120)
def test_an_agent_serves_more_peers_than_the_per_address_cap(topo, tmp_path, vm_server, second_client_ip):
    """The cap is for connections that prove nothing. An agent opens a data connection per connect
    peer, all from its one address; once one shows a valid ticket it leaves the count, so a cap of 2
    (the agent's control connection and one more) still lets it serve two peers at once. Each peer
    comes from its own address and holds 2 connections, within the cap."""
    capped = V.start_relay(topo, str(tmp_path / "relay-capped"), control_port=7473, http_port=8093,
                           https_port=8473, name="relay-capped", extra=["--max-conns-per-ip", "2"])
    share = V.start_share(topo, capped, name="share-capped")
    peers = []
    try:
        for source in (T.CLIENT_IP, second_client_ip):
            # New connections to the relay leave from `source`; a peer already running keeps its own.
            topo.client.ip("route", "replace", T.RELAY_CLIENT_SIDE_IP + "/32", "dev", "eth-relay", "src", source)
            peer = V.start_connect(topo, capped, share, extra=["--no-tun"], tun=False, label="connect-" + source)
            peers.append(peer)
            r = topo.client.run(["curl", "-sS", "--max-time", "15", "--socks5-hostname", "%s:%d" % peer.socks,
                                 "http://%s:8000/" % share.name], timeout=20)
            assert r.returncode == 0 and b"vm-index-ok" in r.stdout, (source, r.stderr, capped.proc.describe())
        # Both peers still reach the machine: neither data connection was refused or cut.
        for peer in peers:
            r = topo.client.run(["curl", "-sS", "--max-time", "15", "--socks5-hostname", "%s:%d" % peer.socks,
                                 "http://%s:8000/" % share.name], timeout=20)
            assert r.returncode == 0 and b"vm-index-ok" in r.stdout, r.stderr
        assert "Refused" not in capped.proc.output, capped.proc.describe()
    finally:
        topo.client.ip("route", "del", T.RELAY_CLIENT_SIDE_IP + "/32", "dev", "eth-relay")
        for peer in peers:
            V.stop(peer.proc)
        V.stop(share.proc)
        capped.proc.stop()


def _hello_frame(role: str) -> bytes:
    body = json.dumps({"role": role, "software": "test"}).encode()
    payload = b"VSHR" + struct.pack(">H", 2) + body
    return struct.pack(">I", len(payload))[1:] + bytes([0, 0]) + struct.pack(">I", 0) + payload


@pytest.mark.timeout(60)
def test_a_control_connection_that_only_says_hello_is_closed(topo, relay):
    def run():
        context = ssl.create_default_context(cafile=relay.ca)
        context.check_hostname = False
        raw = socket.create_connection((T.RELAY_SHARE_SIDE_IP, relay.control_port), timeout=10)
        tls = context.wrap_socket(raw)
        tls.sendall(_hello_frame("share"))
        t0 = time.monotonic()
        tls.settimeout(JOIN_TIMEOUT + 10)
        try:
            while tls.recv(65536):
                pass
        except (ssl.SSLError, OSError):
            pass
        took = time.monotonic() - t0
        tls.close()
        return took
    took = topo.share_host.call(run, timeout=JOIN_TIMEOUT + 20)
    assert JOIN_TIMEOUT - 0.5 <= took <= JOIN_TIMEOUT + 3, \
        "closed %.2fs after HELLO; --join-timeout is %d s" % (took, JOIN_TIMEOUT)


# 4. A frozen agent --------------------------------------------------------------------------

@pytest.mark.timeout(90)
def test_a_frozen_agent_is_noticed_and_comes_back(topo, relay, vm_server):
    """SIGSTOP of the agent for 20 s: a request meanwhile gets the 502 within ~15-20 s (the
    keepalive's timeout) instead of hanging, later ones at once; after SIGCONT it serves again."""
    frozen = V.start_share(topo, relay, name="share-frozen", extra=["--no-connect"])
    try:
        status, _ = _get(topo, frozen)
        assert status == 200
        frozen.proc.signal(signal.SIGSTOP)
        t0 = time.monotonic()
        try:
            status, body = _get(topo, frozen, wait=30)
            took = time.monotonic() - t0
            print("502 after %.1fs with the agent stopped" % took)
            assert status == 502, body[:300]
            assert took <= 21, "the relay took %.1fs to notice the frozen agent" % took
            t1 = time.monotonic()
            status, body = _get(topo, frozen, wait=10)
            assert status == 502 and b"reconnecting" in body, body[:300]
            assert time.monotonic() - t1 < 2, "a request while the agent is away must be answered at once"
            time.sleep(max(0.0, 20 - (time.monotonic() - t0)))
        finally:
            frozen.proc.signal(signal.SIGCONT)
        V.wait_status(topo, frozen.host, frozen.port, 200, within=20)
    finally:
        frozen.proc.stop()


# 5. The agent's descriptors ---------------------------------------------------------------

@pytest.mark.timeout(120)
def test_an_agent_short_of_descriptors_caps_its_flows_and_still_removes_its_key(topo, relay, machine):
    """An agent allowed 100 descriptors, asked for 100 slow downloads at once: it keeps its flows
    to the machine under its cap (16 here; the rest are answered 502 by the relay, the share keeps
    working) instead of running out, and, stopped with them open, still removes its SSH key."""
    argv = ["prlimit", "--nofile=100:100", "--",
            *V.share_argv(relay, token=relay.token, extra=[
                "--no-connect", "--ssh", "--ssh-port", str(SSH.SSH_PORT), "--ssh-user", machine.user,
                "--ssh-identity", machine.identity])]
    proc = topo.share_host.popen(argv, name="share-few-fds", env=V.clean_env(), stdin=subprocess.PIPE)
    proc.popen.stdin.write((SSH.PASSWORD + "\n").encode())
    proc.popen.stdin.close()
    url = proc.wait_line(V.URL_RE, 60).group(1)
    limited = V.Share(proc, proc.wait_line(r"Your vshare is running! Name: (\S+)", 5, start=0).group(1), url)
    assert len(machine.vshare_lines()) == 1, machine.authorized_keys
    request = ("GET /big?size=%d HTTP/1.1\r\nHost: %s\r\n\r\n" % (64 * MiB, limited.host_header)).encode()
    socks = _open_sockets(topo, limited.port, 100, request, rcvbuf=4096)
    try:
        time.sleep(2)   # let every request reach the agent (bounded; the checks below do not race it)
        open_fds = len(os.listdir("/proc/%d/fd" % proc.pid))
        print("the agent holds %d descriptors with 100 downloads asked for" % open_fds)
        assert open_fds < 60, "the agent holds %d of its 100 descriptors: its flows are not capped" % open_fds
        status, body = _get(topo, limited, "/", source=None)
        assert status in (200, 502), body[:200]
        assert V.stop(proc, signal.SIGINT, timeout=20) == 0, proc.describe()
    finally:
        _close_all(socks)
        if proc.poll() is None:
            proc.stop()
    assert machine.vshare_lines() == [], "the share's key is still on the machine:\n" + machine.authorized_keys


# 6. The relay-wide memory budget ------------------------------------------------------------

@pytest.fixture
def small_budget_relay(topo, tmp_path, vm_server):
    """A relay of its own whose budget for slow clients' bytes is 8 MiB (32 streams' windows)."""
    r = V.start_relay(topo, str(tmp_path / "budget-relay"), control_port=7446, http_port=8083,
                      https_port=8446, name="relay-budget", extra=["--memory-budget", "8M"])
    yield r
    r.proc.stop()


@pytest.mark.timeout(120)
def test_over_the_memory_budget_new_requests_wait_for_readers(topo, small_budget_relay, vm_server):
    """64 clients that do not read fill the relay's 8 MiB budget: a new request is answered 503
    at once (the relay does not grow); once those clients are gone, requests are served again."""
    relay = small_budget_relay
    live = V.start_share(topo, relay, name="share-budget", extra=["--no-connect"])
    try:
        pid = relay.proc.pid
        before = _settled_rss_kib(pid)
        request = ("GET /big?size=%d HTTP/1.1\r\nHost: %s\r\n\r\n" % (64 * MiB, live.host_header)).encode()
        socks = _open_sockets(topo, live.port, 64, request, rcvbuf=4096)
        try:
            during = _settled_rss_kib(pid, within=15)
            status, body = _get(topo, live)
            print("relay RSS %.1f MiB before, %.1f MiB with 64 clients that do not read; a new request: %d"
                  % (before / 1024, during / 1024, status))
            assert status == 503, body[:300]
            assert during - before < 40 * 1024, "the relay grew by %.1f MiB" % ((during - before) / 1024)
        finally:
            _close_all(socks)
        V.wait_status(topo, live.host, live.port, 200, within=10)
    finally:
        live.proc.stop()
