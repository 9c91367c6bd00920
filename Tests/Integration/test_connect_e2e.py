"""Connect end to end (issue 9): the connect code gates `vshare connect`, the share's connect scope
limits which ports a peer reaches, and the relay only joins two data connections and copies their
bytes — checked on the wire by capturing both of the relay's interfaces."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

import pcap
import session_bytes as SB
import socks5
import topology as T
import vshare as V
from servers import pattern

MiB = 1 << 20
HERE = os.path.dirname(os.path.abspath(__file__))
VM_SERVER = os.path.join(HERE, "servers", "vm_server.py")
VM_HTTP_PORT = 8000
LOOPBACK_HTTP_PORT = 18000     # the share-host's own web server, shared over HTTP
LOOPBACK_OTHER_PORT = 15432    # another service of the share-host, not shared unless asked
CAPTURE_DOWNLOAD = 4 * MiB

WRONG_CODE = "connect code is wrong"
TOO_MANY = "too many wrong connect codes"


# --- helpers --------------------------------------------------------------------

def wrong_code(code: str) -> str:
    """The same words with another number: a well-formed code that is not this share's."""
    number, words = code.split("-", 1)
    return "%d-%s" % (int(number) % 999 + 1, words)


def attempt(topo, relay, name: str, args=(), env_extra=None, label: str = "connect-attempt",
            timeout: float = 15) -> T.Proc:
    """Run `vshare connect NAME --no-tun ARGS` (standard input empty, not a terminal) in the client
    netns to its exit; the Proc is returned with its exit status and output."""
    env = V.clean_env()
    env.update(env_extra or {})
    proc = topo.client.popen(V.connect_argv(relay, name, ["--no-tun", *args]), name=label, env=env)
    try:
        proc.wait(timeout)
    except AssertionError:
        proc.stop()   # it got in and kept running: the caller's assertion reports that
        raise
    return proc


def passive_opens(ns: T.Netns) -> int:
    """Tcp PassiveOpens of a namespace: how many TCP connections its servers ever accepted."""
    lines = [l.split() for l in ns.run(["cat", "/proc/net/snmp"], timeout=10, check=True).stdout.decode().splitlines()
             if l.startswith("Tcp:")]
    return int(lines[1][lines[0].index("PassiveOpens")])


def socks_get(topo, proxy, host: str, port: int) -> bytes | int:
    """GET / through the SOCKS proxy: the response, or the SOCKS reply code when refused."""
    def run():
        try:
            s = socks5.connect(proxy, host, port, timeout=10)
        except socks5.SOCKSError as e:
            return e.reply
        with s:
            s.sendall(b"GET / HTTP/1.0\r\nHost: %s\r\n\r\n" % host.encode())
            out = b""
            while chunk := s.recv(65536):
                out += chunk
            return out
    return topo.client.call(run, timeout=30)


def open_on(ns: T.Netns, port: int) -> int:
    """Connections on `port` whose local end has not sent its FIN yet: established, or closed by
    the other end only (CLOSE-WAIT). Not established is not enough to know the FIN went out."""
    out = ns.run(["ss", "-tnH", "state", "established", "state", "close-wait", "sport", "=", ":%d" % port],
                 timeout=10, check=True)
    return len(out.stdout.decode().splitlines())


