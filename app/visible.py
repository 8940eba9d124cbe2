"""What of a page may reach a reader's screen: the one rule for control characters, in every format.

A terminal acts on control characters instead of showing them: ESC and the C1 controls begin sequences that
clear the screen, retitle the window or (OSC 52) write the clipboard; BEL, BS and CR move or hide what is
shown. Only text-mode's own `ansi=1` styling may send one, so page text loses them where it enters the
article (`visible`), and every answer passes `without_controls` last, before that styling is added. The
choice is to drop them, as a browser shows nothing for them, and to percent-encode them in a URL.
"""

from __future__ import annotations

import re
from urllib.parse import quote

# C0 controls but tab and newline, DEL, and the C1 controls (U+0080 to U+009F; U+009B is CSI, U+009D OSC).
CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"
# Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) reorder the characters
# after them until a pop or the end of the paragraph: a terminal that applies them shows a stored "moc.knab"
# as "bank.com" (CVE-2021-42574). Our lines are not the page's paragraphs, so they no longer mean what the
# page meant. The marks (U+200E, U+200F, U+061C) only place neutral characters and stay: RTL text needs them.
BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
# Private-use characters that `app.layout` and `app.markdown` use as their own marks while they write text
# (an underline's start, a `<` to escape in Markdown); a page's are dropped, so only ours become sequences.
MARKS = "".join(chr(code) for code in range(0xE000, 0xE010))

# A C1 control in a page's text is nearly always windows-1252 read as Latin-1: "couldn\x92t" on 2 of the 641
# benchmark pages. It is read as the character it meant, as the HTML standard reads `&#x92;`; the five that
# windows-1252 leaves undefined (among them OSC, U+009D) have no meaning and go.
WINDOWS_1252 = {
    chr(code): bytes([code]).decode("cp1252") for code in range(0x80, 0xA0) if code not in b"\x81\x8d\x8f\x90\x9d"
}
CONTROLS_RE = re.compile(f"[{CONTROLS}]")
NOT_VISIBLE_RE = re.compile(f"[{CONTROLS}{BIDI_CONTROLS}{MARKS}]")  # one at a time: "+" made it 2.5 times slower
# In a URL they are percent-encoded instead, as a browser's address bar shows them; so are the characters
# that end a URL in text or Markdown (space, quotes, angle brackets).
URL_UNSAFE_RE = re.compile(f'[\x00-\x20"<>`{CONTROLS}{BIDI_CONTROLS}]')


def visible(text: str) -> str:
    """Page text as a reader may see it: a CR line end a newline (as parsers make it), C1 as windows-1252, no rest."""
    return NOT_VISIBLE_RE.sub(_shown_instead, text.replace("\r\n", "\n").replace("\r", "\n"))


# XML forbids these besides the controls (surrogates, U+FFFE, U+FFFF): lxml refuses a text that holds one.
NOT_XML = "\ud800-\udfff\ufffe\uffff"
NOT_VISIBLE_OR_XML_RE = re.compile(f"[{CONTROLS}{BIDI_CONTROLS}{MARKS}{NOT_XML}]")


def visible_xml(text: str) -> str:
    """`visible`, and without the characters XML forbids: text lxml can parse and hold (one pass, not two)."""
    return NOT_VISIBLE_OR_XML_RE.sub(_shown_instead, text.replace("\r\n", "\n").replace("\r", "\n"))


def _shown_instead(match: re.Match[str]) -> str:
    return WINDOWS_1252.get(match[0], "")


def without_controls(text: str) -> str:
    """The final guard on an answer: no control character but tab and newline, whatever produced the text."""
    return CONTROLS_RE.sub("", text)


def visible_url(url: str) -> str:
    """The URL with controls, bidirectional controls, white space, quotes and angle brackets percent-encoded."""
    return URL_UNSAFE_RE.sub(lambda match: quote(match[0], safe=""), url)
