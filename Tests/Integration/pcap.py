"""Reading what tcpdump captured (`tcpdump -w`, classic pcap) and putting its TCP streams back
together, so a test can compare the bytes that crossed two interfaces.

    for c in pcap.connections("eth-client.pcap"):
        c.client.data()     # every byte the connecting side sent, in order
        c.server.data()     # and what it received

Strict on purpose: a truncated frame, a hole in a stream (the capture lost a segment) or a
retransmission whose bytes differ from the first copy raises CaptureError instead of
handing back bytes the wire never carried. Ethernet and Linux cooked (SLL) link types,
IPv4 and IPv6; no IP fragments (TCP on these links never fragments).
"""
from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field
from typing import Iterator

LINKTYPE_ETHERNET = 1
LINKTYPE_LINUX_SLL = 113
ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
ETHERTYPE_VLAN = (0x8100, 0x88A8)
PROTO_TCP = 6

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

Endpoint = tuple[str, int]


class CaptureError(Exception):
    pass


@dataclass
class Segment:
    time: float
    src: Endpoint
    dst: Endpoint
    seq: int
    flags: int
    payload: bytes


@dataclass
class Flow:
    """One direction of a TCP connection: the bytes `src` sent to `dst`."""
    src: Endpoint
    dst: Endpoint
    isn: int | None = None
    segments: list[Segment] = field(default_factory=list)

    @property
    def fin(self) -> bool:
        return any(s.flags & FIN for s in self.segments)

    @property
    def rst(self) -> bool:
        return any(s.flags & RST for s in self.segments)

    def data(self) -> bytes:
        """The stream's bytes in order, retransmissions folded in; raises on a hole."""
        if self.isn is None:
            raise CaptureError("%s -> %s: the SYN was not captured (capture started too late?)" % (self.src, self.dst))
        pieces = sorted(((s.seq - self.isn - 1) & 0xFFFFFFFF, s.payload) for s in self.segments if s.payload)
        out = bytearray()
        for offset, payload in pieces:
            if offset > len(out):
                raise CaptureError("%s -> %s: %d bytes missing at stream offset %d (the capture lost a segment)"
                                   % (self.src, self.dst, offset - len(out), len(out)))
            overlap = min(len(out) - offset, len(payload))
            if out[offset:offset + overlap] != payload[:overlap]:
                raise CaptureError("%s -> %s: a retransmission at offset %d differs from the first copy"
                                   % (self.src, self.dst, offset))
            out += payload[overlap:]
        return bytes(out)


@dataclass
class Connection:
    """A TCP connection seen from its SYN: `client` sent the SYN, `server` answered it."""
    client: Flow
    server: Flow

    def flow(self, src: Endpoint) -> Flow:
        return self.client if self.client.src == src else self.server

    def __repr__(self) -> str:
        return "Connection(%s:%d -> %s:%d)" % (*self.client.src, *self.client.dst)


def packets(path: str) -> Iterator[tuple[float, int, bytes]]:
    """(time, link type, frame) for each record of a classic pcap file."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 24:
        raise CaptureError("%s: %d bytes, not a pcap file" % (path, len(raw)))
    for endian in ("<", ">"):
        magic = struct.unpack_from(endian + "I", raw)[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            break
    else:
        raise CaptureError("%s: not a classic pcap file (magic %s; pcapng is not read here)" % (path, raw[:4].hex()))
    tick = 1e-6 if magic == 0xA1B2C3D4 else 1e-9
    linktype = struct.unpack_from(endian + "I", raw, 20)[0] & 0x0FFFFFFF
    at = 24
    while at < len(raw):
        if at + 16 > len(raw):
            raise CaptureError("%s: truncated record header at byte %d" % (path, at))
        sec, frac, caplen, origlen = struct.unpack_from(endian + "IIII", raw, at)
        at += 16
        if at + caplen > len(raw):
            raise CaptureError("%s: truncated record at byte %d (the file ends inside it)" % (path, at))
        if caplen != origlen:
            raise CaptureError("%s: a frame of %d bytes was cut to %d (capture with -s 0)" % (path, origlen, caplen))
        yield sec + frac * tick, linktype, raw[at:at + caplen]
        at += caplen


def _network_layer(linktype: int, frame: bytes) -> tuple[int, bytes]:
    if linktype == LINKTYPE_ETHERNET:
        ethertype, at = struct.unpack_from("!H", frame, 12)[0], 14
        while ethertype in ETHERTYPE_VLAN:
            ethertype, at = struct.unpack_from("!H", frame, at + 2)[0], at + 4
    elif linktype == LINKTYPE_LINUX_SLL:
        ethertype, at = struct.unpack_from("!H", frame, 14)[0], 16
    else:
        raise CaptureError("link type %d is not read here (Ethernet or Linux SLL only)" % linktype)
    return ethertype, frame[at:]


def _tcp_of_ip(ethertype: int, packet: bytes) -> tuple[str, str, bytes] | None:
    """(source, destination, TCP segment) or None when the packet is not TCP."""
    if ethertype == ETHERTYPE_IPV4:
        ihl = (packet[0] & 0x0F) * 4
        total, frag = struct.unpack_from("!H2xH", packet, 2)
        if packet[9] != PROTO_TCP:
            return None
        if frag & 0x3FFF:
            raise CaptureError("an IPv4 fragment: not reassembled here")
        return (str(ipaddress.IPv4Address(packet[12:16])), str(ipaddress.IPv4Address(packet[16:20])),
                packet[ihl:total])
    if ethertype == ETHERTYPE_IPV6:
        length, next_header = struct.unpack_from("!HB", packet, 4)
        if next_header != PROTO_TCP:   # extension headers do not occur on these links
            return None
        return (str(ipaddress.IPv6Address(packet[8:24])), str(ipaddress.IPv6Address(packet[24:40])),
                packet[40:40 + length])
    return None


def segments(path: str) -> Iterator[Segment]:
    for time, linktype, frame in packets(path):
        ethertype, packet = _network_layer(linktype, frame)
        ip = _tcp_of_ip(ethertype, packet)
        if ip is None:
            continue
        src, dst, tcp = ip
        sport, dport, seq, _, offset_flags = struct.unpack_from("!HHIIH", tcp)
        header = (offset_flags >> 12) * 4
        yield Segment(time, (src, sport), (dst, dport), seq, offset_flags & 0x3F, tcp[header:])


def connections(path: str) -> list[Connection]:
    """Every TCP connection whose SYN is in the capture, in the order they opened; segments of
    connections that opened before the capture started are left out."""
    open_: dict[frozenset, Connection] = {}
    found: list[Connection] = []
    for seg in segments(path):
        key = frozenset((seg.src, seg.dst))
        if seg.flags & SYN and not seg.flags & ACK:
            known = open_.get(key)
            if known is not None and known.client.src == seg.src and known.client.isn == seg.seq:
                continue   # a retransmitted SYN
            c = Connection(Flow(seg.src, seg.dst, isn=seg.seq), Flow(seg.dst, seg.src))
            open_[key] = c
            found.append(c)
            continue
        c = open_.get(key)
        if c is None:
            continue
        flow = c.flow(seg.src)
        if seg.flags & SYN:
            flow.isn = seg.seq
        flow.segments.append(seg)
    return found
