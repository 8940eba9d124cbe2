"""The blueprint: the service, its usage text, the home page, and the one place errors become answers."""

from __future__ import annotations

import functools
import json
import logging
import re
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus, urlsplit

from flask import Blueprint, Flask, Response, current_app, g, redirect, request
from werkzeug.exceptions import HTTPException

from app.cache import Answer, ResultCache, Timings
from app.errors import BadRequest, TextModeError, UpstreamStatus
from app.html_view import CONTENT_SECURITY_POLICY, error_page, home_page

if TYPE_CHECKING:
    from app.extract import Article
    from app.fetch import Policy

# The pipeline (fetch, extract, render: requests, readability, lxml, html2text) is imported by the first
# request that needs it, not at start-up: a Lambda cold start that answers the usage text or the home page
# does not pay for it.

bp = Blueprint("text_mode", __name__)
log = logging.getLogger("text_mode")

FORMATS = {
    "text": "text",
    "txt": "text",
    "plain": "text",
    "markdown": "markdown",
    "md": "markdown",
    "json": "json",
    "html": "html",
}
MEDIA_TYPES = {
    "text/plain": "text",
    "text/markdown": "markdown",
    "application/json": "json",
    "text/html": "html",
}
TEXT = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"
LAMBDA_MARGIN = 2.0  # seconds a Lambda invocation keeps back for extraction, rendering and the reply


@dataclass(frozen=True)
class Options:
    """What the request asks for: the target and how to show it."""

    url: str
    format: str
    width: int
    ascii: bool = False
    ansi: bool = False
    pages: str = ""  # a PDF's page range as asked for ("3-7"), checked by app.pdf.parse_page_range


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


def parse_options(query: str) -> Options:
    """Read the request's options, or raise BadRequest naming the bad one."""
    target, params = split_query(query)
    raw_format = params.get("format", "").strip().lower()
    if raw_format and raw_format not in FORMATS:
        raise BadRequest(f"format={raw_format!r} is not known; use text, markdown, json or html")
    fmt = FORMATS[raw_format] if raw_format else _format_from_accept()
    raw_width = params.get("width", "").strip()
    width = 80
    if raw_width:
        if not raw_width.isdigit() or not (int(raw_width) == 0 or 20 <= int(raw_width) <= 200):
            raise BadRequest(f"width={raw_width!r} is not allowed; use 0 (no wrapping) or 20 to 200")
        width = int(raw_width)
    return Options(
        url=(target or "").strip(),
        format=fmt,
        width=width,
        ascii=_switch(params, "ascii"),
        ansi=_switch(params, "ansi"),
        pages=params.get("pages", "").strip(),
    )


def _switch(params: dict[str, str], name: str) -> bool:
    value = params.get(name, "").strip().lower()
    if value in {"", "0", "false", "no", "off"}:
        return False
    if value in {"1", "true", "yes", "on"}:
        return True
    raise BadRequest(f"{name}={value!r} is not allowed; use {name}=1 or {name}=0")


def _raw_query() -> str:
    return request.query_string.decode("utf-8", errors="replace")


def _base() -> str:
    """The service's own address as this request reached it: scheme, host and prefix."""
    return request.root_url.rstrip("/") + str(current_app.config["PREFIX"])


def _policy() -> Policy:
    from app.fetch import Policy

    config = current_app.config
    return Policy(
        timeout=_fetch_timeout(config["FETCH_TIMEOUT"]),
        max_bytes=config["MAX_BYTES"],
        allow_private=config["ALLOW_PRIVATE"],
        allowed_ports=config["ALLOWED_PORTS"],
        user_agent=config["USER_AGENT"],
    )


def _fetch_timeout(configured: float) -> float:
    """The fetch deadline; in Lambda never past the invocation's own, so a slow site gets our 504, not a timeout."""
    context = request.environ.get("apig_wsgi.context")  # the Lambda context, put there by apig-wsgi
    if context is None:
        return configured
    left: float = context.get_remaining_time_in_millis() / 1000 - LAMBDA_MARGIN
    return max(0.0, min(configured, left))


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

