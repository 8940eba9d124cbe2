"""Benchmarks: scripts that print figures side by side; never run as tests."""

from __future__ import annotations

import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def started_service(
    settings: dict[str, str], *, argv: list[str] | None = None, port: int | None = None, timeout: float = 60
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`python -m app` (or argv) on a loopback port with the given settings; yields its base URL and process."""
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEXT_MODE_")}
    env.update({"PORT": str(port), "WEB_CONCURRENCY": "1", "AWS_LAMBDA_RUNTIME_API": "", **settings})
    log = Path(f"/tmp/text-mode-bench-{port}.log").open("w")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(argv or [sys.executable, "-m", "app"], cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the service did not start; see {log.name}")
            try:
                requests.get(base + "/default/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield base, process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


class _Origin(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # wrk opens many connections at once


@contextmanager
def html_origin(page_for: Callable[[str], bytes | None]) -> Iterator[str]:
    """A loopback site answering GET <path> with page_for(path) as UTF-8 HTML (404 for None); yields its base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = page_for(self.path)
            if not body:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = _Origin(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
