"""End to end: the real `python -m app` process runs awslambdaric's loop against our Runtime API stand-in."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from app import create_app
from app.lambda_handler import make_handler
from tests.lambda_runtime import EVENT_NAMES, LambdaProcess, RuntimeAPI, event_for, load_event
from tests.pdfs import owls_pdf
from tests.samples import OWLS as ARTICLE
from tests.test_lambda_handler import FIXTURE_ANSWERS, lambda_context, steady

# What the Dockerfile's CMD runs: the base image's bootstrap starts awslambdaric with the handler's name.
AWSLAMBDARIC_CLI = [sys.executable, "-m", "awslambdaric", "app.lambda_handler.handler"]


@pytest.fixture(scope="module")
def runtime() -> Iterator[RuntimeAPI]:
    api = RuntimeAPI()
    yield api
    api.close()


@pytest.fixture(scope="module")
def function(runtime: RuntimeAPI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LambdaProcess]:
    # Test origins listen on loopback, so the private-address rule is lifted for this process.
    log_path = tmp_path_factory.mktemp("lambda") / "function.log"
    process = LambdaProcess(runtime, {"TEXT_MODE_ALLOW_PRIVATE": "1"}, log_path=log_path)
    yield process
    process.stop()


def log_lines(process: LambdaProcess) -> list[dict[str, object]]:
    return [json.loads(line) for line in process.output().splitlines() if line.startswith("{")]


@pytest.mark.parametrize("name", EVENT_NAMES)
def test_every_real_event_through_the_real_runtime_client(
    runtime: RuntimeAPI, function: LambdaProcess, name: str
) -> None:
    status, _ = FIXTURE_ANSWERS[name]
    outcome = runtime.invoke(load_event(name), process=function)
    assert outcome.kind == "response"
    assert outcome.body["statusCode"] == status
    # Exactly what the handler returns in this process, carried whole by awslambdaric's marshaller.
    expected = make_handler(create_app({"TESTING": True}))(load_event(name), lambda_context())
    assert steady(outcome.body) == steady(expected)


def test_the_process_says_it_runs_the_lambda_runtime(runtime: RuntimeAPI, function: LambdaProcess) -> None:
    runtime.invoke(load_event("http-api-v2_stage-dollar-default"), process=function)
    assert log_lines(function)[0]["message"] == "Starting up in Lambda Runtime"
    assert "Starting up on own" not in function.output()


def test_an_article_from_a_loopback_origin(
    runtime: RuntimeAPI, function: LambdaProcess, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/owls").respond_with_data(ARTICLE, content_type="text/html; charset=utf-8")
    event = event_for(
        "http-api-v2_stage-default",
        path="/default/text-mode",
        query="width=60&url=" + httpserver.url_for("/owls"),
        headers={"Accept": "*/*"},
    )
    outcome = runtime.invoke(event, process=function)
    answer = outcome.body
    direct = (
        create_app({"TESTING": True, "ALLOW_PRIVATE": True})
        .test_client()
        .get("/default/text-mode?width=60&url=" + httpserver.url_for("/owls"))
    )
    # Two answers made apart: each says when its own bytes were made, to the second (it failed when a second ticked).
    assert answer["headers"].pop("last-modified") and direct.headers["Last-Modified"]
    assert steady(answer) == steady(
        {
            "statusCode": 200,
            "cookies": [],
            "headers": {name.lower(): value for name, value in direct.headers.items() if name != "Last-Modified"},
            "isBase64Encoded": False,
            "body": direct.get_data(as_text=True),
        }
    )
    assert answer["body"].startswith("Owls at night\n=============\n")
    assert "The first paragraph is about owls" in answer["body"]
    assert "Subscribe now" not in answer["body"]


def test_a_pdf_is_read_in_its_child_process_under_the_lambda_runtime(
    runtime: RuntimeAPI, function: LambdaProcess, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/owls.pdf").respond_with_data(owls_pdf(), content_type="application/pdf")
    query = "width=0&url=" + httpserver.url_for("/owls.pdf")
    event = event_for("http-api-v2_stage-default", path="/default/text-mode", query=query, headers={"Accept": "*/*"})
    answer = runtime.invoke(event, process=function).body
    assert answer["statusCode"] == 200
    assert "the information it gathers comes from both ears at once" in answer["body"]


def test_log_lines_are_json_with_the_lambda_request_id(runtime: RuntimeAPI, function: LambdaProcess) -> None:
    outcome = runtime.invoke(event_for("function-url_get", path="/default/text-mode"), process=function)
    assert outcome.body["statusCode"] == 200
    # No wait needed: the access log line is written (and flushed) in the app, before the answer is posted.
    lines = [line for line in log_lines(function) if line["requestId"] == outcome.request_id]
    assert [(line["level"], line["logger"]) for line in lines] == [("INFO", "text_mode")]
    assert str(lines[0]["message"]).startswith("GET /default/text-mode 200 ")


def test_a_slow_site_gets_a_504_not_a_lambda_timeout(
    runtime: RuntimeAPI, function: LambdaProcess, httpserver: HTTPServer
) -> None:
    release = threading.Event()

    def held(request: object) -> Response:
        release.wait(10)  # longer than the invocation has left, until the test has its answer
        return Response(ARTICLE, content_type="text/html")

    httpserver.expect_request("/slow").respond_with_handler(held)
    event = event_for(
        "http-api-v2_stage-default",
        path="/default/text-mode",
        query="format=json&url=" + httpserver.url_for("/slow"),
        headers={"Accept": "*/*"},
    )
    # Lambda allows 2.5 s more; the fetch setting (10 s) would outlast it, the invocation's deadline does not.
    try:
        outcome = runtime.invoke(event, process=function, seconds_left=2.5)
    finally:
        release.set()
    assert outcome.kind == "response"
    assert outcome.body["statusCode"] == 504
    assert json.loads(outcome.body["body"])["code"] == "upstream_timeout"


@pytest.mark.parametrize("argv", [None, AWSLAMBDARIC_CLI], ids=["python -m app", "python -m awslambdaric"])
def test_a_bad_setting_is_an_init_error_that_names_the_variable(tmp_path: Path, argv: list[str] | None) -> None:
    runtime = RuntimeAPI()
    process = LambdaProcess(runtime, {"TEXT_MODE_FETCH_TIMEOUT": "soon"}, argv=argv, log_path=tmp_path / "out.log")
    try:
        error = runtime.wait_init_error(process)
        assert process.process.wait(timeout=30) != 0
    finally:
        process.stop()
        runtime.close()
    assert error.headers["Lambda-Runtime-Function-Error-Type"] == "ConfigError"
    assert error.body["errorType"] == "ConfigError"
    assert error.body["errorMessage"] == "TEXT_MODE_FETCH_TIMEOUT='soon' is not valid"
    assert runtime.next_calls == 0


def test_the_dockerfile_command_serves_through_awslambdaric(tmp_path: Path) -> None:
    runtime = RuntimeAPI()
    process = LambdaProcess(runtime, {}, argv=AWSLAMBDARIC_CLI, log_path=tmp_path / "out.log")
    try:
        outcome = runtime.invoke(event_for("http-api-v2_stage-default", path="/default/text-mode"), process=process)
    finally:
        process.stop()
        runtime.close()
    assert outcome.body["statusCode"] == 200
    assert outcome.body["headers"]["content-type"] == "text/html; charset=utf-8"  # the fixture is a browser's
    assert '<form action="/default/text-mode"' in outcome.body["body"]  # the home page
    lines = [json.loads(line) for line in process.output().splitlines() if line.startswith("{")]
    assert any(line["requestId"] == outcome.request_id for line in lines)


# Lambda's filesystem is read-only outside /tmp. An audit hook (PEP 578) in the real process reports every
# open for writing, and every file created, renamed or removed, that falls outside /tmp.
WATCHED = """
import os, runpy, sys
def outside_tmp(path):
    path = os.path.abspath(os.fsdecode(path))
    return not path.startswith(("/tmp/", "/dev/", "/proc/self/"))
