"""Score text-mode's extraction on the benchmark sets beside readability alone, the starting point and the floor.

    .venv/bin/python -m bench.quality                  # both sets, every page, in process and through the service
    .venv/bin/python -m bench.quality --set mozilla    # one set: wcxb-test, mozilla or all
    .venv/bin/python -m bench.quality --limit 60       # a quick run on every 8th-or-so page of each set
    .venv/bin/python -m bench.quality --no-service     # in-process pipelines only
    .venv/bin/python -m bench.quality --dump /tmp/out  # write each pipeline's text per page

The metric is the WCXB README's: 4-word shingle P/R/F1 (dataset means), word F1 (mean per page),
with%/w/o% snippets, median and p90 ms per page, and the total time as a multiple of a bare lxml parse.
Each set also gets the pages where text-mode loses to readability alone (by more than 0.3 F1, and the
pages below 0.5 where readability alone has 0.9 or more) and, where the set has it (Mozilla's), how often
the title, byline and published date equal the expected ones. Pages are split into two halves by a hash
of their id, so anything tuned on one half can be checked on the other ("held" is the half with an even
CRC-32).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import re
import statistics
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import html2text
import lxml.html
import requests
from readability import Document

from app.document import Article, Page
from app.errors import ExtractError
from app.extract import extract
from app.metadata import TITLE_SEPARATOR_RE
from app.render import plain_text, render_json, render_text
from bench import html_origin, started_service

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT.parent / "shared" / "benchmarks"
SETS = {"wcxb-test": BENCHMARKS / "wcxb-test", "mozilla": BENCHMARKS / "mozilla-readability"}
WORD_RE = re.compile(r"\w+")
# A loss: text-mode's F1 on a page below readability alone's by more than this.
LOSS_MARGIN = 0.3


@dataclass(frozen=True)
class Case:
    """One benchmark page and its truth."""

    id: str
    url: str
    page_type: str
    truth: str
    with_: tuple[str, ...]
    without: tuple[str, ...]
    html: bytes
    metadata: dict[str, str | None] = field(default_factory=dict)

    @property
    def held(self) -> bool:
        """True for the held-back half: never looked at while tuning."""
        return zlib.crc32(self.id.encode()) % 2 == 0


def chosen_sets(dataset: Path | None, set_name: str) -> dict[str, Path]:
    """The folders a run reads, by set name: a --dataset folder, else the --set named, else every set."""
    if dataset:
        return {"custom": dataset}
    return dict(SETS) if set_name == "all" else {set_name: SETS[set_name]}


def load_cases(dataset: Path, *, limit: int, ids: set[str], held: str) -> list[Case]:
    """The dataset's pages, optionally a spread-out subset of limit pages, one half or chosen ids."""
    cases = []
    with (dataset / "pages.jsonl").open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if ids and row["id"] not in ids:
                continue
            html = gzip.decompress((dataset / "html" / f"{row['id']}.html.gz").read_bytes())
            case = Case(
                row["id"],
                row.get("url", ""),
                row["page_type"],
                row["text"],
                tuple(row.get("with", ())),
                tuple(row.get("without", ())),
                html,
                row.get("metadata", {}),
            )
            if held == "all" or (held == "held") == case.held:
                cases.append(case)
    if limit and limit < len(cases):
        step = len(cases) / limit
        cases = [cases[int(index * step)] for index in range(limit)]
    return cases


# Scoring, as the WCXB README defines it.


def shingles(text: str) -> Counter[tuple[str, ...]]:
    words = WORD_RE.findall(text)
    if not words:
        return Counter()
    if len(words) < 4:
        return Counter([tuple(words)])
    return Counter(tuple(words[index : index + 4]) for index in range(len(words) - 3))


