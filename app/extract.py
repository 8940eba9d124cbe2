"""Find a page's article and its metadata: readability-lxml for the body, meta tags and JSON-LD for the rest."""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html

from app.build import document_of, text_document
from app.challenge import MAX_CHALLENGE_TEXT, bot_check
from app.document import HEADING_TAGS, WORD_RE, Article, Page, without_repeated_title
from app.errors import BlockedBySite, ExtractError, NoMatch, TooComplex
from app.metadata import Metadata, ancestors_of, folded, page_metadata, raw_text
from app.metadata import element_text as _text
from app.names import NamePattern
from app.score import readability_blocks
from app.selectors import Selector, matches
from app.visible import NOT_VISIBLE_RE, visible, visible_url, visible_xml


def extract(page: Page, *, keep: Selector | None = None, remove: Selector | None = None) -> Article:
    """Return the article in page, or raise ExtractError when nothing readable is there.

    keep: the article is what these selectors match, in page order, and readability is not asked; remove:
    what these match is gone before anything else is read.
    """
    # The final URL is the site's (its redirects'), shown in every format: percent-encoded as a browser shows it.
    final_url = visible_url(page.final_url)
    if not page.is_html:
        text = visible(page.text)
        if not text.strip():
            raise ExtractError("the page is empty")
        title = text.strip().splitlines()[0].strip()[:200]
        return Article(page.url, final_url, title, "", "", "", "", text_document(text))
    tree = parse_html(page.text)
    if tree is None:
        raise ExtractError("the page is empty")
    _check_size(tree, page.text)
    if remove is not None:
        for element in matches(remove, tree):
            _remove(element)
    meta = page_metadata(tree, final_url)
    base_url = _base_url(tree, final_url)  # read before the article's blocks are moved out of the tree
    discussion = _is_discussion(final_url, tree, meta.types)
    replies = discussion or _is_question_page(tree, meta.types)
    try:
        if keep is not None:
            root = _selected_body(tree, final_url, keep)
        else:
            root = _article_element(tree, page.text, final_url, meta, discussion=discussion, replies=replies)
    except ExtractError:
        _refuse_bot_check(page)
        raise
    if _is_short(root, MAX_CHALLENGE_TEXT):
        _refuse_bot_check(page)
    title = meta.title or final_url
    return Article(
        url=page.url,
        final_url=final_url,
        title=title,
        byline=meta.byline,
        site_name=meta.site_name,
        published=meta.published,
        lang=meta.lang,
        document=without_repeated_title(document_of(root, page_url=final_url, base_url=base_url), title),
    )


def _article_element(
    tree: lxml.html.HtmlElement, markup: str, final_url: str, meta: Metadata, *, discussion: bool, replies: bool
) -> lxml.html.HtmlElement:
    """The article's element; failing that, the text the page shows only after scripts run, or its description."""
    if _mostly_hidden(tree):
        _reveal(tree)
    try:
        return _readable_body(tree, final_url, discussion=discussion, replies=replies, title=meta.title)
    except ExtractError:
        # Some pages keep all their text where a browser shows it only after scripts run: Discourse's crawler
        # view in <noscript>, React's streamed HTML in <div hidden>. Read those before giving up.
        tree = parse_html(markup)  # a fresh tree: the first attempt removed what is now wanted
        if tree is None:
            raise
        _reveal(tree)
        try:
            return _readable_body(tree, final_url, discussion=discussion, replies=replies, title=meta.title)
        except ExtractError:
            # A page built wholly by scripts: its description is all the text a reader can have.
            if not meta.description:
                raise
            root = lxml.html.Element("div")
            paragraph = lxml.etree.SubElement(root, "p")
            paragraph.text = meta.description
            return root


# An article this short (MAX_CHALLENGE_TEXT characters) may be a bot check's few lines: only then is the page's
# markup searched for one.


def _refuse_bot_check(page: Page) -> None:
    """Raise BlockedBySite when the page is a bot check's, not the article (its headers were read by fetch)."""
    vendor = bot_check(page.status, {}, page.text)
    if vendor:
        raise BlockedBySite(f"the site answered with a bot check instead of the page ({vendor})")


# Reading takes time in proportion to the elements (about 65 ms per 1,000 on a Lambda-sized core): a page of
# hundreds of thousands of links would hold a worker for tens of seconds. Real pages stay far below: the
# largest of the 511 WCXB pages has 4,182 elements, very long Wikipedia articles a few tens of thousands.
MAX_ELEMENTS = 80_000


def _check_size(tree: lxml.html.HtmlElement, markup: str) -> None:
    # Each element starts at a "<" of the markup, but for the parser's html, head and body and the paragraphs
    # it implies around loose text (at most one a tag): most pages need no count of the tree.
    if 2 * markup.count("<") + 4 > MAX_ELEMENTS and COUNT_XPATH(tree) > MAX_ELEMENTS:
        raise TooComplex(f"the page has more than {MAX_ELEMENTS:,} elements")


XML_DECLARATION_RE = re.compile(r"^\s*<\?xml[^>]*>", re.IGNORECASE)
# A numeric character reference: the parser decodes it into the tree, where `&#x1b;` is an ESC.
CHARACTER_REFERENCE_RE = re.compile(r"&#(?:[xX]0*([0-9a-fA-F]{1,8})|0*([0-9]{1,10}))")


# lxml.html's own parser asks a Python function for the class of every element it hands out (form controls
# get classes of their own): 2.6 million calls for the 511 WCXB pages, 1-2% of the time. This one asks lxml's
# lookup in C: every element is an HtmlElement, which is all readability and the rules here use.
_parsers = threading.local()


def _parser() -> lxml.html.HTMLParser:
    """This thread's HTML parser (a parser is not to be shared between threads)."""
    parser: lxml.html.HTMLParser | None = getattr(_parsers, "parser", None)
    if parser is None:
        parser = _parsers.parser = lxml.html.HTMLParser()
        parser.set_element_class_lookup(
            lxml.etree.ElementDefaultClassLookup(
                element=lxml.html.HtmlElement,
                comment=lxml.html.HtmlComment,
                pi=lxml.html.HtmlProcessingInstruction,
                entity=lxml.html.HtmlEntity,
            )
        )
    return parser


