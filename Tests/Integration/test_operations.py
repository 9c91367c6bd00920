"""Operating a relay (issue 11): Prometheus metrics on the relay's admin address and on an agent's
--metrics address, parsed with the Prometheus project's own text-format parser; and the relay's
--config file, with command-line flags winning and a bad file refused with its line.
"""
from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import struct
import subprocess
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

import topology as T
import vshare as V

ADMIN = ("127.0.0.1", 7444)
AGENT_METRICS = ("127.0.0.1", 9464)


def scrape(where, addr, token: str | None = None) -> tuple[int, str, dict]:
    """GET /metrics from inside `where`; returns (status, content type, {(name, labels): value})."""
    def go():
        conn = http.client.HTTPConnection(*addr, timeout=10)
        try:
            conn.request("GET", "/metrics", headers={"Authorization": "Bearer " + token} if token else {})
            r = conn.getresponse()
            return r.status, r.getheader("Content-Type") or "", r.read().decode()
        finally:
            conn.close()
    status, ctype, text = where.call(go)
    samples = {}
    if status == 200:
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return status, ctype, samples


def value(samples: dict, name: str, **labels) -> float:
    key = (name, tuple(sorted(labels.items())))
    assert key in samples, "%s%s not in the scrape: %s" % (name, labels, sorted(k for k in samples if k[0] == name))
    return samples[key]


@pytest.fixture(scope="module")
def relay(topo, tmp_path_factory, vm_server):
    r = V.start_relay(topo, str(tmp_path_factory.mktemp("relay-data")), admin=None)
    yield r
    r.proc.stop()


def test_relay_and_agent_metrics(topo, relay):
    share = V.start_share(topo, relay, extra=["--metrics", "%s:%d" % AGENT_METRICS])
    try:
        share.proc.wait_line(r"Metrics: http://127\.0\.0\.1:9464/metrics", 5)
        _, _, before = scrape(topo.relay, ADMIN, relay.token)
        for _ in range(5):
            status, _, _ = V.client_get(topo, share.host, share.port)
            assert status == 200
        status, _, _ = V.client_get(topo, "no-such-share-0000.%s" % V.DOMAIN, relay.http_port)
        assert status == 404

        status, ctype, samples = scrape(topo.relay, ADMIN, relay.token)
        assert status == 200 and ctype.startswith("text/plain; version=0.0.4"), (status, ctype)
        assert value(samples, "vshare_shares_live") == 1
        assert value(samples, "vshare_shares_created_total") >= 1
        ok = value(samples, "vshare_http_requests_total", **{"class": "2xx"})
        assert ok - value(before, "vshare_http_requests_total", **{"class": "2xx"}) == 5
        assert value(samples, "vshare_http_requests_total", **{"class": "4xx"}) >= 1
        for direction in ("in", "out"):  # five request heads went in, five pages came out
            assert value(samples, "vshare_http_bytes_total", direction=direction) > \
                value(before, "vshare_http_bytes_total", direction=direction), direction
        assert value(samples, "vshare_open_connections", port="control") >= 1  # the agent's
        assert value(samples, "vshare_connections_refused_total", port="http") == 0
        assert value(samples, "vshare_guess_refusals_total") == 0  # one miss slows nobody
        assert value(samples, "vshare_memory_budget_bytes") == 256 << 20
        assert "vshare_open_connections" in {k[0] for k in samples if dict(k[1]).get("port") == "http"}
        loops = [k for k in samples if k[0] == "vshare_event_loop_busy_seconds_total"]
        assert loops and all(samples[k] >= 0 for k in loops)

        # The agent's own counters, on its own address: five HTTP streams from the relay.
        status, ctype, agent = scrape(topo.share_host, AGENT_METRICS)
        assert status == 200 and ctype.startswith("text/plain; version=0.0.4"), (status, ctype)
        assert value(agent, "vshare_share_live") == 1
        assert value(agent, "vshare_share_streams_total", service="http") >= 5
        assert value(agent, "vshare_relay_connections_total") == 1
    finally:
        V.stop(share.proc)

    # The share ended by its agent (Ctrl-C) is counted by why it ended.
    _, _, after = scrape(topo.relay, ADMIN, relay.token)
    assert value(after, "vshare_shares_live") == 0
    assert value(after, "vshare_shares_ended_total", reason="agent-stopped") >= 1


