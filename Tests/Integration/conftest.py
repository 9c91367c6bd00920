"""Fixtures for the vshare integration tests: one Topology (4 netns), the vm's
web server, a relay and a share per test module. See topology.py and vshare.py."""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import browser as B  # noqa: E402
import topology as T  # noqa: E402
import vshare as V  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
VM_SERVER = os.path.join(HERE, "servers", "vm_server.py")
VM_HTTP_PORT = 8000
TEST_TIMEOUT = float(os.environ.get("VSHARE_TEST_TIMEOUT", "120"))

atexit.register(T.close_all_live)


def _on_sigterm(signum, frame):
    # Turn SIGTERM into an exception so fixtures' finally blocks tear everything down.
    raise KeyboardInterrupt("SIGTERM")


def pytest_configure(config):
    signal.signal(signal.SIGTERM, _on_sigterm)
    # Started in the background by a shell (`... &`, nohup), this process inherits SIGINT ignored,
    # and so would every vshare it starts: the tests' Ctrl-C (SIGINT) would then not reach them.
    # A handled signal is reset to its default in children at exec, so handle it here.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    config.addinivalue_line("markers", "timeout(seconds): per-test time limit (default %g s)" % TEST_TIMEOUT)


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session", autouse=True)
def require_root():
    """Namespaces need root. Under CI a non-root run FAILS; locally it skips with a reason."""
    missing = [t for t in ("ip", "curl", "openssl") if shutil.which(t) is None]
    if missing:
        pytest.fail("missing tools: %s (run scripts/install-deps)" % ", ".join(missing))
    if os.geteuid() != 0:
        msg = "integration tests need root (network namespaces)"
        if _in_ci():
            pytest.fail(msg + "; CI=true, so this is a failure, not a skip")
        pytest.skip(msg)


# --- per-test time limit (SIGALRM in the main thread) ------------------------

class TestTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise TestTimeout("test exceeded its time limit")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    m = item.get_closest_marker("timeout")
    limit = float(m.args[0]) if m else TEST_TIMEOUT
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach the output of every process the topology started."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        topo = getattr(item, "funcargs", {}).get("topo")
        if isinstance(topo, T.Topology) and topo.procs:
            rep.sections.append(("vshare processes", topo.describe_procs()))
            if topo.log_dir:
                rep.sections.append(("logs", "full logs in " + topo.log_dir))


# --- fixtures -----------------------------------------------------------------

@pytest.fixture(scope="module")
def topo(tmp_path_factory, require_root):
    log_dir = str(tmp_path_factory.mktemp("logs"))
    with T.Topology(log_dir=log_dir) as t:
        yield t


@pytest.fixture(scope="module")
def vm_server(topo):
    """The shared machine's web server on 10.201.1.2:8000 in the vm netns."""
    proc = topo.vm.popen([sys.executable, "-u", VM_SERVER, "--host", T.VM_IP, "--port", str(VM_HTTP_PORT)],
                         name="vm-server")
    proc.wait_line(r"^READY ", timeout=10)
    topo.share_host.wait_tcp((T.VM_IP, VM_HTTP_PORT), timeout=5, proc=proc)
    yield proc
    proc.stop()


@pytest.fixture
def second_client_ip(topo):
    """A second address of the client netns (same link to the relay), for tests that need two
    clients the relay tells apart; removed after the test."""
    address = "10.201.3.3"
    topo.client.ip("addr", "add", address + "/24", "dev", "eth-relay")
    yield address
    topo.client.ip("addr", "del", address + "/24", "dev", "eth-relay")


@pytest.fixture(scope="module")
def relay(topo, tmp_path_factory, vm_server):
    r = V.start_relay(topo, str(tmp_path_factory.mktemp("relay-data")))
    yield r
    r.proc.stop()


@pytest.fixture(scope="module")
def module_share(topo, relay, vm_server):
    s = V.start_share(topo, relay)
    yield s
    s.proc.stop()


@pytest.fixture
def share(module_share, relay):
    """The module's share, checked alive before each test (so one crash is reported as such)."""
    for p in (relay.proc, module_share.proc):
        if p.poll() is not None:
            pytest.fail("%s exited (status %d) during an earlier test\n%s" % (p.name, p.poll(), p.describe()))
    return module_share


@pytest.fixture
def new_share(topo, relay, vm_server):
    """Factory for extra shares within a test; all are stopped at the end of the test."""
    made = []

    def make(**kw) -> V.Share:
        s = V.start_share(topo, relay, name="share-%d" % (len(made) + 2), **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.proc.stop()


@pytest.fixture(scope="module")
def browser(topo, tmp_path_factory):
    """Headless Chromium inside the relay's namespace (where the web interface listens on
    127.0.0.1). No Chromium: skip locally, FAIL under CI (scripts/install-deps installs it)."""
    binary = B.find_chromium()
    if binary is None:
        msg = "no chromium on PATH (scripts/install-deps installs Debian's chromium)"
        if _in_ci():
            pytest.fail(msg + "; CI=true, so this is a failure, not a skip")
        pytest.skip(msg)
    with B.Browser(topo.relay, str(tmp_path_factory.mktemp("chromium-profile")), binary) as b:
        yield b


@pytest.fixture
def page(browser):
    """A fresh tab with its own cookies (signed out), closed after the test."""
    p = browser.new_page()
    yield p
    p.close()