def page_scores(predicted: str, truth: str) -> tuple[float | None, float | None, float]:
    """Shingle precision (None for an empty answer), recall (None for an empty truth) and F1 of one page."""
    got, want = shingles(predicted), shingles(truth)
    tp = sum((got & want).values())
    fp = sum(got.values()) - tp
    fn = sum(want.values()) - tp
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    if precision is None and recall is None:
        return None, None, 1.0
    p, r = precision or 0.0, recall if recall is not None else 1.0
    return precision, recall, 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Answer:
    """What a pipeline shows for one page: its text and, when it finds them, the page's metadata."""

    text: str
    title: str | None = None
    byline: str | None = None
    published: str | None = None


# Metadata compared with the set's expected values (Readability.js's), after folding case and whitespace.
METADATA_FIELDS = {"title": "title", "byline": "byline", "published": "publishedTime"}


def metadata_matches(field_name: str, got: str | None, expected: str) -> bool:
    """Whether got is the expected value; a title may also be the expected one's leading part.

    Readability.js keeps a site's name on short titles ("Mozilla - Wikipedia"); text-mode removes it by
    design, so "Mozilla" counts, and "Wikipedia" does not. The README reports strict equality beside this.
    """
    if _folded(field_name, got) == _folded(field_name, expected):
        return True
    if field_name != "title" or not got:
        return False
    parts = TITLE_SEPARATOR_RE.split(expected)
    separators = TITLE_SEPARATOR_RE.findall(expected)
    leading = [parts[0] + "".join(s + p for s, p in zip(separators[:n], parts[1 : n + 1], strict=True))
               for n in range(len(parts))]  # fmt: skip
    return any(_folded(field_name, got) == _folded(field_name, part) for part in leading)


def _folded(field_name: str, value: str | None) -> str:
    text = " ".join((value or "").split()).casefold()
    if field_name == "byline":
        text = re.sub(r"^(?:by|par|von)\s+", "", text)  # "By Jane Doe" and "Jane Doe" name the same person
    if field_name == "published":
        text = text[:10]  # the day: the expected values mix time zones and precisions
    return text


@dataclass
class Score:
    """Sums over pages for one pipeline (or one page type of it)."""

    precisions: list[float] = field(default_factory=list)
    recalls: list[float] = field(default_factory=list)
    word_f1s: list[float] = field(default_factory=list)
    with_hits: list[float] = field(default_factory=list)
    without_hits: list[float] = field(default_factory=list)
    empty_with_truth: int = 0
    page_f1: dict[str, float] = field(default_factory=dict)
    metadata: dict[str, list[bool]] = field(default_factory=dict)
    finds_metadata: bool = False

    def add(self, case: Case, answer: Answer) -> None:
        predicted = answer.text
        precision, recall, f1 = page_scores(predicted, case.truth)
        if precision is not None:
            self.precisions.append(precision)
        if recall is not None:
            self.recalls.append(recall)
        self.page_f1[case.id] = f1
        if case.truth.strip() and not WORD_RE.search(predicted):
            self.empty_with_truth += 1
        self.word_f1s.append(word_f1(predicted, case.truth))
        lowered = predicted.lower()
        if case.with_:
            self.with_hits.append(sum(s.lower() in lowered for s in case.with_) / len(case.with_))
        if case.without:
            self.without_hits.append(sum(s.lower() in lowered for s in case.without) / len(case.without))
        if answer.title is None:
            return
        self.finds_metadata = True
        for name, key in METADATA_FIELDS.items():
            expected = case.metadata.get(key)
            if expected and expected.strip():
                got = getattr(answer, name)
                self.metadata.setdefault(name, []).append(metadata_matches(name, got, expected))
                if name == "title":
                    self.metadata.setdefault("title (strict)", []).append(_folded(name, got) == _folded(name, expected))

    @property
    def p(self) -> float:
        return statistics.fmean(self.precisions) if self.precisions else 0.0

    @property
    def r(self) -> float:
        return statistics.fmean(self.recalls) if self.recalls else 0.0

    @property
    def f1(self) -> float:
        return 2 * self.p * self.r / (self.p + self.r) if self.p + self.r else 0.0