def parse_html(text: str) -> lxml.html.HtmlElement | None:
    """Parse text as HTML, by the `visible` rule; None when there is no document at all."""
    # lxml refuses str input that carries an encoding declaration, and refuses to set text or attributes that
    # hold characters XML forbids: a hostile page's `<h\x01tml>` made readability fail later (a 500).
    text = visible_xml(XML_DECLARATION_RE.sub("", text, count=1))
    if not text.strip():
        return None
    try:
        tree = lxml.html.document_fromstring(text, parser=_parser())
    except (lxml.etree.ParserError, ValueError):
        return None
    _make_visible(tree, text)
    return tree


def _make_visible(tree: lxml.html.HtmlElement, source: str) -> None:
    """Apply the `visible` rule, in place, to every text and attribute value of the tree parsed from source.

    The parser makes `&#x1b;[2J` and `&#27;]0;title&#7;` an ESC and a BEL only in the tree. Done once, so every
    rule after it reads the text a reader sees, and lxml, which refuses to set a text that holds a control
    character, never sees one (an author's card with `&#x1b;` in its name was a 500).
    """
    # Reading every node takes longer than parsing (1.1 s against 0.7 s for the 641 benchmark pages, none of
    # which has such a reference): only a page that refers to one is read.
    if "&#" not in source or not any(_is_invisible(ref) for ref in CHARACTER_REFERENCE_RE.finditer(source)):
        return
    for node in tree.iter():
        if node.tail and NOT_VISIBLE_RE.search(node.tail):
            node.tail = visible(node.tail)
        if not isinstance(node.tag, str):
            continue  # a comment or processing instruction: removed before reading, its tail is text
        if node.text and NOT_VISIBLE_RE.search(node.text):
            node.text = visible(node.text)
        for name, value in node.attrib.items():
            if NOT_VISIBLE_RE.search(value):
                node.set(name, visible(value))


def _is_invisible(reference: re.Match[str]) -> bool:
    code = int(reference[1], 16) if reference[1] else int(reference[2])
    return code < 0x110000 and NOT_VISIBLE_RE.match(chr(code)) is not None


def _readable_body(
    tree: lxml.html.HtmlElement, final_url: str, *, discussion: bool, replies: bool, title: str
) -> lxml.html.HtmlElement:
    """The article: what readability chooses, taken whole from the cleaned page, or the page's main region.

    discussion: a forum thread, whose comments are the content; replies: a thread or a question with answers,
    where readability's pick (one post) is never the whole of it.
    """
    _resolve_images(tree)
    _remove_never_text(tree)
    body = tree.find("body")
    page_length = len(_text(body)) if body is not None else 0  # furniture is measured against it too
    if not page_length:
        raise ExtractError("no readable text was found in the page")
    # Readability chooses inside the page's frame, but before the furniture names are read: removing those
    # first changed its choice for the worse on pages whose article sits in a wrapper named like furniture
    # ("ad-container"), and lost whole articles.
    _clean_frame(tree, body, page_length)
    picked = readability_blocks(tree)
    replies = _clean(tree, keep_comments=discussion, page_length=page_length, picked=picked) or replies
    body = tree.find("body")
    body_length = len(_text(body)) if body is not None else 0
    if body is None or not body_length:
        raise ExtractError("no readable text was found in the page")
    lengths = {block: len(_text(block)) for block in picked if _within(block, body)}
    chosen = [block for block, length in lengths.items() if length]
    chosen_length = sum(lengths.values())
    region, region_length = _main_region(body, body_length)
    # Readability scores paragraphs of 25+ characters; listings, forums, products and documentation hold
    # their content in short items, so it often keeps one small block. When it kept less than half of the
    # main region's own (non-link) text, take the smallest element holding both the region and its pick,
    # unless its pick is an article under the page's headline: then the rest of the region is comments, a
    # live feed or teasers, which widening would add.
    if chosen_length < 0.5 * _own_text_length(region, region_length) and (
        replies or not _under_headline(body, chosen, chosen_length, title)
    ):
        chosen = [_common_ancestor([region, *chosen])]
    elif len(chosen) > 1 and not replies:
        # Readability keeps the blocks that pass its score and drops what lies between them: the cards of a
        # grid with less text, an article's headings and short paragraphs. Its pick is the smallest element
        # holding all its blocks; only a thread's or a question's blocks are separate posts.
        chosen = [_common_ancestor(chosen)]
    return _assembled(tree, final_url, chosen, chosen_by_reader=False)


def _selected_body(tree: lxml.html.HtmlElement, final_url: str, keep: Selector) -> lxml.html.HtmlElement:
    """The article: the outermost elements keep matches, whole, in page order."""
    _resolve_images(tree)
    _remove_never_text(tree)
    chosen = matches(keep, tree)
    if not chosen:
        raise NoMatch(f"the selector {keep.css[:200]!r} matched nothing in the page")
    return _assembled(tree, final_url, chosen, chosen_by_reader=True)


def _assembled(
    tree: lxml.html.HtmlElement, final_url: str, chosen: list[lxml.html.HtmlElement], *, chosen_by_reader: bool
) -> lxml.html.HtmlElement:
    """The chosen blocks under one element, laid out for reading; what a reader chose keeps its links and
    repeats (the rules that drop a page's menus and copies judge what readability chose, not a reader)."""
    # Made by our parser: the elements moved under it get their classes from its lookup in C (see `_parser`).
    output = _parser().makeelement("div")
    parents = [block.getparent() for block in chosen]
    for place, block in enumerate(chosen):
        # Blocks from different places of the page are different posts (a question and its answers): a rule
        # between them, so they do not run into each other.
        if place and parents[place - 1] is not parents[place]:
            output.append(lxml.html.Element("hr"))
        # Moved, not copied: nothing reads the page's tree after this (a second reading parses it again).
        output.append(block if parents[place] is not None else copy.deepcopy(block))
    if not chosen_by_reader:
        _drop_link_lists(output)
    _drop_heading_controls(output)
    _mark_footnotes(output)
    _author_lines(output)
    if not chosen_by_reader:
        _drop_repeated_blocks(output)
        _drop_repeated_and_status_lines(output)
    if not _has_text(output):
        raise ExtractError(
            "no readable text was found in " + ("what the selector matched" if chosen_by_reader else "the page")
        )
    return output


