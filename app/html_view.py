"""The browser's pages: home, reading view and error, as HTML with one inline stylesheet and no scripts.

Every piece of page content goes through `escape` before it reaches the markup, and the Content-Security-Policy
forbids scripts and every source but this service, so hostile markup in a page shows as text and never runs.
"""

from __future__ import annotations

import base64
import hashlib
import re
from html import escape
from urllib.parse import quote, urldefrag, urlsplit

from app.document import Article, word_count
from app.layout import BOLD_OFF, BOLD_ON, REFERENCE_OFF, REFERENCE_ON, display_width
from app.render import reference_lines, shows_address, text_view
from app.visible import without_controls

DEFAULT_WIDTH = 80
WIDTHS = (40, 60, 72, 80, 100, 120, 0)  # the width menu; 0 is "no wrapping"
NARROW_WIDTH = 40  # what the phone hint offers: fits a 360 px screen at the phone font size
FORMATS = (("html", "reading view"), ("text", "plain text"), ("markdown", "Markdown"), ("json", "JSON"))
EXAMPLES = (
    ("https://en.wikipedia.org/wiki/Text_mode", "Text mode", "Wikipedia"),
    ("https://www.gnu.org/philosophy/free-sw.en.html", "What is Free Software?", "GNU"),
    ("https://peps.python.org/pep-0020/", "PEP 20: The Zen of Python", "Python"),
    ("https://paulgraham.com/greatwork.html", "How to Do Great Work", "Paul Graham"),
)
WORDS_PER_MINUTE = 230
RTL_LANGUAGES = frozenset({"ar", "arc", "ckb", "dv", "fa", "he", "ks", "ps", "sd", "ug", "ur", "yi"})
# A link's number as the text format writes it, right after the link's text: "owls[1]".

STYLE = """
:root{color-scheme:light dark;--bg:#fbfaf6;--fg:#1e1e1c;--muted:#595955;--line:#dcd9cf;--link:#0a55a3;
--visited:#6b3c99;--field:#fff;--code:#f0eee7}
@media (prefers-color-scheme:dark){:root{--bg:#141619;--fg:#e4e3df;--muted:#a3a6aa;--line:#34383e;
--link:#8dbaff;--visited:#c9a8ff;--field:#1c1f23;--code:#1f2227}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);
font:16px/1.55 ui-monospace,"SF Mono",Menlo,Consolas,"DejaVu Sans Mono","Liberation Mono",monospace}
a{color:var(--link);text-underline-offset:.15em}
a:visited{color:var(--visited)}
:focus-visible{outline:3px solid var(--link);outline-offset:2px}
h1,h2{font-size:1rem;margin:2rem 0 .5rem}
h2::before{content:"## ";color:var(--muted)}
p,ul,ol{margin:0 0 1rem}
ul,ol{padding-left:2ch}
li{margin:.25rem 0}
code{background:var(--code);padding:0 .25em;border-radius:3px;overflow-wrap:anywhere}
.skip{position:absolute;left:-100vw;top:.5rem;background:var(--bg);padding:.25rem .5rem}
.skip:focus{left:.5rem}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}
.muted{color:var(--muted)}
.home{max-width:46rem;margin:0 auto;padding:1.5rem 1rem 3rem}
.banner{margin:0 0 1rem;font-size:clamp(6px,calc((100vw - 2rem)/38),15px);line-height:1.15;overflow:hidden}
.lead{font-size:1.05rem}
form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end;margin:0 0 1rem}
.field{display:flex;flex-direction:column;gap:.2rem;font-size:.875rem;color:var(--muted)}
.field.url{flex:1 1 18rem}
input,select,button{font:inherit;font-size:1rem;color:var(--fg);background:var(--field);
border:1px solid var(--muted);border-radius:4px;padding:.45rem .55rem;min-height:2.6rem}
input{width:100%}
button{background:var(--fg);color:var(--bg);border-color:var(--fg);padding:.45rem 1.2rem;cursor:pointer}
button:hover{background:var(--link);border-color:var(--link)}
pre.shell{margin:0 0 1rem;padding:.6rem .8rem;background:var(--code);border-radius:4px;overflow-x:auto;
font-size:.875rem}
.page{display:grid;grid-template-columns:minmax(0,max-content);justify-content:center;padding:0 1rem}
.page>*{min-width:0}
.spacer{width:44rem;max-width:100%;height:0}
.bar{width:0;min-width:100%;padding:1rem 0 .75rem;border-bottom:1px solid var(--line)}
.bar form{margin:0 0 .6rem}
.bar .brand{font-weight:bold;text-decoration:none;color:var(--fg);align-self:center;margin-right:.25rem}
.bar .field.url{flex:1 1 14rem}
.meta{margin:0;font-size:.875rem;color:var(--muted);overflow-wrap:anywhere}
.meta+.meta{margin-top:.2rem}
.meta code{font-size:inherit}
.terminal{display:flex;gap:1ch;align-items:baseline}
.terminal span{flex:none}
.terminal code{min-width:0;overflow-x:auto;white-space:nowrap}
.narrow{display:none}
pre.text{margin:1.5rem 0 3rem;font:inherit;line-height:1.6;overflow-x:auto;tab-size:8}
pre.text.fluid{white-space:pre-wrap;overflow-wrap:anywhere;max-width:46rem}
pre.text a{text-decoration:none}
pre.text a.original{color:var(--muted);text-decoration:underline dotted;text-underline-offset:.2em}
pre.text strong{font-weight:bold}
pre.text a:hover,pre.text a:focus-visible{text-decoration:underline}
.error pre.text{margin:1rem 0 1.5rem}
@media (max-width:40rem){body{font-size:14px}pre.text{font-size:13px}.narrow{display:block}}
""".strip()
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        f"style-src 'sha256-{base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()}'",
        "img-src 'self' data:",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)