def test_metrics_need_an_admin_token(topo, relay):
    assert scrape(topo.relay, ADMIN)[0] == 401
    assert scrape(topo.relay, ADMIN, "not-a-token")[0] == 401


def _tcp_ack_for_no_flow(machine_ip: str) -> None:
    """From inside the client netns: one TCP ACK, correct checksum, to a port of the machine IP with
    no connection on it (a segment the agent's packet stack drops, answering with an RST)."""
    source = socket.inet_aton(T.CLIENT_IP)   # not the TUN's own address: any source is carried
    header = bytearray(struct.pack("!HHIIBBHHH", 40000, 9, 1, 1, 5 << 4, 0x10, 65535, 0, 0))
    pseudo = source + socket.inet_aton(machine_ip) + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(header))
    data = pseudo + header
    total = sum((data[i] << 8) + data[i + 1] for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    struct.pack_into("!H", header, 16, ~total & 0xFFFF)
    with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP) as raw:
        raw.sendto(bytes(header), (machine_ip, 0))


def test_agent_metrics_count_the_machine_ip_path(topo, relay):
    """The agent's packet counters: pings and a stray segment through a peer's machine IP, kept in
    the totals after the peer has gone."""
    address = ("127.0.0.1", 9465)
    share = V.start_share(topo, relay, name="share-packets", extra=["--metrics", "%s:%d" % address])
    try:
        c = V.start_connect(topo, relay, share, label="connect-packets")
        try:
            r = topo.client.run(["ping", "-c", "3", "-i", "0.2", "-W", "2", c.machine_ip], timeout=20)
            assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
            topo.client.call(_tcp_ack_for_no_flow, c.machine_ip)
            deadline = time.monotonic() + 5
            while True:
                _, _, live = scrape(topo.share_host, address)
                if value(live, "vshare_connect_packets_dropped_total") >= 1 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert value(live, "vshare_connect_packets_total", direction="in") >= 4, live
            assert value(live, "vshare_connect_packets_total", direction="out") >= 3, live
            assert value(live, "vshare_connect_packets_dropped_total") >= 1, live
        finally:
            V.stop(c.proc)
        # The peer is gone; its session's packets stay in the totals (a counter never goes back).
        time.sleep(0.5)
        _, _, after = scrape(topo.share_host, address)
        for direction in ("in", "out"):
            assert value(after, "vshare_connect_packets_total", direction=direction) >= \
                value(live, "vshare_connect_packets_total", direction=direction), direction
        assert value(after, "vshare_connect_packets_dropped_total") >= value(live, "vshare_connect_packets_dropped_total")
    finally:
        V.stop(share.proc)


def test_relay_config_file(topo, tmp_path):
    """The relay reads its settings from --config; a flag on the command line wins over the file."""
    data = str(tmp_path / "data")
    config = tmp_path / "relay.toml"
    config.write_text("\n".join([
        "# a relay from a config file",
        'domain = "%s"' % V.DOMAIN,
        'control = "0.0.0.0:7543"',
        'http = "0.0.0.0:1"            # overridden on the command line',
        'https = "0.0.0.0:8543"',
        'hostname = ["%s", "%s"]' % (T.RELAY_SHARE_SIDE_IP, T.RELAY_CLIENT_SIDE_IP),
        'share-ttl = "2h"',
        'admin = "off"',
        "",
    ]))
    proc = topo.relay.popen([V.vshare_bin(), "relay", "--config", str(config), "--data-dir", data,
                             "--http", "0.0.0.0:8580"], name="relay-config", env=V.clean_env())
    try:
        proc.wait_line(r"Public HTTP: 0\.0\.0\.0:8580", 10)
        proc.wait_line(r"Shares expire after 2h", 5)
        topo.share_host.wait_tcp((T.RELAY_SHARE_SIDE_IP, 7543), timeout=10, proc=proc)
        relay = V.Relay(proc, data, 7543, 8580, 8543)
        share = V.start_share(topo, relay, name="share-config")
        try:
            status, body, _ = V.client_get(topo, share.host, 8580)
            assert status == 200 and body
        finally:
            share.proc.stop()
    finally:
        proc.stop()


