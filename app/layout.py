"""The text layout engine: a document's blocks as lines wrapped by display width, with numbered references."""

from __future__ import annotations

import contextlib
import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from anyascii import anyascii
from wcwidth import wcwidth

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
    images,
)
from app.document import (
    texts as block_texts,
)
from app.visible import MARKS

Laid = list[str]  # one laid-out block

BULLETS = ("*", "-", "+")
QUOTE_INDENT = 4
MIN_WIDTH = 16  # nesting never squeezes the text column narrower than this
# Characters that must not begin a line in CJK text (kinsoku), and those that must not end one.
NO_LINE_START = set("、。，．・：；？！）」』】〕〉》”’ー〜…‥,.!?:;)]}%")
NO_LINE_END = set("（「『【〔〈《“‘([{")
# A caption that only credits the photographer or agency: "Credit: ...", "Photo: Reuters", "© AP".
CREDIT_RE = re.compile(
    r"^\s*(?:(?:image|photo|photograph|picture|illustration|foto|bild)?\s*(?:credits?|courtesy|source)\b"
    r"|(?:image|photo|photograph|picture|illustration|foto|bild)s?\s*(?:by\b|:)|©|\(c\)\s)",
    re.IGNORECASE,
)
# After an inline image: a space if a word follows, nothing before punctuation or the end.
SOFT_SPACE = "\x00"
SOFT_SPACE_RE = re.compile("\x00+(?=[\\s,.;:!?)\\]}\x00]|$)")
# After a link: a space only if a letter or digit follows at once. Menus often write links back to back,
# <a>Roadmap</a><a>Features</a>, which a browser's CSS sets apart; run together they would be one word.
LINK_GAP = "\x01"
LINK_GAP_RE = re.compile("\x01+(?=[^\\W_])")
MULTIPLE_SPACES_RE = re.compile(" {2,}")

# Style marks (app.visible.MARKS, never a page's): they take no columns while text is laid out, and become
# escape sequences (?ansi=1) or markup (the reading view) only after the final guard on control characters.
# With ?ansi=1 an underline is closed and reopened at each line end.
UNDERLINE_ON, UNDERLINE_OFF, BOLD_ON, BOLD_OFF = tuple(MARKS[:4])
REFERENCE_ON, REFERENCE_OFF = tuple(MARKS[9:11])  # around a reference number, for the reading view's links
ANSI = {UNDERLINE_ON: "\x1b[4m", UNDERLINE_OFF: "\x1b[24m", BOLD_ON: "\x1b[1m", BOLD_OFF: "\x1b[22m"}
STYLE_MARKS = frozenset((*ANSI, REFERENCE_ON, REFERENCE_OFF))


