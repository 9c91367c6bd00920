"""Starting the vshare roles inside a Topology, per the CLI contract, and
talking to a share's public URL from the client namespace."""
from __future__ import annotations

import hashlib
import http.client
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import topology as T

DOMAIN = "share.test"
NAME_RE = re.compile(r"^[a-z]+-[a-z]+-[0-9]{4}$")
SHARE_AT_RE = re.compile(r"Share will be at: (\S+)")
URL_RE = re.compile(r"URL: (\S+)")
CODE_RE = re.compile(r"Connect code: (\S+)")
CONNECT_LINE_RE = re.compile(r"Connect: vshare connect (\S+) --code (\S+)")
# <ISO8601 time> <share-name> <client-ip> "<METHOD> <path>" <status> <bytes> <ms>ms
ACCESS_LOG_RE = r'^(?P<time>\d{4}-\d\d-\d\dT\S+) (?P<name>\S+) (?P<ip>\S+) "(?P<method>[A-Z]+) (?P<path>\S+)" (?P<status>\d{3}) (?P<bytes>\d+) (?P<ms>\d+(?:\.\d+)?)ms$'

START_TIMEOUT = 15.0


def vshare_bin() -> str:
    b = os.environ.get("VSHARE_BIN", "")
    if not b:
        raise AssertionError("VSHARE_BIN is not set (scripts/test sets it to .build/release/vshare)")
    if not (os.path.isfile(b) and os.access(b, os.X_OK)):
        raise AssertionError("VSHARE_BIN=%s is not an executable file" % b)
    return b


def clean_env() -> dict:
    """The environment without any VSHARE_* variables (tests pass everything explicitly)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("VSHARE_")}


@dataclass
class Relay:
    proc: T.Proc
    data_dir: str
    control_port: int
    http_port: int
    https_port: int

    @property
    def ca(self) -> str:
        return os.path.join(self.data_dir, "ca.pem")

    @property
    def token(self) -> str:
        with open(os.path.join(self.data_dir, "token")) as f:
            return f.read().strip()

    @property
    def control_addr(self) -> str:
        return "%s:%d" % (T.RELAY_SHARE_SIDE_IP, self.control_port)


def start_relay(topo: T.Topology, data_dir: str, control_port: int = 7443, http_port: int = 8080,
                https_port: int = 8443, extra: list[str] | None = None, name: str = "relay",
                admin: str | None = "off") -> Relay:
    """`admin`: the web interface's --admin value; off by default, so two relays in one
    namespace never both claim its default port (127.0.0.1:7444); None uses the relay's default.
    Returns once the relay listens on its ports, the web interface's included."""
    os.makedirs(data_dir, mode=0o700, exist_ok=True)   # the relay refuses a data dir others can read
    argv = [vshare_bin(), "relay", "--data-dir", data_dir,
            "--control", "0.0.0.0:%d" % control_port,
            "--http", "0.0.0.0:%d" % http_port,
            "--https", "0.0.0.0:%d" % https_port,
            "--domain", DOMAIN,
            "--hostname", T.RELAY_SHARE_SIDE_IP, "--hostname", T.RELAY_CLIENT_SIDE_IP,
            *(["--admin", admin] if admin is not None else []),
            *(extra or [])]
    proc = topo.relay.popen(argv, name=name, env=clean_env())
    topo.share_host.wait_tcp((T.RELAY_SHARE_SIDE_IP, control_port), timeout=10, proc=proc)
    topo.client.wait_tcp((T.RELAY_CLIENT_SIDE_IP, http_port), timeout=10, proc=proc)
    if admin != "off":
        host, port = (admin or "127.0.0.1:7444").rsplit(":", 1)
        topo.relay.wait_tcp((host, int(port)), timeout=10, proc=proc)
    relay = Relay(proc, data_dir, control_port, http_port, https_port)
    for f in ("ca.pem", "token"):
        path = os.path.join(data_dir, f)
        deadline = time.monotonic() + 5
        while not (os.path.exists(path) and os.path.getsize(path) > 0):
            if time.monotonic() > deadline:
                raise AssertionError("relay did not create %s\n%s" % (path, proc.describe()))
            time.sleep(0.05)
    return relay


@dataclass
class Share:
    proc: T.Proc
    name: str
    url: str
    code: str | None = None
    host: str = field(init=False)
    port: int = field(init=False)

    def __post_init__(self):
        u = urlsplit(self.url)
        self.host = u.hostname or ""
        self.port = u.port or 80

    @property
    def host_header(self) -> str:
        return "%s:%d" % (self.host, self.port)


def share_argv(relay: Relay | None, token: str | None = None, ca: str | None = None,
               target: str = T.VM_IP, http_port: int | None = 8000, extra: list[str] | None = None) -> list[str]:
    argv = [vshare_bin(), "share"]
    if relay is not None:
        argv += ["--relay", relay.control_addr, "--relay-ca", ca or relay.ca]
    if token is not None:
        argv += ["--token", token]
    argv += ["--target", target]
    if http_port is not None:
        argv += ["--http", str(http_port)]
    return argv + list(extra or [])


