"""Hostile answers against the fetcher in process: redirects to no URL, every body bounded whatever its framing
says (memory measured), interim answers skipped, and the default size limit. Origins are raw sockets on loopback."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib
from collections.abc import Iterator

import brotli
import pytest
from flask.testing import FlaskClient

from app.errors import BlockedDestination, FetchError, UpstreamStatus
from app.fetch import Policy, fetch, wire_limit
from app.settings import DEFAULT_MAX_BYTES
from tests.security_origins import (
    ARTICLE,
    Handler,
    RawOrigin,
    head,
    interim_then_article,
    raw_answer,
    redirect_to,
    redirect_with_stalled_body,
    respond,
    serving,
)

LIMIT = 256 * 1024
# A long deadline: tracemalloc slows the small-chunk rows below several times over, and time is not what they pin.
POLICY = Policy(timeout=30, max_bytes=LIMIT, allow_private=True)


@pytest.fixture(scope="module")
def article() -> Iterator[RawOrigin]:
    origin = RawOrigin({"/": respond(ARTICLE)})
    yield origin
    origin.close()


# --- Redirects whose Location is no URL -------------------------------------------------------------------------------

UNUSABLE_LOCATIONS = [
    "http://[::1",
    "http://[name]:80/",
    "//[",
    "http://[::1]:x/",
    "https://[v1.fe80::a+en1]/",
    "http://owls.example:99999/",
    "http://owls.example:-1/",
    "http://owls example/",
    "http://owls.example/\x01",
    "http://%zz/",
    "http://owls..example/",
    "http://-owls.example/",
    "http://" + "o" * 64 + ".example/",
]


@pytest.mark.parametrize("location", UNUSABLE_LOCATIONS)
def test_a_redirect_to_a_location_that_is_no_url_is_a_502_that_says_so(location: str) -> None:
    with serving(redirect_to(location)) as origin, pytest.raises(FetchError) as raised:
        fetch(origin.url("/"), policy=POLICY)
    assert (type(raised.value), raised.value.status) == (FetchError, 502)
    assert raised.value.detail.startswith("the site redirects to a Location that "), raised.value.detail


@pytest.mark.parametrize("location", ["file:///etc/passwd", "http://user:pw@owls.example/"])
def test_a_redirect_to_a_url_of_a_refused_kind_is_still_a_403(location: str) -> None:
    with serving(redirect_to(location)) as origin, pytest.raises(BlockedDestination):
        fetch(origin.url("/"), policy=POLICY)


def test_a_redirect_is_followed_without_reading_its_body(article: RawOrigin) -> None:
    """The redirect's body stalls: a client that read it would wait for the deadline instead."""
    with serving(redirect_with_stalled_body(article.url("/"))) as origin:
        page = fetch(origin.url("/"), policy=Policy(timeout=5, allow_private=True))
    assert (page.final_url, page.text) == (article.url("/"), ARTICLE.decode())


# --- Bodies, whatever their framing says ------------------------------------------------------------------------------

# What a hostile origin sends: 16 times the limit, built once so that sending it allocates nothing here.
PAST = (b"<p>" + b"owls " * 1637 + b"</p>\n") * 512
# The fetcher's own peak while it refuses PAST: the page up to its limit, the buffer growing to it, one read.
MEMORY_BOUND = 4 * LIMIT
EARLY_HINTS = b"HTTP/1.1 103 Early Hints\r\nLink: </owls.css>; rel=preload; as=style\r\n\r\n"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
PROCESSING = b"HTTP/1.1 102 Processing\r\n\r\n"


def html(**headers: str | int) -> bytes:
    """An HTML answer's status line and headers."""
    return head(Content_Type="text/html", **headers)


CHUNKED = html(Transfer_Encoding="chunked")
TO_THE_CLOSE = html(Connection="close")
GZIP_TO_THE_CLOSE = html(Content_Encoding="gzip", Connection="close")


def coded(coding: str, body: bytes) -> Handler:
    return raw_answer(html(Content_Encoding=coding, Content_Length=len(body)), body)


