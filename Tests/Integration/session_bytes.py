"""Reading the bytes of a connect session as they cross the relay (docs/PROTOCOL.md): the data
connection's preamble, the pairing messages, then TLS records. Only the framing is read, so a
test can tell what the relay forwarded without holding any key.

    preamble | pairing messages | TLS 1.3 records
    "VSHD" version(2) side(1) ticket(32) | type(1) length(2) body, ... | type(1) version(2) length(2) body, ...
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

MAGIC = b"VSHD"
PREAMBLE_LEN = 39
SIDE_PEER, SIDE_AGENT = 1, 2

PAIRING_POINT, PAIRING_CONFIRM, PAIRING_REFUSAL = 1, 2, 3

RECORD_CCS, RECORD_ALERT, RECORD_HANDSHAKE, RECORD_APPLICATION_DATA = 0x14, 0x15, 0x16, 0x17
HANDSHAKE_CLIENT_HELLO, HANDSHAKE_SERVER_HELLO = 1, 2
EXT_SUPPORTED_VERSIONS, EXT_PRE_SHARED_KEY, EXT_KEY_SHARE = 43, 41, 51
TLS13 = 0x0304
MAX_RECORD = (1 << 14) + 256   # TLSCiphertext.length limit (RFC 8446 5.2)


class FramingError(Exception):
    pass


@dataclass
class Preamble:
    version: int
    side: int
    ticket: bytes


def preamble(stream: bytes) -> Preamble:
    if len(stream) < PREAMBLE_LEN or stream[:4] != MAGIC:
        raise FramingError("not a data connection: starts %r" % stream[:8])
    version, side = struct.unpack_from("!HB", stream, 4)
    return Preamble(version, side, stream[7:PREAMBLE_LEN])


def pairing_messages(stream: bytes, count: int) -> tuple[list[tuple[int, bytes]], bytes]:
    """The first `count` pairing messages (type, body) and the bytes after them."""
    messages, at = [], 0
    for _ in range(count):
        if at + 3 > len(stream):
            raise FramingError("the stream ends after %d of %d pairing messages" % (len(messages), count))
        kind, length = struct.unpack_from("!BH", stream, at)
        body = stream[at + 3:at + 3 + length]
        if len(body) != length:
            raise FramingError("pairing message %d is cut short (%d of %d bytes)" % (kind, len(body), length))
        messages.append((kind, body))
        at += 3 + length
    return messages, stream[at:]


@dataclass
class Record:
    type: int
    version: int
    body: bytes


def records(stream: bytes) -> list[Record]:
    """Every TLS record of `stream`, which must end at a record boundary."""
    out, at = [], 0
    while at < len(stream):
        if at + 5 > len(stream):
            raise FramingError("the stream ends inside a record header at byte %d" % at)
        kind, version, length = struct.unpack_from("!BHH", stream, at)
        if kind not in (RECORD_CCS, RECORD_ALERT, RECORD_HANDSHAKE, RECORD_APPLICATION_DATA):
            raise FramingError("byte %d: record type 0x%02x is not TLS" % (at, kind))
        if version not in (0x0301, 0x0303) or length > MAX_RECORD:
            raise FramingError("byte %d: record version 0x%04x length %d is not TLS 1.3 framing" % (at, version, length))
        body = stream[at + 5:at + 5 + length]
        if len(body) != length:
            raise FramingError("the stream ends inside a %d-byte record at byte %d" % (length, at))
        out.append(Record(kind, version, body))
        at += 5 + length
    return out


def hello_extensions(record: Record) -> tuple[int, dict[int, bytes]]:
    """(handshake type, {extension type: data}) of the ClientHello or ServerHello that opens
    a handshake record."""
    if record.type != RECORD_HANDSHAKE or len(record.body) < 4:
        raise FramingError("not a handshake record (type 0x%02x)" % record.type)
    kind = record.body[0]
    length = int.from_bytes(record.body[1:4], "big")
    body = record.body[4:4 + length]
    if len(body) != length:
        raise FramingError("the hello spans records (%d of %d bytes here)" % (len(body), length))
    at = 2 + 32                                   # legacy_version, random
    at += 1 + body[at]                            # legacy_session_id
    if kind == HANDSHAKE_CLIENT_HELLO:
        at += 2 + struct.unpack_from("!H", body, at)[0]   # cipher_suites
        at += 1 + body[at]                                # legacy_compression_methods
    elif kind == HANDSHAKE_SERVER_HELLO:
        at += 2 + 1                                       # cipher_suite, legacy_compression_method
    else:
        raise FramingError("handshake message type %d is not a hello" % kind)
    end = at + 2 + struct.unpack_from("!H", body, at)[0]
    at += 2
    extensions = {}
    while at < end:
        ext, n = struct.unpack_from("!HH", body, at)
        extensions[ext] = body[at + 4:at + 4 + n]
        at += 4 + n
    if at != end or end != len(body):
        raise FramingError("the hello's extensions do not fill it")
    return kind, extensions


def selected_version(server_hello: Record) -> int | None:
    """The version a ServerHello's supported_versions extension selects (None: no extension,
    i.e. TLS 1.2 or older)."""
    kind, extensions = hello_extensions(server_hello)
    if kind != HANDSHAKE_SERVER_HELLO:
        raise FramingError("handshake message type %d is not a ServerHello" % kind)
    data = extensions.get(EXT_SUPPORTED_VERSIONS)
    return None if data is None else struct.unpack("!H", data)[0]
