"""AWS Lambda: API Gateway, ALB and Function URL events in, the Flask app behind apig-wsgi, built once per process."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from apig_wsgi import make_lambda_handler

from app import configure_logging, create_app

log = logging.getLogger("text_mode.lambda")

Event = dict[str, Any]
Handler = Callable[[Event, Any], dict[str, Any]]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# Bodies travel as text only when declared UTF-8, as all of ours are: apig-wsgi decodes text bodies as UTF-8,
# and with payload 1.0's default (binary support off) any other body raises instead of answering.
UTF8_TYPES = (
    "text/plain; charset=utf-8",
    "text/markdown; charset=utf-8",
    "text/html; charset=utf-8",
    "application/json",
    "application/problem+json",
)


def fold_repeated_headers(wsgi_app: WSGIApp) -> WSGIApp:
    """Join a repeated response header into one comma-separated line (RFC 9110 5.3), Set-Cookie aside.

    Payload 2.0 and single-value responses are dicts, where apig-wsgi keeps only a header's last value.
    """

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def folding_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            names: dict[str, str] = {}
            values: dict[str, list[str]] = {}
            cookies = []
            for name, value in headers:
                if name.lower() == "set-cookie":
                    cookies.append((name, value))
                else:
                    names.setdefault(name.lower(), name)
                    values.setdefault(name.lower(), []).append(value)
            context = environ.get("apig_wsgi.request_context") or {}
            if len(cookies) > 1 and "elb" in context and not environ.get("apig_wsgi.multi_value_headers"):
                log.warning(
                    "%d Set-Cookie headers but only the last reaches the client: "
                    "enable multi-value headers on the ALB target group",
                    len(cookies),
                )
            folded = [(names[key], ", ".join(joined)) for key, joined in values.items()]
            return start_response(status, folded + cookies, exc_info)

        return wsgi_app(environ, folding_start_response)

    return app


def as_the_client_sent_it(event: Event) -> Event:
    """Restore what some events leave out, so the app sees the address the client used.

    A REST API drops the stage from `path` (`/` for `/Prod/`) but keeps it in `requestContext.path`; with the
    stage put back, one prefix setting serves every front door. An event without a Host header (a console
    test) gets the API's domain name, and the https scheme API Gateway and Function URLs always use.
    """
    context = event.get("requestContext")
    if not isinstance(context, dict) or "elb" in context:
        return event
    event = dict(event)
    asked, path = context.get("path"), event.get("path")
    if "version" not in event and isinstance(asked, str) and isinstance(path, str) and asked.endswith(path):
        event["path"] = asked
    domain = context.get("domainName")
    if isinstance(domain, str) and domain:
        field = "multiValueHeaders" if "multiValueHeaders" in event else "headers"
        headers = dict(event.get(field) or {})
        present = {name.lower() for name in headers}
        for name, value in (("host", domain), ("x-forwarded-proto", "https")):
            if name not in present:
                headers[name] = [value] if field == "multiValueHeaders" else value
        event[field] = headers
    return event


def is_http_event(event: Any) -> bool:
    """Tell an HTTP event (API Gateway, ALB, Function URL) from anything else Lambda may deliver."""
    if not isinstance(event, dict):
        return False
    if event.get("version") == "2.0":
        return isinstance(event.get("requestContext"), dict) and "http" in event["requestContext"]
    return isinstance(event.get("httpMethod"), str) and isinstance(event.get("path"), str)


def not_http(event: Any) -> dict[str, Any]:
    """The answer to an event that is not an HTTP request (a console test, a scheduled ping)."""
    kind = sorted(event)[:5] if isinstance(event, dict) else type(event).__name__
    log.warning("not an HTTP event (%s): answered 400", kind)
    return {
        "statusCode": 400,
        "headers": {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"},
        "body": "Error: not an HTTP request\ntext-mode answers API Gateway, ALB and Function URL events.\n",
        "isBase64Encoded": False,
    }


def make_handler(wsgi_app: WSGIApp) -> Handler:
    """Wrap a WSGI app as a Lambda handler for every HTTP front door Lambda has."""
    adapter = make_lambda_handler(
        fold_repeated_headers(wsgi_app), binary_support=True, non_binary_content_type_prefixes=UTF8_TYPES
    )

    def lambda_handler(event: Event, context: Any) -> dict[str, Any]:
        if not is_http_event(event):
            return not_http(event)
        return adapter(as_the_client_sent_it(event), context)

    return lambda_handler


configure_logging(json_lines=True)
handler = make_handler(create_app())  # built at import: warm invocations reuse the app