def display_width(text: str) -> int:
    """Columns text takes in a terminal: CJK characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(max(wcwidth(char), 0) for char in text if char not in STYLE_MARKS)


def to_ascii(text: str) -> str:
    """Transliterate text to 7-bit ASCII; CJK syllables are kept apart by spaces so they stay readable."""
    if text.isascii():
        return text
    out: list[str] = []
    for char in text:
        if char.isascii() or char in STYLE_MARKS:
            out.append(char)
        elif _is_wide(char):
            out.append(f" {anyascii(char)} ")
        else:
            out.append(anyascii(char))
    return re.sub(r"(?<=\S)  +(?=\S)", " ", "".join(out))


def ascii_url(url: str) -> str:
    """The URL with any non-ASCII part percent-encoded (IRI to URI), the host in IDNA."""
    if url.isascii():
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    with contextlib.suppress(UnicodeError):
        host = host.encode("idna").decode("ascii")
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    safe = "/?#[]@!$&'()*+,;=%:~"
    return urlunsplit(
        (
            parts.scheme,
            netloc,
            quote(parts.path, safe=safe),
            quote(parts.query, safe=safe),
            quote(parts.fragment, safe=safe),
        )
    )


def ansi_lines(text: str) -> str:
    """Turn style marks into escape sequences, closing an underline at each line end and reopening it after."""
    out: list[str] = []
    underline = False
    for line in text.split("\n"):
        pieces = [ANSI[UNDERLINE_ON]] if underline and line else []
        for char in line:
            if char in ANSI:
                if char in (UNDERLINE_ON, UNDERLINE_OFF):
                    underline = char == UNDERLINE_ON
                pieces.append(ANSI[char])
            else:
                pieces.append(char)
        if underline and line:
            pieces.append(ANSI[UNDERLINE_OFF])
        out.append("".join(pieces))
    return "\n".join(out)


def _is_wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def _pieces(word: str) -> list[str]:
    """Split a word where a line may break inside it: between CJK characters, never before closing marks."""
    if word.isascii() or not any(_is_wide(char) for char in word):
        return [word]
    pieces: list[list[str]] = []  # lists, not strings: gluing a long run char by char must stay linear
    for char in word:
        previous = pieces[-1] if pieces else None
        glue = previous is not None and (
            char in NO_LINE_START or previous[-1] in NO_LINE_END or (not _is_wide(char) and not _is_wide(previous[-1]))
        )
        if previous is not None and glue:
            previous.append(char)
        else:
            pieces.append([char])
    return ["".join(piece) for piece in pieces]


def wrap(text: str, width: int) -> list[str]:
    """Wrap text at width columns without breaking a word; "\\n" is a hard break; width 0 means no wrapping."""
    lines: list[str] = []
    for segment in text.split("\n"):
        if width <= 0:
            lines.append(_single_spaced(segment))
        elif segment.isascii() or _one_column_each(segment):
            lines.extend(_wrap_columns(segment, width))
        else:
            lines.extend(_wrap_wide(segment, width))
    return lines


NOT_PRINTABLE_ASCII_RE = re.compile("[^\x20-\x7e]")


def _one_column_each(segment: str) -> bool:
    """Whether each character of segment takes one column (so no line may break inside a word).

    Most of a page's paragraphs are not ASCII only for a curly quote or a dash: measured word by word, the
    wrapping of the 641 benchmark pages took 380 ms, 190 with this check (11,100 non-ASCII lines, 480 wide).
    The characters to check are found by an expression: a set of all of them took 37 ms on those lines, it 15.
    """
    return all(_one_column(char) for char in set(NOT_PRINTABLE_ASCII_RE.findall(segment)))


@functools.lru_cache(maxsize=4096)
def _one_column(char: str) -> bool:
    return not _is_wide(char) and char not in STYLE_MARKS and wcwidth(char) == 1


def _wrap_columns(segment: str, width: int) -> list[str]:
    """One line of text wrapped whose characters each take one column, a word never broken."""
    segment = _single_spaced(segment)
    # Columns are characters: each line ends at the last space that fits, found in C, not word by word.
    lines: list[str] = []
    start = 0
    while len(segment) - start > width:
        cut = segment.rfind(" ", start, start + width + 1)
        if cut < 0:  # a word wider than the line stands on a line of its own
            cut = segment.find(" ", start + width)
            if cut < 0:
                break
        lines.append(segment[start:cut])
        start = cut + 1
    lines.append(segment[start:])
    return lines


def _single_spaced(segment: str) -> str:
    """segment's words with one space between them (most lines have that already: 950,000 words over the 641
    benchmark pages' JSON text were split and joined again)."""
    if "  " in segment or segment.startswith(" ") or segment.endswith(" "):
        return " ".join(word for word in segment.split(" ") if word)
    return segment


def _wrap_wide(segment: str, width: int) -> list[str]:
    """One line of text wrapped by display width, breaking between CJK characters where a line may break."""
    lines: list[str] = []
    line, used = "", 0
    for word in segment.split(" "):
        if not word:
            continue
        for index, (piece, size) in enumerate(_measured_pieces(word)):
            gap = 1 if index == 0 and line else 0
            if line and used + gap + size > width:
                lines.append(line)
                line, used = piece, size
            else:
                line += " " * gap + piece
                used += gap + size
    lines.append(line)
    return lines


@functools.lru_cache(maxsize=8192)
def _measured_pieces(word: str) -> tuple[tuple[str, int], ...]:
    """A word's pieces (`_pieces`) and the columns each takes: a page says most of its words many times."""
    return tuple((piece, display_width(piece)) for piece in _pieces(word))


@dataclass(frozen=True)
class Reference:
    """A numbered reference: the link's number, its absolute URL and its text."""

    n: int
    url: str
    text: str


@dataclass(frozen=True)
class Body:
    """An article body laid out as text, with the links it refers to."""

    text: str
    links: tuple[Reference, ...]


