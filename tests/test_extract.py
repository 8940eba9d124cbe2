"""extract(): which parts of a page make the article, and what the page says about it."""

from __future__ import annotations

import pytest

from app.document import Article, Document, Lines, Page, Paragraph, Text, images
from app.errors import ExtractError
from app.extract import extract
from app.render import plain_text

PROSE = "".join(
    f"<p>Paragraph {n} of the article is a plain sentence, long enough to count as prose for readability.</p>"
    for n in range(1, 5)
)


def page_of(html: str, *, is_html: bool = True) -> Page:
    url = "https://example.com/story"
    return Page(url, url, 200, "text/html" if is_html else "text/plain", "utf-8", html, is_html, 0.0)


def body_text(html: str) -> str:
    return " ".join(plain_text(extract(page_of(html))).text.split())


@pytest.mark.parametrize(
    ("snippet", "kept"),
    [
        ('<div class="share-tools">Share this story with friends</div>', False),
        ('<div class="download-box">Download the full report here</div>', True),  # whole words only
        ('<div class="adhesive-notes">Adhesive notes stay on paper</div>', True),  # "ad" is not "adhesive"
        ('<div id="comments">A reader wrote a long reply here</div>', False),
        ('<div aria-hidden="true">A decorative copy of the title</div>', False),
        ('<div style="display:none">Hidden by its own style</div>', False),
        ("<nav>Home News Sport Weather</nav>", False),
        ("<aside>Most read this week on the site</aside>", False),
        ('<div role="contentinfo">Copyright notice of the site</div>', False),
    ],
)
def test_furniture_is_dropped_and_content_kept(snippet: str, kept: bool) -> None:
    html = f"<html><body><div class='article-body'>{PROSE}{snippet}{PROSE}</div></body></html>"
    words = snippet.split(">", 1)[1].split("<", 1)[0]
    assert (words in body_text(html)) is kept


def test_an_articles_own_header_is_kept_but_the_sites_is_not() -> None:
    html = (
        "<html><body><header>Site name and menu</header>"
        f"<article><header><p>The standfirst of this article.</p></header>{PROSE}</article></body></html>"
    )
    text = body_text(html)
    assert "The standfirst of this article." in text
    assert "Site name and menu" not in text


def test_furniture_that_holds_most_of_the_page_is_kept() -> None:
    # An unclosed <header> swallows the whole page.
    html = f"<html><body><header><a href='/'>Site</a>{PROSE}</body></html>"
    assert "Paragraph 4 of the article" in body_text(html)


def test_streamed_hidden_content_is_read_when_it_is_most_of_the_page() -> None:
    html = f"<html><body><div id='root'>Loading</div><div hidden id='S:0'>{PROSE}</div></body></html>"
    assert "Paragraph 1 of the article" in body_text(html)


def test_a_page_without_text_answers_with_its_description() -> None:
    html = (
        '<html><head><meta name="description" content="What the page is about."></head>'
        "<body><div id='app'></div><script>start()</script></body></html>"
    )
    assert extract(page_of(html)).document == Document((Paragraph((Text("What the page is about."),)),))


@pytest.mark.parametrize(
    "html",
    ["", "   ", "<html><body><script>start()</script></body></html>", "<html><body><!-- --></body></html>"],
)
def test_a_page_with_nothing_readable_raises(html: str) -> None:
    with pytest.raises(ExtractError):
        extract(page_of(html))


def test_metadata_comes_from_json_ld_and_meta_tags() -> None:
    html = (
        '<html lang="en-GB"><head><title>Owls at night | Bird News</title>'
        '<meta property="og:site_name" content="Bird News">'
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Owls at night",'
        ' "author": {"@type": "Person", "name": "Ada Owl"}, "datePublished": "2024-05-01T08:00:00Z"}</script>'
        f"</head><body><article>{PROSE}</article></body></html>"
    )
    article = extract(page_of(html))
    assert (article.title, article.byline, article.site_name, article.published, article.lang) == (
        "Owls at night",
        "Ada Owl",
        "Bird News",
        "2024-05-01",
        "en-GB",
    )