def test_relay_config_file_errors_name_the_line(topo, tmp_path):
    for text, message in [
        ('domain = "x.test"\nshare_ttl = "8h"\n', r"line 2: unknown setting 'share_ttl'"),
        ('domain = "x.test"\n\n[limits]\n', r"line 3: tables"),
        ('share-ttl = 8h\n', r"line 1: '8h' is not a value"),
        ('share-ttl = "eight hours"\n', r"--share-ttl 'eight hours' is not a duration"),
    ]:
        config = tmp_path / "bad.toml"
        config.write_text(text)
        r = topo.relay.run([V.vshare_bin(), "relay", "--config", str(config), "--data-dir", str(tmp_path / "d")],
                           env=V.clean_env(), timeout=10, text=True)
        assert r.returncode == 2, (text, r.returncode, r.stderr)
        assert re.search(message, r.stderr), (text, r.stderr)
    missing = topo.relay.run([V.vshare_bin(), "relay", "--config", str(tmp_path / "none.toml")], env=V.clean_env(),
                             timeout=10, text=True)
    assert missing.returncode != 0 and "cannot read the config file" in missing.stderr, missing.stderr


def start_config_relay(topo, tmp_path, settings: dict, extra=(), name="relay-ops"):
    """A relay run from a config file (control 7643, http 8680, https 8643, no web interface)."""
    config = tmp_path / "relay.toml"
    write_config(config, settings)
    data = str(tmp_path / "data")
    proc = topo.relay.popen([V.vshare_bin(), "relay", "--config", str(config), "--data-dir", data, *extra],
                            name=name, env=V.clean_env())
    topo.share_host.wait_tcp((T.RELAY_SHARE_SIDE_IP, 7643), timeout=10, proc=proc)
    topo.client.wait_tcp((T.RELAY_CLIENT_SIDE_IP, 8680), timeout=10, proc=proc)
    return V.Relay(proc, data, 7643, 8680, 8643), config


def write_config(path, settings: dict):
    base = {"domain": V.DOMAIN, "control": "0.0.0.0:7643", "http": "0.0.0.0:8680", "https": "0.0.0.0:8643",
            "hostname": [T.RELAY_SHARE_SIDE_IP, T.RELAY_CLIENT_SIDE_IP], "admin": "off"}
    base.update(settings)
    lines = []
    for key, val in base.items():
        if isinstance(val, list):
            lines.append("%s = [%s]" % (key, ", ".join('"%s"' % v for v in val)))
        else:
            lines.append('%s = "%s"' % (key, val))
    path.write_text("\n".join(lines) + "\n")


def control_certificate(topo) -> bytes:
    """The DER certificate the relay's control port presents now (on a new connection)."""
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE

    def go():
        with topo.share_host.create_connection((T.RELAY_SHARE_SIDE_IP, 7643)) as raw:
            with ctx.wrap_socket(raw) as tls:
                return tls.getpeercert(binary_form=True)
    return topo.share_host.call(go)


def reissue_server_certificate(topo, data: str):
    """A new server.pem for the same key, signed by the relay's own CA (what a renewal does)."""
    ext = os.path.join(data, "san.ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:%s,IP:%s\n" % (T.RELAY_SHARE_SIDE_IP, T.RELAY_CLIENT_SIDE_IP))
    csr = os.path.join(data, "renew.csr")
    topo.relay.run(["openssl", "req", "-new", "-key", os.path.join(data, "server-key.pem"), "-subj", "/CN=renewed",
                    "-out", csr], check=True)
    topo.relay.run(["openssl", "x509", "-req", "-in", csr, "-CA", os.path.join(data, "ca.pem"),
                    "-CAkey", os.path.join(data, "ca-key.pem"), "-CAcreateserial", "-days", "2",
                    "-extfile", ext, "-out", os.path.join(data, "server.pem")], check=True)