def start_share(topo: T.Topology, relay: Relay, name: str = "share", timeout: float = START_TIMEOUT,
                **kw) -> Share:
    """Start `vshare share` in share-host and wait until it prints its URL (= live)."""
    kw.setdefault("token", relay.token)
    env = clean_env()
    env.update(kw.pop("env", None) or {})
    proc = topo.share_host.popen(share_argv(relay, **kw), name=name, env=env)
    hint = "(the share must print its URL, line-buffered, once live)"
    m_name = proc.wait_line(SHARE_AT_RE, timeout, hint=hint)
    m_url = proc.wait_line(URL_RE, timeout, hint=hint)
    code = None
    if "--no-connect" not in (kw.get("extra") or []):
        code = wait_code(proc, m_name.group(1), timeout)
    share = Share(proc, m_name.group(1), m_url.group(1), code)
    assert NAME_RE.match(share.name), "share name %r does not match %s" % (share.name, NAME_RE.pattern)
    assert share.host == "%s.%s" % (share.name, DOMAIN), "URL %s is not for %s.%s" % (share.url, share.name, DOMAIN)
    assert share.port == relay.http_port, "URL %s is not on the relay's HTTP port %d" % (share.url, relay.http_port)
    assert urlsplit(share.url).scheme == "http", share.url
    return share


def wait_code(proc: T.Proc, name: str, timeout: float = START_TIMEOUT) -> str:
    """The connect code a share prints, checked against its full `Connect:` command line."""
    code = proc.wait_line(CODE_RE, timeout, hint="(the share must print its connect code)").group(1)
    m = proc.wait_line(CONNECT_LINE_RE, 5, hint="(and the command a peer runs)")
    assert m.group(1) == name and m.group(2) == code, m.group(0)
    assert re.fullmatch(r"[1-9]\d{0,2}(-[a-z]+){3}", code), "connect code %r is not NUMBER-word-word-word" % code
    return code


def stop(proc: T.Proc, sig: int = signal.SIGINT, timeout: float = 5.0) -> int:
    proc.signal(sig)
    return proc.wait(timeout)


