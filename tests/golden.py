"""Golden pages: tests/pages/<name>.html rendered as text must equal tests/pages/<name>.txt."""

from __future__ import annotations

from pathlib import Path

from app.document import Page
from app.errors import TextModeError
from app.extract import extract
from app.fetch import decode
from app.render import render_text

PAGES = Path(__file__).parent / "pages"


def golden_pages() -> list[Path]:
    return sorted(PAGES.glob("*.html"))


def render_golden(path: Path, *, width: int = 80) -> str:
    """What the service answers for the saved page, as if fetched from https://example.com/<name>."""
    text, charset = decode(path.read_bytes(), header_charset=None)
    url = f"https://example.com/{path.stem}"
    page = Page(url, url, 200, "text/html", charset, text, True, 0.0)
    try:
        return render_text(extract(page), width=width)
    except TextModeError as error:
        return f"error {error.status} {error.code}: {error.detail}\n"
