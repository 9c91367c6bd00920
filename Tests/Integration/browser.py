"""A real browser for the integration tests: headless Chromium (Debian's `chromium`) driven over
the DevTools protocol on a pipe, with the standard library only.

Why a pipe and not Selenium or a DevTools port: the browser must run inside a test network
namespace (the web interface listens on 127.0.0.1 *there*). Selenium talks HTTP to chromedriver,
which talks to Chromium on a TCP port, so all three would have to share that namespace and the
test process would need a way in. With `--remote-debugging-pipe` Chromium reads commands on fd 3
and writes answers on fd 4 (JSON, each message ended by a NUL byte): no port, no namespace to
cross, nothing to install from PyPI.

    with Browser(topo.relay, profile_dir) as browser:
        page = browser.new_page()              # its own cookie jar (a browser context)
        page.goto("http://127.0.0.1:7444/login")
        page.type("input[name=token]", token); page.click("button[type=submit]")
        page.wait_for("location.pathname === '/'")
"""
from __future__ import annotations

import base64
import fcntl
import itertools
import json
import os
import shutil
import subprocess
import threading
import time
from concurrent.futures import Future

import topology as T

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")


def screenshot_dir(fallback: str) -> str:
    """Where tests save their screenshots: docs/screenshots with VSHARE_SCREENSHOTS=1 (to refresh
    the committed ones), else `fallback` (the run's log directory), so a plain run leaves the
    work tree clean (share names and countdowns differ on every run)."""
    if os.environ.get("VSHARE_SCREENSHOTS", "") in ("1", "true", "yes"):
        here = os.path.dirname(os.path.abspath(__file__))
        return os.path.join(here, "..", "..", "docs", "screenshots")
    return fallback


def find_chromium() -> str | None:
    for name in CHROMIUM:
        path = shutil.which(name)
        if path:
            return path
    return None


class BrowserError(AssertionError):
    """A DevTools command failed, or a page did not reach the state a test waited for."""


