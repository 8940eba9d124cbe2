"""Render an article: plain text wrapped by display width with numbered references, Markdown, or JSON."""

from __future__ import annotations

import contextlib
import copy
import re
import unicodedata
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote, urldefrag, urljoin, urlsplit, urlunsplit

import html2text
import lxml.html
from anyascii import anyascii
from wcwidth import wcwidth

from app.extract import Article, parse_fragment
from app.visible import MARKS, visible_url, without_controls

Block = list[str]

DROPPED = frozenset(
    {"script", "style", "noscript", "template", "svg", "button", "input", "select", "textarea", "iframe", "object",
     "embed", "canvas", "video", "audio", "head", "title", "meta", "link", "map", "area"}
)  # fmt: skip
BLOCKS = frozenset(
    {"address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dialog", "div", "dl", "dt",
     "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup",
     "hr", "html", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td",
     "tfoot", "th", "thead", "tr", "ul", "caption", "listing", "xmp", "plaintext"}
)  # fmt: skip
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
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
# Zero-width spaces, word joiners, BOMs and soft hyphens: invisible on the page, noise in a terminal or a copy.
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u2060\ufeff\u00ad"))
SPACE_RE = re.compile(r"[ \t\n\r\f\v\u2000-\u200a\u205f\u3000]+|[\u00a0\u202f]{2,}")


# With ?ansi=1, headings and link text are marked with these characters (app.visible.MARKS, never a page's)
# while they are laid out; they take no columns, and become escape sequences only after the final guard on
# control characters has run, an underline closed and reopened at each line end.
UNDERLINE_ON, UNDERLINE_OFF, BOLD_ON, BOLD_OFF = tuple(MARKS[:4])
ANSI = {UNDERLINE_ON: "\x1b[4m", UNDERLINE_OFF: "\x1b[24m", BOLD_ON: "\x1b[1m", BOLD_OFF: "\x1b[22m"}


def display_width(text: str) -> int:
    """Columns text takes in a terminal: CJK characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(max(wcwidth(char), 0) for char in text if char not in ANSI)


def to_ascii(text: str) -> str:
    """Transliterate text to 7-bit ASCII; CJK syllables are kept apart by spaces so they stay readable."""
    if text.isascii():
        return text
    out: list[str] = []
    for char in text:
        if char.isascii() or char in ANSI:
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
        words = segment.split(" ")
        if width <= 0:
            lines.append(" ".join(word for word in words if word))
            continue
        line, used = "", 0
        for word in words:
            if not word:
                continue
            for index, piece in enumerate(_pieces(word)):
                gap = 1 if index == 0 and line else 0
                size = display_width(piece)
                if line and used + gap + size > width:
                    lines.append(line)
                    line, used = piece, size
                else:
                    line += " " * gap + piece
                    used += gap + size
        lines.append(line)
    return lines


@dataclass(frozen=True)
class Link:
    """A numbered reference: the link's number, its absolute URL and its text."""

    n: int
    url: str
    text: str


@dataclass(frozen=True)
class Body:
    """An article body laid out as text, with the links it refers to."""

    text: str
    links: tuple[Link, ...]


@dataclass
class _Inline:
    """Inline text being gathered for one paragraph."""

    parts: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        """Add text with its white space collapsed; a single no-break space stays, so no line breaks there."""
        if text:
            self.parts.append(SPACE_RE.sub(" ", text.translate(INVISIBLE)))

    def hard_break(self) -> None:
        self.parts.append("\n")

    def text(self) -> str:
        joined = SOFT_SPACE_RE.sub("", "".join(self.parts)).replace(SOFT_SPACE, " ")
        joined = LINK_GAP_RE.sub(" ", joined).replace(LINK_GAP, "")
        lines = [" ".join(line.split(" ")).strip() for line in joined.split("\n")]
        while lines and not lines[-1]:
            lines.pop()
        while lines and not lines[0]:
            lines.pop(0)
        return re.sub(" {2,}", " ", "\n".join(lines))


