"""PDFs read like articles: through the service from a loopback origin, in every format, and safely when hostile."""

from __future__ import annotations

import json
import multiprocessing
import time
import zlib

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from pdfminer.pdftypes import PDFStream
from pdfminer.psparser import LIT
from pytest_httpserver import HTTPServer
from werkzeug import Response

from app import create_app
from app.document import ListBlock, texts
from app.errors import BadRequest, PdfTooComplex, PdfTooLarge
from app.pdf import PageRange, Run, article_of, document_of_reading, parse_page_range, read_in_child
from app.pdf_layout import (
    LIST_LABEL_RE,
    PAGE_NUMBER_RE,
    Line,
    PageText,
    article_blocks,
    decoded_size,
    is_real_title,
    list_label,
    pdf_date,
    read,
)
from tests.conftest import ROOT, Service
from tests.pdfs import Document, Page, Text, make_pdf, owls_pdf, paragraph, stream

SAMPLES = ROOT.parent / "shared" / "pdf-samples"
PDF = "application/pdf"
OWLS_TEXT = """Owls at night
=============
Ada Owl · PDF, 2 pages · 2024-05-01
{url}

Owls hunt at night with silent feathers and very good ears.
A barn owl can find a mouse under snow by its sound alone,
and the information it gathers comes from both ears at once,
which gives the direction of every information and the
distance too.

How they hunt
-------------

Read more owls[1] at
https://example.org/owls/very-long-path.html before the
co-operative owl survey starts.

The second page goes on about owls, their nests, their
chicks, and the places they like to live in.

References
----------
[1] https://example.org/owls
"""


def serve(httpserver: HTTPServer, path: str, data: bytes, content_type: str | None = PDF) -> str:
    """Serve data at path with this Content-Type, or with none at all."""
    response = Response(data, content_type=content_type)
    if content_type is None:
        del response.headers["Content-Type"]
    httpserver.expect_request(path).respond_with_response(response)
    return httpserver.url_for(path)


def get(client: FlaskClient, url: str, **params: str) -> tuple[int, str]:
    response = client.get("/default/text-mode", query_string={**params, "url": url})
    return response.status_code, response.get_data(as_text=True)


def test_a_pdf_reads_as_an_article_with_its_header_links_and_reflowed_paragraphs(
    client: FlaskClient, httpserver: HTTPServer
) -> None:
    url = serve(httpserver, "/owls.pdf", owls_pdf())
    assert get(client, url, width="60") == (200, OWLS_TEXT.format(url=url))


def test_every_format_reads_the_same_pdf(client: FlaskClient, httpserver: HTTPServer) -> None:
    url = serve(httpserver, "/owls.pdf", owls_pdf())
    status, body = get(client, url, format="json")
    answer = json.loads(body)
    assert status == 200
    assert {key: answer[key] for key in ("title", "byline", "site_name", "published", "final_url")} == {
        "title": "Owls at night",
        "byline": "Ada Owl",
        "site_name": "PDF, 2 pages",
        "published": "2024-05-01",
        "final_url": url,
    }
    assert answer["links"] == [{"n": 1, "url": "https://example.org/owls", "text": "Read more owls"}]
    assert "## How they hunt" in answer["markdown"]
    assert "[Read more owls](https://example.org/owls) at" in answer["markdown"]
    status, page = get(client, url, format="html")
    assert status == 200
    assert "every information and the" in page


@pytest.mark.parametrize(
    ("lines", "elsewhere", "expected"),
    [
        (("the infor-", "mation it gathers"), "information", "the information it gathers"),
        (("a co-", "operative survey"), "", "a co-operative survey"),
        (("at https://a.example/very-", "long-path.html now"), "", "at https://a.example/very-long-path.html now"),
        (("see https://example.org/", "owls.html today"), "", "see https://example.org/owls.html today"),
        (("see https://example.org", "for more"), "", "see https://example.org for more"),
        (("a dash -", "and more"), "", "a dash - and more"),
        (("lines are", "joined with a space"), "", "lines are joined with a space"),
    ],
)  # fmt: skip
def test_lines_are_joined_and_hyphenation_undone_only_into_a_word_the_document_uses(
    lines: tuple[str, str], elsewhere: str, expected: str
) -> None:
    texts = [Text(72, 700, lines[0]), Text(72, 686, lines[1])]
    if elsewhere:
        texts.append(Text(72, 600, f"Also {elsewhere} here."))
    blocks = read(make_pdf([Page(texts)]), max_pages=10, max_bytes=1 << 20).blocks
    assert "".join(run.text for run in blocks[0].runs) == expected


