"""Small PDFs of known text, written byte by byte (PDF 1.7, ISO 32000-1), for the PDF tests.

Text is set in the standard 14 fonts (Helvetica, Helvetica-Bold, Courier), whose metrics every reader
has, so the tests know where each word is. Each object is listed in a classic xref table with its offset.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

FONTS = {"F1": "Helvetica", "F2": "Helvetica-Bold", "F3": "Courier"}
WIDTH, HEIGHT = 612, 792


@dataclass(frozen=True)
class Text:
    """One line of text at (x, y), the baseline's start, in points from the bottom left."""

    x: float
    y: float
    text: str
    size: float = 11
    font: str = "F1"


@dataclass(frozen=True)
class Link:
    """A URI link annotation over a rectangle (x0, y0, x1, y1)."""

    rect: tuple[float, float, float, float]
    uri: str


@dataclass
class Page:
    """A page's lines, links and any raw content or resources a hostile test needs."""

    texts: Sequence[Text] = ()
    links: Sequence[Link] = ()
    raw_content: bytes | None = None  # replaces the content made from texts
    extra: str = ""  # more entries in the page dictionary


@dataclass
class Document:
    """Objects numbered from 1, added in order; write() gives the file."""

    objects: list[bytes] = field(default_factory=list)

    def add(self, body: bytes | str) -> int:
        self.objects.append(body.encode("latin-1") if isinstance(body, str) else body)
        return len(self.objects)

    def reserve(self) -> int:
        self.objects.append(b"")
        return len(self.objects)

    def set(self, number: int, body: bytes | str) -> None:
        self.objects[number - 1] = body.encode("latin-1") if isinstance(body, str) else body

    def write(self, *, root: int, info: int | None = None, header: bytes = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n") -> bytes:
        out = bytearray(header)
        offsets = []
        for number, body in enumerate(self.objects, start=1):
            offsets.append(len(out))
            out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
        xref = len(out)
        out += f"xref\n0 {len(self.objects) + 1}\n0000000000 65535 f \n".encode()
        out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
        trailer = f"<< /Size {len(self.objects) + 1} /Root {root} 0 R" + (f" /Info {info} 0 R" if info else "")
        out += f"trailer\n{trailer} >>\nstartxref\n{xref}\n%%EOF\n".encode()
        return bytes(out)


def stream(data: bytes, *, compress: bool = False, extra: str = "") -> bytes:
    """A stream object's bytes, Flate-compressed when asked."""
    if compress:
        data = zlib.compress(data)
        extra += " /Filter /FlateDecode"
    return f"<< /Length {len(data)}{extra} >>\nstream\n".encode() + data + b"\nendstream"


def literal(text: str) -> str:
    """A PDF literal string in WinAnsiEncoding, with its delimiters escaped."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return "(" + escaped + ")"


def content(texts: Sequence[Text]) -> bytes:
    """A content stream that shows each text at its place."""
    parts = [f"BT /{t.font} {t.size} Tf 1 0 0 1 {t.x} {t.y} Tm {literal(t.text)} Tj ET" for t in texts]
    return "\n".join(parts).encode("cp1252")


def make_pdf(
    pages: Sequence[Page],
    *,
    info: dict[str, str] | None = None,
    compress: bool = False,
    catalog_extra: str = "",
    attachments: dict[str, bytes] | None = None,
) -> bytes:
    """A PDF of these pages, with a document information dictionary when info is given and embedded files."""
    document = Document()
    fonts = " ".join(
        f"/{name} {document.add(f'<< /Type /Font /Subtype /Type1 /BaseFont /{base} /Encoding /WinAnsiEncoding >>')} 0 R"
        for name, base in FONTS.items()
    )
    tree = document.reserve()
    kids = []
    for page in pages:
        body = page.raw_content if page.raw_content is not None else content(page.texts)
        contents = document.add(stream(body, compress=compress))
        annotations = [
            document.add(
                f"<< /Type /Annot /Subtype /Link /Rect [{' '.join(map(str, link.rect))}] /Border [0 0 0]"
                f" /A << /S /URI /URI {literal(link.uri)} >> >>"
            )
            for link in page.links
        ]
        annots = f" /Annots [{' '.join(f'{a} 0 R' for a in annotations)}]" if annotations else ""
        kids.append(
            document.add(
                f"<< /Type /Page /Parent {tree} 0 R /MediaBox [0 0 {WIDTH} {HEIGHT}] /Contents {contents} 0 R"
                f" /Resources << /Font << {fonts} >> >>{annots}{page.extra} >>"
            )
        )
    document.set(tree, f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>")
    names = []
    for name, data in (attachments or {}).items():
        embedded = document.add(stream(data, extra=" /Type /EmbeddedFile"))
        names.append(f"{literal(name)} << /Type /Filespec /F {literal(name)} /EF << /F {embedded} 0 R >> >>")
    if names:
        catalog_extra += f" /Names << /EmbeddedFiles << /Names [{' '.join(names)}] >> >>"
    root = document.add(f"<< /Type /Catalog /Pages {tree} 0 R{catalog_extra} >>")
    info_number = None
    if info:
        entries = " ".join(f"/{key} {literal(value)}" for key, value in info.items())
        info_number = document.add(f"<< {entries} >>")
    return document.write(root=root, info=info_number)


def paragraph(text: str, *, x: float, y: float, chars: int, size: float = 11, font: str = "F1") -> list[Text]:
    """Text wrapped at chars characters a line, from (x, y) down, 1.3 times the size apart."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return [Text(x, y - index * size * 1.3, line, size, font) for index, line in enumerate(lines)]


INFO = {"Title": "Owls at night", "Author": "Ada Owl", "CreationDate": "D:20240501120000+02'00'"}


def owls_pdf() -> bytes:
    """Two pages: a title, a paragraph with a hyphenated word, a heading, a link, a URL and a real hyphen broken
    at line ends, and a running header and footer on each page."""

    def furniture(number: int) -> list[Text]:
        return [Text(72, 760, "The Owl Journal", 9), Text(72, 40, f"Page {number} of 2", 9)]

    first = paragraph(
        "Owls hunt at night with silent feathers and very good ears. A barn owl can find a mouse under snow by "
        "its sound alone, and the information it gathers",
        x=72,
        y=660,
        chars=70,
    )
    y = first[-1].y
    page_one = [
        Text(72, 700, "Owls at night", 20, "F2"),
        *first,
        Text(72, y - 14.3, "comes from both ears at once, which gives the direction of every infor-"),
        Text(72, y - 28.6, "mation and the distance too."),
        Text(72, y - 60, "How they hunt", 14, "F2"),
        Text(72, y - 85, "Read more owls at https://example.org/owls/very-"),
        Text(72, y - 99.3, "long-path.html before the co-"),
        Text(72, y - 113.6, "operative owl survey starts."),
    ]
    page_two = paragraph(
        "The second page goes on about owls, their nests, their chicks, and the places they like to live in.",
        x=72,
        y=700,
        chars=70,
    )
    link = Link((72, y - 88, 155, y - 74), "https://example.org/owls")
    return make_pdf([Page([*furniture(1), *page_one], links=[link]), Page([*furniture(2), *page_two])], info=INFO)
