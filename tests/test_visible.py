"""The one rule for what of a page may reach a reader's screen (app/visible.py), case by case."""

from __future__ import annotations

import pytest

from app.visible import visible, visible_url, without_controls


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("clear\x1b[2J screen", "clear[2J screen"),
        ("title\x1b]0;pwned\x07 bell", "title]0;pwned bell"),
        ("del\x7f nul\x00 bs\x08 ff\x0c vt\x0b us\x1f", "del nul bs ff vt us"),
        ("csi\x9b31m osc\x9d0;t\x9c dcs\x90 \x81\x8d\x8f", "csi›31m osc0;tœ dcs "),  # C1 as windows-1252 reads it
        ("couldn\x92t, \x93quoted\x94 \x85 \x80", "couldn’t, “quoted” … €"),
        ("one\r\ntwo\rthree\nfour", "one\ntwo\nthree\nfour"),  # a lone CR would go back over the line
        ("tab\tand newline\nstay", "tab\tand newline\nstay"),
        ("pay \u202egnp.exe\u202c to \u2066a\u2069 \u202a\u202b\u202d\u2067\u2068", "pay gnp.exe to a "),
        ("\u05e9\u05dc\u05d5\u05dd\u200f, \u200e(1) \u061c", "\u05e9\u05dc\u05d5\u05dd\u200f, \u200e(1) \u061c"),
        ("icon \ue000\ue001\ue00f here, \ue010 and \uf099 stay", "icon  here, \ue010 and \uf099 stay"),
        ("café € 日本 ☃", "café € 日本 ☃"),
    ],
)
def test_visible_drops_what_a_terminal_would_act_on(text: str, shown: str) -> None:
    assert visible(text) == shown


def test_the_final_guard_drops_controls_and_keeps_our_marks_for_the_styling_after_it() -> None:
    assert without_controls("a\x1b[1mb\x9b\r\x7f\tc\n\ue000\u202e") == "a[1mb\tc\n\ue000\u202e"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ('https://e.example/a b<c>"d`e', "https://e.example/a%20b%3Cc%3E%22d%60e"),
        ("https://e.example/\x1b[2J\x9b\x7f", "https://e.example/%1B[2J%C2%9B%7F"),
        ("https://e.example/\u202egnp.exe", "https://e.example/%E2%80%AEgnp.exe"),
        ("https://e.example/café?q=1&r=%20#top", "https://e.example/café?q=1&r=%20#top"),
    ],
)
def test_a_url_shows_what_it_holds_percent_encoded(url: str, shown: str) -> None:
    assert visible_url(url) == shown