def test_two_columns_are_read_column_by_column() -> None:
    left = paragraph(
        "Left column words come first, all of them, down to the foot of the column.", x=72, y=700, chars=30
    )
    right = paragraph("Right column words come after the left column is done.", x=320, y=700, chars=30)
    title = Text(72, 740, "A paper in two columns", 18, "F2")
    reading = read(make_pdf([Page([title, *left, *right])]), max_pages=10, max_bytes=1 << 20)
    assert ["".join(run.text for run in block.runs) for block in reading.blocks] == [
        "A paper in two columns",
        "Left column words come first, all of them, down to the foot of the column.",
        "Right column words come after the left column is done.",
    ]


def test_a_first_line_indent_starts_a_paragraph_where_no_space_parts_them() -> None:
    texts = [
        Text(90, 700, "Typeset text often marks a paragraph"),
        Text(72, 686, "with an indent and no space above it."),
        Text(90, 672, "The next one starts like this, and"),
        Text(72, 658, "goes on under the margin."),
    ]
    reading = read(make_pdf([Page(texts)]), max_pages=10, max_bytes=1 << 20)
    assert ["".join(run.text for run in block.runs) for block in reading.blocks] == [
        "Typeset text often marks a paragraph with an indent and no space above it.",
        "The next one starts like this, and goes on under the margin.",
    ]


def test_a_paragraph_of_600_pages_is_joined_in_linear_time() -> None:
    line = "words of a paragraph that never ends, on and on"
    pages = [
        PageText(
            number, 792, [Line((Run(line),), 72, 700 - i * 13, 400, 711 - i * 13, 11, False, False) for i in range(50)]
        )
        for number in range(1, 601)
    ]
    start = time.process_time()
    blocks = article_blocks(pages)
    assert time.process_time() - start < 5  # 0.7 s here; joining by copying the paragraph so far took minutes
    assert [len(block.runs) for block in blocks] == [2 * 30_000 - 1]


def test_running_headers_footers_and_page_numbers_are_removed() -> None:
    bodies = ["Owls hunt at night.", "Barn owls nest in barns.", "Little owls hunt by day."]
    pages = [
        Page([Text(72, 760, "Owl Journal, vol. 3", 9), Text(72, 650, body), Text(300, 40, str(n), 9)])
        for n, body in enumerate(bodies, start=1)
    ]
    reading = read(make_pdf(pages), max_pages=10, max_bytes=1 << 20)
    assert [block.runs[0].text for block in reading.blocks] == bodies


BIG, BODY = Text(72, 700, "Big heading", 20), Text(72, 650, "Small body text.")


@pytest.mark.parametrize(
    ("text", "number"),
    [("3", True), ("- 3 -", True), ("Page 3 of 9", True), ("3/9", True), ("iv", True), ("xii", True),
     ("civil", False), ("vivid", False), ("Chapter 3", False)],
)  # fmt: skip
def test_a_page_number_is_told_from_a_word(text: str, number: bool) -> None:
    assert bool(PAGE_NUMBER_RE.match(text)) is number


@pytest.mark.parametrize(
    ("info", "texts", "url", "title"),
    [
        ({"Title": "Owls at night"}, [BIG, BODY], "http://a.example/x.pdf", "Owls at night"),
        ({"Title": "Microsoft Word - draft3.docx"}, [BIG, BODY], "http://a.example/x.pdf", "Big heading"),
        ({}, [BIG, BODY], "http://a.example/x.pdf", "Big heading"),
        ({}, [BODY], "http://a.example/owl%20report.pdf", "owl report.pdf"),
    ],
)  # fmt: skip
def test_the_title_is_a_real_document_title_else_the_largest_first_line_else_the_file_name(
    info: dict[str, str], texts: list[Text], url: str, title: str
) -> None:
    reading = read(make_pdf([Page(texts)], info=info), max_pages=10, max_bytes=1 << 20)
    assert article_of(reading, url=url, final_url=url, asked=False).title == title


