#!/usr/bin/env python3
"""UDP echo server for the vm netns: every datagram goes back to its sender unchanged.
Prints "READY <host>:<port>" once bound."""
import argparse
import socket

parser = argparse.ArgumentParser()
parser.add_argument("--host", required=True)
parser.add_argument("--port", type=int, required=True)
args = parser.parse_args()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((args.host, args.port))
print("READY %s:%d" % (args.host, args.port), flush=True)
while True:
    data, peer = s.recvfrom(65535)
    s.sendto(data, peer)