@dataclass(frozen=True)
class Style:
    """How a body is laid out.

    references: `[n]` after each link's text; rules: a line of `=` or `-` under headings; images: `[image: alt]`
    for pictures and captions; ascii: 7-bit ASCII only; underline_links and bold_headings: style marks for
    `ansi_lines`; mark_references: marks around each `[n]` for the reading view; page_marks: `-- page N --`;
    markers: a list item's bullet or number (a browser's, not the page's text).
    """

    width: int = 80
    references: bool = True
    rules: bool = True
    images: bool = True
    ascii: bool = False
    underline_links: bool = False
    bold_headings: bool = False
    mark_references: bool = False
    page_marks: bool = True
    markers: bool = True


def layout_body(document: Document, style: Style) -> Body:
    """Lay out the document as wrapped text and collect its links, numbered in reading order."""
    layout = _Layout(style)
    blocks = [block for block in layout.blocks(document.blocks, style.width) if any(line.strip() for line in block)]
    links = tuple(layout.links)
    if style.ascii:
        links = tuple(Reference(link.n, ascii_url(link.url), link.text) for link in links)
    return Body("\n".join(join_blocks(blocks, blank=True)), links)


def join_blocks(blocks: list[Laid], *, blank: bool) -> list[str]:
    """The blocks' lines one after another, with a blank line between blocks when blank is set."""
    lines: list[str] = []
    for block in blocks:
        if lines and blank:
            lines.append("")
        lines.extend(block)
    return lines


@dataclass
class _Inline:
    """Inline text being gathered for one paragraph."""

    parts: list[str] = field(default_factory=list)

    def text(self) -> str:
        joined = "".join(self.parts)
        if SOFT_SPACE in joined:
            joined = SOFT_SPACE_RE.sub("", joined).replace(SOFT_SPACE, " ")
        if LINK_GAP in joined:
            joined = LINK_GAP_RE.sub(" ", joined).replace(LINK_GAP, "")
        if "\n" in joined:
            joined = "\n".join(_trimmed([line.strip() for line in joined.split("\n")]))
        else:
            joined = joined.strip()
        return MULTIPLE_SPACES_RE.sub(" ", joined) if "  " in joined else joined


class _Layout:
    """Lays out blocks as lists of lines, numbering links as it meets them."""

    def __init__(self, style: Style) -> None:
        self.style = style
        self.numbers: dict[str, int] = {}
        self.links: list[Reference] = []

    def inner(self, width: int, indent: int) -> int:
        """The width left for text indented by indent columns."""
        if width <= 0:
            return 0
        return max(width - indent, MIN_WIDTH)

    def text(self, text: str) -> str:
        """Page text as the style writes it (in 7-bit ASCII when asked)."""
        return to_ascii(text) if self.style.ascii else text

    def blocks(self, blocks: tuple[Block, ...], width: int, *, list_depth: int = 0) -> list[Laid]:
        """Lay out blocks in order; lists among them nest at list_depth."""
        out: list[Laid] = []
        for block in blocks:
            if isinstance(block, ListBlock):
                out.extend(_list_block(self, block, width, list_depth))
            else:
                out.extend(self.block(block, width))
        return out

    def block(self, block: Block, width: int) -> list[Laid]:
        """One block as the blocks of lines it makes (none when it shows nothing)."""
        return BLOCK_LAYOUTS[type(block)](self, block, width)

    def inline_text(self, runs: tuple[Inline, ...]) -> str:
        """Runs as one paragraph's text: white space collapsed, link numbers after link text."""
        inline = _Inline()
        self.inline(runs, inline)
        return inline.text()

    def inline(self, runs: tuple[Inline, ...], inline: _Inline) -> None:
        for run in runs:
            if isinstance(run, Text | Code):
                inline.parts.append(self.text(run.text))
            elif isinstance(run, Link):
                self.link(run, inline)
            elif isinstance(run, Emphasis):
                self.inline(run.runs, inline)
            elif isinstance(run, Break):
                inline.parts.append("\n")
            elif isinstance(run, Image) and run.alt and self.style.images:
                inline.parts.append(f" [image: {self.text(run.alt)}]{SOFT_SPACE}")

    def link(self, link: Link, inline: _Inline) -> None:
        """The link's text, then its number right after the text (before any space that follows)."""
        underline = self.style.underline_links
        if underline:
            inline.parts.append(UNDERLINE_ON)
        before = len(inline.parts)
        self.inline(link.runs, inline)
        content = "".join(inline.parts[before:])
        del inline.parts[before:]
        text = " ".join(content.replace(SOFT_SPACE, " ").split())
        close = UNDERLINE_OFF if underline else ""
        if not text:
            inline.parts.append(content + close)
            return
        number = self.numbers.get(link.url)
        if number is None:
            number = self.numbers[link.url] = len(self.numbers) + 1
            self.links.append(Reference(number, link.url, text))
        stripped = content.rstrip(" " + SOFT_SPACE)
        trailing = content[len(stripped) :]
        space = " " if " " in trailing else SOFT_SPACE if trailing else LINK_GAP
        marker = ""
        if self.style.references:
            marker = f"{REFERENCE_ON}[{number}]{REFERENCE_OFF}" if self.style.mark_references else f"[{number}]"
        inline.parts.append(f"{stripped}{close}{marker}{space}")