def _base_url(tree: lxml.html.HtmlElement, final_url: str) -> str:
    """What the page's relative addresses are relative to: its <base href>, else its own address."""
    base = tree.find("head/base[@href]")
    if base is None:
        return final_url
    try:
        return urljoin(final_url, str(base.get("href", "")).strip())
    except ValueError:
        return final_url


def _has_text(element: lxml.html.HtmlElement | None) -> bool:
    """Whether element holds any text but white space (`_text` without folding the whole of it)."""
    return element is not None and bool(raw_text(element).strip())


def _is_short(element: lxml.html.HtmlElement, length: int) -> bool:
    """Whether element's text (as `_text` folds it) is no longer than length characters."""
    # Folding only shortens a text, and a text's start folds no longer than the whole: an article is known to
    # be longer from its first few thousand characters, without folding all of it.
    text = raw_text(element)
    return len(text) <= length or (len(folded(text[: 4 * length])) <= length and len(folded(text)) <= length)


def _within(element: lxml.html.HtmlElement, ancestor: lxml.html.HtmlElement) -> bool:
    """Whether element is still inside ancestor (cleaning may have removed it)."""
    return any(parent is ancestor for parent in element.iterancestors())


# An article readability picked: one block of this many characters at least, starting under the page's
# headline no further than this share of its own length (a byline, a date, a picture lie between).
MIN_ARTICLE_LENGTH = 1000
MAX_HEADLINE_GAP = 0.5


def _under_headline(body: lxml.html.HtmlElement, chosen: list[lxml.html.HtmlElement], length: int, title: str) -> bool:
    """Whether readability's pick is one article block that starts under the page's headline."""
    if len(chosen) != 1 or length < MIN_ARTICLE_LENGTH:
        return False
    headline = _headline(body, title)
    if headline is None:
        return False
    pick = chosen[0]
    if headline is pick or _within(headline, pick):
        return True
    # Characters of text between the end of the headline and the start of the pick, in page order.
    gap: int | None = None
    for element in body.iter():
        if element is pick:
            break
        if element is headline:
            gap = -len(_text(headline))
        if gap is not None:
            if isinstance(element.tag, str) and element.text:
                gap += len(folded(element.text))
            if element.tail:
                gap += len(folded(element.tail))
    else:
        return False  # the headline comes after the pick
    return gap is not None and gap <= MAX_HEADLINE_GAP * length


def _headline(body: lxml.html.HtmlElement, title: str) -> lxml.html.HtmlElement | None:
    """The page's headline: the <h1> that says the title (most of its words are the title's), else the first."""
    title_words = set(WORD_RE.findall(title.casefold()))
    first = None
    for heading in body.iter("h1"):
        words = WORD_RE.findall(_text(heading).casefold())
        if not words:
            continue
        if sum(word in title_words for word in words) >= 0.5 * len(words):
            return heading
        first = first if first is not None else heading
    return first


# Never text a reader sees: scripts, styles and images drawn in markup.
NEVER_TEXT_TAGS = ("script", "style", "noscript", "template", "link", "svg")
# Form controls, and the landmarks pages use for their frame; a broken page can nest everything in one of them.
LANDMARK_TAGS = ("nav", "header", "footer", "aside", "dialog", "iframe", "button", "input", "select", "textarea")
# ARIA roles of the page's frame; what ARIA hides (aria-hidden="true", hidden) goes with them.
BOILERPLATE_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alert"})
# Bootstrap's utility classes: "d-none" is display: none at every width, unless a class such as "d-md-block"
# shows the element again from some width up (a desktop browser's view, which the benchmarks' truth is).
HIDDEN_CLASS = "d-none"
SHOWN_AT_WIDTH_RE = re.compile(r"^d-(?:sm|md|lg|xl|xxl)-(?!none$)")
# Compiled once: `tree.xpath(text)` compiles its expression on every call, which took longer than the search.
HOLDS_MAIN_XPATH = lxml.etree.XPath("descendant-or-self::main|.//*[@role='main']")
MAIN_XPATH = lxml.etree.XPath(".//main|.//*[@role='main']")
COUNT_XPATH = lxml.etree.XPath("count(//*)")
CANONICAL_XPATH = lxml.etree.XPath("//head/link[@rel='canonical']/@href|//head/meta[@property='og:url']/@content")
ITEMTYPE_XPATH = lxml.etree.XPath("//*[@itemtype]/@itemtype")
OUTERMOST_HIDDEN_XPATH = lxml.etree.XPath(".//*[@hidden][not(ancestor::*[@hidden])]")
# Class and id words that name page furniture, never the content (each a whole word of the attribute).
BOILERPLATE_NAMES_RE = re.compile(
    r"(?:^|[\s_-])(?:share|sharing|social|cookies?|consent|gdpr|newsletter|subscribe|subscription|breadcrumbs?"
    r"|related|recommended|popular|trending|sidebar|advert|advertisement|ads?|adslot|sponsored|promo|popup|modal"
    r"|skip-link|skiplink|navbar|nav|menu|site-header|site-footer|footer|masthead|toolbar|pagination|pager"
    r")"
    r"(?:$|[\s_-])",
    re.IGNORECASE,
)
# Readers' replies below an article; often longer than the article, and holding <article>s of their own.
COMMENTS_RE = re.compile(
    r"(?:^|[\s_-])(?:comments|commentlist|comment-list|comments-area|comment-respond|respond|disqus_thread)(?:$|[\s_-])",
    re.IGNORECASE,
)
ANY_NAME_RE = re.compile(f"{BOILERPLATE_NAMES_RE.pattern}|{COMMENTS_RE.pattern}", re.IGNORECASE)
BOILERPLATE_NAMES, COMMENTS, ANY_NAME = map(NamePattern, (BOILERPLATE_NAMES_RE, COMMENTS_RE, ANY_NAME_RE))
DISPLAY_NONE_RE = re.compile(r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)", re.IGNORECASE)


