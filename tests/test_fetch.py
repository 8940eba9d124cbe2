"""The fetcher in process: host spellings, the address rule, pinning, rebinding and redirects via the resolver seam."""

from __future__ import annotations

import ipaddress
import multiprocessing
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from app.errors import BadURL, BlockedDestination, FetchError, TextModeError, UpstreamTimeout
from app.fetch import (
    Policy,
    Watchdog,
    check_target,
    decode,
    fetch,
    is_public_address,
    normalize_host,
    normalize_url,
)
from tests.security_origins import ARTICLE, Canary, recorded_connects, self_signed_certificate

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class ScriptedResolver:
    """The resolver seam: answers each name from a script, one answer per call (the last one repeats)."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.calls.append(host)
        script = self.answers.get(host)
        if script is None:
            raise OSError("Name or service not known")
        return script[min(self.calls.count(host), len(script)) - 1]


def standing_in(*origins: str) -> Callable[[Address], bool]:
    """The address rule with the given loopback origins counted as public sites; every other address as usual."""
    return lambda address: str(address) in origins or is_public_address(address)


def origin_policy(port: int, resolver: ScriptedResolver) -> Policy:
    """The production rules, except that 127.0.0.2 at port stands in for a public site."""
    return Policy(
        timeout=5, allowed_ports=frozenset({port}), resolver=resolver, address_allowed=standing_in("127.0.0.2")
    )


@pytest.fixture
def canary_beside() -> Iterator[Canary]:
    """A canary on 127.0.0.1: what `localhost` means to the system resolver, at the port of the origin below."""
    canary = Canary("127.0.0.1")
    yield canary
    canary.close()


@pytest.fixture
def origin_on_127_0_0_2(canary_beside: Canary) -> Iterator[HTTPServer]:
    """The origin, on 127.0.0.2 at the canary's port: a connection by name instead of by address hits the canary."""
    server = HTTPServer(host="127.0.0.2", port=canary_beside.port)
    server.start()
    yield server
    server.clear()
    if server.is_running():
        server.stop()


# --- Host spellings -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "host"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0177.0000.0000.0001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("0x", "0.0.0.0"),
        ("127.0.0.1.", "127.0.0.1"),
        ("%31%32%37.0.0.1", "127.0.0.1"),
        ("１２７.０.０.１", "127.0.0.1"),  # full-width digits
        ("127。0。0。1", "127.0.0.1"),  # ideographic full stops
        ("169.254.43518", "169.254.169.254"),
        ("0xa9fea9fe", "169.254.169.254"),
        ("[::1]", "::1"),
        ("::ffff:7f00:1", "::ffff:127.0.0.1"),
        ("::ffff:127.0.0.1", "::ffff:127.0.0.1"),
        ("LOCALHOST.", "localhost"),
        ("Bücher.example", "xn--bcher-kva.example"),
        ("my_host.example", "my_host.example"),
    ],
)
def test_every_spelling_of_a_host_becomes_one_canonical_host(raw: str, host: str) -> None:
    assert normalize_host(raw) == host


@pytest.mark.parametrize("raw", ["256.0.0.1", "1.2.3.4.5", "0x100000000", "127..1", "08.0.0.1", "4294967296", "[::g]"])
def test_a_numeric_host_that_is_no_address_is_a_bad_url(raw: str) -> None:
    with pytest.raises(BadURL):
        normalize_host(raw)


LONGEST_NAME = ".".join(["a" * 63] * 3 + ["b" * 61])  # 253 characters, the most DNS holds