class _Layout:
    """Walks article HTML once and lays it out as blocks of lines."""

    def __init__(
        self, *, base_url: str, width: int, references: bool, underline: bool, ansi: bool = False, images: bool = True
    ) -> None:
        self.base_url = base_url
        self.images = images
        self.references = references
        self.underline = underline
        self.ansi = ansi
        self.numbers: dict[str, int] = {}
        self.links: list[Link] = []

    def _inner(self, width: int, indent: int) -> int:
        if width <= 0:
            return 0
        return max(width - indent, MIN_WIDTH)

    def container(self, element: lxml.html.HtmlElement, width: int, *, list_depth: int = 0) -> list[Block]:
        """Lay out element's children: runs of inline content become paragraphs; lists nest at list_depth."""
        blocks: list[Block] = []
        inline = _Inline()

        def flush() -> None:
            text = inline.text()
            if text:
                blocks.append(wrap(text, width))
            inline.parts.clear()

        inline.add(element.text or "")
        for child in element:
            tag = _tag(child)
            if tag in ("ul", "ol", "menu"):
                flush()
                blocks.extend(self.list_block(child, tag, width, list_depth))
            elif tag in BLOCKS or (tag and tag not in DROPPED and _has_block(child)):
                flush()
                blocks.extend(self.block(child, tag, width))
            else:
                self.inline(child, tag, inline)
            inline.add(child.tail or "")
        flush()
        return blocks

    def block(self, element: lxml.html.HtmlElement, tag: str, width: int) -> list[Block]:
        if tag in HEADINGS:
            return self.heading(element, tag, width)
        if tag in ("ul", "ol", "menu"):
            return self.list_block(element, tag, width)
        if tag in ("pre", "listing", "xmp", "plaintext"):
            return self.pre(element)
        if tag == "blockquote":
            inner = self._inner(width, QUOTE_INDENT)
            lines = _join(self.container(element, inner), blank=True)
            return [[(" " * QUOTE_INDENT + line).rstrip() for line in lines]] if lines else []
        if tag == "table":
            return self.table(element, width)
        if tag == "figure":
            return self.figure(element, width)
        if tag == "hr":
            return [["* * *"]]
        if tag == "dd":
            inner = self._inner(width, QUOTE_INDENT)
            lines = _join(self.container(element, inner), blank=False)
            return [[(" " * QUOTE_INDENT + line).rstrip() for line in lines]] if lines else []
        if tag == "dl":
            lines = self.definitions(element, width)
            return [lines] if lines else []
        return self.container(element, width)

    def definitions(self, element: lxml.html.HtmlElement, width: int) -> list[str]:
        """A definition list as one block: each term on its line, its description indented under it."""
        lines: list[str] = []
        for child in element:
            tag = _tag(child)
            if tag == "div":  # HTML allows <div> around each term and its description
                lines.extend(self.definitions(child, width))
            elif tag in ("dt", "dd"):
                for block in self.block(child, tag, width):
                    lines.extend(block)
            elif tag and tag not in DROPPED:
                lines.extend(_join(self.block(child, tag, width), blank=False))
        return lines

    def heading(self, element: lxml.html.HtmlElement, tag: str, width: int) -> list[Block]:
        inline = _Inline()
        self.inline_children(element, inline)
        text = inline.text().replace("\n", " ")
        if not text:
            return []
        lines = wrap(text, width)
        rule = "=" if tag == "h1" else "-"
        ruler = [rule * max(display_width(line) for line in lines)] if self.underline else []
        if self.ansi:
            lines = [f"{BOLD_ON}{line}{BOLD_OFF}" for line in lines]
        return [[*lines, *ruler]]

    def figure(self, element: lxml.html.HtmlElement, width: int) -> list[Block]:
        """A figure whose picture is not shown says what it was: its caption, or nothing for a bare photo credit.

        Without it, a caption or "Credit: Reuters" stands alone as a paragraph. The words-only layout (images
        left out) keeps the caption's words where the page has them.
        """
        captions = list(element.iter("figcaption"))
        shown = any((image.get("alt") or "").strip() for image in element.iter("img"))
        if not self.images or shown or not captions:
            return self.container(element, width)
        caption = " ".join(" ".join(part.text_content().split()) for part in captions)
        rest = copy.deepcopy(element)
        for part in list(rest.iter("figcaption")):
            part.drop_tree()
        blocks = self.container(rest, width)
        if not caption or CREDIT_RE.match(caption):
            return blocks
        return [wrap(f"[image: {caption}]", width), *blocks]

    def list_block(self, element: lxml.html.HtmlElement, tag: str, width: int, depth: int = 0) -> list[Block]:
        items = [child for child in element if _tag(child) == "li"]
        if not items:
            return self.container(element, width)
        start = _int(element.get("start"), 1)
        count = len(items)
        markers = (
            [f"{start + index}." for index in range(count)] if tag == "ol" else [BULLETS[depth % len(BULLETS)]] * count
        )
        pad = max(display_width(marker) for marker in markers) + 1
        inner = self._inner(width, pad)
        lines: list[str] = []
        # An item with no text (an icon, a picture left out, a button) gets no bullet of its own.
        bodies = [_join(self.container(item, inner, list_depth=depth + 1), blank=False) for item in items]
        numbered = [body for body in bodies if any(line.strip() for line in body)]
        for body, marker in zip(numbered, markers, strict=False):
            lines.append(marker.ljust(pad) + body[0])
            lines.extend((" " * pad + line).rstrip() for line in body[1:])
        return [[line.rstrip() for line in lines]] if lines else []

    def pre(self, element: lxml.html.HtmlElement) -> list[Block]:
        text = element.text_content().replace("\r\n", "\n").replace("\r", "\n")
        lines = [line.rstrip() for line in text.split("\n")]
        while lines and not lines[0].strip():
            lines.pop(0)
        while lines and not lines[-1].strip():
            lines.pop()
        return [lines] if lines else []

    def cell(self, element: lxml.html.HtmlElement) -> str:
        inline = _Inline()
        self.inline_children(element, inline, flatten_blocks=True)
        return inline.text().replace("\n", " ")

    def table(self, element: lxml.html.HtmlElement, width: int) -> list[Block]:
        rows = [row for row in element.iter("tr") if _closest_table(row) is element]
        cells = [[cell for cell in row if _tag(cell) in ("td", "th")] for row in rows]
        columns = max((len(row) for row in cells), default=0)
        # One column, or a table inside a cell: the table lays out the page, it holds no data.
        is_layout = columns <= 1 or any(cell.find(".//table") is not None for row in cells for cell in row)
        caption = element.find("caption")
        blocks: list[Block] = self.container(caption, width) if caption is not None else []
        if is_layout:
            for row in cells:
                for cell in row:
                    blocks.extend(self.container(cell, width))
            return blocks
        texts = [[self.cell(cell) for cell in row] for row in cells]
        texts = [row + [""] * (columns - len(row)) for row in texts if any(row)]
        if not texts:
            return blocks
        header = all(_tag(cell) == "th" for cell in cells[0]) and len(texts) > 1
        widths = [max(display_width(row[col]) for row in texts) for col in range(columns)]
        if width <= 0 or sum(widths) + 2 * (columns - 1) <= width:
            lines = [_row_line(row, widths) for row in texts]
            if header:
                lines.insert(1, "  ".join("-" * size for size in widths).rstrip())
            blocks.append(lines)
            return blocks
        names = texts[0] if header else [""] * columns
        for row in texts[1:] if header else texts:
            lines = []
            for name, value in zip(names, row, strict=True):
                if value:
                    lines.extend(wrap(f"{name}: {value}" if name else value, width))
            blocks.append(lines)
        return blocks

    def inline_children(self, element: lxml.html.HtmlElement, inline: _Inline, *, flatten_blocks: bool = False) -> None:
        inline.add(element.text or "")
        for child in element:
            tag = _tag(child)
            if flatten_blocks and tag in BLOCKS and tag not in DROPPED:
                inline.add(" ")
                self.inline_children(child, inline, flatten_blocks=True)
                inline.add(" ")
            else:
                self.inline(child, tag, inline)
            inline.add(child.tail or "")

    def inline(self, element: lxml.html.HtmlElement, tag: str, inline: _Inline) -> None:
        if not tag or tag in DROPPED:
            return
        if tag == "br":
            inline.hard_break()
        elif tag == "img":
            alt = " ".join((element.get("alt") or "").split())
            if alt and self.images:
                inline.add(f" [image: {alt}]{SOFT_SPACE}")
        elif tag == "a":
            underline = self.ansi and self.absolute(element.get("href")) is not None
            if underline:
                inline.parts.append(UNDERLINE_ON)
            before = len(inline.parts)
            self.inline_children(element, inline)
            self.reference(element, inline, before, underline=underline)
        elif tag == "q":
            inline.add("“")
            self.inline_children(element, inline)
            inline.add("”")
        else:
            self.inline_children(element, inline, flatten_blocks=True)

    def reference(self, element: lxml.html.HtmlElement, inline: _Inline, before: int, *, underline: bool) -> None:
        """Number the link element and put its number right after its text (before any space that follows)."""
        url = self.absolute(element.get("href"))
        content = "".join(inline.parts[before:])
        del inline.parts[before:]
        text = " ".join(content.replace(SOFT_SPACE, " ").split())
        close = UNDERLINE_OFF if underline else ""
        if url is None or not text:
            inline.parts.append(content + close)
            return
        number = self.numbers.get(url)
        if number is None:
            number = self.numbers[url] = len(self.numbers) + 1
            self.links.append(Link(number, url, text))
        stripped = content.rstrip(" " + SOFT_SPACE)
        trailing = content[len(stripped) :]
        space = " " if " " in trailing else SOFT_SPACE if trailing else LINK_GAP
        marker = f"[{number}]" if self.references else ""
        inline.parts.append(f"{stripped}{close}{marker}{space}")

    def absolute(self, href: str | None) -> str | None:
        """The link's absolute http(s) URL, or None for this page, places on it, and other schemes."""
        if not href or not href.strip():
            return None
        try:
            url = urljoin(self.base_url, href.strip())
        except ValueError:
            return None
        if not url.lower().startswith(("http://", "https://")):
            return None
        if urldefrag(url)[0] == urldefrag(self.base_url)[0]:
            return None  # this page itself, or a place on it (readability turns javascript: links into this too)
        return url