def _remove_never_text(tree: lxml.html.HtmlElement) -> None:
    """Remove, in place, comments, processing instructions and the elements that are never text."""
    for element in list(tree.iter(lxml.etree.Comment, lxml.etree.ProcessingInstruction, *NEVER_TEXT_TAGS)):
        _remove(element)


def _remove_unless_most(elements: list[lxml.html.HtmlElement], page_length: int) -> None:
    """Remove each of elements that holds no more than half of the page's text (page_length characters)."""
    for element in elements:
        # An unclosed tag or a wrapper named for the layout ("wy-body-for-nav") can hold the whole page;
        # furniture never holds most of it.
        if element.getparent() is not None and _is_short(element, page_length // 2):
            _remove(element)


def _clean_frame(tree: lxml.html.HtmlElement, body: lxml.html.HtmlElement, page_length: int) -> None:
    """Remove, in place, the page's frame (landmarks, form controls, what ARIA marks as not content) and what is
    hidden; page_length: the length of the body's text, which the frame never holds the most of."""
    marks = _frame_marks(tree, body)
    panels = _accordion_panels(marks)  # before the buttons that open them go with the form controls
    landmarks = [
        element for element in tree.iter(*LANDMARK_TAGS) if element.tag != "header" or not _in_article(element)
    ]
    _remove_unless_most(landmarks, page_length)
    # The marks were found before the landmarks went: those inside one are measured and removed from what was
    # removed, which changes nothing in the page.
    frame = [element for element in marks.framed if _is_boilerplate(element) and element not in panels]
    _remove_unless_most(frame, page_length)
    for element in marks.styled:
        # A reader never sees it, however much text it holds; a page that shows its text only by script
        # gets it back from the second reading in `extract`.
        if element.tag not in ("main", "article") and (
            DISPLAY_NONE_RE.search(element.get("style", "")) or _hidden_by_class(str(element.get("class", "")))
        ):
            _remove(element)


class _FrameMarks(NamedTuple):
    """The elements whose attributes `_clean_frame` reads, in page order."""

    toggles: list[lxml.html.HtmlElement]  # in the body: aria-expanded and aria-controls
    regions: list[lxml.html.HtmlElement]  # in the body: role="region" and an id
    framed: list[lxml.html.HtmlElement]  # anywhere: a role, aria-hidden or hidden
    styled: list[lxml.html.HtmlElement]  # in the body: a style, or the hiding class in the class list


def _frame_marks(tree: lxml.html.HtmlElement, body: lxml.html.HtmlElement) -> _FrameMarks:
    """The elements `_clean_frame` reads, found in one walk of the tree."""
    # One walk, reading each element's attributes, takes a third of the time of the four XPath searches it
    # replaces (`//*[@role or @aria-hidden or @hidden]` and the like: 1.7 ms against 0.7 ms on a median page).
    marks = _FrameMarks([], [], [], [])
    after_body = next(body.itersiblings(lxml.etree.Element), None)
    in_body = False
    for element in tree.iter(lxml.etree.Element):
        if element is body or element is after_body:
            in_body = element is body  # the body's descendants come right after it
        attributes = element.attrib
        if not attributes:
            continue
        role = attributes.get("role")
        if role is not None or "aria-hidden" in attributes or "hidden" in attributes:
            marks.framed.append(element)
        if not in_body or element is body:
            continue
        if "aria-expanded" in attributes and "aria-controls" in attributes:
            marks.toggles.append(element)
        if role == "region" and "id" in attributes:
            marks.regions.append(element)
        if "style" in attributes or HIDDEN_CLASS in attributes.get("class", ""):
            marks.styled.append(element)
    return marks


def _hidden_by_class(classes: str) -> bool:
    """Whether the stylesheet hides the element at every width, by a CSS framework's documented class."""
    names = classes.split()
    return HIDDEN_CLASS in names and not any(SHOWN_AT_WIDTH_RE.match(name) for name in names)


def _accordion_panels(marks: _FrameMarks) -> set[lxml.html.HtmlElement]:
    """The panels of the page's accordions: role="region", each opened by a button that says it controls it.

    The buttons become plain text, in place: each is its panel's heading, not a form control.
    """
    # WAI-ARIA's accordion pattern: the panel is hidden (aria-hidden, hidden) until its heading's button is
    # pressed, like <details>; what it holds (a product's shipping terms, the answers of a FAQ) is content
    # a reader opens, not what ARIA marks as not content. A menu's or a dialog's toggle controls no region.
    controlled = {name for toggle in marks.toggles for name in str(toggle.get("aria-controls")).split()}
    panels = {panel for panel in marks.regions if panel.get("id") in controlled}
    names = {panel.get("id") for panel in panels}
    for toggle in marks.toggles:
        if toggle.tag == "button" and names.intersection(str(toggle.get("aria-controls")).split()):
            toggle.tag = "span"
    return panels


def _is_boilerplate(element: lxml.html.HtmlElement) -> bool:
    """Whether element's ARIA role is the frame's, or ARIA hides it."""
    return (
        element.get("role") in BOILERPLATE_ROLES or element.get("aria-hidden") == "true" or "hidden" in element.attrib
    )


def _clean(
    tree: lxml.html.HtmlElement, *, keep_comments: bool, page_length: int, picked: list[lxml.html.HtmlElement]
) -> bool:
    """Remove, in place, what is never article text inside the frame: the elements named as furniture.

    Readers' comments go too, unless keep_comments or unless they are the page's content: True then. picked:
    readability's blocks.
    """
    body = tree.find("body")
    furniture: list[lxml.html.HtmlElement] = []
    comments: list[lxml.html.HtmlElement] = []
    any_name = ANY_NAME.remembering()
    for element in _named(body):
        if element.tag in ("main", "article"):
            continue
        names = f"{element.get('class', '')} {_component_id(element, any_name)}"
        if not any_name(names):
            continue
        if COMMENTS.search(names) and not keep_comments and not HOLDS_MAIN_XPATH(element):
            comments.append(element)
        elif BOILERPLATE_NAMES.search(names) and not _holds_main(element):
            furniture.append(element)
    # A form's captions: its controls went with the page's frame, and what a label says is the control's
    # name ("Sort by", "Quantity", "Email address"), not the page's. Only now: readability reads them as text.
    furniture.extend(tree.iter("label"))
    _remove_unless_most(furniture, page_length)
    # An overlay may hold most of the page's text (a gallery of fifty captions under a short article), but
    # never the article: one that holds readability's pick or the page's <main> or <article> stays.
    for overlay in _overlays(body):
        if not _holds_main(overlay) and not any(block is overlay or _within(block, overlay) for block in picked):
            _remove(overlay)
    if _replies_are_content(body, comments):
        return True
    for element in comments:
        _remove(element)
    return False


# A control that closes what holds it: named so in its class, id, title or label ("Close gallery", "btn-close"),
# or Bootstrap's data-dismiss, saying at most a few words ("×", "Close").
CLOSE_NAME_RE = re.compile(r"(?:^|[\s_-])close(?:$|[\s_-])", re.IGNORECASE)
CLOSE_NAME = NamePattern(CLOSE_NAME_RE)
CLOSE_ATTRIBUTES = ("class", "id", "title", "aria-label")
MAX_CLOSE_TEXT = 20


def _named(body: lxml.html.HtmlElement | None) -> list[lxml.html.HtmlElement]:
    """The elements under body with a class or an id, in page order."""
    # A walk reading each element's attributes: `//body//*[@class or @id]` took twice as long in libxml2.
    if body is None:
        return []
    return [
        element
        for element in body.iterdescendants(lxml.etree.Element)
        if "class" in (attributes := element.attrib) or "id" in attributes
    ]


def _overlays(body: lxml.html.HtmlElement | None) -> list[lxml.html.HtmlElement]:
    """The elements that begin with a control closing them: a lightbox, a dialog, a drawer, a banner."""
    # What a reader can close is laid over the page, shown only on a click (the full view of a gallery whose
    # thumbnails the article shows) or put in the way of it (a sign-up box); the article is never closed.
    found = []
    close_name = CLOSE_NAME.remembering()
    for control in body.iterdescendants("a", "button") if body is not None else ():
        names = " ".join(str(control.get(name, "")) for name in CLOSE_ATTRIBUTES)
        dismiss = control.get("data-dismiss") or control.get("data-bs-dismiss")
        if not (dismiss or close_name(names)) or len(_text(control)) > MAX_CLOSE_TEXT:
            continue
        holder = control.getparent()
        first = next((child for child in holder if isinstance(child.tag, str)), None) if holder is not None else None
        if first is control and holder.tag not in ("body", "html"):
            found.append(holder)
    return found


# A post this short (a link and a few lines about it, in characters outside links) under replies that hold
# this share of the text: the replies are what a reader came for, as on a link aggregator's thread. A blog
# post's comments are dropped, however long.
MAX_LINK_POST = 1000
REPLIES_SHARE = 0.8


def _replies_are_content(body: lxml.html.HtmlElement | None, comments: list[lxml.html.HtmlElement]) -> bool:
    """Whether the comments hold most of the page's text, under a short post."""
    if body is None or not comments:
        return False
    found = set(comments)
    outermost = [
        element
        for element in comments
        if element.getparent() is not None and not any(ancestor in found for ancestor in element.iterancestors())
    ]
    replies = sum(len(_text(element)) for element in outermost)
    rest = _own_text_length(body) - sum(_own_text_length(element) for element in outermost)
    return rest < MAX_LINK_POST and replies >= REPLIES_SHARE / (1 - REPLIES_SHARE) * rest


def _component_id(element: lxml.html.HtmlElement, any_name: Callable[[str], bool] = ANY_NAME.search) -> str:
    """The element's id when it names a component; a section's id made from its heading is not one."""
    # Documentation and wiki generators give each section its heading's words as id: the section holding
    # "Sharing with a single developer" is "sharing-with-a-single-developer", and is no share bar.
    identifier = str(element.get("id", ""))
    if not identifier or not any_name(identifier):
        return identifier
    heading = next(element.iter(*HEADING_TAGS), None)
    if heading is not None and _slug(_text(heading)) == _slug(identifier):
        return ""
    return identifier


def _slug(text: str) -> str:
    return "-".join(WORD_RE.findall(text.casefold().replace("_", " ")))


# The URL shapes of forum software (phpBB, vBulletin, XenForo, Discourse, Invision, Vanilla). Not Q&A sites:
# there the comments under a question are side remarks, and the answers are not named "comments".
DISCUSSION_PATH_RE = re.compile(
    r"/(?:forums?|topics?|threads?|discussions?|t|viewtopic\.php|showthread\.php)(?:[/?.]|$)|[?&/]topic[=/]",
    re.IGNORECASE,
)
DISCUSSION_TYPES = frozenset({"discussionforumposting"})


def _is_discussion(url: str, tree: lxml.html.HtmlElement, types: frozenset[str]) -> bool:
    """Whether the page is a forum thread, where the replies are the content (types: its JSON-LD types)."""
    # The page's own canonical address: the one it was fetched from may be a mirror or a short link.
    for canonical in CANONICAL_XPATH(tree)[:1]:
        url = urljoin(url, str(canonical).strip())
    parts = urlsplit(url)
    if DISCUSSION_PATH_RE.search(parts.path + ("?" + parts.query if parts.query else "")):
        return True
    return not DISCUSSION_TYPES.isdisjoint(types)


QUESTION_TYPES = ("schema.org/QAPage", "schema.org/Question")


def _is_question_page(tree: lxml.html.HtmlElement, types: frozenset[str]) -> bool:
    """Whether the page is a question with its answers (Stack Exchange and its kind), by its schema.org types."""
    if "qapage" in types:
        return True
    return any(str(kind).rstrip("/").endswith(QUESTION_TYPES) for kind in ITEMTYPE_XPATH(tree)[:50])


def _mostly_hidden(tree: lxml.html.HtmlElement) -> bool:
    """Whether elements marked hidden hold more of the page's text than the rest does."""
    # React streams server-rendered content into <div hidden id="S:0"> and a script moves it into place at
    # once; a page never hides most of its text from readers for good.
    body = tree.find("body")
    if body is None:
        return False
    hidden = sum(len(_text(element)) for element in OUTERMOST_HIDDEN_XPATH(body))
    return hidden > 0 and hidden > len(_text(body)) - hidden


def _reveal(tree: lxml.html.HtmlElement) -> None:
    """Turn <noscript> into <div> and drop hidden attributes and styles, for pages that show text only by script."""
    for element in tree.iter("noscript"):
        element.tag = "div"
    for element in tree.xpath("//*[@hidden or @aria-hidden or @style]"):
        for name in ("hidden", "aria-hidden", "style"):
            element.attrib.pop(name, None)


def _in_article(element: lxml.html.HtmlElement) -> bool:
    """An article's own <header> holds its title and standfirst, not the site's banner."""
    return any(ancestor.tag in ("article", "main") for ancestor in element.iterancestors())


def _holds_main(element: lxml.html.HtmlElement) -> bool:
    return any(True for _ in element.iter("main", "article")) or element.get("role") == "main"


def _remove(element: lxml.etree._Element) -> None:
    """Remove element and its subtree, keeping its tail text in place."""
    parent = element.getparent()
    if parent is None:
        return
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


# Where lazy-loading scripts keep an image's address until it scrolls into view, most common first; src then
# holds a placeholder (a blank GIF, a blurred thumbnail) or nothing.
LAZY_SOURCE_ATTRIBUTES = ("data-src", "data-lazy-src", "data-original", "data-lazy", "data-hi-res-src", "data-url")
LAZY_SRCSET_ATTRIBUTES = ("data-srcset", "data-lazy-srcset", "srcset")
# A file named for what it is, word by word ("blank.gif", "lazy_placeholder.gif", "spacer-1x1.png"): a
# placeholder for the picture a script puts there later, never the picture.
PLACEHOLDER_WORDS = frozenset({"blank", "spacer", "pixel", "placeholder", "transparent", "lazy", "loading", "empty"})
PLACEHOLDER_PARTS = PLACEHOLDER_WORDS | {"image", "img", "white", "grey", "gray", "load", "clear", "px"}
PLACEHOLDER_EXTENSIONS = frozenset({"gif", "png", "svg", "jpg", "jpeg", "webp"})
SIZE_PART_RE = re.compile(r"\d+(?:x\d+)?")


def _is_placeholder(url: str) -> bool:
    """Whether url is no picture of the page: an inline data: URI, or a placeholder file."""
    if url.lstrip()[:5].lower() == "data:":
        return True
    name = re.split(r"[?#]", url, maxsplit=1)[0].rsplit("/", 1)[-1].lower()
    *parts, extension = re.split(r"[_.-]+", name)
    if extension not in PLACEHOLDER_EXTENSIONS or not parts:
        return False
    if all(SIZE_PART_RE.fullmatch(part) for part in parts):
        return "1x1" in parts or "1" in parts  # "1x1.gif"; "800x600.jpg" may well be a picture
    return any(part in PLACEHOLDER_WORDS for part in parts) and all(
        part in PLACEHOLDER_PARTS or SIZE_PART_RE.fullmatch(part) for part in parts
    )


def _resolve_images(tree: lxml.html.HtmlElement) -> None:
    """Give each image its real address (lazy loading's, else the best of its srcset or <picture>'s sources,
    else its <noscript> fallback's) and remove tracking pixels and placeholders that have none."""
    for image in list(tree.iter("img")):
        if any(image.get(name, "").strip().removesuffix("px") in ("0", "1") for name in ("width", "height")):
            _remove(image)  # a tracking pixel or a spacer
            continue
        source = _image_source(image)
        if source:
            image.set("src", source)
        elif "src" in image.attrib:
            del image.attrib["src"]
    for noscript in list(tree.iter("noscript")):
        fallbacks = [image for image in noscript.iter("img") if image.get("src")]
        if not fallbacks:
            continue
        # The lazy image the fallback stands in for: the one just before it, or its <picture>'s.
        previous = noscript.getprevious()
        if previous is not None and previous.tag in ("picture", "source"):
            previous = next(previous.iter("img"), None)
        if previous is not None and previous.tag == "img":
            if not previous.get("src"):
                previous.set("src", fallbacks[0].get("src", ""))
                if not previous.get("alt") and fallbacks[0].get("alt"):
                    previous.set("alt", fallbacks[0].get("alt", ""))
        elif sum(1 for _ in noscript.getparent().iter("img")) == len(fallbacks):
            # No script-drawn image beside it: the fallback is the only picture there is.
            noscript.addprevious(fallbacks[0])


def _image_source(image: lxml.html.HtmlElement) -> str:
    """The address of image's real picture, or "" when it has none but a placeholder."""
    for name in LAZY_SOURCE_ATTRIBUTES:
        value = str(image.get(name, "")).strip()
        if value and not _is_placeholder(value):
            return value
    source = str(image.get("src", "")).strip()
    if source and not _is_placeholder(source):
        return source
    # libxml2 does not know <source> is empty, and nests what follows it inside: look up, then down.
    picture = next(image.iterancestors("picture"), None)
    sources = list(picture.iter("source")) if picture is not None else []
    for srcset in [image.get(name, "") for name in LAZY_SRCSET_ATTRIBUTES] + [
        source.get(name, "") for source in sources for name in LAZY_SRCSET_ATTRIBUTES
    ]:
        best = _largest_candidate(srcset)
        if best:
            return best
    return ""


def _largest_candidate(srcset: str) -> str:
    """The srcset candidate with the largest width or density descriptor (HTML's image candidate strings)."""
    best, best_size = "", -1.0
    for candidate in SRCSET_CANDIDATE_RE.finditer(srcset):
        url, descriptor = candidate.group("url").rstrip(","), candidate.group("descriptor") or "1x"
        if _is_placeholder(url):
            continue
        number = SRCSET_SIZE_RE.match(descriptor)  # "640w" or "2x": a srcset uses one kind throughout
        size = float(number.group(1)) if number else 0.0
        if size > best_size:
            best, best_size = url, size
    return best


# One candidate of a srcset: a URL (no whitespace), then an optional descriptor up to the next comma.
SRCSET_CANDIDATE_RE = re.compile(r"[\s,]*(?P<url>[^\s,][^\s]*)(?:\s+(?P<descriptor>[^,]*))?")
SRCSET_SIZE_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*[wx]\s*$")


def _own_text_length(element: lxml.html.HtmlElement, length: int | None = None) -> int:
    """Characters of element's text outside links (length: its whole text's, when known)."""
    links = sum(len(_text(link)) for link in element.iter("a"))
    return max((len(_text(element)) if length is None else length) - links, 0)


def _main_region(body: lxml.html.HtmlElement, body_length: int) -> tuple[lxml.html.HtmlElement, int]:
    """The page's main region and the length of its text: <main> when there is one, else the smallest element
    holding most of the text (body_length: the body's)."""
    for main in MAIN_XPATH(body):
        main_length = len(_text(main))
        if main_length >= 0.3 * body_length:
            return main, main_length
    region, total = body, body_length
    while True:
        # Descend while one child holds most of the text: the chrome around it has already been removed. Its
        # siblings need not be measured: the children's texts are no longer than the region's, so a child with
        # 70% of it is the longest.
        for child in region:
            if not isinstance(child.tag, str):
                continue
            # Folding white space only shortens a text: a child whose raw text is under 70% needs no folding.
            raw = raw_text(child)
            if len(raw) < 0.7 * total:
                continue
            length = len(folded(raw))  # `_text`'s measure
            if length and length >= 0.7 * total:
                region, total = child, length
                break
        else:
            return region, total


BLOCK_TAGS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "div", "section", "article", "blockquote",
     "figure", "figcaption", "table", "pre"}
)  # fmt: skip