@pytest.mark.parametrize(
    ("raw", "host"),
    [
        ("a" * 63 + ".example", "a" * 63 + ".example"),
        (LONGEST_NAME, LONGEST_NAME),
        (LONGEST_NAME + ".", LONGEST_NAME),
        ("bücher.example.", "xn--bcher-kva.example"),
        ("ＢÜＣＨＥＲ.example", "xn--bcher-kva.example"),  # full-width letters, mapped by UTS 46
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("ab--cd.example", "ab--cd.example"),  # IDNA refuses hyphens in the third and fourth places; DNS does not
        ("_dmarc.example", "_dmarc.example"),
        ("a-b.c-d.example", "a-b.c-d.example"),
        ("1.example", "1.example"),
    ],
)
def test_a_name_that_keeps_the_dns_rules_is_kept(raw: str, host: str) -> None:
    assert normalize_host(raw) == host


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        ("a" * 64 + ".example", "the host name has a label longer than 63 characters"),
        ("bücher" * 11 + ".example", "the host name is not valid"),  # its A-label is longer than 63
        (LONGEST_NAME + "b", "the host name is longer than 253 characters"),
        ("o." * 150 + "example", "the host name is longer than 253 characters"),
        ("a..b", "the host name has an empty label (two dots in a row, or a dot at the start)"),
        (".example", "the host name has an empty label (two dots in a row, or a dot at the start)"),
        ("example..", "the host name has an empty label (two dots in a row, or a dot at the start)"),
        ("-owls.example", "the host name has a label with a character DNS does not allow, or a hyphen at an end"),
        ("owls-.example", "the host name has a label with a character DNS does not allow, or a hyphen at an end"),
        ("owls.-", "the host name has a label with a character DNS does not allow, or a hyphen at an end"),
        ("ow!ls.example", "the host name has a label with a character DNS does not allow, or a hyphen at an end"),
        ("ow$ls.example", "the host name has a label with a character DNS does not allow, or a hyphen at an end"),
    ],
)
def test_a_name_that_breaks_the_dns_rules_is_a_bad_url_and_never_resolved(raw: str, detail: str) -> None:
    resolver = ScriptedResolver({})
    with recorded_connects() as connects, pytest.raises(BadURL) as raised:
        fetch(f"http://{raw}/", policy=Policy(timeout=5, resolver=resolver))
    assert raised.value.detail == detail
    assert (resolver.calls, connects) == ([], [])


# --- The address rule -------------------------------------------------------------------------------------------------

BLOCKED_ADDRESSES = [
    "127.0.0.1", "127.255.255.254", "0.0.0.0", "0.1.2.3", "10.0.0.1", "172.16.0.1", "172.31.255.255",
    "192.168.0.1", "169.254.169.254", "169.254.170.2", "169.254.169.253", "100.64.0.1", "100.127.255.255",
    "100.100.100.200", "192.0.0.1", "192.0.2.1", "198.18.0.1", "198.19.255.255", "198.51.100.1", "203.0.113.1",
    "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.88.99.1",
    "::", "::1", "::127.0.0.1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
    "::ffff:0:127.0.0.1", "64:ff9b::127.0.0.1", "64:ff9b::a9fe:a9fe", "64:ff9b::10.0.0.1", "64:ff9b:1::1",
    "2002:7f00:1::", "2002:a9fe:a9fe::1", "2002:0a00:0001::", "2002:c0a8:0101::", "fc00::1", "fd00:ec2::254",
    "fe80::1", "fec0::1", "ff02::1", "ff05::1:3", "2001::1", "2001:db8::1", "100::1", "3fff::1", "5f00::1",
]  # fmt: skip
PUBLIC_ADDRESSES = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808",
                    "2002:808:808::1"]  # fmt: skip


@pytest.mark.parametrize("text", BLOCKED_ADDRESSES)
def test_an_address_that_is_not_globally_routable_is_refused(text: str) -> None:
    assert not is_public_address(ipaddress.ip_address(text))


@pytest.mark.parametrize("text", PUBLIC_ADDRESSES)
def test_a_globally_routable_address_is_allowed(text: str) -> None:
    assert is_public_address(ipaddress.ip_address(text))


# The special-purpose registries (IANA IPv4 and IPv6), written out here independently of app/fetch.py.
NON_GLOBAL_V4 = [ipaddress.IPv4Network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
    "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24",
    "224.0.0.0/4", "240.0.0.0/4",
)]  # fmt: skip
NON_GLOBAL_V6 = [ipaddress.IPv6Network(n) for n in (
    "::/128", "::1/128", "100::/64", "2001::/23", "2001:db8::/32", "3fff::/20", "5f00::/16", "fc00::/7", "fe80::/10",
    "ff00::/8",
)]  # fmt: skip


def oracle_is_global(address: Address) -> bool:
    """Whether the registries call address globally reachable, with IPv4 unwrapped from its IPv6 spellings."""
    if isinstance(address, ipaddress.IPv4Address):
        return not any(address in net for net in NON_GLOBAL_V4)
    value = int(address)
    if value >> 32 == 0xFFFF or value >> 32 == 0xFFFF0000:  # ::ffff:a.b.c.d and ::ffff:0:a.b.c.d
        return oracle_is_global(ipaddress.IPv4Address(value & 0xFFFFFFFF))
    if address in ipaddress.IPv6Network("64:ff9b::/96"):
        return oracle_is_global(ipaddress.IPv4Address(value & 0xFFFFFFFF))
    if address in ipaddress.IPv6Network("2002::/16"):
        return oracle_is_global(ipaddress.IPv4Address((value >> 80) & 0xFFFFFFFF))
    if address not in ipaddress.IPv6Network("2000::/3"):
        return False  # everything outside global unicast is reserved or special
    return not any(address in net for net in NON_GLOBAL_V6)