@pytest.mark.parametrize(
    ("title", "real"),
    [
        ("Owls at night", True),
        ("untitled", False),
        ("report.pdf", False),
        ("12", False),
        ("Slide 1", False),
        ("ab", False),
    ],
)
def test_a_real_title_is_not_a_file_name_or_placeholder(title: str, real: bool) -> None:
    assert is_real_title(title) is real


@pytest.mark.parametrize(
    ("value", "day"),
    [("D:20240501120000+02'00'", "2024-05-01"), ("D:2024", "2024-01-01"), ("20191231", "2019-12-31"),
     ("D:20241340", "2024"), ("yesterday", ""), ("", "")],
)  # fmt: skip
def test_a_pdf_date_is_its_day(value: str, day: str) -> None:
    assert pdf_date(value) == day


def test_headings_lists_and_code_keep_their_kind() -> None:
    texts = [
        Text(72, 700, "Chapter one", 16, "F2"),
        Text(72, 670, "Some body text in the usual size, long enough to be the body of the page."),
        Text(72, 640, "A bold heading", 11, "F2"),
        Text(72, 610, "\u2022 first item"),
        Text(72, 596, "\u2022 second item"),
        Text(72, 560, "print('owls')", 11, "F3"),
        Text(72, 546, "print('more owls')", 11, "F3"),
    ]
    reading = read(make_pdf([Page(texts)]), max_pages=10, max_bytes=1 << 20)
    assert [(block.kind, "".join(run.text for run in block.runs)) for block in reading.blocks] == [
        ("h1", "Chapter one"),
        ("p", "Some body text in the usual size, long enough to be the body of the page."),
        ("h3", "A bold heading"),
        ("li", "first item"),
        ("li", "second item"),
        ("pre", "print('owls')\nprint('more owls')"),
    ]


def four_pages() -> bytes:
    return make_pdf([Page([Text(72, 600, f"Words of page number {n}.")]) for n in range(1, 5)])


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("", None), ("3", PageRange(3, 3)), ("3-7", PageRange(3, 7)), (" 2 - 4 ", PageRange(2, 4))],
)
def test_a_page_range_is_parsed(raw: str, expected: PageRange | None) -> None:
    assert parse_page_range(raw, max_pages=300) == expected


@pytest.mark.parametrize("raw", ["0", "7-3", "three", "1-2-3", "-5", "1-301", "3,4"])
def test_a_bad_page_range_is_refused(raw: str) -> None:
    with pytest.raises(BadRequest):
        parse_page_range(raw, max_pages=300)


@pytest.mark.parametrize(
    ("pages", "status", "found", "absent"),
    [
        ("2-3", 200, ["PDF, pages 2-3 of 4", "page number 2.", "page number 3."], ["number 1.", "number 4."]),
        ("4-9", 200, ["PDF, pages 4-4 of 4", "Words of page number 4."], ["number 3."]),
        ("5-6", 400, ["pages=5-6 is past the end: the PDF has 4 pages"], []),
        ("x", 400, ["pages='x' is not a page range"], []),
    ],
)  # fmt: skip
def test_pages_reads_a_range_and_a_bad_one_is_a_400(
    client: FlaskClient, httpserver: HTTPServer, pages: str, status: int, found: list[str], absent: list[str]
) -> None:
    url = serve(httpserver, "/four.pdf", four_pages())
    got_status, body = get(client, url, pages=pages)
    assert got_status == status
    assert all(text in body for text in found), body
    assert not any(text in body for text in absent), body


