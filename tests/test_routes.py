"""The service as a curl user meets it: the url parameter, the formats, the usage text and every error status."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from app import create_app
from app.routes import banner, split_query

ARTICLE = (
    b"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Owl facts</title></head><body>"
    b"<nav><a href='/'>Home</a> <a href='/subscribe'>Subscribe now</a></nav><article><h1>Owl facts</h1>"
    + b"<p>Owls hunt at night with silent feathers and very good ears, and a barn owl can find a mouse "
    b"under snow by its sound alone. See <a href='/more'>more owls</a>.</p>"
    * 3
    + b"</article><footer>All rights reserved</footer></body></html>"
)

# What a browser sends: it prefers HTML, and takes anything.
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize(
    ("query", "target", "params"),
    [
        ("url=https://a.example/p?x=1&y=2", "https://a.example/p?x=1&y=2", {}),
        ("width=60&url=https://a.example/p?x=1&y=2", "https://a.example/p?x=1&y=2", {"width": "60"}),
        ("url=https%3A%2F%2Fa.example%2Fp%3Fx%3D1%26y%3D2&width=60", "https://a.example/p?x=1&y=2", {"width": "60"}),
        ("url=https://a.example/p&format=json", "https://a.example/p", {"format": "json"}),
        ("url=example.com/page", "example.com/page", {}),
        ("url=example.com%2Fpage", "example.com/page", {}),
        ("url=http://h.example/p?x%3D1%26y%3D2&width=60", "http://h.example/p?x=1&y=2", {"width": "60"}),
        ("url=https://a.example/search?q=a+b%20c", "https://a.example/search?q=a+b%20c", {}),
        ("format=json", None, {"format": "json"}),
        ("", None, {}),
        ("url=", "", {}),
    ],
)
def test_split_query_rebuilds_the_target_from_the_raw_query(
    query: str, target: str | None, params: dict[str, str]
) -> None:
    assert split_query(query) == (target, params)


def test_an_unencoded_target_keeps_its_own_query(client: FlaskClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/p", query_string="x=1&y=2").respond_with_data(ARTICLE, content_type="text/html")
    response = client.get(f"/default/text-mode?width=60&url={httpserver.url_for('/p')}?x=1&y=2")
    assert response.status_code == 200
    assert "Owls hunt at night" in response.text
    assert max(len(line) for line in response.text.splitlines() if "http" not in line) <= 60


def test_an_encoded_target_works_the_same(client: FlaskClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/p", query_string="x=1&y=2").respond_with_data(ARTICLE, content_type="text/html")
    response = client.get("/default/text-mode", query_string={"url": httpserver.url_for("/p") + "?x=1&y=2"})
    assert response.status_code == 200
    assert "Owls hunt at night" in response.text


def test_the_text_format_has_header_body_and_references(client: FlaskClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/owls").respond_with_data(ARTICLE, content_type="text/html")
    response = client.get("/default/text-mode", query_string={"url": httpserver.url_for("/owls")})
    assert response.status_code == 200
    assert response.content_type == "text/plain; charset=utf-8"
    lines = response.text.splitlines()
    assert lines[:3] == ["Owl facts", "=========", httpserver.url_for("/owls")]
    assert "more owls[1]" in response.text
    assert response.text.rstrip().endswith(f"[1] {httpserver.url_for('/more')}")
    assert "Subscribe now" not in response.text
    assert "All rights reserved" not in response.text
    for leak in ("](", "**", "\\_", "# "):
        assert leak not in response.text


@pytest.mark.parametrize(
    ("query", "headers", "content_type"),
    [
        ("", {}, "text/plain; charset=utf-8"),
        ("format=text&", {}, "text/plain; charset=utf-8"),
        ("format=markdown&", {}, "text/markdown; charset=utf-8"),
        ("format=json&", {}, "application/json"),
        ("", {"Accept": "text/markdown"}, "text/markdown; charset=utf-8"),
        ("", {"Accept": "application/json"}, "application/json"),
        ("", {"Accept": "*/*"}, "text/plain; charset=utf-8"),
        ("format=text&", {"Accept": "application/json"}, "text/plain; charset=utf-8"),
        ("", BROWSER, "text/html; charset=utf-8"),
        ("format=html&", {"Accept": "*/*"}, "text/html; charset=utf-8"),
        ("format=text&", BROWSER, "text/plain; charset=utf-8"),
        ("format=json&", BROWSER, "application/json"),
    ],
)
def test_format_is_chosen_by_parameter_then_accept(
    client: FlaskClient, httpserver: HTTPServer, query: str, headers: dict[str, str], content_type: str
) -> None:
    httpserver.expect_request("/owls").respond_with_data(ARTICLE, content_type="text/html")
    response = client.get(f"/default/text-mode?{query}url={httpserver.url_for('/owls')}", headers=headers)
    assert response.status_code == 200
    assert response.content_type == content_type


def test_json_has_every_field(client: FlaskClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/owls").respond_with_data(ARTICLE, content_type="text/html")
    url = httpserver.url_for("/owls")
    data = client.get(f"/default/text-mode?format=json&url={url}").get_json()
    assert set(data) == {
        "url", "final_url", "title", "byline", "site_name", "published", "lang", "text", "markdown", "links",
        "word_count",
    }  # fmt: skip
    assert (data["url"], data["final_url"], data["title"], data["lang"]) == (url, url, "Owl facts", "en")
    assert data["links"] == [{"n": 1, "url": httpserver.url_for("/more"), "text": "more owls"}]
    assert "[1]" not in data["text"]
    assert "See more owls." in data["text"]
    assert "[more owls](" in data["markdown"]
    assert data["word_count"] == len(data["text"].split()) - data["text"].count(" - ")


def test_markdown_is_html2text_output(client: FlaskClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/owls").respond_with_data(ARTICLE, content_type="text/html")
    response = client.get(f"/default/text-mode?format=md&url={httpserver.url_for('/owls')}")
    assert response.text.startswith("# Owl facts\n")
    assert response.text.count("Owl facts") == 1  # the body's own h1 is not repeated under the title
    assert f"[more owls]({httpserver.url_for('/more')})" in response.text


def test_redirects_are_followed_and_the_final_url_shown(client: FlaskClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/new"})
    httpserver.expect_request("/new").respond_with_data(ARTICLE, content_type="text/html")
    response = client.get(f"/default/text-mode?url={httpserver.url_for('/old')}")
    assert response.status_code == 200
    assert response.text.splitlines()[2] == httpserver.url_for("/new")


def test_head_answers_like_get_without_a_body(client: FlaskClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/owls").respond_with_data(ARTICLE, content_type="text/html")
    response = client.head(f"/default/text-mode?url={httpserver.url_for('/owls')}")
    assert response.status_code == 200
    assert response.content_type == "text/plain; charset=utf-8"
    assert response.data == b""


def test_usage_text_is_built_from_the_request(client: FlaskClient) -> None:
    response = client.get("/default/text-mode", base_url="https://abc.execute-api.eu-west-1.amazonaws.com")
    assert response.status_code == 200
    assert response.content_type == "text/plain; charset=utf-8"
    text = response.text
    assert text.startswith(banner())
    assert "curl 'https://abc.execute-api.eu-west-1.amazonaws.com/default/text-mode?url=https://" in text
    for parameter in ("url ", "width ", "format "):
        assert f"  {parameter}" in text
    assert "How it works: URL -> readability -> html2text -> you" in text


def test_banner_is_figlet_standard_at_full_width() -> None:
    lines = banner().splitlines()
    assert len(lines) == 5  # standard is six rows high; the blank last row is trimmed
    assert lines[0] == "  _____                 _       __  __               _"
    assert lines[4].startswith("   |_|    \\___| /_/\\_\\  \\__|")


def test_empty_url_gives_the_usage(client: FlaskClient) -> None:
    assert "How it works" in client.get("/default/text-mode?url=").text


def test_home_root_redirect_and_not_found(client: FlaskClient) -> None:
    home = client.get("/default/")
    assert (home.status_code, home.content_type) == (200, "text/html; charset=utf-8")
    root = client.get("/")
    assert (root.status_code, root.headers["Location"]) == (302, "/default/")
    missing = client.get("/default/nope")
    assert missing.status_code == 404
    assert missing.content_type == "text/plain; charset=utf-8"
    assert missing.text.startswith("Not found: /default/nope\n")
    assert "http://localhost/default/" in missing.text


def test_wrong_method_is_405_in_plain_text(client: FlaskClient) -> None:
    response = client.post("/default/text-mode")
    assert response.status_code == 405
    assert response.content_type == "text/plain; charset=utf-8"
    assert "GET" in response.headers["Allow"]


def test_the_prefix_is_configurable() -> None:
    client = create_app({"PREFIX": "", "ALLOW_PRIVATE": True}).test_client()
    assert client.get("/text-mode").status_code == 200
    assert client.get("/").status_code == 200


def _slow(request: Request) -> Response:
    time.sleep(1.5)
    return Response(ARTICLE, content_type="text/html")


ERRORS: list[tuple[str, Callable[[HTTPServer], str], int, str]] = [
    ("no scheme we read", lambda s: "ftp://example.com/file", 400, "bad_url"),
    ("javascript", lambda s: "javascript:alert(1)", 400, "bad_url"),
    ("credentials", lambda s: "http://user:pw@example.com/", 400, "bad_url"),
    ("no host", lambda s: "http:///path", 400, "bad_url"),
    ("bad port", lambda s: "http://example.com:99999/", 400, "bad_url"),
    ("spaces", lambda s: "http://exa mple.com/", 400, "bad_url"),
    ("unclosed IPv6 bracket", lambda s: "http://[::1", 400, "bad_url"),
    ("upstream 404", lambda s: _route(s, "/gone", Response("gone", status=404)), 502, "upstream_status"),
    ("upstream 500", lambda s: _route(s, "/broken", Response("boom", status=500)), 502, "upstream_status"),
    ("redirect loop", lambda s: _route(s, "/loop", Response("", status=302, headers={"Location": "/loop"})), 502,
     "fetch_failed"),
    ("connection refused", lambda s: "http://127.0.0.1:9/", 502, "fetch_failed"),
    ("image", lambda s: _route(s, "/owl.png", Response(b"\x89PNG", content_type="image/png")), 415,
     "unsupported_content"),
    ("pdf cut short", lambda s: _route(s, "/a.pdf", Response(b"%PDF-1.4", content_type="application/pdf")), 422,
     "bad_pdf"),
    ("empty page", lambda s: _route(s, "/empty", Response(b"", content_type="text/html")), 422, "nothing_readable"),
    ("too large", lambda s: _route(s, "/big", Response(b"<p>" + b"a " * 40_000, content_type="text/html")), 502,
     "too_large"),
]  # fmt: skip


def _route(server: HTTPServer, path: str, response: Response) -> str:
    server.expect_request(path).respond_with_response(response)
    return server.url_for(path)


@pytest.fixture
def strict_app() -> Flask:
    return create_app({"TESTING": True, "ALLOW_PRIVATE": True, "MAX_BYTES": 50_000, "FETCH_TIMEOUT": 1.0})


@pytest.mark.parametrize(("case", "target", "status", "code"), ERRORS, ids=[row[0] for row in ERRORS])
def test_errors_have_the_right_status_in_text_and_json(
    strict_app: Flask, httpserver: HTTPServer, case: str, target: Callable[[HTTPServer], str], status: int, code: str
) -> None:
    url = target(httpserver)
    client = strict_app.test_client()
    text = client.get("/default/text-mode", query_string={"url": url})
    assert text.status_code == status
    assert text.content_type == "text/plain; charset=utf-8"
    assert text.text.startswith("Error: ")
    assert text.headers["Cache-Control"] == "no-store"
    assert "Traceback" not in text.text
    problem = client.get("/default/text-mode", query_string={"url": url, "format": "json"})
    assert problem.status_code == status
    assert problem.content_type == "application/problem+json"
    body = json.loads(problem.data)
    assert (body["status"], body["code"]) == (status, code)
    assert {"type", "title", "detail"} <= set(body)


def test_upstream_status_is_passed_on_in_a_header(client: FlaskClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/teapot").respond_with_data("no", status=418)
    response = client.get(f"/default/text-mode?url={httpserver.url_for('/teapot')}")
    assert (response.status_code, response.headers["X-Upstream-Status"]) == (502, "418")
    assert "no" not in response.text.split("\n")[0].split()  # the error page is not converted


def test_a_slow_origin_gets_504(strict_app: Flask, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/slow").respond_with_handler(_slow)
    response = strict_app.test_client().get(f"/default/text-mode?url={httpserver.url_for('/slow')}")
    assert response.status_code == 504


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("width=10", "width"),
        ("width=abc", "width"),
        ("width=201", "width"),
        ("format=pdf", "format"),
        ("ascii=2", "ascii"),
        ("ansi=maybe", "ansi"),
    ],
)
def test_bad_options_are_400(client: FlaskClient, query: str, fragment: str) -> None:
    response = client.get(f"/default/text-mode?{query}&url=https://example.com/")
    assert response.status_code == 400
    assert fragment in response.text


def test_private_destinations_are_refused_by_default(httpserver: HTTPServer) -> None:
    client = create_app({"TESTING": True}).test_client()
    response = client.get(f"/default/text-mode?url={httpserver.url_for('/owls')}")
    assert response.status_code == 403
    assert len(httpserver.log) == 0


def test_plain_text_pages_are_wrapped(client: FlaskClient, httpserver: HTTPServer) -> None:
    words = "plain words " * 30
    httpserver.expect_request("/notes.txt").respond_with_data(words, content_type="text/plain; charset=utf-8")
    response = client.get(f"/default/text-mode?width=40&url={httpserver.url_for('/notes.txt')}")
    assert response.status_code == 200
    body = response.text.split("\n\n", 1)[1]
    assert all(len(line) <= 40 for line in body.splitlines())


@pytest.mark.parametrize("width", [0, 20, 80, 200])
def test_no_line_is_wider_than_asked_except_long_words(client: FlaskClient, httpserver: HTTPServer, width: int) -> None:
    httpserver.expect_request("/owls").respond_with_data(ARTICLE, content_type="text/html")
    text = client.get(f"/default/text-mode?width={width}&url={httpserver.url_for('/owls')}").text
    for line in text.splitlines():
        assert width == 0 or len(line) <= width or " " not in line
    if width == 0:
        assert any(len(line) > 100 for line in text.splitlines())


@settings(max_examples=150, deadline=None)
@given(raw=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40))
def test_no_url_parameter_is_a_500(raw: str) -> None:
    # The private-address rule is on: whatever the text names, nothing on this machine is reached.
    client = create_app({"TESTING": True, "FETCH_TIMEOUT": 1.0}).test_client()
    for query in (f"url={raw}", f"url=http://{raw}", f"url=https://[{raw}]/", f"width=40&url={raw}&format=json"):
        response = client.get("/default/text-mode?" + query.replace("#", "%23"))
        assert response.status_code in {200, 400, 403, 415, 422, 502, 504}, (query, response.text)
        assert "Traceback" not in response.text
