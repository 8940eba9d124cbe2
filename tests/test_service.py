"""End to end: the real `python -m app` (gunicorn) process over HTTP, against a loopback origin."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from bench.memory import arena_heaps
from tests.conftest import ROOT, Service, free_port
from tests.samples import OWLS as ARTICLE


def test_article_over_http_from_the_real_service(service: Service, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/owls").respond_with_data(ARTICLE, content_type="text/html; charset=utf-8")
    response = requests.get(
        f"{service.base}/default/text-mode", params={"url": httpserver.url_for("/owls")}, timeout=10
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    text = response.text
    assert text.startswith("Owls at night\n=============\nAda Owl · Bird News\n")
    assert "The first paragraph is about owls" in text
    assert "more about owls[1]" in text
    assert f"[1] {httpserver.url_for('/more')}" in text
    assert "Subscribe now" not in text
    assert "All rights reserved" not in text
    assert all(len(line) <= 80 for line in text.splitlines())
    assert f"<-- 200 {httpserver.url_for('/owls')}" in service.output()


def test_access_log_line_names_method_path_status_and_host(service: Service, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/logged").respond_with_data(ARTICLE, content_type="text/html")
    requests.get(f"{service.base}/default/text-mode?url={httpserver.url_for('/logged')}", timeout=10)
    requests.get(f"{service.base}/nowhere", timeout=10)
    output = service.output()
    assert "GET /default/text-mode 200 " in output
    assert "host=localhost" in output
    assert "Not found /nowhere" in output


def test_a_slow_origin_does_not_block_other_requests(service: Service, httpserver: HTTPServer) -> None:
    arrived, release = threading.Event(), threading.Event()

    def held(request: Request) -> Response:
        arrived.set()
        release.wait(timeout=2.5)  # under the service's 3 s fetch deadline
        return Response(ARTICLE, content_type="text/html")

    httpserver.expect_request("/slow").respond_with_handler(held)
    answers: list[requests.Response] = []
    url = f"{service.base}/default/text-mode?url={httpserver.url_for('/slow')}"
    slow = threading.Thread(target=lambda: answers.append(requests.get(url, timeout=10)))
    slow.start()
    assert arrived.wait(timeout=10)  # the service is now waiting on the origin
    usage = requests.get(f"{service.base}/default/text-mode", timeout=10)
    answered_meanwhile = slow.is_alive()
    release.set()
    slow.join()
    assert usage.status_code == 200
    assert answered_meanwhile  # the usage text came while the page was still held by its origin
    assert answers[0].status_code == 200


def test_sigterm_shuts_down_cleanly() -> None:
    running = Service({})
    running.wait_ready()
    assert running.stop() == 0
    assert "Starting up on own" in running.output()


def test_the_prefix_and_user_agent_come_from_the_environment(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/owls").respond_with_data(ARTICLE, content_type="text/html; charset=utf-8")
    running = Service(
        {"TEXT_MODE_ALLOW_PRIVATE": "1", "TEXT_MODE_PREFIX": "Prod/", "TEXT_MODE_USER_AGENT": " probe/3.0 (+ops) "}
    )
    try:
        running.wait_for(running.base + "/Prod/")
        served = requests.get(f"{running.base}/Prod/text-mode", params={"url": httpserver.url_for("/owls")}, timeout=10)
        default = requests.get(f"{running.base}/default/text-mode", timeout=10)
        root = requests.get(f"{running.base}/", allow_redirects=False, timeout=10)
    finally:
        running.stop()
    assert served.status_code == 200
    assert [request.headers["User-Agent"] for request, _ in httpserver.log] == ["probe/3.0 (+ops)"]
    assert default.status_code == 404
    assert (root.status_code, root.headers["Location"]) == (302, "/Prod/")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TEXT_MODE_FETCH_TIMEOUT", "soon", "TEXT_MODE_FETCH_TIMEOUT='soon' is not valid"),
        ("TEXT_MODE_USER_AGENT", "text-mode\r\nX-Injected: 1",
         "TEXT_MODE_USER_AGENT='text-mode\\r\\nX-Injected: 1' must be one line of printable ASCII"),
        ("TEXT_MODE_PREFIX", "/default\nX", "TEXT_MODE_PREFIX='/default\\nX' must be a plain path"),
    ],
)  # fmt: skip
def test_a_bad_setting_stops_start_up_naming_the_variable(variable: str, value: str, message: str) -> None:
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "app"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PORT": str(port), variable: value},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert f" ERROR text_mode: Configuration error: {message}" in result.stderr
    assert "\nX-Injected" not in result.stderr  # the value is shown escaped, never written out as a line
    assert "Traceback" not in result.stderr


def ask_together(service: Service, page: bytes, *, count: int = 8) -> tuple[list[requests.Response], float]:
    """Ask for count pages whose fetches all finish at the same moment; the answers and the wall time in ms."""
    together = threading.Barrier(count, timeout=20)

    def held(request: Request) -> Response:
        together.wait()  # count of the worker's threads are inside a fetch at once
        return Response(page, content_type="text/html")

    origin = HTTPServer(threaded=True)
    origin.expect_request("/held").respond_with_handler(held)
    origin.start()
    urls = [origin.url_for(f"/held?copy={n}") for n in range(count)]  # one URL would be fetched once
    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=count) as pool:
            answers = list(
                pool.map(
                    lambda url: requests.get(f"{service.base}/default/text-mode", params={"url": url}, timeout=30),
                    urls,
                )
            )
        return answers, (time.perf_counter() - started) * 1000
    finally:
        origin.clear()
        origin.stop()


def test_a_worker_allocates_from_two_malloc_arenas_however_many_threads_are_busy(service: Service) -> None:
    """glibc gives each busy thread an arena of its own: a loaded worker grew to 274 MiB, not 126 (bench.memory)."""
    answers, _ = ask_together(service, ARTICLE)
    (worker,) = Path(f"/proc/{service.process.pid}/task/{service.process.pid}/children").read_text().split()
    assert [answer.status_code for answer in answers] == [200] * 8
    assert arena_heaps(int(worker)) == 1  # besides the main arena, one for every other thread


def test_a_worker_extracts_one_page_at_a_time_however_many_arrive_together(service: Service) -> None:
    """Eight pages that arrive at once are extracted in turn, so their extract times add up to less than the wall time.

    Together they overlapped (each took about as long as all eight) and now and then corrupted the heap: lxml
    parses without the GIL, and threads share its string dictionary.
    """
    long_article = ARTICLE.replace(
        b"</article>", b"<p>Owls nest in old trees and barns, and hunt voles.</p>" * 600 + b"</article>"
    )
    answers, wall_ms = ask_together(service, long_article)
    assert [answer.status_code for answer in answers] == [200] * 8
    timings = [answer.headers["Server-Timing"] for answer in answers]
    assert sum(float(re.findall(r"extract;dur=([\d.]+)", timing)[0]) for timing in timings) < wall_ms
    assert any("queue;dur=" in timing for timing in timings)  # the ones that waited for their turn say so
