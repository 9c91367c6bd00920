#!/usr/bin/env python3
"""Single-stream TCP throughput, directly or through a SOCKS5 proxy (scripts/bench-connect).

    socks_throughput.py --host IP --port SINK [--socks HOST:PORT] [--seconds 10] [--write 1M]

Sends for `seconds` with large writes to the sink of `rtt.py server --sink-port`, half-closes,
and waits for the sink's byte count: throughput = bytes the sink received / (time until its
answer), so data still queued in proxies when the sender stops is counted only once delivered.
Prints one JSON line: {"sender_bps": ..., "receiver_bps": ..., "bytes": ..., "seconds": ...}.
iperf3 cannot use a SOCKS proxy; every SOCKS path in the benchmark uses this tool (and the
direct path also runs it once, to calibrate it against iperf3).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rtt import open_connection, recv_exact  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--socks", help="HOST:PORT of a SOCKS5 proxy")
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--write", type=int, default=1 << 20, help="bytes per send() call")
    args = ap.parse_args()
    try:
        s = open_connection(args.host, args.port, args.socks)
        buf = memoryview(bytearray(os.urandom(64)) * (args.write // 64))
        sent = 0
        t0 = time.monotonic()
        deadline = t0 + args.seconds
        while time.monotonic() < deadline:
            sent += s.send(buf)
        t_sent = time.monotonic()
        s.shutdown(socket.SHUT_WR)
        received = struct.unpack(">Q", recv_exact(s, 8))[0]
        t_done = time.monotonic()
        s.close()
    except (OSError, ConnectionError) as e:
        sys.exit("socks_throughput.py: %s" % e)
    if received != sent:
        sys.exit("socks_throughput.py: sent %d bytes, the sink received %d" % (sent, received))
    print(json.dumps({"sender_bps": sent * 8 / (t_sent - t0), "receiver_bps": received * 8 / (t_done - t0),
                      "bytes": received, "seconds": round(t_done - t0, 3)}))


if __name__ == "__main__":
    main()
