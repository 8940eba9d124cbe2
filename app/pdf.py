"""Read a PDF as an article: app/pdf_layout.py in a child process bounded in time and memory, then the Article.

A PDF is a program for its parser: a hostile file (a reference loop, a decompression bomb, millions of tiny
text objects) can keep pdfminer.six or PDFium busy or growing for as long as it is let, and PDFium is C++.
So each PDF is read in a child process of its own, forked from a server that has both imported
(multiprocessing's forkserver: no fork of the threaded worker), under RLIMIT_CPU and RLIMIT_AS, and
killed at the request's deadline if it has not answered by then.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import re
import resource
import signal
import time
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from urllib.parse import unquote, urlsplit

from app.build import add_text, link_url
from app.document import (
    HEADING_TAGS,
    Article,
    CodeBlock,
    Document,
    Heading,
    Inline,
    Item,
    Link,
    ListBlock,
    Page,
    PageMark,
    Paragraph,
    Text,
    without_repeated_title,
)
from app.document import Block as DocumentBlock
from app.errors import BadRequest, PdfError, PdfTooComplex, TextModeError

log = logging.getLogger("text_mode.pdf")

PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})
PDF_SIGNATURE = b"%PDF-"  # a PDF's first bytes (ISO 32000-1, 7.5.2), though readers allow junk before it
# The forkserver imports these once; every child forked from it starts with pdfminer.six and PDFium loaded.
PRELOAD = ["app.pdf_layout"]
# Address space a child may add to what it has when forked: the PDFs of the benchmark peak under 60 MB of
# Python objects, and a 512 MB Lambda keeps room for the worker beside it.
CHILD_MEMORY = 384 * 1024 * 1024
PAGE_RANGE_RE = re.compile(r"^\s*(\d{1,6})\s*(?:-\s*(\d{1,6})\s*)?$")


@dataclass(frozen=True)
class Run:
    """Text of one line, all of it inside one link or none."""

    text: str
    href: str = ""


@dataclass(frozen=True)
class Block:
    """A block of the article: a paragraph (p), heading (h1-h6), bulleted (li) or numbered list item (ol), code
    (pre), or where a page starts (page: no runs, the page's number)."""

    kind: str
    runs: tuple[Run, ...]
    number: int = 0  # a numbered item's number, or a page's
    style: str = ""  # a numbered item's numbering, as <ol type> has it: "1", "a" or "i"


@dataclass(frozen=True)
class Reading:
    """What a PDF says: its metadata, its page count, the pages read and the article's blocks."""

    title: str
    author: str
    created: str
    page_count: int
    first: int
    last: int
    blocks: tuple[Block, ...] = field(default=())


@dataclass(frozen=True)
class PageRange:
    """The pages asked for, first to last, counting from 1."""

    first: int
    last: int


def parse_page_range(raw: str, *, max_pages: int) -> PageRange | None:
    """The `pages` parameter ("3" or "3-7") as a PageRange, None when absent, or BadRequest naming it."""
    if not raw.strip():
        return None
    match = PAGE_RANGE_RE.match(raw)
    if match is None:
        raise BadRequest(f"pages={raw!r} is not a page range; use pages=3 or pages=3-7")
    first = int(match.group(1))
    last = int(match.group(2) or first)
    if first < 1 or last < first:
        raise BadRequest(f"pages={raw!r} is not a page range; pages count from 1, and the first comes before the last")
    if last - first + 1 > max_pages:
        raise BadRequest(f"pages={raw!r} asks for more than {max_pages} pages at once")
    return PageRange(first, last)


def read_fetched_pdf(
    page: Page, *, pages: PageRange | None, max_pages: int, max_bytes: int, deadline: float
) -> Article:
    """The PDF fetch brought (page.pdf) as an Article, read by deadline (time.monotonic's clock): the fetch's
    own, so that fetching and reading together end in time. The service and the command line both call it."""
    assert page.pdf is not None
    return read_pdf(
        page.pdf,
        url=page.url,
        final_url=page.final_url,
        pages=pages,
        max_pages=max_pages,
        max_bytes=max_bytes,
        timeout=deadline - time.monotonic(),
    )


def read_pdf(
    data: bytes,
    *,
    url: str,
    final_url: str,
    pages: PageRange | None = None,
    max_pages: int,
    max_bytes: int,
    timeout: float,
) -> Article:
    """The PDF in data as an Article (body HTML of headings, paragraphs, lists, code and links), within timeout s."""
    reading = read_in_child(data, pages=pages, max_pages=max_pages, max_bytes=max_bytes, timeout=timeout)
    return article_of(reading, url=url, final_url=final_url, asked=pages is not None)


def read_in_child(
    data: bytes,
    *,
    pages: PageRange | None,
    max_pages: int,
    max_bytes: int,
    timeout: float,
    memory: int = CHILD_MEMORY,
) -> Reading:
    """Run app.pdf_layout.read in a child process; raise what it raised, or PdfTooComplex when it ran out.

    The child has timeout seconds, of CPU time and of wall-clock time, and memory bytes of address space more
    than it was forked with.
    """
    if timeout <= 0:
        raise PdfTooComplex("the fetch left no time to read the PDF before the deadline")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    receiver, sender = context.Pipe(duplex=False)
    first, last = (pages.first, pages.last) if pages else (1, None)
    limits = (max(1, math.ceil(timeout)), memory)
    child = context.Process(target=_child, args=(sender, data, first, last, max_pages, max_bytes, limits), daemon=True)
    child.start()
    sender.close()  # the child holds the only writing end: its death is an end of file here
    try:
        if not receiver.poll(max(0.0, timeout)):
            raise PdfTooComplex(f"reading the PDF took longer than {timeout:.1f} s")
        try:
            outcome, value = receiver.recv()
        except EOFError:
            child.join(1)
            raise _died(child.exitcode) from None
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()
    if outcome == "error":
        raise value
    return value  # type: ignore[no-any-return]


# How a child out of address space ends when Python cannot even raise MemoryError: C code (CPython's own,
# lxml's) dereferences the NULL of a failed malloc. Measured: a 120,000-character page under a 4 MB bound.
OUT_OF_MEMORY_SIGNALS = frozenset({-signal.SIGSEGV, -signal.SIGBUS, -signal.SIGABRT})
OUT_OF_MEMORY_EXIT = 86  # the child's exit status when it caught MemoryError


def _died(exitcode: int | None) -> TextModeError:
    if exitcode == -signal.SIGXCPU:
        return PdfTooComplex("reading the PDF took more CPU time than text-mode gives one PDF")
    if exitcode in OUT_OF_MEMORY_SIGNALS or exitcode == OUT_OF_MEMORY_EXIT:
        return PdfTooComplex("reading the PDF needed more memory than text-mode gives one PDF")
    log.warning("the PDF reader ended with exit code %s", exitcode)
    return PdfError("the PDF reader stopped on this file")


def _child(
    sender: Connection,
    data: bytes,
    first: int,
    last: int | None,
    max_pages: int,
    max_bytes: int,
    limits: tuple[int, int],
) -> None:
    """The child's whole life: set its limits, read, send back ("ok", Reading) or ("error", the error)."""
    cpu_seconds, memory = limits
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (_address_space() + memory,) * 2)
    logging.getLogger("pdfminer").setLevel(logging.ERROR)  # it warns at every repair of a damaged file
    from app.pdf_layout import read

    try:
        # Where each page starts is marked when a range was asked for (`-- page 3 --`, in the text format).
        reading = read(
            data, first=first, last=last, max_pages=max_pages, max_bytes=max_bytes, mark_pages=last is not None
        )
        sender.send(("ok", reading))
    except TextModeError as error:
        sender.send(("error", error))
    except MemoryError:
        # Nothing more can be allocated, not even the answer (Python 3.13 fails to pickle one): the exit status says it.
        os._exit(OUT_OF_MEMORY_EXIT)
    except RecursionError:
        sender.send(("error", PdfError("the PDF's objects are nested too deeply to read")))
    except Exception as error:  # pdfminer.six on a damaged file raises anything: the file is at fault, not this code
        sender.send(("error", PdfError(f"the PDF is damaged and cannot be read ({type(error).__name__})")))
    finally:
        sender.close()


