"""Memory under load: RSS of the real gunicorn master and workers while wrk drives real pages, per configuration.

    .venv/bin/python -m bench.memory                          # mixed traffic, 32 connections, 25 s each
    .venv/bin/python -m bench.memory --traffic cached         # only answers the cache already holds
    .venv/bin/python -m bench.memory --workers 1 --cache none --seconds 300 --configs shipped
    .venv/bin/python -m bench.memory --lambda                 # the Lambda runtime, one request at a time

The origin is a loopback site serving the real benchmark pages beside `../shared` (WCXB test and Mozilla
Readability's). Mixed traffic: three requests in four are a page under a URL never asked before (so the
cache cannot answer), one in four is one of 20 hot answers (5 pages in the four formats, cached after
their first answer); the formats take turns. Cached traffic: the 20 hot pages only, the formats in turn.
RSS is VmRSS from /proc, sampled every half second; "warm" is after 4 s of cached traffic, when each worker
has imported the pipeline; growth is from warm to the end. "Arena heaps" counts glibc's 64 MiB malloc
heaps in each worker's /proc/<pid>/maps: one a non-main arena. Configurations run in turn in one run; CPU
ms per answer (the workers' own CPU time) is what a machine shared with other work distorts least.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

from app.__main__ import HANDLER, MALLOC_ARENAS, gunicorn_options
from bench import ROOT, html_origin, started_service

BENCHMARKS = ROOT.parent / "shared" / "benchmarks"
SETS = {"w": BENCHMARKS / "wcxb-test" / "html", "m": BENCHMARKS / "mozilla-readability" / "html"}
SERVICE = "/default/text-mode"
FORMATS = ("text", "markdown", "json", "html")
HOT = 20  # hot URLs: the cached part of the traffic
HEAP_MAX_SIZE = 64 * 1024 * 1024  # glibc's non-main arena heap on 64-bit: reserved whole, aligned to its size


def benchmark_pages() -> dict[str, bytes]:
    """Every page of both sets, decoded, by '<set letter>-<id>', in name order."""
    pages = {}
    for letter, folder in SETS.items():
        for path in sorted(folder.glob("*.html.gz")):
            pages[f"{letter}-{path.name.removesuffix('.html.gz')}"] = gzip.decompress(path.read_bytes())
    return pages


@dataclass(frozen=True)
class Config:
    name: str
    label: str
    argv: list[str] | None  # None: `python -m app`, as shipped
    env: dict[str, str] = field(default_factory=dict)


def launcher(threads: int, arenas: int) -> list[str]:
    """`python -m app`'s gunicorn with other threads and arena limit (0: glibc's default), nothing else imported."""
    limit = f"limit_malloc_arenas({arenas}); " if arenas else ""
    return [
        sys.executable,
        "-c",
        "import os; from app import configure_logging; "
        "from app.__main__ import gunicorn_options, limit_malloc_arenas, serve; "
        f"configure_logging(); {limit}serve({{**gunicorn_options(dict(os.environ)), 'threads': {threads}}})",
    ]


SHIPPED_THREADS = gunicorn_options({})["threads"]
CONFIGS = {
    config.name: config
    for config in (
        Config("shipped", f"python -m app: {SHIPPED_THREADS} threads, {MALLOC_ARENAS} arenas", None),
        Config("32-threads", "32 threads, glibc's arenas", launcher(32, 0)),
        Config("32-threads-env", "32 threads, MALLOC_ARENA_MAX=2", launcher(32, 0), {"MALLOC_ARENA_MAX": "2"}),
        Config("8-threads", "8 threads, glibc's arenas", launcher(8, 0)),
        Config("8-threads-2", "8 threads, 2 arenas", launcher(8, 2)),
        Config("32-threads-1", "32 threads, 1 arena", launcher(32, 1)),
    )
}
DEFAULT_CONFIGS = ["shipped", "32-threads", "32-threads-env", "8-threads", "8-threads-2"]


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def status_field(pid: int, name: str) -> int:
    """A number from /proc/<pid>/status (VmRSS in KiB, Threads)."""
    match = re.search(rf"^{name}:\s+(\d+)", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
    return int(match.group(1)) if match else 0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of one process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def arena_heaps(pid: int) -> int:
    """glibc's non-main arena heaps in a process: anonymous rw regions at a 64 MiB boundary, 64 MiB with their reserve.

    glibc maps each heap as HEAP_MAX_SIZE aligned to HEAP_MAX_SIZE, readable and writable as far as it is used,
    the rest PROT_NONE (malloc/arena.c, new_heap). Checked against malloc_stats() in a process of 11 threads.
    """
    regions = []
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        address, perms, *rest = line.split()
        low, high = (int(part, 16) for part in address.split("-"))
        regions.append((low, high, perms, len(rest) > 3))  # a fourth field is a file name or [stack] and the like
    heaps = 0
    for index, (low, high, perms, named) in enumerate(regions):
        if named or perms != "rw-p" or low % HEAP_MAX_SIZE:
            continue
        following = regions[index + 1] if index + 1 < len(regions) else None
        if following and following[0] == high and following[2] == "---p" and not following[3]:
            high = following[1]
        heaps += high - low == HEAP_MAX_SIZE
    return heaps


class Sampler:
    """RSS of a gunicorn master and each of its workers, every half second, on a thread of its own."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.samples: list[dict[int, int]] = []  # pid -> VmRSS KiB, the master included
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> dict[int, int]:
        pids = [self.master, *children(self.master)]
        return {pid: status_field(pid, "VmRSS") for pid in pids}

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.samples.append(self.sample())

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass(frozen=True)
class Load:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    failed: int  # answers that were not 2xx/3xx, and socket errors