def _drop_repeated_blocks(root: lxml.html.HtmlElement) -> None:
    """Drop a group of blocks whose text repeats an earlier group's word for word: copies for other screens."""
    # A page lays the same section out once per screen size and hides all but one with CSS, which we cannot
    # see; a reader sees it once. Only groups (a block holding blocks) count: single lines, such as a
    # legend under each table, may rightly repeat.
    seen: dict[str, lxml.html.HtmlElement] = {}
    groups = _holding_blocks(root)

    def walk(parent: lxml.html.HtmlElement) -> None:
        for child in list(parent):
            if child.tag not in BLOCK_TAGS:
                continue
            if child in groups:
                text = _text(child)
                if len(text) >= 40:
                    earlier = seen.get(text)
                    # A wrapper and the one block inside it share their text; only a copy elsewhere repeats.
                    if earlier is not None and earlier not in child.iterancestors():
                        _remove(child)
                        continue
                    seen.setdefault(text, child)
                walk(child)

    walk(root)


# What a heading holds besides its words: an "edit" link (Wikipedia, MediaWiki) or a permalink mark (Sphinx's
# "¶", GitHub's "#", "§", "🔗").
HEADING_CONTROL_RE = re.compile(r"^\W*(?:edit|edit source|¶|§|#|🔗|link|permalink)?\W*$", re.IGNORECASE)
FOOTNOTE_MARK_RE = re.compile(r"^\[\s*(\d{1,4}|[a-z])\s*\]$")


