"""The relay's limits, seen from outside: slow and oversized request heads, garbage heads,
memory during a big transfer, and a client guessing share names (slowed, then refused)."""
from __future__ import annotations

import re
import socket
import threading
import time

import pytest

import topology as T
import vshare as V
from servers import pattern

MiB = 1 << 20


def _status(resp: bytes) -> int:
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", resp)
    assert m, "not an HTTP response: %r" % resp[:200]
    return int(m.group(1))


def _still_serves(topo, share) -> None:
    status, body, _ = V.client_get(topo, share.host, share.port, timeout=10)
    assert status == 200 and b"vm-index-ok" in body, (status, body[:200])


# Slow, big and bad heads -----------------------------------------------------------

@pytest.mark.timeout(40)
def test_half_a_head_then_nothing_is_408(topo, relay, share):
    half = ("GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: slow" % share.host_header).encode()
    resp, took = V.raw_exchange(topo, share.port, half, wait=20)
    assert resp, "no answer within %.1fs (the relay's head timeout is 10 s)" % took
    assert _status(resp) == 408, resp[:300]
    assert 9.0 <= took <= 12.5, "408 after %.2fs, want ~10 s" % took
    _still_serves(topo, share)


@pytest.mark.timeout(30)
def test_64_kib_header_is_431(topo, relay, share):
    head = ("GET / HTTP/1.1\r\nHost: %s\r\nX-Big: %s\r\n\r\n" % (share.host_header, "a" * (64 * 1024))).encode()
    resp, took = V.raw_exchange(topo, share.port, head, wait=10)
    assert resp, "no answer (connection closed/reset without a response)"
    assert _status(resp) == 431, resp[:300]
    assert took < 5, "431 took %.2fs" % took
    _still_serves(topo, share)


@pytest.mark.timeout(30)
def test_malformed_header_line_is_400(topo, relay, share):
    head = ("GET / HTTP/1.1\r\nHost: %s\r\nBad Header\r\n\r\n" % share.host_header).encode()
    resp, took = V.raw_exchange(topo, share.port, head, wait=10)
    assert _status(resp) == 400, resp[:300]
    assert took < 5, "400 took %.2fs" % took
    _still_serves(topo, share)


# Memory ---------------------------------------------------------------------------

@pytest.mark.timeout(150)
def test_memory_stays_flat_during_200_mib_download(topo, relay, share):
    limit_kib = 120 * 1024
    pids = {"relay": relay.proc.pid, "share": share.proc.pid}
    for role, pid in pids.items():  # `ip netns exec` execs: the pid is vshare itself
        with open("/proc/%d/comm" % pid) as f:
            assert f.read().strip() == "vshare", "pid %d (%s) is not vshare" % (pid, role)
    peak = {role: V.rss_kib(pid) for role, pid in pids.items()}
    samples = 0
    stop = threading.Event()

    def sample():
        nonlocal samples
        while not stop.is_set():
            for role, pid in pids.items():
                try:
                    peak[role] = max(peak[role], V.rss_kib(pid))
                except (OSError, AssertionError):
                    pass
            samples += 1
            stop.wait(0.2)

    size = 200 * MiB
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        # A reader that stalls for 2 s mid-transfer: the vm keeps sending as fast as it can, and
        # only backpressure (not buffering) keeps the relay and the share small meanwhile.
        d = V.download_big(topo, share, size, stall=(8 * MiB, 2))
    finally:
        stop.set()
        sampler.join(5)
    assert d.rc == 0 and "HTTP 200" in d.stderr, "curl failed (%d): %s" % (d.rc, d.stderr)
    assert d.length == size and d.sha256 == pattern.sha256_of(size), "wrong content (%d bytes)" % d.length
    print("200 MiB in %.2fs, %d samples; peak RSS relay %.1f MiB, share %.1f MiB"
          % (d.seconds, samples, peak["relay"] / 1024, peak["share"] / 1024))
    assert samples >= 10, "only %d RSS samples: the download was too quick to measure" % samples
    for role, kib in peak.items():
        assert kib < limit_kib, "%s peak RSS %.1f MiB >= 120 MiB during a 200 MiB download" % (role, kib / 1024)


# Guessing names --------------------------------------------------------------------

@pytest.fixture
def guess_relay(topo, tmp_path, vm_server):
    """A relay of its own: refusing 10.201.3.1 for 600 s must not touch the module's relay."""
    r = V.start_relay(topo, str(tmp_path / "guess-relay"), control_port=7445, http_port=8082,
                      https_port=8445, name="relay-guess")
    yield r
    r.proc.stop()


