"""Hostile origins for the security tests: a canary that counts every connection, and a raw-socket origin."""

from __future__ import annotations

import datetime
import gzip
import socket
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import brotli

Handler = Callable[[socket.socket, str], None]


class Canary:
    """A TCP listener on loopback that must never be reached: it counts connections and the bytes it was sent."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(64)
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0
        self.received: list[bytes] = []
        self._closed = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self._closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.settimeout(1)
            try:
                self.received.append(conn.recv(65536))
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n\r\ncanary reached")
            except OSError:
                pass
            finally:
                conn.close()

    def close(self) -> None:
        self._closed = True
        self.sock.close()


class RawOrigin:
    """An HTTP origin on loopback written against bare sockets, so it can misbehave in ways a framework won't."""

    def __init__(self, routes: dict[str, Handler]) -> None:
        self.routes = routes
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = int(self.sock.getsockname()[1])
        self.requests: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(30)
        try:
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 65536:
                data = conn.recv(4096)
                if not data:
                    return
                head += data
            line = head.split(b"\r\n", 1)[0].decode("latin-1")
            path = line.split(" ")[1] if line.count(" ") >= 2 else "/"
            self.requests.append(path)
            handler = self.routes.get(path.split("?")[0], not_found)
            handler(conn, path)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.sock.close()


@contextmanager
def serving(handler: Handler) -> Iterator[RawOrigin]:
    """A RawOrigin whose one page, /, is handler's, for the length of the block."""
    origin = RawOrigin({"/": handler})
    try:
        yield origin
    finally:
        origin.close()


def head(status: str = "200 OK", **headers: str | int) -> bytes:
    """A status line and headers; keyword names use _ for - (Content_Type)."""
    lines = [f"HTTP/1.1 {status}"] + [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


ARTICLE = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>Owls at night</title></head><body><article>"
    "<h1>Owls at night</h1>"
    + "<p>The first paragraph is about owls, which hunt at night with silent feathers and very good ears. "
    "Barn owls can find a mouse under snow by sound alone, a remarkable skill for any bird.</p>"
    * 4
    + "</article></body></html>"
).encode()


def respond(body: bytes, *, content_type: str = "text/html; charset=utf-8", status: str = "200 OK") -> Handler:
    def handler(conn: socket.socket, path: str) -> None:
        conn.sendall(head(status, Content_Type=content_type, Content_Length=len(body), Connection="close") + body)

    return handler


def not_found(conn: socket.socket, path: str) -> None:
    respond(b"no such page", content_type="text/plain", status="404 Not Found")(conn, path)


def drip(prefix: bytes, *, every: float = 0.3, byte: bytes = b"a") -> Handler:
    """Send prefix, then one byte at a time, forever (until the client goes away)."""

    def handler(conn: socket.socket, path: str) -> None:
        conn.sendall(prefix)
        while True:
            conn.sendall(byte)
            time.sleep(every)

    return handler


def drip_headers(conn: socket.socket, path: str) -> None:
    """The status line and headers, a byte at a time, never ending."""
    for value in head("200 OK", Content_Type="text/html")[:-2] + b"X-Slow: " + b"a" * 100_000:
        conn.sendall(bytes([value]))
        time.sleep(0.3)


def silent(conn: socket.socket, path: str) -> None:
    """Accept the request and say nothing."""
    time.sleep(60)


def endless(conn: socket.socket, path: str) -> None:
    """A chunked body that never ends, sent as fast as the client reads."""
    conn.sendall(head(Content_Type="text/html", Transfer_Encoding="chunked"))
    chunk = b"<p>" + b"owls " * 3000 + b"</p>"
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    while True:
        conn.sendall(frame)


def redirect_with_stalled_body(location: str) -> Handler:
    """A redirect whose chunked body starts and never ends: only a client that leaves it unread follows at once."""

    def handler(conn: socket.socket, path: str) -> None:
        conn.sendall(head("302 Found", Location=location, Content_Type="text/html", Transfer_Encoding="chunked"))
        conn.sendall(b"4\r\nowls\r\n")
        conn.recv(1)  # until the client hangs up

    return handler