def _drop_heading_controls(root: lxml.html.HtmlElement) -> None:
    """Drop the edit links and permalink marks inside headings: `History[edit]` reads "History"."""
    for heading in root.iter(*HEADING_TAGS):
        for element in list(heading.iter("a", "span", "button")):
            if element is heading or element.getparent() is None:
                continue
            text = _text(element)
            if (text or element.tag == "a") and HEADING_CONTROL_RE.match(text) and text != _text(heading):
                _remove(element)


def _mark_footnotes(root: lxml.html.HtmlElement) -> None:
    """Write the page's own footnote marks ("[1]" linking to its notes) as ^1, so they do not read as ours."""
    for link in list(root.iter("a")):
        if not (link.get("href") or "").startswith("#"):
            continue  # most links: their text need not be read
        match = FOOTNOTE_MARK_RE.match(_text(link))
        if match:
            mark = lxml.html.Element("sup")
            mark.text = f"^{match.group(1)}"
            mark.tail = link.tail
            parent = link.getparent()
            if parent is not None:
                parent.replace(link, mark)


# Class and id words of the card that says who wrote a post: its name, rank, join date and post count.
AUTHOR_CARD_RE = re.compile(
    r"(?:^|[\s_-])(?:user|member|poster|postprofile|postauthor|profile)(?:info|details|card|block|box)?(?:$|[\s_-])",
    re.IGNORECASE,
)
AUTHOR_CARD = NamePattern(AUTHOR_CARD_RE)
CARD_TAGS = frozenset({"div", "section", "aside", "dl", "td", "header", "footer"})
MAX_CARD_LENGTH = 300  # an author's card is a few short lines; a longer block with that name is a bio or a post


