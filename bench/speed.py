"""Speed, caching and scale, measured side by side in one run against the real gunicorn process.

    .venv/bin/python -m bench.speed                         # every figure (about 12 minutes on 2 cores)
    .venv/bin/python -m bench.speed throughput slow-origin  # only the figures named
    .venv/bin/python -m bench.speed --chart bench/speed.png # also draw time per page against page size
    .venv/bin/python -m bench.speed per-page in-process --set mozilla --pages 40  # one set, 40 pages of it

Figures: throughput (wrk: cached answers vs the usage text), per-page (the service over loopback, format=text
and format=json, vs the in-process readability -> html2text pipeline, page by page in turn on every page of
each benchmark set), in-process (extract + text render vs readability's summary() alone, page by page),
slow-origin (a cached request while 20 wait on a 3-second origin), memory (RSS after 900 distinct pages vs
300, cache off), size (time per page from 10 KB to 5 MB), workers (uncached and cached throughput per
gunicorn worker layout). Machines are noisy: read the ratios, each taken from two measurements made in turn
in the same run. Per-page and in-process give medians over the pages of a set and the median and p90 of the
per-page ratios, not totals.
"""

from __future__ import annotations

import argparse
import gzip
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import quote, urlsplit

import html2text
import requests
from readability import Document

from app.document import Page
from app.errors import TextModeError
from app.extract import extract
from app.fetch import decode
from app.render import render_text
from bench import free_port, html_origin, started_service
from bench.quality import SETS, Case, chosen_sets, load_cases, percentile

WCXB = SETS["wcxb-test"] / "html"
# Pages each pipeline reads before timing starts: imports, first-call caches, lxml's and the service's warm-up.
WARM_UP = 5
SERVICE = "/default/text-mode"
PARAGRAPH = (
    "<p>Owls hunt at night with silent feathers and very good ears; a barn owl can find a mouse under "
    "snow by sound alone, and turns its head up to 270 degrees thanks to extra vertebrae.</p>\n"
)


def wcxb_pages(limit: int | None = None) -> dict[str, bytes]:
    """The WCXB test pages, decoded, by id, in id order."""
    paths = sorted(WCXB.glob("*.html.gz"))[:limit]
    return {path.name.removesuffix(".html.gz"): gzip.decompress(path.read_bytes()) for path in paths}


