"""Find a page's article and its metadata: readability-lxml for the body, meta tags and JSON-LD for the rest."""

from __future__ import annotations

import contextlib
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import lxml.etree
import lxml.html
from readability import Document

from app.errors import ExtractError
from app.fetch import Page


@dataclass(frozen=True)
class Article:
    """A page's readable content: the article as HTML (or plain text) and what the page says about it."""

    url: str
    final_url: str
    title: str
    byline: str
    site_name: str
    published: str
    lang: str
    html: str
    plain: bool = False


ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "blogposting",
    "reportagenewsarticle",
    "techarticle",
    "scholarlyarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "webpage",
    "review",
    "howto",
    "recipe",
    "product",
    "qapage",
    "discussionforumposting",
}
# Elements that are never part of an article in the fallback path.
BOILERPLATE_XPATH = (
    "//script|//style|//noscript|//template|//nav|//header|//footer|//aside|//form|//iframe|//svg"
    "|//*[@role='navigation' or @role='banner' or @role='contentinfo' or @role='complementary']"
    "|//*[@aria-hidden='true']|//*[@hidden]"
)


def extract(page: Page) -> Article:
    """Return the article in page, or raise ExtractError when nothing readable is there."""
    if not page.is_html:
        text = page.text.strip()
        if not text:
            raise ExtractError("the page is empty")
        title = text.splitlines()[0].strip()[:200]
        return Article(page.url, page.final_url, title, "", "", "", "", page.text, plain=True)
    tree = parse_html(page.text)
    if tree is None:
        raise ExtractError("the page is empty")
    meta = _metadata(tree)
    body_html = _readable_body(tree, page.final_url)
    title = meta.get("title") or _document_title(tree) or _first_heading(body_html) or page.final_url
    return Article(
        url=page.url,
        final_url=page.final_url,
        title=title,
        byline=meta.get("byline", ""),
        site_name=meta.get("site_name", ""),
        published=meta.get("published", ""),
        lang=meta.get("lang", ""),
        html=body_html,
    )


XML_DECLARATION_RE = re.compile(r"^\s*<\?xml[^>]*>", re.IGNORECASE)


def parse_html(text: str) -> lxml.html.HtmlElement | None:
    """Parse text as HTML; None when there is no document at all."""
    # lxml refuses str input that carries an encoding declaration.
    text = XML_DECLARATION_RE.sub("", text, count=1).replace("\x00", "")
    if not text.strip():
        return None
    try:
        return lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError):
        return None


def _text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _readable_body(tree: lxml.html.HtmlElement, final_url: str) -> str:
    """The article as HTML: readability's summary, or the page's body without its boilerplate."""
    summary = Document(tree, url=final_url).summary(html_partial=True)
    fragment = parse_fragment(summary)
    if fragment is not None and _text(fragment):
        return str(summary)
    fallback = _without_boilerplate(tree, final_url)
    if fallback:
        return fallback
    raise ExtractError("no readable text was found in the page")


def parse_fragment(markup: str) -> lxml.html.HtmlElement | None:
    """Parse an HTML fragment into one element; None when it is empty."""
    if not markup.strip():
        return None
    try:
        return lxml.html.fragment_fromstring(markup, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return None


def _without_boilerplate(tree: lxml.html.HtmlElement, final_url: str) -> str:
    body = tree.find("body")
    if body is None:
        return ""
    body = lxml.html.fromstring(lxml.html.tostring(body))  # a copy: the caller's tree stays whole
    for element in body.xpath(BOILERPLATE_XPATH):
        if element.getparent() is not None:
            element.drop_tree()
    if not _text(body):
        return ""
    with contextlib.suppress(ValueError):
        body.make_links_absolute(final_url, handle_failures="discard")
    body.tag = "div"
    return str(lxml.html.tostring(body, encoding="unicode"))


def _document_title(tree: lxml.html.HtmlElement) -> str:
    title = tree.find(".//title")
    if title is None:
        return ""
    text = _text(title)
    # "Article title | Site name": keep the longest part when the separators split off a site name.
    parts = [part.strip() for part in re.split(r"\s+[|\-–—·»:]\s+", text) if part.strip()]
    if len(parts) > 1:
        return max(parts, key=len)
    return text


def _first_heading(body_html: str) -> str:
    fragment = parse_fragment(body_html)
    if fragment is None:
        return ""
    for heading in fragment.iter("h1", "h2"):
        text = _text(heading)
        if text:
            return text
    return ""


def _metadata(tree: lxml.html.HtmlElement) -> dict[str, str]:
    """Title, byline, site name, published date and language from meta tags, Open Graph and JSON-LD."""
    found: dict[str, str] = {}

    def offer(key: str, value: Any) -> None:
        if isinstance(value, str):
            value = " ".join(html.unescape(value).split())
            if value and key not in found:
                found[key] = value[:300]

    metas: dict[str, str] = {}
    for meta in tree.iter("meta"):
        name = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
        content = meta.get("content")
        if name and content and name not in metas:
            metas[name] = content
    for item in _json_ld_items(tree):
        offer("title", item.get("headline"))
        offer("byline", _names(item.get("author")))
        offer("published", item.get("datePublished"))
        offer("site_name", _names(item.get("publisher")))
    for key, names in (
        ("title", ("og:title", "twitter:title", "citation_title", "dc.title")),
        ("byline", ("author", "article:author", "citation_author", "dc.creator", "parsely-author", "byl")),
        ("site_name", ("og:site_name", "application-name", "publisher")),
        (
            "published",
            ("article:published_time", "citation_publication_date", "date", "dc.date", "pubdate", "publishdate"),
        ),
        ("lang", ("og:locale", "content-language", "language", "dc.language")),
    ):
        for name in names:
            value = metas.get(name, "")
            if key == "byline" and value.startswith(("http://", "https://")):
                continue  # article:author is often a profile URL, not a name
            offer(key, value)
    if "byline" not in found:
        for element in tree.xpath("//*[@rel='author' or @itemprop='author']")[:1]:
            offer("byline", _text(element))
    offer("lang", tree.get("lang") or tree.get("xml:lang"))
    if "lang" in found:
        found["lang"] = found["lang"].replace("_", "-").split(",")[0].strip()
    if "published" in found:
        match = re.match(r"^(\d{4}-\d{2}-\d{2})", found["published"])
        if match:
            found["published"] = match.group(1)
    if "byline" in found:
        found["byline"] = re.sub(r"^by\s+", "", found["byline"], flags=re.IGNORECASE)
    return found


def _names(value: Any) -> str | None:
    """A person or organisation in JSON-LD: a string, an object with a name, or a list of those."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        name = value.get("name")
        return name if isinstance(name, str) else None
    if isinstance(value, list):
        names = [name for name in (_names(item) for item in value[:5]) if name]
        return ", ".join(names) if names else None
    return None


def _json_ld_items(tree: lxml.html.HtmlElement) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object whose @type is an article-like type, best first."""
    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text or "")
        except (ValueError, RecursionError):
            continue
        stack = [data]
        seen = 0
        while stack and seen < 200:
            item = stack.pop(0)
            seen += 1
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                kinds = item.get("@type")
                kinds = kinds if isinstance(kinds, list) else [kinds]
                if any(isinstance(kind, str) and kind.lower() in ARTICLE_TYPES for kind in kinds):
                    yield item
                if isinstance(item.get("@graph"), list):
                    stack.extend(item["@graph"])
                if isinstance(item.get("mainEntity"), (dict, list)):
                    stack.append(item["mainEntity"])
