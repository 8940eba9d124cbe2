"""readability_blocks: readability-lxml's own choice of the article, handed back as the page's elements."""

from __future__ import annotations

import copy
from pathlib import Path

import lxml.etree
import lxml.html
import pytest
from readability import Document
from readability.readability import REGEXES, clean

from app.metadata import raw_text
from app.score import _Readability, clean_length, readability_blocks

PAGES = sorted((Path(__file__).parent / "pages").glob("*.html"))


def prepared(html: str) -> lxml.html.HtmlElement:
    """The page as readability-lxml's own parsing leaves it for scoring: no scripts, styles, comments, hidden parts."""
    tree = lxml.html.document_fromstring(html)
    lxml.etree.strip_elements(tree, lxml.etree.Comment, "script", "style", "link", "noscript", with_tail=False)
    hidden = tree.xpath("//*[@hidden]") + [
        element for element in tree.xpath("//*[@style]") if REGEXES["displayNoneRe"].search(element.get("style"))
    ]
    for element in hidden:
        element.drop_tree()
    return tree


class PickedElement(Document):  # type: ignore[misc]
    """readability-lxml unchanged but for its documented hook: `summary` keeps the picked element, not its HTML."""

    picked: lxml.html.HtmlElement

    def get_clean_html(self) -> str:
        self.picked = self.html
        return "picked"


def readability_lxml_paths(tree: lxml.html.HtmlElement) -> list[str]:
    """The paths of the page's elements that readability-lxml's own `summary` is made of, outermost first."""
    readability = PickedElement(copy.deepcopy(tree), xpath=True, retry_length=0)
    readability.summary(html_partial=True)
    fragment = readability.picked
    # With no candidate at all readability answers with the whole body, which stands for the blocks in it.
    whole_page = fragment if fragment.tag in ("body", "html") else None
    paths: list[str] = []
    for element in fragment.iter(lxml.etree.Element):
        path = element.get("x")
        parent = element.getparent()
        if path is None or element is whole_page:
            continue  # made by readability, or the whole page
        if parent is not None and parent is not whole_page and parent.get("x") == path.rsplit("/", 1)[0]:
            continue  # still under its own parent
        if not any(path == chosen or path.startswith(chosen + "/") for chosen in paths):
            paths.append(path)
    return paths


@pytest.mark.parametrize("path", PAGES, ids=lambda path: path.stem)
def test_the_blocks_are_those_readability_lxml_itself_chooses(path: Path) -> None:
    html = path.read_text(encoding="utf-8", errors="replace")
    if not lxml.html.fromstring(html or "<p></p>").text_content().strip():
        pytest.skip("no text to read")
    tree = prepared(html)
    # readability writes the blocks it joins from elsewhere after its top candidate; ours come in page order.
    order = {tree.getroottree().getpath(element): index for index, element in enumerate(tree.iter())}
    expected = sorted(readability_lxml_paths(tree), key=order.__getitem__)
    blocks = readability_blocks(tree)
    assert [tree.getroottree().getpath(block) for block in blocks] == expected


def test_the_blocks_are_the_pages_own_elements_and_the_page_is_left_alone() -> None:
    prose = "".join(f"<p>Sentence {n} of the story, long enough, with a comma, to be scored.</p>" for n in range(5))
    tree = lxml.html.document_fromstring(
        f"<html><body><div class='sidebar'><a href='/'>Home</a></div><div id='story'>{prose}</div></body></html>"
    )
    before = lxml.html.tostring(tree)
    blocks = readability_blocks(tree)
    assert blocks == [tree.get_element_by_id("story")]
    assert blocks[0] is tree.get_element_by_id("story")
    assert lxml.html.tostring(tree) == before


def test_a_pages_own_order_attributes_do_not_move_the_pick() -> None:
    # The pick used to travel through readability in a numbered attribute; a page could write its own.
    sentence = "<p data-text-mode-order='0'>Sentence {} of the story, long enough, to count.</p>"
    prose = "".join(sentence.format(n) for n in range(5))
    tree = lxml.html.document_fromstring(
        f"<html><body><p data-text-mode-order='1'>Elsewhere</p><article id='story'>{prose}</article></body></html>"
    )
    assert readability_blocks(tree) == [tree.get_element_by_id("story")]


