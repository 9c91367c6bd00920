"""Whole-machine access: `vshare connect NAME` in the client netns gives a machine IP (TUN) and
a SOCKS5 address that reach every TCP/UDP port of the vm — through the relay and the share
agent's userspace packet stack. The client netns reaches only the relay, so every passing
test here went through the tunnel."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pytest

import socks5
import topology as T
import vshare as V
from servers import pattern

MiB = 1 << 20
HERE = os.path.dirname(os.path.abspath(__file__))
UDP_ECHO = os.path.join(HERE, "servers", "udp_echo.py")
VM_HTTP_PORT = 8000
VM_UDP_PORT = 9000
VM_IPERF_PORT = 5201


@pytest.fixture(scope="module")
def vm_extras(topo):
    """UDP echo and iperf3 in the vm netns."""
    udp = topo.vm.popen([sys.executable, "-u", UDP_ECHO, "--host", T.VM_IP, "--port", str(VM_UDP_PORT)], name="udp-echo")
    udp.wait_line(r"^READY ", 10)
    iperf = topo.vm.popen(["iperf3", "-s", "-B", T.VM_IP, "-p", str(VM_IPERF_PORT)], name="iperf3-server")
    topo.share_host.wait_tcp((T.VM_IP, VM_IPERF_PORT), timeout=10, proc=iperf)
    yield
    udp.stop()
    iperf.stop()


@pytest.fixture(scope="module")
def connected(topo, relay, module_share, vm_extras):
    c = V.start_connect(topo, relay, module_share)
    yield c
    c.proc.stop()


@pytest.fixture
def conn(connected, module_share, relay):
    for p in (relay.proc, module_share.proc, connected.proc):
        if p.poll() is not None:
            pytest.fail("%s exited (status %d) during an earlier test\n%s" % (p.name, p.poll(), p.describe()))
    return connected


def curl(topo, args, timeout=60):
    return topo.client.run(["curl", "-sS", "--max-time", str(timeout - 5), *args], timeout=timeout)


# --- TUN: the machine IP -------------------------------------------------------

def test_machine_ip_serves_the_vm_page(topo, conn):
    assert conn.machine_ip == "172.16.0.2"
    r = curl(topo, ["http://%s:%d/" % (conn.machine_ip, VM_HTTP_PORT)], timeout=20)
    assert r.returncode == 0 and b"vm-index-ok" in r.stdout, r.stderr
    # The vm saw the share host (the agent's socket), never the client.
    r = curl(topo, ["http://%s:%d/peer" % (conn.machine_ip, VM_HTTP_PORT)], timeout=20)
    assert r.stdout.decode().startswith(T.SHARE_VM_SIDE_IP + ":"), r.stdout


def test_interface_and_route_exist(topo, conn):
    out = topo.client.run(["ip", "-o", "addr", "show"], timeout=10).stdout.decode()
    assert re.search(r"vshare\d+\s+inet 172\.16\.0\.1 peer 172\.16\.0\.2/32", out), out
    route = topo.client.run(["ip", "route", "get", conn.machine_ip], timeout=10).stdout.decode()
    assert "dev vshare" in route, route


@pytest.mark.timeout(180)
def test_200_mib_byte_identical(topo, conn):
    size = 200 * MiB
    r = topo.client.run(["sh", "-c", "curl -sS --max-time 150 'http://%s:%d/big?size=%d' | sha256sum"
                         % (conn.machine_ip, VM_HTTP_PORT, size)], timeout=170)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0].decode() == pattern.sha256_of(size)


def test_closed_port_is_refused_at_once(topo, conn):
    def attempt():
        t0 = time.monotonic()
        try:
            socket.create_connection((conn.machine_ip, 1), timeout=10).close()
            return "connected", time.monotonic() - t0
        except ConnectionRefusedError:
            return "refused", time.monotonic() - t0
        except OSError as e:
            return repr(e), time.monotonic() - t0
    outcome, took = topo.client.call(attempt, timeout=20)
    assert outcome == "refused", outcome
    assert took < 1.0, "refusal took %.2fs" % took


def test_udp_echo_and_closed_udp_port(topo, conn):
    def echo():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.connect((conn.machine_ip, VM_UDP_PORT))
        got = []
        for i in range(5):
            payload = b"hello-udp-%d" % i
            s.send(payload)
            got.append(s.recv(2048) == payload)
        s.close()
        closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        closed.settimeout(3)
        closed.connect((conn.machine_ip, 9))
        closed.send(b"anyone?")
        try:
            closed.recv(100)
            refused = "answered"
        except ConnectionRefusedError:
            refused = "refused"
        except socket.timeout:
            refused = "timeout"
        closed.close()
        return got, refused
    got, refused = topo.client.call(echo, timeout=30)
    assert all(got), got
    assert refused == "refused", "UDP to a closed port should get ICMP port unreachable, got %s" % refused


def test_ping(topo, conn):
    r = topo.client.run(["ping", "-c", "3", "-i", "0.2", "-W", "2", conn.machine_ip], timeout=20)
    assert r.returncode == 0, r.stdout + r.stderr
    assert b"3 received" in r.stdout, r.stdout


@pytest.mark.timeout(60)
def test_iperf3_tcp_and_udp(topo, conn):
    r = topo.client.run(["iperf3", "-c", conn.machine_ip, "-p", str(VM_IPERF_PORT), "-t", "5", "-J"], timeout=40)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    result = json.loads(r.stdout)
    received = result["end"]["sum_received"]["bits_per_second"]
    assert received > 50e6, "TCP through the machine IP: %.1f Mbit/s" % (received / 1e6)
    r = topo.client.run(["iperf3", "-c", conn.machine_ip, "-p", str(VM_IPERF_PORT), "-u", "-b", "50M", "-l", "1400", "-t", "3", "-J"],
                        timeout=40)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    udp = json.loads(r.stdout)["end"]["sum"]
    assert udp["packets"] > 1000 and udp["lost_percent"] < 20, udp


def test_packets_for_other_hosts_are_dropped(topo, conn):
    """Routing another address into the TUN must not reach it: the share side only answers
    for the machine IP (no open proxy into the sharer's network)."""
    dev = re.search(r"dev (vshare\d+)", topo.client.run(["ip", "route", "get", conn.machine_ip], timeout=10).stdout.decode()).group(1)
    topo.client.ip("route", "add", T.SHARE_VM_SIDE_IP + "/32", "dev", dev)
    try:
        assert not topo.client.can_connect((T.SHARE_VM_SIDE_IP, VM_HTTP_PORT), timeout=2)
        assert not topo.client.can_connect((T.VM_IP, VM_HTTP_PORT), timeout=1)
    finally:
        topo.client.ip("route", "del", T.SHARE_VM_SIDE_IP + "/32", "dev", dev)


# --- SOCKS ---------------------------------------------------------------------

def test_socks_connect_by_name_and_ip(topo, conn, module_share):
    proxy = "%s:%d" % conn.socks
    for host in (module_share.name, conn.machine_ip):
        r = curl(topo, ["--socks5-hostname", proxy, "http://%s:%d/" % (host, VM_HTTP_PORT)], timeout=20)
        assert r.returncode == 0 and b"vm-index-ok" in r.stdout, (host, r.stderr)


def test_socks_large_download(topo, conn, module_share):
    size = 50 * MiB
    r = topo.client.run(["sh", "-c", "curl -sS --max-time 60 --socks5-hostname %s:%d 'http://%s:%d/big?size=%d' | sha256sum"
                         % (conn.socks[0], conn.socks[1], module_share.name, VM_HTTP_PORT, size)], timeout=80)
    assert r.stdout.split()[0].decode() == pattern.sha256_of(size), r.stderr


def test_socks_closed_port_is_refused(topo, conn, module_share):
    """The SOCKS reply waits for the share agent's dial: a closed port answers 0x05 (connection
    refused) at once, instead of a success followed by a closed connection."""
    def attempt():
        t0 = time.monotonic()
        try:
            socks5.connect(conn.socks, module_share.name, 1, timeout=10).close()
            return "connected", time.monotonic() - t0
        except socks5.SOCKSError as e:
            return e.reply, time.monotonic() - t0
    reply, took = topo.client.call(attempt, timeout=20)
    assert reply == 0x05, reply
    assert took < 1.0, "refusal took %.2fs" % took
    r = curl(topo, ["--socks5-hostname", "%s:%d" % conn.socks, "http://%s:1/" % module_share.name], timeout=20)
    assert r.returncode != 0 and b"(5)" in r.stderr, r.stderr   # curl names the SOCKS reply code


def test_socks_refuses_other_hosts(topo, conn):
    def attempt(host):
        try:
            socks5.connect(conn.socks, host, VM_HTTP_PORT, timeout=5).close()
            return "connected"
        except socks5.SOCKSError as e:
            return e.reply
    for host in (T.VM_IP, T.SHARE_VM_SIDE_IP, "example.com", "127.0.0.1"):
        assert topo.client.call(attempt, host, timeout=15) == 0x02, host
    # A malformed request closes that client only; the proxy keeps serving.
    def garbage():
        s = socket.create_connection(conn.socks, timeout=5)
        s.sendall(b"\x04\x01\x00\x50junk")
        try:
            return s.recv(100)
        finally:
            s.close()
    topo.client.call(garbage, timeout=15)
    r = curl(topo, ["--socks5-hostname", "%s:%d" % conn.socks, "http://%s:%d/" % (conn.machine_ip, VM_HTTP_PORT)], timeout=20)
    assert b"vm-index-ok" in r.stdout, r.stderr


def test_socks_udp_associate(topo, conn, module_share):
    def exchange():
        control, relay_addr = socks5.udp_associate(conn.socks)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        answers = []
        for host in (conn.machine_ip, module_share.name):
            payload = b"socks-udp-" + host.encode()
            s.sendto(socks5.udp_wrap(host, VM_UDP_PORT, payload), relay_addr)
            src_host, src_port, data = socks5.udp_unwrap(s.recv(65535))
            answers.append((src_port, data == payload))
        s.close()
        control.close()
        return answers
    answers = topo.client.call(exchange, timeout=30)
    assert answers == [(VM_UDP_PORT, True), (VM_UDP_PORT, True)], answers


# --- several peers, privileges, ending -------------------------------------------

def test_two_connects_side_by_side(topo, relay, conn, module_share):
    second = V.start_connect(topo, relay, module_share, label="connect-2")
    try:
        assert second.machine_ip == "172.16.0.3", second.machine_ip
        for ip in (conn.machine_ip, second.machine_ip):
            r = curl(topo, ["http://%s:%d/" % (ip, VM_HTTP_PORT)], timeout=20)
            assert b"vm-index-ok" in r.stdout, (ip, r.stderr)
    finally:
        assert V.stop(second.proc) == 0, second.proc.describe()


def test_unprivileged_connect_serves_socks_only(topo, relay, conn, module_share):
    prefix = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all"]
    # The relay's data directory is private to root: give nobody a readable copy of the CA.
    public_dir = tempfile.mkdtemp(prefix="vshare-ca-")
    os.chmod(public_dir, 0o755)
    ca = os.path.join(public_dir, "ca.pem")
    shutil.copyfile(relay.ca, ca)
    os.chmod(ca, 0o644)
    c = V.start_connect(topo, relay, module_share, tun=False, label="connect-nobody", prefix=prefix, ca=ca)
    try:
        assert "needs root or CAP_NET_ADMIN" in c.proc.output, c.proc.describe()
        assert "Machine IP" not in c.proc.output, c.proc.output
        r = curl(topo, ["--socks5-hostname", "%s:%d" % c.socks, "http://%s:%d/" % (module_share.name, VM_HTTP_PORT)], timeout=20)
        assert b"vm-index-ok" in r.stdout, r.stderr
    finally:
        V.stop(c.proc)
        shutil.rmtree(public_dir, ignore_errors=True)


def test_ctrl_c_removes_interface_and_pcap_is_readable(topo, relay, conn, module_share, tmp_path):
    pcap = str(tmp_path / "tunnel.pcap")
    c = V.start_connect(topo, relay, module_share, extra=["--pcap", pcap], label="connect-pcap")
    dev = re.search(r"dev (vshare\d+)", topo.client.run(["ip", "route", "get", c.machine_ip], timeout=10).stdout.decode()).group(1)
    r = curl(topo, ["http://%s:%d/" % (c.machine_ip, VM_HTTP_PORT)], timeout=20)
    assert b"vm-index-ok" in r.stdout, r.stderr
    assert V.stop(c.proc, signal.SIGINT) == 0, c.proc.describe()
    links = topo.client.run(["ip", "-o", "link", "show"], timeout=10).stdout.decode()
    assert dev not in links, links
    route = topo.client.run(["ip", "route", "get", c.machine_ip], timeout=10)
    assert dev.encode() not in route.stdout, route.stdout
    dump = subprocess.run(["tcpdump", "-nn", "-r", pcap], capture_output=True, timeout=20)
    assert dump.returncode == 0, dump.stderr
    text = dump.stdout.decode()
    assert "%s.%d" % (c.machine_ip, VM_HTTP_PORT) in text and "Flags [S]" in text, text[:2000]


def test_unknown_share_exits_1(topo, relay, vm_extras):
    proc = topo.client.popen(V.connect_argv(relay, "no-such-share-0000", ["--no-tun", "--code", "7-acid-acorn-acre"]), name="connect-unknown", env=V.clean_env())
    assert proc.wait(15) == 1, proc.describe()
    assert "no share named" in proc.stderr, proc.describe()


def test_share_end_ends_connect(topo, relay, new_share, vm_extras):
    s = new_share()
    c = V.start_connect(topo, relay, s, extra=["--no-tun"], tun=False, label="connect-end")
    assert V.stop(s.proc) == 0
    c.proc.wait_line(r"has ended", 10)
    assert c.proc.wait(5) == 0, c.proc.describe()


@pytest.mark.timeout(60)
def test_connect_survives_the_agent_reconnecting(topo, relay, new_share, vm_extras):
    """The share agent's connection drops (ss -K) and it resumes the share: the connect peer is told
    to retry, not that the share ended, and the machine IP works again afterwards."""
    s = new_share()
    c = V.start_connect(topo, relay, s, extra=["--ip", "172.16.0.20"], label="connect-resume")
    try:
        r = curl(topo, ["http://%s:%d/" % (c.machine_ip, VM_HTTP_PORT)], timeout=20)
        assert b"vm-index-ok" in r.stdout, r.stderr
        start = c.proc.line_count()
        out = topo.share_host.run(["ss", "-tnpH", "state", "established", "dst", T.RELAY_SHARE_SIDE_IP,
                                   "dport", "=", ":%d" % relay.control_port], timeout=10, check=True).stdout.decode()
        # The agent's control connection and its peer's data connection: the network drops both.
        sports = [l.split()[2].rsplit(":", 1)[1] for l in out.splitlines() if "pid=%d," % s.proc.pid in l]
        assert len(sports) == 2, out
        for sport in sports:
            topo.share_host.run(["ss", "-K", "-tnH", "dst", T.RELAY_SHARE_SIDE_IP, "dport", "=",
                                 ":%d" % relay.control_port, "sport", "=", ":%s" % sport], timeout=10, check=True)
        s.proc.wait_line(r"Reconnected", timeout=10)
        c.proc.wait_line(r"Reconnected to %s" % re.escape(s.name), timeout=20, start=start,
                         hint="(the connect peer must rejoin once the agent is back)")
        assert c.proc.poll() is None and "has ended" not in c.proc.output, c.proc.describe()
        r = curl(topo, ["http://%s:%d/" % (c.machine_ip, VM_HTTP_PORT)], timeout=20)
        assert b"vm-index-ok" in r.stdout, r.stderr
    finally:
        assert V.stop(c.proc) == 0, c.proc.describe()


def test_pcap_records_socks_udp_without_tun(topo, relay, conn, module_share, tmp_path):
    """--pcap records every tunneled packet, also with --no-tun (SOCKS UDP rides the packet path)."""
    pcap = str(tmp_path / "socks.pcap")
    c = V.start_connect(topo, relay, module_share, extra=["--no-tun", "--pcap", pcap], tun=False, label="connect-pcap-socks")
    try:
        def exchange():
            control, relay_addr = socks5.udp_associate(c.socks)
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(3)
            s.sendto(socks5.udp_wrap(module_share.name, VM_UDP_PORT, b"captured"), relay_addr)
            answer = socks5.udp_unwrap(s.recv(65535))[2]
            s.close()
            control.close()
            return answer
        assert topo.client.call(exchange, timeout=30) == b"captured"
    finally:
        assert V.stop(c.proc) == 0, c.proc.describe()
    dump = subprocess.run(["tcpdump", "-nn", "-r", pcap, "udp"], capture_output=True, timeout=20)
    assert dump.returncode == 0, dump.stderr
    lines = dump.stdout.decode().splitlines()
    assert any(("> 172.16.0.2.%d:" % VM_UDP_PORT) in l for l in lines), lines
    assert any(("172.16.0.2.%d >" % VM_UDP_PORT) in l for l in lines), lines


@pytest.mark.timeout(60)
def test_packets_a_modified_agent_forges_never_reach_the_peer(topo, relay, new_share, vm_extras):
    """A share agent that turns hostile (VSHARE_TEST_FORGE_TO: after the peer's first packet it sends
    SYNs and a UDP datagram to a port of the peer's own address, from the machine IP and from a
    stranger) reaches none of the peer's services: the gate drops every forged packet and says so."""
    port = 40999
    s = new_share(env={"VSHARE_TEST_FORGE_TO": str(port)})
    tcp = topo.client.call(lambda: socket.create_server(("0.0.0.0", port)))
    udp = topo.client.call(lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    topo.client.call(udp.bind, ("0.0.0.0", port))
    tcp.setblocking(False)
    udp.setblocking(False)
    c = V.start_connect(topo, relay, s, extra=["--ip", "172.16.0.31"], label="connect-forged")
    try:
        # The first packet arms the forger; a real flow keeps working meanwhile.
        r = curl(topo, ["http://%s:%d/" % (c.machine_ip, VM_HTTP_PORT)], timeout=20)
        assert b"vm-index-ok" in r.stdout, r.stderr
        time.sleep(6)   # the forger's five seconds
        with pytest.raises(BlockingIOError):
            tcp.accept()
        with pytest.raises(BlockingIOError):
            udp.recvfrom(100)
        r = curl(topo, ["http://%s:%d/" % (c.machine_ip, VM_HTTP_PORT)], timeout=20)
        assert b"vm-index-ok" in r.stdout, r.stderr
    finally:
        tcp.close()
        udp.close()
        assert V.stop(c.proc) == 0, c.proc.describe()
    m = re.search(r"(\d+) packets from the share were dropped", c.proc.output)
    assert m and int(m.group(1)) >= 3 * 10, c.proc.describe()
