"""Cold start: process start to first response under the Runtime API stand-in, beside a bare Flask function.

    .venv/bin/python -m bench.cold_start            # 9 starts of each, medians and the ratio
    .venv/bin/python -m bench.cold_start --runs 21

Each run starts a fresh process with the first event already queued, and times from just before the
process starts until the stand-in receives the function's answer: interpreter start, imports, the app's
construction, the runtime client's first /next, the request, the reply. Three functions, taken in turns
so that a busy machine slows them alike:

- text-mode as `python -m app` runs it (awslambdaric's loop in the same process), asked for its usage text
- text-mode as the Lambda image runs it (`python -m awslambdaric app.lambda_handler.handler`)
- a bare Flask app behind apig-wsgi, under `python -m awslambdaric`, answering "hello"

Target: text-mode at most 1.5 times the bare function.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.lambda_runtime import ROOT, LambdaProcess, RuntimeAPI, event_for

BARE_FUNCTION = """
from apig_wsgi import make_lambda_handler
from flask import Flask

app = Flask(__name__)


@app.get("/default/text-mode")
def hello():
    return "hello\\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


handler = make_lambda_handler(app)
"""


def first_response_seconds(argv: list[str], env: dict[str, str], workdir: Path) -> tuple[float, float]:
    """Seconds from process start to the answer to the event queued before it started, and its CPU seconds.

    The CPU time (user + system, read when the process is reaped) is what a busy machine distorts least.
    """
    runtime = RuntimeAPI()
    event = event_for("http-api-v2_stage-default", path="/default/text-mode", headers={"Accept": "*/*"})
    process = None
    try:
        started = time.monotonic()
        process = LambdaProcess(runtime, env, argv=argv, log_path=workdir / "function.log")
        outcome = runtime.invoke(event, process=process)
        elapsed = time.monotonic() - started
        if outcome.kind != "response" or outcome.body["statusCode"] != 200:
            raise RuntimeError(f"unexpected answer from {argv}: {outcome}")
        process.process.kill()  # it waits for the next event now: idle, so its CPU time is the cold start's
        _, _, usage = os.wait4(process.process.pid, 0)
        return elapsed, usage.ru_utime + usage.ru_stime
    finally:
        if process is not None:
            process.stop()
        runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9, help="starts of each function (default 9)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cold-start-") as tmp:
        workdir = Path(tmp)
        (workdir / "bare_function.py").write_text(BARE_FUNCTION)
        bare_env = {"PYTHONPATH": str(workdir)}
        functions = {
            "text-mode, python -m app": ([sys.executable, "-m", "app"], {}),
            "text-mode, python -m awslambdaric": (
                [sys.executable, "-m", "awslambdaric", "app.lambda_handler.handler"],
                {},
            ),
            "bare Flask + apig-wsgi hello": (
                [sys.executable, "-m", "awslambdaric", "bare_function.handler"],
                bare_env,
            ),
        }
        times: dict[str, list[float]] = {name: [] for name in functions}
        cpu: dict[str, list[float]] = {name: [] for name in functions}
        first_response_seconds(*functions["text-mode, python -m app"], workdir)  # warm the disk cache
        for _ in range(args.runs):
            for name, (argv, env) in functions.items():
                elapsed, cpu_seconds = first_response_seconds(argv, env, workdir)
                times[name].append(elapsed)
                cpu[name].append(cpu_seconds)

    bare_name = "bare Flask + apig-wsgi hello"
    bare_wall, bare_cpu = statistics.median(times[bare_name]), statistics.median(cpu[bare_name])
    print(f"cold start, process start to first response, {args.runs} runs each, under the Runtime API stand-in")
    print(f"{'function':36} {'wall median':>11} {'wall min':>9} {'x bare':>7} {'CPU median':>11} {'x bare':>7}")
    for name in functions:
        wall, cpu_median = statistics.median(times[name]), statistics.median(cpu[name])
        print(
            f"{name:36} {wall * 1000:9.0f}ms {min(times[name]) * 1000:7.0f}ms {wall / bare_wall:6.2f}x"
            f" {cpu_median * 1000:9.0f}ms {cpu_median / bare_cpu:6.2f}x"
        )
    ours = "text-mode, python -m app"
    print(
        f"ratio text-mode (python -m app) / bare: wall {statistics.median(times[ours]) / bare_wall:.2f}x,"
        f" CPU {statistics.median(cpu[ours]) / bare_cpu:.2f}x (target <= 1.50x) in {ROOT}"
    )


if __name__ == "__main__":
    main()
