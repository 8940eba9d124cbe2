"""The blueprint: the service, its usage text, the home page, and the one place errors become answers."""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, unquote_plus, urlsplit

from flask import Blueprint, Flask, Response, current_app, g, redirect, request
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException

from app.cache import Answer, ResultCache, Timings
from app.errors import MethodNotAllowed, NotFound, TextModeError, UpstreamStatus
from app.formats import HTML, TEXT, render_as
from app.html_view import CONTENT_SECURITY_POLICY, error_page, home_page
from app.options import Options, options_from, policy_for

if TYPE_CHECKING:
    from app.document import Article
    from app.fetch import Policy

# The pipeline (fetch, extract, render: requests, readability, lxml, html2text) is imported by the first
# request that needs it, not at start-up: a Lambda cold start that answers the usage text or the home page
# does not pay for it.

bp = Blueprint("text_mode", __name__)
log = logging.getLogger("text_mode")

MEDIA_TYPES = {
    "text/plain": "text",
    "text/markdown": "markdown",
    "application/json": "json",
    "text/html": "html",
}
# The only methods served; anything else, OPTIONS included (Flask would answer it itself), is a 405.
METHODS = ["GET", "HEAD"]
LAMBDA_MARGIN = 2.0  # seconds a Lambda invocation keeps back for extraction, rendering and the reply


# Jina Reader's header names for the same controls, for clients written for it; in the path form (where the
# whole query string is the target's) they are the only way to give options. A query parameter wins over them.
OPTION_HEADERS = {
    "format": ("X-Return-Format", "X-Respond-With"),
    "selector": ("X-Target-Selector",),
    "remove": ("X-Remove-Selector",),
    "nocache": ("X-No-Cache",),
    "timeout": ("X-Timeout",),
}
SERVICE_PATH = "/text-mode"


def split_query(query: str) -> tuple[str | None, dict[str, str]]:
    """Split a raw query string into the target URL and our own parameters.

    The target is rebuilt from the raw text so that an unencoded URL keeps its own query:
    once `url=` holds a literal `?`, everything after it belongs to the target.
    """
    params: dict[str, str] = {}
    parts = query.split("&") if query else []
    for index, part in enumerate(parts):
        name, _, value = part.partition("=")
        name = unquote_plus(name)
        if name != "url":
            params.setdefault(name, unquote_plus(value))
            continue
        rest = parts[index + 1 :]
        if _looks_encoded(value):
            target = unquote_plus(value)
        elif "?" in value:
            target, rest = "&".join([value, *rest]), []
        else:
            target = value
        for extra in rest:
            extra_name, _, extra_value = extra.partition("=")
            params.setdefault(unquote_plus(extra_name), unquote_plus(extra_value))
        return target, params
    return None, params


def _path_url(target: str) -> str:
    """The target of the path form as the client meant it: `https:/x` (a proxy merged the `//`) is `https://x`,
    and a host sent percent-encoded (`b%C3%BCcher.example`) is the name it spells; the path and query keep
    their escapes."""
    target = re.sub(r"^(https?):/(?!/)", r"\1://", target.strip(), flags=re.IGNORECASE)
    scheme, authority, tail = AUTHORITY_RE.match(target).groups()  # type: ignore[union-attr]  # always matches
    host = unquote(authority)
    # An escape that would change where the authority ends, or what it holds (%2F, %40), is left as sent.
    return (scheme or "") + (host if not re.search(r"[/?#@\\]", host) else authority) + tail


AUTHORITY_RE = re.compile(r"((?i:https?://))?([^/?#]*)(.*)", re.DOTALL)


def _looks_encoded(value: str) -> bool:
    """Tell a form-encoded URL (https%3A%2F%2F...) from one typed as it is (https://...)."""
    if re.match(r"(?i)https?%3a", value):
        return True
    if "://" not in value:
        return "/" not in value and "?" not in value
    # http://h/p?x%3D1%26y%3D2: the query was encoded by a client that leaves ':', '/' and '?' alone.
    query = value.partition("?")[2]
    return bool(query) and "=" not in query and "&" not in query and bool(re.search(r"(?i)%3d|%26", query))


def _format_from_accept() -> str:
    best = request.accept_mimetypes.best_match(list(MEDIA_TYPES), default="text/plain")
    return MEDIA_TYPES.get(best or "text/plain", "text")


