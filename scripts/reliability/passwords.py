"""A flood of wrong `--basic-auth` passwords, spread over many addresses so that each stays within
the guessing limiter's free misses, and what shares without a password see meanwhile: the
latency of their requests before and during the flood, and how the flood was answered.

Every wrong password costs the relay one scrypt (about 40 ms here). The figure to watch is the
other shares' latency: a relay that runs scrypt on its event loops stalls every share those loops
serve; one that runs it elsewhere keeps them answering."""
from __future__ import annotations

import base64
import http.client
import multiprocessing
import os
import socket
import statistics
import threading
import time

from harness import HTTP, Soak, source_addresses

PASSWORD = "correct-horse-battery"


def _probe(host: str, stop: threading.Event, latencies: list[float], errors: list[str]) -> None:
    """Sequential keep-alive GETs to a share without a password, each one timed."""
    conn = None
    while not stop.is_set():
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", HTTP, timeout=30)
            t = time.perf_counter()
            conn.request("GET", "/index.html", headers={"Host": host})
            r = conn.getresponse()
            r.read()
            latencies.append((time.perf_counter() - t) * 1000)
            if r.status != 200:
                errors.append(str(r.status))
        except (OSError, http.client.HTTPException) as e:
            errors.append(type(e).__name__)
            conn = None
        time.sleep(0.01)


def _probes(hosts: list[str], seconds: float) -> tuple[list[float], list[str]]:
    stop, latencies, errors = threading.Event(), [], []
    threads = [threading.Thread(target=_probe, args=(h, stop, latencies, errors), daemon=True) for h in hosts]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return latencies, errors


def _guess(host: str, address: str, i: int) -> str:
    """One request with a wrong password from `address`, on a fresh connection; its status."""
    wrong = base64.b64encode(("alice:wrong-%d-%s" % (i, address)).encode()).decode()
    s = socket.socket()
    try:
        s.settimeout(60)
        s.bind((address, 0))
        s.connect(("127.0.0.1", HTTP))
        s.sendall(("GET / HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\nConnection: close\r\n\r\n"
                   % (host, wrong)).encode())
        head = s.recv(64).decode(errors="replace")
        return head.split(" ", 2)[1] if head.startswith("HTTP/1.1 ") else "no answer"
    except OSError as e:
        return type(e).__name__
    finally:
        s.close()


def _flood(host: str, addresses: list[str], per_address: int, workers: int, out) -> None:
    """Runs in its own process (its threads must not slow the probes' timing)."""
    jobs = [(a, i) for i in range(per_address) for a in addresses]
    lock, statuses, start = threading.Lock(), {}, time.monotonic()

    def work():
        while True:
            with lock:
                if not jobs:
                    return
                address, i = jobs.pop()
            status = _guess(host, address, i)
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((statuses, time.monotonic() - start))


def _summary(latencies: list[float]) -> dict:
    if not latencies:
        return {"n": 0, "p50": 0, "p99": 0, "max": 0}
    ordered = sorted(latencies)
    return {"n": len(ordered), "p50": statistics.median(ordered),
            "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], "max": ordered[-1]}


def password_flood(vshare: str, addresses: int = 200, per_address: int = 5, workers: int = 64,
                   plain_shares: int = 3, baseline_s: float = 5) -> dict:
    soak = Soak(vshare)
    try:
        soak.start_machine()
        soak.start_relay()
        guarded = soak.start_share(["--basic-auth", "alice:" + PASSWORD])
        # Shares land on the relay's loops in turn: with several, one shares the guarded share's loop.
        plain = [soak.start_share() for _ in range(plain_shares)]
        baseline, baseline_errors = _probes(plain, baseline_s)
        out = multiprocessing.Queue()
        flood = multiprocessing.Process(target=_flood, args=(guarded, source_addresses(addresses), per_address, workers, out))
        stop, during, during_errors = threading.Event(), [], []
        threads = [threading.Thread(target=_probe, args=(h, stop, during, during_errors), daemon=True) for h in plain]
        flood.start()
        for t in threads:
            t.start()
        statuses, flood_s = out.get(timeout=600)
        flood.join()
        stop.set()
        for t in threads:
            t.join()
        return {"phase": "%d wrong passwords from %d addresses (%d at a time), %d shares without a password probed"
                         % (addresses * per_address, addresses, workers, plain_shares),
                "statuses": statuses, "flood_s": flood_s,
                "baseline": _summary(baseline), "during": _summary(during),
                "probe_errors": (len(baseline_errors), len(during_errors))}
    finally:
        soak.close()


if __name__ == "__main__":   # python3 scripts/reliability/passwords.py VSHARE_BINARY
    import sys
    print(password_flood(sys.argv[1]))