WRK_SCRIPT = """
local names = {%(names)s}
local hot = {%(hot)s}
local formats = {%(formats)s}
local prefix = "%(service)s?url=" .. "%(origin)s"
local cached_only = %(cached_only)s
local counter = 0
local next_id = 0

-- thread:set makes thread_id a global of that thread's script
function setup(thread)
  next_id = next_id + 1
  thread:set("thread_id", next_id)
end

function request()
  counter = counter + 1
  local format = formats[(math.floor(counter / 4) + counter) %% #formats + 1]
  local path
  if cached_only or counter %% 4 == 0 then
    path = prefix .. hot[counter %% #hot + 1]
  else
    local n = thread_id * 1000003 + counter
    path = prefix .. names[(n * 7919) %% #names + 1] .. "%%3Fcopy%%3D" .. thread_id .. "-" .. counter
  end
  return wrk.format("GET", path .. "&format=" .. format)
end
"""


def wrk(base: str, origin: str, names: list[str], *, cached_only: bool, seconds: float, connections: int) -> Load:
    """Drive the service with wrk for a while; requests/s, latency and failures as wrk counts them."""
    lua = WRK_SCRIPT % {
        "names": ", ".join(f'"{name}"' for name in names),
        "formats": ", ".join(f'"{name}"' for name in FORMATS),
        "hot": ", ".join(f'"{name}"' for name in names[:: max(1, len(names) // HOT)][:HOT]),
        "service": SERVICE,
        "origin": quote(f"{origin}/page/", safe=""),
        "cached_only": "true" if cached_only else "false",
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-memory-") as script:
        script.write(lua)
        script.flush()
        command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:.0f}s", "--timeout", "60s", "--latency"]
        out = subprocess.run([*command, "-s", script.name, base], capture_output=True, text=True, check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    failed = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    failed += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return Load(requests, rps, latency_ms(out, "50%"), latency_ms(out, "99%"), failed)


def latency_ms(out: str, percentile: str) -> float:
    value, unit = re.search(rf"^\s+{percentile}\s+([\d.]+)(us|ms|s)", out, re.MULTILINE).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def pss_kib(pids: list[int]) -> int:
    """Proportional set size of these processes added up: pages shared after the fork counted once."""
    total = 0
    for pid in pids:
        match = re.search(r"^Pss:\s+(\d+)", Path(f"/proc/{pid}/smaps_rollup").read_text(), re.MULTILINE)
        total += int(match.group(1)) if match else 0
    return total


@dataclass
class Result:
    config: Config
    load: Load
    master: int
    idle: dict[int, int]
    warm: dict[int, int]
    samples: list[dict[int, int]]
    pss: tuple[int, int]  # master and workers together, warm and at the end
    cpu: dict[int, float]  # each worker's CPU seconds during the run: how the work was shared
    heaps: list[int]
    loadavg: str

    def workers(self) -> list[int]:
        return [pid for pid in self.warm if pid != self.master]

    def series(self, pid: int) -> list[int]:
        return [sample[pid] for sample in self.samples if pid in sample] or [self.warm[pid]]


def measure(
    config: Config,
    origin: str,
    names: list[str],
    *,
    traffic: str,
    seconds: float,
    connections: int,
    workers: int,
    cache: str,
) -> Result:
    """One configuration: start it, warm it with cached traffic, then sample RSS under the chosen traffic."""
    settings = {"WEB_CONCURRENCY": str(workers), "TEXT_MODE_ALLOW_PRIVATE": "1", "TEXT_MODE_CACHE": cache}
    settings.update(config.env)
    with started_service(settings, argv=config.argv) as (base, process):
        while len(children(process.pid)) < workers:
            time.sleep(0.1)
        time.sleep(1)  # the last worker has booted
        sampler = Sampler(process.pid)
        idle = sampler.sample()
        wrk(base, origin, names, cached_only=True, seconds=4, connections=connections)  # every worker imports
        warm = sampler.sample()
        pids = list(warm)
        worker_pids = pids[1:]
        pss_warm = pss_kib(pids)
        cpu_before = {pid: cpu_seconds(pid) for pid in worker_pids}
        with sampler:
            load = wrk(base, origin, names, cached_only=traffic == "cached", seconds=seconds, connections=connections)
        replaced = [pid for pid in worker_pids if pid not in children(process.pid)]
        if replaced:  # a worker that died took its requests and its memory figures with it
            raise RuntimeError(f"{config.name}: workers {replaced} were replaced during the run; see the service log")
        cpu = {pid: cpu_seconds(pid) - cpu_before[pid] for pid in worker_pids}
        heaps = [arena_heaps(pid) for pid in worker_pids]
        pss_end = pss_kib(pids)
        loadavg = Path("/proc/loadavg").read_text().split()[0]
    return Result(config, load, process.pid, idle, warm, sampler.samples, (pss_warm, pss_end), cpu, heaps, loadavg)


def mib(kib: float) -> str:
    return f"{kib / 1024:.0f}"


def report(results: list[Result], *, traffic: str, seconds: float, connections: int, cache: str) -> None:
    """The configurations side by side: load, then memory (MiB), then whether it was still rising."""
    print(
        f"\n{traffic} traffic, {connections} connections, {seconds:.0f} s a configuration after 4 s to warm, "
        f"TEXT_MODE_CACHE={cache}"
    )
    print(f"| {'configuration':<35} | answers/s | p50 ms | p99 ms | failed | worker CPU ms/answer | load avg |")
    print(f"|{'-' * 37}|-----------|--------|--------|--------|----------------------|----------|")
    for r in results:
        print(
            f"| {r.config.label:<35} | {r.load.rps:9.1f} | {r.load.p50_ms:6.0f} | {r.load.p99_ms:6.0f} | "
            f"{r.load.failed:6d} | {sum(r.cpu.values()) * 1000 / max(1, r.load.requests):20.1f} | {r.loadavg:>8} |"
        )
    print()
    print(
        f"| {'configuration':<35} | {'each worker: CPU s; RSS idle, warm -> peak -> end (growth)':<66} | arena heaps | "
        f"{'all RSS warm -> end':<21} | {'all PSS warm -> end':<19} | last third |"
    )
    print(f"|{'-' * 37}|{'-' * 68}|-------------|{'-' * 23}|{'-' * 21}|------------|")
    for r in results:
        each = []
        for pid in r.workers():
            series = r.series(pid)
            each.append(
                f"{r.cpu[pid]:.0f} s; {mib(r.idle.get(pid, 0))}, {mib(r.warm[pid])} -> {mib(max(series))} -> "
                f"{mib(series[-1])} ({series[-1] / r.warm[pid] - 1:+.0%})"
            )
        totals = [sum(sample.values()) for sample in r.samples] or [sum(r.warm.values())]
        warm_total = sum(r.warm.values())
        third = max(1, len(totals) // 3)
        rise = statistics.mean(totals[-third:]) - statistics.mean(totals[-2 * third : -third] or totals[:1])
        rss = f"{mib(warm_total)} -> {mib(totals[-1])} ({totals[-1] / warm_total - 1:+.0%})"
        pss = f"{mib(r.pss[0])} -> {mib(r.pss[1])} ({r.pss[1] / r.pss[0] - 1:+.0%})"
        print(
            f"| {r.config.label:<35} | {' / '.join(each):<66} | {', '.join(map(str, r.heaps)):<11} | "
            f"{rss:<21} | {pss:<19} | {rise / 1024:+8.1f}   |"
        )
    print("(all: the master and the workers; last third: mean total RSS in the run's last third minus the one before)")
    for r in results:
        totals = [sum(sample.values()) for sample in r.samples]
        tenths = [totals[min(len(totals) - 1, len(totals) * n // 10)] for n in range(1, 11)] if totals else []
        print(f"  {r.config.label}: all RSS at each tenth of the run: {' '.join(mib(kib) for kib in tenths)}")


def lambda_memory(origin: str, names: list[str], *, seconds: float) -> None:
    """The Lambda runtime as the image runs it, one invocation at a time, with and without an arena limit."""
    from tests.lambda_runtime import LambdaProcess, RuntimeAPI, event_for

    image = [sys.executable, "-m", "awslambdaric", HANDLER]  # what the Lambda image's entrypoint runs
    runs = {"glibc's arenas": {}, "MALLOC_ARENA_MAX=2": {"MALLOC_ARENA_MAX": "2"}}
    print(f"\nLambda (python -m awslambdaric, as the image): distinct pages one at a time for {seconds:.0f} s")
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        for label, env in runs.items():
            runtime = RuntimeAPI()
            process = LambdaProcess(
                runtime, {"TEXT_MODE_ALLOW_PRIVATE": "1", **env}, argv=image, log_path=Path(tmp) / "f.log"
            )
            try:
                pid = process.process.pid
                rss, count = [], 0
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    url = quote(f"{origin}/page/{names[(count * 7919) % len(names)]}?copy={count}", safe="")
                    event = event_for("http-api-v2_stage-default", path=SERVICE, query=f"url={url}")
                    runtime.invoke(event, process=process)
                    count += 1
                    rss.append(status_field(pid, "VmRSS"))
                print(
                    f"  {label}: {count} pages; RSS (MiB) after the first {mib(rss[0])}, "
                    f"half-way {mib(rss[count // 2])}, peak {mib(max(rss))}, end {mib(rss[-1])}; "
                    f"{status_field(pid, 'Threads')} threads, {arena_heaps(pid)} arena heaps"
                )
            finally:
                process.stop()
                runtime.close()


@contextmanager
def origin(pages: dict[str, bytes]) -> Iterator[str]:
    """The loopback site: /page/<name> (any query) from pages."""
    with html_origin(lambda target: pages.get(urlsplit(target).path.removeprefix("/page/"))) as base:
        yield base


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traffic", choices=["mixed", "cached", "both"], default="mixed")
    parser.add_argument("--seconds", type=float, default=25, help="load per configuration (default 25)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections (default 32)")
    parser.add_argument("--workers", type=int, default=2, help="WEB_CONCURRENCY (default 2, as shipped)")
    parser.add_argument("--cache", default="memory", help="TEXT_MODE_CACHE (default memory, as shipped; or none)")
    parser.add_argument("--configs", nargs="*", choices=list(CONFIGS), default=DEFAULT_CONFIGS)
    parser.add_argument("--lambda", dest="lambda_", action="store_true", help="measure the Lambda runtime instead")
    args = parser.parse_args(argv)
    pages = benchmark_pages()
    names = list(pages)
    with origin(pages) as base:
        if args.lambda_:
            lambda_memory(base, names, seconds=args.seconds)
            return
        for traffic in ["mixed", "cached"] if args.traffic == "both" else [args.traffic]:
            results = [
                measure(
                    CONFIGS[name],
                    base,
                    names,
                    traffic=traffic,
                    seconds=args.seconds,
                    connections=args.connections,
                    workers=args.workers,
                    cache=args.cache,
                )
                for name in args.configs
            ]
            report(results, traffic=traffic, seconds=args.seconds, connections=args.connections, cache=args.cache)


if __name__ == "__main__":
    main()