def reader_href(url: str, *, prefix: str, width: int = DEFAULT_WIDTH) -> str:
    """The path that opens url through text-mode at this width; the URL fully encoded, so its query stays its own."""
    width_part = "" if width == DEFAULT_WIDTH else f"width={width}&"
    return f"{prefix}/text-mode?{width_part}url={quote(url, safe='')}"


def curl_command(url: str, *, base: str, width: int = DEFAULT_WIDTH) -> str:
    """The terminal command for the same page: url last and readable, with anything a shell would see encoded."""
    width_part = "" if width == DEFAULT_WIDTH else f"width={width}&"
    target = quote(urldefrag(url)[0], safe=":/?&=%@+,;~!$*()[]")
    return f"curl '{base}/text-mode?{width_part}url={target}'"


def home_page(*, base: str, banner: str) -> str:
    """The home page: what text-mode is, the form, examples, the curl command and how it works."""
    prefix = urlsplit(base).path
    examples = "\n".join(
        f'<li><a href="{escape(reader_href(url, prefix=prefix))}">{escape(title)}</a>'
        f' <span class="muted">· {escape(site)}</span></li>'
        for url, title, site in EXAMPLES
    )
    example = "https://example.com/article"
    body = f"""<main class="home" id="main">
<pre class="banner" aria-hidden="true">{escape(banner)}</pre>
<h1 class="sr-only">text-mode</h1>
<p class="lead">text-mode turns any web page into its article as clean, readable plain text: no menus, no ads,
no scripts, no pop-ups. Read it here in your browser, where every link keeps you in text mode, or in a terminal
with <code>curl</code>.</p>
{_form(prefix=prefix, url="", width=DEFAULT_WIDTH, fmt="html", autofocus=True)}
<h2>Try</h2>
<ul>
{examples}
</ul>
<h2>From a terminal</h2>
<pre class="shell">{escape(curl_command(example, base=base))}
{escape(curl_command("example.com/article", base=base, width=60))}</pre>
<p>Add <code>format=markdown</code> or <code>format=json</code> for those formats;
<a href="{escape(prefix)}/text-mode?format=text">the usage text</a> lists every option.</p>
<h2>How it works</h2>
<ol>
<li>text-mode fetches the page, from public web sites only, within a few seconds.</li>
<li>Readability finds the article and leaves out navigation, ads, scripts and footers.</li>
<li>The article is laid out as text: headings underlined, lists, tables in columns, each link's text followed
by a number, and the numbered addresses under References.</li>
<li>In a browser each number opens its page through text-mode, so you keep reading in text mode; the address
beside it goes to the original.</li>
</ol>
<p class="muted">No scripts, no cookies, one request per page.</p>
</main>"""
    return _document(title="text-mode: web pages as plain text", body=body)


