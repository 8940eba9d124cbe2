"""The chosen part of a page's tree into the document model, in one walk: its blocks and the inline runs in them."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urldefrag, urljoin

import lxml.html

from app.document import (
    HEADING_TAGS,
    LIST_STYLES,
    Block,
    Break,
    Caption,
    Cell,
    Code,
    CodeBlock,
    Definition,
    DefinitionList,
    Document,
    Emphasis,
    Figure,
    Heading,
    Image,
    Inline,
    Item,
    Lines,
    Link,
    ListBlock,
    Paragraph,
    Quote,
    Rule,
    Table,
    Term,
    Text,
)
from app.visible import visible_url

# Elements whose content is never the article's text.
DROPPED = frozenset(
    {"script", "style", "noscript", "template", "svg", "button", "input", "select", "textarea", "iframe", "object",
     "embed", "canvas", "video", "audio", "head", "title", "meta", "link", "map", "area"}
)  # fmt: skip
# Elements that start a block of their own, as a browser lays them out.
BLOCKS = frozenset(
    {"address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog", "div", "dl", "dt",
     "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup",
     "hr", "html", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td",
     "tfoot", "th", "thead", "tr", "ul", "caption", "listing", "xmp", "plaintext"}
)  # fmt: skip
LISTS = frozenset({"ul", "ol", "menu"})
PREFORMATTED = frozenset({"pre", "listing", "xmp", "plaintext"})
EMPHASIS = {"em": False, "i": False, "strong": True, "b": True}
CODE = frozenset({"code", "kbd", "tt", "samp"})
# Zero-width spaces, word joiners, BOMs and soft hyphens: invisible on the page, noise in a terminal or a copy.
INVISIBLE = "\u200b\u2060\ufeff\u00ad"
# White space a browser collapses to one space: ASCII's and Unicode's spaces of set widths; and no-break spaces,
# of which a lone one stays. A lone space is left alone too: matched, it was replaced by itself once per word
# (`collapsed` took 280 ms over the 641 benchmark pages' 208,000 text nodes, now 105).
SPACES = " \t\n\r\f\v" + "".join(map(chr, range(0x2000, 0x200B))) + "\u205f\u3000"
NO_BREAK_SPACES = "\u00a0\u202f"
SPACE_RE = re.compile(f"[{SPACES}]{{2,}}|[{SPACES[1:]}]|[{NO_BREAK_SPACES}]{{2,}}")
ASCII_SPACE_RE = re.compile(f"[{SPACES[:6]}]{{2,}}|[{SPACES[1:6]}]")
# What SPACE_RE would change: found by `in` faster than by the expression (5 in 6 non-ASCII text nodes hold none).
COLLAPSING = ("  ", *SPACES[1:], *(first + second for first in NO_BREAK_SPACES for second in NO_BREAK_SPACES))


def document_of(root: lxml.html.HtmlElement, *, page_url: str, base_url: str | None = None) -> Document:
    """The document in root's content: addresses resolved against base_url (the page's <base>, else page_url),
    links kept when they lead to another http(s) page than page_url."""
    return Document(tuple(_Builder(page_url, base_url or page_url).container(root)))


def text_document(text: str) -> Document:
    """A plain-text page as a document: its lines as the author broke and indented them."""
    return Document((Lines(text),))


def link_url(href: str | None, *, base_url: str, page_url: str) -> str | None:
    """A link's absolute http(s) URL, or None for page_url itself, places on it, and other schemes."""
    if not href or not href.strip():
        return None
    try:
        url = visible_url(urljoin(base_url, href.strip()))
    except ValueError:
        return None
    if not url.lower().startswith(("http://", "https://")):
        return None
    if urldefrag(url)[0] == urldefrag(page_url)[0]:
        return None  # this page itself, or a place on it (readability turns javascript: links into this too)
    return url


def collapsed(text: str) -> str:
    """Text with its white space collapsed as a browser shows it; a single no-break space stays, invisibles go."""
    if text.isascii():  # most text nodes: only ASCII white space to collapse, and often none (a tenth of the time)
        if "  " in text or "\n" in text or "\t" in text or "\r" in text or "\f" in text or "\v" in text:
            # Over half the text nodes are only white space: the indents between tags.
            return ASCII_SPACE_RE.sub(" ", text) if text.strip(SPACES[:6]) else " "
        return text
    # Not one translate: with a dict it looks up each character in Python (120 ms over the 15,000 non-ASCII
    # text nodes of the 641 benchmark pages, 34 of which hold an invisible; these checks take 4 ms).
    for char in INVISIBLE:
        if char in text:
            text = text.replace(char, "")
    return SPACE_RE.sub(" ", text) if any(space in text for space in COLLAPSING) else text


