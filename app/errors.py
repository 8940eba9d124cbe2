"""The service's one exception family: each error carries the HTTP status and code it means."""

from __future__ import annotations

from app.visible import without_controls


class TextModeError(Exception):
    """Root of every error the service turns into an HTTP answer."""

    status = 500
    code = "internal_error"
    title = "Internal error"
    hint = "This is a bug in text-mode; please try again later."

    def __init__(self, detail: str, *, hint: str | None = None) -> None:
        super().__init__(detail)
        # A detail may quote the site (its Content-Type, a redirect's Location): no control reaches a terminal.
        self.detail = without_controls(detail)
        if hint is not None:
            self.hint = hint


class BadRequest(TextModeError):
    status = 400
    code = "bad_request"
    title = "Bad request"
    hint = "Give a web page's address: ?url=https://example.com/article"


class NotFound(TextModeError):
    """A path the service does not have."""

    status = 404
    code = "not_found"
    title = "Not found"


class MethodNotAllowed(TextModeError):
    """A method other than GET or HEAD."""

    status = 405
    code = "method_not_allowed"
    title = "Method not allowed"
    hint = "Use GET (or HEAD)."


class FetchError(TextModeError):
    """Root of the errors raised while fetching a page."""

    status = 502
    code = "fetch_failed"
    title = "The page could not be fetched"
    hint = "Check the address, or try again later."


class BadURL(FetchError):
    status = 400
    code = "bad_url"
    title = "Bad URL"
    hint = "Give an http or https address, such as ?url=https://example.com/article"


class RefusedURL(BadURL):
    """A URL that parses but is of a kind text-mode never fetches: another scheme, or credentials in it."""


class BlockedDestination(FetchError):
    status = 403
    code = "blocked_destination"
    title = "Destination not allowed"
    hint = "text-mode only fetches public web sites on the usual web ports."


class UpstreamStatus(FetchError):
    code = "upstream_status"
    title = "The site answered with an error"

    def __init__(self, detail: str, *, upstream_status: int) -> None:
        super().__init__(detail)
        self.upstream_status = upstream_status


class UpstreamTimeout(FetchError):
    status = 504
    code = "upstream_timeout"
    title = "The site was too slow"
    hint = "The site did not answer in time; try again later."


class TooLarge(FetchError):
    code = "too_large"
    title = "The page is too large"
    hint = "text-mode reads pages up to a size limit."


class UnsupportedContent(FetchError):
    status = 415
    code = "unsupported_content"
    title = "Not a web page"
    hint = "text-mode reads HTML and plain text, not images, PDFs or other files."


class ExtractError(TextModeError):
    status = 422
    code = "nothing_readable"
    title = "Nothing readable"
    hint = "The page has no text that text-mode could find (it may need JavaScript)."


class TooComplex(ExtractError):
    code = "too_complex"
    title = "The page is too complex"
    hint = "The page has more elements than text-mode reads; try a simpler version of it (print or mobile)."


class BlockedBySite(FetchError):
    code = "blocked_by_site"
    title = "Blocked by the site"
    hint = "The site lets only browsers it has checked through; open the page in a browser, or try again later."


class NoMatch(ExtractError):
    code = "selector_matched_nothing"
    title = "Nothing matched the selector"
    hint = "Check the selector against the page's HTML; it is matched before any script runs."
