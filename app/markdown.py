"""The Markdown format: the document serialized as a little HTML for html2text, which writes the Markdown."""

from __future__ import annotations

import re
from html import escape

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
    Item,
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
    html2text's, from one small serialization of the blocks.
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
            # Blank lines off both ends, but not the first line's indent: it may begin a code block.
            parts.append(LEADING_BLANK_LINES_RE.sub("", converter.handle(_blocks_html(tuple(pending)))).rstrip())
            pending.clear()

    for block in document.blocks:
        if isinstance(block, Lines):
            flush()
            parts.append(mark_text(block.text.strip()))
        elif not isinstance(block, PageMark):
            pending.append(block)
    flush()
    return "\n\n".join(part for part in parts if part)


def _blocks_html(blocks: tuple[Block | Term | Definition, ...]) -> str:
    return "".join(_block_html(block) for block in blocks)


def _content_html(blocks: tuple[Block, ...]) -> str:
    """A container's blocks, a lone paragraph as its runs (html2text sets a <p> in an item apart by blank lines)."""
    if len(blocks) == 1 and isinstance(blocks[0], Paragraph):
        return _runs_html(blocks[0].runs)
    return _blocks_html(blocks)


def _block_html(block: Block | Term | Definition) -> str:
    if isinstance(block, Paragraph):
        return f"<p>{_runs_html(block.runs)}</p>"
    if isinstance(block, Heading):
        return f"<h{block.level}>{_runs_html(block.runs)}</h{block.level}>"
    if isinstance(block, ListBlock):
        return _list_html(block)
    if isinstance(block, CodeBlock):
        return f"<pre>{escape(block.text, quote=False)}</pre>"  # literal: never marked, never emphasis
    if isinstance(block, Quote):
        return f"<blockquote>{_blocks_html(block.blocks)}</blockquote>"
    if isinstance(block, Table):
        return _table_html(block)
    if isinstance(block, Figure | Caption):
        return _blocks_html(block.blocks)
    if isinstance(block, DefinitionList):
        return f"<dl>{_blocks_html(block.items)}</dl>"
    if isinstance(block, Term):
        return f"<dt>{_content_html(block.blocks)}</dt>"
    if isinstance(block, Definition):
        return f"<dd>{_content_html(block.blocks)}</dd>"
    if isinstance(block, Rule):
        return "<hr>"
    return ""  # a page mark: the text format's alone (a plain-text page's Lines are written by markdown_body)


def _list_html(block: ListBlock) -> str:
    tag = "ol" if block.ordered else "ul"
    start = f' start="{block.start}"' if block.ordered and block.start != 1 else ""
    items = "".join(_item_html(item) for item in block.items)
    return f"<{tag}{start}>{items}</{tag}>"


def _item_html(item: Item) -> str:
    return f"<li>{_content_html(item.blocks)}</li>"


def _table_html(table: Table) -> str:
    rows = []
    for row in table.rows:
        cells = "".join(
            f"<{'th' if cell.header else 'td'}>{_runs_html(cell.runs)}</{'th' if cell.header else 'td'}>"
            for cell in row
        )
        rows.append(f"<tr>{cells}</tr>")
    return _blocks_html(table.caption) + f"<table>{''.join(rows)}</table>"


def _runs_html(runs: tuple[Inline, ...]) -> str:
    parts: list[str] = []
    for run in runs:
        if isinstance(run, Text):
            parts.append(escape(mark_text(run.text), quote=False))
        elif isinstance(run, Link):
            parts.append(f'<a href="{escape(run.url)}">{_runs_html(run.runs)}</a>')
        elif isinstance(run, Emphasis):
            tag = "strong" if run.strong else "em"
            parts.append(f"<{tag}>{_runs_html(run.runs)}</{tag}>")
        elif isinstance(run, Code):
            parts.append(_code_html(run.text))
        elif isinstance(run, Break):
            parts.append("<br>")
        elif isinstance(run, Image) and run.src:
            alt = escape(mark_text(run.alt, attribute=True))
            parts.append(f'<img src="{escape(run.src)}" alt="{alt}">')
    return "".join(parts)


def _code_html(text: str) -> str:
    """Inline code as a code span; with a backtick inside, as text (html2text's single backticks would close)."""
    text = text.replace("\n", " ")  # a code span holds no line break: html2text writes a <br> in one as a space
    if "`" in text:
        return escape(mark_text(text), quote=False)
    # html2text wraps lines at spaces, inside a code span too: a `<div>` that began a line there would start
    # an HTML block. No space before a `<` is a place to wrap.
    spaced = re.sub(r"\s+(?=<)", MD_SPACE, text)
    return f"<code>{escape(spaced, quote=False)}</code>"
