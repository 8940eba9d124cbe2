"""A person's visit in a real browser: Debian's chromium, driven by Playwright, against the real service.

The service is the real `python -m app` process and the sites are a loopback origin; every request the browser
makes is checked, and any that would leave loopback is blocked and fails the test. Screenshots go to
test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, Request, Route, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from pytest_httpserver import HTTPServer

from tests.conftest import ROOT, Service

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}

OWLS = b"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Owls at night | Bird News</title>
<meta property="og:site_name" content="Bird News"><meta name="author" content="Ada Owl">
<meta property="article:published_time" content="2024-05-01"></head>
<body><nav><a href="/">Home</a> <a href="/subscribe">Subscribe now</a></nav>
<article><h1>Owls at night</h1>
<p>The first paragraph is about owls, which hunt at night with silent feathers and very good ears.
Barn owls can find a mouse under snow by sound alone, which is a remarkable skill for any bird.</p>
<h2>Turning heads</h2>
<p>Owls turn their heads up to 270 degrees, thanks to extra vertebrae and blood vessels that keep working
while they turn. Read <a href="/more">more about owls</a> or the <a href="https://example.org/owl-atlas?region=north&amp;year=2024">owl
atlas</a>.</p>
<ul><li>Barn owl: pale, heart-shaped face.</li><li>Tawny owl: the one that calls at night.</li>
<li>Little owl: active by day as well.</li></ul>
<table><tr><th>Owl</th><th>Wingspan</th><th>Weight</th></tr><tr><td>Barn owl</td><td>85 cm</td><td>300 g</td></tr>
<tr><td>Tawny owl</td><td>95 cm</td><td>450 g</td></tr></table>
<pre><code>owls = ["barn", "tawny", "little"]
for owl in owls: print(owl)</code></pre>
<p>A last paragraph keeps the article long enough for readability to be sure it is the article, with more
words about owls, their nests, their chicks, and the places they like to live in.</p>
</article><footer>Copyright Bird News. All rights reserved.</footer></body></html>"""