def rss_kib(pid: int) -> int:
    """A process's resident memory now (VmRSS), in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


# --- the client side ---------------------------------------------------------

class ClientHTTPConnection(http.client.HTTPConnection):
    """HTTPConnection whose socket is opened from the client netns to the relay's
    client-side address, while Host (and the URL) stay NAME.share.test:PORT
    (like curl --resolve)."""

    def __init__(self, topo: T.Topology, host: str, port: int, timeout: float = 30):
        super().__init__(host, port, timeout=timeout)
        self._topo = topo
        self.connects = 0

    def connect(self):
        self.sock = self._topo.client.create_connection((T.RELAY_CLIENT_SIDE_IP, self.port), timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connects += 1


def raw_exchange(topo, port: int, data: bytes, wait: float, source: str | None = None) -> tuple[bytes, float]:
    """From the client netns: connect, send `data`, then read until EOF (or `wait` s).
    Returns (everything received, seconds from the send to EOF/timeout)."""
    def run():
        s = socket.create_connection((T.RELAY_CLIENT_SIDE_IP, port), timeout=10,
                                     source_address=(source, 0) if source else None)
        try:
            t0 = time.monotonic()
            try:
                s.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the relay may answer and close before it has read everything
            got = b""
            s.settimeout(wait)
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += chunk
            except (socket.timeout, ConnectionResetError):
                pass
            return got, time.monotonic() - t0
        finally:
            s.close()
    return topo.client.call(run, timeout=wait + 30)


def cut_relay_connections(topo, relay, pid: int) -> int:
    """`ss -K` every TCP connection of process `pid` (in the client netns) to the relay's control port: its
    control and data connections, cut as a network failure would."""
    out = topo.client.run(["ss", "-tnpH", "state", "established", "dst", T.RELAY_CLIENT_SIDE_IP,
                           "dport", "=", ":%d" % relay.control_port], timeout=10, check=True).stdout.decode()
    sports = [l.split()[2].rsplit(":", 1)[1] for l in out.splitlines() if "pid=%d," % pid in l]
    for sport in sports:
        topo.client.run(["ss", "-K", "-tnH", "dst", T.RELAY_CLIENT_SIDE_IP, "dport", "=", ":%d" % relay.control_port,
                         "sport", "=", ":%s" % sport], timeout=10, check=True)
    return len(sports)


def client_get(topo: T.Topology, host: str, port: int, path: str = "/", timeout: float = 15,
               method: str = "GET") -> tuple[int, bytes, http.client.HTTPResponse]:
    """One request on a fresh connection from the client netns; returns (status, body, response)."""
    conn = ClientHTTPConnection(topo, host, port, timeout=timeout)
    try:
        conn.request(method, path)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, body, resp
    finally:
        conn.close()


def wait_status(topo: T.Topology, host: str, port: int, want: int, within: float,
                path: str = "/", poll: float = 0.05) -> tuple[float, list]:
    """Poll until a GET answers `want`; return (seconds it took, statuses seen).
    Connection errors count as 'not yet'. Fails after `within` seconds."""
    t0 = time.monotonic()
    seen = []
    while True:
        # Short per-request timeouts: a request that raced the change may hang;
        # the next poll on a fresh connection must still see the new state in time.
        left = within - (time.monotonic() - t0)
        try:
            status, _, _ = client_get(topo, host, port, path, timeout=min(max(left, 0.2), 0.5))
        except (OSError, http.client.HTTPException) as e:
            status = "timeout" if isinstance(e, TimeoutError) else type(e).__name__
        seen.append(status)
        elapsed = time.monotonic() - t0
        if status == want:
            return elapsed, seen
        if elapsed > within:
            raise AssertionError("http://%s:%d%s did not answer %d within %.1fs; saw %s"
                                 % (host, port, path, want, within, _squash(seen)))
        time.sleep(poll)


def _squash(seq: list) -> str:
    out = []
    for s in seq:
        if out and out[-1][0] == s:
            out[-1][1] += 1
        else:
            out.append([s, 1])
    return ", ".join("%s x%d" % (s, n) if n > 1 else str(s) for s, n in out)


def curl_args(share_or_host, port: int | None = None) -> list[str]:
    if isinstance(share_or_host, Share):
        host, port = share_or_host.host, share_or_host.port
    else:
        host = share_or_host
    return ["--resolve", "%s:%d:%s" % (host, port, T.RELAY_CLIENT_SIDE_IP)]


@dataclass
class Download:
    rc: int
    stderr: str
    length: int
    sha256: str
    seconds: float


def download_big(topo: T.Topology, share: Share, size: int, stall: tuple[int, float] | None = None,
                 max_time: int = 120) -> Download:
    """GET /big?size=N through the share from the client namespace, hashing as it streams.
    `stall=(after_bytes, seconds)` stops reading once mid-transfer, to exercise backpressure."""
    p = subprocess.Popen(topo.client.argv(["curl", "-sS", "--max-time", str(max_time), "-o", "-",
                                           "-w", "%{stderr}HTTP %{http_code} %{size_download}\\n",
                                           *curl_args(share), "%s/big?size=%d" % (share.url, size)]),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    h = hashlib.sha256()
    n = 0
    t0 = time.monotonic()
    try:
        while True:
            chunk = p.stdout.read(1 << 20)
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
            if stall is not None and n >= stall[0]:
                time.sleep(stall[1])
                stall = None
        rc = p.wait(timeout=10)
        err = p.stderr.read().decode(errors="replace")
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)
    return Download(rc, err, n, h.hexdigest(), time.monotonic() - t0)


# --- vshare connect ----------------------------------------------------------------

SOCKS_RE = re.compile(r"SOCKS address: (\d+\.\d+\.\d+\.\d+):(\d+)")
MACHINE_RE = re.compile(r"Machine IP: (\d+\.\d+\.\d+\.\d+)")


class Connect:
    def __init__(self, proc: T.Proc, socks: tuple[str, int], machine_ip: str | None):
        self.proc, self.socks, self.machine_ip = proc, socks, machine_ip


def connect_argv(relay: Relay, name: str, extra: list[str] | None = None, ca: str | None = None) -> list[str]:
    return [vshare_bin(), "connect", name, "--relay", "%s:%d" % (T.RELAY_CLIENT_SIDE_IP, relay.control_port),
            "--relay-ca", ca or relay.ca, *(extra or [])]


def start_connect(topo, relay, share: Share, extra=None, tun=True, label="connect", prefix=None, ca=None) -> Connect:
    """`vshare connect NAME --code CODE` in the client namespace, once it says it is running."""
    name = share.name
    extra = ["--code", share.code] + list(extra or [])
    proc = topo.client.popen((prefix or []) + connect_argv(relay, name, extra, ca), name=label, env=clean_env())
    proc.wait_line(r"Connecting to: %s" % re.escape(name), START_TIMEOUT)
    proc.wait_line(r"Connect is running!", START_TIMEOUT, hint="(connect must say it is running once joined)")
    m = proc.wait_line(SOCKS_RE, 5)
    socks = (m.group(1), int(m.group(2)))
    machine = None
    if tun:
        machine = proc.wait_line(MACHINE_RE, 5).group(1)
    proc.wait_line(r"Press Ctrl-C to stop connection\.", 5)
    return Connect(proc, socks, machine)