def _address_space() -> int:
    """This process's virtual memory size, in bytes (Linux: /proc/self/statm counts pages)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def article_of(reading: Reading, *, url: str, final_url: str, asked: bool) -> Article:
    """The Article for a reading: its blocks as a document, the page count beside the site, the title or file name."""
    count = reading.page_count
    if asked:
        site = f"PDF, pages {reading.first}-{reading.last} of {count}"
    else:
        site = f"PDF, {count} page" + ("s" if count != 1 else "")
    title = reading.title or unquote(urlsplit(final_url).path.rsplit("/", 1)[-1]) or final_url
    document = without_repeated_title(document_of_reading(reading, base_url=final_url), title)
    if not asked and reading.last < count:
        more = Paragraph(
            (
                Text(
                    f"[The PDF has {count} pages; text-mode read the first {reading.last}. "
                    f"Ask for more with pages={reading.last + 1}-{min(count, 2 * reading.last)}.]"
                ),
            )
        )
        document = replace(document, blocks=(*document.blocks, more))
    return Article(
        url=url,
        final_url=final_url,
        title=title,
        byline=reading.author,
        site_name=site,
        published=reading.created,
        lang="",
        document=document,
    )


def document_of_reading(reading: Reading, *, base_url: str) -> Document:
    """The reading's blocks as the document every format renders: headings, paragraphs, lists, code, links, and
    where each page starts (a mark the text format shows)."""
    blocks: list[DocumentBlock] = []
    items: list[Item] = []
    first: Block | None = None  # the first item of the list being gathered
    before: Block | None = None
    for block in reading.blocks:
        kind = LIST_KINDS.get(block.kind)
        renumbered = (
            kind == "ol" and before is not None and (block.style != before.style or block.number <= before.number)
        )
        if items and first is not None and (kind != LIST_KINDS[first.kind] or renumbered):
            blocks.append(_list_of(first, items))
            items, first = [], None
        if kind is not None:
            first = first or block
            items.append(Item((Paragraph(_runs(block.runs, base_url)),)))
        elif block.kind == "page":
            blocks.append(PageMark(block.number))
        elif block.kind == "pre":
            blocks.append(CodeBlock("".join(run.text for run in block.runs)))
        elif block.kind in HEADING_TAGS:
            blocks.append(Heading(int(block.kind[1]), _runs(block.runs, base_url)))
        else:
            blocks.append(Paragraph(_runs(block.runs, base_url)))
        before = block
    if items and first is not None:
        blocks.append(_list_of(first, items))
    return Document(tuple(blocks))


LIST_KINDS = {"li": "ul", "ol": "ol"}  # the kind of list an item's kind goes in


def _list_of(first: Block, items: list[Item]) -> ListBlock:
    """The items as one list: bulleted, or numbered from the first item's number in its style."""
    if first.kind == "ol":
        return ListBlock(tuple(items), ordered=True, start=first.number, style=first.style or "1")
    return ListBlock(tuple(items))


def _runs(runs: tuple[Run, ...], base_url: str) -> tuple[Inline, ...]:
    """A block's runs as inline runs: a link's text inside the link, the spaces around it outside."""
    inline: list[Inline] = []
    for run in runs:
        url = link_url(run.href, base_url=base_url, page_url=base_url) if run.text.strip() else None
        if url is None:
            add_text(inline, run.text)
            continue
        text = run.text.strip()
        add_text(inline, run.text[: len(run.text) - len(run.text.lstrip())])
        inline.append(Link(url, (Text(" ".join(text.split())),)))
        add_text(inline, run.text[len(run.text.rstrip()) :])
    return tuple(inline)