def parse_options(
    query: str, headers: Headers | Mapping[str, str] | None = None, *, path_target: str | None = None
) -> Options:
    """Read the request's options, or raise BadRequest naming the bad one.

    path_target: the target given in the path (`/text-mode/https://example.com/a?b=1`), whose query string is
    the target's own; the options then come from headers alone.
    """
    headers = headers or {}
    target, params = (_path_url(path_target), {}) if path_target is not None else split_query(query)
    for name, header_names in OPTION_HEADERS.items():
        if name not in params:
            given = [headers[header] for header in header_names if headers.get(header, "").strip()]
            if given:
                params[name] = given[0]
    cache_control = [part.strip().lower() for part in headers.get("Cache-Control", "").split(",")]
    if "no-cache" in cache_control and "nocache" not in params:
        params["nocache"] = "1"
    return options_from(target, params, default_format=_format_from_accept)


def _raw_query() -> str:
    return request.query_string.decode("utf-8", errors="replace")


def _path_target() -> str | None:
    """The target of the path form, everything after /text-mode/ as the client sent it (query included), else None."""
    start = f"{current_app.config['PREFIX']}{SERVICE_PATH}/"
    if not request.path.startswith(start):
        return None
    # The raw request line where the server keeps it (gunicorn, werkzeug), so that the target's own escapes
    # (%2F, %20) stay as they were; API Gateway's rawPath in Lambda; else the decoded path and the query.
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    event = request.environ.get("apig_wsgi.full_event") or {}
    if not raw and isinstance(event.get("rawPath"), str):
        raw = event["rawPath"] + (f"?{event['rawQueryString']}" if event.get("rawQueryString") else "")
    if not raw or not raw.startswith(start):
        query = _raw_query()
        raw = request.path + (f"?{query}" if query else "")
    # A WSGI server hands the request line over as bytes read as Latin-1 (PEP 3333): UTF-8 typed by the client.
    return raw[len(start) :].encode("latin-1", "replace").decode("utf-8", "replace")


def _base() -> str:
    """The service's own address as this request reached it: scheme, host and prefix."""
    return request.root_url.rstrip("/") + str(current_app.config["PREFIX"])


def _policy(options: Options) -> Policy:
    return policy_for(current_app.config, options, deadline=_lambda_deadline())


def _lambda_deadline() -> float | None:
    """Seconds left for the fetch in a Lambda invocation, so a slow site gets our 504, not Lambda's timeout."""
    context = request.environ.get("apig_wsgi.context")  # the Lambda context, put there by apig-wsgi
    if context is None:
        return None
    left: float = context.get_remaining_time_in_millis() / 1000 - LAMBDA_MARGIN
    return left


@functools.cache  # the same drawing every time; figlet takes milliseconds to make it
def banner() -> str:
    """ "Text Mode" in figlet's standard font at full width, as `figlet -W` draws it."""
    import pyfiglet

    figlet = pyfiglet.Figlet(font="standard", width=200)
    figlet.Font.smushMode = 0  # no smushing or kerning: full width
    rendered = str(figlet.renderText("Text Mode"))
    return "\n".join(line.rstrip() for line in rendered.splitlines()).rstrip("\n")


