"""Articles for the renderers' tests, their documents built from HTML by the real builder (app/build.py)."""

from __future__ import annotations

import lxml.html

from app.build import document_of
from app.document import Article, Document
from app.visible import visible


def document_from_html(html: str, *, base_url: str) -> Document:
    """The document a fragment of HTML makes, as extraction makes one from the article it chose."""
    return document_of(lxml.html.fragment_fromstring(visible(html), create_parent="div"), page_url=base_url)


def html_article(
    url: str, final_url: str, title: str, byline: str, site_name: str, published: str, lang: str, html: str
) -> Article:
    """An Article whose body is html, with the header fields given."""
    document = document_from_html(html, base_url=final_url)
    return Article(url, final_url, title, byline, site_name, published, lang, document)
