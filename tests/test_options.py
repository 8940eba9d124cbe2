"""The controls readers ask for: the path form, options as query parameters or Jina's headers, selectors,
a fresh fetch, and a shorter deadline."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from app import create_app
from tests.conftest import Service
from tests.lambda_runtime import event_for
from tests.test_lambda_handler import handler_for
from tests.test_service import ARTICLE

PAGE = """<html><head><title>Owls</title></head><body><article><h1>Owls</h1>
<p class="lede">Owls hunt at night, and their hearing finds a mouse under snow.</p>
<p class="more">Their feathers are soft at the edges, so their flight makes no sound at all.</p>
<div class="ad">Buy binoculars today from our shop of optics and lenses.</div>
</article></body></html>"""


@pytest.fixture
def app() -> Flask:
    return create_app({"TESTING": True, "ALLOW_PRIVATE": True, "FETCH_TIMEOUT": 1.0})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def raw_target(server: HTTPServer) -> str:
    """The request target the origin received, as sent: path and query, escapes untouched."""
    request, _ = server.log[-1]
    return str(request.environ["RAW_URI"])


@pytest.mark.parametrize(
    ("path", "received"),
    [
        ("/a/b?x=1&y=2", "/a/b?x=1&y=2"),  # the whole query string is the target's
        ("/a%2Fb%20c?q=%26&url=z", "/a%2Fb%20c?q=%26&url=z"),  # its escapes, and a url= of its own, as they were
        ("/plain", "/plain"),
    ],
)
def test_the_path_form_reads_everything_after_text_mode_as_the_target(
    client: FlaskClient, httpserver: HTTPServer, path: str, received: str
) -> None:
    httpserver.expect_request(path.split("?")[0].replace("%2F", "/").replace("%20", " ")).respond_with_data(
        ARTICLE, content_type="text/html"
    )
    response = client.get(f"/default/text-mode/{httpserver.url_for('')}{path.lstrip('/')}")
    assert response.status_code == 200, response.text
    assert response.text.startswith("Owls at night\n")
    assert raw_target(httpserver) == received


def test_the_path_form_takes_the_single_slash_a_proxy_makes_of_two(client: FlaskClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/owls").respond_with_data(ARTICLE, content_type="text/html")
    origin = httpserver.url_for("/owls")
    response = client.get(f"/default/text-mode/{origin.replace('http://', 'http:/')}")
    assert response.status_code == 200
    assert response.text.startswith("Owls at night\n")


def test_the_path_form_with_nothing_after_it_explains_the_service(client: FlaskClient) -> None:
    response = client.get("/default/text-mode/")
    assert response.status_code == 200
    assert "text-mode turns any web page into its article" in response.text


def test_the_path_form_through_a_real_gunicorn_and_a_lambda_event(service: Service, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/a/b").respond_with_data(ARTICLE, content_type="text/html")
    target = f"{httpserver.url_for('/a/b')}?x=1&y=%2F"
    served = requests.get(f"{service.base}/default/text-mode/{target}", timeout=10)
    assert served.status_code == 200
    assert raw_target(httpserver) == "/a/b?x=1&y=%2F"
    event = event_for("http-api-v2_stage-default", path=f"/default/text-mode/{target.split('?')[0]}", query="x=1&y=%2F")
    answer = handler_for()(event)
    assert answer["statusCode"] == 200, answer["body"]
    assert raw_target(httpserver) == "/a/b?x=1&y=%2F"


@pytest.mark.parametrize(
    ("headers", "query", "content_type"),
    [
        ({"X-Return-Format": "json"}, {}, "application/json"),
        ({"X-Respond-With": "markdown"}, {}, "text/markdown; charset=utf-8"),
        ({"X-Return-Format": "html"}, {}, "text/html; charset=utf-8"),
        ({"X-Return-Format": "json"}, {"format": "text"}, "text/plain; charset=utf-8"),  # the query wins
        ({"Accept": "application/json", "X-Return-Format": "markdown"}, {}, "text/markdown; charset=utf-8"),
    ],
)
def test_the_format_comes_from_jinas_headers_unless_the_query_says(
    client: FlaskClient, httpserver: HTTPServer, headers: dict[str, str], query: dict[str, str], content_type: str
) -> None:
    httpserver.expect_request("/owls").respond_with_data(ARTICLE, content_type="text/html")
    response = client.get(
        "/default/text-mode", query_string={**query, "url": httpserver.url_for("/owls")}, headers=headers
    )
    assert (response.status_code, response.content_type) == (200, content_type)


def test_an_unknown_format_header_is_a_400_naming_it(client: FlaskClient, httpserver: HTTPServer) -> None:
    response = client.get(
        f"/default/text-mode/{httpserver.url_for('/owls')}", headers={"X-Return-Format": "screenshot"}
    )
    assert response.status_code == 400
    assert response.text.startswith("Error: format='screenshot' is not known")


def json_text(response: Response) -> str:
    assert response.status_code == 200, response.text
    return str(json.loads(response.data)["text"])


@pytest.mark.parametrize(
    ("query", "headers", "text"),
    [
        ({"selector": ".lede"}, {}, "Owls hunt at night, and their hearing finds a mouse under snow."),
        ({}, {"X-Target-Selector": ".lede, .more"}, "Owls hunt at night, and their hearing finds a mouse under snow."
         "\n\nTheir feathers are soft at the edges, so their flight makes no sound at all."),
        ({"selector": ".more"}, {"X-Target-Selector": ".lede"},
         "Their feathers are soft at the edges, so their flight makes no sound at all."),
        ({"selector": "article", "remove": ".ad, h1"}, {}, "Owls hunt at night, and their hearing finds a mouse under"
         " snow.\n\nTheir feathers are soft at the edges, so their flight makes no sound at all."),
        ({"selector": "article"}, {"X-Remove-Selector": ".ad, h1, .more"},
         "Owls hunt at night, and their hearing finds a mouse under snow."),
    ],
)  # fmt: skip
def test_selectors_choose_and_remove_by_query_or_header(
    client: FlaskClient, httpserver: HTTPServer, query: dict[str, str], headers: dict[str, str], text: str
) -> None:
    httpserver.expect_request("/owls").respond_with_data(PAGE, content_type="text/html")
    url = httpserver.url_for("/owls")
    response = client.get("/default/text-mode", query_string={**query, "url": url, "format": "json"}, headers=headers)
    assert json_text(response) == text


def test_each_selector_has_its_own_cached_answer_and_its_own_fetch(client: FlaskClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/owls").respond_with_data(PAGE, content_type="text/html")
    url = httpserver.url_for("/owls")
    ask = {"url": url, "format": "json"}
    lede = json_text(client.get("/default/text-mode", query_string={**ask, "selector": ".lede"}))
    more = json_text(client.get("/default/text-mode", query_string={**ask, "selector": ".more"}))
    again = client.get("/default/text-mode", query_string={**ask, "selector": ".lede"})
    assert (lede, more) == (
        "Owls hunt at night, and their hearing finds a mouse under snow.",
        "Their feathers are soft at the edges, so their flight makes no sound at all.",
    )
    assert json_text(again) == lede
    assert again.headers["Age"] == "0"  # from the cache
    assert len(httpserver.log) == 2


@pytest.mark.parametrize(
    ("option", "value", "status", "start"),
    [
        ("selector", "div >", 400, "Error: selector 'div >' is not a CSS selector"),
        ("remove", "[", 400, "Error: remove '[' is not a CSS selector"),
        ("selector", ".comments", 422, "Error: the selector '.comments' matched nothing in the page"),
    ],
)
def test_a_bad_selector_is_a_400_and_one_that_matches_nothing_a_422(
    client: FlaskClient, httpserver: HTTPServer, option: str, value: str, status: int, start: str
) -> None:
    httpserver.expect_request("/owls").respond_with_data(PAGE, content_type="text/html")
    response = client.get("/default/text-mode", query_string={"url": httpserver.url_for("/owls"), option: value})
    assert response.status_code == status
    assert response.text.startswith(start)
    assert len(httpserver.log) == (0 if status == 400 else 1)  # a selector that does not parse fetches nothing


class ChangingOrigin:
    """A page whose text changes between fetches: edition 1, then 2, and so on."""

    def __init__(self) -> None:
        self.edition = 0

    def __call__(self, request: Request) -> Response:
        self.edition += 1
        body = f"<html><body><article><h1>News</h1><p>This is edition {self.edition} of the page.</p></article>"
        return Response(body, content_type="text/html")


@pytest.mark.parametrize(
    ("query", "headers"),
    [({"nocache": "1"}, {}), ({}, {"X-No-Cache": "true"}), ({}, {"Cache-Control": "no-cache"})],
)
def test_a_fresh_fetch_is_asked_for_and_replaces_the_cached_answer(
    client: FlaskClient, httpserver: HTTPServer, query: dict[str, str], headers: dict[str, str]
) -> None:
    httpserver.expect_request("/news").respond_with_handler(ChangingOrigin())
    ask = {"url": httpserver.url_for("/news"), "format": "json"}
    assert json_text(client.get("/default/text-mode", query_string=ask)) == "This is edition 1 of the page."
    assert json_text(client.get("/default/text-mode", query_string=ask)) == "This is edition 1 of the page."
    fresh = client.get("/default/text-mode", query_string={**ask, **query}, headers=headers)
    assert json_text(fresh) == "This is edition 2 of the page."
    assert json_text(client.get("/default/text-mode", query_string=ask)) == "This is edition 2 of the page."
    assert len(httpserver.log) == 2


@pytest.fixture
def held_origin(httpserver: HTTPServer) -> Iterator[str]:
    """An origin that answers only when the test ends (or after 5 s)."""
    release = threading.Event()

    def held(request: Request) -> Response:
        release.wait(5)
        return Response(ARTICLE, content_type="text/html")

    httpserver.expect_request("/slow").respond_with_handler(held)
    yield httpserver.url_for("/slow")
    release.set()


@pytest.mark.parametrize(("query", "headers"), [({"timeout": "0.2"}, {}), ({}, {"X-Timeout": "0.2"})])
def test_a_shorter_deadline_is_a_504_from_a_slow_site(
    held_origin: str, query: dict[str, str], headers: dict[str, str]
) -> None:
    # FETCH_TIMEOUT is 10 s here: only the asked-for deadline can end the wait for a site held for 5 s.
    client = create_app({"TESTING": True, "ALLOW_PRIVATE": True, "FETCH_TIMEOUT": 10.0}).test_client()
    response = client.get("/default/text-mode", query_string={**query, "url": held_origin}, headers=headers)
    assert response.status_code == 504


def test_a_longer_deadline_than_the_configured_one_is_capped(client: FlaskClient, held_origin: str) -> None:
    # FETCH_TIMEOUT is 1 s: asking for 100 s still gets the 504 at the configured deadline, before the site's 5 s.
    response = client.get("/default/text-mode", query_string={"url": held_origin, "timeout": "100"})
    assert response.status_code == 504


@pytest.mark.parametrize("value", ["0", "-1", "abc", "nan", "inf", "601"])
def test_a_timeout_that_is_no_number_of_seconds_is_a_400(client: FlaskClient, value: str) -> None:
    response = client.get("/default/text-mode", query_string={"url": "https://example.com/", "timeout": value})
    assert response.status_code == 400
    assert response.text.startswith(f"Error: timeout={value!r} is not allowed")


def test_errors_in_the_path_form_follow_the_format_header(client: FlaskClient) -> None:
    response = client.get("/default/text-mode/ftp://example.com/file", headers={"X-Return-Format": "json"})
    assert (response.status_code, response.content_type) == (400, "application/problem+json")
    assert json.loads(response.data)["code"] == "bad_url"


@pytest.mark.parametrize(
    ("sent", "target"),
    [
        ("https:/example.com/a", "https://example.com/a"),
        ("https://b%C3%BCcher.example/a%2Fb?x=%26", "https://bücher.example/a%2Fb?x=%26"),  # the host decoded
        ("b%C3%BCcher.example/a", "bücher.example/a"),
        ("http://evil.example%2F@good.example/", "http://evil.example%2F@good.example/"),  # would move the host
        ("http://good.example%40evil.example/", "http://good.example%40evil.example/"),
    ],
)
def test_the_path_forms_target_is_what_the_client_meant(sent: str, target: str) -> None:
    from app.routes import _path_url

    assert _path_url(sent) == target


def test_a_target_typed_in_utf8_reaches_the_fetch_as_utf8(client: FlaskClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/caf\u00e9").respond_with_data(ARTICLE, content_type="text/html")
    response = client.get(f"/default/text-mode/{httpserver.url_for('')}caf%C3%A9")
    assert response.status_code == 200
