"""Operating a relay (issue 11): Prometheus metrics on the relay's admin address and on an agent's
--metrics address, parsed with the Prometheus project's own text-format parser; and the relay's
--config file, with command-line flags winning and a bad file refused with its line.
"""
from __future__ import annotations

import http.client
import re

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
        assert value(samples, "vshare_http_bytes_total", direction="out") > value(before, "vshare_http_bytes_total", direction="out")
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
