"""readability-lxml's choice of the article, made on our parsed tree and handed back as the page's own elements."""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import lxml.etree
import lxml.html
from readability import Document
from readability.readability import REGEXES as READABILITY_PATTERNS
from readability.readability import is_video_url

from app.document import HEADING_TAGS
from app.metadata import ancestors_of, folded, raw_text
from app.names import NamePattern

# readability's class and id tests, searched fast in ASCII names (the same answers: see NamePattern).
UNLIKELY = NamePattern(READABILITY_PATTERNS["unlikelyCandidatesRe"])
MAYBE_CANDIDATE = NamePattern(READABILITY_PATTERNS["okMaybeItsACandidateRe"])
POSITIVE = NamePattern(READABILITY_PATTERNS["positiveRe"])
NEGATIVE = NamePattern(READABILITY_PATTERNS["negativeRe"])

# readability measures every text after its `clean`: a run of 255 or more spaces cut to 255, a run of spaces
# holding a line break made one line break, tabs and runs of spaces made one space. `clean_length` counts the
# same without its three passes over each text. The expression for long runs only ever matches from the start
# of a run; said so (`(?<!\s)`), it is not tried again from inside every run (quadratic in the run's length).
LONG_SPACE_RE = re.compile(r"(?<!\s)\s{255,}")
SPACES_RE = re.compile(r"\t|[ \t]{2,}")

# The elements `_is_clutter` counts under a block: one pass over them instead of readability's six searches
# (`.//p`, `.//img`, ...), each a walk of the block's subtree, for every block it sanitizes.
COUNTED_TAGS = ("p", "img", "li", "input", "embed")
IN_ARTICLE_XPATH = lxml.etree.XPath("ancestor::main | ancestor::article")
IN_CODE_XPATH = lxml.etree.XPath("ancestor-or-self::pre | ancestor-or-self::code")
HOLDS_ARTICLE_XPATH = lxml.etree.XPath(
    "descendant-or-self::main | descendant-or-self::article | descendant-or-self::math"
)
SANITIZED_TAGS = ("table", "ul", "div", "aside", "header", "footer", "section")