def reading_page(article: Article, *, base: str, width: int) -> str:
    """The reading view: the plain format's text, escaped, in a monospace column, with its links kept in text mode."""
    prefix = urlsplit(base).path
    text, words = _reading_text(article, prefix=prefix, width=width)
    minutes = max(1, round(words / WORDS_PER_MINUTE))
    title = " ".join(article.title.split()) or article.final_url
    alternates = " · ".join(
        f'<a href="{escape(prefix)}/text-mode?format={fmt}&amp;{escape(_query_tail(article.url, width))}">{label}</a>'
        for fmt, label in FORMATS[1:]
    )
    narrow = ""
    if width == 0 or width > NARROW_WIDTH + 4:
        narrow_href = reader_href(article.url, prefix=prefix, width=NARROW_WIDTH)
        narrow = (
            f'<p class="meta narrow">Narrow screen? <a href="{escape(narrow_href)}">'
            f"Wrap at {NARROW_WIDTH} columns</a> or scroll the text sideways.</p>"
        )
    lang = f' lang="{escape(article.lang)}"' if article.lang else ""
    if article.lang.split("-")[0].lower() in RTL_LANGUAGES:
        lang += ' dir="rtl"'  # the whole text right to left, its title's rule under the title
    fluid = " fluid" if width == 0 else ""
    curl = curl_command(article.url, base=base, width=width)
    body = f"""<div class="page">
<header class="bar">
{_form(prefix=prefix, url=article.url, width=width, fmt="", brand=True)}
<p class="meta">Original: {_original(article.final_url)}</p>
<p class="meta">{words:,} words · about {minutes} min · also as {alternates}</p>
<p class="meta terminal"><span>Terminal:</span> <code>{escape(curl)}</code></p>
{narrow}
</header>
<div class="spacer"></div>
<main id="main">
<h1 class="sr-only">{escape(title)}</h1>
<pre class="text{fluid}"{lang}>{text}</pre>
</main>
</div>"""
    return _document(title=f"{title} · text-mode", body=body)


def error_page(*, base: str, status: int, title: str, message: str, url: str = "") -> str:
    """An error for a browser: the plain-text message, and the form to try another address."""
    prefix = urlsplit(base).path
    body = f"""<div class="page error">
<header class="bar">
{_form(prefix=prefix, url=url, width=DEFAULT_WIDTH, fmt="", brand=True)}
</header>
<div class="spacer"></div>
<main id="main">
<h1>{status} {escape(title)}</h1>
<pre class="text fluid">{escape(message.rstrip(), quote=False)}</pre>
<p><a href="{escape(prefix)}/">The home page</a> explains text-mode and has a few pages to try.</p>
</main>
</div>"""
    return _document(title=f"{status} {title} · text-mode", body=body)


