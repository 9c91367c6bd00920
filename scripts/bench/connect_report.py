#!/usr/bin/env python3
"""The table of scripts/bench-connect: reads its results file, prints a terminal table and a
markdown block for docs/BENCHMARKS.md.

    connect_report.py RESULTS.tsv "machine description" "command"

RESULTS.tsv lines (tab-separated): key label tool receiver_bps sender_bps p50_us p99_us note cpu
(empty fields for what was not measured; a non-empty note with no numbers = not available; cpu is
`role/process=seconds-per-GiB ...` for the throughput run).
"""
from __future__ import annotations

import sys

ORDER = ["direct", "direct-py", "openvpn", "wireguard", "ssh-l", "ssh-d", "vshare-tun", "vshare-socks"]


def num(s: str) -> float | None:
    try:
        return float(s)
    except ValueError:
        return None


def main() -> None:
    path, machine, command = sys.argv[1:4]
    rows = {}
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            parts += [""] * (9 - len(parts))
            rows[parts[0]] = parts
    ovpn = num(rows["openvpn"][3]) if "openvpn" in rows else None
    ssh_l = num(rows["ssh-l"][3]) if "ssh-l" in rows else None
    ssh_d = num(rows["ssh-d"][3]) if "ssh-d" in rows else None

    table = []
    keys = sorted(rows, key=lambda k: ORDER.index(k) if k in ORDER else len(ORDER))
    for key in keys:
        _, label, tool, rbps, sbps, p50, p99, note, cpu = rows[key]
        r, s = num(rbps), num(sbps)
        gbit = "%.2f" % (r / 1e9) if r is not None else (note or "-")
        sender = "%.2f" % (s / 1e9) if s is not None else "-"
        ratio = "%.2f" % (r / ovpn) if r is not None and ovpn else "-"
        # TUN-like paths against ssh -L, SOCKS paths against ssh -D (the goals).
        ssh = ssh_d if "socks" in key or key == "ssh-d" else ssh_l
        ssh_ratio = "%.2f" % (r / ssh) if r is not None and ssh else "-"
        p50s = "%.0f" % num(p50) if num(p50) is not None else "-"
        p99s = "%.0f" % num(p99) if num(p99) is not None else "-"
        table.append((label, tool or "-", gbit, sender, ratio, ssh_ratio, p50s, p99s, cpu or "-"))

    head = ("path", "throughput tool", "Gbit/s (recv)", "sender", "× OpenVPN-TCP", "× ssh", "p50 µs", "p99 µs",
            "CPU s/GiB")
    widths = [max(len(head[i]), *(len(t[i]) for t in table)) for i in range(len(head))]
    widths[2] = max(widths[2], 13)
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    for t in table:
        print("  ".join(c.ljust(w) for c, w in zip(t, widths)))

    print("\n--- markdown for docs/BENCHMARKS.md ---")
    print("%s  \n`%s`\n" % (machine, command))
    print("| path | throughput tool | Gbit/s (receiver) | × OpenVPN-TCP | × ssh (-L for TUN, -D for SOCKS) | RTT p50 µs | RTT p99 µs | CPU s/GiB per process |")
    print("|---|---|---|---|---|---|---|---|")
    for key, (label, tool, gbit, _, ratio, ssh_ratio, p50s, p99s, cpu) in zip(keys, table):
        print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (label, tool, gbit, ratio, ssh_ratio, p50s, p99s, cpu))
    print("--- end ---")


if __name__ == "__main__":
    main()
