"""The document model: an article as blocks of inline runs, and the Page and Article that carry it between stages.

Extraction builds a document once, in one walk of the page's tree (`app/build.py`); every format is written
from it (`app/layout.py`, `app/render.py`, `app/markdown.py`, `app/html_view.py`). This module imports no
HTTP client and no parser, so a renderer, a benchmark or a test can use it alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# Inline runs: what a paragraph, a heading, a cell or a list item's line is made of.


@dataclass(frozen=True, slots=True)
class Text:
    """Words as the page has them, white space collapsed to single spaces (a lone no-break space stays)."""

    text: str


@dataclass(frozen=True, slots=True)
class Link:
    """A link to another page: its absolute http(s) URL, and the runs that say where it goes."""

    url: str
    runs: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Emphasis:
    """Emphasised runs: <em> and <i>, or with strong=True <strong> and <b>."""

    runs: tuple[Inline, ...]
    strong: bool = False


@dataclass(frozen=True, slots=True)
class Code:
    """Inline code: its text, never anything inside it read as markup or emphasis."""

    text: str


@dataclass(frozen=True, slots=True)
class Break:
    """A line break inside a block."""


@dataclass(frozen=True, slots=True)
class Image:
    """A picture within the text: what its alt says (may be empty), and its absolute address (may be empty)."""

    alt: str
    src: str = ""


Inline = Text | Link | Emphasis | Code | Break | Image

# Blocks: what a document is a sequence of.

HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")  # HTML's heading elements, level 1 to 6


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A run of inline content: a <p>, or the loose text between blocks."""

    runs: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Heading:
    """A section heading, level 1 to 6."""

    level: int
    runs: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Item:
    """One list item: the blocks it holds (its first line, and any nested lists after it)."""

    blocks: tuple[Block, ...]


LIST_STYLES = frozenset({"1", "a", "A", "i", "I"})  # how an ordered list numbers its items (HTML's <ol type>)


@dataclass(frozen=True, slots=True)
class ListBlock:
    """A list: bulleted, or numbered from start in a style as <ol type> names it ("1", "a", "A", "i", "I")."""

    items: tuple[Item, ...]
    ordered: bool = False
    start: int = 1
    style: str = "1"


@dataclass(frozen=True, slots=True)
class Cell:
    """One table cell: its content as one line of runs, and whether it is a header cell (<th>)."""

    runs: tuple[Inline, ...]
    header: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    """A table of data (a table that only lays a page out becomes the blocks in its cells instead).

    header: the first row is header cells, which name the columns.
    """

    rows: tuple[tuple[Cell, ...], ...]
    caption: tuple[Block, ...] = ()
    header: bool = False


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """Preformatted text: its lines kept as they are, never wrapped."""

    text: str


