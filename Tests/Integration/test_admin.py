"""The relay's web interface and its API (issue 10's foundation): login with the owner token,
the session cookie, CSRF, the live-shares page, Expire now, the JSON API with a bearer token,
escaping, the security headers, and the CLI on top of the API.

The interface listens on its default address, 127.0.0.1:7444 in the relay's namespace, so every
request here is made from there (`topo.relay`). A real browser comes later.
"""
from __future__ import annotations

import http.client
import json
import re
import ssl
import subprocess
import time
from urllib.parse import quote

import pytest

import topology as T
import vshare as V

ADMIN = ("127.0.0.1", 7444)
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
WEB_EXPIRED_RE = r"The share %s was expired from the web interface\."
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def relay(topo, tmp_path_factory, vm_server):
    """This module's relay, with the web interface on its default address (no --admin)."""
    r = V.start_relay(topo, str(tmp_path_factory.mktemp("relay-data")), admin=None)
    yield r
    r.proc.stop()


def request(topo, method: str, path: str, body: str | None = None, headers: dict | None = None,
            context: ssl.SSLContext | None = None, where=None, addr=ADMIN):
    """One request on a fresh connection from the relay's namespace (or `where`);
    returns (status, headers with lowercase names, body text)."""
    def go():
        if context is None:
            conn = http.client.HTTPConnection(*addr, timeout=10)
        else:
            conn = http.client.HTTPSConnection(*addr, timeout=10, context=context)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode()
        finally:
            conn.close()
    return (where or topo.relay).call(go)


def login(topo, token: str) -> tuple[str, str]:
    """Signs in; returns the Cookie header value and the page's CSRF token."""
    status, headers, _ = request(topo, "POST", "/login", "token=" + quote(token), FORM)
    assert status == 303, status
    cookie = headers["set-cookie"].split(";")[0]
    status, _, page = request(topo, "GET", "/", headers={"Cookie": cookie})
    assert status == 200, status
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
    return cookie, csrf


def cli(topo, relay, *args: str, token: str | None = None) -> subprocess.CompletedProcess:
    return topo.relay.run([V.vshare_bin(), *args, "--token", token or relay.token], timeout=20,
                          env=V.clean_env(), text=True)


def expect_web_expiry(topo, s: V.Share) -> None:
    """The share's URL answers 404 at once, and its agent says why and exits 0."""
    V.wait_status(topo, s.host, s.port, 404, within=2.0)
    s.proc.wait_line(WEB_EXPIRED_RE % re.escape(s.name), timeout=5)
    rc = s.proc.wait(timeout=5)
    assert rc == 0, "share exited %d after Expire now\n%s" % (rc, s.proc.describe())


def test_login_with_the_owner_token_sets_the_session_cookie(topo, relay):
    status, headers, _ = request(topo, "POST", "/login", "token=" + relay.token, FORM)
    assert status == 303 and headers["location"] == "/"
    cookie = headers["set-cookie"]
    assert re.fullmatch(r"vshare_session=[0-9a-f]{48}; HttpOnly; SameSite=Strict; Path=/", cookie), cookie
    status, headers, _ = request(topo, "GET", "/")
    assert status == 303 and headers["location"] == "/login", "no cookie, no page"


def test_a_wrong_token_is_refused(topo, relay):
    status, headers, page = request(topo, "POST", "/login", "token=not-the-token", FORM)
    assert status == 403
    assert "set-cookie" not in headers
    assert "not valid" in page


def test_the_live_share_appears_with_the_security_headers(topo, relay, share):
    cookie, _ = login(topo, relay.token)
    status, headers, page = request(topo, "GET", "/", headers={"Cookie": cookie})
    assert status == 200
    assert share.name in page and share.url in page
    assert "Expire now" in page
    assert headers["content-security-policy"] == CSP
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    script = request(topo, "GET", "/assets/admin.js")
    assert script[0] == 200 and script[1]["content-security-policy"] == CSP


def test_a_post_without_the_csrf_token_is_403(topo, relay, share):
    cookie, _ = login(topo, relay.token)
    path = "/shares/%s/expire" % share.name
    assert request(topo, "POST", path, "", {"Cookie": cookie, **FORM})[0] == 403
    assert request(topo, "POST", path, "csrf=0123", {"Cookie": cookie, **FORM})[0] == 403
    status, _, _ = V.client_get(topo, share.host, share.port)
    assert status == 200, "the share must still be live"


def test_expire_now_ends_the_share(topo, relay, new_share):
    s = new_share()
    cookie, csrf = login(topo, relay.token)
    status, headers, _ = request(topo, "POST", "/shares/%s/expire" % s.name, "csrf=" + csrf, {"Cookie": cookie, **FORM})
    assert status == 303 and headers["location"] == "/"
    expect_web_expiry(topo, s)
    _, _, page = request(topo, "GET", "/", headers={"Cookie": cookie})
    assert s.name not in page