@settings(max_examples=2000, deadline=None)
@given(st.ip_addresses())
def test_the_address_rule_agrees_with_the_registries(address: Address) -> None:
    if oracle_is_global(address):
        assert is_public_address(address) or address in ipaddress.IPv6Network("64:ff9b:1::/48")
    else:
        assert not is_public_address(address)


def non_global_addresses() -> st.SearchStrategy[Address]:
    def inside(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> st.SearchStrategy[Address]:
        return st.integers(int(net.network_address), int(net.broadcast_address)).map(ipaddress.ip_address)

    v4 = st.sampled_from(NON_GLOBAL_V4).flatmap(inside)
    v6 = st.sampled_from(NON_GLOBAL_V6).flatmap(inside)
    wrapped = v4.flatmap(
        lambda a: st.sampled_from(
            [
                ipaddress.IPv6Address(0xFFFF << 32 | int(a)),
                ipaddress.IPv6Address(0xFFFF0000 << 32 | int(a)),
                ipaddress.IPv6Address(int(ipaddress.IPv6Address("64:ff9b::")) | int(a)),
                ipaddress.IPv6Address(0x2002 << 112 | int(a) << 80),
                ipaddress.IPv6Address(int(a)),
            ]
        )
    )
    return st.one_of(v4, v6, wrapped)


def spellings(address: ipaddress.IPv4Address) -> st.SearchStrategy[str]:
    n = int(address)
    octets = address.packed
    return st.sampled_from(
        [
            str(address),
            str(n),
            hex(n),
            ".".join(oct(o).replace("0o", "0") for o in octets),
            f"{octets[0]}.{n & 0xFFFFFF}",
            f"{octets[0]}.{octets[1]}.{n & 0xFFFF}",
            str(address) + ".",
            "".join(f"%{ord(c):02x}" for c in str(address)),
            f"[::ffff:{address}]",
        ]
    )


PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(address=non_global_addresses(), scheme=st.sampled_from(["http", "https"]))
def test_no_name_that_resolves_to_a_non_global_address_is_ever_fetched(address: Address, scheme: str) -> None:
    resolver = ScriptedResolver({"site.example": [[str(address)]]})
    with recorded_connects() as connects, pytest.raises(BlockedDestination):
        fetch(f"{scheme}://site.example/page", policy=Policy(timeout=5, resolver=resolver))
    assert connects == []


@PROPERTY_SETTINGS
@given(address=non_global_addresses(), public=st.sampled_from(PUBLIC_ADDRESSES))
def test_one_non_global_answer_among_public_ones_blocks_the_name(address: Address, public: str) -> None:
    resolver = ScriptedResolver({"site.example": [[public, str(address)]]})
    with recorded_connects() as connects, pytest.raises(BlockedDestination):
        fetch("https://site.example/", policy=Policy(timeout=5, resolver=resolver))
    assert connects == []


@PROPERTY_SETTINGS
@given(spelled=st.sampled_from(NON_GLOBAL_V4).flatmap(lambda net: st.integers(int(net[0]), int(net[-1])))
       .map(ipaddress.IPv4Address).flatmap(spellings))  # fmt: skip
def test_no_spelling_of_a_non_global_ipv4_address_is_ever_fetched(spelled: str) -> None:
    resolver = ScriptedResolver({})
    with recorded_connects() as connects, pytest.raises(BlockedDestination):
        fetch(f"http://{spelled}/", policy=Policy(timeout=5, resolver=resolver))
    assert connects == []
    assert resolver.calls == []  # a number is never sent to the resolver as a name


# --- URL shape ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("file:///etc/passwd", BadURL),
        ("gopher://127.0.0.1:70/_GET", BadURL),
        ("ftp://example.com/", BadURL),
        ("javascript:alert(1)", BadURL),
        ("data:text/html,<p>hi</p>", BadURL),
        ("http:/example.com", BadURL),
        ("http://user:pass@example.com/", BadURL),
        ("http://user@example.com/", BadURL),
        ("http://@example.com/", BadURL),
        ("http://example.com\\@127.0.0.1/", BadURL),
        ("http://exa mple.com/", BadURL),
        ("http://example.com:99999/", BadURL),
        ("http://example.com:22/", BlockedDestination),
        ("https://example.com:6379/", BlockedDestination),
        ("http://example.com:9001/", BlockedDestination),
    ],
)
def test_url_shape_is_checked_before_any_lookup(url: str, error: type[TextModeError]) -> None:
    with pytest.raises(error):
        check_target(normalize_url(url), policy=Policy())


