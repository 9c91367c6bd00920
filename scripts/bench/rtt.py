#!/usr/bin/env python3
"""Small-message TCP round-trip latency, directly or through a SOCKS5 proxy (scripts/bench-connect).

    rtt.py server --bind IP --port P [--sink-port Q]
        echo server on P (each message is sent back as it arrives; TCP_NODELAY);
        with --sink-port also a bulk sink on Q (reads until EOF, then answers the byte count
        as 8 bytes big-endian), the far end of socks_throughput.py.
    rtt.py client --host IP --port P [--socks HOST:PORT] [--count 5000] [--warmup 500] [--size 64]
        one connection, `warmup` then `count` ping-pongs of `size` bytes, one in flight;
        prints one JSON line: {"p50_us": ..., "p99_us": ..., "mean_us": ..., "count": ...}.
Standard library only. The SOCKS5 CONNECT handshake (no authentication) is `socks_connect`.
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import socket
import struct
import sys
import threading
import time


def recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        if k == 0:
            raise ConnectionError("connection closed after %d of %d bytes" % (got, n))
        got += k
    return bytes(buf)


def socks_connect(proxy: str, host: str, port: int, timeout: float = 10) -> socket.socket:
    """A TCP connection to host:port through the SOCKS5 proxy `proxy` (HOST:PORT), no auth (RFC 1928)."""
    phost, _, pport = proxy.rpartition(":")
    s = socket.create_connection((phost, int(pport)), timeout=timeout)
    try:
        s.sendall(b"\x05\x01\x00")                          # version 5, one method: no authentication
        ver, method = recv_exact(s, 2)
        if ver != 5 or method != 0:
            raise ConnectionError("SOCKS5 proxy %s refused 'no authentication' (%d, %d)" % (proxy, ver, method))
        try:
            addr = ipaddress.ip_address(host)
            atyp = b"\x01" if addr.version == 4 else b"\x04"
            dst = atyp + addr.packed
        except ValueError:
            name = host.encode()
            dst = b"\x03" + bytes([len(name)]) + name
        s.sendall(b"\x05\x01\x00" + dst + struct.pack(">H", port))   # CONNECT
        ver, rep, _, atyp = recv_exact(s, 4)
        if ver != 5 or rep != 0:
            raise ConnectionError("SOCKS5 CONNECT to %s:%d via %s failed: reply %d" % (host, port, proxy, rep))
        alen = {1: 4, 4: 16}.get(atyp)
        if alen is None:
            alen = recv_exact(s, 1)[0]
        recv_exact(s, alen + 2)                              # bound address and port
    except BaseException:
        s.close()
        raise
    s.settimeout(None)
    return s


def open_connection(host: str, port: int, socks: str | None) -> socket.socket:
    s = socks_connect(socks, host, port) if socks else socket.create_connection((host, port), timeout=10)
    s.settimeout(None)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


# --- server ------------------------------------------------------------------

def _echo(conn: socket.socket) -> None:
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = bytearray(65536)
    try:
        while True:
            n = conn.recv_into(buf)
            if n == 0:
                return
            conn.sendall(memoryview(buf)[:n])
    except OSError:
        pass
    finally:
        conn.close()


def _sink(conn: socket.socket) -> None:
    buf = bytearray(1 << 20)
    total = 0
    try:
        while True:
            n = conn.recv_into(buf)
            if n == 0:
                break
            total += n
        conn.sendall(struct.pack(">Q", total))
    except OSError:
        pass
    finally:
        conn.close()


def _serve(bind: str, port: int, handler) -> threading.Thread:
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((bind, port))
    ls.listen(64)

    def loop():
        while True:
            conn, _ = ls.accept()
            threading.Thread(target=handler, args=(conn,), daemon=True).start()
    t = threading.Thread(target=loop, daemon=True)
    t.start()
    return t


def server(args) -> None:
    threads = [_serve(args.bind, args.port, _echo)]
    if args.sink_port:
        threads.append(_serve(args.bind, args.sink_port, _sink))
    print("listening", flush=True)
    for t in threads:
        t.join()


# --- client ------------------------------------------------------------------

def percentile(sorted_values: list[float], p: float) -> float:
    i = min(len(sorted_values) - 1, max(0, int(round(p / 100 * len(sorted_values))) - 1))
    return sorted_values[i]


def client(args) -> None:
    s = open_connection(args.host, args.port, args.socks)
    msg = bytes(range(256)) * (args.size // 256 + 1)
    msg = msg[:args.size]
    samples = []
    clock = time.perf_counter_ns
    for i in range(args.warmup + args.count):
        t0 = clock()
        s.sendall(msg)
        back = recv_exact(s, args.size)
        t1 = clock()
        if back != msg:
            raise SystemExit("rtt: echo mismatch")
        if i >= args.warmup:
            samples.append((t1 - t0) / 1000.0)
    s.close()
    samples.sort()
    print(json.dumps({"p50_us": round(percentile(samples, 50), 1), "p99_us": round(percentile(samples, 99), 1),
                      "mean_us": round(sum(samples) / len(samples), 1), "count": len(samples), "size": args.size}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    sp = sub.add_parser("server")
    sp.add_argument("--bind", default="0.0.0.0")
    sp.add_argument("--port", type=int, required=True)
    sp.add_argument("--sink-port", type=int, default=0)
    cp = sub.add_parser("client")
    cp.add_argument("--host", required=True)
    cp.add_argument("--port", type=int, required=True)
    cp.add_argument("--socks", help="HOST:PORT of a SOCKS5 proxy")
    cp.add_argument("--count", type=int, default=5000)
    cp.add_argument("--warmup", type=int, default=500)
    cp.add_argument("--size", type=int, default=64)
    args = ap.parse_args()
    try:
        server(args) if args.mode == "server" else client(args)
    except (OSError, ConnectionError) as e:
        sys.exit("rtt.py %s: %s" % (args.mode, e))


if __name__ == "__main__":
    main()
