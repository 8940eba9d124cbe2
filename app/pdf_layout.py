"""Read a PDF's text as an article: PDFium places the characters, this module finds their lines, their order,
paragraphs and headings. pdfminer.six walks the document's objects first, to measure what decoding will cost
and to read the metadata, and reads the text itself where PDFium loses it.

Runs inside the child process app/pdf.py starts: everything here may be slow or fail on a hostile file, and
the child's limits are what bound it.
"""

from __future__ import annotations

import ctypes
import io
import math
import re
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import lxml.etree
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import LAParams, LTAnno, LTChar, LTComponent, LTFigure, LTTextBox, LTTextLine, LTTextLineVertical
from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import LITERALS_FLATE_DECODE, PDFStream, resolve1
from pdfminer.utils import decode_text

from app.errors import BadRequest, EncryptedPdf, NoTextLayer, PdfError, PdfTooLarge
from app.pdf import PDF_SIGNATURE, Block, Reading, Run

# Characters are one line when their boxes overlap by half the lower one's height (across, for vertical writing)
# and the gap between them is under CHAR_MARGIN times the type size (pdfminer.six's LAParams say the same, in
# character widths); a gap over WORD_MARGIN of the size is a space between words.
LINE_OVERLAP = 0.5
CHAR_MARGIN = 1.0
WORD_MARGIN = 0.25
PDFIUM_HYPHEN, HYPHEN = 0x02, ord("-")  # PDFium gives 0x02 for a hyphen at a line's end (FPDFText_IsHyphen)
SPACE_CODES = frozenset({0x09, 0x0A, 0x0D, 0x20, 0xA0})
FONT_NAME_BYTES = 256
BOLD_WEIGHT = 600  # the font descriptor's weight from which a face is bold (400 is regular, 700 bold)
FIXED_PITCH, FORCE_BOLD = 1 << 0, 1 << 18  # font descriptor flags (ISO 32000-1, 9.8.2)
MAX_LINKS = 1000  # links read on a page at most
MAX_OBJECTS_CHECKED = 5000  # a page's objects looked at for lost text
MAX_FONTS_CHECKED = 100  # a page's fonts looked at for one PDFium may lose text in
MAX_URI_BYTES = 8192
# Text PDFs decode to 3 to 9 times their size (content streams, fonts, CMaps; measured on Chromium's and
# the sample files): a file of up to max_bytes may decode to this many times max_bytes, and no more.
DECODED_PER_BYTE = 10
CHUNK = 64 * 1024  # what a Flate stream is inflated by while it is measured
# Lines this close to the top or bottom edge (a share of the page's height) may be running headers or footers:
# LaTeX sets its page numbers 12% of the height from the bottom edge.
MARGIN_BAND = 0.15
# "3", "- 3 -", "Page 3 of 9", "3/9", "iv" (a Roman numeral to 399, so that "civil" is not one).
PAGE_NUMBER_RE = re.compile(
    r"^[-–—\s]*(?:page\s*)?(?:\d+|(?=[ivxlc])c{0,3}(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3}))(?:\s*(?:of|/)\s*\d+)?[-–—\s]*$",
    re.IGNORECASE,
)
BULLETS = frozenset("•◦▪▫●○■□‣⁃–-*·")
# A numbered list item's label at a line's start: "1.", "2)", "(3)", "a.", "b)", "(c)", "iv.", "(ii)".
LIST_LABEL_RE = re.compile(r"^\(?(?:(\d{1,3})|([a-z]|[ivx]{1,5}))[.)]\s+(?=\S)")
ROMAN = {"i": 1, "v": 5, "x": 10}
LIST_KINDS = frozenset({"li", "ol"})  # a bulleted list's item, a numbered one's
BOLD_RE = re.compile(r"bold|black|heavy|semibold|demi|cmbx|\bbd\b", re.IGNORECASE)
MONO_RE = re.compile(r"mono|courier|consol|cmtt|sftt|typewriter|menlo|inconsolata|code", re.IGNORECASE)
LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
WORD_RE = re.compile(r"\w+")
# Where typesetters break a URL (LaTeX's url package: after these, never adding a hyphen).
URL_BREAKS = frozenset("/-_.?&=#%~")
URL_TAIL_RE = re.compile(r"(?:https?://|www\.)\S*$", re.IGNORECASE)
CJK_RE = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")
SENTENCE_END = tuple('.!?:;"”’)」。！？')
# A title in the document's information that names a file or a program, not the document.
NOT_A_TITLE_RE = re.compile(
    r"^(?:untitled|title|document\d*|slide \d+|microsoft (?:word|powerpoint) - .*"
    r"|.*\.(?:docx?|pdf|tex|dvi|indd|pptx?|odt|rtf|qxd|txt))$",
    re.IGNORECASE,
)
XMP_NS = {"dc": "http://purl.org/dc/elements/1.1/", "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
          "xmp": "http://ns.adobe.com/xap/1.0/"}  # fmt: skip


Box = tuple[float, float, float, float]  # x0, y0, x1, y1
Links = list[tuple[Box, str]]  # a page's link rectangles and addresses


@dataclass(frozen=True)
class Line:
    """One line of text as the page shows it: where it is, its type size and face, its runs."""

    runs: tuple[Run, ...]
    x0: float
    y0: float
    x1: float
    y1: float
    size: float
    bold: bool
    mono: bool
    vertical: bool = False

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs)


