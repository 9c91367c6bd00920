"""The web interface's records (issue 10): one share's access log through the API, the page and
`vshare logs` (newest first, with its fields, filtered by status class, paged, polled with
`after`), a download the client abandoned marked `aborted`, a second user's 403 on it, the
history of an ended share with why it ended, and sign-ins in the audit trail.

Its own relay (own data dir and ports, web interface on 127.0.0.1:7744 in the relay netns), so the
module relays of other tests are untouched. Requests go through the share from the client netns."""
from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import time
from urllib.parse import quote

import pytest

import topology as T
import vshare as V

PORTS = dict(control_port=7743, http_port=8380, https_port=8743)
ADMIN = ("127.0.0.1", 7744)
ADMIN_URL = "http://%s:%d" % ADMIN
UA = "vshare-logs-test/1"
MARKUP = "/<img/src=x/onerror=alert(1)>"


@pytest.fixture(scope="module")
def relay(topo, tmp_path_factory, vm_server):
    r = V.start_relay(topo, str(tmp_path_factory.mktemp("relay-logs")), name="relay-logs", admin="%s:%d" % ADMIN, **PORTS)
    yield r
    r.proc.stop()


def add_user(topo, relay, name) -> str:
    r = topo.relay.run([V.vshare_bin(), "relay", "user", "add", name, "--data-dir", relay.data_dir], timeout=20)
    assert r.returncode == 0, r.stderr.decode()
    return re.search(r"token \(shown only now\): ([0-9a-f]{64})", r.stdout.decode()).group(1)


@pytest.fixture(scope="module")
def users(topo, relay):
    return {"alice": add_user(topo, relay, "alice"), "bob": add_user(topo, relay, "bob")}


def admin(topo, method, path, token=None, body=None, headers=None):
    """One request to the web interface from the relay's namespace: (status, headers, body text)."""
    def go():
        conn = http.client.HTTPConnection(*ADMIN, timeout=10)
        try:
            h = dict(headers or {})
            if token:
                h["Authorization"] = "Bearer " + token
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode()
        finally:
            conn.close()
    return topo.relay.call(go)


def api(topo, path, token):
    status, _, body = admin(topo, "GET", path, token)
    assert status == 200, (path, status, body)
    return json.loads(body)


def login(topo, token) -> str:
    status, headers, _ = admin(topo, "POST", "/login", body="token=" + quote(token),
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 303, status
    return headers["set-cookie"].split(";")[0]


def through(topo, share, path) -> int:
    """A GET through the share from the client namespace, its target sent as is."""
    def go():
        conn = http.client.HTTPConnection(T.RELAY_CLIENT_SIDE_IP, share.port, timeout=10)
        try:
            conn.request("GET", path, headers={"Host": share.host_header, "User-Agent": UA})
            r = conn.getresponse()
            r.read()
            return r.status
        finally:
            conn.close()
    return topo.client.call(go)


def curl(topo, share, path) -> int:
    r = topo.client.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-A", UA, *V.curl_args(share),
                         share.url + path], timeout=20, text=True)
    return int(r.stdout)


def rows_of(topo, share, token, want, query=""):
    """The share's log rows once at least `want` are written (the writer batches, ≤ 0.1 s)."""
    rows = []
    for _ in range(50):
        rows = api(topo, "/api/shares/%s/log%s" % (share.name, query), token)["rows"]
        if len(rows) >= want:
            return rows
        time.sleep(0.1)
    raise AssertionError("only %d of %d rows: %r" % (len(rows), want, rows))


@pytest.fixture(scope="module")
def logged(topo, relay, users):
    """alice's share with five requests: 200, 404, 200, the markup path (404), 404."""
    s = V.start_share(topo, relay, name="share-logs", token=users["alice"])
    sent = ["/", "/missing", "/?n=2", MARKUP, "/also-missing"]
    statuses = [curl(topo, s, "/"), curl(topo, s, "/missing"), curl(topo, s, "/?n=2"), through(topo, s, MARKUP),
                curl(topo, s, "/also-missing")]
    assert statuses == [200, 404, 200, 404, 404], statuses
    rows_of(topo, s, users["alice"], len(sent))
    yield s, sent
    s.proc.stop()