def readability_blocks(tree: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """The elements of tree that readability chooses as the article, outermost first, in page order."""
    # retry_length=0: no second, gentler pass (a whole re-parse) when the first keeps little; `extract`'s
    # recovery does that job.
    readability = _Readability(tree, retry_length=0)
    summary = readability.summary(html_partial=True)
    return readability.originals(summary.element) if isinstance(summary, _Pick) else []


def text_length(element: lxml.html.HtmlElement) -> int:
    """The length of element's text as readability measures it: `len(clean(element.text_content()))`."""
    return clean_length(raw_text(element))


def clean_length(text: str) -> int:
    """`len(readability.readability.clean(text))`, counted without rewriting the text where that can be avoided."""
    # A run of spaces holding a line break counts one character, and so does a run of spaces alone: when
    # those are all the text's white space, its length is that of its words, one space apart. An ASCII text
    # (`isascii` is free: the string knows) is asked with one `in` per other white space character. Another
    # is asked for tabs and no-break spaces, the others that texts hold, then counted: its white space, as
    # str.split finds it, all spaces and line breaks. Both took a third of the time of a regular expression
    # for any other white space: 0.10 s against 0.15 s for the 121,000 ASCII texts measured over the 641
    # benchmark pages, 0.27 s against 0.33 s for the 26,000 others.
    if text.isascii():
        if (
            "\t" not in text
            and "\r" not in text
            and "\f" not in text
            and "\v" not in text
            and "\x1c" not in text  # \x1c to \x1f: white space to str.split and to `clean`'s \s
            and "\x1d" not in text
            and "\x1e" not in text
            and "\x1f" not in text
        ):
            return len(folded(text))
    elif "\t" not in text and "\xa0" not in text:
        words = text.split()
        joined = " ".join(words)
        if len(text) - len(joined) + max(len(words) - 1, 0) == text.count(" ") + text.count("\n"):
            return len(joined)
    # Else line by line: the runs holding line breaks count one each, and what `clean` does inside a line
    # (a run of 255 cut, tabs and runs of spaces made one space) is done to that line alone.
    length = lines = 0
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        lines += 1
        if len(line) >= 255:
            line = LONG_SPACE_RE.sub(" " * 255, line)
        length += len(SPACES_RE.sub(" ", line)) if "\t" in line or "  " in line else len(line)
    return length + max(lines - 1, 0)


class _Readability(Document):  # type: ignore[misc]  # readability-lxml has no type hints
    """readability-lxml choosing the article's blocks on our parsed tree, without the work we would undo.

    Each override answers as readability's own method does, faster:

    - Its own `_parse` runs lxml's Cleaner over a copy of the whole page (scripts, styles, comments, event
      handlers): about a sixth of its time, for nothing once `_remove_never_text` has run. It still gets a
      copy: it edits what it scores.
    - `transform_misused_divs_into_paragraphs` asks whether a <div> holds blocks by serializing everything
      under it to HTML and searching the string, for every <div>: quadratic in the depth of the page. The same
      question is asked of the tree here.
    - It measures the text of every link again for each candidate that holds it, runs its three `clean`
      expressions over texts they leave alone, and formats debug messages (`describe`) that nobody logs.
      Lengths are kept while the tree stands still (scoring, then sanitizing, where a removal forgets the
      lengths of what held it), and only the messages are gone.
    - It walks a subtree again for each question about it: ElementPath's `findall` for every tag name, six
      counts under every block it sanitizes, a search for a <blockquote> after every <div> and every element
      above it. Here each is one walk of the descendants (`tags`, `_is_clutter`, `get_preserved_elements`).
    """

    _lengths: dict[lxml.html.HtmlElement, int] | None = None
    _weights: dict[str, int]  # by class or id: a page's elements repeat the same names
    _page: list[lxml.html.HtmlElement]  # the page's elements in page order
    _places: dict[lxml.html.HtmlElement, int]  # each element of the copy: its place in that order

    def _parse(self, input: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
        self.encoding = "utf-8"
        self._weights = {}
        copied = copy.deepcopy(input)
        # Each element of the copy knows its place in page order, so the blocks readability keeps can be
        # taken from our tree with the headings, tables, lists and code its sanitizer drops. (readability's
        # own xpath=True does the same with getpath(), quadratic in the number of siblings: 20,000 links took
        # 1.4 s there.) The copy is the page's, element for element, until readability edits it.
        self._page = list(input.iter(lxml.etree.Element))
        self._places = {element: place for place, element in enumerate(copied.iter(lxml.etree.Element))}
        return copied

    def originals(self, fragment: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
        """The elements of the page that readability's pick came from, outermost first, in page order."""
        # With no candidate at all readability answers with the whole body: it stands for the blocks in it.
        whole_page = fragment if fragment.tag in ("body", "html") else None
        chosen: dict[int, lxml.html.HtmlElement] = {}
        seen: set[lxml.html.HtmlElement] = set()
        for element in fragment.iter(lxml.etree.Element):
            place = self._places.get(element)  # None for the paragraphs readability made
            if element is whole_page or place is None or self._page[place] in seen:
                continue
            original = self._page[place]
            parent = element.getparent()
            parent_place = self._places.get(parent) if parent is not None and parent is not whole_page else None
            # A child that is still under its own parent came along with the parent.
            if parent_place is not None and self._page[parent_place] is original.getparent():
                continue
            if any(ancestor in seen for ancestor in original.iterancestors()):
                continue
            seen.add(original)
            chosen[place] = original
        return [chosen[place] for place in sorted(chosen)]

    def get_clean_html(self) -> _Pick:
        # readability's documented hook for what `summary` returns: the chosen element itself instead of its
        # HTML, which we would only parse again to find its blocks.
        return _Pick(self.html)

    def tags(self, node: lxml.html.HtmlElement, *tag_names: str) -> Iterator[lxml.html.HtmlElement]:
        # readability's `findall(".//name")` for each name in turn, without ElementPath's parsing and generators
        # around the same walk: half the time, and a call a page makes 30 times or more, on small pages too.
        for tag_name in tag_names:
            yield from list(node.iterdescendants(tag_name))

    def reverse_tags(self, node: lxml.html.HtmlElement, *tag_names: str) -> Iterator[lxml.html.HtmlElement]:
        for tag_name in tag_names:
            yield from reversed(list(node.iterdescendants(tag_name)))

    def _text_length(self, element: lxml.html.HtmlElement) -> int:
        lengths = self._lengths
        if lengths is None:
            return text_length(element)
        length = lengths.get(element)
        if length is not None:
            return length
        # An element holding one element and only white space besides has that element's length (`clean`
        # strips white space at both ends): a wrapper is measured by what it wraps, often measured already.
        # Wrappers held a quarter of the text measured here over the 641 benchmark pages (6.9 of 29.7 million
        # characters).
        wrappers = []
        while len(element) == 1 and isinstance(element[0].tag, str):
            if (element.text and not element.text.isspace()) or (element[0].tail and not element[0].tail.isspace()):
                break
            wrappers.append(element)
            element = element[0]
            length = lengths.get(element)
            if length is not None:
                break
        if length is None:
            length = _joined_length(element, lengths)
            if length is None:
                length = text_length(element)
            lengths[element] = length
        for wrapper in wrappers:
            lengths[wrapper] = length
        return length

    def get_link_density(self, elem: lxml.html.HtmlElement) -> float:
        links = sum(self._text_length(link) for link in elem.iterdescendants("a"))
        return float(links) / max(self._text_length(elem), 1)

    def class_weight(self, e: lxml.html.HtmlElement) -> int:
        if self.positive_keywords or self.negative_keywords:
            return int(super().class_weight(e))
        weight = 0
        for feature in (e.get("class"), e.get("id")):
            if feature:
                known = self._weights.get(feature)
                if known is None:
                    known = self._weights[feature] = 25 * (POSITIVE.search(feature) - NEGATIVE.search(feature))
                weight += known
        return weight

    def remove_unlikely_candidates(self) -> None:
        # readability's test of each element's class and id names, made in the pass that finds the elements
        # having any (the answers remembered: a page repeats its class lists): 0.25 s over the 640 trees of
        # the 641 benchmark pages, against 0.39 s with libxml2's `.//*[@class or @id]` and a pass over its
        # answers. Names do not change as elements are removed; the tests that depend on the tree are made at
        # each removal in turn, as readability makes them.
        unlikely: dict[str, bool] = {}
        doomed = []
        for element in self.html.iterdescendants(lxml.etree.Element):
            names = f"{element.get('class', '')} {element.get('id', '')}"
            if names == " ":
                continue  # no class, no id: readability skips names shorter than two characters
            found = unlikely.get(names)
            if found is None:
                found = unlikely[names] = UNLIKELY.search(names) and not MAYBE_CANDIDATE.search(names)
            if found and element.tag not in ("html", "body"):
                doomed.append(element)
        for element in doomed:
            if not IN_CODE_XPATH(element) and not HOLDS_ARTICLE_XPATH(element):
                element.drop_tree()

    def transform_misused_divs_into_paragraphs(self) -> None:
        for div in list(self.html.iterdescendants("div")):
            # A <div> with no block inside it is a paragraph written as a <div>.
            if not any(_starts_block(element) for element in div.iterdescendants()):
                div.tag = "p"
        for div in list(self.html.iterdescendants("div")):
            _wrap_loose_text(div)

    def score_paragraphs(self) -> dict[lxml.html.HtmlElement, dict[str, Any]]:
        # readability's scores: each paragraph of 25 characters or more gives its parent one point, one per
        # comma-separated part and one per 100 characters (three at most), its grandparent half as much;
        # then each candidate loses its share of link text.
        self._lengths = {}
        candidates: dict[lxml.html.HtmlElement, dict[str, Any]] = {}
        for paragraph in self.tags(self._html(), "p", "pre", "td", "blockquote"):
            parent = paragraph.getparent()
            if parent is None:
                continue
            grandparent = parent.getparent()
            text = raw_text(paragraph)
            length = self._lengths[paragraph] = clean_length(text)
            if length < self.min_text_length:
                continue
            if parent not in candidates:
                candidates[parent] = self.score_node(parent)
            if grandparent is not None and grandparent not in candidates:
                candidates[grandparent] = self.score_node(grandparent)
            # `clean` leaves commas alone: its text splits into as many parts as the raw one.
            score = 1 + (text.count(",") + 1) + min(length / 100, 3)
            candidates[parent]["content_score"] += score
            if grandparent is not None:
                candidates[grandparent]["content_score"] += score / 2.0
        for element, candidate in candidates.items():
            candidate["content_score"] *= 1 - self.get_link_density(element)
        return candidates

    def select_best_candidate(self, candidates: dict[lxml.html.HtmlElement, dict[str, Any]]) -> dict[str, Any] | None:
        if not candidates:
            return None
        ranked = sorted(candidates.values(), key=lambda candidate: candidate["content_score"], reverse=True)
        best = ranked[0]
        # An element the page marks as the article's body wins, unless it is mostly links.
        for candidate in ranked:
            marked = "articleBody" in (candidate["elem"].get("itemprop") or "").split()
            if marked and self.get_link_density(candidate["elem"]) <= 0.1:
                best = candidate
                break
        # An <article> inside the winner with a quarter of its score and 250 characters is the article.
        descendants = set(best["elem"].iterdescendants())
        for candidate in ranked:
            if (
                candidate["elem"].tag == "article"
                and candidate["elem"] in descendants
                and self._text_length(candidate["elem"]) >= 250
                and candidate["content_score"] >= best["content_score"] * 0.25
            ):
                return candidate
        return best

    def get_semantic_main_candidate(
        self, candidates: dict[lxml.html.HtmlElement, dict[str, Any]], best_candidate: dict[str, Any]
    ) -> dict[str, Any]:
        # The page's <main> instead of a winner outside any <article>, when it holds twice the winner's text
        # (500 characters at least) and few links.
        best = best_candidate["elem"]
        ancestors = tuple(best.iterancestors())
        if any(element.tag == "article" for element in (best, *ancestors)):
            return best_candidate
        main = next((element for element in ancestors if element.tag == "main"), None)
        if main is None or self._text_length(main) < max(500, self._text_length(best) * 2):
            return best_candidate
        if self.get_link_density(main) > 0.15:
            return best_candidate
        candidate: dict[str, Any] = self.score_node(main)
        candidates[main] = candidate
        return candidate

    def get_article(self, *args: Any, **kwargs: Any) -> lxml.html.HtmlElement:
        self._lengths = None  # it moves leads and segments into the winner: the lengths measured are gone
        return super().get_article(*args, **kwargs)

    def sanitize(
        self,
        node: lxml.html.HtmlElement,
        candidates: dict[lxml.html.HtmlElement, dict[str, Any]],
        keep_all_images: bool = False,
    ) -> _Pick:
        self._lengths = {}
        for heading in self.tags(node, *HEADING_TAGS):
            if self.class_weight(heading) < 0 or self.get_link_density(heading) > 0.33:
                self._drop(heading)
        for paragraph in self.tags(node, "p"):
            if (
                READABILITY_PATTERNS["callToActionRe"].search(raw_text(paragraph))
                and self.get_link_density(paragraph) > 0.2
            ):
                self._drop(paragraph)
        for element in self.tags(node, "form", "textarea"):
            self._drop(element)
        for frame in self.tags(node, "iframe"):
            if "src" in frame.attrib and is_video_url(frame.attrib["src"]):
                self._forget(frame)
                frame.attrib.pop("srcdoc", None)
                frame.text = "VIDEO"
            else:
                self._drop(frame)
        allowed = self.get_preserved_elements(node)
        for element in self.reverse_tags(node, *SANITIZED_TAGS):
            if element in allowed:
                continue
            weight = self.class_weight(element)
            score = candidates[element]["content_score"] if element in candidates else 0
            if weight + score < 0:
                self._drop(element)
                continue
            text = raw_text(element)
            if text.count(",") < 10 and self._is_clutter(element, weight, clean_length(text), allowed, keep_all_images):
                self._drop(element)
        self.html = node
        return self.get_clean_html()

    def _is_clutter(
        self,
        element: lxml.html.HtmlElement,
        weight: int,
        length: int,
        allowed: dict[lxml.html.HtmlElement, bool],
        keep_all_images: bool,
    ) -> bool:
        """readability's tests of a block with few commas: too many images, items, inputs or links, too little text."""
        counts = Counter(descendant.tag for descendant in element.iterdescendants(COUNTED_TAGS))
        paragraphs, images = counts["p"], counts["img"]
        if keep_all_images and element.tag == "div" and images >= 1:
            return False
        if paragraphs and images > 1 + paragraphs * 1.3:
            return True
        if counts["li"] - 100 > paragraphs and element.tag not in ("ol", "ul"):
            return True
        fields = element.iterdescendants("input") if counts["input"] else ()
        inputs = sum(field.get("type") != "hidden" for field in fields)
        if inputs > paragraphs / 3:
            return True
        if length < self.min_text_length and (images == 0 or images > 2):
            return True
        links = sum(self._text_length(link) for link in element.iterdescendants("a"))
        link_density = float(links) / max(length, 1)
        if weight < 25:
            in_article = element.tag in ("ul", "section") and IN_ARTICLE_XPATH(element)
            if link_density > (0.25 if in_article else 0.2):
                return True
        elif link_density > 0.5:
            return True
        embeds = counts["embed"]
        if (embeds == 1 and length < 75) or embeds > 1:
            return True
        if length:
            return False
        # An empty block (an image or two) between long texts stays, and so does every block inside it.
        siblings = [
            next((size for size in map(self._text_length, element.itersiblings()) if size), 0),
            next((size for size in map(self._text_length, element.itersiblings(preceding=True)) if size), 0),
        ]
        if sum(siblings) > 1000:
            for inner in self.tags(element, "table", "ul", "div", "section"):
                allowed[inner] = True
            return False
        return True

    def get_preserved_elements(self, node: lxml.html.HtmlElement) -> dict[lxml.html.HtmlElement, bool]:
        # The tables of contents, and the leads of a quotation: a <div> or <section>, or an element holding it,
        # whose text ends in a colon, followed by an element holding a <blockquote>. readability searches the
        # next element's whole subtree for a <blockquote>, for every <div> and every element above it (0.14 to
        # 0.22 s of readability_blocks' 2.3 s over the 641 benchmark pages); the elements holding one are found
        # here in one pass (0.04 s).
        allowed = {element: True for element in self.tags(node, "ul") if self.is_toc_list(element)}
        ancestors = list(node.iterancestors())
        quoting = ancestors_of((ancestors[-1] if ancestors else node).iter("blockquote"))
        if quoting:
            for element in self.tags(node, "div", "section"):
                if self._is_quote_lead(element, quoting):
                    allowed[element] = True
        return allowed

    def _is_quote_lead(self, element: lxml.html.HtmlElement, quoting: set[lxml.html.HtmlElement]) -> bool:
        """readability's `is_quote_lead`, told which elements hold a <blockquote>."""
        for lead in (element, *element.iterancestors()):
            if lead.getnext() not in quoting:
                continue
            text = raw_text(lead)
            # `clean` only rewrites white space and strips it: its text ends as the stripped text does.
            if clean_length(text) >= self.min_text_length and text.rstrip().endswith(":"):
                return True
        return False

    def _forget(self, element: lxml.html.HtmlElement) -> None:
        """Forget the measured lengths of element and of everything holding it: its text is about to change."""
        if self._lengths:
            self._lengths.pop(element, None)
            for ancestor in element.iterancestors():
                self._lengths.pop(ancestor, None)

    def _drop(self, element: lxml.html.HtmlElement) -> None:
        self._forget(element)
        element.drop_tree()


def _joined_length(element: lxml.html.HtmlElement, lengths: dict[lxml.html.HtmlElement, int]) -> int | None:
    """element's text length from its children's, when white space holding a line break parts each from the next.

    None when it cannot be told so: text of element's own beside its children, a comment, two children whose
    texts meet without a line break between them.
    """
    # Such a run of white space counts one character, wherever it starts and however long it is; the runs
    # at both ends go. A block of blocks, written one a line, is measured from blocks often measured already
    # (a candidate's children are the paragraphs and candidates scored before it).
    if element.text and not element.text.isspace():
        return None
    total = parts = 0
    parted = False  # whether a line break has come since the last child with text
    for child in element:
        if not isinstance(child.tag, str):
            return None
        length = lengths.get(child)
        if length is None:
            length = lengths[child] = text_length(child)
        if length:
            if parts and not parted:
                return None
            total += length
            parts += 1
            parted = False
        tail = child.tail
        if tail:
            if not tail.isspace():
                return None
            parted = parted or "\n" in tail
    return total + max(parts - 1, 0)


class _Pick(str):
    """readability's chosen element, carried through `summary` (which tests and measures its result as a string)."""

    element: lxml.html.HtmlElement

    def __new__(cls, element: lxml.html.HtmlElement) -> _Pick:
        pick = super().__new__(cls, element.tag)
        pick.element = element
        return pick


# readability's test for "holds a block": a tag name that starts like one of these (<p> also finds <pre>,
# <param> and <picture>, as its regular expression over the serialized HTML does).
READABILITY_BLOCK_PREFIXES = ("blockquote", "dl", "div", "img", "ol", "p", "table", "ul")
READABILITY_INLINE_TAGS = frozenset(
    {"a", "b", "cite", "code", "em", "font", "i", "small", "span", "strong", "sub", "sup", "u"}
)


def _starts_block(element: lxml.html.HtmlElement) -> bool:
    return isinstance(element.tag, str) and element.tag.lower().startswith(READABILITY_BLOCK_PREFIXES)


def _wrap_loose_text(div: lxml.html.HtmlElement) -> None:
    """Put a <div>'s loose text and runs of inline elements into paragraphs of their own, and drop its <br>s."""
    # The paragraphs are made in the page's own document (`makeelement`), not each in a document of its own
    # to be moved into the page's.
    children = list(div)
    paragraph = None
    if div.text and div.text.strip():
        paragraph = div.makeelement("p")
        paragraph.text, div.text = div.text, None
        div.insert(0, paragraph)
    for child in children:
        tag = child.tag
        if tag == "br":
            paragraph = None
            continue
        # An inline tag never starts like a block's (`_starts_block`): only what is under it is asked.
        if tag not in READABILITY_INLINE_TAGS or any(_starts_block(element) for element in child.iterdescendants()):
            paragraph = None
            continue
        if paragraph is None:
            paragraph = div.makeelement("p")
            child.addprevious(paragraph)
        paragraph.append(child)
    for position, child in reversed(list(enumerate(div))):
        tail = child.tail
        if tail and tail.strip():
            paragraph = div.makeelement("p")
            paragraph.text, child.tail = tail, None
            div.insert(position + 1, paragraph)
        if child.tag == "br":
            child.drop_tree()
