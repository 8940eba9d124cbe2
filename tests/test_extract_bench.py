"""The README's quality benchmark command runs and prints its tables (on a few pages of each set, in process)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
BENCHMARKS = ROOT.parent / "shared" / "benchmarks"


@pytest.mark.skipif(not (BENCHMARKS / "mozilla-readability" / "pages.jsonl").exists(), reason="no benchmark sets")
def test_the_quality_benchmark_scores_a_few_pages_of_each_set() -> None:
    command = [sys.executable, "-m", "bench.quality", "--limit", "3", "--no-service"]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, check=True)
    sections = result.stdout.split("## ")[1:]
    assert [section.splitlines()[0] for section in sections] == ["wcxb-test", "mozilla"]
    for section in sections:
        lines = section.splitlines()
        assert lines[2].startswith("3 pages.")
        names = [line.split(" | ")[0].lstrip("| ") for line in lines if line.startswith("| ") and " | 0." in line]
        assert names[:6] == [
            "whole page, lxml `text_content()` (floor)",
            "readability `summary()` alone, as text",
            "readability `summary()` -> html2text (`body_width=0`), the starting point",
            "text-mode `extract()` -> JSON `text` field, in process",
            "text-mode `extract()` -> whole JSON answer (`text` + html2text `markdown`), in process",
            "text-mode `extract()` -> text format (curl's default, with header and references), in process",
        ]
        assert "| text-mode `extract()` -> JSON `text` field, in process | " in section.split("loses by > 0.3")[1]
    metadata = sections[1].split("| pipeline | title | title (strict) | byline | published |")[1].splitlines()[2]
    assert metadata.startswith("| text-mode `extract()` -> JSON `text` field, in process | ")
    cells = [cell.strip() for cell in metadata.strip("|").split("|")[1:]]
    assert len(cells) == 4 and all(re.fullmatch(r"\d+/\d+ \(\d+%\)|-", cell) for cell in cells), cells
    assert cells[0] != "-"  # every Mozilla page has an expected title
