#!/usr/bin/python3
"""A real HTTP/1.1 webhook receiver on 127.0.0.1 for tests and benchmarks: keep-alive, optional
TLS, noticed's HMAC signature checked, scripted statuses per path, one JSON line per request.

    /usr/bin/python3 tests/integration/peers/webhookd.py --port 0 --log DIR/hooks.jsonl \\
        --ready-file DIR/webhookd.port [--tls DIR/cert.pem:DIR/key.pem] [--secret SECRET] \\
        [--script /flaky=500,200] [--script /busy=429:Retry-After=2,200] [--script /gone=410]

Once listening it writes the port to --ready-file (PATH.tmp, then renamed) and prints
"READY <port>" on stdout.  SIGTERM or SIGINT: stops and exits 0.  See README.md.
Standard library only.
"""

import argparse
import email.utils
import hashlib
import hmac
import http.server
import json
import os
import re
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

SKEW = 300  # seconds a signature's timestamp may be away from now


class Step:
    """One scripted answer: a status with extra headers, or "close" (drop the connection)."""

    def __init__(self, text):
        status, *headers = text.split(":")
        self.close = status == "close"
        if not self.close and not re.fullmatch(r"[2-5][0-9][0-9]", status):
            raise argparse.ArgumentTypeError(f"{text!r}: want STATUS[:Name=Value...] or close")
        self.status = None if self.close else int(status)
        self.headers = []
        for header in headers:
            name, sep, value = header.partition("=")
            if not sep or not re.fullmatch(r"[A-Za-z0-9-]+", name):
                raise argparse.ArgumentTypeError(f"{header!r}: want Name=Value")
            self.headers.append((name, value))

    def header_values(self):
        """"date+N" stands for the HTTP date N seconds from now (date-N: ago)."""
        for name, value in self.headers:
            m = re.fullmatch(r"date([+-][0-9]+)", value)
            if m:
                value = email.utils.formatdate(time.time() + int(m.group(1)), usegmt=True)
            yield name, value


def script(text):
    path, sep, steps = text.partition("=")
    if not sep or not path.startswith("/") or not steps:
        raise argparse.ArgumentTypeError(f"{text!r}: want /PATH=STATUS[,STATUS...]")
    return path, [Step(s) for s in steps.split(",")]


def tls_pair(text):
    cert, sep, key = text.partition(":")
    if not sep or not cert or not key:
        raise argparse.ArgumentTypeError(f"{text!r}: want CERT:KEY")
    return cert, key


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # or every response waits ~40 ms for a delayed ACK
    timeout = 60                    # an idle keep-alive connection is closed after this

    def version_string(self):
        return "noticed-test-peer"

    # Silent, and never a reverse DNS lookup.
    def address_string(self):
        return self.client_address[0]

    def log_message(self, format, *args):
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline(65537).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        return self.rfile.read(length)

    def verify(self, body):
        """None without --secret; else whether signature and timestamp are good."""
        secret = self.server.secret
        if secret is None:
            return None
        timestamp = self.headers.get("X-Noticed-Timestamp", "")
        signature = self.headers.get("X-Noticed-Signature", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > SKEW:
            return False
        expected = "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body,
                                        hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode(), signature.encode())

    def handle_any(self):
        try:
            body = self.read_body()
        except ValueError:
            self.send_error(400, "bad body framing")
            return
        verified = self.verify(body)
        if verified is False:
            status, headers = 401, []  # the script is not advanced
        else:
            step = self.server.next_step(urllib.parse.urlsplit(self.path).path)
            if step is None:
                status, headers = 200, []
            elif step.close:
                status, headers = None, []
            else:
                status, headers = step.status, list(step.header_values())
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        timestamp = self.headers.get("X-Noticed-Timestamp")
        self.server.write_log({
            "method": self.command,
            "path": self.path,
            "status": status,  # null: scripted "close", the connection was dropped
            "verified": verified,
            "idempotency_key": self.headers.get("Idempotency-Key"),
            "timestamp": int(timestamp) if timestamp and timestamp.isdigit() else timestamp,
            "content_type": self.headers.get("Content-Type"),
            "user_agent": self.headers.get("User-Agent"),
            "size": len(body),
            "body": parsed,
        })
        if status is None:
            self.close_connection = True
            return
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if status in (204, 304):  # no body, no Content-Length
            self.end_headers()
            return
        reply = json.dumps({"status": status}).encode() + b"\n"
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply)

    do_POST = do_PUT = do_GET = do_HEAD = do_DELETE = do_PATCH = handle_any


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def __init__(self, args):
        self.secret = args.secret.encode() if args.secret is not None else None
        self.scripts = dict(args.script or [])
        self.counts = {}
        self.lock = threading.Lock()
        self.log = open(args.log, "a", encoding="utf-8") if args.log else None
        self.context = None
        if args.tls:
            self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.context.load_cert_chain(*args.tls)
        super().__init__(("127.0.0.1", args.port), Handler)

    def server_bind(self):
        # HTTPServer.server_bind() would look the host name up (getfqdn): skip that.
        socketserver.TCPServer.server_bind(self)
        self.server_name = "localhost"
        self.server_port = self.server_address[1]

    def finish_request(self, request, client_address):
        # The TLS handshake happens here, in the connection's thread, not in accept().
        if self.context is None:
            return super().finish_request(request, client_address)
        request.settimeout(Handler.timeout)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()

    def handle_error(self, request, client_address):
        pass  # a client that went away mid-request is no news to a test

    def next_step(self, path):
        steps = self.scripts.get(path)
        if not steps:
            return None
        with self.lock:
            n = self.counts.get(path, 0)
            self.counts[path] = n + 1
        return steps[min(n, len(steps) - 1)]

    def write_log(self, record):
        if self.log is None:
            return
        line = json.dumps(record) + "\n"
        with self.lock:
            self.log.write(line)
            self.log.flush()


def announce(port, ready_file):
    if ready_file:
        with open(ready_file + ".tmp", "w") as f:
            f.write(f"{port}\n")
        os.rename(ready_file + ".tmp", ready_file)
    try:
        sys.stdout.write(f"READY {port}\n")
        sys.stdout.flush()
    except OSError:
        pass


class Stop(Exception):
    pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--tls", type=tls_pair, metavar="CERT:KEY", help="serve HTTPS")
    parser.add_argument("--secret", help="check X-Noticed-Signature with this key; 401 if bad")
    parser.add_argument("--script", type=script, action="append", metavar="/PATH=STATUS,...",
                        help="answers for PATH in turn, the last repeating (repeatable)")
    parser.add_argument("--log", metavar="PATH", help="one JSON line per request")
    parser.add_argument("--ready-file", metavar="PATH", help="the port goes here when ready")
    args = parser.parse_args()

    server = Server(args)

    def stop(signum, frame):
        raise Stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        announce(server.server_address[1], args.ready_file)
        server.serve_forever()
    except Stop:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
