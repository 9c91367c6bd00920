"""The relay's database (issue 10): users and their tokens (`vshare relay user ...`), shares that
belong to the user whose token made them (each user sees and expires only their own), a live
share that keeps its name across a relay restart, and one access-log row per request.

Its own relay (own data dir and ports, web interface on 127.0.0.1:7644 in the relay netns), so the
module relay of other tests is untouched."""
from __future__ import annotations

import http.client
import json
import os
import re
import signal
import sqlite3
import subprocess
import time

import pytest

import topology as T
import vshare as V

PORTS = dict(control_port=7643, http_port=8280, https_port=8643)
ADMIN = ("127.0.0.1", 7644)
# The restart test's relay, beside the module's.
RESTART_PORTS = dict(control_port=7653, http_port=8290, https_port=8653)


def start(topo, data_dir, ports=PORTS, admin=ADMIN):
    return V.start_relay(topo, data_dir, name="relay-store", admin="%s:%d" % admin, **ports)


@pytest.fixture(scope="module")
def store_relay(topo, tmp_path_factory, vm_server):
    data_dir = str(tmp_path_factory.mktemp("relay-store"))
    relay = start(topo, data_dir)
    yield relay
    relay.proc.stop()


def user_cmd(topo, relay, *args) -> subprocess.CompletedProcess:
    return topo.relay.run([V.vshare_bin(), "relay", "user", *args, "--data-dir", relay.data_dir], timeout=20)


def add_user(topo, relay, name) -> str:
    r = user_cmd(topo, relay, "add", name)
    assert r.returncode == 0, r.stderr.decode()
    m = re.search(r"token \(shown only now\): ([0-9a-f]{64})", r.stdout.decode())
    assert m, r.stdout.decode()
    return m.group(1)


def api(topo, token, method="GET", path="/api/shares"):
    def go():
        conn = http.client.HTTPConnection(*ADMIN, timeout=10)
        try:
            conn.request(method, path, headers={"Authorization": "Bearer " + token})
            r = conn.getresponse()
            return r.status, r.read().decode()
        finally:
            conn.close()
    return topo.relay.call(go)


def names(topo, token) -> set[str]:
    status, body = api(topo, token)
    assert status == 200, body
    return {s["name"] for s in json.loads(body)["shares"]}


def db(relay) -> sqlite3.Connection:
    return sqlite3.connect(os.path.join(relay.data_dir, "relay.db"), timeout=10)


def test_users_own_their_shares(topo, store_relay):
    relay = store_relay
    alice = add_user(topo, relay, "alice")
    bob = add_user(topo, relay, "bob")
    listed = user_cmd(topo, relay, "list").stdout.decode().split()
    assert "alice" in listed and "bob" in listed and "admin" in listed, listed
    a = V.start_share(topo, relay, name="share-alice", token=alice)
    b = V.start_share(topo, relay, name="share-bob", token=bob)
    try:
        assert names(topo, alice) == {a.name}
        assert names(topo, bob) == {b.name}
        assert {a.name, b.name} <= names(topo, relay.token), "admin (the owner token) sees everything"
        status, body = api(topo, bob, "POST", "/api/shares/%s/expire" % a.name)
        assert status == 403, (status, body)
        assert a.proc.poll() is None, "bob could not end alice's share"
        row = db(relay).execute("SELECT u.name FROM shares s JOIN users u ON u.id = s.owner_id WHERE s.name = ?",
                                (a.name,)).fetchone()
        assert row == ("alice",), row
        # A new token for bob: the old one stops working at once.
        r = user_cmd(topo, relay, "token", "bob")
        assert r.returncode == 0, r.stderr.decode()
        assert api(topo, bob)[0] == 401
        status, body = api(topo, alice, "POST", "/api/shares/%s/expire" % a.name)
        assert status == 200, body
        a.proc.wait_line(r"expired from the web interface", 10)
        assert a.proc.wait(10) == 0
        ended = db(relay).execute("SELECT end_reason FROM shares WHERE name = ?", (a.name,)).fetchone()
        assert ended and "web" in ended[0], ended
    finally:
        a.proc.stop()
        b.proc.stop()


def test_a_wrong_token_is_refused_and_audited(topo, store_relay):
    proc = topo.share_host.popen(V.share_argv(store_relay, token="0" * 64), name="share-badtoken", env=V.clean_env())
    assert proc.wait(20) == 1, proc.describe()
    assert "refused the token" in proc.stderr, proc.describe()
    rows = []
    for _ in range(30):   # the audit row goes through the log writer (batched, ≤ 0.1 s)
        rows = db(store_relay).execute("SELECT action FROM audit WHERE action = 'share.refused'").fetchall()
        if rows:
            break
        time.sleep(0.1)
    assert rows, "the refusal is in the audit trail"