def test_links_are_made_absolute_against_the_base_href() -> None:
    html = (
        '<html><head><base href="https://cdn.example.org/docs/"></head>'
        f"<body><div class='article-body'>{PROSE}<p>See <a href='guide.html'>the guide</a> for more.</p>"
        f"{PROSE}</div></body></html>"
    )
    (link,) = plain_text(extract(page_of(html))).links
    assert link.url == "https://cdn.example.org/docs/guide.html"


def test_plain_text_is_passed_through() -> None:
    article = extract(page_of("First line\n\nSecond paragraph.\n", is_html=False))
    assert article == Article(
        "https://example.com/story",
        "https://example.com/story",
        "First line",
        "",
        "",
        "",
        "",
        Document((Lines("First line\n\nSecond paragraph.\n"),)),
    )


def test_extraction_does_not_depend_on_earlier_calls() -> None:
    first = f"<html><body><div class='post'>{PROSE}</div></body></html>"
    other = "<html><body><ul class='results'>" + "<li>Item with a price</li>" * 30 + "</ul></body></html>"
    before = extract(page_of(first))
    extract(page_of(other))
    assert extract(page_of(first)) == before


def test_a_page_of_too_many_elements_is_refused_before_readability() -> None:
    from app.errors import TooComplex
    from app.extract import MAX_ELEMENTS

    links = "<a href='/x'>l</a> " * (MAX_ELEMENTS + 10)
    html = f"<html><body><p>{'Words about owls and their nests. ' * 20}</p><p>{links}</p></body></html>"
    page = Page("https://e.example/", "https://e.example/", 200, "text/html", "utf-8", html, True, 0.0)
    with pytest.raises(TooComplex) as raised:
        extract(page)
    assert raised.value.status == 422
    assert "80,000 elements" in raised.value.detail


@pytest.mark.parametrize(
    ("card", "byline"),
    [
        ("<span itemprop='author'><b itemprop='name'>BOB357</b> Grandmaster Brewer Joined 2016</span>", "BOB357"),
        ("<a rel='author' href='/u/ann'>Ann Lee</a>", "Ann Lee"),
        ("<div itemprop='author'>" + "Grandmaster Brewer, joined December 2016, 924 messages " * 2 + "</div>", ""),
    ],
)
def test_the_byline_is_an_author_card_name_never_the_whole_card(card: str, byline: str) -> None:
    words = "Owls hunt at night with silent feathers. " * 8
    html = f"<html><body>{card}<article><p>{words}</p></article></body></html>"
    page = Page("https://e.example/", "https://e.example/", 200, "text/html", "utf-8", html, True, 0.0)
    assert extract(page).byline == byline


SITE = "<meta property='og:site_name' content='Bird News'>"


@pytest.mark.parametrize(
    ("head", "heading", "title"),
    [
        ("<title>Mozilla - Wikipedia</title>", "Mozilla", "Mozilla"),  # not the longest part, the site's name
        ("<title>Systemd - ArchWiki</title>", "systemd", "Systemd"),
        (f"<title>Owls at night | Bird News</title>{SITE}", "", "Owls at night"),
        (f"<title>Bird News | Owls at night</title>{SITE}", "", "Owls at night"),
        ("<title>Owls at night | Code | Ada Owl</title>", "Hi, I'm Ada", "Owls at night"),  # no evidence: first part
        ("<title>BBC - Owls at night</title>", "", "Owls at night"),  # a first part too short to be a title
        ("<title>Owls at night: a field guide</title>", "", "Owls at night: a field guide"),  # a colon is no separator
        ("<meta name='DC.title' content='Owls'><meta property='og:title' content='Owl facts'>", "", "Owls"),
        ("<meta property='x:title dc:title' content='Owls'><title>Home</title>", "", "Owls"),  # several names at once
        ("<meta name='parsely-title' content='Owls'>", "", "Owls"),
        ('<script type="application/ld+json"><![CDATA[{"@type": "NewsArticle", "headline": "Owls"}]]></script>',
         "", "Owls"),
        ('<script type="application/ld+json">{"@type": "Article", "headline": "Wikimedia list article",'
         ' "name": "List of owls"}</script>', "List of owls", "List of owls"),
        ('<meta property="og:title" content="Article"><title>Owls at night</title>', "", "Owls at night"),  # a type
        ("", "Owls at night", "Owls at night"),  # no title at all: the page's heading
    ],
)  # fmt: skip
def test_the_title_is_the_pages_own_headline(head: str, heading: str, title: str) -> None:
    h1 = f"<h1>{heading}</h1>" if heading else ""
    html = f"<html><head>{head}</head><body><article>{h1}{PROSE}</article></body></html>"
    assert extract(page_of(html)).title == title


