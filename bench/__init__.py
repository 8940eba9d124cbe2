"""Benchmarks: scripts that print figures side by side; never run as tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
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
