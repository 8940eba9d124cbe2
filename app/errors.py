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


class PdfError(ExtractError):
    """Root of the errors raised while reading a PDF: its text cannot be had, and why."""

    code = "bad_pdf"
    title = "The PDF cannot be read"
    hint = "The file is damaged or not a PDF; open it in a PDF viewer to check."


class EncryptedPdf(PdfError):
    code = "encrypted"
    title = "The PDF is password-protected"
    hint = "text-mode does not ask for passwords; open the PDF in a viewer that can."


class NoTextLayer(PdfError):
    code = "no_text"
    title = "The PDF has no text"
    hint = "Its pages are pictures (a scan): reading them needs character recognition, which text-mode does not do."


class PdfTooLarge(PdfError):
    code = "too_large"
    title = "The PDF is too large"
    hint = "text-mode reads PDFs up to a size limit; ask for fewer pages with ?pages=1-20."


class PdfTooComplex(PdfError):
    code = "too_complex"
    title = "The PDF is too complex"
    hint = "Reading it took more time or memory than text-mode gives one PDF; try fewer pages with ?pages=1-20."
