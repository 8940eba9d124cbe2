"""A stand-in for the Lambda Runtime API (2018-06-01) on loopback, and the real runtime process that talks to it.

It speaks the documented endpoints, so the real awslambdaric client (its C++ HTTP client included) drives it:
GET  /2018-06-01/runtime/invocation/next              hands out the next queued event, or waits for one
POST /2018-06-01/runtime/invocation/{id}/response     the function's answer
POST /2018-06-01/runtime/invocation/{id}/error        the function raised
POST /2018-06-01/runtime/init/error                   the handler module failed to load
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from tests.conftest import LoggedProcess

PREFIX = "/2018-06-01/runtime"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:text-mode"


@dataclass
class Outcome:
    """What the function posted back for one invocation (or for its init)."""

    kind: str  # "response", "error" or "init-error"
    body: Any
    headers: dict[str, str]
    request_id: str = ""


@dataclass
class _Invocation:
    request_id: str
    event: bytes
    deadline_ms: int
    done: queue.Queue[Outcome] = field(default_factory=lambda: queue.Queue(maxsize=1))


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a runtime killed mid-/next is no news
            super().handle_error(request, client_address)


class RuntimeAPI:
    """The Runtime API on 127.0.0.1: queue events with invoke(), read what the function answered."""

    def __init__(self) -> None:
        self._pending: queue.Queue[_Invocation] = queue.Queue()
        self._running: dict[str, _Invocation] = {}
        self._ids = itertools.count(1)
        self.init_errors: queue.Queue[Outcome] = queue.Queue()
        self.next_calls = 0
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._server.block_on_close = False  # a runtime waiting on /next must not hold up close()
        self._closed = threading.Event()
        self.address = f"127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="runtime-api", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._closed.set()
        self._server.shutdown()
        self._server.server_close()

    def wait_init_error(self, process: LambdaProcess, *, timeout: float = 60) -> Outcome:
        """The init error the function reports; fail if it exits without one or never reports."""
        limit = time.monotonic() + timeout
        while time.monotonic() < limit:
            try:
                return self.init_errors.get(timeout=0.1)
            except queue.Empty:
                if process.poll() is not None and self.init_errors.empty():
                    raise RuntimeError(
                        f"exited ({process.poll()}) without an init error:\n{process.output()}"
                    ) from None
        raise TimeoutError("no init error reported")

    def invoke(
        self, event: Any, *, process: LambdaProcess | None = None, seconds_left: float = 30, timeout: float = 60
    ) -> Outcome:
        """Queue one event, wait for the function's answer; fail fast if the process dies."""
        request_id = f"8476a536-e9f4-11e8-9739-{next(self._ids):012d}"
        invocation = _Invocation(
            request_id=request_id,
            event=json.dumps(event).encode(),
            deadline_ms=int((time.time() + seconds_left) * 1000),
        )
        self._pending.put(invocation)
        limit = time.monotonic() + timeout
        while time.monotonic() < limit:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"the Lambda process exited ({process.poll()}):\n{process.output()}")
            try:
                return invocation.done.get(timeout=0.1)
            except queue.Empty:
                continue
        raise TimeoutError(f"no answer to invocation {request_id}")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path != f"{PREFIX}/invocation/next":
                    self._reply(404, b'{"errorType":"NotFound"}')
                    return
                api.next_calls += 1
                while not api._closed.is_set():
                    try:
                        invocation = api._pending.get(timeout=0.2)
                        break
                    except queue.Empty:
                        continue
                else:
                    self.close_connection = True
                    return
                api._running[invocation.request_id] = invocation
                self._reply(
                    200,
                    invocation.event,
                    {
                        "Content-Type": "application/json",
                        "Lambda-Runtime-Aws-Request-Id": invocation.request_id,
                        "Lambda-Runtime-Deadline-Ms": str(invocation.deadline_ms),
                        "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
                        "Lambda-Runtime-Trace-Id": "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419",
                    },
                )

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = self.path.removeprefix(PREFIX).strip("/").split("/")
                headers = {name: value for name, value in self.headers.items()}
                if parts == ["init", "error"]:
                    api.init_errors.put(Outcome("init-error", json.loads(body), headers))
                    self._reply(202, b'{"status":"OK"}')
                    return
                if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                    invocation = api._running.pop(parts[1], None)
                    if invocation is None:
                        self._reply(400, b'{"errorType":"InvalidRequestID"}')
                        return
                    invocation.done.put(Outcome(parts[2], json.loads(body), headers, invocation.request_id))
                    self._reply(202, b'{"status":"OK"}')
                    return
                self._reply(404, b'{"errorType":"NotFound"}')

        return Handler


