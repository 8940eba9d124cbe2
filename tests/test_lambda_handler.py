"""The Lambda handler in this process: every real AWS event shape, each front door's address, apig-wsgi's traps."""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from apig_wsgi import make_lambda_handler
from awslambdaric.lambda_context import LambdaContext
from pytest_httpserver import HTTPServer
from werkzeug import Response

from app import create_app
from app.lambda_handler import make_handler
from tests.lambda_runtime import EVENT_NAMES, event_for, load_event
from tests.test_service import ARTICLE

TEXT = "text/plain; charset=utf-8"


def lambda_context(*, seconds_left: float = 30) -> LambdaContext:
    """awslambdaric's own context object, as its runtime loop builds it for each invocation."""
    deadline_ms = int((time.time() + seconds_left) * 1000)
    return LambdaContext("c6af9ac6-7b61-11e6-9a41-93e8deadbeef", None, None, deadline_ms)


def handler_for(**config: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    handler = make_handler(create_app({"TESTING": True, "ALLOW_PRIVATE": True, **config}))
    return lambda event: handler(event, lambda_context())


def steady(answer: Any) -> Any:
    """The answer with Server-Timing's durations blanked: they differ from one request to the next."""
    if isinstance(answer, dict):
        return {key: steady(value) for key, value in answer.items()}
    if isinstance(answer, list):
        return [steady(value) for value in answer]
    return re.sub(r"dur=[0-9.]+", "dur=...", answer) if isinstance(answer, str) else answer


def v2_headers(status_headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in status_headers.items()}


def text_404(base: str, path: str) -> str:
    return f"Not found: {path}\nThe home page is at {base}/default/ and the service at {base}/default/text-mode\n"


# fixture -> what the default configuration (prefix /default) answers it, and why
FIXTURE_ANSWERS: dict[str, tuple[int, str]] = {
    # a browser asks for the sample function's path: not ours, so the 404 page in HTML (its Accept says text/html)
    "http-api-v2_stage-default": (404, "text/html; charset=utf-8"),
    # curl at the $default stage's root: redirected to the prefix, where the home page is
    "http-api-v2_stage-dollar-default": (302, "text/html; charset=utf-8"),
    "function-url_get": (302, "text/html; charset=utf-8"),
    # POSTs and GETs to paths that are not ours: plain-text 404 naming the path and where the service is
    "http-api-v2_cookies-multiquery-post": (404, TEXT),
    "function-url_iam-post": (404, TEXT),
    "http-api-payload-v1": (404, TEXT),
    "rest-api-v1_proxy-plus-post": (404, TEXT),
    "alb_multi-value-headers": (404, TEXT),
    # a browser at REST stage Prod's root, which the default prefix does not serve (TEXT_MODE_PREFIX=/Prod does)
    "rest-api-v1_stage-prod": (404, "text/html; charset=utf-8"),
    "alb_single-value-headers": (404, "text/html; charset=utf-8"),
}


@pytest.mark.parametrize("name", EVENT_NAMES)  # every fixture: one without a row above is a KeyError
def test_every_real_event_gets_the_apps_own_answer_in_its_shape(name: str) -> None:
    status, content_type = FIXTURE_ANSWERS[name]
    event = load_event(name)
    app = create_app({"TESTING": True})
    response = make_handler(app)(event, lambda_context())

    # The same request straight to the app: the handler must carry its answer whole, in the event's shape.
    direct = app.test_client().open(**_as_test_request(name))
    assert direct.status_code == status
    assert direct.headers["Content-Type"] == content_type
    headers = dict(direct.headers)
    body = direct.get_data(as_text=True)
    if event.get("version") == "2.0":
        expected = {"statusCode": status, "cookies": [], "headers": v2_headers(headers)}
    elif "multiValueHeaders" in event:
        expected = {"statusCode": status, "multiValueHeaders": {k: [v] for k, v in headers.items()}}
    else:
        expected = {"statusCode": status, "headers": headers}
    assert steady(response) == steady({**expected, "isBase64Encoded": False, "body": body})


def _as_test_request(name: str) -> dict[str, Any]:
    """The fixture's request for Flask's test client: method, the path the client used, host, scheme, Accept."""
    event = load_event(name)
    context = event["requestContext"]
    if event.get("version") == "2.0":
        method, path, headers = context["http"]["method"], event["rawPath"], event["headers"]
    else:
        method = event["httpMethod"]
        path = context.get("path", event["path"])
        headers = {k: v[-1] for k, v in event["multiValueHeaders"].items()} if "multiValueHeaders" in event else {}
        headers = headers or event["headers"]
    lower = {k.lower(): v for k, v in headers.items()}
    host = lower.get("host", context.get("domainName", ""))
    if "<" in host:  # a placeholder the sample kept: werkzeug refuses it as a host, as it does in the handler
        host = ""
    scheme = lower.get("x-forwarded-proto", "https")
    return {
        "method": method,
        "path": path,
        "base_url": f"{scheme}://{host or 'localhost'}",
        "headers": {"Accept": lower.get("accept", "*/*"), **({} if host else {"Host": ""})},
    }


def test_plain_404_names_the_path_and_the_address_it_came_to() -> None:
    answer = handler_for()(load_event("rest-api-v1_proxy-plus-post"))
    base = "https://gy415nuibc.execute-api.us-east-1.amazonaws.com"
    answer["multiValueHeaders"].pop("Server-Timing", None)
    assert answer == {
        "statusCode": 404,
        "multiValueHeaders": {
            "Content-Type": [TEXT],
            "Content-Length": [str(len(text_404(base, "/hello/world").encode()))],
            "Cache-Control": ["no-store"],
            "X-Content-Type-Options": ["nosniff"],
        },
        "isBase64Encoded": False,
        "body": text_404(base, "/hello/world"),
    }


def test_root_of_a_dollar_default_stage_redirects_to_the_prefix() -> None:
    answer = handler_for()(load_event("http-api-v2_stage-dollar-default"))
    assert answer["statusCode"] == 302
    assert answer["headers"]["location"] == "/default/"
    assert answer["cookies"] == []


# setup -> (fixture, TEXT_MODE_PREFIX, what the user types after the host, the address the usage text shows)
FRONT_DOORS = {
    "HTTP API, stage default": (
        "http-api-v2_stage-default",
        "/default",
        "/default/text-mode",
        "https://r3pmxmplak.execute-api.us-east-2.amazonaws.com/default/text-mode",
    ),
    "HTTP API, $default stage": (
        "http-api-v2_stage-dollar-default",
        "/default",
        "/default/text-mode",
        "https://aaaaaaaaaa.execute-api.us-west-2.amazonaws.com/default/text-mode",
    ),
    "HTTP API, $default stage, no prefix": (
        "http-api-v2_stage-dollar-default",
        "",
        "/text-mode",
        "https://aaaaaaaaaa.execute-api.us-west-2.amazonaws.com/text-mode",
    ),
    "REST API, stage Prod": (
        "rest-api-v1_stage-prod",
        "/Prod",
        "/Prod/text-mode",
        "https://70ixmpl4fl.execute-api.ca-central-1.amazonaws.com/Prod/text-mode",
    ),
    "REST API, custom domain, base path default": (
        "rest-api-v1_proxy-plus-post",
        "/default",
        "/default/text-mode",
        "https://gy415nuibc.execute-api.us-east-1.amazonaws.com/default/text-mode",
    ),
    "HTTP API payload 1.0, $default stage": (
        "http-api-payload-v1",
        "/default",
        "/default/text-mode",
        "https://id.execute-api.us-east-1.amazonaws.com/default/text-mode",
    ),
    "Function URL": (
        "function-url_get",
        "/default",
        "/default/text-mode",
        "https://<url-id>.lambda-url.us-east-1.on.aws/default/text-mode",
    ),
    "ALB, multi-value headers": (
        "alb_multi-value-headers",
        "/default",
        "/default/text-mode",
        "http://alb-c-loadb-14pofkyclbnsf-1815800096.eu-central-1.elb.amazonaws.com/default/text-mode",
    ),
    "ALB, single-value headers": (
        "alb_single-value-headers",
        "",
        "/text-mode",
        "http://lambda-alb-123578498.us-east-2.elb.amazonaws.com/text-mode",
    ),
}


@pytest.mark.parametrize("setup", FRONT_DOORS)
def test_each_front_door_reaches_the_service_at_the_address_the_readme_gives(setup: str) -> None:
    name, prefix, path, address = FRONT_DOORS[setup]
    headers = {"Accept": "*/*"}
    if "<url-id>" in address:  # the sample's placeholder is no valid host; a real Function URL's is
        address = address.replace("<url-id>", "abcdefghij")
        headers["Host"] = "abcdefghij.lambda-url.us-east-1.on.aws"
    answer = handler_for(PREFIX=prefix)(event_for(name, path=path, headers=headers))
    assert answer["statusCode"] == 200, answer["body"]
    assert f"  curl '{address}?url=https://example.com/article'\n" in answer["body"]
    assert answer["isBase64Encoded"] is False


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("http-api-v2_stage-default", "width=40&url=ORIGIN/owls"),  # typed as is: the raw query arrives whole
        ("rest-api-v1_stage-prod", "width=40&url=ORIGIN_ENCODED"),  # REST decodes the query: send url encoded
        ("alb_single-value-headers", "width=40&url=ORIGIN/owls"),
        ("alb_multi-value-headers", "width=40&url=ORIGIN_ENCODED"),
        ("function-url_iam-post", "width=40&url=ORIGIN/owls"),
    ],
)
def test_an_article_through_each_event_shape(httpserver: HTTPServer, name: str, query: str) -> None:
    httpserver.expect_request("/owls").respond_with_data(ARTICLE, content_type="text/html; charset=utf-8")
    origin = httpserver.url_for("/owls")
    encoded = origin.replace(":", "%3A").replace("/", "%2F")
    query = query.replace("ORIGIN_ENCODED", encoded).replace("ORIGIN/owls", origin)
    prefix = "/Prod" if name == "rest-api-v1_stage-prod" else "/default"
    event = event_for(name, path=f"{prefix}/text-mode", query=query, headers={"Accept": "*/*"})  # as curl sends
    answer = handler_for(PREFIX=prefix)(event)
    assert answer["statusCode"] == 200, answer["body"]
    assert answer["isBase64Encoded"] is False
    assert answer["body"].startswith("Owls at night\n=============\n")
    assert all(len(line) <= 40 for line in answer["body"].splitlines())