def test_every_request_is_a_row(topo, store_relay):
    s = V.start_share(topo, store_relay, name="share-logged")
    try:
        for i in range(25):
            status, _, _ = _get(topo, store_relay, s, "/?n=%d" % i)
            assert status == 200
        rows = []
        for _ in range(30):
            rows = db(store_relay).execute("SELECT path, status, user_agent FROM access_log WHERE share = ? ORDER BY id",
                                           (s.name,)).fetchall()
            if len(rows) >= 25:
                break
            time.sleep(0.1)
        assert [r[0] for r in rows] == ["/?n=%d" % i for i in range(25)], rows
        assert all(r[1] == 200 and r[2] == "vshare-test" for r in rows), rows[:3]
        # The live-shares API counts the same requests, and a connect peer while it is joined.
        status, body = api(topo, store_relay.token)
        listed = {x["name"]: x for x in json.loads(body)["shares"]}[s.name]
        assert listed["requests"] == 25 and listed["bytes"] > 0 and listed["peers"] == 0, listed
        assert listed["target"] == "%s, http 8000" % T.VM_IP, listed
        c = V.start_connect(topo, store_relay, s, extra=["--no-tun"], tun=False, label="connect-counted")
        try:
            status, body = api(topo, store_relay.token)
            assert {x["name"]: x for x in json.loads(body)["shares"]}[s.name]["peers"] == 1, body
        finally:
            V.stop(c.proc)
    finally:
        s.proc.stop()


def _get(topo, relay, share, path):
    def go():
        conn = http.client.HTTPConnection(T.RELAY_CLIENT_SIDE_IP, relay.http_port, timeout=10)
        try:
            conn.request("GET", path, headers={"Host": share.host_header, "User-Agent": "vshare-test"})
            r = conn.getresponse()
            return r.status, r.read(), r
        finally:
            conn.close()
    return topo.client.call(go)


@pytest.mark.timeout(120)
def test_a_live_share_keeps_its_name_across_a_relay_restart(topo, tmp_path, vm_server):
    data_dir = str(tmp_path / "restart")
    relay = start(topo, data_dir, RESTART_PORTS, ("127.0.0.1", 7654))
    s = V.start_share(topo, relay, name="share-restart")
    try:
        assert _get(topo, relay, s, "/")[0] == 200
        relay.proc.signal(signal.SIGKILL)   # a crash: what was committed is in the WAL
        relay.proc.wait(10)
        start_line = s.proc.line_count()
        relay = start(topo, data_dir, RESTART_PORTS, ("127.0.0.1", 7654))
        s.proc.wait_line(r"Reconnected to the relay; the share %s is still live\." % re.escape(s.name), 45,
                         start=start_line, hint="(the agent resumes the same name from the restarted relay)")
        status, body, _ = _get(topo, relay, s, "/")
        assert status == 200 and b"vm-index-ok" in body, (status, body[:200])
    finally:
        s.proc.stop()
        relay.proc.stop()


def test_user_changes_are_in_the_audit_trail(topo, store_relay):
    add_user(topo, store_relay, "carol")
    assert user_cmd(topo, store_relay, "token", "carol").returncode == 0
    assert user_cmd(topo, store_relay, "remove", "carol").returncode == 0
    rows = db(store_relay).execute("SELECT action FROM audit WHERE subject = 'carol' ORDER BY id").fetchall()
    assert [r[0] for r in rows] == ["user.added", "user.token", "user.removed"], rows
    assert "carol" not in user_cmd(topo, store_relay, "list").stdout.decode().split()


@pytest.mark.timeout(90)
def test_log_retention_deletes_old_rows(topo, tmp_path, vm_server):
    """Rows older than --log-retention go at the writer's next pass (at start, then every minute):
    requests logged, the relay stopped, then started again after the retention span has passed."""
    data_dir = str(tmp_path / "retention")
    ports, admin = dict(control_port=7663, http_port=8300, https_port=8663), ("127.0.0.1", 7664)

    def start_short():
        return V.start_relay(topo, data_dir, name="relay-retention", admin="%s:%d" % admin,
                             extra=["--log-retention", "3s"], **ports)

    relay = start_short()
    s = V.start_share(topo, relay, name="share-retention")
    try:
        for _ in range(5):
            assert _get(topo, relay, s, "/")[0] == 200
        deadline = time.monotonic() + 5
        while db(relay).execute("SELECT count(*) FROM access_log").fetchone()[0] < 5:
            assert time.monotonic() < deadline, "the rows were written"
            time.sleep(0.1)
    finally:
        s.proc.stop()
        relay.proc.stop()
    time.sleep(4)
    relay = start_short()
    try:
        deadline = time.monotonic() + 10
        while db(relay).execute("SELECT count(*) FROM access_log").fetchone()[0] > 0:
            assert time.monotonic() < deadline, "rows older than the retention span are deleted at start"
            time.sleep(0.2)
    finally:
        relay.proc.stop()
