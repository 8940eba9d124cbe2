"""Read PDFs of known text with pdfminer.six, pypdf and pypdfium2 side by side: shingle F1, ms per page, peak memory.

    .venv/bin/python -m bench.pdf              # 20 pages of each benchmark set in three layouts, and the samples
    .venv/bin/python -m bench.pdf --limit 5    # a quick run: 5 pages of each set
    .venv/bin/python -m bench.pdf --no-samples # the benchmark PDFs only

The PDFs are made here: each benchmark page's truth text becomes a plain HTML page (a paragraph a line),
which headless Chromium (Debian's, driven by Playwright) prints in three layouts: one column; one column
with a running header (the title) and footer (page numbers) as browsers print them; two columns with the
same header and footer. They are kept in /tmp/text-mode-bench-pdf between runs. Each library's text is
scored against the truth with bench.quality's 4-word shingle P/R/F1 (dataset means). Time is the CPU time
of the process per PDF (other work on a shared machine inflates wall-clock time several times over), after
one warm-up, divided by its pages (the median over PDFs is shown); peak memory is tracemalloc's peak
for one PDF, in a second pass so that tracing does not slow the timed one, and, since tracemalloc sees
Python's allocations only (not PDFium's), how far reading one PDF in a forked process raises its peak
resident size. Then every file of
../shared/pdf-samples is read by each library in a child process (30 s limit) and what happens is shown.
"""

from __future__ import annotations

import argparse
import html
import io
import json
import logging
import multiprocessing
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path

from bench.quality import SETS, Answer, Case, Score, load_cases

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT.parent / "shared" / "pdf-samples"
CACHE = Path("/tmp/text-mode-bench-pdf")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
STYLE = "body { font: 11pt/1.4 'DejaVu Serif', serif; } p { margin: 0 0 0.6em; }"
TWO_COLUMNS = "body { column-count: 2; column-gap: 2em; text-align: justify; }"
HEADER = '<div style="font-size: 8pt; width: 100%; text-align: center;"><span class="title"></span></div>'
FOOTER = (
    '<div style="font-size: 8pt; width: 100%; text-align: center;">'
    'Page <span class="pageNumber"></span> of <span class="totalPages"></span></div>'
)
LAYOUTS = ("one column", "header and footer", "two columns")
SAMPLE_SECONDS = 30
WORDS_PER_PAGE = 560  # about what one A4 page of the truth pages holds in STYLE


@dataclass(frozen=True)
class Pdf:
    """A PDF made from a benchmark page's truth, in one layout."""

    case: Case
    layout: str
    data: bytes


def truth_page(case: Case, layout: str) -> str:
    """The truth text as a plain HTML page: each line a paragraph, titled after the page."""
    paragraphs = "".join(f"<p>{html.escape(line)}</p>\n" for line in case.truth.splitlines() if line.strip())
    style = STYLE + (TWO_COLUMNS if layout == "two columns" else "")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Benchmark page {html.escape(case.id)}</title>"
        f"<style>{style}</style></head><body>{paragraphs}</body></html>"
    )


def make_pdfs(cases: list[Case]) -> list[Pdf]:
    """Each case in each layout, printed by Chromium, or read from the cache of an earlier run."""
    from playwright.sync_api import sync_playwright

    made: list[Pdf] = []
    missing = [
        (case, layout)
        for case in cases
        for layout in LAYOUTS
        if not _cached(case, layout).exists() and case.truth.strip()
    ]
    if missing:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page()
            for case, layout in missing:
                page.set_content(truth_page(case, layout))
                margins = {"top": "2cm", "bottom": "2cm", "left": "2cm", "right": "2cm"}
                data = page.pdf(
                    format="A4",
                    margin=margins,
                    display_header_footer=layout != "one column",
                    header_template=HEADER,
                    footer_template=FOOTER,
                )
                path = _cached(case, layout)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            browser.close()
    for case in cases:
        for layout in LAYOUTS:
            if _cached(case, layout).exists():
                made.append(Pdf(case, layout, _cached(case, layout).read_bytes()))
    return made


def _cached(case: Case, layout: str) -> Path:
    return CACHE / layout.replace(" ", "-") / f"{case.id}.pdf"


# The readers: each takes a PDF's bytes and returns its text and its page count.


def pdfminer_text(data: bytes) -> tuple[str, int]:
    """pdfminer.six's `extract_text` with its default layout analysis."""
    from pdfminer.high_level import extract_pages
    from pdfminer.layout import LTTextContainer

    texts: list[str] = []
    pages = 0
    for layout in extract_pages(io.BytesIO(data)):
        pages += 1
        texts.extend(element.get_text() for element in layout if isinstance(element, LTTextContainer))
    return "\n".join(texts), pages


def pypdf_text(data: bytes) -> tuple[str, int]:
    """pypdf's `extract_text` page by page (its default, plain mode)."""
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), len(reader.pages)