def wait_until(predicate, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("%s: not within %.1fs" % (what, within))
        time.sleep(0.05)


class Capture:
    """tcpdump on one interface of a namespace, handing each frame over as it arrives
    (--immediate-mode) and writing it whole (-s 0) at once (-U)."""

    def __init__(self, topo, ns: T.Netns, interface: str, path: str, bpf: str):
        self.interface, self.path = interface, path
        self.proc = ns.popen(["tcpdump", "-i", interface, "--immediate-mode", "-U", "-s", "0", "-B", "32768",
                              "-Z", "root", "-w", path, bpf], name="tcpdump-" + interface)
        self.proc.wait_line(r"listening on %s" % re.escape(interface), 10, stream="stderr")

    def stop(self) -> None:
        """Stop tcpdump once the file has stopped growing, and fail unless it wrote every packet
        its filter matched (tcpdump drops what it has not read yet when it is stopped)."""
        size, still_since = -1, time.monotonic()
        while time.monotonic() - still_since < 0.3:
            now = os.path.getsize(self.path) if os.path.exists(self.path) else 0
            if now != size:
                size, still_since = now, time.monotonic()
            time.sleep(0.05)
        self.proc.signal(signal.SIGINT)
        assert self.proc.wait(10) == 0, self.proc.describe()
        err = self.proc.stderr
        counts = {what: int(n) for n, what in re.findall(r"^(\d+) packets? (captured|received by filter|dropped by \w+)",
                                                         err, re.M)}
        assert "captured" in counts and "received by filter" in counts and "dropped by kernel" in counts, err
        lost = {what: n for what, n in counts.items() if what.startswith("dropped") and n}
        if counts["received by filter"] != counts["captured"]:
            lost["matched but not written"] = counts["received by filter"] - counts["captured"]
        assert not lost, "tcpdump on %s lost packets: %s" % (self.interface, lost)


def data_connections(path: str, side: int) -> list[tuple[pcap.Connection, SB.Preamble]]:
    """The data connections (TCP connections that open with the VSHD preamble) in a capture."""
    found = []
    for c in pcap.connections(path):
        sent = c.client.data()
        if sent[:4] == SB.MAGIC:
            p = SB.preamble(sent)
            assert p.version == 2 and p.side == side, (c, p)
            found.append((c, p))
    return found


def assert_same(label: str, sent: bytes, received: bytes) -> None:
    if sent == received:
        return
    at = next((i for i, (a, b) in enumerate(zip(sent, received)) if a != b), min(len(sent), len(received)))
    raise AssertionError("%s: the relay changed the stream: %d bytes sent, %d forwarded, first difference at byte %d"
                         % (label, len(sent), len(received), at))


# --- fixtures -------------------------------------------------------------------

@pytest.fixture(scope="module")
def loopback_servers(topo):
    """Two services on the share-host's own loopback: the web server it shares and another port."""
    procs = [topo.share_host.popen([sys.executable, "-u", VM_SERVER, "--host", "127.0.0.1", "--port", str(port)],
                                   name="loopback-%d" % port)
             for port in (LOOPBACK_HTTP_PORT, LOOPBACK_OTHER_PORT)]
    for proc, port in zip(procs, (LOOPBACK_HTTP_PORT, LOOPBACK_OTHER_PORT)):
        proc.wait_line(r"^READY ", 10)
        topo.share_host.wait_tcp(("127.0.0.1", port), timeout=5, proc=proc)
    yield
    for proc in procs:
        proc.stop()


# --- the connect code -------------------------------------------------------------

def test_wrong_or_missing_code_reaches_nothing(topo, relay, share):
    accepted = passive_opens(topo.vm)
    wrong = wrong_code(share.code)
    for how, args, env in (("--code", ["--code", wrong], None), ("VSHARE_CODE", [], {"VSHARE_CODE": wrong})):
        p = attempt(topo, relay, share.name, args, env_extra=env, label="connect-wrong-" + how)
        assert p.returncode == 1, p.describe()
        assert WRONG_CODE in p.stderr, p.describe()
        assert "Connect is running" not in p.output, p.describe()
    # No code at all: standard input is not a terminal and empty.
    p = attempt(topo, relay, share.name, label="connect-no-code")
    assert p.returncode == 1, p.describe()
    assert "connect code" in p.stderr.lower(), p.describe()
    assert "Connect is running" not in p.output, p.describe()
    assert passive_opens(topo.vm) == accepted, "the vm accepted a connection during refused connect attempts"
    # The right code, as the first line of standard input, still gets in after the wrong ones.
    env = V.clean_env()
    proc = topo.client.popen(V.connect_argv(relay, share.name, ["--no-tun"]), name="connect-stdin-code",
                             env=env, stdin=subprocess.PIPE)
    proc.popen.stdin.write(share.code.encode() + b"\n")
    proc.popen.stdin.close()
    try:
        proc.wait_line(r"Connect is running!", V.START_TIMEOUT)
        m = proc.wait_line(V.SOCKS_RE, 5)
        got = socks_get(topo, (m.group(1), int(m.group(2))), share.name, VM_HTTP_PORT)
        assert isinstance(got, bytes) and b"vm-index-ok" in got, got
    finally:
        assert V.stop(proc) == 0, proc.describe()


def test_ten_wrong_codes_then_refused(topo, relay, new_share):
    s = new_share()
    wrong = wrong_code(s.code)
    for i in range(10):
        p = attempt(topo, relay, s.name, ["--code", wrong], label="connect-wrong-%d" % (i + 1))
        assert p.returncode == 1 and WRONG_CODE in p.stderr, "attempt %d\n%s" % (i + 1, p.describe())
    p = attempt(topo, relay, s.name, ["--code", s.code], label="connect-right-after-10")
    assert p.returncode == 1, p.describe()
    assert TOO_MANY in p.stderr, p.describe()
    s.proc.wait_line(r"refusing connect", 5, hint="(the share must say it refuses connect attempts)")
    assert s.proc.poll() is None, s.proc.describe()


# --- the connect scope -------------------------------------------------------------

def tun_get(topo, ip: str, port: int) -> bytes | str:
    """GET / to the machine IP through the TUN: the response, or "refused"."""
    def run():
        try:
            s = socket.create_connection((ip, port), timeout=10)
        except ConnectionRefusedError:
            return "refused"
        with s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            out = b""
            while chunk := s.recv(65536):
                out += chunk
            return out
    return topo.client.call(run, timeout=30)


@pytest.mark.parametrize("flags, http_open, other_open", [
    ([], True, False),
    (["--all-ports"], True, True),
    (["--ports", str(LOOPBACK_OTHER_PORT)], False, True),
], ids=["shared-ports-only", "all-ports", "ports-list"])
def test_loopback_target_scope(topo, relay, new_share, loopback_servers, flags, http_open, other_open):
    """A share of this host itself: SOCKS CONNECT (reply 0x02) and the machine IP (a refused TCP
    connection) reach only the ports its connect scope holds, and the share-host's service on
    another port accepts nothing."""
    s = new_share(target="127.0.0.1", http_port=LOOPBACK_HTTP_PORT, extra=flags)
    if not flags:
        scope = s.proc.wait_line(r"Connect reaches", 5).string
        assert str(LOOPBACK_HTTP_PORT) in scope and "--all-ports" in scope, scope
    c = V.start_connect(topo, relay, s, label="connect-scope")
    try:
        for port, is_open in ((LOOPBACK_HTTP_PORT, http_open), (LOOPBACK_OTHER_PORT, other_open)):
            accepted = passive_opens(topo.share_host)
            via_socks = socks_get(topo, c.socks, s.name, port)
            via_tun = tun_get(topo, c.machine_ip, port)
            if is_open:
                assert isinstance(via_socks, bytes) and b"vm-index-ok" in via_socks, (port, via_socks)
                assert isinstance(via_tun, bytes) and b"vm-index-ok" in via_tun, (port, via_tun)
            else:
                assert via_socks == 0x02, "port %d: SOCKS reply %r, want 0x02 (not allowed by ruleset)" % (port, via_socks)
                assert via_tun == "refused", "port %d through the machine IP: %r" % (port, via_tun[:200])
                assert passive_opens(topo.share_host) == accepted, "port %d out of scope was dialed" % port
    finally:
        assert V.stop(c.proc) == 0, c.proc.describe()


def test_no_connect(topo, relay, new_share):
    s = new_share(extra=["--no-connect"])
    assert "Connect code" not in s.proc.output, s.proc.output
    p = attempt(topo, relay, s.name, ["--code", "417-acid-acorn-acre"], label="connect-no-connect")
    assert p.returncode == 1, p.describe()
    assert "does not offer connect" in p.stderr, p.describe()
    status, body, _ = V.client_get(topo, s.host, s.port)
    assert status == 200 and b"vm-index-ok" in body, (status, body[:200])


# --- the relay only forwards ---------------------------------------------------------

@pytest.mark.timeout(90)
def test_relay_forwards_the_session_unchanged(topo, relay, share, tmp_path):
    port = relay.control_port
    established = open_on(topo.relay, port)
    captures = {side: Capture(topo, topo.relay, interface, str(tmp_path / (interface + ".pcap")), "tcp port %d" % port)
                for side, interface in ((SB.SIDE_PEER, "eth-client"), (SB.SIDE_AGENT, "eth-share"))}
    try:
        c = V.start_connect(topo, relay, share, extra=["--no-tun"], tun=False, label="connect-captured")
        try:
            r = topo.client.run(["sh", "-c", "curl -sS --max-time 30 --socks5-hostname %s:%d 'http://%s:%d/big?size=%d' | sha256sum"
                                 % (c.socks[0], c.socks[1], share.name, VM_HTTP_PORT, CAPTURE_DOWNLOAD)], timeout=40)
            assert r.stdout.split()[0].decode() == pattern.sha256_of(CAPTURE_DOWNLOAD), r.stderr
        finally:
            assert V.stop(c.proc) == 0, c.proc.describe()
        # The peer's and the agent's connections to the relay close once the peer has gone.
        wait_until(lambda: open_on(topo.relay, port) == established, 10,
                   "the relay's connections of this connect session close (its FINs sent)")
    finally:
        for cap in captures.values():
            cap.stop()

    peer = data_connections(captures[SB.SIDE_PEER].path, SB.SIDE_PEER)
    agent = data_connections(captures[SB.SIDE_AGENT].path, SB.SIDE_AGENT)
    assert len(peer) == 1 and len(agent) == 1, "one data connection on each side, saw %s and %s" % (peer, agent)
    (peer_conn, _), (agent_conn, _) = peer[0], agent[0]
    peer_sent = peer_conn.client.data()[SB.PREAMBLE_LEN:]
    peer_received = peer_conn.server.data()
    agent_sent = agent_conn.client.data()[SB.PREAMBLE_LEN:]
    agent_received = agent_conn.server.data()
    for label, flow in (("peer", peer_conn.client), ("relay to peer", peer_conn.server),
                        ("agent", agent_conn.client), ("relay to agent", agent_conn.server)):
        assert flow.fin or flow.rst, "%s: the capture does not hold the end of the data connection" % label
    assert_same("peer -> agent", peer_sent, agent_received)
    assert_same("agent -> peer", agent_sent, peer_received)

    # The peer's half: its pairing messages, then a TLS ClientHello offering 1.3.
    (point, confirm), tls_out = SB.pairing_messages(peer_sent, 2)
    assert point[0] == SB.PAIRING_POINT and len(point[1]) == 65 and point[1][0] == 4, point
    assert confirm[0] == SB.PAIRING_CONFIRM and len(confirm[1]) == 32, confirm
    out_records = SB.records(tls_out)
    kind, extensions = SB.hello_extensions(out_records[0])
    assert kind == SB.HANDSHAKE_CLIENT_HELLO, kind
    assert b"\x03\x04" in extensions.get(SB.EXT_SUPPORTED_VERSIONS, b""), "the ClientHello does not offer TLS 1.3"

    # The agent's half: point and confirmation, then a ServerHello selecting TLS 1.3.
    (point, confirm), tls_in = SB.pairing_messages(agent_sent, 2)
    assert point[0] == SB.PAIRING_POINT and len(point[1]) == 65 and point[1][0] == 4, point
    assert confirm[0] == SB.PAIRING_CONFIRM and len(confirm[1]) == 32, confirm
    in_records = SB.records(tls_in)
    assert SB.selected_version(in_records[0]) == SB.TLS13
    # Keyed by the pairing (an external PSK) with an (EC)DHE share for forward secrecy: psk_dhe_ke.
    _, extensions = SB.hello_extensions(in_records[0])
    assert {SB.EXT_PRE_SHARED_KEY, SB.EXT_KEY_SHARE} <= set(extensions), sorted(extensions)

    # After the hellos only (at most one) ChangeCipherSpec and encrypted records.
    for label, recs in (("peer", out_records), ("agent", in_records)):
        later = [r.type for r in recs[1:]]
        assert set(later) <= {SB.RECORD_CCS, SB.RECORD_APPLICATION_DATA}, (label, sorted(set(later)))
        assert later.count(SB.RECORD_CCS) <= 1 and SB.RECORD_APPLICATION_DATA in later, (label, later[:10])
    carried = sum(len(r.body) for r in in_records if r.type == SB.RECORD_APPLICATION_DATA)
    assert carried >= CAPTURE_DOWNLOAD, "only %d bytes of application data toward the peer" % carried
    # And nothing in the clear: neither the request nor the served pattern.
    assert b"GET /big" not in peer_sent
    sample = pattern.chunk(7)[1000:1512]
    assert sample not in agent_sent, "the vm's bytes crossed the relay in the clear"
