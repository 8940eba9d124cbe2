"""Selectors a reader gives: what they keep and remove, what does not parse, and what they cost."""

from __future__ import annotations

import lxml.html
import pytest

from app.document import Page, texts
from app.errors import BadRequest, NoMatch, TooComplex
from app.extract import extract
from app.selectors import MAX_SIBLINGS_FOR_STRUCTURAL, compile_selector, matches

PAGE = """<html><head><title>Owls</title></head><body>
<nav><a href="/">Home</a> <a href="/birds">Birds</a></nav>
<article><h1>Owls</h1>
<p class="lede">Owls hunt at night, and their hearing finds a mouse under snow.</p>
<p>Their feathers are soft at the edges, so their flight makes no sound at all.</p>
<div class="ad">Buy binoculars today</div>
<p>Most owls nest in the holes of old trees, which woodpeckers made for them.</p>
</article>
<aside class="related"><h2>Related</h2>
<ul><li><a href="/hawks">Hawks</a></li><li><a href="/kites">Kites</a></li></ul></aside>
</body></html>"""


def page_of(html: str) -> Page:
    return Page("https://example.com/owls", "https://example.com/owls", 200, "text/html", "utf-8", html, True, 0.0)


def text_of(html: str, *, keep: str | None = None, remove: str | None = None) -> str:
    article = extract(
        page_of(html),
        keep=compile_selector(keep, option="selector") if keep else None,
        remove=compile_selector(remove, option="remove") if remove else None,
    )
    return " ".join(" ".join(texts(article.document.blocks)).split())


@pytest.mark.parametrize(
    ("keep", "text"),
    [
        (".lede", "Owls hunt at night, and their hearing finds a mouse under snow."),
        # Several selectors: the matches in page order, not in the selectors' order.
        ("aside li, .lede", "Owls hunt at night, and their hearing finds a mouse under snow. Hawks Kites"),
        # What readability would never choose, and the rules would drop as a menu, is the reader's to choose.
        ("nav", "Home Birds"),
        # An element and one inside it: the outer one, once.
        # (Its heading repeats the page's title, which every format's header shows: it is shown once.)
        ("article, article p", "Owls hunt at night, and their hearing finds a mouse under snow. Their feathers"
         " are soft at the edges, so their flight makes no sound at all. Buy binoculars today Most owls nest in the"
         " holes of old trees, which woodpeckers made for them."),
        ("h1 + p", "Owls hunt at night, and their hearing finds a mouse under snow."),
        (".ad ~ p", "Most owls nest in the holes of old trees, which woodpeckers made for them."),
        ("article > p:first-of-type", "Owls hunt at night, and their hearing finds a mouse under snow."),
    ],
)  # fmt: skip
def test_the_article_is_what_the_selector_matches(keep: str, text: str) -> None:
    assert text_of(PAGE, keep=keep) == text


def test_what_remove_matches_is_gone_before_the_article_is_found() -> None:
    assert "Buy binoculars today" in text_of(PAGE, keep="article")
    assert "Buy binoculars today" not in text_of(PAGE, keep="article", remove=".ad")
    assert "Their feathers" not in text_of(PAGE, keep="article", remove="article p:nth-of-type(2)")


def test_a_selector_that_matches_nothing_is_a_422_saying_so() -> None:
    with pytest.raises(NoMatch, match="matched nothing") as raised:
        text_of(PAGE, keep=".comments")
    assert (raised.value.status, raised.value.code) == (422, "selector_matched_nothing")


@pytest.mark.parametrize(
    "css",
    ["", "   ", "[", "div >", "p::before", "a:unknown-pseudo", ":not(div p)", "p:contains('owl')", "a" * 1001,
     ", ".join(["p"] * 21)],
)  # fmt: skip
def test_a_selector_that_does_not_parse_is_a_400_naming_the_option(css: str) -> None:
    with pytest.raises(BadRequest, match=r"^selector ") as raised:
        compile_selector(css, option="selector")
    assert raised.value.status == 400


def test_structural_selectors_are_refused_on_a_page_too_wide_for_them() -> None:
    items = "".join("<li>item</li>" for _ in range(MAX_SIBLINGS_FOR_STRUCTURAL + 1))
    tree = lxml.html.fromstring(f"<html><body><ul>{items}</ul></body></html>")
    assert len(matches(compile_selector("li.none", option="selector"), tree)) == 0  # by name: any width
    with pytest.raises(TooComplex):
        matches(compile_selector("li:nth-child(2)", option="selector"), tree)


def test_combinators_are_matched_in_linear_time() -> None:
    # cssselect's XPath for these merged one node set per element: 42 s for `* *` here. Counted, not timed:
    # the answers are right on a page built so that any quadratic pass would take minutes.
    wide = "".join("<div><p>x</p></div>" for _ in range(30_000))
    tree = lxml.html.fromstring(f"<html><body>{wide}</body></html>")
    assert len(matches(compile_selector("div + div", option="selector"), tree)) == 29_999
    assert len(matches(compile_selector("div ~ div", option="selector"), tree)) == 29_999
    assert len(matches(compile_selector("* *:not(p)", option="selector"), tree)) == 1  # <body>, outermost
    assert len(matches(compile_selector("body div > p", option="selector"), tree)) == 30_000