def test_a_slow_site_gets_our_504_before_the_invocation_runs_out(httpserver: HTTPServer) -> None:
    release = threading.Event()

    def held(request: object) -> Response:
        release.wait(10)  # past the invocation's deadline, until the test has its answer
        return Response(ARTICLE, content_type="text/html")

    httpserver.expect_request("/slow").respond_with_handler(held)
    app = create_app({"TESTING": True, "ALLOW_PRIVATE": True, "FETCH_TIMEOUT": 10.0})
    query = "url=" + httpserver.url_for("/slow")
    event = event_for("http-api-v2_stage-default", path="/default/text-mode", query=query, headers={"Accept": "*/*"})
    # 2.5 s left, less the 2 s margin: the fetch gets 0.5 s, though the setting allows 10 s
    started = time.monotonic()
    try:
        answer = make_handler(app)(event, lambda_context(seconds_left=2.5))
    finally:
        release.set()
    assert time.monotonic() - started < 2.0  # 0.5 s and the reply, well before the invocation's end
    assert answer["statusCode"] == 504
    assert answer["headers"]["cache-control"] == "no-store"
    assert answer["body"].startswith("Error: ")  # which words depends on where the deadline struck


def test_outside_lambda_the_whole_fetch_timeout_is_used(httpserver: HTTPServer) -> None:
    def slow(request: object) -> Response:
        time.sleep(2.5)  # the site itself is slow: longer than the Lambda margin leaves of 3 s, within 3 s
        return Response(ARTICLE, content_type="text/html")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    app = create_app({"TESTING": True, "ALLOW_PRIVATE": True, "FETCH_TIMEOUT": 3.0})
    answer = app.test_client().get("/default/text-mode", query_string={"url": httpserver.url_for("/slow")})
    assert answer.status_code == 200


