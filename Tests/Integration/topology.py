"""Network namespaces, veth pairs and processes for the integration tests.

    with Topology() as topo:
        topo.vm.popen([...])                      # a process inside the vm netns
        topo.client.run(["curl", ...])            # run to completion, with a timeout
        s = topo.client.create_connection(addr)   # a socket that lives in the client netns

Layout (no forwarding, no default routes: each netns reaches only its neighbours):

    vm 10.201.1.2/24 --- 10.201.1.1/24 share-host 10.201.2.1/24 --- 10.201.2.2/24 relay
                                                     client 10.201.3.1/24 --- 10.201.3.2/24 relay

Names are `vs-<suffix>-<role>` with a random suffix per Topology, so parallel
runs never collide; interfaces are created directly inside their namespaces, so
nothing ever appears in (or is routed from) the host's own namespace.
Everything is torn down on exit, even when the body raised.
"""
from __future__ import annotations

import concurrent.futures
import ctypes
import os
import re
import secrets
import signal
import socket
import subprocess
import threading
import time
from collections import deque
from typing import Callable, Sequence

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)

VM_IP = "10.201.1.2"
SHARE_VM_SIDE_IP = "10.201.1.1"
SHARE_RELAY_SIDE_IP = "10.201.2.1"
RELAY_SHARE_SIDE_IP = "10.201.2.2"
CLIENT_IP = "10.201.3.1"
RELAY_CLIENT_SIDE_IP = "10.201.3.2"

PREFIX = "vs-"


