"""Fixtures: the app, its test client, saved pages, and the real service as a process on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from app import create_app

PAGES = Path(__file__).parent / "pages"
ROOT = Path(__file__).parent.parent


@pytest.fixture
def app() -> Flask:
    # Test origins listen on loopback on random ports, so the private-address rule is lifted here.
    return create_app({"TESTING": True, "ALLOW_PRIVATE": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def page() -> Callable[[str], bytes]:
    def load(name: str) -> bytes:
        return (PAGES / name).read_bytes()

    return load


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Service:
    """A real `python -m app` process (gunicorn) on a free loopback port."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"text-mode-{self.port}.log"
        self.log = self.log_path.open("w+")
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("TEXT_MODE_")}
        full_env.update({"PORT": str(self.port), "WEB_CONCURRENCY": "1", "AWS_LAMBDA_RUNTIME_API": ""})
        full_env.update(env)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app"], cwd=ROOT, env=full_env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the service exited early:\n{self.output()}")
            try:
                requests.get(self.base + "/default/", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"the service did not start:\n{self.output()}")

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode


@pytest.fixture(scope="module")
def service() -> Iterator[Service]:
    running = Service({"TEXT_MODE_ALLOW_PRIVATE": "1", "TEXT_MODE_FETCH_TIMEOUT": "3"})
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()