def test_an_event_that_is_not_http_gets_a_400_not_a_lambda_error() -> None:
    for event in ({}, {"source": "aws.events", "detail-type": "Scheduled Event"}, [1, 2]):
        answer = handler_for()(event)  # type: ignore[arg-type]
        assert answer == {
            "statusCode": 400,
            "headers": {"Content-Type": TEXT, "Cache-Control": "no-store"},
            "body": "Error: not an HTTP request\ntext-mode answers API Gateway, ALB and Function URL events.\n",
            "isBase64Encoded": False,
        }


# apig-wsgi's known traps, with a small WSGI app that does what ours might one day do


def wsgi_app(body: bytes, headers: list[tuple[str, str]]) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", headers)
        return [body]

    return app


def test_a_repeated_header_keeps_every_value_with_payload_2() -> None:
    app = wsgi_app(b"ok", [("Content-Type", TEXT), ("Vary", "Accept"), ("Vary", "Accept-Encoding")])
    event = load_event("http-api-v2_stage-default")
    assert make_lambda_handler(app)(event, None)["headers"]["vary"] == "Accept-Encoding"  # the trap
    assert make_handler(app)(event, None) == {
        "statusCode": 200,
        "cookies": [],
        "headers": {"content-type": TEXT, "vary": "Accept, Accept-Encoding"},
        "isBase64Encoded": False,
        "body": "ok",
    }