@dataclass(frozen=True, slots=True)
class Quote:
    """A block quotation."""

    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class Caption:
    """A figure's caption, where the figure has it."""

    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class Figure:
    """A figure: its pictures and other content, its caption among them in the page's order."""

    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class Term:
    """A term of a definition list."""

    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class Definition:
    """A term's description in a definition list."""

    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class DefinitionList:
    """Terms and their descriptions (and anything else the list holds), in order."""

    items: tuple[Term | Definition | Block, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    """A thematic break: <hr>, or the line between two posts of a thread."""


@dataclass(frozen=True, slots=True)
class Lines:
    """Text whose line breaks and indents are the author's: a plain-text page (each line wraps on its own)."""

    text: str


@dataclass(frozen=True, slots=True)
class PageMark:
    """Where a page of a PDF starts, shown in the text format when a reader asked for a range of pages."""

    number: int


Block = (
    Paragraph
    | Heading
    | ListBlock
    | Table
    | CodeBlock
    | Quote
    | Figure
    | Caption
    | DefinitionList
    | Rule
    | Lines
    | PageMark
)


@dataclass(frozen=True, slots=True)
class Document:
    """An article's body: its blocks in reading order."""

    blocks: tuple[Block, ...]


# The stages' values: what fetch returns, and what extraction returns.


@dataclass(frozen=True)
class Page:
    """A fetched page, decoded to text; a PDF's bytes as they came (app/pdf.py reads them), its text empty."""

    url: str
    final_url: str
    status: int
    content_type: str
    charset: str
    text: str
    is_html: bool
    elapsed_ms: float
    pdf: bytes | None = None


@dataclass(frozen=True)
class Article:
    """A page's readable content: its document and what the page says about it."""

    url: str
    final_url: str
    title: str
    byline: str
    site_name: str
    published: str
    lang: str
    document: Document


WORD_RE = re.compile(r"\w+")  # a word, wherever words are counted or compared
# In ASCII text \w is a letter, a digit or "_": with every other byte made a space, split counts the words in C.
ASCII_WORD_BYTES = bytes(
    code if code < 128 and (chr(code).isalnum() or chr(code) == "_") else ord(" ") for code in range(256)
)


def word_count(document: Document) -> int:
    """The words of the document's text, the same for every format (no reference numbers, bullets or rules)."""
    return sum(_words(text) for text in texts(document.blocks))


def _words(text: str) -> int:
    # 558,000 of the 991,000 words of the 641 benchmark pages are in ASCII texts: counted so, not each matched
    # by WORD_RE, word_count over the pages took 157 ms instead of 208.
    if text.isascii():
        return len(text.encode("ascii").translate(ASCII_WORD_BYTES).split())
    return len(WORD_RE.findall(text))


def without_repeated_title(document: Document, title: str) -> Document:
    """The document without its first top-level heading when that only repeats the title every header shows."""
    for index, block in enumerate(document.blocks):
        if isinstance(block, Heading) and block.level <= 2:
            if " ".join(run_text(block.runs).split()).casefold() == " ".join(title.split()).casefold():
                return Document(document.blocks[:index] + document.blocks[index + 1 :])
            break
    return document


def run_text(runs: tuple[Inline, ...]) -> str:
    """The words of runs as one string, links and emphasis by their text, pictures left out."""
    parts: list[str] = []
    stack = list(reversed(runs))
    while stack:
        run = stack.pop()
        if isinstance(run, Text | Code):
            parts.append(run.text)
        elif isinstance(run, Link | Emphasis):
            stack.extend(reversed(run.runs))
        elif isinstance(run, Break):
            parts.append(" ")
    return "".join(parts)


def texts(blocks: tuple[Block | Term | Definition, ...]) -> Iterator[str]:
    """The text of each paragraph, heading, cell and code block among blocks, in reading order."""
    for block in blocks:
        if isinstance(block, Paragraph | Heading):
            yield run_text(block.runs)
        elif isinstance(block, CodeBlock | Lines):
            yield block.text
        elif isinstance(block, ListBlock):
            for item in block.items:
                yield from texts(item.blocks)
        elif isinstance(block, Table):
            yield from texts(block.caption)
            for row in block.rows:
                yield from (run_text(cell.runs) for cell in row)
        elif isinstance(block, Quote | Figure | Caption | Term | Definition):
            yield from texts(block.blocks)
        elif isinstance(block, DefinitionList):
            yield from texts(block.items)


def images(blocks: tuple[Block | Term | Definition, ...]) -> Iterator[Image]:
    """The pictures among blocks' runs, in reading order."""
    for block in blocks:
        if isinstance(block, Paragraph | Heading):
            yield from _run_images(block.runs)
        elif isinstance(block, Quote | Figure | Caption | Term | Definition):
            yield from images(block.blocks)
        elif isinstance(block, ListBlock):
            for item in block.items:
                yield from images(item.blocks)
        elif isinstance(block, Table):
            yield from images(block.caption)
            for row in block.rows:
                for cell in row:
                    yield from _run_images(cell.runs)
        elif isinstance(block, DefinitionList):
            yield from images(block.items)


def _run_images(runs: tuple[Inline, ...]) -> Iterator[Image]:
    for run in runs:
        if isinstance(run, Image):
            yield run
        elif isinstance(run, Link | Emphasis):
            yield from _run_images(run.runs)