def _author_lines(root: lxml.html.HtmlElement) -> None:
    """Turn each author's card into one line, "name · rank · date", instead of headings and bare numbers."""
    card_name = AUTHOR_CARD.remembering()
    for card in list(root.iter(*CARD_TAGS)):
        if card.getparent() is None or not _is_author_card(card, card_name):
            continue
        if any(_is_author_card(ancestor, card_name) for ancestor in card.iterancestors(*CARD_TAGS)):
            continue  # the outermost card speaks for the ones inside it
        name = _first_text(card, ".//*[@itemprop='name']|.//*[contains(@class, 'username')]|.//a")
        if not name:
            continue
        parts = [
            name,
            _first_text(
                card, ".//*[@itemprop='jobTitle']|.//*[contains(@class, 'userTitle') or contains(@class, 'rank')]"
            ),
            _first_text(card, ".//time|.//*[contains(@class, 'action-time') or contains(@class, 'date')]"),
        ]
        line = lxml.html.Element("p")
        line.text = " · ".join(dict.fromkeys(part for part in parts if part))
        line.tail = card.tail
        card.getparent().replace(card, line)


def _is_author_card(element: lxml.html.HtmlElement, card_name: Callable[[str], bool] = AUTHOR_CARD.search) -> bool:
    names = f"{element.get('class', '')} {element.get('id', '')}"
    person = str(element.get("itemtype", "")).rstrip("/").endswith("schema.org/Person")
    if not (person or card_name(names)):
        return False
    return len(_text(element)) <= MAX_CARD_LENGTH and not any(len(_text(p)) >= 80 for p in element.iter("p"))