@dataclass
class PageText:
    """One page's lines of text and its height."""

    number: int
    height: float
    lines: list[Line]


def read(
    data: bytes, *, first: int = 1, last: int | None = None, max_pages: int, max_bytes: int, mark_pages: bool = False
) -> Reading:
    """Read pages first to last (1-based; all by default, at most max_pages) of the PDF in data; mark_pages puts a
    block of kind "page" where each one starts."""
    if PDF_SIGNATURE not in data[:1024]:
        raise PdfError("the file is not a PDF (it does not start with %PDF-)")
    last = first + max_pages - 1 if last is None else min(last, first + max_pages - 1)
    # pdfminer.six walks the objects (no content is interpreted) to measure the streams of the pages to be read
    # before PDFium decodes them, and reads the metadata; PDFium reads the text, some ten times faster. Pages that
    # PDFium finds and pdfminer.six does not (in a damaged page tree) are bounded by the child's memory alone.
    try:
        structure = PDFDocument(PDFParser(io.BytesIO(data)), password="")
    except PDFEncryptionError:
        raise EncryptedPdf("the PDF is password-protected") from None
    budget = Budget(DECODED_PER_BYTE * max_bytes)
    chosen: list[PDFPage] = []
    for number, page in enumerate(PDFPage.create_pages(structure), start=1):
        if number > last:
            break
        if number >= first:
            budget.charge_page(page)
            chosen.append(page)
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if error.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise EncryptedPdf("the PDF is password-protected") from None
        raise PdfError("the PDF is damaged and cannot be read") from None
    try:
        count = len(document)
        if count == 0:
            raise PdfError("the PDF has no pages")
        if first > count:
            raise BadRequest(f"pages={first}-{last} is past the end: the PDF has {count} pages")
        suspect = [_unembedded_cid_font(page) for page in chosen]
        read_pages = [
            page_text(document, index, suspect=index - first + 1 < len(suspect) and suspect[index - first + 1])
            for index in range(first - 1, min(last, count))
        ]
    finally:
        document.close()
    pages = [page for page, _ in read_pages]
    if any(lost for _, lost in read_pages) and len(chosen) == len(pages):
        pages = [miner_page_text(page, number=first + index) for index, page in enumerate(chosen)]
    title, author, created = document_metadata(structure)
    remove_running_lines(pages)
    if not any(page.lines for page in pages):
        raise NoTextLayer("the PDF has no text layer (a scan)")
    blocks = article_blocks(pages, mark_pages=mark_pages)
    return Reading(
        title=title or first_page_title(pages) or "",
        author=author,
        created=created,
        page_count=count,
        first=first,
        last=min(last, count),
        blocks=tuple(blocks),
    )


class Budget:
    """The decoded bytes a document may spend; each stream is measured before it is decoded."""

    def __init__(self, limit: int) -> None:
        self.left = limit
        self.limit = limit
        self.seen: set[int] = set()

    def charge_page(self, page: PDFPage) -> None:
        """Charge the page's content streams and those its resources bring (forms, fonts, CMaps), once each."""
        for stream in page.contents:
            self._charge(resolve1(stream))
        self._charge_resources(page.resources, depth=0)

    def _charge_resources(self, resources: Any, *, depth: int) -> None:
        resources = resolve1(resources)
        if not isinstance(resources, dict) or depth > 20:  # forms in forms in forms: pdfminer refuses loops itself
            return
        for kind in ("XObject", "Font"):
            entries = resolve1(resources.get(kind))
            if not isinstance(entries, dict):
                continue
            for value in entries.values():
                for stream in self._streams_of(value):
                    if stream.get("Subtype") is not None and getattr(stream.get("Subtype"), "name", "") == "Image":
                        continue  # images are never decoded here
                    if self._charge(stream):
                        self._charge_resources(stream.get("Resources"), depth=depth + 1)

    def _streams_of(self, value: Any) -> Iterator[PDFStream]:
        """The streams an XObject or a font holds: itself, its ToUnicode, font files and descendants' files."""
        value = resolve1(value)
        if isinstance(value, PDFStream):
            yield value
            return
        if not isinstance(value, dict):
            return
        for key in ("ToUnicode", "Encoding"):
            stream = resolve1(value.get(key))
            if isinstance(stream, PDFStream):
                yield stream
        descriptor = resolve1(value.get("FontDescriptor"))
        if isinstance(descriptor, dict):
            for key in ("FontFile", "FontFile2", "FontFile3"):
                stream = resolve1(descriptor.get(key))
                if isinstance(stream, PDFStream):
                    yield stream
        descendants = resolve1(value.get("DescendantFonts"))
        if isinstance(descendants, list):
            for descendant in descendants[:4]:
                if resolve1(descendant) is not value:
                    yield from self._streams_of(descendant)

    def _charge(self, stream: Any) -> bool:
        """Charge one stream's decoded size; False when it was charged before or is not a stream."""
        if not isinstance(stream, PDFStream) or id(stream) in self.seen:
            return False
        self.seen.add(id(stream))
        self.left -= decoded_size(stream, self.left + 1)
        if self.left < 0:
            raise PdfTooLarge(f"the PDF's content decodes to more than {self.limit:,} bytes")
        return True