def _paragraph(layout: _Layout, block: Paragraph, width: int) -> list[Laid]:
    text = layout.inline_text(block.runs)
    return [wrap(text, width)] if text else []


def _heading(layout: _Layout, heading: Heading, width: int) -> list[Laid]:
    text = layout.inline_text(heading.runs).replace("\n", " ")
    if not text:
        return []
    lines = wrap(text, width)
    rule = "=" if heading.level == 1 else "-"
    ruler = [rule * max(display_width(line) for line in lines)] if layout.style.rules else []
    if layout.style.bold_headings:
        lines = [f"{BOLD_ON}{line}{BOLD_OFF}" for line in lines]
    return [[*lines, *ruler]]


def _indented(layout: _Layout, blocks: tuple[Block, ...], width: int, *, blank: bool) -> list[Laid]:
    """Blocks indented under what they belong to: a quotation, a term's description."""
    inner = layout.inner(width, QUOTE_INDENT)
    lines = join_blocks(layout.blocks(blocks, inner), blank=blank)
    return [[(" " * QUOTE_INDENT + line).rstrip() for line in lines]] if lines else []


def _quote(layout: _Layout, quote: Quote, width: int) -> list[Laid]:
    return _indented(layout, quote.blocks, width, blank=True)


def _author_lines(layout: _Layout, block: Lines, width: int) -> list[Laid]:
    """A plain-text page: each line wrapped on its own under its indent, blank lines kept."""
    lines: list[str] = []
    for line in layout.text(block.text).replace("\r\n", "\n").split("\n"):
        indent = len(line) - len(line.lstrip(" "))
        wrapped = wrap(" ".join(line.split()), layout.inner(width, indent)) if line.strip() else [""]
        lines.extend(" " * indent + part for part in wrapped)
    return [_trimmed(lines)]


def _code(layout: _Layout, block: CodeBlock, width: int) -> list[Laid]:
    lines = _trimmed([line.rstrip() for line in layout.text(block.text).split("\n")])
    return [lines] if lines else []


def _trimmed(lines: list[str]) -> list[str]:
    """lines without the blank lines at either end."""
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _definitions(layout: _Layout, block: DefinitionList, width: int) -> list[Laid]:
    """A definition list as one block: each term on its line, its description indented under it."""
    lines: list[str] = []
    for item in block.items:
        if isinstance(item, Term):
            lines.extend(join_blocks(layout.blocks(item.blocks, width), blank=False))
        elif isinstance(item, Definition):
            for laid in _indented(layout, item.blocks, width, blank=False):
                lines.extend(laid)
        else:
            lines.extend(join_blocks(layout.block(item, width), blank=False))
    return [lines] if lines else []


def _figure(layout: _Layout, figure: Figure, width: int) -> list[Laid]:
    """A figure whose picture is not shown says what it was: its caption, or nothing for a bare photo credit.

    Without it, a caption or "Credit: Reuters" stands alone as a paragraph. The words-only layout (images
    left out) keeps the caption's words where the page has them.
    """
    captions = [" ".join(text.split()) for text in _caption_texts(figure.blocks)]
    shown = any(image.alt for image in images(figure.blocks))
    if not layout.style.images or shown or not captions:
        return layout.blocks(figure.blocks, width)
    caption = layout.text(" ".join(captions))
    blocks = layout.blocks(_without_captions(figure.blocks), width)
    if not caption or CREDIT_RE.match(caption):
        return blocks
    return [wrap(f"[image: {caption}]", width), *blocks]


def _caption(layout: _Layout, caption: Caption, width: int) -> list[Laid]:
    return layout.blocks(caption.blocks, width)


