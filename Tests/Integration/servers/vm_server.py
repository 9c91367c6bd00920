#!/usr/bin/env python3
"""The stand-in for the shared machine's web server (runs in the `vm` netns).

  GET  /             small HTML page containing "vm-index-ok"
  GET  /big?size=N   N bytes of servers.pattern, streamed, with Content-Length
  POST /echo         JSON {"sha256": hex, "length": n} of the request body
                     (Content-Length or chunked Transfer-Encoding)
  GET  /ws           WebSocket echo (text, binary, ping -> pong, close)
  GET  /peer         the TCP peer address this connection came from
  GET  /headers      JSON [[name, value], ...] of the request's header fields, as they arrived
  GET  /scheme       "https" when serving TLS (--tls-cert/--tls-key), else "http"

Every response carries `X-Peer: ip:port` (the connection's peer) and HTTP/1.1
keep-alive is on. Prints "READY <host>:<port>" once listening.
"""
import argparse
import hashlib
import json
import os
import time
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from servers import pattern, websocket  # noqa: E402

INDEX = b"""<!doctype html>
<html><head><title>vm</title></head>
<body><h1>vm-index-ok</h1><p>Served by the test machine.</p></body></html>
"""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "vm-test-server"

    def log_message(self, fmt, *args):
        sys.stderr.write("vm %s:%s %s\n" % (self.client_address[0], self.client_address[1], fmt % args))

    def _peer(self):
        return "%s:%s" % self.client_address[:2]

    def _send(self, status, body, ctype="text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Peer", self._peer())
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/":
            return self._send(200, INDEX, "text/html; charset=utf-8")
        if url.path == "/peer":
            return self._send(200, self._peer().encode())
        if url.path == "/headers":
            return self._send(200, json.dumps(list(self.headers.items())).encode(), "application/json")
        if url.path == "/scheme":
            return self._send(200, b"https" if self.server.tls else b"http")
        if url.path == "/big":
            try:
                size = int(parse_qs(url.query).get("size", ["0"])[0])
            except ValueError:
                return self._send(400, b"bad size\n")
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.send_header("X-Peer", self._peer())
            self.end_headers()
            if self.command != "HEAD":
                for c in pattern.chunks(size):
                    self.wfile.write(c)
            return
        if url.path == "/slow":
            # A response that takes a while to start: a request still in flight when the relay stops.
            time.sleep(float(parse_qs(url.query).get("seconds", ["1"])[0]))
            return self._send(200, b"slow and complete\n")
        if url.path == "/ws":
            return self._websocket()
        return self._send(404, b"not found\n")

    def _hash_body(self, length, h):
        """Reads exactly `length` body bytes into hash `h`; False (and close) if the client vanished."""
        left = length
        while left:
            data = self.rfile.read(min(left, 1 << 16))
            if not data:
                self.close_connection = True
                return False
            h.update(data)
            left -= len(data)
        return True

    def do_POST(self):
        url = urlsplit(self.path)
        h = hashlib.sha256()
        n = 0
        te = self.headers.get("Transfer-Encoding", "").lower()
        if "chunked" in te:
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    self.close_connection = True
                    return
                size = int(line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    # trailers until the empty line
                    while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                if not self._hash_body(size, h):
                    return
                n += size
                self.rfile.readline(16)  # CRLF after the chunk
        else:
            n = int(self.headers.get("Content-Length", "0"))
            if not self._hash_body(n, h):
                return
        if url.path != "/echo":
            return self._send(404, b"not found\n")
        body = json.dumps({"sha256": h.hexdigest(), "length": n, "chunked": "chunked" in te}).encode()
        self._send(200, body, "application/json")

    def _websocket(self):
        key = self.headers.get("Sec-WebSocket-Key")
        if not key or "websocket" not in self.headers.get("Upgrade", "").lower():
            return self._send(400, b"not a websocket request\n")
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", websocket.accept_key(key))
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True

        def read_exact(n):
            data = self.rfile.read(n)
            if len(data) != n:
                raise EOFError
            return data

        message, message_op = b"", None
        try:
            while True:
                fin, op, payload = websocket.read_frame(read_exact)
                if op == websocket.OP_CLOSE:
                    self.wfile.write(websocket.encode_frame(websocket.OP_CLOSE, payload[:2], mask=False))
                    self.wfile.flush()
                    return
                if op == websocket.OP_PING:
                    self.wfile.write(websocket.encode_frame(websocket.OP_PONG, payload, mask=False))
                    self.wfile.flush()
                    continue
                if op == websocket.OP_PONG:
                    continue
                if op != websocket.OP_CONT:
                    message_op, message = op, b""
                message += payload
                if fin:
                    self.wfile.write(websocket.encode_frame(message_op, message, mask=False))
                    self.wfile.flush()
        except (EOFError, ConnectionError, ValueError):
            return


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256
    tls = False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--tls-cert", help="serve HTTPS with this certificate (chain) PEM")
    ap.add_argument("--tls-key")
    args = ap.parse_args()
    srv = Server((args.host, args.port), Handler)
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        # Handshake lazily, in the handler's thread, so one stalled client never blocks accept().
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
        srv.tls = True
    print("READY %s:%d" % srv.server_address[:2], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