def decoded_size(stream: PDFStream, limit: int) -> int:
    """The stream's size once decoded, counted up to limit: a Flate bomb is stopped at limit bytes.

    Other filters (LZW, run-length) are decoded by pdfminer unmeasured: the child's memory limit stops those.
    """
    if stream.data is not None:
        return len(stream.data)
    raw = stream.rawdata or b""
    if stream.decipher and stream.objid is not None and stream.genno is not None:
        raw = stream.decipher(stream.objid, stream.genno, raw, stream.attrs)
    filters = stream.get_filters()
    if not filters or filters[0][0] not in LITERALS_FLATE_DECODE:
        return len(raw)
    inflater = zlib.decompressobj()
    size = 0
    pending = raw
    try:
        while size <= limit and not inflater.eof:
            inflated = len(inflater.decompress(pending, CHUNK))
            pending = inflater.unconsumed_tail
            if not inflated and not pending:
                break  # the stream ends before its end: nothing more comes out
            size += inflated
    except zlib.error:
        pass  # pdfminer reads what it can of a damaged stream; what was inflated so far is what counts
    return size


def page_text(document: pdfium.PdfDocument, index: int, *, suspect: bool = False) -> tuple[PageText, bool]:
    """Page index's lines of text (PDFium's characters grouped by place), with its links on the runs they cover;
    and whether PDFium lost text there (see _lost_text; suspect: the page has a font PDFium may lose text in)."""
    page = document[index]
    try:
        rotate = page.get_rotation()
        box = page.get_bbox()
        height = box[2] - box[0] if rotate in (90, 270) else box[3] - box[1]
        links = page_links(document, page, rotate, box)
        textpage = page.get_textpage()
        tally = Tally()
        try:
            found = [line_of(chars, vertical, links) for chars, vertical in char_lines(textpage, rotate, box, tally)]
            lost = _lost_text(page, textpage, tally, suspect=suspect)
        finally:
            textpage.close()
    finally:
        page.close()
    return PageText(number=index + 1, height=height, lines=[line for line in found if line is not None]), lost


def _unembedded_cid_font(page: PDFPage) -> bool:
    """Whether the page's own fonts include a CID font that is not embedded (a Type0 font whose descendant has no
    font file, as Japanese ones named after a printer's font are): PDFium loses text set in some."""
    resources = resolve1(page.resources)
    fonts = resolve1(resources.get("Font")) if isinstance(resources, dict) else None
    if not isinstance(fonts, dict):
        return False
    for value in list(fonts.values())[:MAX_FONTS_CHECKED]:
        font = resolve1(value)
        if not isinstance(font, dict) or getattr(resolve1(font.get("Subtype")), "name", "") != "Type0":
            continue
        descendants = resolve1(font.get("DescendantFonts"))
        descendant = resolve1(descendants[0]) if isinstance(descendants, list) and descendants else None
        descriptor = resolve1(descendant.get("FontDescriptor")) if isinstance(descendant, dict) else None
        if not isinstance(descriptor, dict) or not any(
            key in descriptor for key in ("FontFile", "FontFile2", "FontFile3")
        ):
            return True
    return False


@dataclass
class Tally:
    """The characters PDFium gave for a page, and how many of them it could not map to Unicode."""

    chars: int = 0
    unmapped: int = 0


def _lost_text(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, tally: Tally, *, suspect: bool) -> bool:
    """Whether PDFium lost the page's text: most characters are in fonts it cannot map to Unicode (no ToUnicode,
    no standard encoding: contrib-issue-791-non-unicode-cmap.pdf), or, on a suspect page (_unembedded_cid_font),
    a text object moves the pen further than its type size yet gives no character (jo.pdf, simple3.pdf). Other
    pages are not searched so: Chromium writes a text object every glyph or few, some 3 ms a page to look at."""
    if tally.unmapped > tally.chars / 2:
        return True
    if not suspect:
        return False
    raw = textpage.raw
    left, bottom, right, top, size = (ctypes.c_float() for _ in range(5))
    for index in range(min(pdfium_c.FPDFPage_CountObjects(page.raw), MAX_OBJECTS_CHECKED)):
        item = pdfium_c.FPDFPage_GetObject(page.raw, index)
        if pdfium_c.FPDFPageObj_GetType(item) != pdfium_c.FPDF_PAGEOBJ_TEXT:
            continue
        if not pdfium_c.FPDFPageObj_GetBounds(item, left, bottom, right, top):
            continue
        width, height = right.value - left.value, top.value - bottom.value
        if min(width, height) > 0 or not pdfium_c.FPDFTextObj_GetFontSize(item, size):
            continue
        if max(width, height) > size.value and pdfium_c.FPDFTextObj_GetText(item, raw, None, 0) <= 2:
            return True  # two bytes: the UTF-16 terminator alone
    return False