def watch(event, args):
    if event == "open" and isinstance(args[0], (str, bytes)):
        mode, flags = args[1] or "", args[2] or 0
        writes = any(c in mode for c in "wax+") or flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND)
        if writes and outside_tmp(args[0]):
            print("WRITE OUTSIDE /tmp:", event, args[0], file=sys.__stderr__, flush=True)
    elif event in ("os.mkdir", "os.rename", "os.remove", "os.rmdir", "os.symlink", "os.truncate"):
        if isinstance(args[0], (str, bytes)) and outside_tmp(args[0]):
            print("WRITE OUTSIDE /tmp:", event, args[0], file=sys.__stderr__, flush=True)
sys.addaudithook(watch)
runpy.run_module("app", run_name="__main__", alter_sys=True)
"""


def test_nothing_is_written_outside_tmp(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/owls").respond_with_data(ARTICLE, content_type="text/html; charset=utf-8")
    runtime = RuntimeAPI()
    env = {"TEXT_MODE_ALLOW_PRIVATE": "1", "PYTHONDONTWRITEBYTECODE": "1"}  # the image ships compiled bytecode
    process = LambdaProcess(runtime, env, argv=[sys.executable, "-c", WATCHED], log_path=tmp_path / "out.log")
    try:
        page = event_for(
            "http-api-v2_stage-default", path="/default/text-mode", query="url=" + httpserver.url_for("/owls")
        )
        answers = [runtime.invoke(page, process=process).body["statusCode"]]
        answers += [runtime.invoke(load_event(name), process=process).body["statusCode"] for name in EVENT_NAMES]
    finally:
        process.stop()
        runtime.close()
    assert answers[0] == 200
    assert "Starting up in Lambda Runtime" in process.output()
    assert "WRITE OUTSIDE /tmp" not in process.output()