def _ip(*args: str, check: bool = True, timeout: float = 15) -> subprocess.CompletedProcess:
    r = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError("ip %s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return r


_tls = threading.local()


def _enter_netns(path: str) -> None:
    """Thread initializer: move the calling thread (only) into a network namespace."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns(%s): %s" % (path, os.strerror(err)))
    finally:
        os.close(fd)
    _tls.netns = path


class Proc:
    """A process started in a namespace, its output collected by reader threads.

    stdout and stderr are kept line by line in memory (bounded) and appended to
    log files under `log_dir`; `lines` holds both in the order they were read.
    vshare writes its status lines (`==> default: ...`) to stderr whenever
    stdout is not a terminal, as here, and its data (access log, listings) to
    stdout, so tests look for status lines in `output` (both streams) unless
    they mean one stream. The process leads its own process group, so stopping
    it never touches anything else.
    """

    def __init__(self, name: str, argv: Sequence[str], popen: subprocess.Popen, log_dir: str | None):
        self.name = name
        self.argv = list(argv)
        self.popen = popen
        self.pid = popen.pid
        self.stdout_lines: list[str] = []
        self.stderr_lines: deque[str] = deque(maxlen=5000)
        self.lines: list[str] = []   # both streams, in the order read (the reader threads race by a line at most)
        self._cond = threading.Condition()
        self._eof = {"stdout": False, "stderr": False}
        self._logs = {}
        for stream in ("stdout", "stderr"):
            path = os.path.join(log_dir, "%s.%d.%s.log" % (name, self.pid, stream)) if log_dir else None
            self._logs[stream] = path
            t = threading.Thread(target=self._reader, args=(stream, getattr(popen, stream), path),
                                 name="reader-%s-%s" % (name, stream), daemon=True)
            t.start()

    def _reader(self, stream: str, f, path: str | None) -> None:
        log = open(path, "a", buffering=1) if path else None
        try:
            for raw in iter(f.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if log:
                    log.write("%.3f %s\n" % (time.time(), line))
                with self._cond:
                    if stream == "stdout":
                        if len(self.stdout_lines) < 200000:
                            self.stdout_lines.append(line)
                    else:
                        self.stderr_lines.append(line)
                    if len(self.lines) < 200000:
                        self.lines.append(line)
                    self._cond.notify_all()
        except (OSError, ValueError):
            pass
        finally:
            with self._cond:
                self._eof[stream] = True
                self._cond.notify_all()
            if log:
                log.close()

    # --- output -----------------------------------------------------------
    @property
    def stdout(self) -> str:
        with self._cond:
            return "\n".join(self.stdout_lines)

    @property
    def stderr(self) -> str:
        with self._cond:
            return "\n".join(self.stderr_lines)

    @property
    def output(self) -> str:
        """Both streams, as one text."""
        with self._cond:
            return "\n".join(self.lines)

    def output_since(self, start: int) -> list[str]:
        """Lines of both streams from index `start` (a `line_count()` taken earlier)."""
        with self._cond:
            return self.lines[start:]

    def describe(self, tail: int = 40) -> str:
        with self._cond:
            out = self.stdout_lines[-tail:]
            err = list(self.stderr_lines)[-tail:]
        rc = self.popen.poll()
        return ("--- %s (pid %d, %s) %s\n--- stdout (last %d lines):\n%s\n--- stderr (last %d lines):\n%s"
                % (self.name, self.pid, "running" if rc is None else "exit status %d" % rc,
                   " ".join(self.argv), tail, "\n".join(out), tail, "\n".join(err)))

    def wait_line(self, pattern: str | re.Pattern, timeout: float, start: int = 0,
                  stream: str = "output", hint: str = "") -> re.Match:
        """Wait until a line (at index >= start) of `stream` ("output": both
        streams, "stdout" or "stderr") matches `pattern`; return the match.
        Fails (AssertionError with the process's output) on timeout, or once the
        stream has ended without a match."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self._cond:
            i = start
            while True:
                lines = (self.lines if stream == "output" else self.stdout_lines if stream == "stdout"
                         else list(self.stderr_lines))
                while i < len(lines):
                    m = rx.search(lines[i])
                    if m:
                        return m
                    i += 1
                if all(self._eof.values()) if stream == "output" else self._eof[stream]:
                    raise AssertionError("%s: %s ended without a line matching %r %s\n%s"
                                         % (self.name, stream, rx.pattern, hint, self.describe()))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("%s: no %s line matching %r within %.1fs %s\n%s"
                                         % (self.name, stream, rx.pattern, timeout, hint, self.describe()))
                self._cond.wait(min(left, 0.2))

    def line_count(self) -> int:
        """How many lines of both streams so far: a `start` for `wait_line`."""
        with self._cond:
            return len(self.lines)

    # --- lifetime ---------------------------------------------------------
    def poll(self) -> int | None:
        return self.popen.poll()

    @property
    def returncode(self) -> int | None:
        return self.popen.poll()

    def wait(self, timeout: float) -> int:
        """Wait for exit (and for the output to be fully read); fail on timeout."""
        try:
            rc = self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("%s did not exit within %.1fs\n%s" % (self.name, timeout, self.describe()))
        with self._cond:
            self._cond.wait_for(lambda: all(self._eof.values()), timeout=5)
        return rc

    def signal(self, sig: int) -> None:
        if self.popen.poll() is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM the process group, then SIGKILL it after `timeout`. Idempotent."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left in the group (children), and the leader if it ignored SIGTERM.
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        return self.popen.poll()


class Netns:
    """One network namespace we created."""

    def __init__(self, name: str, topo: "Topology | None" = None):
        self.name = name
        self.path = "/var/run/netns/" + name
        self.topo = topo
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def __repr__(self) -> str:
        return "Netns(%s)" % self.name

    def create(self) -> None:
        if os.path.exists(self.path):  # a leftover with our exact (random) name
            _ip("netns", "del", self.name, check=False)
        _ip("netns", "add", self.name)
        self.ip("link", "set", "lo", "up")
        self.sysctl("net.ipv4.ip_forward", "0")

    def ip(self, *args: str) -> None:
        _ip("-n", self.name, *args)

    def sysctl(self, key: str, value: str) -> None:
        self.run(["sysctl", "-q", "-w", "%s=%s" % (key, value)], check=True, timeout=10)

    def argv(self, cmd: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *cmd]

    def run(self, cmd: Sequence[str], timeout: float = 30, check: bool = False, **kw) -> subprocess.CompletedProcess:
        """Run a command in this namespace to completion (output captured)."""
        kw.setdefault("capture_output", True)
        r = subprocess.run(self.argv(cmd), timeout=timeout, **kw)
        if check and r.returncode != 0:
            raise AssertionError("in %s: %s failed (%d): %s" % (self.name, " ".join(cmd), r.returncode, r.stderr))
        return r

    def popen(self, cmd: Sequence[str], name: str | None = None, env: dict | None = None,
              stdin=subprocess.DEVNULL) -> Proc:
        """Start a long-running process in this namespace (its own process group)."""
        p = subprocess.Popen(self.argv(cmd), stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True, env=env)
        proc = Proc(name or os.path.basename(cmd[0]), cmd, p, self.topo.log_dir if self.topo else None)
        if self.topo:
            self.topo.procs.append(proc)
        return proc

    # --- in-process networking inside the namespace -----------------------
    def _executor(self) -> concurrent.futures.ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = concurrent.futures.ThreadPoolExecutor(
                    max_workers=160, thread_name_prefix="netns-" + self.name,
                    initializer=_enter_netns, initargs=(self.path,))
            return self._pool

    def submit(self, fn: Callable, *args, **kw) -> concurrent.futures.Future:
        """Run fn in a thread that lives in this namespace (sockets it creates stay there)."""
        return self._executor().submit(fn, *args, **kw)

    def call(self, fn: Callable, *args, timeout: float = 60, **kw):
        if getattr(_tls, "netns", None) == self.path:  # already on one of our threads in this netns
            return fn(*args, **kw)
        return self.submit(fn, *args, **kw).result(timeout=timeout)

    def create_connection(self, addr: tuple[str, int], timeout: float = 10) -> socket.socket:
        """A TCP socket connected from inside this namespace."""
        return self.call(socket.create_connection, addr, timeout, timeout=timeout + 5)

    def can_connect(self, addr: tuple[str, int], timeout: float = 1.0) -> bool:
        try:
            s = self.create_connection(addr, timeout=timeout)
        except (OSError, concurrent.futures.TimeoutError):
            return False
        s.close()
        return True

    def wait_tcp(self, addr: tuple[str, int], timeout: float, proc: Proc | None = None) -> None:
        """Poll TCP connect to addr from this namespace until it succeeds."""
        deadline = time.monotonic() + timeout
        while True:
            if self.can_connect(addr, timeout=1.0):
                return
            if proc is not None and proc.poll() is not None:
                proc.wait(5)
                raise AssertionError("%s exited while waiting for %s:%d to accept\n%s"
                                     % (proc.name, addr[0], addr[1], proc.describe()))
            if time.monotonic() > deadline:
                raise AssertionError("%s:%d not accepting from %s within %.1fs%s"
                                     % (addr[0], addr[1], self.name, timeout,
                                        ("\n" + proc.describe()) if proc else ""))
            time.sleep(0.1)

    # --- teardown ---------------------------------------------------------
    def kill_all(self) -> None:
        """SIGKILL any process still in this namespace (all started by this harness)."""
        r = _ip("netns", "pids", self.name, check=False)
        for tok in r.stdout.split():
            try:
                os.kill(int(tok), signal.SIGKILL)
            except (ValueError, ProcessLookupError):
                pass

    def delete(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
        if os.path.exists(self.path):
            self.kill_all()
            _ip("netns", "del", self.name, check=False)


def _veth(a: Netns, a_if: str, a_addr: str, b: Netns, b_if: str, b_addr: str) -> None:
    # Both ends are created directly inside their namespaces.
    _ip("link", "add", a_if, "netns", a.name, "type", "veth", "peer", "name", b_if, "netns", b.name)
    a.ip("addr", "add", a_addr, "dev", a_if)
    b.ip("addr", "add", b_addr, "dev", b_if)
    a.ip("link", "set", a_if, "up")
    b.ip("link", "set", b_if, "up")


_live: set["Topology"] = set()


class Topology:
    ROLES = ("vm", "share-host", "relay", "client")

    def __init__(self, log_dir: str | None = None, suffix: str | None = None):
        self.suffix = suffix or secrets.token_hex(3)
        self.log_dir = log_dir
        if log_dir:
            os.makedirs(log_dir, exist_ok=True)
        self.procs: list[Proc] = []
        self.vm = Netns(PREFIX + self.suffix + "-vm", self)
        self.share_host = Netns(PREFIX + self.suffix + "-share-host", self)
        self.relay = Netns(PREFIX + self.suffix + "-relay", self)
        self.client = Netns(PREFIX + self.suffix + "-client", self)
        self.namespaces = [self.vm, self.share_host, self.relay, self.client]

    def __enter__(self) -> "Topology":
        _live.add(self)
        try:
            for ns in self.namespaces:
                ns.create()
            _veth(self.vm, "eth-share", VM_IP + "/24", self.share_host, "eth-vm", SHARE_VM_SIDE_IP + "/24")
            _veth(self.share_host, "eth-relay", SHARE_RELAY_SIDE_IP + "/24",
                  self.relay, "eth-share", RELAY_SHARE_SIDE_IP + "/24")
            _veth(self.client, "eth-relay", CLIENT_IP + "/24",
                  self.relay, "eth-client", RELAY_CLIENT_SIDE_IP + "/24")
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop every process, then delete the namespaces. Never raises."""
        for proc in reversed(self.procs):
            try:
                proc.stop(timeout=3)
            except Exception:
                pass
        for ns in self.namespaces:
            try:
                ns.delete()
            except Exception:
                pass
        _live.discard(self)

    def describe_procs(self) -> str:
        return "\n\n".join(p.describe() for p in self.procs)


def close_all_live() -> None:
    """Tear down every Topology still open in this process (atexit / signal safety net)."""
    for t in list(_live):
        t.close()
