"""Faults: the relay killed mid-download and restarted; an agent's and a peer's relay connection
cut (`ss -K`) mid-transfer; the agent frozen (SIGSTOP) for 20 s. For each: what the user saw, how
long until service came back, and whether every download that completed is intact (sha256)."""
from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import time

from harness import CONTROL, HTTP, NGINX_PORT, Soak, stop

BIG = 128 << 20
RATE = "16M"  # curl --limit-rate: a download lasts ~8 s, long enough to cut in the middle


def expected_sha(soak: Soak) -> str:
    with open(os.path.join(soak.work, "www", "big.bin"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def download(soak: Soak, via: list[str], url: str) -> subprocess.Popen:
    """curl in the background, writing the body to a file; returns the process."""
    out = os.path.join(soak.work, "download-%d" % time.monotonic_ns())
    p = subprocess.Popen(["curl", "-sS", "-o", out, "--limit-rate", RATE, "-w", "%{http_code} %{size_download}",
                          *via, url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.output_path = out
    return p


def finished(p: subprocess.Popen) -> dict:
    out, err = p.communicate(timeout=120)
    with open(p.output_path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    code, size = (out.split() + ["?", "?"])[:2]
    return {"curl_exit": p.returncode, "http": code, "bytes": int(size) if size.isdigit() else 0,
            "error": err.strip().splitlines()[-1] if err.strip() else "", "sha256": sha}


def http_status(host: str) -> int:
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", "-H", "Host: " + host,
                        "http://127.0.0.1:%d/index.html" % HTTP], capture_output=True, text=True)
    return int(r.stdout or 0)


def seconds_until(condition, since: float | None = None, limit: float = 120) -> float | None:
    """Seconds from `since` (default: now) until `condition()` holds; None if not within `limit`."""
    start = time.monotonic()
    since = start if since is None else since
    while time.monotonic() - start < limit:
        if condition():
            return time.monotonic() - since
        time.sleep(0.1)
    return None


def verdict(result: dict, sha: str) -> str:
    """A download is fine if it completed intact, or failed visibly (curl error or short), never a
    complete-looking wrong body."""
    complete = result["curl_exit"] == 0 and result["http"] == "200"
    if complete:
        return "complete, sha256 %s" % ("matches" if result["sha256"] == sha else "MISMATCH")
    if result["curl_exit"] == 0:
        return "HTTP %s after %d bytes" % (result["http"], result["bytes"])
    return "cut off, reported as an error (curl exit %d: %s) after %d bytes" % (result["curl_exit"], result["error"], result["bytes"])


def public_download_cut(vshare: str, fault: str, cut) -> dict:
    """A download through the public URL, `cut(soak)` three seconds in; then how long until the URL
    answers again and whether a new download is intact."""
    soak = Soak(vshare)
    try:
        soak.start_machine(BIG)
        sha = expected_sha(soak)
        soak.start_relay()
        host = soak.start_share()
        via, url = ["-H", "Host: " + host], "http://127.0.0.1:%d/big.bin" % HTTP
        p = download(soak, via, url)
        time.sleep(3)
        cut_at = cut(soak)
        during = finished(p)
        back = seconds_until(lambda: http_status(host) == 200, since=cut_at)
        again = finished(download(soak, via, url))
        return {"fault": fault, "during": verdict(during, sha), "service_back_s": back,
                "same_name": http_status(host) == 200, "after": verdict(again, sha)}
    finally:
        soak.close()


def relay_killed(vshare: str) -> dict:
    def cut(soak: Soak) -> float:
        soak.relay.kill()
        soak.relay.wait()
        at = time.monotonic()
        soak.start_relay()  # the same data directory: the agent comes back to the same name
        return at
    return public_download_cut(vshare, "kill -9 of the relay mid-download, restarted at once", cut)


def agent_link_cut(vshare: str) -> dict:
    def cut(soak: Soak) -> float:
        kill_sockets(soak.share.pid, CONTROL)
        return time.monotonic()
    return public_download_cut(vshare, "ss -K of the agent's relay connection mid-download", cut)


def peer_link_cut(vshare: str) -> dict:
    soak = Soak(vshare)
    try:
        soak.start_machine(BIG)
        sha = expected_sha(soak)
        soak.start_relay()
        host = soak.start_share()
        name = host.split(".")[0]
        code = soak.wait_log("share.log", r"Connect code: (\S+)").group(1)
        peer = soak.spawn([vshare, "connect", name, "--code", code, "--no-tun", "--relay", "127.0.0.1:%d" % CONTROL,
                           "--relay-ca", os.path.join(soak.data, "ca.pem")], "connect.log")
        m = soak.wait_log("connect.log", r"SOCKS address: (\S+)")
        socks = ["--socks5-hostname", m.group(1)]
        url = "http://%s:%d/big.bin" % (name, NGINX_PORT)
        p = download(soak, socks, url)
        time.sleep(3)
        kill_sockets(peer.pid, CONTROL)
        cut_at = time.monotonic()
        cut = finished(p)
        back = seconds_until(lambda: subprocess.run(["curl", "-s", "-o", "/dev/null", "--max-time", "3", *socks,
                                                     "http://%s:%d/index.html" % (name, NGINX_PORT)]).returncode == 0,
                             since=cut_at)
        again = finished(download(soak, socks, url))
        return {"fault": "ss -K of a connect peer's relay connections mid-download (SOCKS)",
                "during": verdict(cut, sha), "service_back_s": back, "after": verdict(again, sha)}
    finally:
        soak.close()


def agent_frozen(vshare: str, seconds: int = 20) -> dict:
    soak = Soak(vshare)
    try:
        soak.start_machine()
        soak.start_relay()
        host = soak.start_share()
        os.kill(soak.share.pid, signal.SIGSTOP)
        stopped = time.monotonic()
        statuses: dict[int, int] = {}
        first_502 = None
        while time.monotonic() - stopped < seconds:
            status = http_status(host)  # 0: no answer within curl's 5 s
            statuses[status] = statuses.get(status, 0) + 1
            if status == 502 and first_502 is None:
                first_502 = time.monotonic() - stopped
            time.sleep(0.5)
        os.kill(soak.share.pid, signal.SIGCONT)
        resumed = time.monotonic()
        back = seconds_until(lambda: http_status(host) == 200, since=resumed)
        return {"fault": "SIGSTOP of the agent for %d s" % seconds,
                "during": "answers while frozen (status: count; 0 = none within 5 s): %s; first 502 (agent reconnecting) after %s"
                          % (dict(sorted(statuses.items())), "%.1f s" % first_502 if first_502 is not None else "never"),
                "service_back_s": back, "after": "share still live after SIGCONT: %s" % (http_status(host) == 200)}
    finally:
        soak.close()


def kill_sockets(pid: int, port: int):
    """`ss -K` on every TCP connection process `pid` holds to the relay's control port."""
    listing = subprocess.run(["ss", "-tnpH", "state", "established", "dport", "= :%d" % port],
                             capture_output=True, text=True).stdout
    for line in listing.splitlines():
        if "pid=%d," % pid not in line:
            continue
        local = line.split()[2]
        sport = local.rsplit(":", 1)[1]
        subprocess.run(["ss", "-K", "dport", "= :%d" % port, "sport", "= :%s" % sport], capture_output=True)