def test_a_range_marks_where_each_page_starts_in_the_text_format_only(
    client: FlaskClient, httpserver: HTTPServer
) -> None:
    url = serve(httpserver, "/four.pdf", four_pages())
    assert get(client, url, pages="2-3", width="0") == (
        200,
        f"four.pdf\n========\nPDF, pages 2-3 of 4\n{url}\n\n"
        "-- page 2 --\n\nWords of page number 2.\n\n-- page 3 --\n\nWords of page number 3.\n",
    )
    status, body = get(client, url, pages="2-3", format="json")
    answer = json.loads(body)
    assert (status, answer["text"]) == (200, "Words of page number 2.\n\nWords of page number 3.")
    assert "page 2 --" not in answer["markdown"]
    assert "-- page 2 --" in get(client, url, pages="2-3", format="html")[1]  # the reading view shows the text format
    assert "-- page" not in get(client, url)[1]  # no range asked for, no marks


def test_a_paragraph_is_not_joined_across_a_marked_page_start() -> None:
    pages = [Page([Text(72, 100, "A sentence that goes on")]), Page([Text(72, 700, "over the page.")])]
    reading = read(make_pdf(pages), first=1, last=2, max_pages=10, max_bytes=1 << 20, mark_pages=True)
    assert [(block.kind, block.number, "".join(run.text for run in block.runs)) for block in reading.blocks] == [
        ("page", 1, ""),
        ("p", 0, "A sentence that goes on"),
        ("page", 2, ""),
        ("p", 0, "over the page."),
    ]
    unmarked = read(make_pdf(pages), first=1, last=2, max_pages=10, max_bytes=1 << 20).blocks
    assert ["".join(run.text for run in block.runs) for block in unmarked] == ["A sentence that goes on over the page."]


LISTS = [
    Text(72, 700, "Steps to take:"),
    Text(72, 680, "1. Open the box"),
    Text(72, 666, "2. Take the owl out, and let it"),
    Text(86, 652, "fly away"),
    Text(72, 630, "a) first letter"),
    Text(72, 616, "b) second letter"),
    Text(72, 596, "(i) roman one"),
    Text(72, 582, "(ii) roman two"),
    Text(72, 562, "3. three, a list that starts at three"),
    Text(72, 540, "\u2022 a bullet"),
    Text(72, 526, "\u2022 another bullet"),
    Text(72, 500, "After the lists, a paragraph."),
]


def test_numbered_lettered_and_roman_lists_are_ordered_and_bullets_unordered() -> None:
    reading = read(make_pdf([Page(LISTS)]), max_pages=10, max_bytes=1 << 20)
    assert [(b.kind, b.number, b.style, "".join(run.text for run in b.runs)) for b in reading.blocks] == [
        ("p", 0, "", "Steps to take:"),
        ("ol", 1, "1", "Open the box"),
        ("ol", 2, "1", "Take the owl out, and let it fly away"),
        ("ol", 1, "a", "first letter"),
        ("ol", 2, "a", "second letter"),
        ("ol", 1, "i", "roman one"),
        ("ol", 2, "i", "roman two"),
        ("ol", 3, "1", "three, a list that starts at three"),
        ("li", 0, "", "a bullet"),
        ("li", 0, "", "another bullet"),
        ("p", 0, "", "After the lists, a paragraph."),
    ]
    lists = [block for block in document_of_reading(reading, base_url="").blocks if isinstance(block, ListBlock)]
    assert [
        (block.ordered, block.start, block.style, [list(texts(item.blocks)) for item in block.items]) for block in lists
    ] == [
        (True, 1, "1", [["Open the box"], ["Take the owl out, and let it fly away"]]),
        (True, 1, "a", [["first letter"], ["second letter"]]),
        (True, 1, "i", [["roman one"], ["roman two"]]),
        (True, 3, "1", [["three, a list that starts at three"]]),
        (False, 1, "1", [["a bullet"], ["another bullet"]]),
    ]


def test_lists_are_lists_in_every_format(client: FlaskClient, httpserver: HTTPServer) -> None:
    url = serve(httpserver, "/lists.pdf", make_pdf([Page(LISTS)]))
    status, body = get(client, url, width="0")
    assert status == 200
    assert "Steps to take:\n\n1. Open the box\n2. Take the owl out, and let it fly away\n" in body
    assert (
        "\na. first letter\nb. second letter\n\ni.  roman one\nii. roman two\n" in body
    )  # aligned under the widest number
    assert "\n3. three, a list that starts at three\n" in body
    assert "\n* a bullet\n* another bullet\n" in body
    markdown = json.loads(get(client, url, format="json")[1])["markdown"]
    assert "  1. Open the box\n  2. Take the owl out, and let it fly away\n" in markdown
    assert "  * a bullet\n  * another bullet\n" in markdown