def add_text(runs: list[Inline], text: str | None) -> None:
    """Append text to runs, joined to a text run just before it."""
    if not text:
        return
    text = collapsed(text)
    if runs and isinstance(runs[-1], Text):
        runs[-1] = Text(runs[-1].text + text)
    else:
        runs.append(Text(text))


def has_content(runs: list[Inline] | tuple[Inline, ...]) -> bool:
    """Whether runs hold anything a format shows: words, code, or a picture."""
    for run in runs:
        if isinstance(run, Text | Code) and run.text.strip():
            return True
        if isinstance(run, Image) and (run.alt or run.src):
            return True
        if isinstance(run, Link | Emphasis) and has_content(run.runs):
            return True
    return False


class _Builder:
    """One walk of an element's content into blocks: runs of inline content become paragraphs."""

    def __init__(self, page_url: str, base_url: str) -> None:
        self.page_url = page_url
        self.base_url = base_url
        self.links: dict[str, str | None] = {}  # href -> link_url: a page repeats its addresses

    def container(self, element: lxml.html.HtmlElement) -> list[Block]:
        """element's children as blocks: each block element its own, the inline content between as paragraphs."""
        blocks: list[Block] = []
        runs: list[Inline] = []
        add_text(runs, element.text)
        for child in element:
            tag = _tag(child)
            if tag in BLOCKS or (tag and tag not in DROPPED and _has_block(child)):
                if has_content(runs):
                    blocks.append(Paragraph(tuple(runs)))
                runs = []
                blocks.extend(self.block(child, tag))
            else:
                _inline(self, child, tag, runs)
            add_text(runs, child.tail)
        if has_content(runs):
            blocks.append(Paragraph(tuple(runs)))
        return blocks

    def block(self, element: lxml.html.HtmlElement, tag: str) -> list[Block]:
        """One block element as the blocks it makes (none when it holds nothing)."""
        if tag in HEADING_TAGS:
            runs = self.runs(element)
            return [Heading(int(tag[1]), runs)] if has_content(runs) else []
        if tag in LISTS:
            return _list_block(self, element, tag)
        if tag in PREFORMATTED:
            text = element.text_content().replace("\r\n", "\n").replace("\r", "\n")
            return [CodeBlock(text)] if text.strip() else []
        if tag == "table":
            return _table(self, element)
        if tag == "hr":
            return [Rule()]
        if tag == "dl":
            items = _definitions(self, element)
            return [DefinitionList(tuple(items))] if items else []
        blocks = self.container(element)
        if not blocks:
            return []
        if tag == "blockquote":
            return [Quote(tuple(blocks))]
        if tag == "figure":
            return [Figure(tuple(blocks))]
        if tag == "figcaption":
            return [Caption(tuple(blocks))]
        if tag == "dd":  # a description outside a list of terms is still indented under what it describes
            return [DefinitionList((Definition(tuple(blocks)),))]
        return blocks

    def runs(self, element: lxml.html.HtmlElement, *, flatten_blocks: bool = False) -> tuple[Inline, ...]:
        runs: list[Inline] = []
        self.inline_children(element, runs, flatten_blocks=flatten_blocks)
        return tuple(runs)

    def inline_children(self, element: lxml.html.HtmlElement, runs: list[Inline], *, flatten_blocks: bool) -> None:
        """element's content as inline runs; flatten_blocks: blocks inside it are set apart by spaces."""
        add_text(runs, element.text)
        for child in element:
            tag = _tag(child)
            if flatten_blocks and tag in BLOCKS and tag not in DROPPED:
                add_text(runs, " ")
                self.inline_children(child, runs, flatten_blocks=True)
                add_text(runs, " ")
            else:
                _inline(self, child, tag, runs)
            add_text(runs, child.tail)


def _inline(builder: _Builder, element: lxml.html.HtmlElement, tag: str, runs: list[Inline]) -> None:
    """One inline element as runs appended to runs."""
    if not tag or tag in DROPPED:
        return
    if tag == "br":
        runs.append(Break())
    elif tag == "img":
        alt = " ".join((element.get("alt") or "").split())
        src = _web_url(builder.base_url, element.get("src"))
        if alt or src:
            runs.append(Image(alt, src))
    elif tag == "a":
        href = element.get("href") or ""
        url = builder.links.get(href, "")
        if url == "":
            url = builder.links[href] = link_url(href, base_url=builder.base_url, page_url=builder.page_url)
        if url is None:
            builder.inline_children(element, runs, flatten_blocks=False)
        else:
            runs.append(Link(url, builder.runs(element)))
    elif tag == "q":
        add_text(runs, "“")
        builder.inline_children(element, runs, flatten_blocks=False)
        add_text(runs, "”")
    elif tag in EMPHASIS:
        inner = builder.runs(element, flatten_blocks=True)
        if inner:
            runs.append(Emphasis(inner, strong=EMPHASIS[tag]))
    elif tag in CODE:
        if element.find(".//a[@href]") is not None:  # a link in code stays a link, its text code
            runs.extend(_as_code(builder.runs(element, flatten_blocks=True)))
            return
        text = _code_text(element)
        if text:
            runs.append(Code(text))
    else:
        builder.inline_children(element, runs, flatten_blocks=True)


