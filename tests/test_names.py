"""NamePattern: a case-insensitive pattern's answers, found the fast way where that gives the same."""

from __future__ import annotations

import re

import pytest

from app.names import NamePattern

WORDS = re.compile(r"(?:^|[\s_-])(?:nav|menu|site-footer|ads?)(?:$|[\s_-])", re.IGNORECASE)
PLAIN = re.compile(r"sidebar|sponsor|skip", re.IGNORECASE)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "nav",
        "NAV",
        "main-Nav",
        "navigation",
        "top_MENU bar",
        "Site-Footer",
        "site footer",
        "ad",
        "ADS",
        "adhesive",
        "SideBar",
        "sidebars",
        "SPONSORED",
        "\u212aelvin-nav",  # a Kelvin sign: not ASCII, searched with the pattern itself
        "\u017fidebar",  # a long s, which IGNORECASE takes for an s
        "\u017fkip menu",
        "caf\u00e9 menu",
    ],
)
@pytest.mark.parametrize("pattern", [WORDS, PLAIN], ids=["words", "plain"])
def test_name_pattern_answers_as_the_pattern_does(pattern: re.Pattern[str], text: str) -> None:
    names = NamePattern(pattern)
    expected = pattern.search(text) is not None
    assert names.search(text) is expected
    remembering = names.remembering()
    assert (remembering(text), remembering(text)) == (expected, expected)


@pytest.mark.parametrize(
    "pattern",
    [re.compile(r"\S+nav", re.IGNORECASE), re.compile("Nav", re.IGNORECASE), re.compile("nav")],
    ids=["escape", "capital", "case-sensitive"],
)
def test_a_pattern_that_would_mean_something_else_folded_is_refused(pattern: re.Pattern[str]) -> None:
    with pytest.raises(ValueError, match="lower case"):
        NamePattern(pattern)
