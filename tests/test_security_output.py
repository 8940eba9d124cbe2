"""Hostile page text through the real service: no terminal control in any format, no markup of its own in Markdown."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from markdown_it import MarkdownIt
from markdown_it.token import Token

from tests import security_origins as hostile
from tests.conftest import Service
from tests.security_origins import RawOrigin

# What a terminal acts on: C0 but tab and newline, DEL, C1. UTF-8 answers are checked as characters: U+009B
# (CSI) is the bytes C2 9B, while the 0x82 inside "€" (E2 82 AC) is no control.
CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
BIDI_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")
MARK_RE = re.compile("[\ue000-\ue00f]")  # private use: our own marks while we lay text out
OUR_STYLES_RE = re.compile("\x1b\\[(?:1|22|4|24)m")  # ansi=1: bold and underline, on and off
FILLER = (
    "<p>Owls hunt at night with silent feathers and very good ears; a barn owl can find a mouse under snow "
    "by sound alone, and its face gathers sound like a dish.</p>" * 3
)


def page(body: str, *, head: str = "<title>Owls at night</title>") -> bytes:
    article = f"<article><h1>Owls at night</h1>{body}{FILLER}</article>"
    return f"<!doctype html><html><head><meta charset=utf-8>{head}</head><body>{article}</body></html>".encode()


ESCAPES = "&#x1b;[2J &#27;]0;title&#7; &#x1b;]52;c;SGVsbG8=&#x07; &#x9d;8;;http://x&#x9c; &#127; &#8; &#x81;"
# Pages whose text holds what a terminal acts on: each with its type, and words that must still be shown in
# every format but Markdown (the controls dropped, not the text around them).
TERMINAL_PAGES: dict[str, tuple[bytes, str, tuple[str, ...]]] = {
    "entity-escapes-in-the-body": (page(f"<p>Clear {ESCAPES} done.</p>"), "text/html", ("Clear [2J ]0;title",)),
    "raw-c1-del-and-backspace": (
        page("<p>Raw \u009b2J CSI \u009d0;t\u009c OSC \x7f del \x08 bs.</p>"),
        "text/html",
        ("Raw ›2J CSI 0;tœ OSC del bs.",),  # C1 as windows-1252 reads it, but OSC (U+009D): no meaning there
    ),
    "escapes-in-json-ld": (
        page(
            "<p>Body.</p>",
            head='<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Owls \\u001b[2J at night",'
            ' "author": {"name": "Ann \\u001b]0;pwned\\u0007 Owl"}, "datePublished": "\\u009b1m2024-05-01",'
            ' "publisher": {"name": "Bird \\u202e News"}}</script>',
        ),
        "text/html",
        ("Owls [2J at night", "Ann ]0;pwned Owl", "Bird News", "›1m2024-05-01"),
    ),
    "escapes-in-meta-tags": (
        page(
            "<p>Body.</p>",
            head='<meta property="og:title" content="Owls &#x1b;[2J at night"><meta name="author" content="Ann'
            ' &amp;#x9d;0;t Owl"><meta property="og:site_name" content="Bird &#x9b;31m News">'
            '<meta property="article:published_time" content="2024-05-01&#7;">',
        ),
        "text/html",
        ("Owls [2J at night", "Ann 0;t Owl", "Bird ›31m News", "2024-05-01"),  # the HTML standard: &#x9b; is ›
    ),
    "escapes-in-links": (
        page('<p>See <a href="/more&#x1b;[2J">more &#x1b;]8;;http://evil.example&#7;owls</a>.</p>'),
        "text/html",
        ("more ]8;;http://evil.exampleowls", "/more[2J"),
    ),
    "escapes-in-alt-and-captions": (
        page(
            '<p><img src="/o.png" alt="an owl &#x1b;[2J"></p><figure><img src="/p.png"><figcaption>A perch'
            " &#x1b;]0;x&#7; at dusk</figcaption></figure>"
        ),
        "text/html",
        ("A perch ]0;x at dusk",),
    ),
    "escape-in-an-author-card": (  # lxml refused to set the card's line: a 500
        page('<div class="userinfo"><a href="/u/ann">Ann &#x1b;[2J</a><span class="rank">Moderator</span></div>'),
        "text/html",
        ("[2J · Moderator",),
    ),
    "text-plain-with-raw-escapes": (
        b"Owls\x1b[2J at night\n\nPay to: owls\rEVIL\x07 \x1b]52;c;SGVsbG8=\x07 \xc2\x9b31m done.\n",
        "text/plain; charset=utf-8",
        ("Pay to: owls\nEVIL ]52;c;SGVsbG8= ›31m done.",),
    ),
    "bidi-overrides": (
        page(
            '<p>Pay \u202egnp.exe\u202c and <a href="/cod\u202e.exe">\u2067the file\u2069</a>.</p>',
            head="<title>Owls \u202eat night</title>",
        ),
        "text/html",
        ("Pay gnp.exe and the file",),
    ),
    "private-use-marks": (  # an icon font's code points: ours too, under ansi=1 they became escapes
        page("<p>Icons <i>&#xe000;</i> and <i>&#xe001;</i> and &#x202e;&#xe002; here.</p>"),
        "text/html",
        ("Icons and and here.",),
    ),
}
# Pages whose text looks like markup: each with its type, and the words a CommonMark reader must be shown.
MARKDOWN_PAGES: dict[str, tuple[bytes, str, str]] = {
    "html-in-the-title-and-text": (
        page(
            "<p>The text says &lt;script&gt;alert(1)&lt;/script&gt; and &lt;svg onload=alert(2)&gt; and"
            " &lt;<span></span>img src=x onerror=alert(3)&gt; and &lt;/p&gt; &lt;!-- c --&gt; &lt;?php x ?&gt;"
            " &lt;!DOCTYPE x&gt; &lt;![CDATA[x]]&gt;; yet a &lt; b and x &lt;= 5 and &lt;3 stay.</p>",
            head="<title>Owls &lt;script&gt;alert(0)&lt;/script&gt;</title>"
            '<meta name="author" content="Ann &lt;img src=x onerror=alert(4)&gt;">',  # the header's details
        ),
        "text/html",
        "The text says <script>alert(1)</script> and <svg onload=alert(2)> and <img src=x onerror=alert(3)> and"
        " </p> <!-- c --> <?php x ?> <!DOCTYPE x> <![CDATA[x]]>; yet a < b and x <= 5 and <3 stay.",
    ),
    "autolinks-and-links-in-text": (
        page(
            "<p>Go &lt;http://evil.example/&gt; or &lt;javascript:alert(1)&gt; or &lt;0@evil.example&gt; or"
            " [click](javascript:alert(2)) or ![](https://evil.example/pixel.png) or [ref][x].</p>"
            "<p>[x]: javascript:alert(3)</p>"
        ),
        "text/html",
        "Go <http://evil.example/> or <javascript:alert(1)> or <0@evil.example> or [click](javascript:alert(2)) or"
        " ![](https://evil.example/pixel.png) or [ref][x].",
    ),
    "html-in-links-alt-and-titles": (
        page(
            '<p><a href="/a" title="t&quot; &lt;b onmouseover=alert(1)&gt;">&lt;b&gt;bold&lt;/b&gt; link</a> and'
            ' <img src="/i.png" alt="&lt;img src=x onerror=alert(2)&gt;"> and'
            ' <abbr title="&lt;svg onload=alert(3)&gt;">SVG</abbr>.</p>'
        ),
        "text/html",
        "<b>bold</b> link",
    ),
    "html-in-code": (
        page(
            "<p>Use <code>&lt;div&gt;</code>, not <code>a`&lt;svg onload=alert(1)&gt;`b</code> nor"
            " <code>x<code>&lt;svg onload=alert(2)&gt;</code></code>.</p>"
            "<p>When wrapped at sixty columns, a code span <code>one two three &lt;div&gt; four</code> ends.</p>"
            "<pre>&lt;script&gt;alert(3)&lt;/script&gt;\n&lt;div&gt;</pre>"
            "<p>Run <code>cd owls<br>make &lt;target&gt;</code>, then:</p><code><pre>&lt;b&gt;\nbold</pre></code>"
        ),
        "text/html",
        "not a`<svg onload=alert(1)>`b nor",  # a code span that a backtick would close is text
    ),
    "entity-references-as-text": (
        page("<p>Write &amp;lt;b&amp;gt; and &amp;#x1b; and a backslash \\&lt;i&gt; as text.</p>"),
        "text/html",
        "Write &lt;b&gt; and &#x1b; and a backslash \\<i> as text.",
    ),
    "text-plain-with-markup": (
        b"Owls\n\nThe <script>alert(1)</script> and <http://evil.example/> and [x](javascript:alert(2)) stay text.\n",
        "text/plain",
        "The <script>alert(1)</script> and <http://evil.example/> and [x](javascript:alert(2)) stay text.",
    ),
}
# What the pages' Markdown may link to, besides the page itself: their real links and images.
PAGE_LINKS = ("/a", "/i.png")


def routes() -> dict[str, hostile.Handler]:
    pages = [*TERMINAL_PAGES.items(), *MARKDOWN_PAGES.items()]
    handlers = {f"/{name}": hostile.respond(body, content_type=kind) for name, (body, kind, _) in pages}
    landed = hostile.respond(page("<p>Landed.</p>"))
    handlers.update(
        {
            "/png-with-escapes": hostile.respond(b"x", content_type="image/png\x1b[2J\x07"),
            "/to-markup": hostile.redirect_to("/at/<script>alert(1)</script>"),
            "/at/%3Cscript%3Ealert(1)%3C/script%3E": landed,
            "/c1%C2%9B2J": landed,
        }
    )
    return handlers


@pytest.fixture(scope="module")
def origin() -> Iterator[RawOrigin]:
    running = RawOrigin(routes())
    yield running
    running.close()


def get(service: Service, url: str, **params: str) -> requests.Response:
    return requests.get(f"{service.base}/default/text-mode", params={**params, "url": url}, timeout=30)


def strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value, however deep."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)


def shown(response: requests.Response, fmt: str, *, tags: bool = False) -> str:
    """The answer as a reader sees it (JSON's values decoded, HTML's text unescaped), checked for controls."""
    assert CONTROL_RE.findall(response.text) == []
    if fmt == "json":
        text = "\n".join(strings(json.loads(response.text)))  # json.dumps writes ESC as \u001b; `jq -r` does not
    elif fmt == "html":
        text = html.unescape(response.text if tags else re.sub(r"<[^>]*>", "", response.text))
    else:
        text = response.text
    assert CONTROL_RE.findall(text) == []
    return text


@pytest.mark.parametrize("fmt", ["text", "markdown", "json", "html"])
@pytest.mark.parametrize("name", list(TERMINAL_PAGES))
def test_page_text_never_carries_a_control_character(service: Service, origin: RawOrigin, name: str, fmt: str) -> None:
    response = get(service, origin.url(f"/{name}"), format=fmt)
    assert response.status_code == 200, response.text[:300]
    text = shown(response, fmt)
    assert BIDI_RE.findall(text) == []
    assert MARK_RE.findall(text) == []
    if fmt != "markdown":
        assert [words for words in TERMINAL_PAGES[name][2] if words not in text] == []


@pytest.mark.parametrize("name", list(TERMINAL_PAGES))
def test_only_our_own_styling_sends_escapes(service: Service, origin: RawOrigin, name: str) -> None:
    styled = get(service, origin.url(f"/{name}"), ansi="1").text
    unstyled = OUR_STYLES_RE.sub("", styled)
    assert (CONTROL_RE.findall(unstyled), BIDI_RE.findall(unstyled), MARK_RE.findall(unstyled)) == ([], [], [])
    assert unstyled == get(service, origin.url(f"/{name}")).text
    assert re.match("\x1b\\[1mOwls.* at night\x1b\\[22m\n", styled)  # the title, in bold


def test_an_icon_fonts_characters_never_become_an_underline(service: Service, origin: RawOrigin) -> None:
    styled = get(service, origin.url("/private-use-marks"), ansi="1").text
    assert "\x1b[4m" not in styled  # the page has no link


@pytest.mark.parametrize(
    ("path", "final_url"),
    [("/to-markup", "/at/%3Cscript%3Ealert(1)%3C/script%3E"), ("/c1\x9b2J", "/c1%C2%9B2J")],
)
def test_the_pages_address_is_shown_percent_encoded(
    service: Service, origin: RawOrigin, path: str, final_url: str
) -> None:
    # A redirect's Location, or a C1 control in the address asked for: the site is asked for it percent-encoded.
    for fmt in ("text", "markdown", "json"):
        response = get(service, origin.url(path), format=fmt)
        assert response.status_code == 200
        assert origin.url(final_url) in shown(response, fmt)
    assert_text_only(get(service, origin.url(path), format="markdown").text, page_url=origin.url(final_url))


@pytest.mark.parametrize("fmt", ["text", "json", "html"])
def test_an_error_quoting_the_site_carries_no_control(service: Service, origin: RawOrigin, fmt: str) -> None:
    response = get(service, origin.url("/png-with-escapes"), format=fmt)
    assert response.status_code == 415
    assert "image/png[2j" in shown(response, fmt)


@pytest.mark.parametrize("fmt", ["html", "json"])
def test_the_address_asked_for_is_echoed_without_controls(service: Service, origin: RawOrigin, fmt: str) -> None:
    response = get(service, origin.url("/entity-escapes-in-the-body?q=\x9b2J"), format=fmt)
    assert response.status_code == 200
    assert origin.url("/entity-escapes-in-the-body?q=2J") in shown(response, fmt, tags=True)
    refused = get(service, "http://127.0.0.1:1/\x1b]0;pwned\x07", format=fmt)
    assert refused.status_code == 400
    shown(refused, fmt)  # the form holds the address again


def markdown_tokens(markdown: str) -> list[Token]:
    """Every token a CommonMark parser finds in markdown, inline ones included; links of any scheme kept."""
    parser = MarkdownIt("commonmark")
    parser.validateLink = lambda url: True  # type: ignore[method-assign]  # javascript: links too
    tokens: list[Token] = []
    for token in parser.parse(markdown):
        tokens.append(token)
        tokens.extend(token.children or [])
    return tokens


def assert_text_only(markdown: str, *, page_url: str, base: str = "") -> None:
    """No raw HTML, and no link or image but the page's own and the header's autolink to the page."""
    tokens = markdown_tokens(markdown)
    assert [token.content for token in tokens if token.type in ("html_inline", "html_block")] == []
    targets = {
        str(token.attrs.get("href") or token.attrs.get("src"))
        for token in tokens
        if token.type in ("link_open", "image")
    }
    assert targets <= {page_url, *(base + path for path in PAGE_LINKS)}


@pytest.mark.parametrize("name", list(MARKDOWN_PAGES))
def test_markdown_holds_the_pages_text_as_text(service: Service, origin: RawOrigin, name: str) -> None:
    url = origin.url(f"/{name}")
    for markdown in (
        get(service, url, format="markdown", width="60").text,
        json.loads(get(service, url, format="json").text)["markdown"],
    ):
        assert_text_only(markdown, page_url=url, base=origin.url(""))
        words = " ".join(token.content for token in markdown_tokens(markdown) if token.type in ("text", "softbreak"))
        assert MARKDOWN_PAGES[name][2] in re.sub(r"\s+", " ", words)


def test_markdown_leaves_code_and_ordinary_text_as_written(service: Service, origin: RawOrigin) -> None:
    markdown = get(service, origin.url("/html-in-the-title-and-text"), format="markdown", width="0").text
    assert "yet a < b and x <= 5 and <3 stay." in markdown
    tokens = markdown_tokens(get(service, origin.url("/html-in-code"), format="markdown", width="60").text)
    code = [token.content for token in tokens if token.type in ("code_inline", "code_block")]
    assert code == [
        "<div>",
        "x<svg onload=alert(2)>",
        "one two three <div> four",
        "<script>alert(3)</script>\n<div>\n",
        "cd owls make <target>",  # a line break in a code span is a space
        "<b>\nbold\n",  # a block in a code element stays a block
    ]