def _first_text(element: lxml.html.HtmlElement, xpath: str) -> str:
    for found in element.xpath(xpath):
        text = _text(found)
        if text:
            return text
    return ""


# A label this short said twice in a row, same words and same links, is a copy for another screen size or a
# second layout of the same card (a name over a photo and again beside it): a reader sees it once.
MAX_REPEATED_LINE = 80
LINE_TAGS = frozenset({*BLOCK_TAGS, *HEADING_TAGS, "dt", "dd", "span", "time", "a", "strong", "b"})


def _drop_repeated_and_status_lines(root: lxml.html.HtmlElement) -> None:
    """Drop the lines that only say a widget is loading or failed to ("Loading...", "Captcha failed to load"),
    and a short line that repeats the line just before it with the same links (never in tables or code)."""
    previous: tuple[str, lxml.html.HtmlElement] | None = None  # the last line kept outside tables and code
    for element in _lines(root):
        text = _text(element)
        if not text:
            continue
        if len(text) <= MAX_STATUS_MESSAGE and (STATUS_MESSAGE_RE.match(text) or CONTROL_LABEL_RE.match(text)):
            _remove(element)
            continue
        if any(True for _ in element.iterancestors("table", "pre", "code")):
            continue
        # The links are compared only when the words are the same: lines do not hold one another, so the
        # previous line's links are still what they were.
        if (
            previous is not None
            and len(text) <= MAX_REPEATED_LINE
            and text == previous[0]
            and _hrefs(element) == _hrefs(previous[1])
        ):
            _remove(element)
            continue
        previous = (text, element)


def _hrefs(element: lxml.html.HtmlElement) -> list[str]:
    return [str(link.get("href", "")) for link in element.iter("a")]


def _holding_blocks(root: lxml.html.HtmlElement) -> set[lxml.html.HtmlElement]:
    """The elements under root (root included, a tree's root) that hold a block somewhere inside them."""
    return ancestors_of(root.iter(*BLOCK_TAGS))  # the blocks found by lxml's tag filter


def _lines(root: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """The whole lines of text under root, in page order: elements with no block inside them that are not a
    part of a paragraph (a link in a sentence). No line holds another."""
    holds_block = _holding_blocks(root)
    has_block_child = {element.getparent() for element in root.iter(*BLOCK_TAGS)}
    return [
        element
        for element in root.iter(*LINE_TAGS)
        if element not in holds_block
        and element is not root
        and (element.getparent() is root or element.getparent() in has_block_child or element.tag in BLOCK_TAGS)
    ]


# What an app's widgets say until, or unless, their script has run: never the page's content.
STATUS_MESSAGE_RE = re.compile(
    r"^\W*(?:loading|loading more|please wait|one moment(?: please)?|(?:re)?captcha failed to load"
    r"|(?:please )?(?:enable|turn on) javascript(?: (?:and cookies )?to (?:continue|view|see|use) [\w ]+)?"
    r"|javascript is (?:required|disabled)[\w ,]*|failed to load[\w ]*|something went wrong|try again later)\W*$",
    re.IGNORECASE,
)
MAX_STATUS_MESSAGE = 80
# What a control does to the page, as its whole line: expand a quoted post (XenForo's "Click to expand..."),
# put the item in a cart, follow a teaser to its article, open an embed on its own site. A reader acts on none.
CONTROL_LABEL_RE = re.compile(
    r"^\W*(?:click to (?:expand|shrink)|read more|continue reading|read (?:the )?full (?:story|article)"
    r"|add to (?:cart|bag|basket|compare|wishlist)|buy now|shop now|view all|visit website"
    r"|view this post on (?:instagram|facebook|tiktok))\W*$",
    re.IGNORECASE,
)


def _common_ancestor(elements: list[lxml.html.HtmlElement]) -> lxml.html.HtmlElement:
    """The deepest element that holds all of elements."""
    common = [elements[0], *elements[0].iterancestors()]
    for element in elements[1:]:
        mine = {element, *element.iterancestors()}
        common = [ancestor for ancestor in common if ancestor in mine]
    return common[0]


def _drop_link_lists(root: lxml.html.HtmlElement) -> None:
    """Drop lists and blocks that are nothing but short links: menus and tag clouds left inside the content.

    Never tables: a table of names that are links (prize laureates, a squad) is the data itself.
    """
    link_lengths = {link: len(_text(link)) for link in root.iter("a")}  # measured once, not for each ancestor
    for element in list(root.iter("ul", "ol", "div", "section")):
        if element.getparent() is None:
            continue
        previous = element.getprevious()
        if previous is not None and previous.tag in HEADING_TAGS:
            continue  # a list under its own heading is a section of the page: "See also", a list of laureates
        links = list(element.iterdescendants("a"))  # lxml's tag filter, in C: findall(".//a") took 2.5 times as long
        if len(links) < 3:
            continue
        link_text = sum(link_lengths[link] for link in links)
        # Many links, short on average, and almost all of the text: navigation rather than a listing of items.
        # (The text, the costly measure, only for short links.)
        if not link_text or link_text / len(links) >= 25:
            continue
        # Folding only shortens a text: links longer than 90% of the raw text are longer than 90% of the folded.
        raw = raw_text(element)
        if link_text > 0.9 * len(raw) or link_text > 0.9 * len(folded(raw)):
            _remove(element)