def word_f1(predicted: str, truth: str) -> float:
    got = Counter(word.lower() for word in WORD_RE.findall(predicted))
    want = Counter(word.lower() for word in WORD_RE.findall(truth))
    if not want:
        return 1.0 if not got else 0.0
    common = sum((got & want).values())
    if not common:
        return 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


# The pipelines: each takes a case and returns what it would show.


def _article(case: Case) -> Article | None:
    text = case.html.decode("utf-8", errors="replace")
    # The address the service would see when the page is served from loopback, not the original one: the
    # page's own URL must not help here any more than it can through the service.
    url = f"http://127.0.0.1/{case.id}.html"
    try:
        return extract(Page(url, url, 200, "text/html", "utf-8", text, True, 0.0))
    except ExtractError:
        return None


def _with_metadata(article: Article | None, text: str) -> Answer:
    if article is None:
        return Answer("", "", "", "")
    return Answer(text, article.title, article.byline, article.published)


def text_mode(case: Case) -> Answer:
    """Our pipeline in process, as far as the scored text: extract, then the JSON `text` field alone."""
    article = _article(case)
    return _with_metadata(article, plain_text(article).text if article is not None else "")


def text_mode_json(case: Case) -> Answer:
    """The whole JSON answer (text, Markdown by html2text, links), scored on its `text` field."""
    article = _article(case)
    return _with_metadata(article, str(render_json(article)["text"]) if article is not None else "")


def text_mode_terminal(case: Case) -> Answer:
    """What curl gets by default: the text format, header, reference numbers and References included."""
    article = _article(case)
    return Answer(render_text(article) if article is not None else "")


def readability_html2text(case: Case) -> Answer:
    """The starting point: readability-lxml's summary rendered by html2text."""
    summary = Document(case.html.decode("utf-8", errors="replace")).summary(html_partial=True)
    converter = html2text.HTML2Text()
    converter.body_width = 0
    return Answer(str(converter.handle(summary)))


# Elements after which a text view starts a new line: without the break, words of two blocks run together.
LINE_BREAKING_TAGS = frozenset(
    {"p", "div", "section", "article", "li", "ul", "ol", "dl", "dt", "dd", "br", "tr", "td", "th", "table", "pre",
     "blockquote", "figure", "figcaption", "h1", "h2", "h3", "h4", "h5", "h6", "header", "footer", "main", "hr"}
)  # fmt: skip


