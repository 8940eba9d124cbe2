"""Case-insensitive patterns over class and id names, searched the fast way where that gives the same answer."""

from __future__ import annotations

import re
from collections.abc import Callable


class NamePattern:
    """A case-insensitive pattern of lower-case words, searched in ASCII text as a case-sensitive one.

    Python's `re` is several times slower with IGNORECASE than without on the long class lists of today's
    pages. For ASCII text and a pattern written in lower case, searching the lower-cased text case-sensitively
    finds a match exactly when the pattern would; other text is searched with the pattern itself.
    """

    def __init__(self, pattern: re.Pattern[str]) -> None:
        if not pattern.flags & re.IGNORECASE or pattern.pattern != pattern.pattern.lower():
            # An upper-case letter in a pattern (`\S`, `\W`, `[A-Z]`) would mean something else folded.
            raise ValueError(f"not a case-insensitive pattern written in lower case: {pattern.pattern!r}")
        self.pattern = pattern
        self.folded = re.compile(pattern.pattern, pattern.flags & ~re.IGNORECASE)

    def search(self, text: str) -> bool:
        """Whether the pattern occurs in text."""
        if text.isascii():
            return self.folded.search(text.lower()) is not None
        return self.pattern.search(text) is not None

    def remembering(self) -> Callable[[str], bool]:
        """`search`, remembering its answers: for one page, whose elements repeat the same class lists."""
        known: dict[str, bool] = {}

        def search(text: str) -> bool:
            found = known.get(text)
            if found is None:
                found = known[text] = self.search(text)
            return found

        return search
