"""Every saved page renders exactly as its golden text (`make goldens` regenerates them on purpose)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.golden import golden_pages, render_golden


@pytest.mark.parametrize("path", golden_pages(), ids=lambda path: path.stem)
def test_page_renders_as_its_golden_text(path: Path) -> None:
    expected = path.with_suffix(".txt").read_text(encoding="utf-8")
    assert render_golden(path) == expected