class Browser:
    """One Chromium process in `netns`, and the pipe to it."""

    def __init__(self, netns: T.Netns, profile_dir: str, binary: str, timeout: float = 10):
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._pending: dict[int, Future] = {}
        self._events: list[dict] = []
        self._cond = threading.Condition()
        # Our ends stay in this process; the browser's ends land on fds 3 and 4 in the child.
        to_browser_r, self._out = os.pipe()
        self._in, from_browser_w = os.pipe()
        # High, close-on-exec copies so dup2 onto 3 and 4 in the child never clobbers one another.
        child_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD_CLOEXEC, 10)
        child_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD_CLOEXEC, 10)
        os.close(to_browser_r)
        os.close(from_browser_w)
        argv = [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
                "--user-data-dir=" + profile_dir, "--window-size=1280,800", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--password-store=basic", "about:blank"]
        popen = subprocess.Popen(netns.argv(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, start_new_session=True,
                                 # close_fds would close 3 and 4 after preexec_fn; every other fd
                                 # of ours is close-on-exec already (Python's default).
                                 close_fds=False, preexec_fn=lambda: (os.dup2(child_r, 3), os.dup2(child_w, 4)))
        os.close(child_r)
        os.close(child_w)
        self.proc = T.Proc("chromium", argv, popen, netns.topo.log_dir if netns.topo else None)
        if netns.topo:
            netns.topo.procs.append(self.proc)
        threading.Thread(target=self._reader, name="devtools-reader", daemon=True).start()
        self.version = self.send("Browser.getVersion")["product"]

    # --- the pipe ---------------------------------------------------------
    def _reader(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._in, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buf += chunk
            *messages, buf = buf.split(b"\0")
            for raw in messages:
                msg = json.loads(raw)
                if "id" in msg:
                    fut = self._pending.pop(msg["id"], None)
                    if fut is not None:
                        fut.set_result(msg)
                else:
                    with self._cond:
                        self._events.append(msg)
                        self._cond.notify_all()
        for fut in list(self._pending.values()):  # the browser is gone: wake every waiter
            fut.set_result({"error": {"message": "the browser closed its pipe"}})

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float | None = None) -> dict:
        msg_id = next(self._ids)
        fut: Future = Future()
        self._pending[msg_id] = fut
        msg = {"id": msg_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._out, json.dumps(msg).encode() + b"\0")
        try:
            reply = fut.result(timeout or self.timeout)
        except TimeoutError:
            raise BrowserError("%s got no answer\n%s" % (method, self.proc.describe())) from None
        if "error" in reply:
            raise BrowserError("%s: %s" % (method, reply["error"].get("message")))
        return reply["result"]

    def events(self, method: str, session: str | None = None) -> list[dict]:
        with self._cond:
            return [e["params"] for e in self._events
                    if e.get("method") == method and (session is None or e.get("sessionId") == session)]

    # --- pages and lifetime -----------------------------------------------
    def new_page(self) -> "Page":
        """A tab in a fresh browser context: its own cookies, so two users can be signed in at once."""
        context = self.send("Target.createBrowserContext")["browserContextId"]
        target = self.send("Target.createTarget", {"url": "about:blank", "browserContextId": context})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session, target, context)
        for domain in ("Page.enable", "Runtime.enable"):
            self.send(domain, session=session)
        return page

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=3)
        except (BrowserError, OSError):
            pass
        self.proc.stop(timeout=3)
        for fd in (self._out, self._in):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Page:
    """One tab: navigate, read and act on it the way a user would (real clicks and typing)."""

    def __init__(self, browser: Browser, session: str, target: str, context: str):
        self.browser = browser
        self.session = session
        self.target = target
        self.context = context

    def close(self) -> None:
        """Close the tab and drop its context (its cookies with it)."""
        try:
            self.browser.send("Target.closeTarget", {"targetId": self.target})
            self.browser.send("Target.disposeBrowserContext", {"browserContextId": self.context})
        except (BrowserError, OSError):
            pass

    def send(self, method: str, params: dict | None = None) -> dict:
        return self.browser.send(method, params, session=self.session)

    def eval(self, expression: str):
        """The value of a JavaScript expression in the page (promises awaited). DevTools runs it
        outside the page's Content-Security-Policy, so tests can look at anything."""
        r = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in r:
            raise BrowserError("%s threw: %s" % (expression, r["exceptionDetails"].get("exception", {}).get("description")))
        return r["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 10, what: str = ""):
        """Poll until `expression` is truthy (across navigations); return its value."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            try:
                value = self.eval(expression)
                if value:
                    return value
                last = value
            except BrowserError as e:  # e.g. the page navigated while we asked
                last = e
            if time.monotonic() > deadline:
                # An open alert blocks the page's scripts (and so every evaluation): say so.
                raise BrowserError("%s: %r not true within %gs (last: %s; at %s; dialogs: %s)"
                                   % (what or "page", expression, timeout, last, self.url(), self.dialogs()))
            time.sleep(0.1)

    def url(self) -> str:
        try:
            return self.eval("location.href")
        except BrowserError:
            return "?"

    def goto(self, url: str) -> None:
        r = self.send("Page.navigate", {"url": url})
        if r.get("errorText"):
            raise BrowserError("navigating to %s: %s" % (url, r["errorText"]))
        self.wait_loaded()

    def wait_loaded(self, timeout: float = 10) -> None:
        self.wait_for("document.readyState === 'complete'", timeout, "load")

    def text(self, selector: str = "body") -> str:
        return self.eval("(document.querySelector(%s) || {}).innerText || ''" % json.dumps(selector))

    def _center(self, selector: str) -> tuple[float, float]:
        """The element's middle, once nothing covers it there: a click computed while the page
        still lays out (its stylesheet arriving) would land on whatever moved into that spot."""
        box = self.wait_for("(function (e) { if (!e || document.readyState !== 'complete') return null;"
                            " e.scrollIntoView({block: 'center'}); var r = e.getBoundingClientRect();"
                            " var x = r.x + r.width / 2, y = r.y + r.height / 2, hit = document.elementFromPoint(x, y);"
                            " return hit && (hit === e || e.contains(hit)) ? [x, y] : null; })(document.querySelector(%s))"
                            % json.dumps(selector), what="visible " + selector)
        return box[0], box[1]

    def click(self, selector: str) -> None:
        """A real mouse click in the middle of the element (so it must be visible)."""
        x, y = self._center(selector)
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})

    def type(self, selector: str, text: str) -> None:
        """Focus the field with a click, then type into it as a keyboard would."""
        self.click(selector)
        self.send("Input.insertText", {"text": text})

    def disable_javascript(self) -> None:
        self.send("Emulation.setScriptExecutionDisabled", {"value": True})

    def dialogs(self) -> list[dict]:
        """Every alert/confirm/prompt the page tried to open."""
        return self.browser.events("Page.javascriptDialogOpening", self.session)

    def screenshot(self, path: str) -> None:
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