def _tag(element: Any) -> str:
    tag = element.tag
    return tag.lower() if isinstance(tag, str) else ""


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default


def _has_block(element: lxml.html.HtmlElement) -> bool:
    return any(_tag(descendant) in BLOCKS for descendant in element.iterdescendants())


def _closest_table(element: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    for ancestor in element.iterancestors():
        if _tag(ancestor) == "table":
            return ancestor
    return None


def _row_line(row: list[str], widths: list[int]) -> str:
    cells = [value + " " * (size - display_width(value)) for value, size in zip(row, widths, strict=True)]
    return "  ".join(cells).rstrip()


def _join(blocks: list[Block], *, blank: bool) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        if lines and blank:
            lines.append("")
        lines.extend(block)
    return lines


def _without_repeated_title(fragment: lxml.html.HtmlElement, title: str) -> None:
    """Drop the body's first heading when it only repeats the title the header already shows."""
    for heading in fragment.iter("h1", "h2"):
        if " ".join(heading.text_content().split()).casefold() == " ".join(title.split()).casefold():
            heading.drop_tree()
        return


# Marks an element that the text format (and the reading view, which shows it) lays out and the others leave
# out: a PDF page's start when a page range was asked for (`-- page 3 --`).
TEXT_ONLY = "data-text-mode-text-only"  # named for text-mode, as ORDER_ATTRIBUTE is: pages do not use it


def _without_text_only(fragment: lxml.html.HtmlElement) -> None:
    for element in fragment.xpath(f"//*[@{TEXT_ONLY}]"):
        element.drop_tree()


def _transliterate(fragment: lxml.html.HtmlElement) -> None:
    """Make every text node and image description 7-bit ASCII before layout, so widths stay right."""
    for element in fragment.iter():
        if element.text:
            element.text = to_ascii(element.text)
        if element.tail:
            element.tail = to_ascii(element.tail)
        if element.get("alt"):
            element.set("alt", to_ascii(element.get("alt")))


def ascii_article(article: Article) -> Article:
    """The article's header fields in 7-bit ASCII (the body is transliterated during layout)."""
    return replace(
        article,
        title=to_ascii(article.title),
        byline=to_ascii(article.byline),
        site_name=to_ascii(article.site_name),
        published=to_ascii(article.published),
        final_url=ascii_url(article.final_url),
        html=to_ascii(article.html) if article.plain else article.html,
    )


def layout_body(
    article: Article,
    *,
    width: int = 80,
    references: bool = True,
    underline: bool = True,
    ascii: bool = False,
    ansi: bool = False,
    images: bool = True,
    text_only: bool = False,
) -> Body:
    """Lay out the article's body as wrapped text and collect its links; images=False leaves out `[image: alt]`,
    text_only=True keeps the elements marked TEXT_ONLY.

    ansi=True leaves style marks in the text, for `ansi_lines` to turn into escape sequences.
    """
    layout = _Layout(
        base_url=article.final_url, width=width, references=references, underline=underline, ansi=ansi, images=images
    )
    if article.plain:
        lines: list[str] = []
        for line in article.html.replace("\r\n", "\n").split("\n"):
            indent = len(line) - len(line.lstrip(" "))
            wrapped = wrap(" ".join(line.split()), layout._inner(width, indent)) if line.strip() else [""]
            lines.extend(" " * indent + part for part in wrapped)
        return Body("\n".join(lines).strip("\n"), ())
    fragment = parse_fragment(article.html)
    if fragment is None:
        return Body("", ())
    _without_repeated_title(fragment, article.title)
    if not text_only:
        _without_text_only(fragment)
    if ascii:
        _transliterate(fragment)
    blocks: list[Block] = []
    for block in layout.container(fragment, width):
        if any(line.strip() for line in block):
            blocks.append(block)
    text = "\n".join(_join(blocks, blank=True))
    links = tuple(layout.links)
    if ascii:
        links = tuple(replace(link, url=ascii_url(link.url)) for link in links)
    return Body(text, links)


def header_lines(article: Article, *, width: int, ascii: bool = False, ansi: bool = False) -> list[str]:
    """The title underlined, a line of byline, site and date, and the final URL."""
    title = wrap(" ".join(article.title.split()), width)
    lines = [f"{BOLD_ON}{line}{BOLD_OFF}" for line in title] if ansi else list(title)
    lines.append("=" * max(display_width(line) for line in title))
    separator = " - " if ascii else " · "
    details = separator.join(part for part in (article.byline, article.site_name, article.published) if part)
    if details:
        lines.extend(wrap(details, width))
    # A page without a title has its address as the title already; HTML read from stdin may have no address.
    if article.final_url and article.title != article.final_url:
        lines.append(article.final_url)
    return lines


def render_text(article: Article, *, width: int = 80, ascii: bool = False, ansi: bool = False) -> str:
    """The plain-text reading view: header, body, then the numbered references.

    ascii=True transliterates everything to 7-bit ASCII before layout; ansi=True makes headings bold and
    link text underlined with terminal escape sequences.
    """
    if ascii:
        article = ascii_article(article)
    body = layout_body(article, width=width, ascii=ascii, ansi=ansi, text_only=True)
    parts = ["\n".join(header_lines(article, width=width, ascii=ascii, ansi=ansi)), body.text]
    if body.links:
        references = ["References", "----------"]
        for link in body.links:
            line = f"[{link.n}] {link.url}"
            # A URL wider than the line stands alone on its own line, as any other long token does.
            references.extend([f"[{link.n}]", link.url] if 0 < width < display_width(line) else [line])
        parts.append("\n".join(references))
    # The final guard: whatever an article holds (one not made by `extract`, too), no control character
    # reaches the terminal; our own styling is added after it.
    text = without_controls("\n\n".join(part for part in parts if part) + "\n")
    return ansi_lines(text) if ansi else text


def _body_html(article: Article) -> str:
    """The article's HTML for html2text: no first heading that repeats the title, only web links, text marked."""
    fragment = parse_fragment(article.html)
    if fragment is None:
        return ""
    _without_repeated_title(fragment, article.title)
    _without_text_only(fragment)
    # html2text writes any href or src out as a live Markdown link: keep only http(s) ones (no javascript:, data:).
    for element in fragment.iter():
        for name in ("href", "src"):
            value = element.get(name) if isinstance(element.tag, str) else None
            if value is not None and not _is_web_url(article.final_url, value):
                del element.attrib[name]
    _mark_markdown_text(fragment)
    return str(lxml.html.tostring(fragment, encoding="unicode"))


def _is_web_url(base_url: str, value: str) -> bool:
    try:
        return urljoin(base_url, value.strip()).lower().startswith(("http://", "https://"))
    except ValueError:
        return False


# html2text writes page text into Markdown as it is: "&lt;script&gt;" became a live <script>, "&lt;http://a&gt;"
# an autolink, "[x](javascript:alert(1))" a link. Page text is marked where it may turn into markup (our
# marks go through html2text untouched); once the Markdown is written, `_escape_marks` escapes a mark where
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
PLAIN_MARKS = str.maketrans({MD_LT: "<", MD_AMP: "&", MD_AFTER_BRACKET: "", MD_BACKTICK: "`", MD_SPACE: " "})
CODE_TAGS = ("code", "kbd", "tt")  # html2text writes these as code spans, `pre` as indented code blocks


def _mark_text(text: str, *, attribute: bool = False) -> str:
    """Page text with `<`, `&` before an entity's name, `]` and backticks marked for `_escape_marks`.

    attribute=True: an alt or title, which html2text writes with its brackets escaped, and no code span in it.
    """
    text = ENTITY_RE.sub(MD_AMP, text.replace("<", MD_LT))
    return text if attribute else text.replace("]", "]" + MD_AFTER_BRACKET).replace("`", MD_BACKTICK)


def _escape_marks(markdown: str) -> str:
    """Markdown with each marked character escaped where markup would follow it, the other marks plain again."""

    def escape(match: re.Match[str]) -> str:
        # Backslashes just before a mark are the page's, written as they were: doubled, each stays a backslash
        # and the escape is ours.
        return match[1] * 2 + "\\" + match[0][len(match[1])].translate(PLAIN_MARKS)

    return MARKUP_AFTER_RE.sub(escape, markdown).translate(PLAIN_MARKS)


def _mark_markdown_text(fragment: lxml.html.HtmlElement) -> None:
    """Mark, in place, the page text that html2text writes as Markdown text (not code) for `_escape_marks`."""
    spans: set[lxml.html.HtmlElement] = set()
    for element in list(fragment.iter(*CODE_TAGS)):
        if any(ancestor.tag in (*CODE_TAGS, "pre") for ancestor in element.iterancestors()):
            continue
        for line_break in element.iter("br"):
            line_break.tail = "\n" + (line_break.tail or "")  # a space in the span, as html2text writes it
        text = element.text_content()
        if "`" in text or any(_tag(inner) in BLOCKS for inner in element.iterdescendants()):
            # html2text writes a code span between single backticks, which a backtick inside would close, and
            # a block inside breaks it: this one is written as text, marked as text is.
            element.tag = "span"
            continue
        for child in list(element):
            element.remove(child)  # html2text toggles the span at each code element nested inside: its text only
        # html2text wraps lines at spaces, inside a code span too: a `<div>` that began a line there would
        # start an HTML block. No space before a `<` is a place to wrap.
        element.text = re.sub(r"\s+(?=<)", MD_SPACE, text)
        spans.add(element)
    stack: list[tuple[lxml.html.HtmlElement, bool]] = [(fragment, False)]
    while stack:  # not recursive: a page may nest thousands of elements deep
        element, literal = stack.pop()
        if not isinstance(element.tag, str):
            continue
        literal = literal or element.tag == "pre" or element in spans
        if not literal:
            if element.text:
                element.text = _mark_text(element.text)
            for name in ("alt", "title"):
                value = element.get(name)
                if value:
                    element.set(name, _mark_text(value, attribute=True))
        for child in element:
            if child.tail and not literal:
                child.tail = _mark_text(child.tail)
            stack.append((child, literal))


def render_markdown(article: Article, *, width: int = 80) -> str:
    """The article as Markdown, by html2text; the page's text in it is text, never HTML or a link of its own."""
    converter = html2text.HTML2Text(baseurl=article.final_url)  # stateful: a fresh one per call
    converter.body_width = width
    converter.wrap_links = False
    converter.unicode_snob = True
    converter.single_line_break = False
    body = _mark_text(article.html.strip()) if article.plain else converter.handle(_body_html(article)).strip()
    header = [f"# {_mark_text(' '.join(article.title.split()))}", ""]
    details = " · ".join(part for part in (article.byline, article.site_name, article.published) if part)
    if details:
        header += [f"*{_mark_text(details)}*", ""]
    if article.final_url:  # HTML read from stdin may have no address
        header += [f"<{visible_url(article.final_url)}>", ""]
    return without_controls(_escape_marks("\n".join(header) + "\n" + body + "\n"))


def plain_text(article: Article) -> Body:
    """The article's words alone, unwrapped: JSON's `text` field, the one extraction quality is measured on.

    No reference numbers, rules under headings or image descriptions: those are the page's furniture in
    text form (the text and Markdown formats keep them).
    """
    return layout_body(article, width=0, references=False, underline=False, images=False)


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
        "word_count": len(re.findall(r"\w+", body.text)),
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
