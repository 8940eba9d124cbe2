"""The README's quality benchmark command runs and prints its table (on a few pages, in process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
DATASET = ROOT.parent / "shared" / "benchmarks" / "wcxb-test"


@pytest.mark.skipif(not (DATASET / "pages.jsonl").exists(), reason="the WCXB pages are not beside the project")
def test_the_quality_benchmark_scores_a_few_pages() -> None:
    command = [sys.executable, "-m", "bench.quality", "--limit", "3", "--no-service"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("3 pages.")
    names = [line.split(" | ")[0].lstrip("| ") for line in lines if line.startswith("| ") and " | 0." in line]
    assert names[:5] == [
        "whole page, lxml `text_content()` (floor)",
        "readability `summary()` -> html2text (`body_width=0`), the starting point",
        "text-mode `extract()` -> JSON `text` field, in process",
        "text-mode `extract()` -> whole JSON answer (`text` + html2text `markdown`), in process",
        "text-mode `extract()` -> text format (curl's default, with header and references), in process",
    ]