def usage() -> str:
    """The service explains itself, with examples that work from where the request came."""
    base = _base()
    return f"""{banner()}

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


@bp.route(SERVICE_PATH, methods=METHODS, provide_automatic_options=False)
@bp.route(f"{SERVICE_PATH}/", methods=METHODS, provide_automatic_options=False, merge_slashes=False)
@bp.route(f"{SERVICE_PATH}/<path:target>", methods=METHODS, provide_automatic_options=False, merge_slashes=False)
def service(target: str | None = None) -> Response:
    """Fetch the page named by `url` or by the path after /text-mode/, find its article, answer in the format asked."""
    options = parse_options(_raw_query(), request.headers, path_target=_path_target())
    if not options.url:
        if options.format == "html":
            return html_response(home_page(base=_base(), banner=banner()))
        return Response(usage(), status=200, content_type=TEXT)
    g.target_host = _host_for_log(options.url)
    cache: ResultCache = current_app.extensions["text_mode_cache"]
    policy = _policy(options)
    timings = g.server_timing = Timings()
    from app.pdf import parse_page_range, read_fetched_pdf

    max_pages = current_app.config["PDF_MAX_PAGES"]
    page_range = parse_page_range(options.pages, max_pages=max_pages)

    lxml_turn: threading.Lock = current_app.extensions["text_mode_lxml_turn"]

    def load() -> Article:
        from app.extract import extract
        from app.fetch import fetch

        deadline = time.monotonic() + policy.timeout  # a PDF is read by the fetch's deadline too
        with timings.stage("fetch"):
            page = fetch(options.url, policy=policy)
        if page.pdf is not None:  # read in a child process of its own: no turn to wait for
            with timings.stage("extract"):
                return read_fetched_pdf(
                    page, pages=page_range, max_pages=max_pages, max_bytes=policy.max_bytes, deadline=deadline
                )
        with _turn(lxml_turn, timings), timings.stage("extract"):
            return extract(page, keep=options.keep_selector, remove=options.remove_selector)

    def render(article: Article) -> tuple[bytes, str]:
        with _turn(lxml_turn, timings):
            return _render(article, options)

    answer = cache.answer(
        options.url,
        _variant(options),
        load=load,
        final_url=lambda article: str(article.final_url),
        render=render,
        timings=timings,
        loads_as=repr((options.selector, options.remove, options.pages))
        if options.selector or options.remove or options.pages
        else "",
        fresh=options.fresh,
    )
    return _cacheable(answer, options, ttl=cache.ttl, now=cache.clock())


@contextmanager
def _turn(lock: threading.Lock, timings: Timings) -> Iterator[None]:
    """Run the block holding lock; a request that had to wait for it shows the wait as `queue` in Server-Timing."""
    if not lock.acquire(blocking=False):
        started = time.perf_counter()
        lock.acquire()
        timings.add("queue", (time.perf_counter() - started) * 1000)
    try:
        yield
    finally:
        lock.release()


def _host_for_log(url: str) -> str:
    """The target's host for the access log; "-" when the URL cannot be parsed (fetch will say why)."""
    try:
        return urlsplit(url if "//" in url else "//" + url).hostname or "-"
    except ValueError:
        return "-"


def _render(article: Article, options: Options) -> tuple[bytes, str]:
    """The article in the format asked for, as (body, content type)."""
    body, content_type = render_as(
        article, options.format, width=options.width, ascii=options.ascii, ansi=options.ansi, base=_base()
    )
    return body.encode(), content_type


def _variant(options: Options) -> str:
    """Everything but the page that changes an answer's bytes: the options, and what the format echoes."""
    # JSON echoes the url as asked for; the html page's links and form point at this service's own address.
    echoed = {"json": options.url, "html": _base()}.get(options.format, "")
    return repr(replace(options, url=echoed))


def _cacheable(answer: Answer, options: Options, *, ttl: float, now: float) -> Response:
    """A success with its validators and freshness, or 304 when If-None-Match or If-Modified-Since says unchanged.

    The ETag is a hash of the bytes; Last-Modified is when these bytes were made (the cache's clock, as `now`).
    """
    entry = answer.entry
    if options.format == "html":
        response = html_response(entry.body)
    else:
        response = Response(entry.body, content_type=entry.content_type)
    response.headers["Cache-Control"] = f"public, max-age={ttl:.0f}"
    response.set_etag(entry.etag)
    response.last_modified = datetime.fromtimestamp(entry.stored_at, UTC)
    response.vary.add("Accept")  # without format=, the Accept header chose the representation
    if answer.how == "hit":
        response.age = timedelta(seconds=max(0, int(now - entry.stored_at)))
    response.make_conditional(request)  # in place; RFC 9110 13.2.2: If-None-Match, when sent, outranks the date
    return response


@bp.route("/", methods=METHODS, provide_automatic_options=False)
def home() -> Response:
    """The home page for browsers: what text-mode is and a form to use it."""
    return html_response(home_page(base=_base(), banner=banner()))


def html_response(page: str | bytes, *, status: int = 200) -> Response:
    """A page for the browser, under a policy that allows no script and no source but this service."""
    response = Response(page, status=status, content_type=HTML)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _asked_format() -> str:
    """The format= parameter or its header, as given (errors are answered in it too); "" when none was."""
    params = split_query(_raw_query())[1] if _path_target() is None else {}
    named = params.get("format") or next(
        (request.headers[header] for header in OPTION_HEADERS["format"] if request.headers.get(header, "").strip()), ""
    )
    return named.strip().lower()