@dataclass(frozen=True)
class Char:
    """One character as PDFium placed it, in the layout's coordinates, and whether a space comes before it."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float
    bold: bool
    mono: bool
    space: bool


def char_lines(textpage: pdfium.PdfTextPage, rotate: int, box: Box, tally: Tally) -> Iterator[tuple[list[Char], bool]]:
    """The page's characters in PDFium's order (the content's), cut into lines where one is not beside the one
    before it (to its right, or under it in vertical writing); each line with whether it is vertical. The
    characters are counted in tally, and those whose font PDFium cannot map to Unicode."""
    raw = textpage.raw
    rect = pdfium_c.FS_RECTF()
    matrix = pdfium_c.FS_MATRIX()
    flags = ctypes.c_int()
    name = ctypes.create_string_buffer(FONT_NAME_BYTES)
    faces: dict[tuple[bytes, int, int], tuple[bool, bool, bool]] = {}  # bold, mono, unmapped
    line: list[Char] = []
    direction = ""  # the line's, once it has two characters
    space = False
    for index in range(pdfium_c.FPDFText_CountChars(raw)):
        code = pdfium_c.FPDFText_GetUnicode(raw, index)
        if code in SPACE_CODES:
            space = True  # a space in the text, or one PDFium put in a gap between words, or at a line's end
            continue
        pdfium_c.FPDFText_GetFontInfo(raw, index, name, FONT_NAME_BYTES, flags)
        face = (name.value, flags.value, pdfium_c.FPDFText_GetFontWeight(raw, index))
        if face not in faces:  # one font maps all its characters or none: its first one tells
            faces[face] = (*_face(*face), pdfium_c.FPDFText_HasUnicodeMapError(raw, index) == 1)
        bold, mono, unmapped = faces[face]
        tally.chars += 1
        tally.unmapped += unmapped or code == 0
        code = HYPHEN if code == PDFIUM_HYPHEN else code
        if code < 32 or code >= 0xFFFE or not pdfium_c.FPDFText_GetLooseCharBox(raw, index, rect):
            continue
        x0, y0 = _rotated(rect.left, rect.bottom, rotate, box)
        x1, y1 = _rotated(rect.right, rect.top, rotate, box)
        # The type size as set (Tf), scaled by the text and page matrices as pdfminer.six's LTChar.size is.
        size = pdfium_c.FPDFText_GetFontSize(raw, index)
        if pdfium_c.FPDFText_GetMatrix(raw, index, matrix):
            size *= math.hypot(matrix.c, matrix.d)
        char = Char(chr(code), min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1), size, bold, mono, space)
        space = False
        if line:
            beside = _beside(line[-1], char)
            if beside and direction in ("", beside):
                direction = beside
                line.append(char)
                continue
            yield line, direction == "down"
        line, direction = [char], ""
    if line:
        yield line, direction == "down"


def _face(name: bytes, flags: int, weight: int) -> tuple[bool, bool]:
    """Whether a font is bold and whether it is monospaced, by its weight, its flags and its name."""
    font = name.decode("latin-1")
    bold = weight >= BOLD_WEIGHT or bool(flags & FORCE_BOLD) or bool(BOLD_RE.search(font))
    return bold, bool(flags & FIXED_PITCH) or bool(MONO_RE.search(font))


def _beside(before: Char, char: Char) -> str:
    """Where char goes on from before: "right" along a line, "down" in vertical writing, "up" in text turned a
    quarter left (a table's column heads), or "" when it starts a line of its own."""
    size = max(before.size, char.size, 1.0)
    overlap = min(before.y1, char.y1) - max(before.y0, char.y0)
    if overlap > LINE_OVERLAP * min(before.y1 - before.y0, char.y1 - char.y0):
        return "right" if -LINE_OVERLAP * size < char.x0 - before.x1 < CHAR_MARGIN * size else ""
    across = min(before.x1, char.x1) - max(before.x0, char.x0)
    if across > LINE_OVERLAP * min(before.x1 - before.x0, char.x1 - char.x0):
        if -LINE_OVERLAP * size < before.y0 - char.y1 < CHAR_MARGIN * size:
            return "down"
        if -LINE_OVERLAP * size < char.y0 - before.y1 < CHAR_MARGIN * size:
            return "up"
    return ""


def line_of(chars: list[Char], vertical: bool, links: Links) -> Line | None:
    """A line's runs (the characters under one link together), its type size and face; None when blank."""
    runs: list[Run] = []
    sizes: Counter[float] = Counter()
    for position, char in enumerate(chars):
        href = _link_at((char.x0 + char.x1) / 2, (char.y0 + char.y1) / 2, links) if links else ""
        # A space where the text has one, or in a gap a word space wide (PDFium puts none in some).
        gap = position > 0 and not vertical and char.x0 - chars[position - 1].x1 > WORD_MARGIN * char.size
        text = (" " if position > 0 and (char.space or gap) else "") + char.text
        if runs and runs[-1].href == href:
            runs[-1] = Run(runs[-1].text + text, href)
        else:
            runs.append(Run(text, href))
        sizes[round(char.size, 1)] += 1
    runs = [replace(run, text=run.text.translate(LIGATURES)) for run in runs]
    if not "".join(run.text for run in runs).strip():
        return None
    bold = sum(char.bold for char in chars) > len(chars) / 2
    mono = sum(char.mono for char in chars) > len(chars) / 2
    x0, y0 = min(char.x0 for char in chars), min(char.y0 for char in chars)
    x1, y1 = max(char.x1 for char in chars), max(char.y1 for char in chars)
    return Line(tuple(runs), x0, y0, x1, y1, sizes.most_common(1)[0][0], bold, mono, vertical)


def page_links(document: pdfium.PdfDocument, page: pdfium.PdfPage, rotate: int, box: Box) -> Links:
    """The page's URI links with their rectangles in the layout's coordinates. Other actions are never read."""
    links: Links = []
    position = ctypes.c_int(0)
    link = pdfium_c.FPDF_LINK()
    rect = pdfium_c.FS_RECTF()
    uri = ctypes.create_string_buffer(MAX_URI_BYTES)
    while len(links) < MAX_LINKS and pdfium_c.FPDFLink_Enumerate(page.raw, position, link):
        action = pdfium_c.FPDFLink_GetAction(link)
        if not action or pdfium_c.FPDFAction_GetType(action) != pdfium_c.PDFACTION_URI:
            continue
        if not pdfium_c.FPDFLink_GetAnnotRect(link, rect):
            continue
        length = pdfium_c.FPDFAction_GetURIPath(document.raw, action, uri, MAX_URI_BYTES)
        if not 0 < length <= MAX_URI_BYTES:
            continue  # none, or longer than a link a reader would follow
        href = uri.value.decode("utf-8", "replace").strip()
        if not href.lower().startswith(("http://", "https://", "mailto:")):
            continue
        corners = [_rotated(x, y, rotate, box) for x, y in ((rect.left, rect.bottom), (rect.right, rect.top))]
        xs, ys = [c[0] for c in corners], [c[1] for c in corners]
        links.append(((min(xs), min(ys), max(xs), max(ys)), href))
    return links


def _rotated(x: float, y: float, rotate: int, box: Box) -> tuple[float, float]:
    """A point of the page in the layout's coordinates: the page turned by its /Rotate, as a viewer shows it."""
    x0, y0, x1, y1 = box
    if rotate == 90:
        return y - y0, x1 - x
    if rotate == 180:
        return x1 - x, y1 - y
    if rotate == 270:
        return y1 - y, x - x0
    return x - x0, y - y0


def _link_at(x: float, y: float, links: Links) -> str:
    for (x0, y0, x1, y1), href in links:
        if x0 <= x <= x1 and y0 <= y <= y1:
            return href
    return ""


# pdfminer.six's own reading, for the documents whose text PDFium loses (see _lost_text): some four times slower.
# pdfminer's defaults, except: no hierarchical grouping of boxes (boxes_flow=None), which is quadratic in the
# boxes of a page and orders columns worse than the cut below; vertical writing detected (CJK).
LAPARAMS = LAParams(boxes_flow=None, detect_vertical=True, all_texts=True)


def miner_page_text(page: PDFPage, *, number: int) -> PageText:
    """The page's lines of text as pdfminer.six's layout analysis finds them, with the page's links on them."""
    resources = PDFResourceManager(caching=True)
    device = PDFPageAggregator(resources, laparams=LAPARAMS)
    PDFPageInterpreter(resources, device).process_page(page)
    layout = device.get_result()
    links = miner_page_links(page)
    found = (miner_line_of(element, links) for element in miner_text_lines(layout, area=layout.width * layout.height))
    return PageText(number=number, height=layout.height, lines=[line for line in found if line is not None])


def miner_text_lines(container: Iterable[LTComponent], *, area: float) -> Iterator[LTTextLine]:
    """The text lines of a page, and of its figures when a figure is a large part of the page.

    pdfminer's boxes are not used: a justified line's wide spaces break it into pieces, which the boxes then
    gather across lines. Small figures are charts and diagrams: their labels ("0 2 4 6 8") are not the article.
    """
    for element in container:
        if isinstance(element, LTTextBox):
            yield from (line for line in element if isinstance(line, LTTextLine))
        elif isinstance(element, LTFigure) and element.width * element.height > area / 3:
            yield from miner_text_lines(element, area=area)


def miner_line_of(element: LTTextLine, links: Links) -> Line | None:
    """A line's runs (the characters under one link together), its type size and face; None when blank."""
    pieces: list[tuple[str, str]] = []
    sizes: Counter[float] = Counter()
    bold = mono = 0
    href = ""
    for item in element:
        if isinstance(item, LTChar):
            text = item.get_text()
            href = _link_at((item.x0 + item.x1) / 2, (item.y0 + item.y1) / 2, links)
            sizes[round(item.size, 1)] += 1
            bold += bool(BOLD_RE.search(item.fontname))
            mono += bool(MONO_RE.search(item.fontname))
        elif isinstance(item, LTAnno):
            text = item.get_text()  # a space pdfminer put between words, or the line's end
        else:
            continue
        pieces.append((text.replace("\n", ""), href))
    runs: list[Run] = []
    for text, link in pieces:
        if runs and runs[-1].href == link:
            runs[-1] = Run(runs[-1].text + text, link)
        else:
            runs.append(Run(text, link))
    runs = [replace(run, text=run.text.translate(LIGATURES)) for run in runs if run.text]
    if not runs or not "".join(run.text for run in runs).strip() or not sizes:
        return None
    chars = sum(sizes.values())
    size = sizes.most_common(1)[0][0]
    vertical = isinstance(element, LTTextLineVertical)
    bold_line, mono_line = bold > chars / 2, mono > chars / 2
    return Line(tuple(runs), element.x0, element.y0, element.x1, element.y1, size, bold_line, mono_line, vertical)


def miner_page_links(page: PDFPage) -> Links:
    """The page's URI links with their rectangles in the layout's coordinates. Other actions are never read."""
    links: Links = []
    annotations = resolve1(page.annots)
    if not isinstance(annotations, list):
        return []
    x0, y0, x1, y1 = page.mediabox
    for value in annotations[:MAX_LINKS]:
        annotation = resolve1(value)
        if not isinstance(annotation, dict) or getattr(resolve1(annotation.get("Subtype")), "name", "") != "Link":
            continue
        action = resolve1(annotation.get("A"))
        if not isinstance(action, dict) or getattr(resolve1(action.get("S")), "name", "") != "URI":
            continue
        uri = resolve1(action.get("URI"))
        rect = resolve1(annotation.get("Rect"))
        if not isinstance(uri, bytes) or not isinstance(rect, list) or len(rect) != 4:
            continue
        try:
            ax0, ay0, ax1, ay1 = (float(resolve1(number)) for number in rect)
        except (TypeError, ValueError):
            continue
        href = uri.decode("utf-8", "replace").strip()
        if not href.lower().startswith(("http://", "https://", "mailto:")):
            continue
        corners = [_rotated(x, y, page.rotate, (x0, y0, x1, y1)) for x, y in ((ax0, ay0), (ax1, ay1))]
        xs, ys = [c[0] for c in corners], [c[1] for c in corners]
        links.append(((min(xs), min(ys), max(xs), max(ys)), href))
    return links


def remove_running_lines(pages: list[PageText]) -> None:
    """Drop running headers and footers: lines near the top or bottom edge that repeat on at least half the
    pages (digits aside, so "Page 3 of 9" repeats), and page numbers there on any page."""
    seen: Counter[str] = Counter()
    for page in pages:
        seen.update({_running_key(line.text) for line in _edge_lines(page)})
    repeated = {key for key, count in seen.items() if count >= max(2, len(pages) / 2)}
    for page in pages:
        running = {
            id(line)
            for line in _edge_lines(page)
            if _running_key(line.text) in repeated or PAGE_NUMBER_RE.match(line.text.strip())
        }
        page.lines = [line for line in page.lines if id(line) not in running]


def _edge_lines(page: PageText) -> list[Line]:
    band = page.height * MARGIN_BAND
    return [line for line in page.lines if line.y0 > page.height - band or line.y1 < band]


def _running_key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.lower().split()))