MORE = b"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>More about owls</title></head>
<body><article><h1>More about owls</h1>
<p>This second page is where the first link leads. Owls swallow small prey whole and bring up pellets of
fur and bones a few hours later, which tell scientists what they have been eating all week.</p>
<p>Owl chicks hatch days apart, so the oldest is often much bigger than the youngest in the same nest,
and in a lean year only the oldest chicks survive to leave it.</p>
<p>Back to the <a href="/owls">first page</a>.</p></article></body></html>"""

HOSTILE = b"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Hostile &lt;/title&gt;&lt;script&gt;document.title='pwned'&lt;/script&gt;</title>
<script>window.pwned = 'script tag';</script></head>
<body onload="window.pwned='body onload'"><article><h1>A page that tries everything</h1>
<p>Written-out markup must show as text: &lt;/pre&gt;&lt;script&gt;window.pwned='written'&lt;/script&gt;
and &lt;img src=x onerror="window.pwned='img'"&gt; and &lt;b&gt;not bold&lt;/b&gt;, all in one paragraph.</p>
<script>window.pwned = 'inline';</script>
<p onclick="window.pwned='onclick'" onmouseover="window.pwned='hover'">An event handler on a paragraph
that is long enough to be kept as part of the article, with more words about nothing in particular.</p>
<p><a href="javascript:window.pwned='link'">a javascript link</a>, <a href="/next?q=&quot;&gt;&lt;script&gt;">a
link whose address holds a quote</a> and <img src="/pixel.png" onerror="window.pwned='onerror'" alt="a picture">.</p>
<p>One more paragraph so that readability keeps this as the article and does not give up on it.</p>
<iframe src="javascript:parent.pwned='iframe'"></iframe><svg onload="window.pwned='svg'"></svg>
</article></body></html>"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed; `make test` installs it (requirements-apt.txt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Visit:
    """One browsing session: its page, every URL it asked for, and any it was stopped from reaching."""

    context: BrowserContext
    page: Page
    requested: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)

    def scroll_width(self) -> int:
        return int(self.page.evaluate("document.documentElement.scrollWidth"))


def open_visit(browser: Browser, **options: Any) -> Visit:
    context = browser.new_context(**options)
    context.set_default_timeout(15_000)
    visit = Visit(context, context.new_page())

    def guard(route: Route, request: Request) -> None:
        visit.requested.append(request.url)
        if urlsplit(request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            visit.outside.append(request.url)
            route.abort()

    def dismiss(dialog: Dialog) -> None:
        visit.dialogs.append(dialog.message)
        dialog.dismiss()

    context.route("**/*", guard)
    visit.page.on("dialog", dismiss)
    return visit


@pytest.fixture
def visit(browser: Browser) -> Iterator[Visit]:
    visit = open_visit(browser, **DESKTOP)
    yield visit
    visit.context.close()
    assert visit.outside == []


@pytest.fixture
def phone(browser: Browser) -> Iterator[Visit]:
    visit = open_visit(browser, **PHONE)
    yield visit
    visit.context.close()
    assert visit.outside == []


@pytest.fixture
def origin(httpserver: HTTPServer) -> HTTPServer:
    httpserver.expect_request("/owls").respond_with_data(OWLS, content_type="text/html; charset=utf-8")
    httpserver.expect_request("/more").respond_with_data(MORE, content_type="text/html; charset=utf-8")
    httpserver.expect_request("/hostile").respond_with_data(HOSTILE, content_type="text/html; charset=utf-8")
    httpserver.expect_request("/gone").respond_with_data("gone", status=404, content_type="text/plain")
    return httpserver


def plain_text(service: Service, url: str, *, width: int = 80) -> str:
    """What curl gets for the same page."""
    response = requests.get(f"{service.base}/default/text-mode?width={width}&url={quote(url, safe='')}", timeout=10)
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    return response.text


def reading_text(visit: Visit) -> str:
    return str(visit.page.locator("pre.text").inner_text())


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_home_page_form_leads_to_the_article(
    device: str, browser: Browser, service: Service, origin: HTTPServer
) -> None:
    visit = open_visit(browser, **(DESKTOP if device == "desktop" else PHONE))
    page = visit.page
    response = page.goto(f"{service.base}/default/")
    assert response is not None and response.status == 200
    assert page.title() == "text-mode: web pages as plain text"
    assert visit.requested == [f"{service.base}/default/"]  # one request: the stylesheet is inline, no favicon
    assert visit.scroll_width() <= page.viewport_size["width"]  # type: ignore[index]
    visit.screenshot(f"home-{device}")

    assert page.evaluate("document.activeElement.name") == "url"  # the field has the focus: type at once
    page.keyboard.type(origin.url_for("/owls"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/default/text-mode?**")

    assert page.title() == "Owls at night · text-mode"
    assert visit.requested == [f"{service.base}/default/", page.url]  # the reading view is one request too
    assert reading_text(visit).rstrip("\n") == plain_text(service, origin.url_for("/owls")).rstrip("\n")
    assert visit.scroll_width() <= page.viewport_size["width"]  # type: ignore[index]
    visit.screenshot(f"reading-{device}")
    visit.context.close()
    assert visit.outside == []


def test_a_reference_opens_the_next_page_in_text_mode_keeping_the_width(
    visit: Visit, service: Service, origin: HTTPServer
) -> None:
    page = visit.page
    page.goto(f"{service.base}/default/text-mode?width=60&url={origin.url_for('/owls')}")
    assert reading_text(visit).rstrip("\n") == plain_text(service, origin.url_for("/owls"), width=60).rstrip("\n")
    references = page.locator("pre.text a", has_text="[1]")
    assert references.count() == 2  # after the link's text and in the References list
    originals = page.locator("pre.text a.original", has_text=origin.url_for("/more"))
    assert originals.get_attribute("href") == origin.url_for("/more")

    references.first.click()
    page.wait_for_url("**/default/text-mode?**")
    query = parse_qs(urlsplit(page.url).query)
    assert query == {"width": ["60"], "url": [origin.url_for("/more")]}
    assert page.title() == "More about owls · text-mode"
    assert "This second page is where the first link leads." in reading_text(visit)
    assert reading_text(visit).rstrip("\n") == plain_text(service, origin.url_for("/more"), width=60).rstrip("\n")

    page.locator("pre.text a", has_text="[1]").first.click()  # and back, still in text mode
    page.wait_for_url("**/default/text-mode?**")
    assert page.title() == "Owls at night · text-mode"
    assert [url for url in visit.requested if not url.startswith(service.base)] == []


def test_the_bar_offers_the_original_and_the_curl_command(visit: Visit, service: Service, origin: HTTPServer) -> None:
    page = visit.page
    target = origin.url_for("/owls")
    page.goto(f"{service.base}/default/text-mode?width=60&url={quote(target, safe='')}")
    bar = page.locator("header.bar")
    assert bar.get_by_role("link", name=target).get_attribute("href") == target
    assert bar.locator("code").inner_text() == f"curl '{service.base}/default/text-mode?width=60&url={target}'"
    assert page.get_by_label("web page address").input_value() == target
    assert page.get_by_label("width").input_value() == "60"
    curl = requests.get(f"{service.base}/default/text-mode?width=60&url={target}", timeout=10)
    assert curl.text.rstrip("\n") == reading_text(visit).rstrip("\n")


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "escaping-alone"])
def test_a_hostile_page_runs_nothing_and_shows_its_text(
    bypass_csp: bool, browser: Browser, service: Service, origin: HTTPServer
) -> None:
    visit = open_visit(browser, bypass_csp=bypass_csp, **DESKTOP)
    page = visit.page
    response = page.goto(f"{service.base}/default/text-mode?url={origin.url_for('/hostile')}")
    assert response is not None and response.status == 200
    page.locator("pre.text").hover()
    page.mouse.click(5, 5)
    text = reading_text(visit)
    assert "</pre><script>window.pwned='written'</script>" in text
    assert "<img src=x\nonerror=\"window.pwned='img'\">" in text
    assert "<b>not bold</b>" in text
    assert "a javascript link," in text  # its text stays, with no number: there is nowhere safe to go
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.evaluate("document.querySelectorAll('script, iframe, svg, img, object, embed').length") == 0
    assert page.evaluate("document.querySelectorAll('[onload], [onclick], [onerror], [onmouseover]').length") == 0
    assert page.evaluate("[...document.links].filter(a => !/^https?:/.test(a.href)).length") == 0
    assert page.title() == "Hostile </title><script>document.title='pwned'</script> · text-mode"  # as text
    assert visit.dialogs == []
    assert page.locator("pre.text b").count() == 0
    visit.screenshot("hostile-" + ("escaping-alone" if bypass_csp else "desktop"))
    visit.context.close()
    assert visit.outside == []


def test_the_policy_forbids_scripts_and_other_sources(service: Service) -> None:
    policy = requests.get(f"{service.base}/default/", timeout=10).headers["Content-Security-Policy"]
    directives = dict(directive.strip().split(" ", 1) for directive in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["style-src"].startswith("'sha256-")
    assert directives["img-src"] == "'self' data:"
    assert directives["form-action"] == "'self'"
    assert directives["base-uri"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "script-src" not in directives


def test_an_error_in_the_browser_is_a_page_with_the_same_message_and_status(
    phone: Visit, service: Service, origin: HTTPServer
) -> None:
    page = phone.page
    target = origin.url_for("/gone")
    response = page.goto(f"{service.base}/default/text-mode?url={target}")
    curl = requests.get(f"{service.base}/default/text-mode?url={target}", timeout=10)
    assert response is not None and response.status == curl.status_code == 502
    assert response.headers["x-upstream-status"] == "404"
    assert page.locator("pre.text").inner_text().rstrip("\n") == curl.text.rstrip("\n")
    assert page.title() == "502 The site answered with an error · text-mode"
    assert page.get_by_label("web page address").input_value() == target
    assert phone.scroll_width() <= 390
    phone.screenshot("error-phone")

    page.get_by_label("web page address").fill(origin.url_for("/owls"))
    page.get_by_role("button", name="Read").click()
    page.wait_for_url("**/default/text-mode?**")
    assert page.title() == "Owls at night · text-mode"


def test_an_unknown_path_in_the_browser_is_a_page_too(visit: Visit, service: Service) -> None:
    response = visit.page.goto(f"{service.base}/default/nowhere")
    assert response is not None and response.status == 404
    assert visit.page.locator("pre.text").inner_text().startswith("Not found: /default/nowhere\n")
    assert visit.page.get_by_role("link", name="The home page").get_attribute("href") == "/default/"
    visit.screenshot("error-desktop")


def test_on_a_phone_the_text_scrolls_on_its_own_and_a_narrower_width_is_one_tap_away(
    phone: Visit, service: Service, origin: HTTPServer
) -> None:
    page = phone.page
    page.goto(f"{service.base}/default/text-mode?url={origin.url_for('/owls')}")
    assert phone.scroll_width() <= 390
    assert page.evaluate("(pre => pre.scrollWidth > pre.clientWidth)(document.querySelector('pre.text'))")
    page.get_by_role("link", name="Wrap at 40 columns").click()
    page.wait_for_url("**/default/text-mode?width=40&**")
    assert phone.scroll_width() <= 390
    assert reading_text(phone).rstrip("\n") == plain_text(service, origin.url_for("/owls"), width=40).rstrip("\n")
    phone.screenshot("reading-phone-40")


def test_the_narrow_screen_hint_is_only_on_narrow_screens(visit: Visit, service: Service, origin: HTTPServer) -> None:
    visit.page.goto(f"{service.base}/default/text-mode?url={origin.url_for('/owls')}")
    assert not visit.page.get_by_role("link", name="Wrap at 40 columns").is_visible()


def test_dark_mode_follows_the_system(browser: Browser, service: Service, origin: HTTPServer) -> None:
    colours = {}
    for scheme in ("light", "dark"):
        visit = open_visit(browser, color_scheme=scheme, **PHONE)
        visit.page.goto(f"{service.base}/default/text-mode?width=40&url={origin.url_for('/owls')}")
        colours[scheme] = visit.page.evaluate("getComputedStyle(document.body).backgroundColor")
        visit.screenshot(f"reading-phone-{scheme}")
        visit.context.close()
        assert visit.outside == []
    assert colours == {"light": "rgb(251, 250, 246)", "dark": "rgb(20, 22, 25)"}


def test_a_request_that_would_leave_loopback_is_blocked_and_seen(browser: Browser, service: Service) -> None:
    visit = open_visit(browser, **DESKTOP)
    with pytest.raises(PlaywrightError):
        visit.page.goto("http://192.0.2.1/")  # a documentation address: the guard must notice and stop it
    visit.context.close()
    assert visit.outside == ["http://192.0.2.1/"]
