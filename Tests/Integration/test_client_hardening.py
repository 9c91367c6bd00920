"""The client side under faults and misuse (issue 11): the TUN path after reconnects under load,
SSH key handling, files and processes, where output goes."""
from __future__ import annotations

import re
import subprocess
import sys
import os
import time

import pytest

import topology as T
import vshare as V

HERE = os.path.dirname(os.path.abspath(__file__))
VM_IPERF_PORT = 5201


@pytest.fixture(scope="module")
def iperf_server(topo):
    iperf = topo.vm.popen(["iperf3", "-s", "-B", T.VM_IP, "-p", str(VM_IPERF_PORT)], name="iperf3-server")
    topo.share_host.wait_tcp((T.VM_IP, VM_IPERF_PORT), timeout=10, proc=iperf)
    yield iperf
    iperf.stop()


@pytest.mark.timeout(150)
def test_machine_ip_answers_after_reconnects_under_load(topo, relay, share, iperf_server):
    """The probe's bug: the relay connection cut mid-transfer while the tunnel was full left the TUN
    unread for good (ping 100 % loss, TX-dropped rising). Each round: load through the machine IP,
    cut, wait for the rejoin, then the machine IP must answer pings again."""
    c = V.start_connect(topo, relay, share, extra=["--ip", "172.16.0.30"], label="connect-load")
    # A slow uplink to the relay: the tunnel's socket backs up, so the pump waits for room most of
    # the time and the cut lands in that state (on a fast local link the tunnel seldom fills).
    topo.client.run(["tc", "qdisc", "add", "dev", "eth-relay", "root", "tbf", "rate", "20mbit",
                     "burst", "64kb", "latency", "200ms"], timeout=10, check=True)
    try:
        for round_ in range(5):
            start = c.proc.line_count()
            # UDP far above what the path carries keeps the tunnel's datagram queue full (TCP would
            # back off), so the cut comes while the pump waits for room: the case that broke.
            load = subprocess.Popen(topo.client.argv(["iperf3", "-c", c.machine_ip, "-p", str(VM_IPERF_PORT),
                                                      "-u", "-b", "2G", "-l", "1400", "-t", "5"]),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            flood = subprocess.Popen(topo.client.argv(["ping", "-f", "-s", "1400", "-w", "5", c.machine_ip]),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            try:
                time.sleep(3.0)   # mid-transfer, once the socket to the relay and the tunnel's queue are full
                assert V.cut_relay_connections(topo, relay, c.proc.pid) >= 1, "no relay connection to cut"
                c.proc.wait_line(r"Reconnected to %s" % re.escape(share.name), timeout=30, start=start,
                                 hint="(round %d: connect must rejoin)" % round_)
            finally:
                for p in (load, flood):
                    try:
                        p.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        os.killpg(p.pid, 9)
                        p.wait(5)
            r = topo.client.run(["ping", "-c", "3", "-i", "0.3", "-w", "10", c.machine_ip], timeout=20)
            assert r.returncode == 0, "round %d: the machine IP no longer answers after a reconnect:\n%s\n%s" % (
                round_, r.stdout.decode(errors="replace"), c.proc.describe())
    finally:
        topo.client.run(["tc", "qdisc", "del", "dev", "eth-relay", "root"], timeout=10)
        assert V.stop(c.proc) == 0, c.proc.describe()


# --- output and ending --------------------------------------------------------

@pytest.mark.timeout(60)
def test_a_share_the_relay_ended_exits_within_a_second(topo, tmp_path, vm_server):
    """The relay ends the share (its TTL here): the agent says so and exits at once, a connect peer
    attached or not."""
    ttl_relay = V.start_relay(topo, str(tmp_path / "end-relay"), control_port=7451, http_port=8091,
                              https_port=8451, extra=["--share-ttl", "4s"], name="relay-end")
    try:
        s = V.start_share(topo, ttl_relay, name="share-end")
        c = V.start_connect(topo, ttl_relay, s, extra=["--no-tun"], tun=False, label="connect-end")
        s.proc.wait_line(r"expired", timeout=15, hint="(--share-ttl 4s)")
        t0 = time.monotonic()
        rc = s.proc.wait(timeout=5)
        took = time.monotonic() - t0
        assert rc == 0, s.proc.describe()
        assert took < 1.0, "the share took %.2fs to exit after the relay ended it\n%s" % (took, s.proc.describe())
        assert c.proc.wait(timeout=10) == 0, c.proc.describe()
    finally:
        ttl_relay.proc.stop()


def test_the_token_stays_off_command_lines_and_out_of_children(topo, relay, tmp_path, vm_server):
    """--token-file FILE works; --token on the command line warns; VSHARE_TOKEN never reaches a
    child (ssh here, replaced by a script that records its environment)."""
    token_file = tmp_path / "token"
    token_file.write_text(relay.token + "\n")
    os.chmod(token_file, 0o600)
    s = V.start_share(topo, relay, name="share-token-file", token=None, extra=["--token-file", str(token_file)])
    assert "warning" not in s.proc.stderr, s.proc.stderr
    s.proc.stop()

    s = V.start_share(topo, relay, name="share-token-flag")
    assert "--token on the command line can be read by every local user" in s.proc.stderr, s.proc.stderr
    assert "--token-file" in s.proc.stderr
    s.proc.stop()

    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    record = tmp_path / "ssh-env"
    (fake_bin / "ssh").write_text("#!/bin/sh\nenv > %s\nexit 255\n" % record)
    os.chmod(fake_bin / "ssh", 0o755)
    identity = tmp_path / "id"
    identity.write_text("not a key\n")
    env = {"VSHARE_TOKEN": relay.token, "PATH": "%s:%s" % (fake_bin, os.environ.get("PATH", "/usr/bin:/bin"))}
    proc = topo.share_host.popen(V.share_argv(relay, token=None, extra=["--ssh", "--ssh-identity", str(identity)]),
                                 name="share-token-env", env={**V.clean_env(), **env}, stdin=subprocess.PIPE)
    proc.popen.stdin.write(b"pw-for-the-test\n")
    proc.popen.stdin.close()
    assert proc.wait(30) != 0, proc.describe()   # the fake ssh cannot insert the key
    seen = record.read_text()
    assert "PATH=" in seen, seen
    assert "VSHARE_TOKEN" not in seen and relay.token not in seen, "a child inherited the token:\n" + seen