def readability_alone(case: Case) -> Answer:
    """readability-lxml's `summary()` as text, a line per block: the library text-mode is built on, by itself."""
    summary = Document(case.html.decode("utf-8", errors="replace")).summary(html_partial=True)
    try:
        root = lxml.html.fragment_fromstring(summary, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return Answer("")
    for element in root.iter():
        if element.tag in LINE_BREAKING_TAGS:
            element.tail = "\n" + (element.tail or "")
    return Answer(str(root.text_content()))


def lxml_floor(case: Case) -> Answer:
    """The floor: the whole page's text."""
    return Answer(str(lxml.html.document_fromstring(case.html).text_content()))


@contextlib.contextmanager
def served_pages(cases: list[Case]) -> Iterator[str]:
    """Serve each case's bytes at /<set>/<id>.html on a loopback port; yields the base URL."""
    by_path = {f"/{case.id}.html": case.html for case in cases}
    with html_origin(by_path.get) as base:
        yield base


@contextlib.contextmanager
def running_service() -> Iterator[str]:
    """`python -m app` on a free loopback port, allowed to reach loopback; yields its base URL."""
    with started_service({"TEXT_MODE_ALLOW_PRIVATE": "1"}) as (base, _process):
        yield base


def service_pipeline(service: str, origin: str) -> Callable[[Case], Answer]:
    """The running service's JSON `text` and metadata for each page, fetched from the loopback origin."""
    session = requests.Session()

    def run(case: Case) -> Answer:
        url = f"{service}/default/text-mode?format=json&url={quote(f'{origin}/{case.id}.html', safe='')}"
        response = session.get(url, timeout=60)
        if response.status_code != 200:
            return Answer("", "", "", "")
        answer = response.json()
        return Answer(str(answer["text"]), answer["title"], answer["byline"], answer["published"])

    return run


@dataclass
class Result:
    """One pipeline's scores overall, per half, per page type, and its times."""

    name: str
    overall: Score = field(default_factory=Score)
    halves: dict[str, Score] = field(default_factory=dict)
    types: dict[str, Score] = field(default_factory=dict)
    ms: list[float] = field(default_factory=list)


def run_all(pipelines: dict[str, Callable[[Case], Answer]], cases: list[Case], dump: Path | None) -> list[Result]:
    """Time and score every pipeline on every case, after one warm-up call each.

    The pipelines take turns page by page, so a busy machine slows them alike and the times stay comparable.
    """
    results = {name: Result(name) for name in pipelines}
    for pipeline in pipelines.values():
        pipeline(cases[0])
    for case in cases:
        for name, pipeline in pipelines.items():
            start = time.perf_counter()
            answer = pipeline(case)
            result = results[name]
            result.ms.append((time.perf_counter() - start) * 1000)
            result.overall.add(case, answer)
            result.halves.setdefault("held" if case.held else "tuned", Score()).add(case, answer)
            result.types.setdefault(case.page_type, Score()).add(case, answer)
            if dump is not None:
                folder = dump / re.sub(r"\W+", "-", name).strip("-")
                folder.mkdir(parents=True, exist_ok=True)
                (folder / f"{case.id}.txt").write_text(answer.text, encoding="utf-8")
    return list(results.values())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def losses(result: Result, baseline: Result) -> tuple[list[str], list[str]]:
    """Pages where result loses to baseline by more than LOSS_MARGIN, and where it is below 0.5 against 0.9+."""
    mine, theirs = result.overall.page_f1, baseline.overall.page_f1
    by_margin = sorted(page for page in mine if mine[page] < theirs[page] - LOSS_MARGIN)
    collapsed = sorted(page for page in mine if mine[page] < 0.5 <= 0.9 <= theirs[page])
    return by_margin, collapsed


def report(results: list[Result], floor_total: float, pages: int, baseline: Result | None) -> str:
    """The results as Markdown tables."""
    lines = [
        f"{pages} pages. P/R/F1: 4-word shingles (dataset means); with%: `with` snippets found (higher is better);",
        "w/o%: `without` snippets found (lower is better); empty: pages with no text where the truth has some.",
        "",
        "| pipeline | P | R | F1 | word F1 | with% | w/o% | empty | median ms | p90 ms | x floor |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        score = result.overall
        lines.append(
            f"| {result.name} | {score.p:.3f} | {score.r:.3f} | {score.f1:.3f} | {statistics.fmean(score.word_f1s):.3f}"
            f" | {100 * statistics.fmean(score.with_hits or [0]):.1f}"
            f" | {100 * statistics.fmean(score.without_hits or [0]):.1f}"
            f" | {score.empty_with_truth} | {statistics.median(result.ms):.1f} | {percentile(result.ms, 0.9):.1f}"
            f" | {sum(result.ms) / floor_total:.1f} |"
        )
    kinds = sorted(
        {kind for result in results for kind in result.types}, key=lambda k: -len(results[0].types[k].word_f1s)
    )
    halves = sorted({half for result in results for half in result.halves})
    lines += ["", "Shingle F1 per page type and per half (`held`: ids with an even CRC-32, never tuned on):", ""]
    header = [f"{kind} ({len(results[0].types[kind].word_f1s)})" for kind in kinds] + halves
    lines.append("| pipeline | " + " | ".join(header) + " |")
    lines.append("|---|" + "---|" * len(header))
    for result in results:
        cells = [f"{result.types[kind].f1:.3f}" for kind in kinds] + [f"{result.halves[h].f1:.3f}" for h in halves]
        lines.append(f"| {result.name} | " + " | ".join(cells) + " |")
    scored = [result for result in results if result is not baseline and result.overall.finds_metadata]
    if baseline is not None and scored:
        lines += [
            "",
            f"Against readability alone: pages where text-mode's F1 is lower by more than {LOSS_MARGIN}, and pages",
            "where it is below 0.5 while readability alone has 0.9 or more (ids listed when there are any):",
            "",
            "| pipeline | loses by > 0.3 | below 0.5 where readability >= 0.9 |",
            "|---|---|---|",
        ]
        for result in scored:
            by_margin, collapsed = losses(result, baseline)
            lines.append(f"| {result.name} | {len(by_margin)} {_ids(by_margin)} | {len(collapsed)} {_ids(collapsed)} |")
    with_expected = [result for result in scored if any(result.overall.metadata.values())]
    if with_expected:
        lines += [
            "",
            "Metadata equal to the set's expected values (case and whitespace folded; the day of dates; a title",
            "may be the expected title's leading part, without the site's name; strict: the whole of it):",
            "",
        ]
        lines += ["| pipeline | title | title (strict) | byline | published |", "|---|---|---|---|---|"]
        for result in with_expected:
            cells = []
            for name in ("title", "title (strict)", *list(METADATA_FIELDS)[1:]):
                hits = result.overall.metadata.get(name, [])
                cells.append(f"{sum(hits)}/{len(hits)} ({100 * sum(hits) / len(hits):.0f}%)" if hits else "-")
            lines.append(f"| {result.name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _ids(ids: list[str]) -> str:
    return f"({', '.join(ids)})" if ids else ""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", choices=(*SETS, "all"), default="all", dest="set_name")
    parser.add_argument("--dataset", type=Path, help="a folder of the same layout instead of --set")
    parser.add_argument("--limit", type=int, default=0, help="score only this many pages of each set, spread out")
    parser.add_argument("--ids", default="", help="comma-separated page ids")
    parser.add_argument("--half", choices=("all", "held", "tuned"), default="all")
    parser.add_argument("--no-service", action="store_true", help="skip the running service over HTTP")
    parser.add_argument("--no-baseline", action="store_true", help="skip readability -> html2text")
    parser.add_argument("--fast", action="store_true", help="only readability alone and the JSON `text` field")
    parser.add_argument("--dump", type=Path, help="write each pipeline's output per page here")
    args = parser.parse_args(argv)

    ids = {part.strip() for part in args.ids.split(",") if part.strip()}
    datasets = chosen_sets(args.dataset, args.set_name)
    for set_name, folder in datasets.items():
        cases = load_cases(folder, limit=args.limit, ids=ids, held=args.half)
        if not cases:
            continue
        print(f"{set_name}: {len(cases)} pages loaded", file=sys.stderr)
        pipelines: dict[str, Callable[[Case], Answer]] = {"whole page, lxml `text_content()` (floor)": lxml_floor}
        alone = "readability `summary()` alone, as text"
        pipelines[alone] = readability_alone
        if not args.no_baseline and not args.fast:
            pipelines["readability `summary()` -> html2text (`body_width=0`), the starting point"] = (
                readability_html2text
            )
        pipelines["text-mode `extract()` -> JSON `text` field, in process"] = text_mode
        if not args.fast:
            pipelines["text-mode `extract()` -> whole JSON answer (`text` + html2text `markdown`), in process"] = (
                text_mode_json
            )
            pipelines[
                "text-mode `extract()` -> text format (curl's default, with header and references), in process"
            ] = text_mode_terminal
        with contextlib.ExitStack() as stack:
            if not args.no_service:
                origin = stack.enter_context(served_pages(cases))
                service = stack.enter_context(running_service())
                pipelines["text-mode service over HTTP (JSON `text`)"] = service_pipeline(service, origin)
            results = run_all(pipelines, cases, args.dump / set_name if args.dump else None)
        baseline = next(result for result in results if result.name == alone)
        print(f"## {set_name}\n")
        print(report(results, sum(results[0].ms), len(cases), baseline))
        print()


if __name__ == "__main__":
    main()