@pytest.mark.timeout(60)
def test_guessing_is_slowed_then_refused(topo, guess_relay, second_client_ip, vm_server):
    relay = guess_relay
    live = V.start_share(topo, relay, name="share-guess")
    port = relay.http_port
    names = ["guess-name-%04d" % i for i in range(40)]
    assert all(V.NAME_RE.match(n) for n in names) and live.name not in names

    def guess(i: int, source: str | None = None) -> tuple[int, float]:
        head = "GET / HTTP/1.1\r\nHost: %s.%s:%d\r\nConnection: close\r\n\r\n" % (names[i], V.DOMAIN, port)
        resp, took = V.raw_exchange(topo, port, head.encode(), wait=15, source=source)
        return _status(resp), took

    # Misses 1-10: free, answered at once, one after another.
    first = [guess(i) for i in range(10)]
    assert [s for s, _ in first] == [404] * 10, first
    t_free = sum(t for _, t in first)
    assert max(t for _, t in first) < 0.5, first

    # Misses 11-20, each on its own connection, in parallel (delays 0.1 s doubling to the 5 s cap).
    def batch(idx):
        futures = [topo.client.submit(guess, i) for i in idx]
        return [f.result(timeout=30) for f in futures]

    t0 = time.monotonic()
    slowed = batch(range(10, 20))
    wall = time.monotonic() - t0
    assert [s for s, _ in slowed] == [404] * 10, slowed
    t_slowed = sum(t for _, t in slowed)
    times = sorted(t for _, t in slowed)
    print("misses 1-10: %.2fs total; 11-20: %.2fs total (%s), %.2fs wall"
          % (t_free, t_slowed, " ".join("%.2f" % t for t in times), wall))
    # Expected 0.1+0.2+0.4+0.8+1.6+3.2+5*4 = 26.3 s.
    assert t_slowed > t_free + 15, "misses 11-20 took %.2fs in all, 1-10 %.2fs: not slowed" % (t_slowed, t_free)
    assert times[0] >= 0.05 and 4.5 <= times[-1] <= 6.5, "delays %s" % times

    # Misses 21-30: all at the 5 s cap, still 404.
    capped = batch(range(20, 30))
    assert [s for s, _ in capped] == [404] * 10, capped
    assert all(4.5 <= t <= 6.5 for _, t in capped), capped

    # Miss 31: refused, at once; and from then on every request from this address.
    start = relay.proc.line_count()
    status, took = guess(30)
    assert status == 429 and took < 1, (status, took)
    relay.proc.wait_line(r"Refused %s\b" % re.escape(T.CLIENT_IP), timeout=5, start=start)
    for i in range(31, 40):
        status, took = guess(i)
        assert status == 429 and took < 1, (i, status, took)
    status, _, _ = V.client_get(topo, live.host, live.port, timeout=10)
    assert status == 429, "the refused address still reached a live share (%d)" % status

    # Another client address is unaffected: the live share works, and its misses start free.
    def get_from_second(host):
        head = "GET / HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n" % (host, port)
        return V.raw_exchange(topo, port, head.encode(), wait=10, source=second_client_ip)

    resp, _ = get_from_second(live.host)
    assert _status(resp) == 200 and b"vm-index-ok" in resp, resp[:300]
    status, took = guess(0, source=second_client_ip)
    assert status == 404 and took < 0.5, (status, took)
    assert relay.proc.poll() is None, relay.proc.describe()


@pytest.mark.timeout(40)
def test_trickled_head_still_times_out(topo, relay, share):
    """Slowloris: one more byte of the head every 2 s. The 10 s head timeout must bound the
    whole head, not each pause, or one client can hold a connection open forever."""
    def run():
        s = socket.create_connection((T.RELAY_CLIENT_SIDE_IP, share.port), timeout=10)
        try:
            t0 = time.monotonic()
            s.sendall(("GET / HTTP/1.1\r\nHost: %s\r\nX-Slow: " % share.host_header).encode())
            s.settimeout(2)
            got = b""
            while time.monotonic() - t0 < 20:
                try:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += chunk
                except socket.timeout:
                    try:
                        s.sendall(b"a")
                    except OSError:
                        break
                except ConnectionResetError:
                    break
            return got, time.monotonic() - t0
        finally:
            s.close()

    resp, took = topo.client.call(run, timeout=35)
    assert resp and _status(resp) == 408 and took <= 12.5, \
        "a head trickled one byte every 2 s: %r after %.1fs (want 408 within ~10 s of its start)" % (resp[:100], took)
    _still_serves(topo, share)
