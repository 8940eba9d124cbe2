"""What a page says about itself: title, byline, site, date and language, from JSON-LD, meta tags and its markup."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import lxml.etree
import lxml.html

from app.document import WORD_RE
from app.names import NamePattern
from app.visible import visible


@dataclass(frozen=True)
class Metadata:
    """The page's own description of itself; empty strings where it says nothing."""

    title: str = ""
    byline: str = ""
    site_name: str = ""
    published: str = ""
    lang: str = ""
    description: str = ""
    types: frozenset[str] = frozenset()  # schema.org types of its JSON-LD items, lower-cased


# schema.org types of a page that is one article, post or item; their JSON-LD describes the page itself.
ARTICLE_TYPES = frozenset(
    {"article", "newsarticle", "blogposting", "reportagenewsarticle", "techarticle", "scholarlyarticle",
     "analysisnewsarticle", "opinionnewsarticle", "backgroundnewsarticle", "socialmediaposting", "webpage",
     "review", "howto", "recipe", "product", "qapage", "discussionforumposting", "liveblogposting"}
)  # fmt: skip

# Meta tag names for each field, best first. Names are folded as `_meta_values` folds them ("DC.title" and
# "dc:title" are one name). Dublin Core before Open Graph: a page that has both spells its own title there.
META_NAMES = {
    "title": ("dc:title", "dcterm:title", "og:title", "title", "twitter:title", "parsely-title", "citation_title"),
    "byline": ("dc:creator", "dcterm:creator", "author", "parsely-author", "article:author", "citation_author", "byl"),
    "site_name": ("og:site_name", "application-name", "apple-mobile-web-app-title", "publisher"),
    "published": (
        "article:published_time", "parsely-pub-date", "citation_publication_date", "dc:date", "dcterm:created",
        "date", "pubdate", "publishdate", "datepublished", "og:published_time",
    ),
    "lang": ("og:locale", "content-language", "language", "dc:language"),
    "description": ("og:description", "description", "twitter:description", "dc:description"),
}  # fmt: skip

MAX_BYLINE = 80  # longer is a paragraph or a profile card, not a name
MAX_FIELD = 300
# Separators between a page's title and its site's or section's name: "Owls at night | Bird News".
TITLE_SEPARATOR_RE = re.compile(r"\s+(?:[|\-–—·»>/\\:@]|::)(?:\s+|$)")
# Class and id words of the element that names an article's author in the markup.
BYLINE_NAME_RE = re.compile(r"byline|author|dateline|writtenby|p-author", re.IGNORECASE)
# Class and id words of the places where other people write: their authors are not the page's.
REPLY_NAME_RE = re.compile(r"review|comment|reply|replies|testimonial|forum-post|answer", re.IGNORECASE)
BYLINE_PREFIX_RE = re.compile(r"^(?:by|par|von|door|di|por)\s*[:\-]?\s+", re.IGNORECASE)
DATE_RE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})")
BYLINE_NAME, REPLY_NAME = NamePattern(BYLINE_NAME_RE), NamePattern(REPLY_NAME_RE)
# Compiled once: `tree.xpath(text)` compiles its expression on every call, which took longer than the search.
PUBLISHED_XPATH = lxml.etree.XPath("//*[@itemprop='datePublished'][@datetime or @content]")
ARTICLE_TIME_XPATH = lxml.etree.XPath("//article//time/@datetime", smart_strings=False)
JSON_LD_XPATH = lxml.etree.XPath("//script[@type='application/ld+json']")
BYLINE_NAME_XPATH = lxml.etree.XPath(
    ".//*[@itemprop='name' or @rel='author' or contains(@class, 'author') or contains(@class, 'name')]"
)


def page_metadata(tree: lxml.html.HtmlElement, url: str) -> Metadata:
    """What the page says about itself: JSON-LD first, then meta tags, then its <title>, headings and bylines."""
    metas = _meta_values(tree)
    items = list(json_ld_items(tree))
    headings = [element_text(heading) for heading in tree.iter("h1", "h2")]
    site_name = _first(
        [_names(item.get("publisher")) for item in items] + [metas.get(name) for name in META_NAMES["site_name"]]
    )
    title = _first(
        [_json_ld_title(item, headings) for item in items] + [metas.get(name) for name in META_NAMES["title"]],
        reject=_is_type_name,
    )
    title = _without_site(title or _text_of(tree.find(".//title")), headings, _site_names(site_name, url))
    if not title:
        title = next((heading for heading in headings if heading), "")
    declared = [_names(item.get("author")) for item in items] + [metas.get(name) for name in META_NAMES["byline"]]
    # The markup is read only when nothing declares an author: it is the slow part.
    byline = _first(declared, reject=_is_url) or _first([_markup_byline(tree)], reject=_is_url)
    # The markup, again, only when nothing declares the date.
    published = (
        _first([item.get("datePublished") for item in items] + [metas.get(name) for name in META_NAMES["published"]])
        or _first([_markup_published(tree)])
        or _first(ARTICLE_TIME_XPATH(tree)[:1])
    )
    lang = _first([metas.get(name) for name in META_NAMES["lang"]] + [tree.get("lang"), tree.get("xml:lang")])
    date = DATE_RE.match(published)
    return Metadata(
        title=title,
        byline=BYLINE_PREFIX_RE.sub("", byline),
        site_name=site_name,
        published=date.group(1) if date else published,
        lang=lang.replace("_", "-").split(",")[0].strip(),
        description=_first([metas.get(name) for name in META_NAMES["description"]]),
        types=frozenset(_types(items)),
    )