def pypdfium2_text(data: bytes) -> tuple[str, int]:
    """pypdfium2's `get_text_range` page by page (PDFium's own text order and line breaks)."""
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    texts = [document[index].get_textpage().get_text_range() for index in range(len(document))]
    return "\n".join(texts), len(document)


def text_mode_text(data: bytes) -> tuple[str, int]:
    """text-mode's reading (app/pdf_layout.py, in this process) as the JSON `text` field has it."""
    from app.pdf import article_of
    from app.pdf_layout import read
    from app.render import plain_text

    reading = read(data, max_pages=1000, max_bytes=5 * 1024 * 1024)
    article = article_of(reading, url="http://127.0.0.1/a.pdf", final_url="http://127.0.0.1/a.pdf", asked=False)
    return plain_text(article).text, reading.page_count


READERS: dict[str, Callable[[bytes], tuple[str, int]]] = {
    "pdfminer.six `extract_pages` (default LAParams)": pdfminer_text,
    "pypdf `extract_text`": pypdf_text,
    "pypdfium2 `get_text_range`": pypdfium2_text,
    "text-mode app/pdf.py (pypdfium2 + its own order, paragraphs, headers), JSON `text`": text_mode_text,
}


@dataclass
class Result:
    """One reader's scores per layout, and its times and peaks per PDF."""

    name: str
    scores: dict[str, Score] = field(default_factory=dict)
    ms_per_page: list[float] = field(default_factory=list)
    peaks: list[int] = field(default_factory=list)
    rss: list[int] = field(default_factory=list)


def measure(pdfs: list[Pdf]) -> list[Result]:
    """Score and time every reader on every PDF (readers take turns PDF by PDF), then trace their memory."""
    results = {name: Result(name) for name in READERS}
    for read in READERS.values():
        read(pdfs[0].data)
    for pdf in pdfs:
        for name, read in READERS.items():
            start = time.process_time()
            text, pages = read(pdf.data)
            results[name].ms_per_page.append((time.process_time() - start) * 1000 / max(1, pages))
            results[name].scores.setdefault(pdf.layout, Score()).add(pdf.case, Answer(text))
            results[name].scores.setdefault("all", Score()).add(pdf.case, Answer(text))
    for pdf in pdfs:
        for name, read in READERS.items():
            tracemalloc.start()
            read(pdf.data)
            results[name].peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
    # A fresh interpreter for each reader, which forks a child for each PDF: memory this process (or an earlier
    # PDF) freed but kept would otherwise be reused without raising the peak.
    spawn = multiprocessing.get_context("spawn")
    smallest = min((pdf.data for pdf in pdfs), key=len)
    for name in READERS:
        answer: multiprocessing.Queue[list[int]] = spawn.Queue()
        child = spawn.Process(target=_rss_growths, args=(name, smallest, [pdf.data for pdf in pdfs], answer))
        child.start()
        results[name].rss = answer.get(timeout=3600)
        child.join()
    return list(results.values())


def _rss_growths(reader: str, warm_up: bytes, datas: list[bytes], answer: multiprocessing.Queue[list[int]]) -> None:
    """How far reading each PDF raises the peak resident size of a child forked for it, in bytes."""
    logging.disable(logging.WARNING)
    READERS[reader](warm_up)  # the reader's imports are not the PDF's
    fork = multiprocessing.get_context("fork")
    growths = []
    for data in datas:
        receiver, sender = fork.Pipe(duplex=False)
        child = fork.Process(target=_rss_growth, args=(reader, data, sender))
        child.start()
        growths.append(receiver.recv())
        child.join()
    answer.put(growths)


