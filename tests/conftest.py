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


class LoggedProcess:
    """A process started from the project's root, its output (stdout and stderr) in a file tests can read."""

    def __init__(self, argv: list[str], env: dict[str, str], *, log_path: Path) -> None:
        self.log_path = log_path
        self.log = log_path.open("w+")
        self.process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_for(self, url: str, *, timeout: float = 30) -> None:
        """Return once url answers at all; raise with the output if the process exits or the time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.log_path.name}: the process exited early:\n{self.output()}")
            try:
                requests.get(url, timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.log_path.name}: the process did not start:\n{self.output()}")

    def stop(self) -> int:
        """SIGTERM, as a supervisor would; killed if it has not ended after 20 s."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode


class Service(LoggedProcess):
    """A real `python -m app` process (gunicorn) on a free loopback port."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("TEXT_MODE_")}
        full_env.update({"PORT": str(self.port), "WEB_CONCURRENCY": "1", "AWS_LAMBDA_RUNTIME_API": ""})
        full_env.update(env)
        log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"text-mode-{self.port}.log"
        super().__init__([sys.executable, "-m", "app"], full_env, log_path=log_path)

    def wait_ready(self, timeout: float = 30) -> None:
        self.wait_for(self.base + "/default/", timeout=timeout)


@pytest.fixture(scope="module")
def service() -> Iterator[Service]:
    running = Service({"TEXT_MODE_ALLOW_PRIVATE": "1", "TEXT_MODE_FETCH_TIMEOUT": "3"})
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()