@pytest.mark.parametrize(
    ("text", "before", "label"),
    [("1. a", None, (1, "1", 3)), ("12) a", None, (12, "1", 4)), ("(3) a", None, (3, "1", 4)),
     ("b. a", None, (2, "a", 3)), ("(c) a", None, (3, "a", 4)), ("iv. a", None, (4, "i", 4)),
     ("(ix) a", None, (9, "i", 5)), ("i) a", None, (1, "i", 3)), ("i) a", (8, "a"), (9, "a", 3)),
     ("v. a", (21, "a"), (22, "a", 3)), ("x) a", (9, "i"), (10, "i", 3))],
)  # fmt: skip
def test_a_list_label_gives_its_number_and_style(
    text: str, before: tuple[int, str] | None, label: tuple[int, str, int]
) -> None:
    assert list_label(text, before) == label


@pytest.mark.parametrize("text", ["e.g. this", "1.5 metres", "2000. A year", "A. Capital", "ab. no", "1.no space"])
def test_a_line_that_only_looks_numbered_is_not_a_list_item(text: str) -> None:
    assert LIST_LABEL_RE.match(text) is None


def test_no_more_than_pdf_max_pages_are_read(httpserver: HTTPServer) -> None:
    client = create_app({"TESTING": True, "ALLOW_PRIVATE": True, "PDF_MAX_PAGES": 2}).test_client()
    status, body = get(client, serve(httpserver, "/four.pdf", four_pages()), width="0")
    assert status == 200
    assert "Words of page number 2." in body
    assert "number 3." not in body
    assert "[The PDF has 4 pages; text-mode read the first 2. Ask for more with pages=3-4.]" in body
    assert get(client, serve(httpserver, "/four.pdf", four_pages()), pages="1-3")[0] == 400


# What every sample file of ../shared/pdf-samples gets, and a phrase its answer holds.
SAMPLE_ANSWERS = [
    ("contrib-issue-00352-asw-oct96-p41.pdf", 200, "Accidents and Incidents Involving Cabin Depressurization"),
    ("contrib-issue-1113-evil-xobjects.pdf", 200, "Hello world"),
    ("contrib-issue-449-horizontal.pdf", 200, "Horizontal"),
    ("contrib-issue-449-vertical.pdf", 200, "Vertical"),
    ("contrib-issue-791-non-unicode-cmap.pdf", 200, "Peněžní prostředky na účtech"),
    ("contrib-matplotlib.pdf", 200, "PDF, 1 page"),
    ("contrib-pagelabels.pdf", 200, "Some text here"),
    ("encryption-aes-256.pdf", 422, "the PDF is password-protected"),
    ("encryption-base.pdf", 200, "Secret!"),
    ("encryption-rc4-128.pdf", 422, "the PDF is password-protected"),
    ("font-size-test.pdf", 200, "Arial font"),
    ("jo.pdf", 200, "わたくしといふ現象は假定された有機交流電燈の"),
    ("scancode-patchelf.pdf", 422, "the PDF has no text layer (a scan)"),
    ("simple1.pdf", 200, "Hello"),
    ("simple3.pdf", 200, "あいうえお"),  # a CID font that is not embedded: PDFium loses it, pdfminer.six reads it
    ("simple4.pdf", 200, "Text1 Text2 Text3"),
    ("simple5.pdf", 200, "Link to heading that is working with vim-pandoc."),
    ("zen_of_python_corrupted.pdf", 200, "Beautiful is better than ugly."),
]


def test_the_sample_table_names_every_sample() -> None:
    assert sorted(name for name, _, _ in SAMPLE_ANSWERS) == sorted(path.name for path in SAMPLES.glob("*.pdf"))


