"""The browser's pages as HTML: the plain text kept exactly, every link kept in text mode, nothing left unescaped."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer

from app.document import Article, Page
from app.errors import TextModeError
from app.extract import extract
from app.fetch import decode
from app.html_view import CONTENT_SECURITY_POLICY, curl_command, reader_href, reading_page
from app.render import render_json, render_text
from tests.articles import html_article
from tests.golden import golden_pages
from tests.samples import OWLS

BASE = "http://text-mode.test/default"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
CURL = {"Accept": "*/*"}
# The sample article, its one link given a query that the reading view must keep whole.
ARTICLE = OWLS.replace(b'href="/more"', b'href="/more?a=1&amp;b=2"')


def golden_article(path: Path) -> Article:
    text, charset = decode(path.read_bytes(), header_charset=None)
    url = f"https://example.com/{path.stem}"
    return extract(Page(url, url, 200, "text/html", charset, text, True, 0.0))


def readable_goldens() -> list[Path]:
    readable = []
    for path in golden_pages():
        try:
            golden_article(path)
        except TextModeError:
            continue
        readable.append(path)
    return readable


def article(html: str, *, title: str = "A title", url: str = "https://example.com/a") -> Article:
    return html_article(url, url, title, "", "", "", "en", html)


def pre_of(page: str) -> lxml.html.HtmlElement:
    (pre,) = lxml.html.fromstring(page).xpath("//pre[contains(@class, 'text')]")
    return pre


@pytest.mark.parametrize("width", [80, 40, 0])
@pytest.mark.parametrize("path", readable_goldens(), ids=lambda path: path.stem)
def test_reading_view_shows_exactly_the_plain_text(path: Path, width: int) -> None:
    page_article = golden_article(path)
    pre = pre_of(reading_page(page_article, base=BASE, width=width))
    assert pre.text_content() == render_text(page_article, width=width)


def test_each_reference_opens_through_text_mode_keeping_the_width_and_beside_it_the_original() -> None:
    links = '<p>See <a href="/owls?x=1&amp;y=2">owls</a> and <a href="https://example.org/b#top">birds</a>.</p>'
    pre = pre_of(reading_page(article(links), base=BASE, width=60))
    anchors = [(a.text_content(), a.get("href"), a.get("class")) for a in pre.iter("a")]
    owls = "/default/text-mode?width=60&url=https%3A%2F%2Fexample.com%2Fowls%3Fx%3D1%26y%3D2"
    birds = "/default/text-mode?width=60&url=https%3A%2F%2Fexample.org%2Fb%23top"
    assert anchors == [
        ("https://example.com/a", "https://example.com/a", "original"),
        ("[1]", owls, None),
        ("[2]", birds, None),
        ("[1]", owls, None),
        ("https://example.com/owls?x=1&y=2", "https://example.com/owls?x=1&y=2", "original"),
        ("[2]", birds, None),
        ("https://example.org/b#top", "https://example.org/b#top", "original"),
    ]


def test_headings_and_the_title_are_bold_without_changing_the_text() -> None:
    html = "<h2>Turning heads</h2><p>Owls turn their heads.</p><pre>x = 1\n---</pre>"  # another width: no heading
    pre = pre_of(reading_page(article(html, title="Owls"), base=BASE, width=80))
    assert [strong.text_content() for strong in pre.iter("strong")] == ["Owls", "Turning heads"]


def test_a_preformatted_line_over_a_rule_of_its_width_is_not_a_heading() -> None:
    # The view knows headings from the document, not from a line of dashes under a line of the same width.
    html = "<p>Owls turn their heads.</p><pre>owls\n----</pre>"
    pre = pre_of(reading_page(article(html, title="Owls"), base=BASE, width=80))
    assert [strong.text_content() for strong in pre.iter("strong")] == ["Owls"]
    assert "owls\n----" in pre.text_content()


def test_a_number_in_brackets_in_code_is_not_a_reference() -> None:
    # Only a link's own number is a link: `arr[1]` in code and "[2]" in text stay text.
    html = '<pre>arr[1] = owls[2]</pre><p>See <a href="/owls">owls</a>, and note [2].</p>'
    page_article = article(html)
    pre = pre_of(reading_page(page_article, base=BASE, width=80))
    assert pre.text_content() == render_text(page_article, width=80)
    numbers = [a.text_content() for a in pre.iter("a") if a.get("class") != "original"]
    assert numbers == ["[1]", "[1]"]  # after "owls" in the text, and in the References


def test_the_reading_view_counts_the_words_json_counts() -> None:
    html = "<h2>Owls</h2><ol><li>Barn owls hunt.</li><li>Tawny owls call.</li></ol><p>A <a href='/x'>link</a>.</p>"
    page_article = article(html, title="Birds")
    words = render_json(page_article)["word_count"]
    assert words == 9  # no list numbers, reference numbers or rules among them
    assert f">{words:,} words · about 1 min" in reading_page(page_article, base=BASE, width=80)


def test_an_articles_own_references_heading_is_left_as_text() -> None:
    html = "<p>Owls hunt at night [1].</p><h2>References</h2><p>[1] Smith, Owls, 2020.</p>"
    page_article = article(html)
    pre = pre_of(reading_page(page_article, base=BASE, width=80))
    assert pre.text_content() == render_text(page_article, width=80)
    assert [a.text_content() for a in pre.iter("a")] == ["https://example.com/a"]


def test_hostile_text_is_escaped_everywhere() -> None:
    hostile = article(
        "<p>Text: &lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(2)&gt;</p>"
        '<p><a href="javascript:alert(3)">js</a>'
        ' <a href="/q?&quot;&gt;&lt;script&gt;alert(4)&lt;/script&gt;">q</a></p>',
        title="</title><script>alert(5)</script>",
        url='https://example.com/"><script>alert(6)</script>',
    )
    page = reading_page(hostile, base=BASE, width=80)
    tree = lxml.html.fromstring(page)
    assert tree.xpath("//script | //img | //iframe | //@*[starts-with(name(), 'on')]") == []
    assert tree.findtext(".//title") == "</title><script>alert(5)</script> · text-mode"
    text = pre_of(page).text_content()
    assert "</pre><script>alert(1)</script> <img src=x onerror=alert(2)>" in text
    assert [href for href in tree.xpath("//a/@href") if not href.startswith(("/", "#", "http://", "https://"))] == []
    assert tree.xpath("//input[@name='url']/@value") == ['https://example.com/"><script>alert(6)</script>']


@pytest.mark.parametrize(
    ("url", "width", "href", "curl"),
    [
        (
            "https://example.com/a?x=1&y=2",
            80,
            "/default/text-mode?url=https%3A%2F%2Fexample.com%2Fa%3Fx%3D1%26y%3D2",
            f"curl '{BASE}/text-mode?url=https://example.com/a?x=1&y=2'",
        ),
        (
            "https://example.com/it's here#part",
            60,
            "/default/text-mode?width=60&url=https%3A%2F%2Fexample.com%2Fit%27s%20here%23part",
            f"curl '{BASE}/text-mode?width=60&url=https://example.com/it%27s%20here'",
        ),
        (
            "https://例え.jp/パス",
            0,
            "/default/text-mode?width=0&url=https%3A%2F%2F%E4%BE%8B%E3%81%88.jp%2F%E3%83%91%E3%82%B9",
            f"curl '{BASE}/text-mode?width=0&url=https://%E4%BE%8B%E3%81%88.jp/%E3%83%91%E3%82%B9'",
        ),
    ],
)
def test_links_and_curl_commands(url: str, width: int, href: str, curl: str) -> None:
    assert reader_href(url, prefix="/default", width=width) == href
    assert curl_command(url, base=BASE, width=width) == curl


def test_the_reading_view_answers_with_its_policy(client: FlaskClient, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/owls").respond_with_data(ARTICLE, content_type="text/html")
    response = client.get(f"/default/text-mode?width=60&url={httpserver.url_for('/owls')}", headers=BROWSER)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    tree = lxml.html.fromstring(response.text)
    assert tree.findtext(".//title") == "Owls at night · text-mode"
    more = [href for href in tree.xpath("//pre//a/@href") if "more" in href]
    assert parse_qs(urlsplit(more[0]).query) == {"width": ["60"], "url": [httpserver.url_for("/more") + "?a=1&b=2"]}


@pytest.mark.parametrize("path", ["/default/", "/default/text-mode"])
def test_the_home_page_is_one_self_contained_request(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers=BROWSER)
    assert response.status_code == 200
    assert response.content_type == "text/html; charset=utf-8"
    tree = lxml.html.fromstring(response.text)
    assert tree.get("lang") == "en"
    (style,) = tree.xpath("//style/text()")
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in response.headers["Content-Security-Policy"]
    assert tree.xpath("//script | //@style | //img | //link[not(@rel='icon')]") == []
    assert tree.xpath("//link[@rel='icon']/@href") == ["data:,"]  # so the browser asks for no favicon
    (form,) = tree.xpath("//form")
    assert form.get("action") == "/default/text-mode"
    assert [name for name in form.xpath(".//*[@name]/@name")] == ["url", "width", "format"]
    assert all(field.xpath("ancestor::label") for field in form.xpath(".//input | .//select"))
    (shell,) = tree.xpath("//pre[@class='shell']")
    assert "curl 'http://localhost/default/text-mode?url=https://example.com/article'\n" in shell.text_content()


@pytest.mark.parametrize(
    ("url", "status"),
    [("ftp://example.com/file", 400), ("http://localhost:1/nothing", 502), ("/gone", 502)],
)
def test_an_error_in_a_browser_is_a_page_with_the_plain_message_and_status(
    client: FlaskClient, httpserver: HTTPServer, url: str, status: int
) -> None:
    httpserver.expect_request("/gone").respond_with_data("gone", status=404)
    target = httpserver.url_for(url) if url.startswith("/") else url
    plain = client.get(f"/default/text-mode?url={target}", headers=CURL)
    page = client.get(f"/default/text-mode?url={target}", headers=BROWSER)
    assert plain.content_type == "text/plain; charset=utf-8"
    assert (page.status_code, page.content_type) == (plain.status_code, "text/html; charset=utf-8")
    assert page.status_code == status
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    tree = lxml.html.fromstring(page.text)
    assert pre_of(page.text).text_content() == plain.text.rstrip("\n")
    assert tree.xpath("//input[@name='url']/@value") == [target]


def test_an_unknown_path_in_a_browser_is_a_page_and_json_errors_stay_json(client: FlaskClient) -> None:
    missing = client.get("/default/nowhere", headers=BROWSER)
    assert (missing.status_code, missing.content_type) == (404, "text/html; charset=utf-8")
    assert pre_of(missing.text).text_content().startswith("Not found: /default/nowhere\n")
    problem = client.get("/default/text-mode?format=json&url=ftp://x", headers=BROWSER)
    assert (problem.status_code, problem.content_type) == (400, "application/problem+json")


@pytest.mark.parametrize(
    ("lang", "attributes"),
    [
        ("ar", {"lang": "ar", "dir": "rtl"}),
        ("he-IL", {"lang": "he-IL", "dir": "rtl"}),
        ("en", {"lang": "en"}),
        ("", {}),
    ],
)
def test_the_text_carries_the_articles_language_and_direction(lang: str, attributes: dict[str, str]) -> None:
    page_article = html_article("https://example.com/a", "https://example.com/a", "T", "", "", "", lang, "<p>Text.</p>")
    pre = pre_of(reading_page(page_article, base=BASE, width=80))
    assert {name: value for name, value in pre.attrib.items() if name != "class"} == attributes