def test_the_api_with_a_bearer_token_lists_and_expires(topo, relay, new_share):
    s = new_share()
    bearer = {"Authorization": "Bearer " + relay.token}
    status, headers, body = request(topo, "GET", "/api/shares", headers=bearer)
    assert status == 200 and headers["content-type"] == "application/json"
    listed = {x["name"]: x for x in json.loads(body)["shares"]}
    assert listed[s.name]["url"] == s.url
    assert listed[s.name]["owner"] == "admin"
    assert "http" in listed[s.name]["options"] and 0 < listed[s.name]["expiresIn"] <= 8 * 3600
    assert request(topo, "GET", "/api/shares")[0] == 401
    assert request(topo, "GET", "/api/shares", headers={"Authorization": "Bearer nope"})[0] == 401
    status, _, body = request(topo, "POST", "/api/shares/%s/expire" % s.name, headers=bearer)
    assert status == 200 and json.loads(body) == {"expired": s.name}
    expect_web_expiry(topo, s)
    assert request(topo, "POST", "/api/shares/%s/expire" % s.name, headers=bearer)[0] == 404


def test_a_path_with_markup_is_shown_as_text(topo, relay):
    status, headers, page = request(topo, "GET", "/" + quote("<img src=x onerror=alert(1)>"))
    assert status == 404
    assert "/&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img" not in page
    assert headers["content-security-policy"] == CSP


def test_the_cli_lists_and_expires(topo, relay, new_share):
    s = new_share()
    r = cli(topo, relay, "shares")
    assert r.returncode == 0, r.stderr
    assert re.search(r"^%s  %s  expires in " % (re.escape(s.name), re.escape(s.url)), r.stdout, re.M), r.stdout
    bad = cli(topo, relay, "shares", token="nope")
    assert bad.returncode == 1 and "refused the token" in bad.stderr, bad.stderr
    missing = cli(topo, relay, "expire", "nosuch-name-0000")
    assert missing.returncode == 1 and "no live share named nosuch-name-0000" in missing.stderr, missing.stderr
    r = cli(topo, relay, "expire", s.name)
    assert r.returncode == 0 and r.stdout.strip() == "Expired share %s." % s.name, (r.stdout, r.stderr)
    expect_web_expiry(topo, s)
    # The history says the command line ended it, and the audit trail who did, how and from where.
    bearer = {"Authorization": "Bearer " + relay.token}
    ended = {x["name"]: x for x in json.loads(request(topo, "GET", "/api/history", headers=bearer)[2])["shares"]}
    assert ended[s.name]["reason"] == "expired-cli", ended[s.name]
    assert ended[s.name]["reasonSummary"] == "expired from the command line", ended[s.name]
    deadline = time.monotonic() + 5
    while True:
        rows = json.loads(request(topo, "GET", "/api/audit", headers=bearer)[2])["rows"]
        audited = [x for x in rows if x["subject"] == s.name and x["action"] == "share.ended"]
        if audited or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert audited and audited[0]["actor"] == "admin", rows
    assert audited[0]["detail"] == "expired from the command line (cli from 127.0.0.1)", audited[0]
    down = topo.relay.run([V.vshare_bin(), "shares", "--admin", "http://127.0.0.1:7999"],
                          env={**V.clean_env(), "VSHARE_TOKEN": relay.token}, text=True, timeout=20)
    assert down.returncode == 1 and "cannot reach the relay's web interface" in down.stderr, down.stderr


def test_off_loopback_the_interface_is_https_with_a_secure_cookie(topo, tmp_path, vm_server):
    addr = (T.RELAY_CLIENT_SIDE_IP, 7446)
    other = V.start_relay(topo, str(tmp_path / "https-admin"), control_port=7447, http_port=8083, https_port=8445,
                          name="relay-https-admin", admin="%s:%d" % addr)
    try:
        topo.client.wait_tcp(addr, timeout=10, proc=other.proc)
        context = ssl.create_default_context(cafile=other.ca)
        status, headers, _ = request(topo, "POST", "/login", "token=" + other.token, FORM, context=context,
                                     where=topo.client, addr=addr)
        assert status == 303
        assert headers["set-cookie"].endswith("; HttpOnly; SameSite=Strict; Path=/; Secure"), headers["set-cookie"]
        with pytest.raises((http.client.HTTPException, OSError)):
            request(topo, "GET", "/login", where=topo.client, addr=addr)   # plain HTTP is not served there
    finally:
        other.proc.stop()