def reading_order(lines: list[Line], *, gap: float, depth: int = 0) -> list[Line]:
    """Lines in reading order by recursive cuts: at a vertical gap that runs the region's whole height (columns,
    left to right), else at its widest horizontal gaps (top to bottom); vertical writing right to left.

    Every gap as wide as the widest is cut at once, so evenly spaced lines take one step, not one each.
    """
    if len(lines) <= 1:
        return lines
    if len(lines) > 3000 or depth > 50:  # thousands of scattered fragments: top to bottom is all there is to say
        return sorted(lines, key=lambda line: (-round(line.y1), line.x0))
    vertical = sum(line.vertical for line in lines) > len(lines) / 2
    cuts = [] if vertical else _widest_gaps([(line.x0, line.x1) for line in lines], minimum=gap)
    if cuts:  # columns, left to right
        return [
            ordered
            for low, high in zip([-math.inf, *cuts], [*cuts, math.inf], strict=True)
            for ordered in reading_order([line for line in lines if low < line.x1 <= high], gap=gap, depth=depth + 1)
        ]
    cuts = _widest_gaps([(line.y0, line.y1) for line in lines], minimum=0.0)
    if cuts:  # strips, top to bottom
        return [
            ordered
            for low, high in reversed(list(zip([-math.inf, *cuts], [*cuts, math.inf], strict=True)))
            for ordered in reading_order([line for line in lines if low <= line.y0 < high], gap=gap, depth=depth + 1)
        ]
    if vertical:
        return sorted(lines, key=lambda line: (-line.x1, -line.y1))
    return sorted(lines, key=lambda line: line.x0)