def endless_close_delimited(conn: socket.socket, path: str) -> None:
    """No length and no chunking: the body ends when the connection does, which is never."""
    conn.sendall(head(Content_Type="text/plain", Connection="close"))
    chunk = b"owls " * 3000 + b"\n"
    while True:
        conn.sendall(chunk)


def oversized_declared(conn: socket.socket, path: str) -> None:
    """A Content-Length over the limit, then a slow body: refused from the header."""
    conn.sendall(head(Content_Type="text/html", Content_Length=50 * 1024 * 1024))
    time.sleep(30)


def bomb(encoding: str) -> Handler:
    """A small body that decodes to 64 MiB of zeros (gzip, deflate, br, or gzip wrapped six times)."""
    raw = b"\0" * (64 * 1024 * 1024)
    if encoding == "br":
        body = brotli.compress(raw, quality=5)
    elif encoding == "deflate":
        body = zlib.compress(raw, 9)
    else:
        body = gzip.compress(raw, 9)
    if encoding == "gzip, gzip, gzip, gzip, gzip, gzip":
        for _ in range(5):
            body = gzip.compress(body)

    def handler(conn: socket.socket, path: str) -> None:
        conn.sendall(head(Content_Type="text/html", Content_Encoding=encoding, Content_Length=len(body)) + body)

    return handler


def redirect_to(location: str, status: str = "302 Found") -> Handler:
    def handler(conn: socket.socket, path: str) -> None:
        conn.sendall(head(status, Location=location, Content_Length=0, Connection="close"))

    return handler


def redirect_chain(conn: socket.socket, path: str) -> None:
    """/chain?n=K redirects to /chain?n=K-1 until n=0, which is the article."""
    left = int(path.split("n=")[1])
    if left == 0:
        respond(ARTICLE)(conn, path)
    else:
        redirect_to(f"/chain?n={left - 1}", "301 Moved Permanently")(conn, path)


def reset(conn: socket.socket, path: str) -> None:
    """Half a body, then a TCP reset (SO_LINGER 0)."""
    conn.sendall(head(Content_Type="text/html", Content_Length=len(ARTICLE)) + ARTICLE[:100])
    time.sleep(0.1)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def reset_before_answer(conn: socket.socket, path: str) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def truncated(conn: socket.socket, path: str) -> None:
    """A Content-Length the body never reaches, then a clean close."""
    conn.sendall(head(Content_Type="text/html", Content_Length=len(ARTICLE)) + ARTICLE[:200])


def truncated_chunked(conn: socket.socket, path: str) -> None:
    conn.sendall(head(Content_Type="text/html", Transfer_Encoding="chunked") + b"400\r\n" + ARTICLE[:200])


def not_http(conn: socket.socket, path: str) -> None:
    conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n" + b"\xff" * 1000)


def too_many_headers(conn: socket.socket, path: str) -> None:
    extra = "".join(f"X-H{n}: {n}\r\n" for n in range(500))
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n" + extra.encode() + b"\r\n" + ARTICLE)


def raw_answer(*parts: bytes) -> Handler:
    """Send parts as they are, one after the other (each is sent, not joined, so a large part is never copied)."""

    def handler(conn: socket.socket, path: str) -> None:
        for part in parts:
            conn.sendall(part)

    return handler


def interim_then_article(*interim: bytes) -> Handler:
    """Interim (1xx) answers, then the article as the final answer."""
    return raw_answer(*interim, head(Content_Type="text/html; charset=utf-8", Content_Length=len(ARTICLE)), ARTICLE)


def file_then_drip(content_type: str, first: bytes) -> Handler:
    """A file type in the headers, then a body that trickles forever: only a decision from headers answers fast."""
    return drip(head(Content_Type=content_type, Content_Length=10_000_000) + first, every=0.3, byte=b"\0")


# Audit hook: every socket.connect this process makes, while a test records them.
_connects: list[Any] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.connect" and _connects is not None:
        _connects.append(args[1])


sys.addaudithook(_audit)


@contextmanager
def recorded_connects() -> Iterator[list[Any]]:
    """Collect the address of every socket.connect made in this process inside the block."""
    global _connects
    _connects = found = []
    try:
        yield found
    finally:
        _connects = None


def self_signed_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate and key for name, written to directory (no CA trusts it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path
