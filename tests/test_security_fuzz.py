"""Fuzzing the extract and render path with mutated pages: no exception but ExtractError ever escapes.

Bounded for CI (FUZZ_EXAMPLES, default 80 pages, some seconds); run longer with FUZZ_EXAMPLES=5000.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.document import Page
from app.errors import ExtractError
from app.extract import extract
from app.fetch import decode
from app.render import render_json, render_markdown, render_text

SEEDS = sorted((Path(__file__).parent / "pages").glob("*.html"))
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "80"))

FRAGMENTS = [
    b"<", b">", b"</", b"<div>", b"</div>", b"<p>", b"</p>", b"<table><tr><td>", b"</td></tr></table>", b"<pre>",
    b"</pre>", b"<ul><li>", b"<ol start=-99999999999>", b"<li value=x>", b"<a href='javascript:alert(1)'>",
    b"<a href='http://[::1'>", b"<a href='//a:99999'>", b"</a>", b"<script>", b"</script>", b"<!--", b"-->",
    b"<![CDATA[", b"]]>", b"<?xml version='1.0' encoding='utf-7'?>", b"<meta charset=utf-16>", b"&#0;", b"&#x110000;",
    b"&amp", b"&#xD800;", b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\xe2\x80\xae", b"\xcc\x81" * 50, "鳥".encode() * 40,
    b"<br>" * 30, b"<h1>", b"</h1>", b"<blockquote>" * 40, b"<b><i>" * 40, b"<img alt='" + b"x" * 300 + b"'>",
    b"<base href='javascript:x'>", b"<td colspan=999999>", b"<svg><foreignObject><p>", b"<math><mi>", b"<template>",
    b"<noscript><p>", b"<plaintext>", b"<xmp>", b"<select><option>", b"<frameset>", b"\t\r\n\x0b\x0c", b"w" * 5000,
    b'<script type="application/ld+json">{"@type":"Article","author":[[[[[]]]]],"headline":{}}</script>',
    b'<meta property="og:title" content="' + b"t" * 1000 + b'">',
]  # fmt: skip


@st.composite
def mutated_pages(draw: st.DrawFn) -> bytes:
    page = bytearray(SEEDS[draw(st.integers(0, len(SEEDS) - 1))].read_bytes())
    for _ in range(draw(st.integers(1, 12))):
        at = draw(st.integers(0, len(page)))
        action = draw(st.sampled_from(["insert", "insert", "delete", "repeat", "bytes"]))
        if action == "insert":
            page[at:at] = draw(st.sampled_from(FRAGMENTS)) * draw(st.integers(1, 3))
        elif action == "delete":
            del page[at : at + draw(st.integers(1, 400))]
        elif action == "repeat":
            piece = bytes(page[at : at + draw(st.integers(1, 200))])
            page[at:at] = piece * draw(st.integers(1, 20))
        else:
            page[at:at] = draw(st.binary(min_size=1, max_size=40))
    return bytes(page)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=False)
@given(body=mutated_pages(), charset=st.sampled_from([None, "utf-8", "windows-1252", "x-bogus", "utf-16", "shift_jis"]))
def test_a_mutated_page_never_breaks_extract_or_render(body: bytes, charset: str | None) -> None:
    text, used = decode(body, header_charset=charset)
    page = Page("https://fuzz.example/a", "https://fuzz.example/a", 200, "text/html", used, text, True, 1.0)
    try:
        article = extract(page)
    except ExtractError:
        return
    for width in (0, 20, 80):
        assert render_text(article, width=width).endswith("\n")
        assert render_markdown(article, width=width)
    json.dumps(render_json(article))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=st.binary(max_size=3000), is_html=st.booleans())
def test_random_bytes_never_break_extract_or_render(body: bytes, is_html: bool) -> None:
    text, used = decode(body, header_charset=None, is_html=is_html)
    page = Page("https://fuzz.example/", "https://fuzz.example/", 200, "text/html", used, text, is_html, 1.0)
    try:
        article = extract(page)
    except ExtractError:
        return
    render_text(article, width=40)
    render_markdown(article, width=40)
    json.dumps(render_json(article))