def _definitions(builder: _Builder, element: lxml.html.HtmlElement) -> list[Term | Definition | Block]:
    """A definition list's terms and descriptions, in order (HTML allows a <div> around each pair)."""
    items: list[Term | Definition | Block] = []
    for child in element:
        tag = _tag(child)
        if tag == "div":
            items.extend(_definitions(builder, child))
        elif tag in ("dt", "dd"):
            blocks = tuple(builder.container(child))
            if blocks:
                items.append(Term(blocks) if tag == "dt" else Definition(blocks))
        elif tag and tag not in DROPPED:
            items.extend(builder.block(child, tag))
    return items


def _list_block(builder: _Builder, element: lxml.html.HtmlElement, tag: str) -> list[Block]:
    items = [child for child in element if _tag(child) == "li"]
    if not items:
        return builder.container(element)
    return [
        ListBlock(
            tuple(Item(tuple(builder.container(item))) for item in items),
            ordered=tag == "ol",
            start=_int(element.get("start"), 1),
            style=element.get("type") if element.get("type") in LIST_STYLES else "1",
        )
    ]


def _table(builder: _Builder, element: lxml.html.HtmlElement) -> list[Block]:
    rows = [row for row in element.iter("tr") if _closest_table(row) is element]
    cells = [[cell for cell in row if _tag(cell) in ("td", "th")] for row in rows]
    columns = max((len(row) for row in cells), default=0)
    caption_element = element.find("caption")
    caption = builder.container(caption_element) if caption_element is not None else []
    # One column, or a table inside a cell: the table lays out the page, it holds no data.
    if columns <= 1 or any(cell.find(".//table") is not None for row in cells for cell in row):
        blocks = caption
        for row in cells:
            for cell in row:
                blocks.extend(builder.container(cell))
        return blocks
    table_rows = tuple(
        tuple(Cell(builder.runs(cell, flatten_blocks=True), header=_tag(cell) == "th") for cell in row) for row in cells
    )
    header = all(_tag(cell) == "th" for cell in cells[0])
    return [Table(table_rows, caption=tuple(caption), header=header)]


def _as_code(runs: tuple[Inline, ...]) -> list[Inline]:
    """Runs inside code as code: text as code, links kept, no emphasis (code is never emphasised)."""
    out: list[Inline] = []
    for run in runs:
        if isinstance(run, Text):
            out.append(Code(run.text))
        elif isinstance(run, Link):
            out.append(Link(run.url, tuple(_as_code(run.runs))))
        elif isinstance(run, Emphasis):
            out.extend(_as_code(run.runs))
        else:
            out.append(run)
    return out


def _code_text(element: lxml.html.HtmlElement) -> str:
    """The text of inline code, its white space collapsed but for its line breaks."""
    parts = [collapsed(element.text or "")]
    for child in element:
        if _tag(child) == "br":
            parts.append("\n")
        elif isinstance(child.tag, str):
            parts.append(_code_text(child))
        parts.append(collapsed(child.tail or ""))
    return "".join(parts)


def _web_url(base_url: str, value: str | None) -> str:
    """value as an absolute http(s) URL, or "" (no data:, javascript: or other scheme)."""
    if not value or not value.strip():
        return ""
    try:
        url = visible_url(urljoin(base_url, value.strip()))
    except ValueError:
        return ""
    return url if url.lower().startswith(("http://", "https://")) else ""


def _tag(element: Any) -> str:
    tag = element.tag
    return tag.lower() if isinstance(tag, str) else ""


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _has_block(element: lxml.html.HtmlElement) -> bool:
    # Not iterdescendants(*BLOCKS), which builds lxml's matcher of the 50 block tags on each call: over the 641
    # benchmark pages the 42,000 calls took 207 ms so, 33 as this walk (they have 29,000 descendants in all).
    return any(descendant.tag in BLOCKS for descendant in element.iterdescendants())


def _closest_table(element: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    for ancestor in element.iterancestors():
        if _tag(ancestor) == "table":
            return ancestor
    return None
