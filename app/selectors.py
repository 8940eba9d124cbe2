"""A reader's CSS selectors: checked once, before anything is fetched, and matched against a parsed page."""

from __future__ import annotations

from dataclasses import dataclass

import cssselect
import lxml.etree
import lxml.html
from cssselect import HTMLTranslator, SelectorError

from app.errors import BadRequest, TooComplex

# Longer lists than any reader writes by hand.
MAX_SELECTOR_LENGTH = 1000
MAX_SELECTORS = 20
# Structural pseudo-classes (:nth-child, :first-child, :last-of-type ...) count an element's siblings for
# every element they test: quadratic in the widest parent's children. Under this many children they cost
# under a tenth of a second on 80,000 elements; a page with a wider parent gets a 422 for them.
MAX_SIBLINGS_FOR_STRUCTURAL = 2000
STRUCTURAL_MARKS = ("-child", "-of-type")


@dataclass(frozen=True)
class _Compound:
    """A selector without combinators (`p.intro[lang]:not(.ad)`): one XPath over the page finds its elements."""

    xpath: lxml.etree.XPath


@dataclass(frozen=True)
class _Combined:
    """`left combinator right`: the elements right matches that stand in that relation to one left matches."""

    left: _Compound | _Combined
    combinator: str
    right: _Compound


@dataclass(frozen=True)
class Selector:
    """One option's comma-separated CSS selectors, checked and compiled."""

    css: str
    groups: tuple[_Compound | _Combined, ...]
    structural: bool


def compile_selector(css: str, *, option: str) -> Selector:
    """Compile a comma-separated list of CSS selectors, or raise BadRequest naming the option and the selector."""
    css = css.strip()
    if not css:
        raise BadRequest(f"{option} is empty: give a CSS selector such as {option}=article")
    if len(css) > MAX_SELECTOR_LENGTH:
        raise BadRequest(f"{option} is longer than {MAX_SELECTOR_LENGTH} characters")
    if ":contains(" in css.lower():
        # cssselect's own extension, not CSS: it builds the text of every element it tests, of every ancestor
        # of the text too, which on a deep page of megabytes is a minute of work.
        raise BadRequest(f"{option} uses :contains(), which is not CSS: select by name, class or attribute")
    try:
        parsed = cssselect.parse(css)
        if any(selector.pseudo_element for selector in parsed):
            raise SelectorError("pseudo-elements such as ::before select no element")
        groups = tuple(_compiled(selector.parsed_tree, HTMLTranslator()) for selector in parsed)
    except SelectorError as error:
        raise BadRequest(f"{option} {css[:200]!r} is not a CSS selector this service reads ({error})") from None
    if len(groups) > MAX_SELECTORS:
        raise BadRequest(f"{option} lists more than {MAX_SELECTORS} selectors")
    structural = any(mark in part for part in css.split(":")[1:] for mark in STRUCTURAL_MARKS)
    return Selector(css=css, groups=groups, structural=structural)


def _compiled(tree: cssselect.parser.Tree, translator: HTMLTranslator) -> _Compound | _Combined:
    # Combinators are matched here, from the right as a browser does, not by XPath: cssselect writes `A B`
    # as `A/descendant-or-self::*/B`, and libxml2 merges one node set per element A matches (`* *` took 42 s
    # on 80,000 elements; `div + div` 47 s among 39,000 siblings).
    if isinstance(tree, cssselect.parser.CombinedSelector):
        right = _compiled(tree.subselector, translator)
        assert isinstance(right, _Compound)  # the parser nests combinations to the left
        return _Combined(_compiled(tree.selector, translator), tree.combinator, right)
    return _Compound(lxml.etree.XPath(f"descendant-or-self::{translator.xpath(tree)}"))


def matches(selector: Selector, root: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """The outermost elements under root that selector matches, in page order."""
    if selector.structural and max((len(element) for element in root.iter()), default=0) > MAX_SIBLINGS_FOR_STRUCTURAL:
        raise TooComplex(
            f"the page has a list of more than {MAX_SIBLINGS_FOR_STRUCTURAL} items, too wide for the :nth-child"
            " or :first-child kind of selector; select by name or class instead"
        )
    found: set[lxml.html.HtmlElement] = set()
    for group in selector.groups:
        found |= _matching(group, root)
    outermost: list[lxml.html.HtmlElement] = []
    inside: set[lxml.html.HtmlElement] = set()
    for element in root.iter():  # page order: each element after its ancestors
        parent = element.getparent()
        if parent is not None and (parent in found or parent in inside):
            inside.add(element)
        elif element in found:
            outermost.append(element)
    return outermost


def _matching(part: _Compound | _Combined, root: lxml.html.HtmlElement) -> set[lxml.html.HtmlElement]:
    if isinstance(part, _Compound):
        return {element for element in part.xpath(root) if isinstance(element, lxml.html.HtmlElement)}
    left, right = _matching(part.left, root), _matching(part.right, root)
    if part.combinator == ">":
        return {element for element in right if element.getparent() in left}
    if part.combinator == "+":
        return {element for element in right if _previous_element(element) in left}
    if part.combinator == "~":
        later: set[lxml.html.HtmlElement] = set()
        for parent in {element.getparent() for element in right} - {None}:
            seen = False
            for child in parent:
                if seen and child in right:
                    later.add(child)
                seen = seen or child in left
        return later
    # The descendant combinator: one walk in page order marks everything under an element left matches.
    under: set[lxml.html.HtmlElement] = set()
    for element in root.iter():
        parent = element.getparent()
        if parent is not None and (parent in left or parent in under):
            under.add(element)
    return right & under


def _previous_element(element: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    previous = element.getprevious()
    while previous is not None and not isinstance(previous.tag, str):  # comments and processing instructions
        previous = previous.getprevious()
    return previous