@pytest.mark.parametrize(("name", "status", "phrase"), SAMPLE_ANSWERS)
def test_every_sample_pdf_gets_its_answer_in_bounded_time(
    client: FlaskClient, httpserver: HTTPServer, name: str, status: int, phrase: str
) -> None:
    url = serve(httpserver, f"/{name}", (SAMPLES / name).read_bytes())
    start = time.monotonic()
    got_status, body = get(client, url, width="0")
    assert (got_status, phrase in body) == (status, True), body
    assert time.monotonic() - start < 10


def reference_loop() -> bytes:
    """A page whose contents are an object that is a reference to itself: resolving it never ends."""
    document = Document()
    tree, loop = document.reserve(), document.reserve()
    document.set(loop, f"{loop} 0 R")
    page = document.add(f"<< /Type /Page /Parent {tree} 0 R /MediaBox [0 0 612 792] /Contents {loop} 0 R >>")
    document.set(tree, f"<< /Type /Pages /Kids [{page} 0 R] /Count 1 >>")
    return document.write(root=document.add(f"<< /Type /Catalog /Pages {tree} 0 R >>"))


def page_tree_loop() -> bytes:
    document = Document()
    tree = document.reserve()
    document.set(tree, f"<< /Type /Pages /Kids [{tree} 0 R] /Count 1 >>")
    return document.write(root=document.add(f"<< /Type /Catalog /Pages {tree} 0 R >>"))


def deep_page_tree(depth: int = 3000) -> bytes:
    document = Document()
    nodes = [document.reserve() for _ in range(depth)]
    contents = document.add(stream(b"BT /F1 11 Tf 72 700 Td (deep) Tj ET"))
    page = document.add(f"<< /Type /Page /Parent {nodes[-1]} 0 R /MediaBox [0 0 612 792] /Contents {contents} 0 R >>")
    for index, node in enumerate(nodes):
        kid = nodes[index + 1] if index + 1 < depth else page
        document.set(node, f"<< /Type /Pages /Kids [{kid} 0 R] /Count 1 >>")
    return document.write(root=document.add(f"<< /Type /Catalog /Pages {nodes[0]} 0 R >>"))


def image_only() -> bytes:
    """A scan: one page that is a picture and nothing else."""
    document = Document()
    tree = document.reserve()
    image = document.add(
        stream(b"\x00", extra=" /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8")
    )
    contents = document.add(stream(b"q 500 0 0 700 50 50 cm /Im1 Do Q"))
    page = document.add(
        f"<< /Type /Page /Parent {tree} 0 R /MediaBox [0 0 612 792] /Contents {contents} 0 R"
        f" /Resources << /XObject << /Im1 {image} 0 R >> >> >>"
    )
    document.set(tree, f"<< /Type /Pages /Kids [{page} 0 R] /Count 1 >>")
    return document.write(root=document.add(f"<< /Type /Catalog /Pages {tree} 0 R >>"))


def huge_xref_stream() -> bytes:
    """A cross-reference stream that claims two billion objects, of which it holds three."""
    head = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    head += b"2 0 obj\n<< /Type /Pages /Kids [] >>\nendobj\n"
    entries = zlib.compress(b"\x01\x00\x00\x00\x09\x00" * 3)
    xref = (
        b"3 0 obj\n<< /Type /XRef /Size 2000000000 /Index [0 2000000000] /W [1 4 1] /Root 1 0 R"
        b" /Filter /FlateDecode /Length %d >>\nstream\n" % len(entries)
    )
    return head + xref + entries + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % len(head)


def actions_and_attachments() -> bytes:
    """A page of text with JavaScript to run on opening, a launch action, a form and an embedded file."""
    launch = " /Annots [<< /Subtype /Link /Rect [72 690 300 712] /A << /S /Launch /F (calc.exe) >> >>]"
    script = " /OpenAction << /S /JavaScript /JS (app.alert\\('owls'\\)) >> /AcroForm << /Fields [] >>"
    page = Page([Text(72, 700, "The visible words of the page.")], extra=launch)
    return make_pdf([page], catalog_extra=script, attachments={"secret.txt": b"EMBEDDED SECRET TEXT"})


