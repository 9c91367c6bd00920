"""The deterministic byte pattern served by /big, shared by server and tests.

The stream is made of 64 KiB chunks. Chunk i is a 40-byte header (the chunk
index and sha256 of it) followed by a fixed pseudo-random block rotated by a
chunk-dependent amount, so that reordered, duplicated, dropped or corrupted
data anywhere in the stream changes the digest. Fast enough to serve and to
hash 200 MiB in pure Python.
"""
import hashlib
import random
import struct

CHUNK = 64 * 1024
_HEADER = 40
_BASE = random.Random(0x5EED).randbytes(CHUNK - _HEADER + 251)


def chunk(i: int) -> bytes:
    idx = struct.pack(">Q", i)
    rot = i % 251
    return idx + hashlib.sha256(idx).digest() + _BASE[rot:rot + CHUNK - _HEADER]


def chunks(size: int):
    """Yield the first `size` bytes of the pattern in pieces of at most CHUNK."""
    i = 0
    left = size
    while left > 0:
        c = chunk(i)
        if left < len(c):
            c = c[:left]
        yield c
        left -= len(c)
        i += 1


def sha256_of(size: int) -> str:
    h = hashlib.sha256()
    for c in chunks(size):
        h.update(c)
    return h.hexdigest()