Query parameters:
  url     the page to read: http or https (example.com/page means https://).
          Put it last: everything after a url= that holds a '?' is the page's own query.
  width   wrap at this many columns: 20 to 200, or 0 for no wrapping (default 80).
  format  text (default), markdown, json or html; an Accept header chooses too.
  ascii   ascii=1: transliterate to 7-bit ASCII (old terminals, serial consoles), same layout.
  ansi    ansi=1: bold headings and underlined link text, for terminals that show them.

Errors come as plain text (or application/problem+json with format=json):
  400 bad URL, 403 destination not allowed, 415 not a web page, 422 nothing readable,
  502 the site failed, 504 the site was too slow.

How it works: URL -> readability -> html2text -> you

Home page: {base}/
"""


@bp.route("/text-mode", methods=["GET", "HEAD"])
def service() -> Response:
    """Fetch the page named by `url`, find its article and answer in the format asked for."""
    options = parse_options(_raw_query())
    if not options.url:
        if options.format == "html":
            return html_response(home_page(base=_base(), banner=banner()))
        return Response(usage(), status=200, content_type=TEXT)
    g.target_host = _host_for_log(options.url)
    cache: ResultCache = current_app.extensions["text_mode_cache"]
    policy = _policy()
    timings = g.server_timing = Timings()
    from app.pdf import parse_page_range, read_pdf

    max_pages = current_app.config["PDF_MAX_PAGES"]
    page_range = parse_page_range(options.pages, max_pages=max_pages)

    def load() -> Article:
        from app.extract import extract
        from app.fetch import fetch

        deadline = time.monotonic() + policy.timeout  # a PDF is read by the fetch's deadline too
        with timings.stage("fetch"):
            page = fetch(options.url, policy=policy)
        with timings.stage("extract"):
            if page.pdf is not None:
                return read_pdf(
                    page.pdf,
                    url=page.url,
                    final_url=page.final_url,
                    pages=page_range,
                    max_pages=max_pages,
                    max_bytes=policy.max_bytes,
                    timeout=deadline - time.monotonic(),
                )
            return extract(page)

    answer = cache.answer(
        options.url,
        _variant(options),
        load=load,
        final_url=lambda article: str(article.final_url),
        render=lambda article: _render(article, options),
        timings=timings,
    )
    return _cacheable(answer, options, ttl=cache.ttl)


def _host_for_log(url: str) -> str:
    """The target's host for the access log; "-" when the URL cannot be parsed (fetch will say why)."""
    try:
        return urlsplit(url if "//" in url else "//" + url).hostname or "-"
    except ValueError:
        return "-"


def _render(article: Article, options: Options) -> tuple[bytes, str]:
    """The article in the format asked for, as (body, content type)."""
    from app.html_view import reading_page
    from app.render import render_json, render_markdown, render_text

    if options.format == "json":
        body = json.dumps(render_json(article), ensure_ascii=False, indent=2) + "\n"
        return body.encode(), "application/json"
    if options.format == "markdown":
        return render_markdown(article, width=options.width).encode(), "text/markdown; charset=utf-8"
    if options.format == "html":
        return reading_page(article, base=_base(), width=options.width).encode(), HTML
    return render_text(article, width=options.width, ascii=options.ascii, ansi=options.ansi).encode(), TEXT


def _variant(options: Options) -> str:
    """Everything but the page that changes an answer's bytes: the options, and what the format echoes."""
    # JSON echoes the url as asked for; the html page's links and form point at this service's own address.
    echoed = {"json": options.url, "html": _base()}.get(options.format, "")
    return repr(replace(options, url=echoed))


def _cacheable(answer: Answer, options: Options, *, ttl: float) -> Response:
    """A success with its ETag and freshness, or 304 when If-None-Match names the same bytes."""
    entry = answer.entry
    if options.format == "html":
        response = html_response(entry.body)
    else:
        response = Response(entry.body, content_type=entry.content_type)
    response.headers["Cache-Control"] = f"public, max-age={ttl:.0f}"
    response.set_etag(entry.etag)
    response.vary.add("Accept")  # without format=, the Accept header chose the representation
    if answer.how == "hit":
        response.age = timedelta(seconds=max(0, int(time.time() - entry.stored_at)))
    response.make_conditional(request)  # in place; it returns the response typed as werkzeug's
    return response


@bp.route("/", methods=["GET", "HEAD"])
def home() -> Response:
    """The home page for browsers: what text-mode is and a form to use it."""
    return html_response(home_page(base=_base(), banner=banner()))


def html_response(page: str | bytes, *, status: int = 200) -> Response:
    """A page for the browser, under a policy that allows no script and no source but this service."""
    response = Response(page, status=status, content_type=HTML)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _wants_html() -> bool:
    fmt = split_query(_raw_query())[1].get("format", "").strip().lower()
    if fmt:
        return fmt == "html"
    best = request.accept_mimetypes.best_match(["text/plain", "application/json", "text/html"])
    return best == "text/html"


def _wants_json() -> bool:
    fmt = split_query(_raw_query())[1].get("format", "").strip().lower()
    if fmt:
        return fmt == "json"
    best = request.accept_mimetypes.best_match(["text/plain", "application/json", "application/problem+json"])
    return best in ("application/json", "application/problem+json")


def _target() -> str:
    return (split_query(_raw_query())[0] or "").strip()


def error_response(error: TextModeError) -> Response:
    """The one place an error becomes an answer: plain text, or problem+json when JSON was asked for."""
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
        message = f"Error: {error.detail}\n{error.hint}\n"
        page = error_page(base=_base(), status=error.status, title=error.title, message=message, url=_target())
        response = html_response(page)
    else:
        response = Response(f"Error: {error.detail}\n{error.hint}\n", content_type=TEXT)
    response.status_code = error.status
    response.headers["Cache-Control"] = "no-store"
    if isinstance(error, UpstreamStatus):
        response.headers["X-Upstream-Status"] = str(error.upstream_status)
    return response


def register_app_handlers(app: Flask) -> None:
    """Errors, the access log and the root redirect, for the whole app (not only the blueprint)."""
    prefix = app.config["PREFIX"]

    if prefix:

        @app.route("/", methods=["GET", "HEAD"])
        def root() -> Any:
            return redirect(prefix + "/", code=302)

    @app.errorhandler(TextModeError)
    def handle_error(error: TextModeError) -> Response:
        if error.status >= 500:
            log.warning("%s %s: %s", error.status, error.code, error.detail)
        return error_response(error)

    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException) -> Response:
        status = error.code or 500
        if status == 404:
            log.info("Not found %s", request.path)
            detail = f"Not found: {request.path}"
            hint = f"The home page is at {_base()}/ and the service at {_base()}/text-mode"
        elif status == 405:
            detail = f"Method not allowed: {request.method} {request.path}"
            hint = "Use GET (or HEAD)."
        else:
            detail, hint = f"{status} {error.name}", ""
        if _wants_html():
            page = error_page(base=_base(), status=status, title=error.name, message=f"{detail}\n{hint}\n")
            response = html_response(page, status=status)
        else:
            response = Response(f"{detail}\n{hint}\n", status=status, content_type=TEXT)
        response.headers["Cache-Control"] = "no-store"
        for name in ("Allow", "Location"):
            value = error.get_response().headers.get(name)
            if value:
                response.headers[name] = value
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
