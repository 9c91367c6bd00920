"""The relay's web interface in a real browser (issue 10): headless Chromium in the relay's
namespace (fixtures `browser` and `page`, see browser.py) signs in through the form, watches the
live-shares page and a share's log page update themselves (requests made by curl from the client's
namespace), clicks Expire now and finds the share in the history, and checks what must be refused
(and audited) or escaped.
test_admin.py checks the same interface request by request; this file checks what only a browser
shows: cookies, forms, the page's own script, what a page renders and runs.

Each page the interface has gets a screenshot (docs/screenshots with VSHARE_SCREENSHOTS=1).
A new page: one line in PAGES (signed-out redirect, works without JavaScript, screenshot); a test
of what it does: `sign_in_ok(page, token)`, `page.goto(ADMIN_URL + path)`, then read and click.
"""
from __future__ import annotations

import json
import os
import re
import socket

import pytest

import browser as B
import topology as T
import vshare as V

ADMIN = ("127.0.0.1", 7444)
ADMIN_URL = "http://%s:%d" % ADMIN
WEB_EXPIRED_RE = r"The share %s was expired from the web interface\."
# Every page a signed-in user can open: name (of its screenshot) -> path and a selector the page
# must show. A new page is one more line here; its own behaviour gets its own test below.
PAGES = {"live-shares": ("/", "#shares"), "history": ("/history", "#history"), "audit": ("/audit", "#audit"),
         "share-log": ("/shares/{share}", "#log")}


@pytest.fixture(scope="module")
def relay(topo, tmp_path_factory, vm_server):
    """This module's relay, with the web interface on its default address (no --admin)."""
    r = V.start_relay(topo, str(tmp_path_factory.mktemp("relay-data")), admin=None)
    yield r
    r.proc.stop()


def screenshot(topo, page: B.Page, name: str) -> None:
    page.screenshot(os.path.join(B.screenshot_dir(topo.log_dir), name + ".png"))


def row(name: str) -> str:
    return 'tr[data-share="%s"]' % name


def sign_in(page: B.Page, token: str) -> None:
    """Through the login form, as a person would: type the token, press Sign in."""
    page.goto(ADMIN_URL + "/login")
    page.type("input[name=token]", token)
    page.click("button[type=submit]")


def sign_in_ok(page: B.Page, token: str) -> None:
    sign_in(page, token)
    page.wait_for("location.pathname === '/' && !!document.getElementById('shares')", what="live shares page")


def add_user(topo, relay, name: str) -> str:
    r = topo.relay.run([V.vshare_bin(), "relay", "user", "add", name, "--data-dir", relay.data_dir], timeout=20)
    assert r.returncode == 0, r.stderr.decode()
    return re.search(r"token \(shown only now\): ([0-9a-f]{64})", r.stdout.decode()).group(1)


def test_sign_in_through_the_form_shows_the_live_share(topo, relay, share, page):
    page.goto(ADMIN_URL + "/")
    page.wait_for("location.pathname === '/login'", what="signed out: redirected to the login page")
    screenshot(topo, page, "login")
    sign_in_ok(page, relay.token)
    page.wait_for("!!document.querySelector(%s)" % json.dumps(row(share.name)), what="the share's row")
    text = page.text(row(share.name))
    assert share.url in text and "admin" in text and "Expire now" in text, text
    assert page.eval("document.cookie") == "", "the session cookie is HttpOnly: no script can read it"


def test_a_bad_token_is_refused(topo, relay, page):
    sign_in(page, "0" * 64)
    page.wait_for("document.body.innerText.indexOf('That token is not valid.') >= 0", what="the refusal")
    assert page.eval("location.pathname") == "/login"
    screenshot(topo, page, "login-refused")
    page.goto(ADMIN_URL + "/")
    page.wait_for("location.pathname === '/login'", what="still signed out")
    sign_in_ok(page, relay.token)
    page.goto(ADMIN_URL + "/audit")
    page.wait_for("/login\\.failed/.test(document.getElementById('audit').innerText)", what="the refusal in the audit trail")
    screenshot(topo, page, "audit")


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_page_needs_a_session_and_works_without_javascript(topo, relay, share, page, name):
    path, selector = PAGES[name]
    path = path.format(share=share.name)
    page.goto(ADMIN_URL + path)
    page.wait_for("location.pathname === '/login'", what="signed out: redirected to sign in")
    page.disable_javascript()
    sign_in_ok(page, relay.token)  # a plain form post
    page.goto(ADMIN_URL + path)
    page.wait_for("!!document.querySelector(%s)" % json.dumps(selector), what=name)
    screenshot(topo, page, name)