TEXT_OBJECTS = b"BT /F1 1 Tf (a) Tj ET\n" * 400_000  # 8.8 MB: within the decoded bound
NESTED = b"[" * 20_000 + b"]" * 20_000 + b" BT /F1 11 Tf 72 700 Td (after the nesting) Tj ET"
BOMB = b"BT /F1 11 Tf 72 700 Td (boom) Tj ET" + b" " * (12 << 20)

# Hostile PDFs through the service (a 2 s deadline, 1 MB of file, so 10 MB of decoded content), with their answers:
# the error's code, or the whole text.
HOSTILE = [
    ("truncated", lambda: owls_pdf()[:900], PDF, 422, "bad_pdf"),
    ("html behind a .pdf name", lambda: b"<!doctype html><p>Not found</p>", PDF, 422, "bad_pdf"),
    ("reference loop", reference_loop, PDF, 422, "too_complex"),
    ("page tree loop", page_tree_loop, PDF, 422, "bad_pdf"),
    ("page tree 3,000 deep", deep_page_tree, PDF, 422, "bad_pdf"),
    ("decompression bomb", lambda: make_pdf([Page(raw_content=BOMB)], compress=True), PDF, 422, "too_large"),
    ("a scan", image_only, PDF, 422, "no_text"),
    ("an xref stream of two billion entries", huge_xref_stream, PDF, 422, "too_complex"),
    ("arrays nested 20,000 deep", lambda: make_pdf([Page(raw_content=NESTED)]), PDF, 200, "after the nesting"),
]  # fmt: skip


@pytest.fixture
def strict_app() -> Flask:
    return create_app({"TESTING": True, "ALLOW_PRIVATE": True, "FETCH_TIMEOUT": 2.0, "MAX_BYTES": 1 << 20})


@pytest.mark.parametrize(("name", "make", "content_type", "status", "code"), HOSTILE, ids=[row[0] for row in HOSTILE])
def test_a_hostile_pdf_gets_a_clear_answer_within_the_deadline_and_leaves_no_process(
    strict_app: Flask, httpserver: HTTPServer, name: str, make: object, content_type: str, status: int, code: str
) -> None:
    url = serve(httpserver, "/hostile.pdf", make(), content_type)  # type: ignore[operator]
    start = time.monotonic()
    response = strict_app.test_client().get("/default/text-mode", query_string={"format": "json", "url": url})
    answer = response.json
    assert (response.status_code, answer.get("code", answer.get("text"))) == (status, code)  # type: ignore[union-attr]
    assert time.monotonic() - start < 2.0 + 1.5
    assert multiprocessing.active_children() == []
    assert get(strict_app.test_client(), serve(httpserver, "/next.pdf", four_pages()))[0] == 200


def test_as_many_tiny_text_objects_as_the_decoded_bound_lets_through_are_read(httpserver: HTTPServer) -> None:
    # PDFium reads them in some 0.4 s of CPU (a 2 s deadline is too close on a loaded machine), and shows the
    # one "a" they print over one another; more of them decode past the bound (the decompression bomb above).
    app = create_app({"TESTING": True, "ALLOW_PRIVATE": True, "FETCH_TIMEOUT": 20.0, "MAX_BYTES": 1 << 20})
    url = serve(httpserver, "/objects.pdf", make_pdf([Page(raw_content=TEXT_OBJECTS)], compress=True))
    response = app.test_client().get("/default/text-mode", query_string={"format": "json", "url": url})
    assert (response.status_code, response.json["text"]) == (200, "a")  # type: ignore[index]


def test_javascript_launch_actions_forms_and_embedded_files_are_never_read(
    client: FlaskClient, httpserver: HTTPServer
) -> None:
    status, body = get(client, serve(httpserver, "/actions.pdf", actions_and_attachments()), format="json")
    answer = json.loads(body)
    assert (status, answer["text"], answer["links"]) == (200, "The visible words of the page.", [])


NOT_A_FILE_TEXT = "the page is a file of no stated type, not HTML, text or a PDF"