def test_requests_are_shown_newest_first_with_their_fields(topo, relay, users, logged):
    s, sent = logged
    rows = rows_of(topo, s, users["alice"], len(sent))
    assert [r["path"] for r in rows] == list(reversed(sent)), rows
    assert [r["status"] for r in rows] == [404, 404, 200, 404, 200], rows
    ids = [r["id"] for r in rows]
    assert ids == sorted(ids, reverse=True), ids
    for r in rows:
        assert r["client"] == T.CLIENT_IP and r["method"] == "GET" and r["userAgent"] == UA, r
        assert r["bytes"] > 0 and r["durationMs"] >= 0 and "refusal" not in r, r
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["time"]), r
    status, headers, page = admin(topo, "GET", "/shares/%s" % s.name, headers={"Cookie": login(topo, users["alice"])})
    assert status == 200 and "script-src 'self'" in headers["content-security-policy"]
    assert "<td>/&lt;img/src=x/onerror=alert(1)&gt;</td>" in page
    assert "<img" not in page
    shown = re.findall(r'<tr data-id="(\d+)">', page)
    assert [int(i) for i in shown] == ids, "the page lists the same rows, newest first"


def test_filters_paging_and_polling(topo, relay, users, logged):
    s, _ = logged
    token = users["alice"]
    errors = rows_of(topo, s, token, 3, "?status=4xx")
    assert [r["status"] for r in errors] == [404, 404, 404], errors
    assert [r["path"] for r in rows_of(topo, s, token, 2, "?status=2xx")] == ["/?n=2", "/"]
    assert [r["path"] for r in rows_of(topo, s, token, 1, "?path=" + quote("also"))] == ["/also-missing"]
    first = api(topo, "/api/shares/%s/log?limit=2" % s.name, token)
    assert len(first["rows"]) == 2 and first["next"] == first["rows"][1]["id"]
    older = api(topo, "/api/shares/%s/log?limit=2&before=%d" % (s.name, first["next"]), token)
    assert [r["path"] for r in older["rows"]] == ["/?n=2", "/missing"]
    assert admin(topo, "GET", "/api/shares/%s/log?status=7xx" % s.name, token)[0] == 400
    # What a live page polls: only what came after the newest row it shows.
    newest = first["rows"][0]["id"]
    assert curl(topo, s, "/?n=new") == 200
    fresh = rows_of(topo, s, token, 1, "?after=%d" % newest)
    assert [r["path"] for r in fresh] == ["/?n=new"]


def test_another_user_gets_403(topo, relay, users, logged):
    s, _ = logged
    status, _, body = admin(topo, "GET", "/api/shares/%s/log" % s.name, users["bob"])
    assert status == 403, (status, body)
    status, _, page = admin(topo, "GET", "/shares/%s" % s.name, headers={"Cookie": login(topo, users["bob"])})
    assert status == 403 and "/&lt;img" not in page
    assert admin(topo, "GET", "/api/shares/%s/log" % s.name, relay.token)[0] == 200, "admin sees every share"
    assert admin(topo, "GET", "/api/audit", users["bob"])[0] == 403


def test_vshare_logs_prints_and_follows(topo, relay, users, logged, tmp_path):
    s, sent = logged
    env = V.clean_env()
    token_file = tmp_path / "alice.token"
    token_file.write_text(users["alice"] + "\n")
    token_file.chmod(0o600)
    r = topo.relay.run([V.vshare_bin(), "logs", s.name, "--admin", ADMIN_URL, "--token-file", str(token_file)],
                       timeout=20, env=env, text=True)
    assert r.returncode == 0, r.stderr
    assert "warning" not in r.stderr, r.stderr  # only --token on the command line warns
    lines = r.stdout.splitlines()
    printed = [re.search(r'"GET (\S+)" (\d{3}) ', line).group(1) for line in lines]
    assert printed[:len(sent)] == sent, lines
    assert all(line.startswith("20") and T.CLIENT_IP in line and UA in line for line in lines), lines
    errors = topo.relay.run([V.vshare_bin(), "logs", s.name, "--status", "4xx", "--admin", ADMIN_URL, "--token", users["alice"]],
                            timeout=20, env=env, text=True).stdout.splitlines()
    assert len(errors) == 3 and all('" 404 ' in line for line in errors), errors
    denied = topo.relay.run([V.vshare_bin(), "logs", s.name, "--admin", ADMIN_URL, "--token", users["bob"]],
                            timeout=20, env=env, text=True)
    assert denied.returncode == 1 and "another user's" in denied.stderr, denied.stderr
    follow = topo.relay.popen([V.vshare_bin(), "logs", s.name, "--follow", "--admin", ADMIN_URL, "--token", users["alice"]],
                              name="logs-follow", env=env)
    try:
        follow.wait_line(re.escape('"GET /also-missing"'), 10)
        start = follow.line_count()
        assert curl(topo, s, "/?n=followed") == 200
        follow.wait_line(re.escape('"GET /?n=followed" 200 '), 10, start=start)
    finally:
        follow.signal(signal.SIGINT)
        follow.wait(5)


