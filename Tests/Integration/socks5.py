"""A minimal SOCKS5 client (RFC 1928) for the tests: CONNECT and UDP ASSOCIATE, no auth."""
from __future__ import annotations

import socket
import struct


class SOCKSError(Exception):
    def __init__(self, reply: int):
        super().__init__("SOCKS reply 0x%02x" % reply)
        self.reply = reply


def _recv_exact(s: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise ConnectionError("SOCKS server closed the connection")
        out += chunk
    return out


def _address(host: str) -> bytes:
    try:
        return b"\x01" + socket.inet_aton(host) if host.count(".") == 3 and all(p.isdigit() for p in host.split(".")) else _domain(host)
    except OSError:
        return _domain(host)


def _domain(host: str) -> bytes:
    raw = host.encode()
    return b"\x03" + bytes([len(raw)]) + raw


def _read_reply(s: socket.socket) -> tuple[str, int]:
    ver, rep, _, atyp = _recv_exact(s, 4)
    if ver != 5:
        raise ConnectionError("not a SOCKS5 reply")
    if atyp == 1:
        addr = socket.inet_ntoa(_recv_exact(s, 4))
    elif atyp == 3:
        addr = _recv_exact(s, _recv_exact(s, 1)[0]).decode()
    else:
        addr = socket.inet_ntop(socket.AF_INET6, _recv_exact(s, 16))
    port = struct.unpack("!H", _recv_exact(s, 2))[0]
    if rep != 0:
        raise SOCKSError(rep)
    return addr, port


def _handshake(proxy: tuple[str, int], cmd: int, host: str, port: int, timeout: float) -> tuple[socket.socket, tuple[str, int]]:
    s = socket.create_connection(proxy, timeout=timeout)
    try:
        s.sendall(b"\x05\x01\x00")
        if _recv_exact(s, 2) != b"\x05\x00":
            raise ConnectionError("SOCKS server refused no-auth")
        s.sendall(b"\x05" + bytes([cmd]) + b"\x00" + _address(host) + struct.pack("!H", port))
        bound = _read_reply(s)
        return s, bound
    except BaseException:
        s.close()
        raise


def connect(proxy: tuple[str, int], host: str, port: int, timeout: float = 10) -> socket.socket:
    s, _ = _handshake(proxy, 1, host, port, timeout)
    return s


def udp_associate(proxy: tuple[str, int], timeout: float = 10) -> tuple[socket.socket, tuple[str, int]]:
    """Returns the control connection (keep it open) and the relay address for datagrams."""
    return _handshake(proxy, 3, "0.0.0.0", 0, timeout)


def udp_wrap(host: str, port: int, payload: bytes) -> bytes:
    return b"\x00\x00\x00" + _address(host) + struct.pack("!H", port) + payload


def udp_unwrap(datagram: bytes) -> tuple[str, int, bytes]:
    if datagram[2] != 0:
        raise ValueError("fragmented SOCKS datagram")
    atyp = datagram[3]
    if atyp == 1:
        host, rest = socket.inet_ntoa(datagram[4:8]), datagram[8:]
    elif atyp == 3:
        n = datagram[4]
        host, rest = datagram[5:5 + n].decode(), datagram[5 + n:]
    else:
        host, rest = socket.inet_ntop(socket.AF_INET6, datagram[4:20]), datagram[20:]
    return host, struct.unpack("!H", rest[:2])[0], rest[2:]
