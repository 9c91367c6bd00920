"""The relay's web interface in a real browser (issue 10): headless Chromium in the relay's
namespace (fixtures `browser` and `page`, see browser.py) signs in through the form, watches the
live-shares page update itself, clicks Expire now, and checks what must be refused or escaped.
test_admin.py checks the same interface request by request; this file checks what only a browser
shows: cookies, forms, the page's own script, what a page renders and runs.

Each page the interface has gets a screenshot (docs/screenshots with VSHARE_SCREENSHOTS=1).
A new page's test: sign in with `sign_in`, `page.goto(ADMIN_URL + path)`, then read it.
"""
from __future__ import annotations

import json
import os
import re

import pytest

import browser as B
import topology as T
import vshare as V

ADMIN = ("127.0.0.1", 7444)
ADMIN_URL = "http://%s:%d" % ADMIN
WEB_EXPIRED_RE = r"The share %s was expired from the web interface\."
# Every page a signed-in user can open: name (of its screenshot) -> path and a selector the page
# must show. A new page is one more line here; its own behaviour gets its own test below.
PAGES = {"live-shares": ("/", "#shares")}


@pytest.fixture(scope="module")
def relay(topo, tmp_path_factory, vm_server):
    """This module's relay, with the web interface on its default address (no --admin)."""
    r = V.start_relay(topo, str(tmp_path_factory.mktemp("relay-data")), admin=None)
    topo.relay.wait_tcp(ADMIN, timeout=10, proc=r.proc)
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


@pytest.mark.parametrize("name", sorted(PAGES))
def test_each_page_needs_a_session_and_works_without_javascript(topo, relay, share, page, name):
    path, selector = PAGES[name]
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
    finally:
        bob.close()
    assert V.client_get(topo, share.host, share.port)[0] == 200, "admin's share is still live"
    assert bobs.proc.poll() is None, "and bob's too"