def _wants_html() -> bool:
    fmt = _asked_format()
    if fmt:
        return fmt == "html"
    best = request.accept_mimetypes.best_match(["text/plain", "application/json", "text/html"])
    return best == "text/html"


def _wants_json() -> bool:
    fmt = _asked_format()
    if fmt:
        return fmt == "json"
    best = request.accept_mimetypes.best_match(["text/plain", "application/json", "application/problem+json"])
    return best in ("application/json", "application/problem+json")


def _target() -> str:
    path_target = _path_target()
    return _path_url(path_target) if path_target is not None else (split_query(_raw_query())[0] or "").strip()


def error_response(error: TextModeError, *, plain: str | None = None) -> Response:
    """The one place an error becomes an answer: plain text, an HTML page, or problem+json when JSON was asked for.

    plain is the text form, `Error: <detail>` and the hint unless given (404 and 405 name what was asked for).
    """
    plain = plain or f"Error: {error.detail}\n{error.hint}\n"
    if _wants_json():
        problem = {
            "type": f"urn:text-mode:error:{error.code}",
            "title": error.title,
            "status": error.status,
            "detail": error.detail,
            "code": error.code,
            "hint": error.hint,
        }
        response = Response(json.dumps(problem, ensure_ascii=False) + "\n", content_type="application/problem+json")
    elif _wants_html():
        page = error_page(base=_base(), status=error.status, title=error.title, message=plain, url=_target())
        response = html_response(page)
    else:
        response = Response(plain, content_type=TEXT)
    response.status_code = error.status
    response.headers["Cache-Control"] = "no-store"
    if isinstance(error, UpstreamStatus):
        response.headers["X-Upstream-Status"] = str(error.upstream_status)
    return response


def _routing_error(error: HTTPException) -> TextModeError:
    """What werkzeug's routing refused (no such path, another method, a missing slash), as one of our errors."""
    if error.code == 404:
        return NotFound(
            f"Not found: {request.path}", hint=f"The home page is at {_base()}/ and the service at {_base()}/text-mode"
        )
    if error.code == 405:
        return MethodNotAllowed(f"Method not allowed: {request.method} {request.path}")
    other = TextModeError(f"{error.code} {error.name}", hint="")
    other.status, other.code, other.title = error.code or 500, f"http_{error.code}", error.name
    return other


def register_app_handlers(app: Flask) -> None:
    """Errors, the access log and the root redirect, for the whole app (not only the blueprint)."""
    prefix = app.config["PREFIX"]

    if prefix:

        @app.route("/", methods=METHODS, provide_automatic_options=False)
        def root() -> Any:
            return redirect(prefix + "/", code=302)

    @app.errorhandler(TextModeError)
    def handle_error(error: TextModeError) -> Response:
        if error.status >= 500:
            log.warning("%s %s: %s", error.status, error.code, error.detail)
        return error_response(error)

    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException) -> Response:
        if error.code == 404:
            log.info("Not found %s", request.path)
        routing = _routing_error(error)
        response = error_response(routing, plain=f"{routing.detail}\n{routing.hint}\n")
        allowed = getattr(error, "valid_methods", None)  # werkzeug's, from a set: sorted for one spelling
        if allowed:
            response.headers["Allow"] = ", ".join(sorted(allowed))
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(TextModeError("something went wrong inside text-mode"))

    @app.before_request
    def start_timer() -> None:
        g.started = time.monotonic()

    @app.after_request
    def access_log(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        elapsed = (time.monotonic() - g.get("started", time.monotonic())) * 1000
        timings = g.get("server_timing")
        stages = f"{timings.header()}, " if timings and timings.stages else ""
        response.headers["Server-Timing"] = f"{stages}total;dur={elapsed:.1f}"
        size = response.calculate_content_length()
        log.info(
            "%s %s %d %.0fms %sB host=%s",
            request.method,
            request.path,
            response.status_code,
            elapsed,
            "-" if size is None else size,
            g.get("target_host", "-"),
        )
        return response