def _document(*, title: str, body: str) -> str:
    # The final guard, as on every format: the address a stranger typed is echoed in the form.
    return without_controls(f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>{escape(title, quote=False)}</title>
<link rel="icon" href="data:,">
<style>{STYLE}</style>
</head>
<body>
<a class="skip" href="#main">Skip to the text</a>
{body}
</body>
</html>
""")


def _form(*, prefix: str, url: str, width: int, fmt: str, brand: bool = False, autofocus: bool = False) -> str:
    """The URL field with width (and, on the home page, format) menus; a GET to the service."""
    widths = WIDTHS if width in WIDTHS else (*sorted((*WIDTHS[:-1], width)), 0)
    width_options = "".join(
        f'<option value="{value}"{" selected" if value == width else ""}>'
        f"{f'{value} columns' if value else 'no wrapping'}</option>"
        for value in widths
    )
    format_field = ""
    if fmt:
        format_options = "".join(
            f'<option value="{value}"{" selected" if value == fmt else ""}>{label}</option>' for value, label in FORMATS
        )
        format_field = f'<label class="field">format<select name="format">{format_options}</select></label>'
    brand_link = f'<a class="brand" href="{escape(prefix)}/">text-mode</a>' if brand else ""
    focus = " autofocus" if autofocus else ""

    def label(text: str) -> str:
        return f'<span class="sr-only">{text}</span>' if brand else text

    return f"""<form action="{escape(prefix)}/text-mode" method="get" role="search">
{brand_link}<label class="field url">{label("web page address")}<input name="url" type="text" inputmode="url"
 value="{escape(url)}" placeholder="https://example.com/article" autocomplete="url" autocapitalize="off"
 spellcheck="false" required{focus}></label>
<label class="field">{label("width")}<select name="width">{width_options}</select></label>
{format_field}<button type="submit">Read</button>
</form>"""


def _reading_text(article: Article, *, prefix: str, width: int) -> tuple[str, int]:
    """The text format's own text as escaped HTML: its headings bold, its reference numbers and addresses links.

    The text is `text_view`'s, laid out with marks where the document has a heading or a link's number, so
    the reading view shows the same text as curl does, and only what the document says is a link is one.
    """
    view = text_view(article, width=width, marks=True)
    header = view.header
    address = header[-1] if shows_address(article) else None
    lines = [_marked(line) for line in (header[:-1] if address is not None else header)]
    if address is not None:
        lines.append(_original(address))
    parts = ["\n".join(lines)]
    urls = {link.n: link.url for link in view.body.links}

    def marker(match: re.Match[str]) -> str:
        n = int(match[1])
        return _reference(n, urls[n], prefix=prefix, width=width)

    if view.body.text:
        parts.append(REFERENCE_RE.sub(marker, _marked(view.body.text)))
    if view.body.links:
        references = reference_lines(view.body, width=width)
        lines = [f"<strong>{references[0]}</strong>", references[1]]
        for link in view.body.links:
            number = _reference(link.n, link.url, prefix=prefix, width=width)
            # A URL too wide for the line stands on its own line, as the text format puts it.
            alone = 0 < width < display_width(f"[{link.n}] {link.url}")
            lines.append(f"{number}\n{_original(link.url)}" if alone else f"{number} {_original(link.url)}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n", word_count(article.document)


# The reading view's marks, as markup once the text around them is escaped.
REFERENCE_RE = re.compile(f"{REFERENCE_ON}\\[(\\d+)\\]{REFERENCE_OFF}")
BOLD_MARKUP = str.maketrans({BOLD_ON: "<strong>", BOLD_OFF: "</strong>"})


def _marked(text: str) -> str:
    """Text escaped, its bold marks made <strong> (reference marks are left for `REFERENCE_RE`)."""
    return escape(text, quote=False).translate(BOLD_MARKUP)


def _reference(n: int, url: str, *, prefix: str, width: int) -> str:
    """`[n]` as a link that opens the reference through text-mode."""
    href = reader_href(url, prefix=prefix, width=width)
    return f'<a href="{escape(href)}" title="{escape(url)} in text-mode">[{n}]</a>'


def _original(url: str) -> str:
    """The address as a link to the original page (only http and https ever become links)."""
    if not url.lower().startswith(("http://", "https://")):
        return escape(url, quote=False)
    return f'<a class="original" href="{escape(url)}" rel="noreferrer">{escape(url, quote=False)}</a>'


def _query_tail(url: str, width: int) -> str:
    return ("" if width == DEFAULT_WIDTH else f"width={width}&") + f"url={quote(url, safe='')}"