@pytest.mark.parametrize(
    "html",
    [
        "<div></div>",
        "<div>a<!-- a comment -->b<?pi x?>c<span>d</span>e</div>",
        "<div>x<script>var a = 1;</script>y<style>p {}</style></div>",
        "<div>caf&eacute; &amp; <b>bold</b> &#x1F600;<br>tail</div>",
        "<div><p>one</p>\n\t<p>two <a href='/'>link</a></p>after</div>",
    ],
)
def test_raw_text_is_lxmls_text_content(html: str) -> None:
    element = lxml.html.fragment_fromstring(html)
    element.tail = "the element's own tail is not its text"
    assert raw_text(element) == element.text_content()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "plain words",
        "  padded  ",
        "two  spaces",
        "line\nbreak",
        "runs \n\n  of \t\n lines",
        "tab\there",
        "\t\tleading tabs",
        "tab\t and space",
        " \t mixed \t\t run",
        "no\u00a0break\u00a0space",
        "nbsp \u00a0 between spaces",
        "carriage\r\nreturn",
        "thin\u2009space\u202fnarrow",
        "x" + " " * 300 + "y",
        "x" + "\u00a0" * 300 + "y",
        "x" + "\t" * 300 + "y",
        "x" + " \n" * 200 + "y",
        "x" + "\u00a0\n" * 200 + "y" + "\u00a0" * 254 + "z",
        "caf\u00e9 au lait\n\nnoir",
        "caf\u00e9\u00a0\u00a0cr\u00e8me",
        "\u00a0",
        "file\x1cseparator\x1f\x1fcodes",
        "\x1c\n\x1c",
        "form\ffeed\vvertical",
        "caf\u00e9\r\nau  lait \r tard",
        "caf\u00e9 \u3000 ideographic  space",
        "caf\u00e9\u2028line\u2029paragraph",
        "caf\u00e9\t\ttabs",
    ],
)
def test_clean_length_is_the_length_of_readabilitys_clean_text(text: str) -> None:
    assert clean_length(text) == len(clean(text))


def quotation_page(lead_ends_with: str) -> str:
    """A story, then a block named like furniture that leads into a quotation when its text ends in a colon."""
    story = "".join(
        f"<p>Sentence {n} of the story, long enough, with a comma, to be scored well.</p>" for n in range(12)
    )
    lead = f"<p>one, two, three, four, five, six, seven, eight, and then the minister said{lead_ends_with}</p>"
    quote = "We will build the bridge, the road, the school, the park, the port, the rail, the hall, the dam, " + (
        "the lock, the quay, the pier, the wall, and the gate."
    )
    return (
        f"<html><body><div id='page'><div class='post'>{story}</div><div class='promo'>{lead * 4}</div>"
        f"<div class='quote'><blockquote>{quote}</blockquote></div></div></body></html>"
    )


@pytest.mark.parametrize(
    ("lead_ends_with", "kept"), [(":", ["post", "promo", "quote"]), (".", ["post", "quote"])], ids=["colon", "stop"]
)
def test_a_quotations_lead_is_kept_as_readability_lxml_keeps_it(lead_ends_with: str, kept: list[str]) -> None:
    # The block scores enough to join the story but less than its name's penalty: readability's sanitizer
    # drops it, unless its text ends in a colon before an element holding a <blockquote>.
    tree = prepared(quotation_page(lead_ends_with))
    blocks = readability_blocks(tree)
    assert [block.get("class") for block in blocks] == kept
    assert [tree.getroottree().getpath(block) for block in blocks] == readability_lxml_paths(tree)


@pytest.mark.parametrize(
    "html",
    [
        "<div id='m'>\n  <div><p>The story,  told  here.</p></div>\n</div>",
        "<div id='m'>Before <div><p>the story.</p></div></div>",
        "<div id='m'><div><p>The story</p></div> and after</div>",
        "<div id='m'><!-- a comment --><div><p>The story.</p></div></div>",
        "<div id='m'><div><p>The story.</p></div><p>And more.</p></div>",
        "<div id='m'> <span> <a href='/'>a\tlink</a> </span> </div>",
        "<div id='m'>\n<p>One,  two.</p>\n  <p> Three\t</p>\n\n<h2>Four</h2>\n</div>",
        "<div id='m'><p>One.</p><p>Two.</p></div>",
        "<div id='m'><p>One.</p> <p>Two.</p>\n<p>Three.</p></div>",
        "<div id='m'><p>One.</p>\n<p> </p><p>Two.</p></div>",
        "<div id='m'><p>One.</p>\n, and <p>Two.</p></div>",
        "<div id='m'><p>One.\n</p><p>Two.</p></div>",
        "<div id='m'><p>One.</p>" + " " * 300 + "\n<p>Two.</p></div>",
    ],
)
def test_a_blocks_length_is_readabilitys_length_of_its_text(html: str) -> None:
    # A wrapper is measured by what it wraps, a block of blocks one a line from its blocks: measured innermost
    # first, as the candidates holding paragraphs are.
    tree = lxml.html.document_fromstring(f"<html><body>{html}</body></html>")
    readability = _Readability(tree)
    readability._lengths = {}
    elements = list(tree.get_element_by_id("m").iter(lxml.etree.Element))
    lengths = [readability._text_length(element) for element in reversed(elements)]
    assert lengths == [len(clean(element.text_content())) for element in reversed(elements)]