def test_upper_case_schemes_and_missing_schemes_are_understood() -> None:
    assert normalize_url("HTTP://Example.COM/a") == "http://Example.COM/a"
    assert normalize_url("example.com:8080/a") == "https://example.com:8080/a"
    assert check_target("HtTpS://EXAMPLE.com./a?b", policy=Policy()).url == "https://example.com/a?b"


# --- Pinning, rebinding, redirects ------------------------------------------------------------------------------------


def test_the_connection_goes_to_the_checked_address_whatever_a_second_lookup_says(
    origin_on_127_0_0_2: HTTPServer, canary_beside: Canary
) -> None:
    origin_on_127_0_0_2.expect_request("/owls").respond_with_data(ARTICLE, content_type="text/html")
    port = origin_on_127_0_0_2.port
    # First answer: the origin (standing in for a public site). Any later answer, and the system resolver's
    # answer for `localhost`, is the canary.
    resolver = ScriptedResolver({"localhost": [["127.0.0.2"], ["127.0.0.1"]]})
    policy = origin_policy(port, resolver)
    with recorded_connects() as connects:
        page = fetch(f"http://localhost:{port}/owls", policy=policy)
    assert page.status == 200
    assert "Owls at night" in page.text
    assert resolver.calls == ["localhost"]
    assert [address[:2] for address in connects] == [("127.0.0.2", port)]
    assert canary_beside.connections == 0


def test_a_rebinding_name_is_checked_again_on_the_next_hop(
    origin_on_127_0_0_2: HTTPServer, canary_beside: Canary
) -> None:
    origin_on_127_0_0_2.expect_request("/start").respond_with_data("", status=302, headers={"Location": "/again"})
    port = origin_on_127_0_0_2.port
    resolver = ScriptedResolver({"localhost": [["127.0.0.2"], ["127.0.0.1"]]})
    policy = origin_policy(port, resolver)
    with pytest.raises(BlockedDestination) as raised:
        fetch(f"http://localhost:{port}/start", policy=policy)
    assert resolver.calls == ["localhost", "localhost"]
    assert canary_beside.connections == 0
    assert "127.0.0" not in raised.value.detail


@pytest.mark.parametrize(
    "private", ["127.0.0.1", "10.0.0.7", "169.254.169.254", "::1", "fd00:ec2::254", "::ffff:7f00:1"]
)
def test_a_redirect_from_a_public_name_to_a_private_one_is_refused(
    origin_on_127_0_0_2: HTTPServer, canary_beside: Canary, private: str
) -> None:
    port = origin_on_127_0_0_2.port
    origin_on_127_0_0_2.expect_request("/").respond_with_data(
        "", status=301, headers={"Location": f"http://internal.example:{port}/latest/meta-data/"}
    )
    resolver = ScriptedResolver({"public.example": [["127.0.0.2"]], "internal.example": [[private]]})
    policy = origin_policy(port, resolver)
    with recorded_connects() as connects, pytest.raises(BlockedDestination) as raised:
        fetch(f"http://public.example:{port}/", policy=policy)
    assert [address[0] for address in connects] == ["127.0.0.2"]
    assert canary_beside.connections == 0
    assert private not in raised.value.detail


@pytest.mark.parametrize(
    "location",
    ["http://127.0.0.1:{port}/", "http://2130706433:{port}/", "http://[::ffff:127.0.0.1]:{port}/", "http://0:{port}/",
     "file:///etc/passwd", "gopher://127.0.0.1:{port}/", "http://user:pw@public.example:{port}/", "http://public.example:9001/"],
)  # fmt: skip
def test_a_redirect_to_a_refused_destination_is_blocked(
    origin_on_127_0_0_2: HTTPServer, canary_beside: Canary, location: str
) -> None:
    port = origin_on_127_0_0_2.port
    origin_on_127_0_0_2.expect_request("/").respond_with_data(
        "", status=302, headers={"Location": location.format(port=port)}
    )
    resolver = ScriptedResolver({"public.example": [["127.0.0.2"]]})
    policy = origin_policy(port, resolver)
    with pytest.raises(BlockedDestination):
        fetch(f"http://public.example:{port}/", policy=policy)
    assert canary_beside.connections == 0


def test_a_name_that_does_not_resolve_is_a_fetch_error_naming_no_address() -> None:
    with recorded_connects() as connects, pytest.raises(FetchError) as raised:
        fetch("https://nowhere.example/", policy=Policy(timeout=5, resolver=ScriptedResolver({})))
    assert raised.value.status == 502
    assert connects == []


