"""Scale: thousands of idle shares on one relay, made by simulated agents that speak the real
protocol (TLS, HELLO, createShare, and PING answers), so the relay's memory per idle share and the
time to create them can be measured without thousands of agent processes."""
from __future__ import annotations

import asyncio
import json
import os
import ssl
import struct
import time

from harness import CONTROL, Soak, rss_kib, source_addresses

HELLO, CONTROL_FRAME, PING, GOAWAY = 0, 1, 6, 8
ACK = 0x01


def frame(kind: int, payload: bytes, flags: int = 0, stream: int = 0) -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, int, bytes]:
    head = await reader.readexactly(9)
    length = int.from_bytes(head[0:3], "big")
    return head[3], head[4], await reader.readexactly(length)


class Agents:
    def __init__(self, ca: str, token: str):
        self.context = ssl.create_default_context(cafile=ca)
        self.token = token
        self.live = 0
        self.failed = 0
        self.done = asyncio.Event()

    async def one(self, source: str, gate: asyncio.Semaphore):
        async with gate:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", CONTROL, ssl=self.context,
                                                               server_hostname="127.0.0.1", local_addr=(source, 0))
                hello = json.dumps({"role": "share", "software": "vshare-soak", "window": 262144}).encode()
                writer.write(frame(HELLO, b"VSHR" + struct.pack(">H", 2) + hello))
                create = {"kind": "createShare", "token": self.token, "httpEnabled": True, "httpsEnabled": False,
                          "connect": False, "target": "simulated agent"}
                writer.write(frame(CONTROL_FRAME, json.dumps(create).encode()))
                while True:
                    kind, flags, payload = await read_frame(reader)
                    if kind == CONTROL_FRAME and json.loads(payload).get("kind") == "shareCreated":
                        break
                    if kind == PING and not flags & ACK:
                        writer.write(frame(PING, payload, ACK))
                    if kind == GOAWAY:
                        raise ConnectionError("GOAWAY " + payload[4:].decode(errors="replace"))
            except Exception:
                self.failed += 1
                return
        self.live += 1
        try:  # idle: answer keepalives until the end
            while not self.done.is_set():
                kind, flags, payload = await read_frame(reader)
                if kind == PING and not flags & ACK:
                    writer.write(frame(PING, payload, ACK))
        except Exception:
            self.live -= 1


async def make_shares(soak: Soak, count: int, hold: float) -> dict:
    agents = Agents(os.path.join(soak.data, "ca.pem"), soak.token)
    addresses = source_addresses((count + 199) // 200)
    gate = asyncio.Semaphore(256)
    before = rss_kib(soak.relay.pid)
    start = time.monotonic()
    tasks = [asyncio.create_task(agents.one(addresses[i % len(addresses)], gate)) for i in range(count)]
    while agents.live + agents.failed < count:
        await asyncio.sleep(0.2)
    created = time.monotonic() - start
    await asyncio.sleep(hold)  # several keepalive rounds: the shares stay up, idle
    after = rss_kib(soak.relay.pid)
    live = agents.live
    agents.done.set()
    for t in tasks:
        t.cancel()
    return {"phase": "%d idle shares" % count, "created_s": created, "live_after_hold": live,
            "failed": agents.failed, "relay_rss": (before, after),
            "per_share_kib": (after - before) / max(live, 1)}


def idle_shares(vshare: str, count: int, hold: float) -> dict:
    soak = Soak(vshare)
    try:
        soak.start_relay()
        return asyncio.run(make_shares(soak, count, hold))
    finally:
        soak.close()