def _first(values: list[Any], reject: Callable[[str], bool] | None = None) -> str:
    """The first value that is a non-empty string (entities decoded, whitespace folded, `visible`) and not rejected."""
    for value in values:
        if isinstance(value, str):
            # Decoded here, past the parser's tree: JSON-LD's "\u001b" is ESC, a doubly encoded "&amp;#x81;" C1.
            text = folded(visible(html.unescape(value)))[:MAX_FIELD]
            if text and not (reject and reject(text)):
                return text
    return ""


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))  # article:author is often a profile URL, not a name


def raw_text(element: lxml.html.HtmlElement) -> str:
    """The element's text as it stands: `text_content()`, without the XPath and the smart string that make it."""
    # libxml2's text content of the node, which XPath's string() is too: the same on all 596,000 elements of the
    # 641 benchmark pages, in three quarters of the time.
    return str(lxml.etree.tostring(element, method="text", encoding=str, with_tail=False))


def ancestors_of(elements: Iterable[lxml.html.HtmlElement]) -> set[lxml.html.HtmlElement]:
    """Every element that holds one of elements: the elements that hold a block, or a quotation."""
    # Up from each, as far as an element already known: those holding none of them are never visited.
    found: set[lxml.html.HtmlElement] = set()
    for element in elements:
        for ancestor in element.iterancestors():
            if ancestor in found:
                break
            found.add(ancestor)
    return found


def folded(text: str) -> str:
    """text with its whitespace folded to single spaces, and none at either end."""
    return " ".join(text.split())


def element_text(element: lxml.html.HtmlElement) -> str:
    """The element's text with its whitespace folded to single spaces."""
    return folded(raw_text(element))


def _text_of(element: lxml.html.HtmlElement | None) -> str:
    return element_text(element) if element is not None else ""


def _meta_values(tree: lxml.html.HtmlElement) -> dict[str, str]:
    """Each meta tag's content by its folded name; `property` names before `name` ones, the first of each kept."""
    by_property: dict[str, str] = {}
    by_name: dict[str, str] = {}
    for meta in tree.iter("meta"):
        content = meta.get("content")
        if not content or not content.strip():
            continue
        for attribute, values in (("property", by_property), ("name", by_name), ("itemprop", by_name)):
            # One tag may give several names: property="og:title twitter:title".
            for name in (meta.get(attribute) or "").split():
                values.setdefault(_folded_name(name), content)
    return {**by_name, **by_property}


def _folded_name(name: str) -> str:
    name = name.strip().lower()
    return re.sub(r"^(dc|dcterms?)[.:]", lambda match: ("dcterm" if "term" in match.group(1) else "dc") + ":", name)


def _is_type_name(value: str) -> bool:
    """A schema.org type's name ("Article", "Wikimedia list article") instead of the page's title."""
    words = WORD_RE.findall(value.casefold())
    return "".join(words) in ARTICLE_TYPES or (len(words) <= 3 and words[-1:] == ["article"])


def _json_ld_title(item: dict[str, Any], headings: list[str]) -> str | None:
    """The item's headline or name; when they differ, the one the page shows as a heading."""
    headline, name = item.get("headline"), item.get("name")
    candidates = [value for value in (headline, name) if isinstance(value, str) and value.strip()]
    folded = {_fold(heading) for heading in headings}
    return next((value for value in candidates if _fold(value) in folded), candidates[0] if candidates else None)


def _fold(text: str) -> str:
    """Text compared by its words alone: case, spaces, punctuation and permalink marks ignored."""
    return " ".join(WORD_RE.findall(html.unescape(text).casefold()))


def _site_names(site_name: str, url: str) -> set[str]:
    """Names the site goes by: its declared name and the main label of its host (wikipedia for en.wikipedia.org)."""
    names = {_fold(site_name)} if site_name else set()
    try:
        labels = (urlsplit(url).hostname or "").split(".")
    except ValueError:
        labels = []
    if len(labels) >= 2 and not labels[-1].isdigit():
        names.add(labels[-2])
    return names - {""}


