"""The in-process cache: byte bound, TTL, one fetch per page at a time, and the HTTP caching headers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from werkzeug import Request
from werkzeug import Response as WerkzeugResponse
from werkzeug.http import http_date, parse_date

from app import create_app
from app.cache import ENTRY_OVERHEAD, Entry, MemoryCache, ResultCache, SingleFlight, Timings
from tests.samples import OWLS as ARTICLE

SERVICE = "/default/text-mode"
MISS_STAGES = ["cache:miss", "fetch", "extract", "render", "cache:store", "total"]
WAITED_STAGES = ["cache:miss", "cache:waited for the same page", "render", "cache:store", "total"]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def entry(body: bytes, *, ttl: float = 600, now: float = 1_000_000.0) -> Entry:
    return Entry.make(body, content_type="text/plain; charset=utf-8", ttl=ttl, now=now)


def server_timing(header: str) -> dict[str, str]:
    """Server-Timing as {name or name:desc: duration}."""
    metrics = {}
    for metric in header.split(", "):
        name, *params = metric.split(";")
        values = dict(param.split("=", 1) for param in params)
        desc = values.get("desc", "").strip('"')
        metrics[f"{name}:{desc}" if desc else name] = values["dur"]
    return metrics


def test_memory_cache_drops_the_least_recently_used_past_its_byte_bound() -> None:
    one_entry = len("k1") + 100 + ENTRY_OVERHEAD
    cache = MemoryCache(max_bytes=3 * one_entry, clock=Clock())
    for key in ("k1", "k2", "k3"):
        cache.put(key, entry(b"x" * 100))
    assert cache.get("k1") is not None  # k1 is now the most recently used
    cache.put("k4", entry(b"y" * 100))
    assert [key for key in ("k1", "k2", "k3", "k4") if cache.get(key) is not None] == ["k1", "k3", "k4"]
    assert cache.size == 3 * one_entry


def test_memory_cache_replacing_a_key_counts_its_bytes_once() -> None:
    cache = MemoryCache(max_bytes=10_000, clock=Clock())
    cache.put("k", entry(b"a" * 1000))
    cache.put("k", entry(b"b" * 500))
    assert cache.size == len("k") + 500 + ENTRY_OVERHEAD
    assert len(cache) == 1


def test_an_answer_larger_than_the_whole_cache_is_not_stored() -> None:
    cache = MemoryCache(max_bytes=2048, clock=Clock())
    cache.put("small", entry(b"s"))
    cache.put("huge", entry(b"h" * 4096))
    assert cache.get("huge") is None
    assert cache.get("small") is not None  # and it did not push out what was there


def test_memory_cache_forgets_an_answer_once_its_ttl_has_passed() -> None:
    clock = Clock()
    cache = MemoryCache(max_bytes=10_000, clock=clock)
    cache.put("k", entry(b"body", ttl=600, now=clock.now))
    clock.now += 599
    assert cache.get("k") is not None
    clock.now += 1
    assert cache.get("k") is None
    assert cache.size == 0


def test_the_etag_is_a_hash_of_the_bytes() -> None:
    assert entry(b"same").etag == entry(b"same", now=5.0).etag
    assert entry(b"same").etag != entry(b"other").etag


def test_single_flight_runs_one_call_for_callers_that_arrive_meanwhile() -> None:
    flights = SingleFlight()
    release = threading.Event()
    calls = []

    def slow() -> str:
        calls.append(1)
        release.wait(10)
        return "page"

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(flights.run, "https://a.example/", slow) for _ in range(8)]
        assert flights.wait_for_waiters("https://a.example/", 7, timeout=10)  # the other seven joined the call
        release.set()
        results = [future.result(timeout=10) for future in futures]
    assert len(calls) == 1
    assert sorted(results) == [("page", False)] + [("page", True)] * 7


def test_single_flight_hands_the_error_to_every_waiter_and_keeps_nothing() -> None:
    flights = SingleFlight()
    release = threading.Event()
    calls = []

    def failing() -> str:
        calls.append(1)
        release.wait(10)
        raise ValueError("origin down")

    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = [pool.submit(flights.run, "k", failing) for _ in range(3)]
        assert flights.wait_for_waiters("k", 2, timeout=10)
        release.set()
        errors = [future.exception(timeout=10) for future in futures]
    assert len(calls) == 1  # the origin was asked once; each waiter got that one failure
    assert errors[0] is errors[1] is errors[2]
    assert str(errors[0]) == "origin down"
    assert flights.run("k", lambda: "fresh") == ("fresh", False)


def test_single_flight_keeps_keys_apart() -> None:
    flights = SingleFlight()
    release = threading.Event()

    def held() -> str:
        release.wait(10)
        return "a"

    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(flights.run, "a", held)
        try:
            assert flights.run("b", lambda: "b") == ("b", False)  # not held up by the call for "a"
        finally:
            release.set()
        assert first.result(timeout=10) == ("a", False)


def test_timings_record_a_stage_that_raises() -> None:
    timings = Timings()
    with pytest.raises(ValueError), timings.stage("fetch"):
        raise ValueError
    timings.add("cache", 1.25, "hit")
    assert list(server_timing(timings.header())) == ["fetch", "cache:hit"]
    assert server_timing(timings.header())["cache:hit"] == "1.2"


def counted_article(
    httpserver: HTTPServer, path: str, *, hold: Callable[[], object] | None = None
) -> Callable[[], int]:
    """Serve the owls article at path (after hold() returns, if given); return how many times the origin was asked."""
    hits = []

    def handler(request: Request) -> WerkzeugResponse:
        hits.append(request.path)
        if hold is not None:
            hold()
        return WerkzeugResponse(ARTICLE, content_type="text/html; charset=utf-8")

    httpserver.expect_request(path).respond_with_handler(handler)
    return lambda: len(hits)


def test_a_repeat_is_answered_from_the_cache_with_the_same_bytes(client: FlaskClient, httpserver: HTTPServer) -> None:
    origin_hits = counted_article(httpserver, "/owls")
    url = httpserver.url_for("/owls")
    first = client.get(SERVICE, query_string={"url": url})
    second = client.get(SERVICE, query_string={"url": url})
    assert origin_hits() == 1
    assert first.status_code == second.status_code == 200
    assert second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]
    assert list(server_timing(first.headers["Server-Timing"])) == MISS_STAGES
    assert list(server_timing(second.headers["Server-Timing"])) == ["cache:hit", "total"]


def test_a_cached_answer_says_its_age_and_is_dropped_after_the_ttl(httpserver: HTTPServer) -> None:
    origin_hits = counted_article(httpserver, "/owls")
    clock = Clock()
    app = create_app({"TESTING": True, "ALLOW_PRIVATE": True})
    # The factory's cache, built again with a clock the test moves: the same classes, the same settings.
    app.extensions["text_mode_cache"] = ResultCache(MemoryCache(max_bytes=1 << 20, clock=clock), ttl=600, clock=clock)
    client = app.test_client()
    url = httpserver.url_for("/owls")
    first = client.get(SERVICE, query_string={"url": url})
    clock.now += 42.9
    second = client.get(SERVICE, query_string={"url": url})
    clock.now += 600 - 42.9
    third = client.get(SERVICE, query_string={"url": url})
    assert "Age" not in first.headers
    assert second.headers["Age"] == "42"
    assert "Age" not in third.headers
    assert origin_hits() == 2
    assert first.headers["Last-Modified"] == second.headers["Last-Modified"] == "Mon, 12 Jan 1970 13:46:40 GMT"
    assert third.headers["Last-Modified"] == "Mon, 12 Jan 1970 13:56:40 GMT"


def test_a_success_carries_its_http_caching_headers(client: FlaskClient, httpserver: HTTPServer) -> None:
    counted_article(httpserver, "/owls")
    response = client.get(SERVICE, query_string={"url": httpserver.url_for("/owls")})
    etag = response.headers["ETag"]
    assert response.headers["Cache-Control"] == "public, max-age=600"
    assert etag.startswith('"') and etag.endswith('"')  # strong: no W/ prefix
    assert response.headers["Vary"] == "Accept"


@pytest.mark.parametrize("fmt", ["text", "markdown", "json", "html"])
def test_a_conditional_request_for_the_same_bytes_is_answered_304_in_every_format(
    client: FlaskClient, httpserver: HTTPServer, fmt: str
) -> None:
    counted_article(httpserver, "/owls")
    query = {"url": httpserver.url_for("/owls"), "format": fmt}
    full = client.get(SERVICE, query_string=query)
    etag, last_modified = full.headers["ETag"], full.headers["Last-Modified"]
    validators = {
        "the ETag": {"If-None-Match": etag},
        "the ETag in a list": {"If-None-Match": f'"other", {etag}'},
        "any ETag": {"If-None-Match": "*"},
        "the date": {"If-Modified-Since": last_modified},
        "a later date": {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"},
    }
    for case, headers in validators.items():
        answer = client.get(SERVICE, query_string=query, headers=headers)
        assert (answer.status_code, answer.data) == (304, b""), case
        # RFC 9110 15.4.5: what a 200 would carry of Cache-Control, ETag and Vary (werkzeug drops Last-Modified).
        assert {name: answer.headers.get(name) for name in ("ETag", "Cache-Control", "Vary")} == {
            "ETag": etag,
            "Cache-Control": "public, max-age=600",
            "Vary": "Accept",
        }, case
    one_second_before = http_date(parse_date(last_modified) - timedelta(seconds=1))
    for case, headers in {
        "another ETag": {"If-None-Match": '"something-else"'},
        "an earlier date": {"If-Modified-Since": one_second_before},
        "another ETag and the date (the ETag outranks it)": {
            "If-None-Match": '"x"',
            "If-Modified-Since": last_modified,
        },
    }.items():
        answer = client.get(SERVICE, query_string=query, headers=headers)
        assert (answer.status_code, answer.data) == (200, full.data), case


def test_max_age_follows_the_ttl_setting(httpserver: HTTPServer) -> None:
    counted_article(httpserver, "/owls")
    app = create_app({"TESTING": True, "ALLOW_PRIVATE": True, "CACHE_TTL": 30.0})
    response = app.test_client().get(SERVICE, query_string={"url": httpserver.url_for("/owls")})
    assert response.headers["Cache-Control"] == "public, max-age=30"


def test_errors_are_never_cached(client: FlaskClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/down").respond_with_data("down", status=503)
    url = httpserver.url_for("/down")
    answers = [client.get(SERVICE, query_string={"url": url}) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [502, 502]
    assert len(httpserver.log) == 2
    assert all(answer.headers["Cache-Control"] == "no-store" for answer in answers)
    assert all("ETag" not in answer.headers for answer in answers)
    assert list(server_timing(answers[1].headers["Server-Timing"])) == ["cache:miss", "fetch", "total"]
    httpserver.clear()
    counted_article(httpserver, "/down")  # the site is back: the next request fetches it
    assert client.get(SERVICE, query_string={"url": url}).status_code == 200


def test_every_answer_carries_server_timing(client: FlaskClient) -> None:
    for path in (SERVICE, "/default/", "/nowhere"):
        assert "total" in server_timing(client.get(path).headers["Server-Timing"])


def test_options_that_change_the_output_are_cached_apart(client: FlaskClient, httpserver: HTTPServer) -> None:
    origin_hits = counted_article(httpserver, "/owls")
    url = httpserver.url_for("/owls")
    narrow = client.get(SERVICE, query_string={"url": url, "width": "40"})
    wide = client.get(SERVICE, query_string={"url": url, "width": "100"})
    as_json = client.get(SERVICE, query_string={"url": url, "format": "json"})
    narrow_again = client.get(SERVICE, query_string={"url": url, "width": "40"})
    assert origin_hits() == 3
    assert len({narrow.data, wide.data, as_json.data}) == 3
    assert len({narrow.headers["ETag"], wide.headers["ETag"], as_json.headers["ETag"]}) == 3
    assert narrow_again.data == narrow.data


def test_the_accept_header_chooses_among_cached_representations(client: FlaskClient, httpserver: HTTPServer) -> None:
    counted_article(httpserver, "/owls")
    url = httpserver.url_for("/owls")
    text = client.get(SERVICE, query_string={"url": url})
    as_json = client.get(SERVICE, query_string={"url": url}, headers={"Accept": "application/json"})
    assert text.content_type == "text/plain; charset=utf-8"
    assert as_json.content_type == "application/json"


def test_answers_are_keyed_by_the_final_url(client: FlaskClient, httpserver: HTTPServer) -> None:
    origin_hits = counted_article(httpserver, "/owls")
    httpserver.expect_request("/old-owls").respond_with_data("", status=301, headers={"Location": "/owls"})
    old, final = httpserver.url_for("/old-owls"), httpserver.url_for("/owls")
    via_redirect = client.get(SERVICE, query_string={"url": old})
    direct = client.get(SERVICE, query_string={"url": final})
    again_via_redirect = client.get(SERVICE, query_string={"url": old})
    assert origin_hits() == 1  # the final page was fetched once, for the first request
    assert [entry.path for entry, _ in httpserver.log] == ["/old-owls", "/owls"]
    assert via_redirect.data == direct.data == again_via_redirect.data
    assert list(server_timing(again_via_redirect.headers["Server-Timing"])) == ["cache:hit", "total"]


def test_json_keeps_the_url_as_asked_for(client: FlaskClient, httpserver: HTTPServer) -> None:
    counted_article(httpserver, "/owls")
    httpserver.expect_request("/old-owls").respond_with_data("", status=301, headers={"Location": "/owls"})
    old, final = httpserver.url_for("/old-owls"), httpserver.url_for("/owls")
    via_redirect = client.get(SERVICE, query_string={"url": old, "format": "json"}).get_json()
    direct = client.get(SERVICE, query_string={"url": final, "format": "json"}).get_json()
    assert (via_redirect["url"], via_redirect["final_url"]) == (old, final)
    assert (direct["url"], direct["final_url"]) == (final, final)


def test_cache_none_fetches_every_time(httpserver: HTTPServer) -> None:
    origin_hits = counted_article(httpserver, "/owls")
    client = create_app({"TESTING": True, "ALLOW_PRIVATE": True, "CACHE": "none"}).test_client()
    answers = [client.get(SERVICE, query_string={"url": httpserver.url_for("/owls")}) for _ in range(3)]
    assert origin_hits() == 3
    assert {answer.headers["ETag"] for answer in answers} == {answers[0].headers["ETag"]}
    assert answers[2].headers["Cache-Control"] == "public, max-age=600"  # HTTP caches in front may still keep it


def test_a_burst_for_one_page_fetches_it_once(app: Flask, httpserver: HTTPServer) -> None:
    url = httpserver.url_for("/popular")
    flights = app.extensions["text_mode_cache"].flights
    # The origin answers once the nine other requests are waiting for its fetch.
    origin_hits = counted_article(httpserver, "/popular", hold=lambda: flights.wait_for_waiters(url, 9, timeout=10))

    def ask(_: int) -> tuple[int, bytes, str]:
        response = app.test_client().get(SERVICE, query_string={"url": url, "width": "60"})
        return response.status_code, response.data, response.headers["Server-Timing"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(ask, range(10)))
    assert origin_hits() == 1
    assert {(status, body) for status, body, _ in answers} == {answers[0][:2]}
    assert answers[0][0] == 200
    # Which of the ten renders waited for another's turn (a `queue` entry) is the scheduler's choice.
    stages = sorted([stage for stage in server_timing(timing) if stage != "queue"] for _, _, timing in answers)
    assert stages == sorted([MISS_STAGES] + [WAITED_STAGES] * 9)


def test_the_cache_is_the_apps_own(httpserver: HTTPServer) -> None:
    origin_hits = counted_article(httpserver, "/owls")
    url = httpserver.url_for("/owls")
    for _ in range(2):
        create_app({"TESTING": True, "ALLOW_PRIVATE": True}).test_client().get(SERVICE, query_string={"url": url})
    assert origin_hits() == 2  # no state outlives the app that made it
