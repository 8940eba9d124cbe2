"""The service as a curl user meets it: the url parameter, the formats, the usage text and every error status."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from app import create_app
from app.routes import split_query

ARTICLE = (
    b"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Owl facts</title></head><body>"
    b"<nav><a href='/'>Home</a> <a href='/subscribe'>Subscribe now</a></nav><article><h1>Owl facts</h1>"
    + b"<p>Owls hunt at night with silent feathers and very good ears, and a barn owl can find a mouse "
    b"under snow by its sound alone. See <a href='/more'>more owls</a>.</p>"
    * 3
    + b"</article><footer>All rights reserved</footer></body></html>"
)

TEXT = "text/plain; charset=utf-8"
PROBLEM = "application/problem+json"
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


# The usage text, whole: the banner is figlet's standard font at full width (no smushing), right-trimmed.
USAGE = r"""  _____                 _       __  __               _
 |_   _|   ___  __  __ | |_    |  \/  |   ___     __| |   ___
   | |    / _ \ \ \/ / | __|   | |\/| |  / _ \   / _` |  / _ \
   | |   |  __/  >  <  | |_    | |  | | | (_) | | (_| | |  __/
   |_|    \___| /_/\_\  \__|   |_|  |_|  \___/   \__,_|  \___|

text-mode turns any web page into its article as clean, readable plain text.

Examples:
  curl '{base}/text-mode?url=https://example.com/article'
  curl '{base}/text-mode?width=60&url=example.com/article'
  curl '{base}/text-mode?format=json&url=https://example.com/article'
  curl -H 'Accept: text/markdown' '{base}/text-mode?url=https://example.com/article'
  curl '{base}/text-mode/https://example.com/article?id=7'
  curl -H 'X-Target-Selector: article' '{base}/text-mode/https://example.com/a'

Query parameters:
  url     the page to read: http or https (example.com/page means https://).
          Put it last: everything after a url= that holds a '?' is the page's own query.
  width   wrap at this many columns: 20 to 200, or 0 for no wrapping (default 80).
  format  text (default), markdown, json or html; an Accept header chooses too.
  ascii   ascii=1: transliterate to 7-bit ASCII (old terminals, serial consoles), same layout;
          the text format only.
  ansi    ansi=1: bold headings and underlined link text, for terminals that show them;
          the text format only.
  selector  CSS selectors, comma-separated: the article is what they match, in page order.
  remove    CSS selectors of what to remove before the article is found.
  nocache   nocache=1: fetch the page again and replace the cached answer.
  timeout   seconds to wait for the site, at most the service's own deadline.

The path form: everything after /text-mode/ is the page, its query string included.
Options then come as headers (Jina Reader's names; a query parameter wins over them):
  X-Return-Format or X-Respond-With, X-Target-Selector, X-Remove-Selector,
  X-No-Cache: true (or Cache-Control: no-cache), X-Timeout.

Errors come as plain text, or application/problem+json with format=json (or
Accept: application/json):
  400 bad URL or option, 403 destination not allowed, 415 not a web page,
  422 nothing readable (or nothing matched the selector), 502 the site failed or
  answered with a bot check, 504 the site was too slow.

How it works: the page is fetched, readability finds the article, text-mode lays it
out (html2text writes the Markdown format).

Home page: {base}/
"""
API = "https://abc.execute-api.eu-west-1.amazonaws.com"


@pytest.mark.parametrize(
    ("prefix", "query", "base"),
    [
        ("/default", "", f"{API}/default"),
        ("/default", "url=", f"{API}/default"),
        ("/default", "width=60&url=%20", f"{API}/default"),
        ("", "", API),
        ("/Prod", "ascii=1", f"{API}/Prod"),
    ],
)
def test_without_a_url_the_usage_text_explains_the_service_from_the_address_used(
    prefix: str, query: str, base: str
) -> None:
    client = create_app({"TESTING": True, "PREFIX": prefix}).test_client()
    response = client.get(f"{prefix}/text-mode?{query}", base_url=API)
    assert (response.status_code, response.content_type) == (200, TEXT)
    assert response.text == USAGE.replace("{base}", base)


def test_the_home_page_and_the_root_redirect() -> None:
    client = create_app({"TESTING": True}).test_client()
    home = client.get("/default/")
    assert (home.status_code, home.content_type) == (200, "text/html; charset=utf-8")
    root = client.get("/")
    assert (root.status_code, root.headers["Location"]) == (302, "/default/")


@pytest.mark.parametrize(
    ("prefix", "served", "missing"),
    [
        ("", ["/text-mode", "/"], ["/default/text-mode", "/default/"]),
        ("/Prod", ["/Prod/text-mode", "/Prod/"], ["/default/text-mode", "/text-mode"]),
    ],
)
def test_the_prefix_is_configurable(prefix: str, served: list[str], missing: list[str]) -> None:
    client = create_app({"TESTING": True, "PREFIX": prefix}).test_client()
    assert [client.get(path).status_code for path in served] == [200, 200]
    assert [client.get(path).status_code for path in missing] == [404, 404]
    root = client.get("/")
    assert (root.status_code, root.headers.get("Location")) == ((200, None) if not prefix else (302, f"{prefix}/"))


HOME_HINT = "The home page is at http://localhost/default/ and the service at http://localhost/default/text-mode"


def not_found(path: str) -> dict[str, object]:
    return {"type": "urn:text-mode:error:not_found", "title": "Not found", "status": 404,
            "detail": f"Not found: {path}", "code": "not_found", "hint": HOME_HINT}  # fmt: skip


def not_allowed(method: str, path: str) -> dict[str, object]:
    return {"type": "urn:text-mode:error:method_not_allowed", "title": "Method not allowed", "status": 405,
            "detail": f"Method not allowed: {method} {path}", "code": "method_not_allowed",
            "hint": "Use GET (or HEAD)."}  # fmt: skip


ROUTING_ERRORS = [
    ("GET", "/default/nope", {}, TEXT, not_found("/default/nope")),
    ("GET", "/default/nope?format=json", {}, PROBLEM, not_found("/default/nope")),
    ("GET", "/default/nope", {"Accept": "application/json"}, PROBLEM, not_found("/default/nope")),
    ("GET", "/nope", {"Accept": "application/problem+json"}, PROBLEM, not_found("/nope")),
    ("GET", "/default/nope?format=text", {"Accept": "application/json"}, TEXT, not_found("/default/nope")),
    ("HEAD", "/default/nope?format=json", {}, PROBLEM, not_found("/default/nope")),
    ("POST", "/default/text-mode", {}, TEXT, not_allowed("POST", "/default/text-mode")),
    ("POST", "/default/text-mode?format=json", {}, PROBLEM, not_allowed("POST", "/default/text-mode")),
    ("DELETE", "/default/", {"Accept": "application/json"}, PROBLEM, not_allowed("DELETE", "/default/")),
    ("OPTIONS", "/default/text-mode", {}, TEXT, not_allowed("OPTIONS", "/default/text-mode")),
    ("PUT", "/", {}, TEXT, not_allowed("PUT", "/")),
]


@pytest.mark.parametrize(("method", "path", "headers", "content_type", "problem"), ROUTING_ERRORS)
def test_unknown_paths_and_methods_answer_in_text_or_as_problem_json(
    client: FlaskClient, method: str, path: str, headers: dict[str, str], content_type: str, problem: dict[str, object]
) -> None:
    response = client.open(path, method=method, headers=headers)
    assert (response.status_code, response.content_type) == (problem["status"], content_type)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers.get("Allow") == (None if problem["status"] == 404 else "GET, HEAD")
    if method == "HEAD":
        assert response.data == b""
    elif content_type == PROBLEM:
        assert json.loads(response.data) == problem
    else:
        assert response.text == f"{problem['detail']}\n{problem['hint']}\n"


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
    assert set(body) == {"type", "title", "status", "detail", "code", "hint"}
    assert (body["type"], body["status"], body["code"]) == (f"urn:text-mode:error:{code}", status, code)
    assert text.text == f"Error: {body['detail']}\n{body['hint']}\n"  # the same words in both forms


def test_upstream_status_is_passed_on_in_a_header(client: FlaskClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/teapot").respond_with_data("no tea here", status=418)
    response = client.get(f"/default/text-mode?url={httpserver.url_for('/teapot')}")
    assert (response.status_code, response.headers["X-Upstream-Status"]) == (502, "418")
    assert response.text == "Error: the site answered 418\nCheck the address, or try again later.\n"  # not its page


def test_a_slow_origin_gets_504(strict_app: Flask, httpserver: HTTPServer) -> None:
    release = threading.Event()

    def held(request: Request) -> Response:
        release.wait(10)  # past the 1 s fetch deadline, until the test has its answer
        return Response(ARTICLE, content_type="text/html")

    httpserver.expect_request("/slow").respond_with_handler(held)
    try:
        response = strict_app.test_client().get(f"/default/text-mode?format=json&url={httpserver.url_for('/slow')}")
    finally:
        release.set()
    assert (response.status_code, response.get_json()["code"]) == (504, "upstream_timeout")  # words: where it struck


OPTION_HINT = "Give a web page's address: ?url=https://example.com/article"


@pytest.mark.parametrize(
    ("query", "headers", "message"),
    [
        ("width=10", {}, f"Error: width='10' is not allowed; use 0 (no wrapping) or 20 to 200\n{OPTION_HINT}\n"),
        ("width=abc", {}, f"Error: width='abc' is not allowed; use 0 (no wrapping) or 20 to 200\n{OPTION_HINT}\n"),
        ("width=201", {}, f"Error: width='201' is not allowed; use 0 (no wrapping) or 20 to 200\n{OPTION_HINT}\n"),
        ("format=pdf", {}, f"Error: format='pdf' is not known; use text, markdown, json or html\n{OPTION_HINT}\n"),
        ("ascii=2", {}, f"Error: ascii='2' is not allowed; use ascii=1 or ascii=0\n{OPTION_HINT}\n"),
        ("ansi=maybe", {}, f"Error: ansi='maybe' is not allowed; use ansi=1 or ansi=0\n{OPTION_HINT}\n"),
        # ascii and ansi are for the terminal's text: any other format says so, and how it was chosen.
        ("ascii=1&format=md", {}, "Error: ascii=1 is for the text format, not markdown (format=md)\n"
         "Drop ascii=1, or add format=text.\n"),
        ("ansi=on&format=markdown", {}, "Error: ansi=1 is for the text format, not markdown (format=markdown)\n"
         "Drop ansi=1, or add format=text.\n"),
        ("ansi=1", {"Accept": "text/markdown"}, "Error: ansi=1 is for the text format, not markdown "
         "(chosen by the Accept header)\nDrop ansi=1, or add format=text.\n"),
    ],
)  # fmt: skip
def test_bad_options_are_400_naming_the_option(
    client: FlaskClient, query: str, headers: dict[str, str], message: str
) -> None:
    response = client.get(f"/default/text-mode?{query}&url=https://example.com/", headers=headers)
    assert (response.status_code, response.content_type, response.text) == (400, TEXT, message)


@pytest.mark.parametrize(
    ("query", "headers", "detail"),
    [
        ("ascii=1&format=json", {}, "ascii=1 is for the text format, not json (format=json)"),
        ("ansi=1", {"Accept": "application/json"},
         "ansi=1 is for the text format, not json (chosen by the Accept header)"),
        ("ascii=1&format=html", {}, "ascii=1 is for the text format, not html (format=html)"),
        ("ansi=1", BROWSER, "ansi=1 is for the text format, not html (chosen by the Accept header)"),
    ],
)  # fmt: skip
def test_ascii_and_ansi_with_json_or_html_are_400_in_that_format(
    client: FlaskClient, query: str, headers: dict[str, str], detail: str
) -> None:
    response = client.get(f"/default/text-mode?{query}&url=https://example.com/", headers=headers)
    assert response.status_code == 400
    if "json" in detail.split(" (")[0]:
        assert response.content_type == PROBLEM
        assert json.loads(response.data)["detail"] == detail
    else:
        assert response.content_type == "text/html; charset=utf-8"
        assert f"Error: {detail}\nDrop " in response.text


@pytest.mark.parametrize("query", ["ascii=1", "ansi=1", "ascii=1&ansi=1&format=text", "ascii=0&format=json",
                                   "ansi=off&format=html", "ascii=no&format=md"])  # fmt: skip
def test_ascii_and_ansi_off_or_with_the_text_format_are_accepted(
    client: FlaskClient, httpserver: HTTPServer, query: str
) -> None:
    httpserver.expect_request("/owls").respond_with_data(ARTICLE, content_type="text/html")
    response = client.get(f"/default/text-mode?{query}&url={httpserver.url_for('/owls')}")
    assert response.status_code == 200


def test_private_destinations_are_refused_by_default(httpserver: HTTPServer) -> None:
    client = create_app({"TESTING": True}).test_client()
    response = client.get(f"/default/text-mode?url={httpserver.url_for('/owls')}")
    assert response.status_code == 403
    assert len(httpserver.log) == 0


@pytest.mark.parametrize(
    ("port", "first_line"),
    [
        (80, "Error: the destination is not a public address"),  # the port passes; the address rule refuses
        (443, "Error: the destination is not a public address"),
        (8080, "Error: the destination is not a public address"),
        (8443, "Error: the destination is not a public address"),
        (22, "Error: port 22 is not allowed"),
        (8000, "Error: port 8000 is not allowed"),
        (6379, "Error: port 6379 is not allowed"),
    ],
)
def test_by_default_only_the_web_ports_are_allowed(port: int, first_line: str) -> None:
    client = create_app({"TESTING": True}).test_client()
    response = client.get(f"/default/text-mode?url=http://127.0.0.1:{port}/")
    assert (response.status_code, response.text.splitlines()[0]) == (403, first_line)


@pytest.mark.parametrize(
    ("config", "sent"),
    [
        ({}, "text-mode/1.0 (+https://github.com/text-mode/text-mode; reader mode for the terminal)"),
        ({"USER_AGENT": "probe/2.0 (+https://example.org/bot)"}, "probe/2.0 (+https://example.org/bot)"),
    ],
)
def test_the_user_agent_is_sent_on_every_hop(httpserver: HTTPServer, config: dict[str, str], sent: str) -> None:
    httpserver.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/owls"})
    httpserver.expect_request("/owls").respond_with_data(ARTICLE, content_type="text/html")
    client = create_app({"TESTING": True, "ALLOW_PRIVATE": True, **config}).test_client()
    assert client.get("/default/text-mode", query_string={"url": httpserver.url_for("/old")}).status_code == 200
    assert [(request.path, request.headers["User-Agent"]) for request, _ in httpserver.log] == [
        ("/old", sent),
        ("/owls", sent),
    ]


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
        # Nothing is fetched (no public address answers here): the usage text for a blank URL, a bad URL,
        # a refused destination, or a name that does not resolve (or a resolver that runs out of time).
        assert response.status_code in {200, 400, 403, 502, 504}, (query, response.text)
        assert "Traceback" not in response.text