def _list_block(layout: _Layout, block: ListBlock, width: int, depth: int = 0) -> list[Laid]:
    count = len(block.items)
    if block.ordered:
        markers = [f"{ordinal(block.start + index, block.style)}." for index in range(count)]
    else:
        markers = [BULLETS[depth % len(BULLETS)]] * count
    pad = max(display_width(marker) for marker in markers) + 1
    inner = layout.inner(width, pad)
    if not layout.style.markers:
        markers, pad, inner = [""] * count, 0, width
    lines: list[str] = []
    # An item with no text (an icon, a picture left out, a button) gets no bullet of its own.
    bodies = [join_blocks(layout.blocks(item.blocks, inner, list_depth=depth + 1), blank=False) for item in block.items]
    numbered = [body for body in bodies if any(line.strip() for line in body)]
    for body, marker in zip(numbered, markers, strict=False):
        lines.append(marker.ljust(pad) + body[0])
        lines.extend((" " * pad + line).rstrip() for line in body[1:])
    return [[line.rstrip() for line in lines]] if lines else []


ROMAN = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"), (40, "xl"),
         (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))  # fmt: skip


def ordinal(number: int, style: str) -> str:
    """An ordered list's number in its style: 3, c, C, iii or III (as a browser draws <ol type>)."""
    if number < 1 or style == "1":
        return str(number)
    if style in ("a", "A"):
        letters = ""
        while number:
            number, rest = divmod(number - 1, 26)
            letters = chr(ord("a") + rest) + letters
        return letters.upper() if style == "A" else letters
    numeral = ""
    for value, letters in ROMAN:
        count, number = divmod(number, value)
        numeral += letters * count
    return numeral.upper() if style == "I" else numeral


def _table(layout: _Layout, table: Table, width: int) -> list[Laid]:
    blocks = layout.blocks(table.caption, width)
    columns = max((len(row) for row in table.rows), default=0)
    texts = [[layout.inline_text(cell.runs).replace("\n", " ") for cell in row] for row in table.rows]
    texts = [row + [""] * (columns - len(row)) for row in texts if any(row)]
    if not texts:
        return blocks
    header = table.header and len(texts) > 1
    widths = [max(display_width(row[col]) for row in texts) for col in range(columns)]
    if width <= 0 or sum(widths) + 2 * (columns - 1) <= width:
        lines = [_row_line(row, widths) for row in texts]
        if header:
            lines.insert(1, "  ".join("-" * size for size in widths).rstrip())
        blocks.append(lines)
        return blocks
    # Too wide for the line: each row as lines of "column: value".
    names = texts[0] if header else [""] * columns
    for row in texts[1:] if header else texts:
        lines = []
        for name, value in zip(names, row, strict=True):
            if value:
                lines.extend(wrap(f"{name}: {value}" if name else value, width))
        blocks.append(lines)
    return blocks


def _rule(layout: _Layout, rule: Rule, width: int) -> list[Laid]:
    return [["* * *"]]


def _page_mark(layout: _Layout, mark: PageMark, width: int) -> list[Laid]:
    return [[f"-- page {mark.number} --"]] if layout.style.page_marks else []


# How each kind of block is laid out.
BLOCK_LAYOUTS: dict[type, Callable[[_Layout, Any, int], list[Laid]]] = {
    Paragraph: _paragraph,
    Heading: _heading,
    ListBlock: _list_block,
    CodeBlock: _code,
    Quote: _quote,
    Table: _table,
    Figure: _figure,
    Caption: _caption,
    Rule: _rule,
    DefinitionList: _definitions,
    Lines: _author_lines,
    PageMark: _page_mark,
}


def _row_line(row: list[str], widths: list[int]) -> str:
    cells = [value + " " * (size - display_width(value)) for value, size in zip(row, widths, strict=True)]
    return "  ".join(cells).rstrip()


def _caption_texts(blocks: tuple[Block, ...]) -> list[str]:
    """The words of each caption among blocks, in order, nested figures' included."""
    texts: list[str] = []
    for block in blocks:
        if isinstance(block, Caption):
            texts.append(" ".join(block_texts(block.blocks)))
        elif isinstance(block, Figure | Quote):
            texts.extend(_caption_texts(block.blocks))
    return texts


def _without_captions(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
    kept: list[Block] = []
    for block in blocks:
        if isinstance(block, Caption):
            continue
        kept.append(Figure(_without_captions(block.blocks)) if isinstance(block, Figure) else block)
    return tuple(kept)
