"""The Markdown format: the document as the parser events of a little HTML, for html2text to write as Markdown."""

from __future__ import annotations

import re

import html2text

from app.document import (
    Block,
    Break,
    Caption,
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
    Lines,
    Link,
    ListBlock,
    PageMark,
    Paragraph,
    Quote,
    Rule,
    Table,
    Term,
    Text,
)
from app.visible import MARKS

# html2text writes page text into Markdown as it is: "&lt;script&gt;" became a live <script>, "&lt;http://a&gt;"
# an autolink, "[x](javascript:alert(1))" a link. Page text is marked where it may turn into markup (our
# marks go through html2text untouched); once the Markdown is written, `escape_marks` escapes a mark where
# what follows it makes markup, whichever text node it came from, and writes the others back plain. A `]`
# keeps its place and is followed by its mark: html2text adds a space after emphasis unless a `]` follows
# ("[_citation needed_]"), and it would not see one in a mark.
MD_LT, MD_AMP, MD_AFTER_BRACKET, MD_BACKTICK, MD_SPACE = tuple(MARKS[4:9])
# CommonMark: `<` starts raw HTML before a letter (a tag), `/` (a closing tag), `!` (a comment, declaration
# or CDATA) or `?` (a processing instruction); a URI autolink starts with a letter (its scheme), an email
# autolink with its local part and `@`. `&` starts an entity reference; `]` a link or image before `(` or
# `[`, and a link definition before `:`; a backtick, a code span. "a < b", "x <= 5" and "<3" stay as they are.
MARKUP_AFTER_RE = re.compile(
    r"(\\*)(?:"  # the page's own backslashes just before the mark
    f"{MD_LT}(?=[A-Za-z/!?]|[A-Za-z0-9.!#$%'*+/=?^_`{{|}}~{MD_AMP}-]+@)"
    f"|{MD_AMP}|\\]{MD_AFTER_BRACKET}(?=[(\\[:])|{MD_BACKTICK})"
)
ENTITY_RE = re.compile(r"&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")
PLAIN_MARKS = {MD_LT: "<", MD_AMP: "&", MD_AFTER_BRACKET: "", MD_BACKTICK: "`", MD_SPACE: " "}


def mark_text(text: str, *, attribute: bool = False) -> str:
    """Page text with `<`, `&` before an entity's name, `]` and backticks marked for `escape_marks`.

    attribute=True: an alt or title, which html2text writes with its brackets escaped, and no code span in it.
    """
    text = ENTITY_RE.sub(MD_AMP, text.replace("<", MD_LT))
    return text if attribute else text.replace("]", "]" + MD_AFTER_BRACKET).replace("`", MD_BACKTICK)


def escape_marks(markdown: str) -> str:
    """Markdown with each marked character escaped where markup would follow it, the other marks plain again."""

    def escaped(match: re.Match[str]) -> str:
        # Backslashes just before a mark are the page's, written as they were: doubled, each stays a backslash
        # and the escape is ours.
        mark = match[0][len(match[1])]
        return match[1] * 2 + "\\" + PLAIN_MARKS.get(mark, mark)

    return _plain(MARKUP_AFTER_RE.sub(escaped, markdown))


def _plain(markdown: str) -> str:
    """Markdown with the marks written back plain."""
    # Not one translate: with a dict it looks up each character in Python, 400 ms over the 641 benchmark
    # pages' Markdown (a fifth of render_markdown's time); five replaces are done in C.
    for mark, plain in PLAIN_MARKS.items():
        if mark in markdown:
            markdown = markdown.replace(mark, plain)
    return markdown


LEADING_BLANK_LINES_RE = re.compile(r"^(?:[ \t]*\n)+")


def markdown_body(document: Document, *, base_url: str, width: int) -> str:
    """The document's body as Markdown; the page's text in it is text, never HTML or a link of its own.

    A plain-text page's lines are written as they are (a Markdown file stays itself); everything else is
    html2text's, from the blocks as the events of a small HTML.
    """
    parts: list[str] = []
    pending: list[Block] = []

    def flush() -> None:
        if pending:
            converter = html2text.HTML2Text(baseurl=base_url)  # stateful: a fresh one per call (html2text #163)
            converter.body_width = width
            converter.wrap_links = False
            converter.unicode_snob = True
            converter.single_line_break = False
            events = _Events(converter)
            _blocks(events, tuple(pending))
            # Blank lines off both ends, but not the first line's indent: it may begin a code block.
            parts.append(LEADING_BLANK_LINES_RE.sub("", events.markdown()).rstrip())
            pending.clear()

    for block in document.blocks:
        if isinstance(block, Lines):
            flush()
            parts.append(mark_text(block.text.strip()))
        elif not isinstance(block, PageMark):
            pending.append(block)
    flush()
    return "\n\n".join(part for part in parts if part)


ESCAPED_RE = re.compile("([&<>])")
ENTITY_NAMES = {"&": "amp", "<": "lt", ">": "gt"}


