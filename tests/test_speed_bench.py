"""bench.speed's per-page figures: medians and per-page ratios worked out by hand, and a run on a small set."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from bench import speed
from tests.samples import OWLS

# id -> the page; the app shell has nothing readable, so extraction raises ExtractError and the service says 422.
PAGES = {
    "owls": OWLS,
    "barn-owls": OWLS.replace(b"Owls at night", b"Barn owls").replace(b"270 degrees", b"about 270 degrees"),
    "app-shell": b"<html><body><div id='root'></div></body></html>",
}
FIGURES = [
    "custom: service format=text vs readability -> html2text, median page",
    "custom: service format=json vs readability -> html2text, median page",
    "custom: extract + render_text vs readability summary(), median page",
    "custom: extract + render_text vs readability summary(), p90 page",
]


@pytest.fixture
def benchmark_set(tmp_path: Path) -> Path:
    """The pages in the benchmark sets' layout: pages.jsonl beside html/<id>.html.gz."""
    (tmp_path / "html").mkdir()
    rows = []
    for page_id, html in PAGES.items():
        (tmp_path / "html" / f"{page_id}.html.gz").write_bytes(gzip.compress(html))
        rows.append({"id": page_id, "page_type": "article", "text": ""})
    (tmp_path / "pages.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return tmp_path


def test_paired_times_give_medians_of_each_and_the_median_and_p90_of_per_page_ratios() -> None:
    pair = speed.Paired()
    for ours, theirs in [(0.002, 0.001), (0.003, 0.003), (0.009, 0.003), (0.001, 0.002)]:
        pair.add(ours, theirs)
    pair.apart["HTTP 422"] += 1
    assert pair.ratios == pytest.approx([2.0, 1.0, 3.0, 0.5])
    assert pair.medians_ms() == pytest.approx((2.5, 2.5))
    # The median of the ratios, not the ratio of the medians (1.0) nor of the totals (15 / 9).
    assert pair.median_ratio == pytest.approx(1.5)
    assert pair.p90_ratio == pytest.approx(3.0)
    assert pair.left_out() == "1 left out of the medians (1 HTTP 422)"


def test_the_table_gives_each_figure_its_measurement_target_and_whether_it_is_met() -> None:
    figures = [("short", "0.75x", "<= 0.8x", True), ("a longer name", "1.20x (p90 2.00x)", "<= 1.0x", False)]
    assert speed.table(figures).splitlines() == [
        "| figure        | measured          | target  | met |",
        "|---------------|-------------------|---------|-----|",
        "| short         | 0.75x             | <= 0.8x | yes |",
        "| a longer name | 1.20x (p90 2.00x) | <= 1.0x | NO  |",
    ]


def test_a_run_on_a_small_set_counts_pages_that_fail_apart_and_checks_each_figure_against_its_target(
    benchmark_set: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    speed.main(["per-page", "in-process", "--dataset", str(benchmark_set)])
    out = capsys.readouterr().out
    for fmt in ("text", "json"):
        assert f"per-page, custom, format={fmt}, 2 of 3 pages (1 left out of the medians (1 HTTP 422)):" in out
    assert "in-process, custom, 2 of 3 pages (1 left out of the medians (1 ExtractError (nothing_readable))):" in out
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in out.split("\n\n")[-1].splitlines()[2:]]
    assert [row[0] for row in rows] == FIGURES
    for _name, measured, target, met in rows:
        assert met == ("yes" if float(measured.split("x")[0]) <= float(target.removeprefix("<= ")[:-1]) else "NO")