def merged_fragments(lines: list[Line]) -> list[Line]:
    """Lines in reading order with the pieces of one printed line (split at wide justified spaces) made one."""
    merged: list[Line] = []
    for line in lines:
        before = merged[-1] if merged else None
        if (
            before is not None
            and not line.vertical
            and not before.vertical
            and abs(line.y0 - before.y0) < 0.3 * max(line.size, before.size)
            and line.x0 >= before.x1 - 0.5
            and line.mono == before.mono
        ):
            merged[-1] = replace(before, runs=(*_trimmed(before.runs), Run(" "), *_trimmed(line.runs)), x1=line.x1)
        else:
            merged.append(line)
    return merged


def _widest_gaps(spans: list[tuple[float, float]], *, minimum: float) -> list[float]:
    """The middles of the widest empty stretches between the spans (wider than minimum; ties within 1 pt), in order."""
    ordered = sorted(spans)
    gaps: list[tuple[float, float]] = []
    reach = ordered[0][1]
    for start, end in ordered[1:]:
        if start - reach > minimum:
            gaps.append((reach, start))
        reach = max(reach, end)
    if not gaps:
        return []
    widest = max(high - low for low, high in gaps)
    return [(low + high) / 2 for low, high in gaps if high - low >= widest - 1.0]


def article_blocks(pages: list[PageText], *, mark_pages: bool = False) -> list[Block]:
    """The article's blocks: paragraphs re-flowed, headings by type size and weight, lists, code; and, with
    mark_pages, a block of kind "page" where each page starts (a paragraph is not joined across it then)."""
    lines = [line for page in pages for line in page.lines]
    body = _body_size(lines)
    vocabulary = Counter(word.lower() for line in lines for word in WORD_RE.findall(line.text))
    heading_sizes = sorted({round(line.size) for line in lines if line.size >= body * 1.2}, reverse=True)[:4]
    blocks: list[tuple[str, list[Run], int, str]] = []  # each block's kind, runs (appended to in place), number, style
    previous: tuple[str, Line, float] | None = None  # the block being written: its kind, last line, first line's x0
    for page in pages:
        if mark_pages:
            blocks.append(("page", [], page.number, ""))
            previous = None
        for line in merged_fragments(reading_order(page.lines, gap=body)):
            kind = _kind(line, body, heading_sizes)
            if previous is None or _starts_block(kind, line, previous):
                number, style = 0, ""
                if kind == "li" and line.text.strip()[:1] in BULLETS:
                    line = replace(line, runs=_strip_start(line.runs, 1))
                elif kind == "ol":
                    before = blocks[-1] if blocks and blocks[-1][0] == "ol" else None
                    number, style, length = list_label(line.text.strip(), before[2:] if before else None)
                    line = replace(line, runs=_strip_start(line.runs, length))
                blocks.append((kind, list(_trimmed(line.runs)), number, style))
                previous = (kind, line, line.x0)
            else:
                _join(blocks[-1][1], previous[1], line, vocabulary, previous[0])
                previous = (previous[0], line, previous[2])
    return [
        Block(kind, tuple(runs), number, style)
        for kind, runs, number, style in blocks
        if kind == "page" or "".join(run.text for run in runs).strip()
    ]


