"""The text, Markdown and JSON formats of an article, each written from its document."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from app.document import Article, word_count
from app.layout import (
    BOLD_OFF,
    BOLD_ON,
    Body,
    Style,
    ansi_lines,
    ascii_url,
    display_width,
    layout_body,
    to_ascii,
    wrap,
)
from app.markdown import escape_marks, mark_text, markdown_body
from app.visible import visible_url, without_controls


def ascii_article(article: Article) -> Article:
    """The article's header fields in 7-bit ASCII (the body is transliterated as it is laid out)."""
    return replace(
        article,
        title=to_ascii(article.title),
        byline=to_ascii(article.byline),
        site_name=to_ascii(article.site_name),
        published=to_ascii(article.published),
        final_url=ascii_url(article.final_url),
    )


def header_lines(article: Article, *, width: int, ascii: bool = False, bold: bool = False) -> list[str]:
    """The title underlined, a line of byline, site and date, and the final URL."""
    title = wrap(" ".join(article.title.split()), width)
    lines = [f"{BOLD_ON}{line}{BOLD_OFF}" for line in title] if bold else list(title)
    lines.append("=" * max(display_width(line) for line in title))
    separator = " - " if ascii else " · "
    details = separator.join(part for part in (article.byline, article.site_name, article.published) if part)
    if details:
        lines.extend(wrap(details, width))
    if shows_address(article):
        lines.append(article.final_url)
    return lines


def shows_address(article: Article) -> bool:
    """Whether the header ends with the page's address: a page without a title has it as the title already,
    and HTML read from stdin may have none."""
    return bool(article.final_url) and article.title != article.final_url


@dataclass(frozen=True)
class TextView:
    """The text format in its parts: header lines, the body, and the references the body numbers."""

    header: list[str]
    body: Body


def text_view(
    article: Article, *, width: int = 80, ascii: bool = False, ansi: bool = False, marks: bool = False
) -> TextView:
    """The text format's parts; ansi and marks leave style marks in them (bold headings, underlined links, or
    the reading view's marked reference numbers)."""
    if ascii:
        article = ascii_article(article)
    style = Style(
        width=width,
        ascii=ascii,
        underline_links=ansi,
        bold_headings=ansi or marks,
        mark_references=marks,
    )
    header = header_lines(article, width=width, ascii=ascii, bold=ansi or marks)
    return TextView(header, layout_body(article.document, style))


def reference_lines(body: Body, *, width: int) -> list[str]:
    """The References section: each number and its URL; a URL wider than the line stands on its own line."""
    lines = ["References", "----------"]
    for link in body.links:
        line = f"[{link.n}] {link.url}"
        lines.extend([f"[{link.n}]", link.url] if 0 < width < display_width(line) else [line])
    return lines


def render_text(article: Article, *, width: int = 80, ascii: bool = False, ansi: bool = False) -> str:
    """The plain-text reading view: header, body, then the numbered references.

    ascii=True transliterates everything to 7-bit ASCII; ansi=True makes headings bold and link text
    underlined with terminal escape sequences.
    """
    view = text_view(article, width=width, ascii=ascii, ansi=ansi)
    parts = ["\n".join(view.header), view.body.text]
    if view.body.links:
        parts.append("\n".join(reference_lines(view.body, width=width)))
    # The final guard: whatever an article holds (one not made by `extract`, too), no control character
    # reaches the terminal; our own styling is added after it.
    text = without_controls("\n\n".join(part for part in parts if part) + "\n")
    return ansi_lines(text) if ansi else text


def render_markdown(article: Article, *, width: int = 80) -> str:
    """The article as Markdown, by html2text; the page's text in it is text, never HTML or a link of its own."""
    body = markdown_body(article.document, base_url=article.final_url, width=width)
    header = [f"# {mark_text(' '.join(article.title.split()))}", ""]
    details = " · ".join(part for part in (article.byline, article.site_name, article.published) if part)
    if details:
        header += [f"*{mark_text(details)}*", ""]
    if article.final_url:  # HTML read from stdin may have no address
        header += [f"<{visible_url(article.final_url)}>", ""]
    return without_controls(escape_marks("\n".join(header) + "\n" + body + "\n"))


# JSON's `text`: the words alone, unwrapped. No reference numbers, rules under headings, image descriptions,
# page marks or list bullets and numbers: those are text-mode's furniture, or a browser's (a list's numbers
# are drawn by it, they are not the page's text); the text and Markdown formats keep them.
PLAIN = Style(width=0, references=False, rules=False, images=False, page_marks=False, markers=False)


def plain_text(article: Article) -> Body:
    """The article's words alone, unwrapped: JSON's `text` field, the one extraction quality is measured on."""
    return layout_body(article.document, PLAIN)


def render_json(article: Article) -> dict[str, Any]:
    """The article and its metadata as a JSON-ready mapping; `text` and `markdown` are unwrapped, whatever the width."""
    body = plain_text(article)
    fields = {
        "url": article.url,
        "final_url": article.final_url,
        "title": article.title,
        "byline": article.byline or None,
        "site_name": article.site_name or None,
        "published": article.published or None,
        "lang": article.lang or None,
        "text": body.text,
        "markdown": render_markdown(article, width=0),
        "links": [{"n": link.n, "url": link.url, "text": link.text} for link in body.links],
        "word_count": word_count(article.document),
    }
    return {name: _without_controls_in(value) for name, value in fields.items()}


def _without_controls_in(value: Any) -> Any:
    """The final guard on JSON: every string in value through `without_controls` (json escapes them, `jq -r` not)."""
    if isinstance(value, str):
        return without_controls(value)
    if isinstance(value, list):
        return [_without_controls_in(item) for item in value]
    if isinstance(value, dict):
        return {name: _without_controls_in(item) for name, item in value.items()}
    return value
