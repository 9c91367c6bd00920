#!/usr/bin/env python3
"""CPU seconds per GiB for every process of a tunnel path, for scripts/bench-connect.

    cpu_per_gib.py snapshot NS... > before.json     # user+system ticks of each process in the netns
    cpu_per_gib.py diff before.json after.json BYTES   # -> "relay/vshare=0.12 client/ssh=0.40 ..."

Processes are labelled `ROLE/COMM`, ROLE being the namespace's last name part (share-host, relay,
client); the measuring tools (iperf3, python3, proxychains4, shells) are left out, so what remains
is what the tunnel itself costs. A process that appears or goes during the run counts its own
ticks from 0. Ticks are from /proc/PID/stat (utime + stime, fields 14 and 15).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

TOOLS = {"iperf3", "python3", "proxychains4", "bash", "sh", "sleep", "timeout", "ip"}


def snapshot(namespaces: list[str]) -> dict:
    out = {}
    for ns in namespaces:
        role = ns.split("-", 2)[-1] if ns.count("-") >= 2 else ns
        pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
        for pid in pids:
            try:
                stat = open("/proc/%s/stat" % pid).read()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1:stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2:].split()
            if comm in TOOLS:
                continue
            out[pid] = ["%s/%s" % (role, comm), int(fields[11]) + int(fields[12])]
    return out


def diff(before: dict, after: dict, nbytes: float) -> str:
    tick = os.sysconf("SC_CLK_TCK")
    per_label: dict[str, float] = {}
    for pid, (label, ticks) in after.items():
        used = ticks - (before.get(pid, [label, 0])[1])
        per_label[label] = per_label.get(label, 0) + used / tick
    gib = nbytes / (1 << 30)
    if gib <= 0:
        return ""
    return " ".join("%s=%.2f" % (label, secs / gib) for label, secs in sorted(per_label.items()))


def main() -> None:
    if sys.argv[1] == "snapshot":
        print(json.dumps(snapshot(sys.argv[2:])))
    elif sys.argv[1] == "diff":
        before = json.load(open(sys.argv[2]))
        after = json.load(open(sys.argv[3]))
        print(diff(before, after, float(sys.argv[4])))
    else:
        sys.exit("usage: cpu_per_gib.py snapshot NS... | diff BEFORE AFTER BYTES")


if __name__ == "__main__":
    main()
