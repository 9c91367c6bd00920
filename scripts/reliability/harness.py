"""The pieces every soak phase uses: an nginx "machine", a relay, a share agent, on loopback;
memory readings; source addresses. Loopback only: 127.0.0.0/8 is all local, so clients spread
over 127.1.x.y to stay under the relay's per-address connection cap the way many real clients do.
"""
from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
import time

NGINX_PORT = 19380
CONTROL, HTTP, HTTPS, ADMIN = 19743, 19381, 19744, 19745


def raise_fd_limit(want: int = 1 << 20) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    except ValueError:
        pass


def rss_kib(pid: int) -> int:
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class RSSSampler:
    """Samples a process's resident memory every 0.1 s; `peak` is the highest seen."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, rss_kib(self.pid))
            except OSError:
                return
            time.sleep(0.1)


def source_addresses(count: int) -> list[str]:
    """127.1.0.1, 127.1.0.2, ...: distinct client addresses on loopback."""
    return ["127.1.%d.%d" % (i // 250, i % 250 + 1) for i in range(count)]


class Soak:
    """Owns the processes of one run and stops them all at the end."""

    def __init__(self, vshare: str):
        self.vshare = vshare
        self.work = tempfile.mkdtemp(prefix="vshare-soak.")
        os.chmod(self.work, 0o755)  # nginx workers run as an unprivileged user
        self.procs: list[subprocess.Popen] = []
        self.relay: subprocess.Popen | None = None
        self.share: subprocess.Popen | None = None
        self.host = ""

    def close(self):
        # SIGTERM first: nginx's master then stops its workers (a SIGKILL would leave them
        # listening, and the next run's nginx would fail to bind).
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(self.work, ignore_errors=True)

    def spawn(self, argv: list[str], log: str, **kw) -> subprocess.Popen:
        out = open(os.path.join(self.work, log), "ab")
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **kw)
        self.procs.append(p)
        return p

    def log(self, name: str) -> str:
        with open(os.path.join(self.work, name), errors="replace") as f:
            return f.read()

    def wait_log(self, name: str, pattern: str, timeout: float = 15, after: int = 0) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.compile(pattern).search(self.log(name)[after:])
            if m:
                return m
            time.sleep(0.05)
        raise RuntimeError("no %r in %s within %.0f s:\n%s" % (pattern, name, timeout, self.log(name)[-2000:]))

    def start_machine(self, big_bytes: int = 0):
        """nginx on 127.0.0.1:NGINX_PORT: index.html and, when asked, `big.bin` of random bytes."""
        www = os.path.join(self.work, "www")
        os.makedirs(www)
        with open(os.path.join(www, "index.html"), "w") as f:
            f.write("hello from the shared machine\n")
        if big_bytes:
            with open(os.path.join(www, "big.bin"), "wb") as f:
                f.write(os.urandom(big_bytes))
        conf = os.path.join(self.work, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""worker_processes 1; daemon off; pid %(w)s/nginx.pid; error_log %(w)s/nginx-error.log;
worker_rlimit_nofile 65536;
events { worker_connections 20000; }
http { access_log off; keepalive_requests 1000000; client_body_temp_path %(w)s;
  server { listen 127.0.0.1:%(p)d; root %(w)s/www; } }
""" % {"w": self.work, "p": NGINX_PORT})
        self.spawn(["nginx", "-c", conf], "nginx.log")
        wait_port("127.0.0.1", NGINX_PORT)

    def start_relay(self, extra: list[str] = ()) -> subprocess.Popen:
        data = os.path.join(self.work, "relay")
        self.relay = self.spawn([self.vshare, "relay", "--data-dir", data, "--domain", "share.test",
                                 "--control", "127.0.0.1:%d" % CONTROL, "--http", "127.0.0.1:%d" % HTTP,
                                 "--https", "127.0.0.1:%d" % HTTPS, "--admin", "127.0.0.1:%d" % ADMIN,
                                 "--hostname", "127.0.0.1", *extra], "relay.log")
        wait_port("127.0.0.1", HTTP)
        return self.relay

    @property
    def data(self) -> str:
        return os.path.join(self.work, "relay")

    @property
    def token(self) -> str:
        with open(os.path.join(self.data, "token")) as f:
            return f.read().strip()

    def start_share(self, extra: list[str] = ()) -> str:
        """The agent for the nginx machine; returns the share's Host (NAME.share.test)."""
        mark = len(self.log("share.log")) if os.path.exists(os.path.join(self.work, "share.log")) else 0
        self.share = self.spawn([self.vshare, "share", "--relay", "127.0.0.1:%d" % CONTROL,
                                 "--relay-ca", os.path.join(self.data, "ca.pem"), "--token", self.token,
                                 "--target", "127.0.0.1", "--http", str(NGINX_PORT), *extra], "share.log")
        url = self.wait_log("share.log", r"URL: http://(\S+?):\d+", after=mark).group(1)
        self.host = url
        return url


def wait_port(host: str, port: int, timeout: float = 15):
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on %s:%d" % (host, port))


def wrk(host: str, connections: int, seconds: int, path: str = "/index.html") -> dict:
    """wrk's figures: requests/s, responses, non-2xx, socket errors."""
    out = subprocess.run(["wrk", "-t2", "-c%d" % connections, "-d%ds" % seconds, "--timeout", "10s",
                          "-H", "Host: " + host, "http://127.0.0.1:%d%s" % (HTTP, path)],
                         capture_output=True, text=True).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
               "responses": int(re.search(r"(\d+) requests in", out).group(1)),
               "non2xx": int((re.search(r"Non-2xx or 3xx responses: (\d+)", out) or [0, 0])[1]),
               "errors": 0, "raw": out}
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        figures["errors"] = sum(int(x) for x in m.groups())
        figures["error_detail"] = "connect %s, read %s, write %s, timeout %s" % m.groups()
    return figures


def stop(p: subprocess.Popen, sig=signal.SIGTERM, timeout: float = 15):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