def list_label(text: str, before: tuple[int, str] | None) -> tuple[int, str, int]:
    """A numbered item's number, its style as HTML's <ol type> has it ("1", "a" or "i") and its label's length.

    "i", "v" and "x" are letters after the item lettered just before them, else Roman numerals.
    """
    match = LIST_LABEL_RE.match(text)
    assert match is not None  # _kind said it was a numbered item
    digits, letters = match.group(1), match.group(2)
    if digits:
        return int(digits), "1", match.end()
    if len(letters) == 1 and (letters not in ROMAN or before == (ord(letters) - ord("a"), "a")):
        return ord(letters) - ord("a") + 1, "a", match.end()
    return roman_number(letters), "i", match.end()


def roman_number(numeral: str) -> int:
    """The value of a lower-case Roman numeral ("iv" is 4)."""
    values = [ROMAN[char] for char in numeral]
    return sum(-value if value < after else value for value, after in zip(values, [*values[1:], 0], strict=True))


def _body_size(lines: list[Line]) -> float:
    """The type size most of the text is set in."""
    sizes: Counter[float] = Counter()
    for line in lines:
        sizes[round(line.size)] += len(line.text)
    return float(sizes.most_common(1)[0][0]) if sizes else 10.0


def _kind(line: Line, body: float, heading_sizes: list[int]) -> str:
    text = line.text.strip()
    if round(line.size) in heading_sizes and len(text) <= 200:
        return f"h{heading_sizes.index(round(line.size)) + 1}"
    if line.bold and abs(line.size - body) <= body * 0.2 and len(text) <= 100 and not text.endswith("."):
        return f"h{min(6, len(heading_sizes) + 2)}"
    if line.mono:
        return "pre"
    if text[:1] in BULLETS and text[1:2].isspace():
        return "li"
    if LIST_LABEL_RE.match(text):
        return "ol"
    return "p"


def _starts_block(kind: str, line: Line, previous: tuple[str, Line, float] | None) -> bool:
    """Whether a line starts a new block, or goes on with the one before it."""
    if previous is None:
        return True
    before_kind, before, block_x0 = previous
    if kind in LIST_KINDS or (kind != before_kind and not (before_kind in LIST_KINDS and kind == "p")):
        return True
    if line.vertical:  # vertical writing marks a paragraph with an ideographic space
        return line.text.startswith("\u3000")
    space = before.y0 - line.y1  # between this line's top and the bottom of the one before
    if space < -0.5 * line.size or space > 0.6 * line.size:
        # Another column or page, or space between paragraphs: the same paragraph only when it was cut mid-sentence.
        text = line.text.lstrip()
        return kind != "p" or before.text.rstrip().endswith(SENTENCE_END) or not text[:1].islower()
    if kind == "pre":
        return False
    if before_kind in LIST_KINDS:  # a list item's next lines hang under its text; a line under its label is new
        return line.x0 <= block_x0 + line.size / 2
    # A first-line indent starts a paragraph (typeset text without space between paragraphs).
    return kind == "p" and line.x0 - before.x0 > line.size