def sized_page(size: int) -> bytes:
    """An article of about size bytes: a title and as many paragraphs as fit."""
    head = b"<!doctype html><html><head><meta charset='utf-8'><title>Owls</title></head><body><article><h1>Owls</h1>"
    count = max(1, (size - len(head)) // len(PARAGRAPH))
    return head + PARAGRAPH.encode() * count + b"</article></body></html>"


@contextmanager
def origin(pages: dict[str, bytes]) -> Iterator[str]:
    """A loopback origin: /page/<name> (any query) from pages, /slow/<n> after 3 seconds; yields its base URL."""

    def page_for(target: str) -> bytes | None:
        path = urlsplit(target).path
        if path.startswith("/slow/"):
            time.sleep(3)
            return sized_page(5000)
        return pages.get(path.removeprefix("/page/"))

    with html_origin(page_for) as base:
        yield base


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def rss_kib(self) -> int:
        """Resident memory of the workers, added up."""
        total = 0
        for pid in self.worker_pids():
            status = Path(f"/proc/{pid}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))  # type: ignore[union-attr]
        return total


@contextmanager
def service(*, cache: str = "memory", workers: int = 2, command: list[str] | None = None) -> Iterator[Server]:
    """The service as shipped (`python -m app`), or a gunicorn command line, on a free loopback port."""
    settings = {"WEB_CONCURRENCY": str(workers), "TEXT_MODE_ALLOW_PRIVATE": "1", "TEXT_MODE_CACHE": cache}
    port = free_port()
    argv = None if command is None else [*command, "--bind", f"127.0.0.1:{port}"]
    with started_service(settings, argv=argv, port=port) as (base, process):
        yield Server(base, process)


def ask(base: str, url: str, **params: str) -> requests.Response:
    return requests.get(f"{base}{SERVICE}", params={**params, "url": url}, timeout=120)


def wrk(url: str, *, seconds: int, connections: int, expect_errors: bool = False) -> float:
    """Requests per second wrk reaches on url."""
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", url], capture_output=True, text=True, check=True
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors and not expect_errors:
        raise RuntimeError(f"wrk saw {errors.group(1)} failed answers from {url}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


def alternate(first: Callable[[], float], second: Callable[[], float], rounds: int) -> tuple[float, float]:
    """Median of each measurement, taken in turn (ABAB...) so that drift on the machine hits both alike."""
    a, b = [], []
    for _ in range(rounds):
        a.append(first())
        b.append(second())
    return statistics.median(a), statistics.median(b)


def cached_url(server: Server, url: str) -> str:
    """The service URL for url, asked until both workers have it cached."""
    full = f"{server.base}{SERVICE}?url={quote(url, safe='')}"
    hits = 0
    while hits < 8:
        timing = requests.get(full, timeout=60).headers["Server-Timing"]
        hits = hits + 1 if 'desc="hit"' in timing else 0
    return full


Figure = tuple[str, str, str, bool]  # name, measured, target, met


def throughput(origin_base: str, *, seconds: int = 4, rounds: int = 3) -> list[Figure]:
    with service() as server:
        page = cached_url(server, f"{origin_base}/page/4011")
        home = f"{server.base}{SERVICE}"
        cached, static = alternate(
            lambda: wrk(page, seconds=seconds, connections=16),
            lambda: wrk(home, seconds=seconds, connections=16),
            rounds,
        )
        robots = wrk(f"{server.base}/default/robots.txt", seconds=seconds, connections=16, expect_errors=True)
    ratio = cached / static
    print(
        f"throughput: cached answer {cached:.0f} req/s, usage text {static:.0f} req/s -> {ratio:.2f}x; "
        f"a 404, the cheapest answer Flask gives: {robots:.0f} req/s ({cached / robots:.2f}x)"
    )
    return [("cached answers/s vs the usage text", f"{ratio:.2f}x", ">= 0.8x", ratio >= 0.8)]


def readability_html2text(html: bytes) -> str:
    summary = Document(html.decode("utf-8", errors="replace")).summary(html_partial=True)
    converter = html2text.HTML2Text()  # stateful: a fresh one per call
    return str(converter.handle(summary))


@dataclass
class Paired:
    """Seconds per page of ours and theirs, measured in turn page by page, and the pages left out, by reason."""

    ours: list[float] = field(default_factory=list)
    theirs: list[float] = field(default_factory=list)
    apart: Counter[str] = field(default_factory=Counter)

    def add(self, ours: float, theirs: float) -> None:
        self.ours.append(ours)
        self.theirs.append(theirs)

    @property
    def ratios(self) -> list[float]:
        return [ours / theirs for ours, theirs in zip(self.ours, self.theirs, strict=True)]

    @property
    def median_ratio(self) -> float:
        return statistics.median(self.ratios)

    @property
    def p90_ratio(self) -> float:
        return percentile(self.ratios, 0.9)

    def medians_ms(self) -> tuple[float, float]:
        return statistics.median(self.ours) * 1000, statistics.median(self.theirs) * 1000

    def left_out(self) -> str:
        """How many pages were not timed and why, for the printed line."""
        if not self.apart:
            return "none left out"
        reasons = ", ".join(f"{count} {reason}" for reason, count in sorted(self.apart.items()))
        return f"{sum(self.apart.values())} left out of the medians ({reasons})"


def seconds(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def server_timing_ms(response: requests.Response) -> dict[str, float]:
    """The service's own fetch, extract and render times for one answer, from its Server-Timing header."""
    stages = {}
    for metric in response.headers.get("Server-Timing", "").split(", "):
        name, _, rest = metric.partition(";")
        duration = re.search(r"dur=([\d.]+)", rest)
        if duration and name in ("fetch", "extract", "render"):
            stages[name] = float(duration.group(1))
    return stages


def per_page(origin_base: str, set_name: str, cases: list[Case]) -> list[Figure]:
    """The service (format=text, format=json) against readability -> html2text in process, page by page in turn."""
    session = requests.Session()
    pairs = {"text": Paired(), "json": Paired()}
    stages: dict[str, dict[str, list[float]]] = {fmt: {} for fmt in pairs}
    with service(cache="none", workers=1) as server:

        def served(case: Case, fmt: str) -> tuple[float, requests.Response]:
            url = f"{origin_base}/page/{set_name}/{case.id}"
            started = time.perf_counter()
            response = session.get(f"{server.base}{SERVICE}", params={"url": url, "format": fmt}, timeout=120)
            return time.perf_counter() - started, response

        for case in cases[:WARM_UP]:
            for fmt in pairs:
                served(case, fmt)
            readability_html2text(case.html)
        for case in cases:
            answers = {fmt: served(case, fmt) for fmt in pairs}
            pipeline = seconds(partial(readability_html2text, case.html))
            for fmt, (elapsed, response) in answers.items():
                if response.status_code != 200:
                    pairs[fmt].apart[f"HTTP {response.status_code}"] += 1
                    continue
                pairs[fmt].add(elapsed, pipeline)
                for stage, ms in server_timing_ms(response).items():
                    stages[fmt].setdefault(stage, []).append(ms)
    figures = []
    for fmt, pair in pairs.items():
        ours, theirs = pair.medians_ms()
        inside = ", ".join(f"{stage} {statistics.median(ms):.1f}" for stage, ms in stages[fmt].items())
        print(
            f"per-page, {set_name}, format={fmt}, {len(pair.ours)} of {len(cases)} pages ({pair.left_out()}): "
            f"service median {ours:.1f} ms, readability -> html2text {theirs:.1f} ms; per-page ratio median "
            f"{pair.median_ratio:.2f}x, p90 {pair.p90_ratio:.2f}x; total {sum(pair.ours) / sum(pair.theirs):.2f}x"
        )
        print(f"  inside the service, median ms: {inside}")
        figures.append(
            (
                f"{set_name}: service format={fmt} vs readability -> html2text, median page",
                f"{pair.median_ratio:.2f}x (p90 {pair.p90_ratio:.2f}x)",
                "<= 1.0x",
                pair.median_ratio <= 1.0,
            )
        )
    return figures


def decoded_page(case: Case) -> Page:
    """The case as fetch would hand it over: decoded by app.fetch.decode, at the loopback address of bench.quality."""
    text, charset = decode(case.html, header_charset=None, is_html=True)
    url = f"http://127.0.0.1/{case.id}.html"
    return Page(url, url, 200, "text/html", charset, text, True, 0.0)


# Each page is timed this many times in turn and the fastest of each side kept: on a shared machine a single
# timing of a 1 ms page is mostly the neighbours' noise.
IN_PROCESS_ROUNDS = 3


def extract_and_render(page: Page) -> float:
    """Seconds our pipeline takes in process, as far as the text format; raises our errors as extract does."""
    started = time.perf_counter()
    render_text(extract(page))
    return time.perf_counter() - started


def in_process_pair(pages: list[Page]) -> Paired:
    """extract + render_text against readability's summary() alone, page by page in turn after a warm-up, the
    fastest of IN_PROCESS_ROUNDS timings of each side."""
    pair = Paired()
    for page in pages[:WARM_UP]:
        with suppress(TextModeError):
            extract_and_render(page)
        Document(page.text).summary()
    for page in pages:
        try:
            ours = extract_and_render(page)
        except TextModeError as error:
            pair.apart[f"{type(error).__name__} ({error.code})"] += 1
            continue
        theirs = seconds(Document(page.text).summary)
        for _ in range(IN_PROCESS_ROUNDS - 1):
            ours = min(ours, extract_and_render(page))
            theirs = min(theirs, seconds(Document(page.text).summary))
        pair.add(ours, theirs)
    return pair


def in_process(set_name: str, cases: list[Case]) -> list[Figure]:
    pair = in_process_pair([decoded_page(case) for case in cases])
    ours, theirs = pair.medians_ms()
    median, p90 = pair.median_ratio, pair.p90_ratio
    print(
        f"in-process, {set_name}, {len(pair.ours)} of {len(cases)} pages ({pair.left_out()}): extract + render_text "
        f"median {ours:.1f} ms, readability summary() {theirs:.1f} ms; per-page ratio median {median:.2f}x, "
        f"p90 {p90:.2f}x"
    )
    name = f"{set_name}: extract + render_text vs readability summary()"
    return [(f"{name}, median page", f"{median:.2f}x", "<= 0.8x", median <= 0.8),
            (f"{name}, p90 page", f"{p90:.2f}x", "<= 1.0x", p90 <= 1.0)]  # fmt: skip


def cached_while_slow(server: Server, origin_base: str, cached: str) -> tuple[float, bool]:
    """Seconds a cached request takes while 20 requests for other pages wait on a 3-second origin."""
    with ThreadPoolExecutor(max_workers=20) as pool:
        waiting = [pool.submit(ask, server.base, f"{origin_base}/slow/{n}?t={time.time()}") for n in range(20)]
        time.sleep(0.5)  # all 20 are now inside the service, waiting on the origin
        started = time.perf_counter()
        answer = requests.get(cached, timeout=60)
        elapsed = time.perf_counter() - started
        for future in waiting:
            future.result()
    return elapsed, 'desc="hit"' in answer.headers["Server-Timing"]


def slow_origin(origin_base: str, *, trials: int = 3) -> list[Figure]:
    with service() as server:
        cached = cached_url(server, f"{origin_base}/page/4011")
        runs = [cached_while_slow(server, origin_base, cached) for _ in range(trials)]
    worst = max(elapsed for elapsed, _ in runs)
    print(
        "slow-origin: cached request answered in "
        + ", ".join(f"{elapsed * 1000:.0f} ms ({'hit' if hit else 'miss'})" for elapsed, hit in runs)
        + " while 20 requests waited on a 3 s origin"
    )
    return [
        (
            "cached request while 20 wait on a 3 s origin (worst of 3)",
            f"{worst * 1000:.0f} ms",
            "well under 1 s",
            worst < 0.5,
        )
    ]


def memory(origin_base: str, names: list[str]) -> list[Figure]:
    session = requests.Session()
    with service(cache="none", workers=1) as server:

        def run(start: int, stop: int) -> None:
            for n in range(start, stop):
                url = f"{origin_base}/page/{names[n % len(names)]}?copy={n}"
                session.get(f"{server.base}{SERVICE}", params={"url": url}, timeout=60)

        run(0, 300)
        after_300 = server.rss_kib()
        run(300, 900)
        after_900 = server.rss_kib()
    growth = after_900 / after_300 - 1
    print(
        f"memory (cache off): worker RSS {after_300 / 1024:.0f} MiB after 300 pages, "
        f"{after_900 / 1024:.0f} MiB after 900 -> {growth:+.1%}"
    )
    return [("RSS after 900 pages vs 300, cache off", f"{growth:+.1%}", "< 10%", growth < 0.10)]


SIZES = (10_000, 50_000, 100_000, 500_000, 1_000_000, 2_000_000, 5_000_000)


def size(origin_base: str, chart: Path | None) -> list[Figure]:
    session = requests.Session()
    times = {}
    with service(cache="none", workers=1) as server:
        for size_ in SIZES:
            samples = []
            for _ in range(3 if size_ <= 1_000_000 else 2):
                started = time.perf_counter()
                response = session.get(
                    f"{server.base}{SERVICE}", params={"url": f"{origin_base}/page/size-{size_}"}, timeout=120
                )
                samples.append(time.perf_counter() - started)
                assert response.status_code == 200, response.text
            times[size_] = statistics.median(samples)
    per_mb = {size_: times[size_] / (size_ / 1e6) for size_ in SIZES}
    print(
        "size: "
        + ", ".join(f"{s // 1000} KB {t * 1000:.0f} ms ({per_mb[s] * 1000:.0f} ms/MB)" for s, t in times.items())
    )
    cliff = per_mb[SIZES[-1]] / per_mb[100_000]
    if chart is not None:
        draw_size_chart(times, chart)
    return [("time per MB at 5 MB vs at 100 KB", f"{cliff:.2f}x", "~1x (linear, no cliff)", cliff <= 1.5)]


def draw_size_chart(times: dict[int, float], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [s / 1e6 for s in times]
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot(sizes, [t * 1000 for t in times.values()], "o-", label="measured")
    slope = times[1_000_000] / 1_000_000
    axis.plot(sizes, [slope * s * 1e6 * 1000 for s in sizes], "--", color="grey", label="linear through 1 MB")
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("page size (MB)")
    axis.set_ylabel("time per page (ms)")
    axis.set_title("text-mode: time per page against page size")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    print(f"  chart written to {path}")


LAYOUTS = {
    "gthread 2 workers x 8 threads": ["--workers", "2", "--worker-class", "gthread", "--threads", "8"],
    "gthread 2 workers x 32 threads": ["--workers", "2", "--worker-class", "gthread", "--threads", "32"],
    "gthread 4 workers x 8 threads": ["--workers", "4", "--worker-class", "gthread", "--threads", "8"],
    "sync 4 workers": ["--workers", "4", "--worker-class", "sync"],
}


def workers(origin_base: str, names: list[str]) -> list[Figure]:
    """Throughput per gunicorn layout: fresh pages (CPU-bound) and cached answers (wrk)."""
    gunicorn = [sys.executable, "-m", "gunicorn", "--preload", "app:create_app()"]
    for layout, options in LAYOUTS.items():
        with service(cache="memory", command=[*gunicorn, *options]) as server:
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=8) as pool:
                list(
                    pool.map(lambda n: ask(server.base, f"{origin_base}/page/{names[n % len(names)]}?w={n}"), range(80))
                )
            fresh = 80 / (time.perf_counter() - started)
            page = cached_url(server, f"{origin_base}/page/4011")
            cached = wrk(page, seconds=4, connections=16)
            waited = max(cached_while_slow(server, origin_base, page)[0] for _ in range(2))
            rss = server.rss_kib() / 1024
        print(
            f"workers: {layout}: {fresh:.1f} fresh pages/s, {cached:.0f} cached answers/s, "
            f"cached while 20 wait {waited * 1000:.0f} ms, {rss:.0f} MiB RSS"
        )
    return []


FIGURES = ["throughput", "per-page", "in-process", "slow-origin", "memory", "size", "workers"]
ON_SETS = ("per-page", "in-process")  # the figures measured on every page of each benchmark set


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("figures", nargs="*", choices=[[], *FIGURES], default=[])
    parser.add_argument(
        "--set", choices=(*SETS, "all"), default="all", dest="set_name", help="for per-page, in-process"
    )
    parser.add_argument("--dataset", type=Path, help="a folder in the sets' layout instead of --set")
    parser.add_argument("--pages", type=int, default=0, help="this many pages of each set, spread out (default all)")
    parser.add_argument("--chart", type=Path, help="write the page-size chart (PNG) here")
    return parser.parse_args(argv)


def benchmark_sets(args: argparse.Namespace) -> dict[str, list[Case]]:
    """The cases of each set the per-page figures run on, by set name."""
    folders = chosen_sets(args.dataset, args.set_name)
    return {name: load_cases(folder, limit=args.pages, ids=set(), held="all") for name, folder in folders.items()}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    chosen = args.figures or FIGURES
    sets = benchmark_sets(args) if any(figure in chosen for figure in ON_SETS) else {}
    pages = wcxb_pages() if set(chosen) - set(ON_SETS) else {}
    names = list(pages)
    served = dict(pages)
    served.update({f"size-{s}": sized_page(s) for s in SIZES})
    served.update({f"{set_name}/{case.id}": case.html for set_name, cases in sets.items() for case in cases})
    results: list[Figure] = []
    with origin(served) as origin_base:
        if "throughput" in chosen:
            results += throughput(origin_base)
        for set_name, cases in sets.items():
            if "per-page" in chosen:
                results += per_page(origin_base, set_name, cases)
            if "in-process" in chosen:
                results += in_process(set_name, cases)
        if "slow-origin" in chosen:
            results += slow_origin(origin_base)
        if "memory" in chosen:
            results += memory(origin_base, names)
        if "size" in chosen:
            results += size(origin_base, args.chart)
        if "workers" in chosen:
            results += workers(origin_base, names)
    if results:
        print()
        print(table(results))


def table(results: list[Figure]) -> str:
    """The figures as a Markdown table: measured, target and whether it is met."""
    rows = [("figure", "measured", "target", "met"), *((n, m, t, "yes" if ok else "NO") for n, m, t, ok in results)]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines = [
        "| " + " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) + " |" for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
