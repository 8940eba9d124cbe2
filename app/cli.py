"""`python -m app <url>`: the article on stdout, as curl would get it from the service, without a server."""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from app.errors import TextModeError, TooLarge
from app.formats import render_as
from app.options import Options, options_from, policy_for
from app.settings import DEFAULTS, ConfigError, settings_from_env

if TYPE_CHECKING:
    from app.document import Article

# An address, never a file's name, however the current directory is filled.
WEB_ADDRESS_RE = re.compile(r"^https?:", re.IGNORECASE)

# One exit status per kind of failure, as the README and --help list them.
EXIT_BAD_INPUT = 2  # also argparse's own, for a flag it does not know
EXIT_REFUSED = 3
EXIT_FETCH_FAILED = 4
EXIT_NOTHING_READABLE = 5
# By the HTTP status the service would answer: 400 bad input, 403 refused, 422 nothing readable, the rest failed.
EXIT_STATUSES = {400: EXIT_BAD_INPUT, 403: EXIT_REFUSED, 422: EXIT_NOTHING_READABLE}
EPILOG = f"""\
SOURCE is a web page's address (example.com/a means https://), a file of HTML, or - for HTML on stdin.
Settings come from the same TEXT_MODE_* variables as the service's (fetch timeout, size limit, user agent).

exit status:
  0  the article was written
  {EXIT_BAD_INPUT}  bad input: a bad address, option or setting
  {EXIT_REFUSED}  refused destination: not a public address, or a port other than the web's
  {EXIT_FETCH_FAILED}  the page could not be fetched (the site failed or was too slow, or answered with a bot check)
  {EXIT_NOTHING_READABLE}  nothing readable in the page (or nothing matched --selector)
"""


def parser() -> argparse.ArgumentParser:
    """The command line's flags: the service's options, and where the HTML comes from."""
    flags = argparse.ArgumentParser(
        prog="python -m app",
        description="Print a web page's article as clean, readable text. Without SOURCE, serve the web service.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    flags.add_argument("source", metavar="SOURCE", help="an http(s) address, a file of HTML, or - for stdin")
    flags.add_argument("--width", default="80", help="wrap at this many columns, 20 to 200, or 0 (default 80)")
    flags.add_argument("--format", default="text", help="text (default), markdown, json or html")
    flags.add_argument("--ascii", action="store_true", help="transliterate to 7-bit ASCII (text format)")
    ansi = flags.add_mutually_exclusive_group()
    ansi.add_argument(
        "--ansi",
        action="store_true",
        default=None,
        help="bold headings and underlined links (default: on a terminal, unless NO_COLOR is set)",
    )
    ansi.add_argument("--no-ansi", dest="ansi", action="store_false", help="never any terminal styling")
    flags.add_argument("--selector", default="", help="CSS selectors: the article is what they match")
    flags.add_argument("--remove", default="", help="CSS selectors of what to remove first")
    flags.add_argument("--pages", default="", help="a PDF's pages: 3 or 3-7")
    flags.add_argument("--timeout", default="", help="seconds to wait for the site (at most TEXT_MODE_FETCH_TIMEOUT)")
    flags.add_argument("--base-url", default="", help="the address a file or stdin came from, for its links")
    flags.add_argument("--allow-private", action="store_true", help="also fetch private and loopback addresses")
    return flags


def main(argv: list[str], *, stdin: IO[bytes] | None = None, stdout: IO[str] | None = None) -> int:
    """Run the command line; the exit status."""
    out = stdout or sys.stdout
    args = parser().parse_args(argv)
    logging.getLogger("text_mode").setLevel(logging.WARNING)  # the service's request log is no reader's business
    try:
        config = {**DEFAULTS, **settings_from_env(os.environ)}
    except ConfigError as error:
        return _fail(str(error), EXIT_BAD_INPUT)
    ansi = args.ansi
    if ansi is None:
        ansi = out.isatty() and not os.environ.get("NO_COLOR") and args.format.strip().lower() in ("", "text", "txt")
    params = {
        "format": args.format,
        "width": args.width,
        "ascii": "1" if args.ascii else "",
        "ansi": "1" if ansi else "",
        "selector": args.selector,
        "remove": args.remove,
        "timeout": args.timeout,
        "pages": args.pages,
    }
    try:
        options = options_from(args.source, params, default_format=lambda: "text")
        article = _article(options, config, base_url=args.base_url, allow_private=args.allow_private, stdin=stdin)
        body, _ = render_as(
            article, options.format, width=options.width, ascii=options.ascii, ansi=options.ansi, base=""
        )
    except TextModeError as error:
        return _fail(error.detail, EXIT_STATUSES.get(error.status, EXIT_FETCH_FAILED))
    try:
        out.write(body)
        out.flush()
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        sys.stderr.close()
    return 0


def _article(
    options: Options, config: Mapping[str, Any], *, base_url: str, allow_private: bool, stdin: IO[bytes] | None
) -> Article:
    """Fetch or read the page, and find its article."""
    from app.document import Page
    from app.extract import extract
    from app.fetch import decode, fetch, normalize_url

    source = options.url
    if source == "-" or (not WEB_ADDRESS_RE.match(source) and Path(source).is_file()):
        max_bytes = int(config["MAX_BYTES"])
        if source == "-":
            data = (stdin or sys.stdin.buffer).read(max_bytes + 1)
        else:
            with Path(source).open("rb") as file:
                data = file.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise TooLarge(f"the page is larger than {max_bytes} bytes")
        url = normalize_url(base_url) if base_url else (Path(source).resolve().as_uri() if source != "-" else "")
        text, charset = decode(data, header_charset=None, is_html=True)
        page = Page(url, url, 200, "text/html", charset, text, True, 0.0)
    else:
        policy = policy_for(config, options, allow_private=allow_private)
        deadline = time.monotonic() + policy.timeout  # a PDF is read by the fetch's deadline too
        page = fetch(source, policy=policy)
        if page.pdf is not None:
            from app.pdf import parse_page_range, read_fetched_pdf

            max_pages = int(config["PDF_MAX_PAGES"])
            pages = parse_page_range(options.pages, max_pages=max_pages)
            return read_fetched_pdf(
                page, pages=pages, max_pages=max_pages, max_bytes=policy.max_bytes, deadline=deadline
            )
    return extract(page, keep=options.keep_selector, remove=options.remove_selector)


def _fail(message: str, status: int) -> int:
    print(f"text-mode: {message}", file=sys.stderr)
    return status