@pytest.mark.parametrize("content_type", ["application/octet-stream", "text/plain; charset=iso-8859-1", "image/png"])
@pytest.mark.parametrize("name", ["rest-api-v1_stage-prod", "http-api-payload-v1"])
def test_a_body_that_is_not_utf8_goes_base64_with_payload_1(name: str, content_type: str) -> None:
    app = wsgi_app(b"caf\xe9 \xff", [("Content-Type", content_type)])
    event = load_event(name)
    with pytest.raises(UnicodeDecodeError):  # the trap: apig-wsgi's default for payload 1.0
        make_lambda_handler(app)(event, None)
    assert make_handler(app)(event, None) == {
        "statusCode": 200,
        "multiValueHeaders": {"Content-Type": [content_type]},
        "isBase64Encoded": True,
        "body": base64.b64encode(b"caf\xe9 \xff").decode(),
    }


COOKIES = [("Set-Cookie", "a=1; Path=/"), ("Set-Cookie", "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT")]


def test_several_cookies_reach_the_client_where_the_shape_allows() -> None:
    app = wsgi_app(b"ok", [("Content-Type", TEXT), *COOKIES])
    assert make_handler(app)(load_event("alb_multi-value-headers"), None)["multiValueHeaders"] == {
        "Content-Type": [TEXT],
        "Set-Cookie": ["a=1; Path=/", "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT"],
    }
    assert make_handler(app)(load_event("http-api-v2_stage-dollar-default"), None)["cookies"] == [
        "a=1; Path=/",
        "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT",
    ]
    assert make_handler(app)(load_event("rest-api-v1_stage-prod"), None)["multiValueHeaders"]["Set-Cookie"] == [
        "a=1; Path=/",
        "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT",
    ]


def test_several_cookies_behind_an_alb_without_multi_value_headers_say_what_to_switch_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = wsgi_app(b"ok", [("Content-Type", TEXT), *COOKIES])
    answer = make_handler(app)(load_event("alb_single-value-headers"), None)
    # One header per name is all this shape can carry (and ALB reads no other field): the last one goes,
    # and the log says how to get them all.
    assert answer["headers"] == {"Content-Type": TEXT, "Set-Cookie": "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT"}
    assert [record.getMessage() for record in caplog.records] == [
        "2 Set-Cookie headers but only the last reaches the client: enable multi-value headers on the ALB target group"
    ]


def test_the_service_itself_sets_no_cookies() -> None:
    for name in EVENT_NAMES:
        answer = handler_for()(load_event(name))
        headers = answer.get("headers") or answer.get("multiValueHeaders") or {}
        assert not answer.get("cookies")
        assert "set-cookie" not in {key.lower() for key in headers}