@pytest.mark.parametrize(
    ("content_type", "data", "status", "said"),
    [
        (PDF, four_pages(), 200, "Words of page number 1."),
        ("application/x-pdf", four_pages(), 200, "Words of page number 1."),
        (None, four_pages(), 200, "Words of page number 1."),
        ("application/octet-stream", four_pages(), 200, "Words of page number 1."),
        ("binary/octet-stream", four_pages(), 200, "Words of page number 1."),
        ("application/octet-stream", b"<!doctype html><p>Not found</p>", 415, NOT_A_FILE_TEXT),
        ("application/octet-stream", b"PK\x03\x04 a zip file", 415, NOT_A_FILE_TEXT),
        ("image/png", four_pages(), 415, "the page is image/png, not HTML or text"),
    ],
)  # fmt: skip
def test_a_pdf_is_known_by_its_type_or_by_its_signature_behind_a_type_that_names_no_kind(
    client: FlaskClient, httpserver: HTTPServer, content_type: str | None, data: bytes, status: int, said: str
) -> None:
    got_status, body = get(client, serve(httpserver, "/report.pdf", data, content_type), width="0")
    assert (got_status, said in body) == (status, True), body


@pytest.mark.parametrize(("memory", "outcome"), [(256 << 20, "24000 words"), (4 << 20, "needed more memory")])
def test_a_child_over_its_memory_bound_is_a_422_not_a_crash(memory: int, outcome: str) -> None:
    dense = [Text(20, 780 - row * 6, "owls " * 200, 5) for row in range(120)]  # 120,000 characters on one page
    try:
        reading = read_in_child(
            make_pdf([Page(dense)]), pages=None, max_pages=1, max_bytes=1 << 20, timeout=30, memory=memory
        )
        said = f"{sum(len(run.text.split()) for block in reading.blocks for run in block.runs)} words"
    except PdfTooComplex as error:
        said = "needed more memory" if "more memory" in error.detail else error.detail
    assert said == outcome


def test_the_child_reads_what_the_process_would() -> None:
    data = owls_pdf()
    in_child = read_in_child(data, pages=None, max_pages=10, max_bytes=1 << 20, timeout=10)
    assert in_child == read(data, max_pages=10, max_bytes=1 << 20)


@pytest.mark.parametrize(
    ("data", "limit", "size"),
    [(zlib.compress(b" " * 100_000), 10**9, 100_000), (zlib.compress(b" " * 3_000_000), 50_000, 65_536),
     (zlib.compress(b"x" * 100_000)[:-20], 10**9, 85_400), (b"not flate at all", 10**9, 0)],
    ids=["whole", "stopped past the limit", "cut short", "damaged"],
)  # fmt: skip
def test_a_flate_stream_is_measured_in_bounded_steps(data: bytes, limit: int, size: int) -> None:
    assert decoded_size(PDFStream({"Filter": LIT("FlateDecode")}, data), limit) == size


@pytest.mark.parametrize(
    ("spaces", "outcome"),
    [(500_000, "boom"), (1_100_000, "the PDF's content decodes to more than 1,000,000 bytes")],
)
def test_flate_streams_are_measured_before_pdfminer_decodes_them(spaces: int, outcome: str) -> None:
    pdf = make_pdf([Page(raw_content=b"BT /F1 11 Tf 72 700 Td (boom) Tj ET" + b" " * spaces)], compress=True)
    try:
        said = read(pdf, max_pages=10, max_bytes=100_000).blocks[0].runs[0].text
    except PdfTooLarge as error:
        said = error.detail
    assert said == outcome


def test_the_real_service_reads_a_pdf_and_survives_a_hostile_one(service: Service, httpserver: HTTPServer) -> None:
    base = service.base
    loop = serve(httpserver, "/loop.pdf", reference_loop())
    hostile = requests.get(f"{base}/default/text-mode", params={"url": loop}, timeout=30)
    owls = serve(httpserver, "/o.pdf", owls_pdf())
    good = requests.get(f"{base}/default/text-mode", params={"width": "0", "url": owls}, timeout=30)
    assert (hostile.status_code, good.status_code) == (422, 200)
    assert "the information it gathers comes from both ears" in good.text