def _without_site(title: str, headings: list[str], site_names: set[str]) -> str:
    """The title without the site's or section's name that pages add to it: "Owls at night | Bird News"."""
    parts = TITLE_SEPARATOR_RE.split(title)
    if len(parts) == 1:
        return title
    separators = TITLE_SEPARATOR_RE.findall(title)

    def joined(start: int, end: int) -> str:
        return parts[start] + "".join(
            s + p for s, p in zip(separators[start : end - 1], parts[start + 1 : end], strict=True)
        )

    # The page's own heading says where its title ends: "Mozilla - Wikipedia" under <h1>Mozilla</h1>. Titles
    # lead and site names trail, so the earliest parts that a heading repeats win, the longest first.
    folded_headings = {_fold(heading) for heading in headings} - {""}
    for start in range(len(parts)):
        for end in range(len(parts), start, -1):
            if _fold(joined(start, end)) in folded_headings:
                return joined(start, end).strip()
    start, end = 0, len(parts)
    while end - start > 1 and _names_site(parts[end - 1], site_names):
        end -= 1
    while end - start > 1 and _names_site(parts[start], site_names):
        start += 1
    if (start, end) != (0, len(parts)):
        return joined(start, end).strip()
    # Nothing names the site: the title is the first part, unless that is too short to be one ("BBC - ...").
    return parts[0] if len(WORD_RE.findall(parts[0])) >= 3 else max(parts, key=len)


def _names_site(part: str, site_names: set[str]) -> bool:
    folded = _fold(part)
    return folded in site_names or folded.replace(" ", "") in site_names


def _markup_byline(tree: lxml.html.HtmlElement) -> str | None:
    """The author's name where the page's markup marks it: rel=author, itemprop=author, a "byline" class."""
    replies: dict[lxml.html.HtmlElement, bool] = {}  # ancestors are shared: each is asked once
    byline_name = BYLINE_NAME.remembering()
    body = tree.find("body")
    # A walk reading each element's attributes, stopping at the byline: `//body//*[@rel or @itemprop or @class
    # or @id]` took twice as long in libxml2, and found every element before the first was read.
    for element in body.iterdescendants(lxml.etree.Element) if body is not None else ():
        attributes = element.attrib
        if not attributes:
            continue
        marked = attributes.get("rel") == "author" or "author" in (attributes.get("itemprop") or "")
        if not marked and not byline_name(f"{attributes.get('class', '')} {attributes.get('id', '')}"):
            continue
        if any(_is_reply(ancestor, replies) for ancestor in element.iterancestors()):
            continue  # a reviewer or a commenter, not the page's author
        # A byline holds a date, a role or an author's card (forums put the rank and post count in it): the
        # part marked as the name, or its one link when the rest is a date or a count ("posted by <a>marta</a>
        # 5 hours ago"); "Martin Untersinger (avec Damien Leloup)" stays whole.
        names = BYLINE_NAME_XPATH(element)
        links = list(element.iterdescendants("a"))
        dated = len(links) == 1 and re.search(r"\d", element_text(element).replace(element_text(links[0]), ""))
        name = element_text(names[0] if names else links[0] if dated else element)
        if 0 < len(name) <= MAX_BYLINE:
            return name
    return None


def _markup_published(tree: lxml.html.HtmlElement) -> str | None:
    """The first date the markup marks as the publication's (microdata's datePublished), read only when nothing
    else says it: the search is a third of the time of reading all the page's metadata."""
    found = PUBLISHED_XPATH(tree)
    if not found:
        return None
    # Its datetime or its content, whichever the element writes first.
    return next(str(value) for name, value in found[0].items() if name in ("datetime", "content"))


def _is_reply(element: lxml.html.HtmlElement, known: dict[lxml.html.HtmlElement, bool]) -> bool:
    """Whether element's class or id names a place where other people write (known: the answers so far)."""
    reply = known.get(element)
    if reply is None:
        reply = known[element] = REPLY_NAME.search(f"{element.get('class', '')} {element.get('id', '')}")
    return reply


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


CDATA_RE = re.compile(r"^\s*(?://\s*)?<!\[CDATA\[|(?://\s*)?\]\]>\s*$")


def _types(items: list[dict[str, Any]]) -> Iterator[str]:
    for item in items:
        kinds = item.get("@type")
        yield from (kind.lower() for kind in (kinds if isinstance(kinds, list) else [kinds]) if isinstance(kind, str))


def json_ld_items(tree: lxml.html.HtmlElement) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object whose @type is an article-like type, in page order."""
    for script in JSON_LD_XPATH(tree):
        try:
            data = json.loads(CDATA_RE.sub("", script.text or ""))
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