def _join(runs: list[Run], before: Line, line: Line, vocabulary: Counter[str], kind: str) -> None:
    """Join line onto the block's runs, whose last line is before: a space, nothing (CJK, URLs), or a hyphen undone.

    Only the last run and the line before are looked at, so a paragraph of any length is joined in linear time.
    """
    if kind == "pre":
        runs.extend((Run("\n"), *line.runs))
        return
    while runs and not runs[-1].text.rstrip():
        runs.pop()
    if runs:
        runs[-1] = replace(runs[-1], text=runs[-1].text.rstrip())
    head, tail = before.text.rstrip(), line.text.lstrip()
    following = _trimmed(line.runs)
    if not runs or not head or not tail:
        runs.extend(following)
        return
    last_word = head.split()[-1]
    if head.endswith("\u00ad"):  # a soft hyphen: where the word was broken, never part of it
        _drop_last_character(runs)
    elif URL_TAIL_RE.search(last_word) and last_word[-1] in URL_BREAKS:
        pass  # a URL broken across lines: joined as it is, hyphen kept
    elif head[-1] in "-\u2010" and len(head) > 1 and head[-2].isalpha() and tail[:1].islower():
        start, end = WORD_RE.findall(last_word), WORD_RE.findall(tail)
        if start and end and vocabulary[(start[-1] + end[0]).lower()] > 0:
            _drop_last_character(runs)
    elif not (CJK_RE.match(head[-1]) and CJK_RE.match(tail[0])):
        runs.append(Run(" "))
    runs.extend(following)


def _drop_last_character(runs: list[Run]) -> None:
    runs[-1] = replace(runs[-1], text=runs[-1].text[:-1])


def _trimmed(runs: tuple[Run, ...]) -> tuple[Run, ...]:
    """Runs without the line's leading and trailing white space."""
    items = [run for run in runs if run.text]
    if not items:
        return ()
    items[0] = replace(items[0], text=items[0].text.lstrip())
    items[-1] = replace(items[-1], text=items[-1].text.rstrip())
    return tuple(run for run in items if run.text)


def _strip_start(runs: tuple[Run, ...], count: int) -> tuple[Run, ...]:
    items = list(_trimmed(runs))
    items[0] = replace(items[0], text=items[0].text[count:])
    return _trimmed(tuple(items))


def first_page_title(pages: list[PageText]) -> str:
    """The first page's largest type, its first lines of that size: a title when the information has none."""
    lines = pages[0].lines if pages else []
    if not lines:
        return ""
    largest = max(round(line.size) for line in lines)
    if largest <= _body_size(lines):
        return ""
    ordered = sorted((line for line in lines if round(line.size) == largest), key=lambda line: -line.y1)
    title = [ordered[0].text.strip()]
    for line in ordered[1:3]:
        if line.y1 < ordered[0].y0 - 3 * line.size:
            break
        title.append(line.text.strip())
    return " ".join(title)[:300]


def document_metadata(document: PDFDocument) -> tuple[str, str, str]:
    """Title, author and creation day from the document information, else its XMP metadata."""
    info: dict[str, str] = {}
    for entries in document.info:
        for key in ("Title", "Author", "CreationDate"):
            if key not in info:
                value = _text(entries.get(key))
                if value:
                    info[key] = value
    xmp = _xmp(document)
    title = next((t for t in (info.get("Title", ""), xmp.get("title", "")) if is_real_title(t)), "")
    author = info.get("Author") or xmp.get("creator", "")
    created = pdf_date(info.get("CreationDate", "")) or xmp.get("created", "")[:10]
    return title, author[:200], created


def is_real_title(title: str) -> bool:
    """A title a person gave the document, not a file name, a program's placeholder or a number."""
    title = title.strip()
    return len(title) >= 3 and not title.isdigit() and not NOT_A_TITLE_RE.match(title)


def pdf_date(value: str) -> str:
    """A PDF date (D:YYYYMMDDHHmmSS...) as YYYY-MM-DD, or "" when it is not one."""
    match = re.match(r"^(?:D:)?(\d{4})(\d{2})?(\d{2})?", value.strip())
    if not match or not 1000 <= int(match.group(1)) <= 9999:
        return ""
    year, month, day = match.group(1), match.group(2) or "01", match.group(3) or "01"
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        return year
    return f"{year}-{month}-{day}"


def _text(value: Any) -> str:
    value = resolve1(value)
    if isinstance(value, bytes):
        return " ".join(decode_text(value).replace("\x00", "").split())
    if isinstance(value, str):
        return " ".join(value.split())
    return ""


# Entities are never resolved and nothing is fetched: the XMP packet is the PDF author's XML.
XML_PARSER = lxml.etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)


def _xmp(document: PDFDocument) -> dict[str, str]:
    """Title, creator and creation date from the catalog's XMP metadata stream."""
    stream = resolve1(document.catalog.get("Metadata"))
    if not isinstance(stream, PDFStream) or decoded_size(stream, 1024 * 1024) > 1024 * 1024:
        return {}
    try:
        root = lxml.etree.fromstring(stream.get_data(), XML_PARSER)
    except (lxml.etree.XMLSyntaxError, ValueError):
        return {}
    if root is None:
        return {}
    found = {}
    for name, path in (
        ("title", ".//dc:title//rdf:li"),
        ("creator", ".//dc:creator//rdf:li"),
        ("created", ".//xmp:CreateDate"),
    ):
        element = root.find(path, XMP_NS)
        text = " ".join((element.text or "").split()) if element is not None else ""
        if not text and name == "created":
            text = str(root.xpath("string(//@xmp:CreateDate)", namespaces=XMP_NS))
        if text:
            found[name] = text
    return found