def repeated(piece: bytes) -> bytes:
    """piece as many times as fit in PAST."""
    return piece * (len(PAST) // len(piece))


# Each refusal as (code, detail).
PAGE_LIMIT = ("too_large", f"the page is larger than {LIMIT} bytes")
WIRE_LIMIT = ("too_large", f"the site sent more than {wire_limit(LIMIT)} bytes for one page")
NEGATIVE_CHUNK = ("fetch_failed", "the page's chunked framing is broken (a negative chunk size)")
NO_CHUNK_SIZE = ("fetch_failed", "the connection broke while reading the page (the chunked framing is broken)")

HOSTILE_BODIES: dict[str, tuple[Handler, tuple[str, str]]] = {
    "negative chunk size": (raw_answer(CHUNKED, b"-1\r\n", PAST), NEGATIVE_CHUNK),
    "negative chunk size, long": (raw_answer(CHUNKED, b"-7fffffffffffffff\r\n", PAST), NEGATIVE_CHUNK),
    "negative chunk size after a good chunk": (raw_answer(CHUNKED, b"4\r\nowls\r\n-10\r\n", PAST), NEGATIVE_CHUNK),
    "chunk size larger than any body": (raw_answer(CHUNKED, b"ffffffffffffffff\r\n", PAST), PAGE_LIMIT),
    "chunk size that is no number": (raw_answer(CHUNKED, b"zz\r\n", PAST), NO_CHUNK_SIZE),
    "one-byte chunks": (raw_answer(CHUNKED, repeated(b"1\r\no\r\n")), WIRE_LIMIT),
    "two-byte chunks": (raw_answer(CHUNKED, repeated(b"2\r\now\r\n")), WIRE_LIMIT),
    "endless trailers": (raw_answer(CHUNKED, b"4\r\nowls\r\n0\r\n", repeated(b"X-Owls: hoot\r\n")), WIRE_LIMIT),
    "no length, to the close": (raw_answer(TO_THE_CLOSE, PAST), PAGE_LIMIT),
    "Content-Length past the limit": (raw_answer(html(Content_Length=len(PAST)), PAST), PAGE_LIMIT),
    "negative Content-Length": (raw_answer(html(Content_Length=-1, Connection="close"), PAST), PAGE_LIMIT),
    "gzip bomb": (coded("gzip", gzip.compress(bytes(len(PAST)))), PAGE_LIMIT),
    "deflate bomb": (coded("deflate", zlib.compress(bytes(len(PAST)))), PAGE_LIMIT),
    "brotli bomb": (coded("br", brotli.compress(bytes(len(PAST)), quality=5)), PAGE_LIMIT),
    "gzip, then garbage": (raw_answer(GZIP_TO_THE_CLOSE, gzip.compress(ARTICLE), PAST), WIRE_LIMIT),
    "empty gzip members": (raw_answer(GZIP_TO_THE_CLOSE, repeated(gzip.compress(b""))), WIRE_LIMIT),
    "100 Continue, endlessly": (raw_answer(repeated(CONTINUE)), WIRE_LIMIT),
    "103 Early Hints, endlessly": (raw_answer(repeated(EARLY_HINTS)), WIRE_LIMIT),
}


@pytest.fixture(scope="module")
def hostile() -> Iterator[RawOrigin]:
    origin = RawOrigin({f"/{n}": handler for n, (handler, _) in enumerate(HOSTILE_BODIES.values())})
    yield origin
    origin.close()


@pytest.mark.parametrize("name", HOSTILE_BODIES)
def test_a_hostile_body_is_refused_within_the_limit_whatever_its_framing(hostile: RawOrigin, name: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(FetchError) as raised:
            fetch(hostile.url(f"/{list(HOSTILE_BODIES).index(name)}"), policy=POLICY)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (raised.value.status, raised.value.code, raised.value.detail) == (502, *HOSTILE_BODIES[name][1])
    assert peak < MEMORY_BOUND, f"{peak:,} bytes at the peak for a limit of {LIMIT:,}"


def test_a_content_length_shorter_than_the_body_ends_the_page_there() -> None:
    with serving(raw_answer(html(Content_Length=len(ARTICLE)), ARTICLE, PAST)) as origin:
        page = fetch(origin.url("/"), policy=POLICY)
    assert (page.status, page.text) == (200, ARTICLE.decode())


def test_a_content_length_longer_than_the_body_is_a_page_cut_short() -> None:
    with serving(raw_answer(html(Content_Length=LIMIT), ARTICLE)) as origin, pytest.raises(FetchError) as raised:
        fetch(origin.url("/"), policy=POLICY)
    assert (type(raised.value), raised.value.detail) == (
        FetchError,
        "the connection broke while reading the page (the page was cut short)",
    )


def test_a_page_at_the_limit_in_small_chunks_is_read() -> None:
    """The wire limit leaves room for framing: a page at the limit, sent in 1 KiB chunks, is a page."""
    piece = b"<p>" + b"owls " * 203 + b"</p>"  # 1,022 bytes
    count = LIMIT // len(piece)
    frames = (f"{len(piece):x}\r\n".encode() + piece + b"\r\n") * count + b"0\r\n\r\n"
    with serving(raw_answer(CHUNKED, frames)) as origin:
        page = fetch(origin.url("/"), policy=POLICY)
    assert len(page.text) == count * len(piece)


# A page of 200 KiB in many different paragraphs, so that a coding sends it in many pieces.
LONG_PAGE = b"<html><body>" + b"".join(b"<p>owl %d hoots</p>" % n for n in range(12_000)) + b"</body></html>"


@pytest.mark.parametrize(
    ("coding", "body"),
    [
        ("identity", LONG_PAGE),
        ("gzip", gzip.compress(LONG_PAGE)),
        ("x-gzip", gzip.compress(LONG_PAGE)),
        ("deflate", zlib.compress(LONG_PAGE)),
        ("br", brotli.compress(LONG_PAGE)),
        ("gzip, gzip", gzip.compress(gzip.compress(LONG_PAGE))),
    ],
)
def test_a_page_in_each_coding_read_reads_as_itself(coding: str, body: bytes) -> None:
    with serving(coded(coding, body)) as origin:
        page = fetch(origin.url("/"), policy=POLICY)
    assert page.text == LONG_PAGE.decode()


@pytest.mark.parametrize("coding", ["gzip, br", "br, br", "zstd", "compress"])
def test_a_coding_not_read_is_refused(coding: str) -> None:
    with serving(coded(coding, brotli.compress(ARTICLE))) as origin, pytest.raises(FetchError) as raised:
        fetch(origin.url("/"), policy=POLICY)
    assert raised.value.detail == "the page is compressed in a way text-mode does not read"


# --- Interim answers (RFC 9110 section 15.2) --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "interim",
    [
        [EARLY_HINTS],
        [CONTINUE],
        [PROCESSING],
        [CONTINUE, PROCESSING, EARLY_HINTS, EARLY_HINTS, b"HTTP/1.1 199 Owls\r\nX-Owls: hoot\r\n\r\n"],
    ],
    ids=["103", "100", "102", "five in a row"],
)
def test_interim_answers_are_skipped_and_the_final_answer_read(interim: list[bytes]) -> None:
    with serving(interim_then_article(*interim)) as origin:
        page = fetch(origin.url("/"), policy=POLICY)
    assert (page.status, page.text) == (200, ARTICLE.decode())


def test_an_interim_answer_before_a_redirect_leads_to_the_redirect(article: RawOrigin) -> None:
    redirect = head("302 Found", Location=article.url("/"), Content_Length=0)
    with serving(raw_answer(EARLY_HINTS, redirect)) as origin:
        page = fetch(origin.url("/"), policy=POLICY)
    assert (page.final_url, page.text) == (article.url("/"), ARTICLE.decode())


def test_101_switching_protocols_is_not_skipped_since_text_mode_never_asks_to_switch() -> None:
    switching = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
    with serving(interim_then_article(switching)) as origin, pytest.raises(UpstreamStatus) as raised:
        fetch(origin.url("/"), policy=POLICY)
    assert (raised.value.upstream_status, raised.value.detail) == (101, "the site answered 101")


# --- The default limit ------------------------------------------------------------------------------------------------

PRODUCT_JSON = b'{"sku":"SM-X510","name":"Galaxy Tab S9 FE","price":{"amount":449.0,"currency":"EUR"},"stock":true},'
# A shop's product page: the article, and 6 MiB of its catalogue inline as JSON (the benchmarks' largest page is
# 1.6 MiB; such product pages pass 5 MiB).
PRODUCT_PAGE = ARTICLE.replace(
    b"</body>",
    b'<script type="application/json">[' + PRODUCT_JSON * (6 * 2**20 // len(PRODUCT_JSON)) + b"{}]</script></body>",
)


@pytest.fixture(scope="module")
def shop() -> Iterator[RawOrigin]:
    origin = RawOrigin(
        {
            "/product": raw_answer(html(Content_Length=len(PRODUCT_PAGE)), PRODUCT_PAGE),
            "/past-the-default": raw_answer(TO_THE_CLOSE, b"<p>" + b"o" * DEFAULT_MAX_BYTES),
        }
    )
    yield origin
    origin.close()


def test_a_product_page_with_megabytes_of_inline_json_is_read_by_the_service(
    client: FlaskClient, shop: RawOrigin
) -> None:
    response = client.get("/default/text-mode", query_string={"url": shop.url("/product")})
    assert response.status_code == 200, response.text[:200]
    assert response.text.startswith("Owls at night\n")


def test_a_product_page_with_megabytes_of_inline_json_is_read_under_the_default_policy(shop: RawOrigin) -> None:
    page = fetch(shop.url("/product"), policy=Policy(allow_private=True))
    assert len(page.text) == len(PRODUCT_PAGE)


def test_the_default_limit_refuses_a_page_past_it(client: FlaskClient, shop: RawOrigin) -> None:
    response = client.get("/default/text-mode", query_string={"url": shop.url("/past-the-default")})
    assert (response.status_code, response.text.splitlines()[0]) == (
        502,
        f"Error: the page is larger than {DEFAULT_MAX_BYTES} bytes",
    )
