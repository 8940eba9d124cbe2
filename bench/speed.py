"""Speed, caching and scale, measured side by side in one run against the real gunicorn process.

    .venv/bin/python -m bench.speed                         # every figure (about 5 minutes on 2 cores)
    .venv/bin/python -m bench.speed throughput slow-origin  # only the figures named
    .venv/bin/python -m bench.speed --chart bench/speed.png # also draw time per page against page size

Figures: throughput (wrk: cached answers vs the usage text), per-page (the service over loopback vs the
in-process readability -> html2text pipeline on WCXB pages), slow-origin (a cached request while 20 wait
on a 3-second origin), memory (RSS after 900 distinct pages vs 300, cache off), size (time per page from
10 KB to 5 MB), workers (uncached and cached throughput per gunicorn worker layout). Machines are noisy:
read the ratios, each taken from two measurements made in turn in the same run.
"""

from __future__ import annotations

import argparse
import gzip
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import html2text
import requests
from readability import Document

from bench import free_port, html_origin, started_service

ROOT = Path(__file__).resolve().parent.parent
WCXB = ROOT.parent / "shared" / "benchmarks" / "wcxb-test" / "html"
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


def per_page(origin_base: str, pages: dict[str, bytes]) -> list[Figure]:
    session = requests.Session()
    stages: dict[str, float] = {}
    with service(cache="none", workers=1) as server:

        def served(name: str) -> float:
            started = time.perf_counter()
            response = session.get(f"{server.base}{SERVICE}", params={"url": f"{origin_base}/page/{name}"}, timeout=60)
            elapsed = time.perf_counter() - started
            for metric in response.headers.get("Server-Timing", "").split(", "):
                name_, _, rest = metric.partition(";")
                duration = re.search(r"dur=([\d.]+)", rest)
                if duration and name_ in ("fetch", "extract", "render"):
                    stages[name_] = stages.get(name_, 0.0) + float(duration.group(1)) / 1000
            return elapsed

        def in_process(name: str) -> float:
            started = time.perf_counter()
            readability_html2text(pages[name])
            return time.perf_counter() - started

        for name in list(pages)[:5]:  # warm both: imports, first-call caches
            served(name)
            in_process(name)
        stages.clear()
        service_times, pipeline_times = [], []
        for name in pages:
            service_times.append(served(name))
            pipeline_times.append(in_process(name))
    total_service, total_pipeline = sum(service_times), sum(pipeline_times)
    ratio = total_service / total_pipeline
    median_ratio = statistics.median(s / p for s, p in zip(service_times, pipeline_times, strict=True))
    print(
        f"per-page on {len(pages)} WCXB pages: service {total_service:.1f} s "
        f"(median {statistics.median(service_times) * 1000:.0f} ms), readability -> html2text {total_pipeline:.1f} s "
        f"(median {statistics.median(pipeline_times) * 1000:.0f} ms) -> total {ratio:.2f}x, "
        f"median page {median_ratio:.2f}x"
    )
    print("  inside the service: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in stages.items()))
    return [("service per page vs readability -> html2text", f"{ratio:.2f}x", "<= 1.3x", ratio <= 1.3)]


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    figures_known = ["throughput", "per-page", "slow-origin", "memory", "size", "workers"]
    parser.add_argument("figures", nargs="*", choices=[[], *figures_known], default=[])
    parser.add_argument("--pages", type=int, default=120, help="WCXB pages for per-page (default 120, 511 for all)")
    parser.add_argument("--chart", type=Path, help="write the page-size chart (PNG) here")
    args = parser.parse_args(argv)
    chosen = args.figures or figures_known
    pages = wcxb_pages()
    names = list(pages)
    served = dict(pages)
    served.update({f"size-{s}": sized_page(s) for s in SIZES})
    subset = {name: pages[name] for name in names[:: max(1, len(names) // args.pages)][: args.pages]}
    results: list[Figure] = []
    with origin(served) as origin_base:
        if "throughput" in chosen:
            results += throughput(origin_base)
        if "per-page" in chosen:
            results += per_page(origin_base, subset)
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
        print(f"| {'figure':<48} | {'measured':>10} | {'target':<22} | met |")
        print(f"|{'-' * 50}|{'-' * 12}|{'-' * 24}|-----|")
        for name, measured, target, met in results:
            print(f"| {name:<48} | {measured:>10} | {target:<22} | {'yes' if met else 'NO':<3} |")


if __name__ == "__main__":
    main()