def test_history_shows_an_ended_share_with_why(topo, relay, users):
    s = V.start_share(topo, relay, name="share-history", token=users["alice"])
    try:
        assert curl(topo, s, "/") == 200
        assert curl(topo, s, "/missing") == 404
        rows_of(topo, s, users["alice"], 2)
        status, _, body = admin(topo, "POST", "/api/shares/%s/expire" % s.name, users["alice"])
        assert status == 200, body
        assert s.proc.wait(10) == 0
    finally:
        s.proc.stop()
    ended = {x["name"]: x for x in api(topo, "/api/history", users["alice"])["shares"]}
    assert s.name in ended, ended
    entry = ended[s.name]
    assert entry["reason"] == "expired-web" and entry["reasonSummary"] == "expired from the web interface", entry
    assert entry["requests"] == 2 and entry["bytes"] > 0 and entry["owner"] == "alice" and entry["seconds"] >= 0, entry
    assert s.name not in {x["name"] for x in api(topo, "/api/history", users["bob"])["shares"]}
    status, _, page = admin(topo, "GET", "/history", headers={"Cookie": login(topo, users["alice"])})
    assert status == 200 and "expired from the web interface" in page and ('href="/shares/%s"' % s.name) in page


def test_sign_ins_are_in_the_audit_trail(topo, relay, users):
    login(topo, users["bob"])
    status, _, _ = admin(topo, "POST", "/login", body="token=wrong", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 403
    actions = []
    for _ in range(30):
        actions = [(r["actor"], r["action"]) for r in api(topo, "/api/audit", relay.token)["rows"]]
        if ("127.0.0.1", "login.failed") in actions:
            break
        time.sleep(0.1)
    assert ("bob", "login") in actions and ("127.0.0.1", "login.failed") in actions, actions
    assert actions.index(("127.0.0.1", "login.failed")) < actions.index(("bob", "login")), "newest first"
    status, _, page = admin(topo, "GET", "/audit", headers={"Cookie": login(topo, relay.token)})
    assert status == 200 and "login.failed" in page


def test_a_connect_session_is_shown_with_its_share(topo, relay, users, logged):
    s, _ = logged
    c = V.start_connect(topo, relay, s, extra=["--no-tun"], tun=False, label="connect-logs")
    V.stop(c.proc)
    sessions = []
    for _ in range(50):   # written when the session ends, through the log writer
        sessions = api(topo, "/api/shares/%s/log" % s.name, users["alice"])["connectSessions"]
        if sessions:
            break
        time.sleep(0.1)
    assert len(sessions) == 1 and sessions[0]["client"] == T.CLIENT_IP, sessions
    assert sessions[0]["endedAt"] >= sessions[0]["startedAt"], sessions
    status, _, page = admin(topo, "GET", "/shares/%s" % s.name, headers={"Cookie": login(topo, users["alice"])})
    assert status == 200 and "<td>%s</td><td>%s</td>" % (T.CLIENT_IP, sessions[0]["startedAt"]) in page


def test_a_download_the_client_abandons_is_marked_in_the_api_and_the_page(topo, relay, users):
    """The text log's ` aborted=client` reaches the row: not a complete 200 in the API, the page
    or `vshare logs` (test_http_hardening's relay has no web interface, hence a test here)."""
    s = V.start_share(topo, relay, name="share-aborted", token=users["alice"])
    size = 200 << 20

    def abandon():
        sock = socket.create_connection((T.RELAY_CLIENT_SIDE_IP, s.port), timeout=10)
        sock.sendall(("GET /big?size=%d HTTP/1.1\r\nHost: %s\r\n\r\n" % (size, s.host_header)).encode())
        got = 0
        while got < 1 << 20:
            got += len(sock.recv(65536))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()   # an RST: the browser went away mid-body
    try:
        assert curl(topo, s, "/") == 200
        topo.client.call(abandon, timeout=30)
        rows = rows_of(topo, s, users["alice"], 2)
        big, done = rows[0], rows[1]
        assert big["path"] == "/big?size=%d" % size and big["status"] == 200, rows
        assert big.get("aborted") == "client", big
        assert 0 < big["bytes"] < size, big
        assert done["path"] == "/" and "aborted" not in done and "refusal" not in done, done
        status, _, page = admin(topo, "GET", "/shares/%s" % s.name, headers={"Cookie": login(topo, users["alice"])})
        assert status == 200 and "<th>Note</th>" in page and "<td>aborted by the client</td>" in page, page
        r = topo.relay.run([V.vshare_bin(), "logs", s.name, "--admin", ADMIN_URL, "--token", users["alice"]],
                           timeout=20, env=V.clean_env(), text=True)
        assert r.returncode == 0, r.stderr
        line = next(line for line in r.stdout.splitlines() if "/big?size=" in line)
        assert line.endswith(" aborted: client"), line
    finally:
        s.proc.stop()