def test_expire_now_works_without_javascript(topo, relay, share, new_share, page):
    s = new_share()
    page.disable_javascript()
    sign_in_ok(page, relay.token)
    page.click(row(s.name) + " button")
    page.wait_for("location.pathname === '/' && !document.querySelector(%s)" % json.dumps(row(s.name)),
                  what="the page again, without the expired share")
    V.wait_status(topo, s.host, s.port, 404, within=2.0)
    assert s.proc.wait(timeout=5) == 0, s.proc.describe()


def test_the_page_updates_itself(topo, relay, share, new_share, page):
    """The page's script polls the API: a new share shows up and an ended one goes away, with no
    click and no navigation by us."""
    sign_in_ok(page, relay.token)
    s = new_share()
    page.wait_for("!!document.querySelector(%s)" % json.dumps(row(s.name)), timeout=8, what="the new share's row")
    page.eval("window.stayed = true")  # gone if the page reloads
    assert V.stop(s.proc) == 0
    page.wait_for("!document.querySelector(%s)" % json.dumps(row(s.name)), timeout=8, what="the ended share's row gone")
    assert page.eval("window.stayed === true"), "an ended share is dropped in place, not by a reload"
    assert page.eval("!!document.querySelector(%s)" % json.dumps(row(share.name)))


def test_expire_now_ends_the_share(topo, relay, share, new_share, page):
    s = new_share()
    sign_in_ok(page, relay.token)
    page.click(row(s.name) + " button")
    page.wait_for("location.pathname === '/' && !document.querySelector(%s)" % json.dumps(row(s.name)),
                  what="back on the live shares, without the expired one")
    V.wait_status(topo, s.host, s.port, 404, within=2.0)
    s.proc.wait_line(WEB_EXPIRED_RE % re.escape(s.name), timeout=5)
    assert s.proc.wait(timeout=5) == 0, s.proc.describe()
    assert V.client_get(topo, share.host, share.port)[0] == 200, "only that share ended"
    page.click("nav a[href='/history']")
    ended = page.wait_for("(function (a) { return a && a.closest('tr').innerText; })"
                          "(document.querySelector('#history a[href=\\'/shares/%s\\']'))" % s.name, what="the share in the history")
    assert "expired from the web interface" in ended, ended
    screenshot(topo, page, "history")


def test_a_form_without_its_csrf_token_is_refused(topo, relay, share, page):
    """The Expire now form posted without its hidden token (as another site's form would be)."""
    sign_in_ok(page, relay.token)
    page.eval("document.querySelector(%s).remove()" % json.dumps(row(share.name) + " input[name=csrf]"))
    page.click(row(share.name) + " button")
    page.wait_for("(document.querySelector('h1') || {}).innerText === '403 Forbidden'",
                  what="the refusal page")
    assert "missing its security token" in page.text()
    screenshot(topo, page, "csrf-refused")
    assert V.client_get(topo, share.host, share.port)[0] == 200, "the share must still be live"


@pytest.mark.parametrize("markup", ["<img src=x onerror=alert(1)>", "<img src=x onerror=window.pwned=1>"])
def test_markup_in_a_path_is_shown_as_text_and_runs_nothing(topo, relay, page, markup):
    page.goto(ADMIN_URL + "/" + markup)
    page.wait_for("!!document.querySelector('h1')", what="the 404 page")
    assert "/" + markup in page.text(), "the path is shown, as text"
    assert page.eval("document.images.length") == 0, "no <img> element was made from the path"
    assert page.eval("typeof window.pwned") == "undefined"
    assert page.dialogs() == [], "no alert opened"
    if "alert" in markup:
        screenshot(topo, page, "not-found-with-markup")


def test_another_user_sees_none_of_the_first_users_shares(topo, relay, share, new_share, browser):
    bob_token = add_user(topo, relay, "bob")
    bobs = new_share(token=bob_token)
    bob = browser.new_page()  # its own cookie jar
    try:
        sign_in_ok(bob, bob_token)
        bob.wait_for("!!document.querySelector(%s)" % json.dumps(row(bobs.name)), what="bob's own share")
        assert share.name not in bob.text(), "bob sees nothing of admin's shares"
        assert bob.eval("document.querySelectorAll('tr[data-share]').length") == 1
        # The API from the page, with bob's cookie and his CSRF token: another user's share is 403.
        status = bob.eval("fetch('/api/shares/%s/expire', {method: 'POST', headers: {'X-CSRF-Token':"
                          " document.querySelector('input[name=csrf]').value}}).then(function (r) { return r.status; })"
                          % share.name)
        assert status == 403
        # The form: bob's own Expire now form aimed at admin's share.
        bob.eval("document.querySelector(%s).action = '/shares/%s/expire'" % (json.dumps(row(bobs.name) + " form"), share.name))
        bob.click(row(bobs.name) + " button")
        bob.wait_for("(document.querySelector('h1') || {}).innerText === '403 Forbidden'",
                     what="the refusal page")
        assert "another user's" in bob.text()
        # Nor can he read admin's share's log, or the audit trail (admin's alone).
        for path in ("/shares/" + share.name, "/audit"):
            bob.goto(ADMIN_URL + path)
            bob.wait_for("(document.querySelector('h1') || {}).innerText === '403 Forbidden'", what=path + " refused")
    finally:
        bob.close()
    assert V.client_get(topo, share.host, share.port)[0] == 200, "admin's share is still live"
    assert bobs.proc.poll() is None, "and bob's too"


