"""Recognise a site's bot check (a challenge or a wall put where the page should be) by its headers and markup."""

from __future__ import annotations

import re
from collections.abc import Mapping

# Statuses a bot check answers with: Cloudflare and DataDome send 403 or 503, rate walls 429; some send 200.
CHALLENGE_STATUSES = frozenset({200, 403, 429, 503})
# A challenge page is small (Cloudflare's, scripts and all, about 30 KB): a larger answer, or one of more
# text, is a page. Most articles are larger, and cost nothing here.
MAX_CHALLENGE_BYTES = 128 * 1024
MAX_CHALLENGE_TEXT = 2000

# Headers only a bot-check vendor sends: Cloudflare marks its challenges, DataDome and Sucuri name themselves.
VENDOR_HEADERS = {
    "cf-mitigated": ("Cloudflare", re.compile(r"challenge", re.IGNORECASE)),
    "x-datadome": ("DataDome", re.compile(r".")),
    "x-datadome-cid": ("DataDome", re.compile(r".")),
    "x-sucuri-block": ("Sucuri", re.compile(r".")),
}
# A vendor's edge answering an error status itself (its own error page, not the site's).
VENDOR_SERVERS = {
    "cloudflare": "Cloudflare",
    "akamaighost": "Akamai",
    "ddos-guard": "DDoS-Guard",
    "sucuri/cloudproxy": "Sucuri",
}
# The scripts, widgets and form names a challenge is built from, in lower case: searched as plain strings, which
# is a hundred times faster than a regular expression over a page's markup.
VENDOR_MARKUP = (
    ("Cloudflare", ("/cdn-cgi/challenge-platform/", "_cf_chl_opt", "cf-chl-", "challenges.cloudflare.com")),
    ("DataDome", ("captcha-delivery.com",)),
    ("PerimeterX", ("px-captcha", "_pxappid", "px-cdn.net")),
    ("hCaptcha", ("h-captcha", "hcaptcha.com/1/api.js")),
    ("reCAPTCHA", ("g-recaptcha", "/recaptcha/api.js", "/recaptcha/enterprise.js")),
    ("Akamai", ("errors.edgesuite.net", "reference&#32;&#35;", "reference&#32;#")),
)
# What a challenge says in its title or its few lines, in the words vendors and sites use.
CHALLENGE_WORDS_RE = re.compile(
    r"just a moment|attention required|access denied|access to this page has been denied|security check"
    r"|checking (?:your browser|if the site connection is secure)|verify(?:ing)? (?:that )?you are (?:a )?human"
    r"|are you a (?:robot|human)|human verification|bot (?:check|verification|detection)|press (?:&|&amp;|and) hold"
    r"|enable javascript and cookies to continue|why have i been blocked|please complete the security check"
    r"|ddos protection|captcha",
    re.IGNORECASE,
)
TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title", re.IGNORECASE | re.DOTALL)
SCRIPT_STYLE_RE = re.compile(r"<(script|style|noscript|template)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
TAG_RE = re.compile(r"<[^>]*>")


def bot_check(status: int, headers: Mapping[str, str], markup: str) -> str | None:
    """The vendor of the bot check the site answered with instead of the page, or None for a page.

    Never one phrase alone: a vendor's header, or its server or markup together with a challenge's shape (its
    words in the title or in little text). An article with a captcha in its comment form has far more text.
    """
    for name, (sender, value) in VENDOR_HEADERS.items():
        if value.search(headers.get(name, "")):
            return sender
    if status not in CHALLENGE_STATUSES:
        return None
    if len(markup) > MAX_CHALLENGE_BYTES:
        return None
    lowered = markup.lower()
    vendor = next((name for name, markers in VENDOR_MARKUP if any(m in lowered for m in markers)), None)
    if vendor is None and status != 200:
        # Proxies on the way may add their own product to the header: "nginx, cloudflare".
        products = [part.strip().split("/")[0].lower() for part in headers.get("server", "").split(",")]
        vendor = next((VENDOR_SERVERS[product] for product in products if product in VENDOR_SERVERS), None)
    if vendor is None:
        return None  # most pages end here, after one search of their markup per vendor
    text = " ".join(TAG_RE.sub(" ", SCRIPT_STYLE_RE.sub(" ", markup)).split())
    if len(text) > MAX_CHALLENGE_TEXT:
        return None
    title = TITLE_RE.search(markup)
    return (
        vendor
        if CHALLENGE_WORDS_RE.search(title.group(1) if title else "") or CHALLENGE_WORDS_RE.search(text)
        else None
    )