def test_sighup_reloads_certificate_and_settings_without_dropping_connections(topo, tmp_path, vm_server):
    relay, config = start_config_relay(topo, tmp_path, {"share-ttl": "8h"})
    try:
        share = V.start_share(topo, relay, name="share-reload")
        before = control_certificate(topo)

        reissue_server_certificate(topo, relay.data_dir)
        write_config(config, {"share-ttl": "1h", "http": "0.0.0.0:8681", "memory-budget": "128M",
                              "max-conns-per-ip": "100", "log-retention": "7d"})
        relay.proc.signal(signal.SIGHUP)
        relay.proc.wait_line(r"Reloaded the certificate \(.*server\.pem\), share TTL 1h for new shares, HTTP timeouts for new "
                             r"connections, memory budget 128 MiB, 100 connections per address, log retention 7d\.", 5)
        relay.proc.wait_line(r"Changed but not reloaded \(restart the relay to apply\): --http\.", 5)

        after = control_certificate(topo)
        assert after != before, "the control port still presents the old certificate"
        # The running share's connection was not dropped, and its URL still answers.
        status, _, _ = V.client_get(topo, share.host, relay.http_port)
        assert status == 200
        assert "reconnecting" not in share.proc.output, share.proc.describe()
        # New shares get the new lifetime, through the new certificate.
        second = V.start_share(topo, relay, name="share-reload-2")
        second.proc.wait_line(r"The share expires in (59m5\ds|1h)\.", 5)

        # A broken certificate file is refused and the running one stays.
        with open(os.path.join(relay.data_dir, "server.pem"), "w") as f:
            f.write("not a certificate\n")
        relay.proc.signal(signal.SIGHUP)
        relay.proc.wait_line(r"cannot load the certificate, the running one stays", 5, stream="stderr")
        assert control_certificate(topo) == after
        assert relay.proc.poll() is None
        for s in (share, second):
            s.proc.stop()
    finally:
        relay.proc.stop()


def test_sigterm_drains_requests_in_flight_then_agents_reconnect(topo, tmp_path, vm_server):
    relay, _ = start_config_relay(topo, tmp_path, {"share-ttl": "8h"}, extra=["--drain", "8s"])
    share = V.start_share(topo, relay, name="share-drain")
    try:
        slow = topo.client.submit(V.client_get, topo, share.host, relay.http_port, "/slow?seconds=2")
        time.sleep(0.7)  # the request is at the machine, which answers after 2 s
        relay.proc.signal(signal.SIGTERM)
        relay.proc.wait_line(r"Stopping: no new connections; 1 request in flight get up to 8s to finish\.", 5)
        assert not topo.client.can_connect((T.RELAY_CLIENT_SIDE_IP, relay.http_port), timeout=1), \
            "the relay still accepts connections while draining"
        status, body, _ = slow.result(timeout=10)
        assert status == 200 and body == b"slow and complete\n"
        assert relay.proc.wait(10) == 0
        relay.proc.wait_line(r"==> relay: Stopped\.$", 1)

        # The agent heard the relay go and waits for it; a relay on the same data dir gets it back
        # under the same name.
        share.proc.wait_line(r"Lost the connection to the relay", 5)
        assert share.proc.poll() is None
        relay, _ = start_config_relay(topo, tmp_path, {"share-ttl": "8h"}, name="relay-ops-2")
        V.wait_status(topo, share.host, relay.http_port, 200, within=30)
    finally:
        share.proc.stop()
        relay.proc.stop()


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_deploy_files_are_valid(topo, tmp_path):
    """docs/deploy: systemd accepts the unit as written (with this build's binary in its ExecStart),
    and the example config starts a relay (its addresses and certificate overridden for the test)."""
    unit = open(os.path.join(REPO, "docs", "deploy", "vshare-relay.service")).read()
    assert "ExecStart=/usr/local/bin/vshare relay --config /etc/vshare-relay/relay.toml" in unit
    for directive in ("User=vshare-relay", "StateDirectory=vshare-relay", "ProtectSystem=strict", "NoNewPrivileges=yes",
                      "AmbientCapabilities=CAP_NET_BIND_SERVICE", "Restart=on-failure", "ExecReload=/bin/kill -HUP $MAINPID"):
        assert directive in unit, directive
    path = tmp_path / "vshare-relay.service"
    path.write_text(unit.replace("/usr/local/bin/vshare", V.vshare_bin()))
    r = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr

    key, cert = str(tmp_path / "key.pem"), str(tmp_path / "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=relay.example.com",
                    "-addext", "subjectAltName=IP:%s" % T.RELAY_SHARE_SIDE_IP], check=True, capture_output=True)
    data = tmp_path / "data"
    proc = topo.relay.popen([V.vshare_bin(), "relay", "--config", os.path.join(REPO, "docs", "deploy", "relay.toml"),
                             "--data-dir", str(data), "--control", "0.0.0.0:7743", "--http", "0.0.0.0:8780",
                             "--https", "0.0.0.0:8743", "--admin", "127.0.0.1:7745", "--cert", cert, "--key", key],
                            name="relay-deploy", env=V.clean_env())
    try:
        proc.wait_line(r"Public HTTP: 0\.0\.0\.0:8780 \(http://NAME\.share\.example\.com:8780\)", 10)
        proc.wait_line(r"Shares expire after 8h\.", 5)
    finally:
        proc.stop()