def _rss_growth(reader: str, data: bytes, sender: Connection) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    READERS[reader](data)
    sender.send((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)


def report(results: list[Result], pdfs: list[Pdf]) -> str:
    """The scores side by side as a Markdown table."""
    pages = len({pdf.case.id for pdf in pdfs})
    layouts = [layout for layout in LAYOUTS if any(pdf.layout == layout for pdf in pdfs)]
    lines = [
        f"{len(pdfs)} PDFs ({pages} benchmark pages x {len(layouts)} layouts). F1: 4-word shingles against the truth;",
        "ms/page: the median over PDFs of CPU time / pages; memory for one PDF (median, max): tracemalloc's peak",
        "(Python's allocations) and the growth of a forked process's peak resident size (a C library's too).",
        "",
        "| reader | F1 all | "
        + " | ".join(f"F1 {layout}" for layout in layouts)
        + " | ms/page | peak MB (tracemalloc) | peak RSS growth MB |",
        "|---|---|" + "---|" * len(layouts) + "---|---|---|",
    ]
    for result in results:
        f1s = " | ".join(f"{result.scores[layout].f1:.3f}" for layout in layouts)
        peak = f"{statistics.median(result.peaks) / 2**20:.1f} (max {max(result.peaks) / 2**20:.1f})"
        rss = f"{statistics.median(result.rss) / 2**20:.1f} (max {max(result.rss) / 2**20:.1f})"
        lines.append(
            f"| {result.name} | {result.scores['all'].f1:.3f} | {f1s}"
            f" | {statistics.median(result.ms_per_page):.1f} | {peak} | {rss} |"
        )
    return "\n".join(lines)


def _read_sample(reader: str, data: bytes, answer: multiprocessing.Queue[str]) -> None:
    logging.disable(logging.WARNING)  # both libraries log every repair they make
    start = time.perf_counter()
    try:
        text, pages = READERS[reader](data)
        words = len(text.split())
        said = f"{pages} p, {words} words" if words else f"{pages} p, no text"
    except Exception as error:  # what the library raises is what is being recorded
        said = f"{type(error).__name__}"
    answer.put(f"{said}, {(time.perf_counter() - start) * 1000:.0f} ms")


def samples_report() -> str:
    """What each reader does with each sample file, each in a child process with a time limit."""
    context = multiprocessing.get_context("spawn")
    lines = ["| sample | " + " | ".join(READERS) + " |", "|---|" + "---|" * len(READERS)]
    for path in sorted(SAMPLES.glob("*.pdf")):
        cells = []
        for reader in READERS:
            answer: multiprocessing.Queue[str] = context.Queue()
            child = context.Process(target=_read_sample, args=(reader, path.read_bytes(), answer))
            child.start()
            child.join(SAMPLE_SECONDS)
            if child.is_alive():
                child.kill()
                child.join()
                cells.append(f"still running after {SAMPLE_SECONDS} s")
            else:
                cells.append(answer.get(timeout=5) if not answer.empty() else f"died ({child.exitcode})")
        lines.append(f"| {path.name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# Run as `python -c`: multiprocessing's children re-import a main module started as a file or as `-m pkg.mod`
# (bench.pdf and all it imports, some 200 ms a child), which the service's `python -m app` (app.__main__) is not.
OVERHEAD = """
import json, statistics, sys, time
from app.pdf import read_in_child
from app.pdf_layout import read

datas = [open(path, "rb").read() for path in sys.argv[1:]]
read_in_child(datas[0], pages=None, max_pages=300, max_bytes=5 << 20, timeout=60)  # starts the server
child, alone = [], []
for data in datas:
    start = time.perf_counter()
    read_in_child(data, pages=None, max_pages=300, max_bytes=5 << 20, timeout=60)
    child.append((time.perf_counter() - start) * 1000)
    start = time.perf_counter()
    read(data, max_pages=300, max_bytes=5 << 20)
    alone.append((time.perf_counter() - start) * 1000)
overhead = [c - a for c, a in zip(child, alone)]
print(json.dumps([statistics.median(child), statistics.median(alone), statistics.median(overhead)]))
"""


def child_overhead(pdfs: list[Pdf], runs: int = 15) -> str:
    """What reading in a child process (app/pdf.py) adds to reading in this one, per PDF (wall clock)."""
    paths = [str(_cached(pdf.case, pdf.layout)) for pdf in pdfs if pdf.layout == "one column"][:runs]
    command = [sys.executable, "-c", OVERHEAD, *paths]
    answer = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True, timeout=600)
    child, alone, overhead = json.loads(answer.stdout)
    return (
        f"Child process, {len(paths)} PDFs: median {child:.0f} ms in a child against {alone:.0f} ms in process;"
        f" overhead per PDF median {overhead:.0f} ms (wall clock, this machine's load included)."
    )


def scaling(cases: list[Case]) -> str:
    """Time for one text printed at about 1, 10 and 40 pages' length, per page and per 1,000 words (longer
    documents fill their pages fuller, so the words are the fairer measure)."""
    from playwright.sync_api import sync_playwright

    words = " ".join(case.truth for case in cases if case.truth.strip()).split()
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        for length in (1, 10, 40):
            count = WORDS_PER_PAGE * length
            text = "\n".join(" ".join(words[(i * 80) % len(words) :][:80]) for i in range(count // 80))
            page.set_content(truth_page(replace(cases[0], truth=text), "one column"))
            data = page.pdf(format="A4")
            start = time.process_time()
            read_text, pages = text_mode_text(data)
            ms = (time.process_time() - start) * 1000
            read_words = len(read_text.split())  # not `words`, the text the next length is made of
            per_word = ms * 1000 / read_words
            rows.append(
                f"{pages} pages, {read_words:,} words: {ms / pages:.0f} ms/page, {per_word:.0f} ms per 1,000 words"
            )
        browser.close()
    return "Scaling, text-mode in process (CPU time): " + "; ".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=20, help="pages of each benchmark set, spread out")
    parser.add_argument("--no-samples", action="store_true", help="skip ../shared/pdf-samples")
    parser.add_argument("--no-scaling", action="store_true", help="skip the 1, 10 and 40 page documents")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    cases = [case for folder in SETS.values() for case in load_cases(folder, limit=args.limit, ids=set(), held="all")]
    pdfs = make_pdfs(cases)
    print(report(measure(pdfs), pdfs))
    print()
    print(child_overhead(pdfs))
    if not args.no_scaling:
        print(scaling(cases))
    if not args.no_samples:
        print()
        print(samples_report())


if __name__ == "__main__":
    main()