def test_a_resolver_that_hangs_is_cut_at_the_deadline() -> None:
    release = threading.Event()

    def stuck(host: str, port: int) -> Sequence[str]:
        release.wait(10)
        return ["8.8.8.8"]

    try:
        with pytest.raises(UpstreamTimeout):
            fetch("https://slow-dns.example/", policy=Policy(timeout=0.5, resolver=stuck))
    finally:
        release.set()


def test_tls_is_verified_against_the_name_even_though_the_address_is_pinned(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path, "public.example")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = HTTPServer(host="127.0.0.2", port=0, ssl_context=context)
    server.expect_request("/").respond_with_data(ARTICLE, content_type="text/html")
    server.start()
    try:
        resolver = ScriptedResolver({"public.example": [["127.0.0.2"]]})
        policy = Policy(
            timeout=5,
            allowed_ports=frozenset({server.port}),
            resolver=resolver,
            address_allowed=standing_in("127.0.0.2"),
        )
        with pytest.raises(FetchError) as raised:
            fetch(f"https://public.example:{server.port}/", policy=policy)
        assert raised.value.status == 502
        assert "TLS" in raised.value.detail
    finally:
        server.stop()


def test_proxy_and_netrc_settings_in_the_environment_are_ignored(
    httpserver: HTTPServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    canary = Canary()
    netrc = tmp_path / "netrc"
    netrc.write_text("machine localhost login admin password hunter2\nmachine 127.0.0.1 login admin password hunter2\n")
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{canary.port}")
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    httpserver.expect_request("/owls").respond_with_data(ARTICLE, content_type="text/html")
    try:
        page = fetch(httpserver.url_for("/owls"), policy=Policy(timeout=5, allow_private=True))
    finally:
        canary.close()
    assert page.status == 200
    assert canary.connections == 0
    (request, _), *_ = httpserver.log
    assert "Authorization" not in request.headers


# --- Charsets ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "charset", "text"),
    [
        (b"<p>caf\xc3\xa9</p>", "x-bogus", "<p>café</p>"),
        (b"<p>caf\xe9</p>", "utf-8", "<p>café</p>"),  # lies: it is windows-1252
        (b"<p>+ADw-script+AD4-</p>", "utf-7", "<p>+ADw-script+AD4-</p>"),  # utf-7 is never a web encoding
        (b"<p>\\u003cscript\\u003e</p>", "unicode_escape", "<p>\\u003cscript\\u003e</p>"),
        (b"<p>abcd</p>", "utf-16", "<p>abcd</p>"),  # odd length cannot be UTF-16
        (b"\xef\xbb\xbf<p>bom</p>", "latin-1", "<p>bom</p>"),
    ],
)
def test_a_bogus_or_lying_charset_decodes_best_effort(body: bytes, charset: str, text: str) -> None:
    assert decode(body, header_charset=charset)[0] == text


def test_double_encoded_utf8_is_repaired_and_clean_text_left_alone() -> None:
    from app.fetch import decode

    mangled = "<p>we’re here — café</p>".encode().decode("cp1252").encode()
    assert decode(mangled, header_charset="utf-8")[0] == "<p>we’re here — café</p>"
    clean = "<p>Ã is a letter; â too, and ‘quotes’ stay.</p>"
    assert decode(clean.encode(), header_charset="utf-8")[0] == clean


def _fetch_in_child(url: str, port: int, answers: multiprocessing.Queue[str]) -> None:
    started = time.monotonic()
    try:
        fetch(url, policy=Policy(timeout=0.5, allow_private=True, allowed_ports=frozenset({port})))
        answers.put("fetched")
    except UpstreamTimeout:
        answers.put(f"timeout after {time.monotonic() - started:.1f} s")


# The fork is the point: Python 3.12+ warns that a process with threads (the origin's, the deadlines') forks.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_worker_cuts_a_dripping_origin_at_its_deadline() -> None:
    # gunicorn forks its workers: the deadlines' thread of the process they were forked from is not theirs.
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def drip() -> None:
        connection, _ = listener.accept()
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n")
        while not stop.wait(0.1):
            connection.sendall(b"x")  # a byte at a time: no single read ever waits long enough to time out
        connection.close()

    threading.Thread(target=drip, daemon=True).start()
    Watchdog(time.monotonic() + 0.01).close()  # this process's deadlines' thread runs before the fork
    context = multiprocessing.get_context("fork")
    answers: multiprocessing.Queue[str] = context.Queue()
    child = context.Process(target=_fetch_in_child, args=(f"http://127.0.0.1:{port}/", port, answers))
    child.start()
    try:
        assert answers.get(timeout=10).startswith("timeout after 0.")
    finally:
        stop.set()
        child.join(5)
        if child.is_alive():
            child.kill()
        listener.close()
