"""Hostile answers against the fetcher in process: redirects to no URL. Origins are raw sockets on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.errors import BlockedDestination, FetchError
from app.fetch import Policy, fetch
from tests.security_origins import (
    ARTICLE,
    RawOrigin,
    redirect_to,
    redirect_with_stalled_body,
    respond,
    serving,
)

POLICY = Policy(timeout=5, allow_private=True)


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