class LambdaProcess(LoggedProcess):
    """A real runtime process (`python -m app` by default) pointed at a RuntimeAPI, its output in a file."""

    def __init__(
        self, runtime: RuntimeAPI, env: dict[str, str], *, argv: list[str] | None = None, log_path: Path
    ) -> None:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXT_MODE_", "AWS_"))}
        full_env.update({"AWS_LAMBDA_RUNTIME_API": runtime.address, "AWS_LAMBDA_FUNCTION_NAME": "text-mode"})
        full_env.update(env)
        super().__init__(argv or [sys.executable, "-m", "app"], full_env, log_path=log_path)

    def poll(self) -> int | None:
        return self.process.poll()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()  # as Lambda does: the runtime is frozen or killed, never asked to stop
        self.process.wait(timeout=20)
        self.log.close()


EVENTS = Path(__file__).parent / "lambda_events"
EVENT_NAMES = sorted(path.stem for path in EVENTS.glob("*.json"))


def load_event(name: str) -> dict[str, Any]:
    """One of the real AWS events in tests/lambda_events/, as Lambda hands it over."""
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


def event_for(
    name: str, *, path: str, query: str = "", method: str = "GET", headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """The fixture event `name` reshaped to ask for `path?query`, as its front door would send that request.

    `path` is what the client typed after the host. Each shape carries it its own way: payload 2.0 as
    rawPath and rawQueryString; a REST API as `path` without the stage and `requestContext.path` with it,
    and the query decoded into maps; an ALB as `path` with the query left encoded.
    """
    event = load_event(name)
    context = event["requestContext"]
    extra = {name.lower(): value for name, value in (headers or {}).items()}
    pairs = [tuple(part.partition("=")[::2]) for part in query.split("&")] if query else []
    event.update(body=None, isBase64Encoded=False)
    if event.get("version") == "2.0":
        event.update(rawPath=path, rawQueryString=query)
        context["http"].update(method=method, path=path)
        event["headers"] = {**event["headers"], **extra}
        return event
    if "elb" not in context:  # API Gateway payload 1.0 decodes the query, ALB passes it on as sent
        pairs = [(unquote_plus(key), unquote_plus(value)) for key, value in pairs]
        stage_prefix = context["path"][: -len(event["path"])] if context["path"].endswith(event["path"]) else ""
        context.update(path=path, httpMethod=method)
        event["path"] = path.removeprefix(stage_prefix) or "/"
    else:
        event["path"] = path
    event["httpMethod"] = method
    if "multiValueHeaders" in event:
        event["multiValueHeaders"] = {**event["multiValueHeaders"], **{k: [v] for k, v in extra.items()}}
        multi: dict[str, list[str]] = {}
        for key, value in pairs:
            multi.setdefault(key, []).append(value)
        event["multiValueQueryStringParameters"] = multi or None
    if "multiValueHeaders" not in event or event.get("headers") is not None:
        event["headers"] = {**(event.get("headers") or {}), **extra}
    if "multiValueQueryStringParameters" not in event or "elb" not in context:
        event["queryStringParameters"] = dict(pairs) or None
    return event
