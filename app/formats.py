"""The formats an article is answered in, and the one function that writes each, for service and command line."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.document import Article

# Every name a format is asked for by, and the format it names.
FORMATS = {
    "text": "text",
    "txt": "text",
    "plain": "text",
    "markdown": "markdown",
    "md": "markdown",
    "json": "json",
    "html": "html",
}
TEXT = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"


def render_as(article: Article, fmt: str, *, width: int, ascii: bool, ansi: bool, base: str) -> tuple[str, str]:
    """The article in fmt (one of FORMATS' values), as (body, content type).

    base: the service's own address, where the reading view's links and form point.
    """
    # The renderers load html2text and lxml: imported by the first article, not at start-up.
    from app.html_view import reading_page
    from app.render import render_json, render_markdown, render_text

    if fmt == "json":
        return json.dumps(render_json(article), ensure_ascii=False, indent=2) + "\n", "application/json"
    if fmt == "markdown":
        return render_markdown(article, width=width), "text/markdown; charset=utf-8"
    if fmt == "html":
        return reading_page(article, base=base, width=width), HTML
    return render_text(article, width=width, ascii=ascii, ansi=ansi), TEXT
