"""A site's bot check in place of the page is a 502 blocked_by_site, never its text as the article.

The challenge pages here are look-alikes written for these tests from what such pages are made of (a vendor's
header, server, script or widget, and a few lines asking the reader to wait or prove they are human); none is
a copy of a real one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from app import create_app
from tests.samples import OWLS as ARTICLE


def page(title: str, body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><html><head><title>{title}</title>{head}</head><body>{body}</body></html>"


WAIT_SCRIPT = "<script>window._cf_chl_opt={cType:'managed',cRay:'8a1b2c3d4e5f'};</script>"
CHALLENGE_SCRIPT = '<script src="/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1?ray=8a1b"></script>'
LONG_PROSE = "".join(
    f"<p>Paragraph {n} of a long article about how sites tell people from programs, written in plain words.</p>"
    for n in range(40)
)

BOT_CHECKS = [
    (
        "cloudflare wait page",
        403,
        {"Server": "cloudflare"},
        page(
            "Just a moment...",
            "<h1>example.com</h1><p>Checking if the site connection is secure</p>"
            "<noscript>Enable JavaScript and cookies to continue</noscript>" + CHALLENGE_SCRIPT,
            WAIT_SCRIPT,
        ),
        "Cloudflare",
    ),
    (
        "cloudflare marked challenge",
        403,
        {"cf-mitigated": "challenge"},
        page("example.com", "<p>One moment</p>"),
        "Cloudflare",
    ),
    (
        "cloudflare block page",
        403,
        {"Server": "cloudflare"},
        page(
            "Attention Required! | Cloudflare",
            "<h1>Sorry, you have been blocked</h1><h2>You are unable to access example.com</h2>"
            "<h2>Why have I been blocked?</h2><p>This website is using a security service.</p>"
            "<p>Cloudflare Ray ID: 8a1b2c3d4e5f</p>",
        ),
        "Cloudflare",
    ),
    (
        "browser check 503",
        503,
        {"Server": "cloudflare"},
        page("Please wait", "<p>Checking your browser before accessing example.com.</p>"),
        "Cloudflare",
    ),
    (
        "datadome",
        403,
        {"X-DataDome": "protected", "Server": "nginx"},
        page("example.com", '<iframe src="https://geo.captcha-delivery.com/captcha/?initialCid=AHrlqAAA"></iframe>'),
        "DataDome",
    ),
    (
        "akamai access denied",
        403,
        {"Server": "AkamaiGHost"},
        page(
            "Access Denied",
            "<h1>Access Denied</h1>You don't have permission to access this page on this server.<p>"
            "Reference&#32;&#35;18&#46;2f1e3c17&#46;1700000000&#46;9a8b7c</p>",
        ),
        "Akamai",
    ),
    (
        "perimeterx press and hold",
        403,
        {"Server": "nginx"},
        page(
            "Access to this page has been denied",
            "<h1>Before we continue...</h1><p>Press &amp; Hold to confirm you are a human.</p>"
            '<div id="px-captcha"></div>',
            "<script>window._pxAppId='PXabc123';</script>",
        ),
        "PerimeterX",
    ),
    (
        "hcaptcha wall",
        200,
        {},
        page(
            "Security check",
            '<h1>One more step</h1><p>Please verify you are a human to continue.</p><div class="h-captcha" '
            'data-sitekey="10000000-ffff-ffff-ffff-000000000001"></div>',
            '<script src="https://js.hcaptcha.com/1/api.js" async defer></script>',
        ),
        "hCaptcha",
    ),
    (
        "recaptcha rate wall",
        429,
        {"Server": "Apache"},
        page(
            "Are you a robot?",
            '<form method="post"><p>Too many requests from your network.</p><div class="g-recaptcha" '
            'data-sitekey="6Lc_abc"></div><input type="submit" value="Continue"></form>',
            '<script src="https://www.google.com/recaptcha/api.js"></script>',
        ),
        "reCAPTCHA",
    ),
]  # fmt: skip


@pytest.fixture
def app() -> Flask:
    return create_app({"TESTING": True, "ALLOW_PRIVATE": True})


@pytest.mark.parametrize(
    ("case", "status", "headers", "body", "vendor"), BOT_CHECKS, ids=[row[0] for row in BOT_CHECKS]
)
def test_a_bot_check_is_a_502_blocked_by_site_naming_its_vendor(
    app: Flask, httpserver: HTTPServer, case: str, status: int, headers: dict[str, str], body: str, vendor: str
) -> None:
    httpserver.expect_request("/article").respond_with_data(
        body, status=status, headers=headers, content_type="text/html; charset=utf-8"
    )
    client = app.test_client()
    url = httpserver.url_for("/article")
    problem = client.get("/default/text-mode", query_string={"url": url, "format": "json"})
    assert (problem.status_code, problem.content_type) == (502, "application/problem+json")
    answer = json.loads(problem.data)
    assert answer["code"] == "blocked_by_site"
    assert answer["detail"].endswith(f"with a bot check instead of the page ({vendor})")
    text = client.get("/default/text-mode", query_string={"url": url})
    assert text.status_code == 502
    assert text.text.startswith("Error: ")


NOT_BOT_CHECKS = [
    # An article whose comment form has a captcha is still the article.
    ("article with a recaptcha comment form", 200, {},
     page("How sites tell people from programs", f"<article><h1>How sites tell people from programs</h1>{LONG_PROSE}"
          '<form class="comment-form"><div class="g-recaptcha"></div></form></article>',
          '<script src="https://www.google.com/recaptcha/api.js"></script>'), 200, None),
    # A page's own words about captchas, with a widget beside them, but the text of an article.
    ("article about captchas", 200, {"Server": "cloudflare"},
     page("Are you a robot? A history of the CAPTCHA", f"<article><h1>Are you a robot?</h1>{LONG_PROSE}"
          '<div class="h-captcha"></div></article>'), 200, None),
    # The challenge's words without any vendor's mark: a short post titled like one.
    ("short post titled like a wait page", 200, {},
     page("Just a moment...", "<article><h1>Just a moment...</h1><p>A short poem about waiting for the kettle to boil"
          " on a cold morning, while the cat looks on and the radio plays.</p></article>"), 200, None),
    # A vendor's edge passing on the site's own error: the site's status, not a bot check.
    ("cloudflare passing on a 503", 503, {"Server": "cloudflare"},
     page("503 Service Unavailable", "<h1>Service Unavailable</h1><p>The server is down for maintenance.</p>"),
     502, "upstream_status"),
    ("nginx 403", 403, {"Server": "nginx"}, page("403 Forbidden", "<h1>403 Forbidden</h1>"), 502, "upstream_status"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "status", "headers", "body", "answer", "code"), NOT_BOT_CHECKS, ids=[row[0] for row in NOT_BOT_CHECKS]
)
def test_a_page_or_an_error_that_is_no_bot_check_is_not_called_one(
    app: Flask,
    httpserver: HTTPServer,
    case: str,
    status: int,
    headers: dict[str, str],
    body: str,
    answer: int,
    code: str | None,
) -> None:
    httpserver.expect_request("/article").respond_with_data(
        body, status=status, headers=headers, content_type="text/html; charset=utf-8"
    )
    response = app.test_client().get(
        "/default/text-mode", query_string={"url": httpserver.url_for("/article"), "format": "json"}
    )
    assert response.status_code == answer
    assert json.loads(response.data).get("code") == code


def test_a_bot_checks_error_answer_is_read_no_further_than_one_can_be(httpserver: HTTPServer) -> None:
    # A 403 that starts like a challenge page and goes on for 40 MB: text-mode reads it up to a challenge's size
    # and no further (the sockets' buffers aside), though its size limit here would let it read all 40 MB.
    sent = [0]

    def long_answer(request: Request) -> Response:
        def body() -> Iterator[bytes]:
            yield page("Just a moment...", CHALLENGE_SCRIPT).encode()
            for _ in range(640):
                piece = b"a " * 32_768
                sent[0] += len(piece)
                yield piece

        return Response(body(), status=403, headers={"Server": "cloudflare"}, content_type="text/html")

    httpserver.expect_request("/article").respond_with_handler(long_answer)
    app = create_app({"TESTING": True, "ALLOW_PRIVATE": True, "MAX_BYTES": 64 * 1024 * 1024})
    response = app.test_client().get("/default/text-mode", query_string={"url": httpserver.url_for("/article")})
    assert (response.status_code, response.headers["X-Upstream-Status"]) == (502, "403")
    assert sent[0] < 20 * 1024 * 1024  # read in full (40 MiB), the test fails


def test_the_article_itself_is_unaffected(app: Flask, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/article").respond_with_data(ARTICLE, content_type="text/html")
    response = app.test_client().get("/default/text-mode", query_string={"url": httpserver.url_for("/article")})
    assert response.status_code == 200
    assert "The first paragraph is about owls" in response.text