class _Events:
    """The blocks' HTML handed to html2text (an html.parser.HTMLParser) as the parser's events, not as markup.

    Written out for html2text to parse back, the parsing took a fifth of its time on the 641 benchmark pages.
    The events are those html.parser makes of the HTML the blocks were written as (`<p>`, `<a href=...>`, text
    with `&`, `<` and `>` escaped): the text between two tags in one piece, and with convert_charrefs=False
    (html2text's setting) each escaped character on its own, as an entity.
    """

    def __init__(self, converter: html2text.HTML2Text) -> None:
        self.converter = converter
        self.text: list[str] = []

    def start(self, tag: str, attrs: list[tuple[str, str | None]] | None = None) -> None:
        self.flush()
        self.converter.handle_starttag(tag, attrs or [])

    def end(self, tag: str) -> None:
        self.flush()
        self.converter.handle_endtag(tag)

    def data(self, text: str) -> None:
        self.text.append(text)

    def flush(self) -> None:
        text = "".join(self.text)
        self.text.clear()
        for piece in ESCAPED_RE.split(text) if text else ():
            if piece in ENTITY_NAMES:
                self.converter.handle_entityref(ENTITY_NAMES[piece])
            elif piece:
                self.converter.handle_data(piece)

    def markdown(self) -> str:
        """What html2text wrote, as its handle() returns it once the HTML is parsed."""
        self.flush()
        return self.converter.optwrap(self.converter.finish())


def _blocks(events: _Events, blocks: tuple[Block | Term | Definition, ...]) -> None:
    for block in blocks:
        _block(events, block)


def _content(events: _Events, blocks: tuple[Block, ...]) -> None:
    """A container's blocks, a lone paragraph as its runs (html2text sets a <p> in an item apart by blank lines)."""
    if len(blocks) == 1 and isinstance(blocks[0], Paragraph):
        _runs(events, blocks[0].runs)
    else:
        _blocks(events, blocks)


def _block(events: _Events, block: Block | Term | Definition) -> None:
    if isinstance(block, Paragraph | Heading):
        tag = "p" if isinstance(block, Paragraph) else f"h{block.level}"
        events.start(tag)
        _runs(events, block.runs)
        events.end(tag)
    elif isinstance(block, ListBlock):
        _list(events, block)
    elif isinstance(block, CodeBlock):
        events.start("pre")
        events.data(block.text)  # literal: never marked, never emphasis
        events.end("pre")
    elif isinstance(block, Table):
        _table(events, block)
    elif isinstance(block, Figure | Caption):
        _blocks(events, block.blocks)
    elif isinstance(block, Quote | DefinitionList):
        tag = "blockquote" if isinstance(block, Quote) else "dl"
        events.start(tag)
        _blocks(events, block.blocks if isinstance(block, Quote) else block.items)
        events.end(tag)
    elif isinstance(block, Term | Definition):
        tag = "dt" if isinstance(block, Term) else "dd"
        events.start(tag)
        _content(events, block.blocks)
        events.end(tag)
    elif isinstance(block, Rule):
        events.start("hr")
    # A page mark is the text format's alone (a plain-text page's Lines are written by markdown_body).


def _list(events: _Events, block: ListBlock) -> None:
    tag = "ol" if block.ordered else "ul"
    events.start(tag, [("start", str(block.start))] if block.ordered and block.start != 1 else [])
    for item in block.items:
        events.start("li")
        _content(events, item.blocks)
        events.end("li")
    events.end(tag)


def _table(events: _Events, table: Table) -> None:
    _blocks(events, table.caption)
    events.start("table")
    for row in table.rows:
        events.start("tr")
        for cell in row:
            tag = "th" if cell.header else "td"
            events.start(tag)
            _runs(events, cell.runs)
            events.end(tag)
        events.end("tr")
    events.end("table")


def _runs(events: _Events, runs: tuple[Inline, ...]) -> None:
    for run in runs:
        if isinstance(run, Text):
            events.data(mark_text(run.text))
        elif isinstance(run, Link):
            events.start("a", [("href", run.url)])
            _runs(events, run.runs)
            events.end("a")
        elif isinstance(run, Emphasis):
            tag = "strong" if run.strong else "em"
            events.start(tag)
            _runs(events, run.runs)
            events.end(tag)
        elif isinstance(run, Code):
            _code(events, run.text)
        elif isinstance(run, Break):
            events.start("br")
        elif isinstance(run, Image) and run.src:
            events.start("img", [("src", run.src), ("alt", mark_text(run.alt, attribute=True))])


def _code(events: _Events, text: str) -> None:
    """Inline code as a code span; with a backtick inside, as text (html2text's single backticks would close)."""
    text = text.replace("\n", " ")  # a code span holds no line break: html2text writes a <br> in one as a space
    if "`" in text:
        events.data(mark_text(text))
        return
    # html2text wraps lines at spaces, inside a code span too: a `<div>` that began a line there would start
    # an HTML block. No space before a `<` is a place to wrap.
    events.start("code")
    events.data(re.sub(r"\s+(?=<)", MD_SPACE, text))
    events.end("code")
