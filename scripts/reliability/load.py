"""Load: many keep-alive clients through one share, and idle connections held open against the
public port while a hundred clients keep working. Error counts, requests/s, the relay's memory."""
from __future__ import annotations

import socket
import time

from harness import HTTP, RSSSampler, Soak, rss_kib, source_addresses, stop, wrk


def keepalive_clients(vshare: str, counts: list[int], seconds: int, settle: int) -> list[dict]:
    rows = []
    for count in counts:
        soak = Soak(vshare)
        try:
            soak.start_machine()
            # wrk connects from one address; a real crowd comes from many, so the per-address cap
            # (which the idle phase below exercises) is lifted for this one.
            relay = soak.start_relay(["--max-conns-per-ip", str(count * 2)])
            host = soak.start_share()
            wrk(host, 10, 2)  # warm up
            before = rss_kib(relay.pid), rss_kib(soak.share.pid)
            with RSSSampler(relay.pid) as relay_peak, RSSSampler(soak.share.pid) as agent_peak:
                figures = wrk(host, count, seconds)
            time.sleep(settle)
            after = rss_kib(relay.pid), rss_kib(soak.share.pid)
            rows.append({"phase": "%d keep-alive clients, %d s" % (count, seconds), **figures,
                         "relay_rss": (before[0], relay_peak.peak, after[0]),
                         "agent_rss": (before[1], agent_peak.peak, after[1])})
        finally:
            soak.close()
    return rows


def idle_connections(vshare: str, idle: int, active: int, seconds: int, settle: int) -> dict:
    soak = Soak(vshare)
    try:
        soak.start_machine()
        relay = soak.start_relay()  # the default per-address cap
        host = soak.start_share()
        wrk(host, 10, 2)
        before = rss_kib(relay.pid)
        # One address alone gets no further than the cap.
        lone = open_idle(["127.2.0.1"], 1000)
        time.sleep(1)
        lone_open = count_open(lone)
        close_all(lone)
        # Spread over many addresses, as a crowd (or a botnet) would be.
        addresses = source_addresses((idle + 249) // 250)
        sockets = open_idle(addresses, idle // len(addresses))
        time.sleep(1)
        held = count_open(sockets)
        with RSSSampler(relay.pid) as peak:
            figures = wrk(host, active, seconds)
        still_open = count_open(sockets)
        close_all(sockets)
        time.sleep(settle)
        return {"phase": "%d idle connections + %d working clients, %d s" % (idle, active, seconds), **figures,
                "relay_rss": (before, peak.peak, rss_kib(relay.pid)),
                "lone_address_open": lone_open, "idle_held": held, "idle_open_after": still_open}
    finally:
        soak.close()


def open_idle(addresses: list[str], per_address: int) -> list[socket.socket]:
    out = []
    for address in addresses:
        for _ in range(per_address):
            s = socket.socket()
            s.setblocking(False)
            s.bind((address, 0))
            try:
                s.connect(("127.0.0.1", HTTP))
            except BlockingIOError:
                pass
            out.append(s)
    return out


def count_open(sockets: list[socket.socket]) -> int:
    """Sockets the relay has not closed: a peek that would block (nothing, no FIN, no RST)."""
    alive = 0
    for s in sockets:
        try:
            if s.recv(1, socket.MSG_PEEK) == b"":
                continue
        except BlockingIOError:
            alive += 1
        except OSError:
            continue
    return alive


def close_all(sockets: list[socket.socket]):
    for s in sockets:
        s.close()