def curl(topo, share: V.Share, path: str) -> None:
    """One request through the share's URL, made by curl in the client's namespace."""
    r = topo.client.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-A", "browser-test",
                         *V.curl_args(share), share.url + path], timeout=15, text=True)
    assert r.returncode == 0 and r.stdout == "200", (r.returncode, r.stdout, r.stderr)


def log_text(page: B.Page) -> str:
    return page.text("#log tbody")


def test_requests_appear_in_the_open_log_page_without_a_reload(topo, relay, share, page):
    sign_in_ok(page, relay.token)
    page.click(row(share.name) + " a[href='/shares/%s']" % share.name)
    page.wait_for("!!document.getElementById('log')", what="the share's log page")
    page.eval("window.stayed = true")  # gone if the page reloads
    paths = ["/?browser-%d" % i for i in range(3)]
    for path in paths:
        curl(topo, share, path)
    page.wait_for("(function (t) { return %s.every(function (p) { return t.indexOf(p) >= 0; }); })"
                  "(document.querySelector('#log tbody').innerText)" % json.dumps(paths), timeout=8,
                  what="the three requests in the log")
    assert page.eval("window.stayed === true"), "the rows came without a reload"
    text = log_text(page)
    assert "browser-test" in text and "GET" in text and T.CLIENT_IP in text, text
    screenshot(topo, page, "share-log")


def test_a_download_the_client_abandons_is_noted_in_the_open_log_page(topo, relay, share, page):
    """The row the page's script adds says the client cut the response short (the API's `aborted`),
    in the column a refusal is shown in."""
    sign_in_ok(page, relay.token)
    page.goto(ADMIN_URL + "/shares/" + share.name)
    page.wait_for("!!document.getElementById('log')", what="the share's log page")
    target = "/big?size=%d" % (200 << 20)

    def abandon():
        s = socket.create_connection((T.RELAY_CLIENT_SIDE_IP, share.port), timeout=10)
        s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (target, share.host_header)).encode())
        got = 0
        while got < 1 << 20:
            got += len(s.recv(65536))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()   # an RST: the browser went away mid-body
    topo.client.call(abandon, timeout=30)
    page.wait_for("Array.prototype.some.call(document.querySelectorAll('#log tbody tr.new'), function (tr) {"
                  " return tr.cells[3].textContent === %s && tr.cells[tr.cells.length - 1].textContent === 'aborted by the client'; })"
                  % json.dumps(target), timeout=8, what="the abandoned download's row, noted")
    assert page.text("#log thead").split()[-1] == "Note", page.text("#log thead")


@pytest.mark.parametrize("markup", ["/<img/src=x/onerror=alert(1)>", "/<img/src=x/onerror=window.pwned=1>"])
def test_markup_in_a_logged_path_is_shown_as_text_and_runs_nothing(topo, relay, share, page, markup):
    """Through the share, so the path is a row of its log: once rendered by the server (sent before
    the page opens), once added by the page's script (sent while it is open)."""
    V.client_get(topo, share.host, share.port, markup + "?before")  # raw in the request line
    sign_in_ok(page, relay.token)
    page.goto(ADMIN_URL + "/shares/" + share.name)
    page.wait_for("document.querySelector('#log tbody').innerText.indexOf(%s) >= 0" % json.dumps(markup + "?before"),
                  what="the server-rendered row")
    V.client_get(topo, share.host, share.port, markup + "?live")
    page.wait_for("document.querySelector('#log tbody').innerText.indexOf(%s) >= 0" % json.dumps(markup + "?live"),
                  timeout=8, what="the row the script added")
    assert page.eval("document.images.length") == 0, "no <img> element was made from a path"
    assert page.eval("typeof window.pwned") == "undefined"
    assert page.dialogs() == [], "no alert opened"
