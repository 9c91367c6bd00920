"""Sessions that outlive a dropped link (issue 11): the peer's relay connections are cut mid-transfer
(`ss -K` in the client namespace); connect rejoins and names the agent's resume ID, the agent gives
back the same packet stack, and the SAME TCP connection through the machine IP completes with the
right bytes. Past the agent's resume window the old flows are reset, as before."""
from __future__ import annotations

import re
import signal
import socket
import time

import pytest

import topology as T
import vshare as V
from servers import pattern

VM_HTTP_PORT = 8000
SIZE = 6 << 20
READ = 32 << 10
PAUSE = 0.02   # ~1.6 MB/s: the download outlasts the cut and the rejoin


class SlowDownload:
    """GET /big?size=SIZE from the machine IP on one TCP connection (in the client namespace), read
    slowly; `received` grows as it goes; `result()` is (bytes, sha256) or the exception that ended it.
    TCP keepalive every second makes a silent, forgotten connection show as reset."""

    def __init__(self, topo, machine_ip: str):
        self.received = 0
        self.future = topo.client.submit(self._run, machine_ip)

    def _run(self, machine_ip: str):
        import hashlib
        s = socket.create_connection((machine_ip, VM_HTTP_PORT), timeout=10)
        with s:
            s.settimeout(60)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 30)
            s.sendall(b"GET /big?size=%d HTTP/1.0\r\nHost: vm\r\n\r\n" % SIZE)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(4096)
                if not chunk:
                    raise AssertionError("the connection ended in the response head: %r" % head)
                head += chunk
            head, body = head.split(b"\r\n\r\n", 1)
            assert re.match(rb"HTTP/1\.[01] 200 ", head), head
            h = hashlib.sha256(body)
            self.received = len(body)
            while self.received < SIZE:
                chunk = s.recv(READ)
                if not chunk:
                    break
                h.update(chunk)
                self.received += len(chunk)
                time.sleep(PAUSE)
            return self.received, h.hexdigest()

    def wait_for(self, count: int, within: float) -> None:
        deadline = time.monotonic() + within
        while self.received < count:
            assert not self.future.done(), "the download ended early: %r" % (self.future.exception() or self.future.result(),)
            assert time.monotonic() < deadline, "only %d bytes within %.0fs" % (self.received, within)
            time.sleep(0.05)


@pytest.mark.timeout(90)
def test_a_tcp_connection_through_the_machine_ip_survives_a_cut_link(topo, relay, share, vm_server):
    c = V.start_connect(topo, relay, share, extra=["--ip", "172.16.0.40"], label="connect-resume")
    try:
        download = SlowDownload(topo, c.machine_ip)
        download.wait_for(1 << 20, within=20)
        start, share_start = c.proc.line_count(), share.proc.line_count()
        assert V.cut_relay_connections(topo, relay, c.proc.pid) >= 2, "no control and data connection to cut"
        c.proc.wait_line(r"Reconnected to %s" % re.escape(share.name), timeout=30, start=start,
                         hint="(connect must rejoin)")
        c.proc.wait_line(r"==> connect: Session resumed \(TCP connections through %s carry on\)\." % re.escape(c.machine_ip),
                         timeout=5, start=start, hint="(the agent must give back the session)")
        share.proc.wait_line(r"came back from .* and resumed", timeout=5, start=share_start)
        assert download.received < SIZE, "the download finished before the cut: slow it down"
        got, digest = download.future.result(timeout=60)
        assert got == SIZE, "the connection ended after %d of %d bytes" % (got, SIZE)
        assert digest == pattern.sha256_of(SIZE), "the bytes differ after the resume"
        left = share.proc.line_count()
    finally:
        assert V.stop(c.proc) == 0, c.proc.describe()
    # A peer that leaves on purpose says so (GOAWAY): the agent keeps nothing for it.
    m = share.proc.wait_line(r"A peer disconnected \(session \d+\)(.*)$", timeout=5, start=left)
    assert "resume" not in m.group(1), m.group(0)


@pytest.mark.timeout(90)
def test_past_the_resume_window_the_old_connections_are_reset(topo, relay, new_share, vm_server):
    s = new_share(env={"VSHARE_TEST_RESUME_WINDOW": "2"})
    c = V.start_connect(topo, relay, s, extra=["--ip", "172.16.0.41"], label="connect-late")
    try:
        download = SlowDownload(topo, c.machine_ip)
        download.wait_for(1 << 20, within=20)
        start, share_start = c.proc.line_count(), s.proc.line_count()
        assert V.cut_relay_connections(topo, relay, c.proc.pid) >= 2, "no control and data connection to cut"
        c.proc.signal(signal.SIGSTOP)   # away for longer than the window
        try:
            s.proc.wait_line(r"did not come back within 2s", timeout=10, start=share_start,
                             hint="(the detached session must end after the window)")
        finally:
            c.proc.signal(signal.SIGCONT)
        c.proc.wait_line(r"Reconnected to %s" % re.escape(s.name), timeout=30, start=start,
                         hint="(connect must rejoin)")
        error = download.future.exception(timeout=30)
        assert isinstance(error, ConnectionResetError), \
            "the old connection should be reset, not %r" % (error or download.future.result(),)
        assert not any("Session resumed" in l for l in c.proc.output_since(start)), c.proc.describe()
    finally:
        assert V.stop(c.proc) == 0, c.proc.describe()


@pytest.mark.timeout(120)
def test_a_tcp_connection_through_the_machine_ip_survives_a_relay_restart(topo, tmp_path, vm_server):
    """The relay crashes and comes back (its own data dir: the share keeps its name): the agent and the
    peer reconnect, and the peer's session resumes with the same TCP connection."""
    data_dir = str(tmp_path / "resume-relay")
    ports = dict(control_port=7663, http_port=8300, https_port=8663)
    relay = V.start_relay(topo, data_dir, name="relay-resume", **ports)
    s = c = None
    try:
        s = V.start_share(topo, relay, name="share-resume")
        c = V.start_connect(topo, relay, s, extra=["--ip", "172.16.0.42"], label="connect-relay-restart")
        download = SlowDownload(topo, c.machine_ip)
        download.wait_for(1 << 20, within=20)
        start = c.proc.line_count()
        relay.proc.signal(signal.SIGKILL)
        relay.proc.wait(10)
        relay = V.start_relay(topo, data_dir, name="relay-resume", **ports)
        c.proc.wait_line(r"==> connect: Session resumed", timeout=45, start=start,
                         hint="(connect must rejoin the restarted relay and get its session back)")
        got, digest = download.future.result(timeout=60)
        assert got == SIZE, "the connection ended after %d of %d bytes" % (got, SIZE)
        assert digest == pattern.sha256_of(SIZE), "the bytes differ after the resume"
    finally:
        if c is not None:
            c.proc.stop()
        if s is not None:
            s.proc.stop()
        relay.proc.stop()