@pytest.mark.parametrize(
    ("markup", "byline", "published"),
    [
        ('<p class="byline">By <a href="/people/ada">Ada Owl</a> on 3 May 2024</p>', "Ada Owl", ""),
        ('<span itemprop="author">Ada Owl</span><time itemprop="datePublished" datetime="2024-05-03">May 3</time>',
         "Ada Owl", "2024-05-03"),
        # Microdata's date in content; an element marked so that says no date is passed over.
        ('<span itemprop="datePublished">May</span><span itemprop="datePublished" content="2024-05-04"></span>'
         '<span class="author">Ada Owl</span>', "Ada Owl", "2024-05-04"),
        ('<div class="author">Par Ada Owl</div>', "Ada Owl", ""),
        ('<div class="review"><span class="review-author">Ben</span><p>Great owls.</p></div>', "", ""),  # a reviewer
    ],
)  # fmt: skip
def test_the_byline_and_date_can_come_from_the_markup(markup: str, byline: str, published: str) -> None:
    html = f"<html><head><title>Owls at night</title></head><body><article>{markup}{PROSE}</article></body></html>"
    article = extract(page_of(html))
    assert (article.byline, article.published) == (byline, published)


def image_sources(html: str) -> list[str]:
    """The src of every image in the article extracted from a page of PROSE around html."""
    article = extract(page_of(f"<html><body><article><h1>Pictures</h1>{PROSE}{html}{PROSE}</article></body></html>"))
    return [image.src or "None" for image in images(article.document.blocks)]


BLANK_GIF = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"


@pytest.mark.parametrize(
    ("html", "sources"),
    [
        (
            f'<p><img src="{BLANK_GIF}" data-src="/photos/owl.jpg" alt="An owl"></p>',
            ["https://example.com/photos/owl.jpg"],
        ),
        ('<p><img src="/static/lazy_placeholder.gif" data-lazy-src="/owl.jpg"></p>', ["https://example.com/owl.jpg"]),
        ('<p><img data-original="/owl.jpg" alt="An owl"></p>', ["https://example.com/owl.jpg"]),
        ('<p><img src="/small.jpg" data-src="/large.jpg"></p>', ["https://example.com/large.jpg"]),  # the script's wins
        (
            '<p><img srcset="/owl-320.jpg 320w, /owl-1280.jpg 1280w, /owl-640.jpg 640w"></p>',
            ["https://example.com/owl-1280.jpg"],
        ),
        ('<p><img src="/blank.gif" data-srcset="/owl.jpg 1x, /owl@2x.jpg 2x"></p>', ["https://example.com/owl@2x.jpg"]),
        (
            '<picture><source srcset="/owl.webp 1x, /owl-2x.webp 2x" type="image/webp"><img alt="An owl"></picture>',
            ["https://example.com/owl-2x.webp"],
        ),
        (
            '<p><img class="lazyload" alt="An owl"><noscript><img src="/owl.jpg"></noscript></p>',
            ["https://example.com/owl.jpg"],
        ),
        ('<p><noscript><img src="/owl.jpg" alt="An owl"></noscript></p>', ["https://example.com/owl.jpg"]),
        # A script's image beside its <noscript> copy: one picture, not two.
        ('<p><img data-src="/owl.jpg"><noscript><img src="/owl.jpg"></noscript></p>', ["https://example.com/owl.jpg"]),
        ('<p><img src="/photos/clear-sky.jpg"></p>', ["https://example.com/photos/clear-sky.jpg"]),  # a real name
        (f'<p><img src="{BLANK_GIF}" alt="An owl"></p>', ["None"]),  # a placeholder and nothing else: no address
        ('<p><img src="https://tracker.example/p.gif?id=7" width="1" height="1"></p>', []),  # a tracking pixel
        ('<p><noscript><img src="https://tracker.example/tr?ev=view" height="1" width="1"></noscript></p>', []),
    ],
)
def test_lazy_images_get_their_real_address_and_placeholders_none(html: str, sources: list[str]) -> None:
    assert image_sources(html) == sources
