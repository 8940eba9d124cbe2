"""Fetch a page safely: check where it goes, connect to the checked address, bound time and size."""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import heapq
import http.client
import io
import ipaddress
import itertools
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import brotli
import charset_normalizer
import ftfy
import idna
import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from app.challenge import CHALLENGE_STATUSES, MAX_CHALLENGE_BYTES, bot_check
from app.document import Page
from app.errors import (
    BadURL,
    BlockedBySite,
    BlockedDestination,
    FetchError,
    RefusedURL,
    TooLarge,
    UnsupportedContent,
    UpstreamStatus,
    UpstreamTimeout,
)
from app.pdf import PDF_SIGNATURE, PDF_TYPES
from app.settings import DEFAULT_MAX_BYTES, DEFAULT_PORTS

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

log = logging.getLogger("text_mode.fetch")

Resolver = Callable[[str, int], Sequence[str]]
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset({"text/plain", "text/markdown", "text/x-markdown"})
XML_TYPES = frozenset({"text/xml", "application/xml"})
# The codings read, each decoded in bounded steps: gzip and deflate by urllib3 (zlib), br by _unbrotli.
CONTENT_CODINGS = frozenset({"", "identity", "gzip", "x-gzip", "deflate", "br"})
CHUNK = 64 * 1024


def resolve(host: str, port: int) -> list[str]:
    """Return every address the system resolver gives for host (A and AAAA)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# Ranges that ipaddress calls global but that must never be reached, or that wrap another address.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
EXTRA_BLOCKED: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
    ipaddress.IPv4Network("0.0.0.0/8"),
    ipaddress.IPv4Network("100.64.0.0/10"),
    ipaddress.IPv4Network("192.0.0.0/24"),
    ipaddress.IPv4Network("192.88.99.0/24"),  # the 6to4 relay anycast, deprecated (RFC 7526)
    ipaddress.IPv4Network("198.18.0.0/15"),
    ipaddress.IPv4Network("224.0.0.0/3"),
    ipaddress.IPv6Network("::/8"),  # reserved by the IETF; holds ::ffff:0:a.b.c.d, which ipaddress calls global
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv6Network("fc00::/7"),
    ipaddress.IPv6Network("fe80::/10"),
    ipaddress.IPv6Network("fec0::/10"),
    ipaddress.IPv6Network("ff00::/8"),
    ipaddress.IPv6Network("2001::/23"),
    ipaddress.IPv6Network("2001:db8::/32"),
    ipaddress.IPv6Network("3fff::/20"),  # documentation (RFC 9637)
    ipaddress.IPv6Network("5f00::/16"),  # segment routing SIDs (RFC 9602)
)


def is_public_address(address: Address) -> bool:
    """Tell whether an address is globally routable, unwrapping IPv4 inside IPv6 spellings."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public_address(address.ipv4_mapped)
        if address in NAT64:
            return is_public_address(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address in SIX_TO_FOUR:
            return is_public_address(ipaddress.IPv4Address((int(address) >> 80) & 0xFFFFFFFF))
    if any(address.version == net.version and address in net for net in EXTRA_BLOCKED):
        return False
    return bool(
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_loopback
        and not address.is_link_local
        and not address.is_unspecified
        and not address.is_private
    )


@dataclass(frozen=True)
class Policy:
    """Where and how the fetcher may go."""

    timeout: float = 10.0
    max_bytes: int = DEFAULT_MAX_BYTES
    allow_private: bool = False
    allowed_ports: frozenset[int] = DEFAULT_PORTS
    user_agent: str = "text-mode"
    resolver: Resolver = field(default=resolve, compare=False)
    # The address rule, as a seam: tests let one loopback origin stand in for a public site and keep the rule
    # for every other address.
    address_allowed: Callable[[Address], bool] = field(default=is_public_address, compare=False)


@dataclass(frozen=True)
class Target:
    """A URL checked for shape: scheme, normalised host and port."""

    url: str
    scheme: str
    host: str
    port: int


SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):(.*)$", re.DOTALL)


def normalize_url(raw: str) -> str:
    """Return raw as an absolute http(s) URL: a missing scheme means https; other schemes are refused."""
    candidate = raw.strip()
    if not candidate:
        raise BadURL("no URL was given")
    if candidate.startswith("//"):
        return "https:" + candidate
    match = SCHEME_RE.match(candidate)
    # "example.com:8080/page" is a host and port, not a scheme called "example.com".
    if match and not re.match(r"^\d+(?:[/?#]|$)", match.group(2)):
        scheme = match.group(1).lower()
        if scheme not in {"http", "https"}:
            raise RefusedURL(f"the scheme {scheme!r} is not supported; only http and https are")
        rest = match.group(2)
        if not rest.startswith("//"):
            raise BadURL("the URL has no host")
        return scheme + ":" + rest
    return "https://" + candidate


def check_target(url: str, *, policy: Policy) -> Target:
    """Parse url and check its shape: http(s), a host, no credentials, an allowed port."""
    if any(ord(c) < 0x21 or c == "\x7f" for c in url):
        raise BadURL("the URL contains spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise BadURL(f"the URL cannot be parsed ({error})") from None
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise RefusedURL(f"the scheme {scheme!r} is not supported; only http and https are")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise RefusedURL("credentials in the URL are not allowed")
    host = normalize_host(parts.hostname or "")
    if port is None:
        port = 443 if scheme == "https" else 80
    if not policy.allow_private and port not in policy.allowed_ports:
        raise BlockedDestination(f"port {port} is not allowed")
    netloc_host = f"[{host}]" if ":" in host else host
    default_port = (scheme == "https" and port == 443) or (scheme == "http" and port == 80)
    netloc = netloc_host if default_port else f"{netloc_host}:{port}"
    path = parts.path or "/"
    return Target(urlunsplit((scheme, netloc, path, parts.query, "")), scheme, host, port)


def normalize_host(raw: str) -> str:
    """Return the host as one canonical spelling: an IP address, or a lower-case IDNA name without a final dot.

    Every numeric spelling a browser or inet_aton accepts (2130706433, 0x7f000001, 0177.0.0.1, 127.1)
    becomes the dotted address it means, so the address rule sees the address and not a name. A name must
    keep the DNS rules (check_dns_name) before it is ever resolved.
    """
    host = unquote(raw).strip().lower()
    if not host:
        raise BadURL("the URL has no host")
    if ":" in host:
        try:
            address = ipaddress.IPv6Address(host.strip("[]"))
        except ValueError:
            raise BadURL("the host is not a valid IPv6 address") from None
        # Python 3.13 writes an IPv4-mapped address with its IPv4 part dotted, 3.11 in hex: one spelling for both.
        return f"::ffff:{address.ipv4_mapped}" if address.ipv4_mapped else str(address)
    if any(c in host for c in "/\\@#?%[]") or any(ord(c) < 0x21 for c in host):
        raise BadURL("the host name is not valid")
    try:
        host = idna.encode(host, uts46=True).decode("ascii")  # also maps full-width digits and dots
    except idna.IDNAError:
        if not host.isascii():
            raise BadURL("the host name is not valid") from None
        # IDNA refuses some names that DNS serves and browsers fetch ("my_host", "ab--cd"): the DNS rules decide.
    host = host.removesuffix(".")  # the root's empty label: "example.com." is "example.com"
    if not host:
        raise BadURL("the URL has no host")
    number = ipv4_from_host(host)
    if number is not None:
        return str(number)
    check_dns_name(host)
    return host


# A label by RFC 1035 section 2.3.1 and RFC 1123 section 2.1: letters, digits and hyphens, 1 to 63 of them, no
# hyphen at either end. Underscores are let through (service names such as _dmarc; real hosts use them).
DNS_LABEL_RE = re.compile(r"[a-z0-9_](?:[a-z0-9_\-]{0,61}[a-z0-9_])?")


def check_dns_name(host: str) -> None:
    """Raise BadURL unless host (lower-case ASCII, no final dot) is a name DNS could hold (RFC 1035 section 2.3.4)."""
    if len(host) > 253:
        raise BadURL("the host name is longer than 253 characters")
    for label in host.split("."):
        if not label:
            raise BadURL("the host name has an empty label (two dots in a row, or a dot at the start)")
        if len(label) > 63:
            raise BadURL("the host name has a label longer than 63 characters")
        if not DNS_LABEL_RE.fullmatch(label):
            raise BadURL("the host name has a label with a character DNS does not allow, or a hyphen at an end")


IPV4_NUMBER_RE = re.compile(r"^(?:0[xX][0-9a-fA-F]*|[0-9]+)$")


def ipv4_from_host(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a host spells as numbers (WHATWG URL, IPv4 parser), None for a name; BadURL if invalid."""
    labels = host.split(".")
    if not IPV4_NUMBER_RE.match(labels[-1]):
        return None
    if len(labels) > 4 or not all(IPV4_NUMBER_RE.match(label) for label in labels):
        raise BadURL("the host looks like an IPv4 address but is not a valid one")
    numbers = [_ipv4_number(label) for label in labels]
    last = numbers.pop()
    if any(number > 255 for number in numbers) or last >= 256 ** (4 - len(numbers)):
        raise BadURL("the host looks like an IPv4 address but is not a valid one")
    value = last
    for index, number in enumerate(numbers):
        value += number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _ipv4_number(label: str) -> int:
    if label[:2].lower() == "0x":
        return int(label[2:] or "0", 16)
    if len(label) > 1 and label.startswith("0"):
        if not set(label) <= set("01234567"):
            raise BadURL("the host looks like an IPv4 address but is not a valid one")
        return int(label, 8)
    return int(label)


def checked_addresses(target: Target, *, policy: Policy, deadline: float) -> list[str]:
    """Resolve the target's host once and return its addresses, all of them allowed, or raise."""
    try:
        literal: Address | None = ipaddress.ip_address(target.host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        addresses = _resolve_with_deadline(target.host, target.port, policy=policy, deadline=deadline)
    if not addresses:
        raise FetchError(f"the name {target.host} has no address")
    if not policy.allow_private:
        for text in addresses:
            try:
                address = ipaddress.ip_address(str(text).split("%")[0])
            except ValueError:
                raise BlockedDestination("the destination's address is not usable") from None
            if not policy.address_allowed(address):
                # Never the address itself: the answer must not tell a stranger what a name means inside.
                raise BlockedDestination("the destination is not a public address")
    return [str(text) for text in addresses]


def _resolve_with_deadline(host: str, port: int, *, policy: Policy, deadline: float) -> list[str]:
    """Run the resolver in a thread so a stuck lookup cannot outlast the deadline."""
    result: list[str] = []
    failure: list[BaseException] = []

    def lookup() -> None:
        try:
            result.extend(policy.resolver(host, port))
        except BaseException as error:  # handed to the caller below
            failure.append(error)

    worker = threading.Thread(target=lookup, daemon=True)
    worker.start()
    worker.join(max(0.0, deadline - time.monotonic()))
    if worker.is_alive():
        raise UpstreamTimeout("looking up the site's name took too long")
    if failure:
        if isinstance(failure[0], (OSError, UnicodeError)):
            raise FetchError(f"the name {host} could not be resolved") from None
        raise failure[0]
    return result


class Watchdog:
    """Cut every connection of one fetch when its deadline passes, whatever the socket is blocked in.

    requests' timeouts bound each read, so an origin that sends a byte a second never trips them; shutting
    the socket down when the deadline passes wakes a blocked connect, TLS handshake, header or body read at once.
    """

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        ALARMS.add(self)

    def watch(self, sock: socket.socket) -> None:
        """Cut sock at the deadline; it is duplicated so a TLS wrapper taking over the descriptor changes nothing."""
        with self._lock:
            duplicate = sock.dup()
            self._sockets.append(duplicate)
            if self.expired:
                _cut(duplicate)

    def expire(self) -> None:
        """The deadline has passed: cut every connection, now and from now on."""
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _cut(sock)

    def close(self) -> None:
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()


class _Alarms:
    """One thread per process that expires each watchdog at its deadline.

    A timer thread started for each fetch took 0.1 ms, and 4 ms at the 90th percentile on a busy machine,
    where a new thread waits to be scheduled. A closed watchdog stays queued until its deadline, and expiring
    it then cuts nothing.
    """

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)  # a forked worker starts its own thread, with a clean queue

    def _reset(self) -> None:
        self._wake = threading.Condition()
        self._queue: list[tuple[float, int, Watchdog]] = []
        self._order = itertools.count()  # ties in deadline are taken in order, never by comparing watchdogs
        self._running = False

    def add(self, watchdog: Watchdog) -> None:
        with self._wake:
            if not self._running:
                threading.Thread(target=self._run, args=(self._wake, self._queue), daemon=True).start()
                self._running = True
            heapq.heappush(self._queue, (watchdog.deadline, next(self._order), watchdog))
            self._wake.notify()

    @staticmethod
    def _run(wake: threading.Condition, queue: list[tuple[float, int, Watchdog]]) -> None:
        with wake:
            while True:
                now = time.monotonic()
                while queue and queue[0][0] <= now:
                    heapq.heappop(queue)[2].expire()
                wake.wait(queue[0][0] - now if queue else None)


ALARMS = _Alarms()


def _cut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by the other side
        sock.shutdown(socket.SHUT_RDWR)


@dataclass
class Route:
    """One fetch's connection rules: the checked addresses of each (host, port), the watchdog, the wire limit."""

    watchdog: Watchdog
    wire_limit: int
    pins: dict[tuple[str, int], Sequence[str]] = field(default_factory=dict)


def wire_limit(max_bytes: int) -> int:
    """The bytes one answer may take off the connection for a page of at most max_bytes.

    Twice the page, for chunk framing and content a coding made larger (compressed HTML is a fifth of its size
    or less), plus the headers (http.client takes 100 lines of 64 KiB; real ones are a few KiB).
    """
    return 2 * max_bytes + 256 * 1024


class WireBudget(io.RawIOBase):
    """A socket's bytes for one answer, at most limit of them whatever the framing says: TooLarge past it.

    http.client and urllib3 believe the framing: a chunk size of -1 made http.client read to the end of the
    stream (192 MB of body grew the worker by 506 MB), and 100 Continue lines or empty gzip members can run
    until the deadline. Counting where the bytes leave the socket bounds every such path at once.
    """

    def __init__(self, raw: io.RawIOBase, limit: int) -> None:
        super().__init__()
        self._raw = raw
        self._limit = limit
        self._left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int | None:
        if self._left >= 0:  # once past the limit, every read is refused again
            count = self._raw.readinto(memoryview(buffer)[: self._left + 1])  # one byte past the limit, never more
            self._left -= count or 0
            if self._left >= 0:
                return count
        raise TooLarge(f"the site sent more than {self._limit} bytes for one page")

    def fileno(self) -> int:
        return self._raw.fileno()

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class Answer(http.client.HTTPResponse):
    """http.client's response read through a WireBudget, with interim (1xx) answers skipped to the final one."""

    wire_limit = 0  # each fetch's subclass sets its own (PinnedAdapter)

    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        self.fp = io.BufferedReader(WireBudget(self.fp.detach(), self.wire_limit))

    def _safe_read(self, amt: int) -> bytes:
        # urllib3 reads each chunk's data with this, its size parsed by int(line, 16), which takes "-10": with -1
        # http.client reads to the end of the stream, with any other negative BufferedReader raises ValueError.
        if amt < 0:
            raise FetchError("the page's chunked framing is broken (a negative chunk size)")
        data: bytes = super()._safe_read(amt)  # type: ignore[misc]  # http.client private, not in typeshed
        return data

    def begin(self) -> None:
        super().begin()
        # RFC 9110 section 15.2: a client parses any number of 1xx answers before the final one, asked for or not;
        # http.client skips only 100 Continue and would return 103 Early Hints as the answer. 101 ends HTTP on
        # the connection (text-mode never asks to switch), so it stays the answer, and is refused as a status.
        while 100 <= self.status < 200 and self.status != 101:
            self.headers = self.msg = None  # type: ignore[assignment]  # begin() reads an answer only before headers
            super().begin()


class _PinnedMixin:
    """Connect only to the addresses that were checked for this host, never to a fresh lookup."""

    route: Route
    host: str
    port: int
    timeout: Any
    source_address: Any
    socket_options: Any

    def _new_conn(self) -> socket.socket:
        key = (self.host.strip("[]").rstrip(".").lower(), self.port)
        addresses = self.route.pins.get(key)
        if not addresses:
            raise BlockedDestination("the destination was not checked")
        last: OSError | None = None
        for address in addresses:
            try:
                sock = urllib3.util.connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError:
                raise ConnectTimeoutError(self, "connecting to the site timed out") from None
            except OSError as error:
                last = error
                continue
            self.route.watchdog.watch(sock)
            return sock
        raise NewConnectionError(self, f"could not connect to the site: {_short(last)}")  # type: ignore[arg-type]


class PinnedAdapter(HTTPAdapter):
    """A requests adapter whose connections go to pinned addresses; TLS is still verified by name."""

    def __init__(self, route: Route) -> None:
        self._route = route
        super().__init__(max_retries=0)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **kwargs)
        answer = type("BudgetedAnswer", (Answer,), {"wire_limit": self._route.wire_limit})
        attrs = {"route": self._route, "response_class": answer}
        http_conn = type("PinnedHTTPConnection", (_PinnedMixin, HTTPConnection), attrs)
        https_conn = type("PinnedHTTPSConnection", (_PinnedMixin, HTTPSConnection), attrs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("PinnedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("PinnedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
        }


class _HandFollowedSession(requests.Session):
    """A session that sees no redirect anywhere: fetch() follows each hop itself, after checking it.

    Even with allow_redirects=False, requests' Session.send runs resolve_redirects for Response.next, which
    reads the whole body of a redirect into memory (a 302 with 192 MB took 385 MB) and parses its Location
    (`http://[::1` raised ValueError, a 500). No target means no such work.
    """

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        return None


def _new_session(route: Route, user_agent: str) -> requests.Session:
    session = _HandFollowedSession()
    session.trust_env = False  # no proxies or netrc from the environment
    adapter = PinnedAdapter(route)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update(
        {
            "User-Agent": user_agent,
            "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9,*/*;q=0.5",
            "Accept-Language": "en;q=1.0, *;q=0.5",
        }
    )
    return session


def fetch(url: str, *, policy: Policy) -> Page:
    """Fetch url under policy, following at most five redirects, each checked like the first."""
    start = time.monotonic()
    deadline = start + policy.timeout
    target = check_target(normalize_url(url), policy=policy)
    route = Route(Watchdog(deadline), wire_limit=wire_limit(policy.max_bytes))
    try:
        with _new_session(route, policy.user_agent) as session:
            for _hop in range(MAX_REDIRECTS + 1):
                route.pins[(target.host, target.port)] = checked_addresses(target, policy=policy, deadline=deadline)
                response = _send(session, target.url, watchdog=route.watchdog)
                location = response.headers.get("Location")
                if response.status_code in REDIRECT_STATUSES and location:
                    response.close()
                    target = _redirect_target(target.url, location, policy=policy)
                    continue
                try:
                    return _read_page(url, target.url, response, policy=policy, start=start, watchdog=route.watchdog)
                finally:
                    response.close()
    finally:
        route.watchdog.close()
    raise FetchError(f"more than {MAX_REDIRECTS} redirects", hint="The site redirects in a loop.")


def _redirect_target(current: str, location: str, *, policy: Policy) -> Target:
    """Check a redirect's Location like a URL a stranger typed; a bad one is the site's fault, not the user's."""
    try:
        return check_target(urljoin(current, location.strip()), policy=policy)
    except RefusedURL as error:
        raise BlockedDestination(f"the site redirects to a URL that is not allowed: {error.detail}") from None
    except BadURL as error:
        raise FetchError(f"the site redirects to a Location that is not a usable URL: {error.detail}") from None
    except ValueError as error:  # urljoin parses both URLs: `http://[::1` is "Invalid IPv6 URL"
        raise FetchError(f"the site redirects to a Location that cannot be parsed ({error})") from None


def _expired(watchdog: Watchdog, what: str) -> None:
    if watchdog.expired or time.monotonic() >= watchdog.deadline:
        raise UpstreamTimeout(f"{what} took too long")


def _send(session: requests.Session, url: str, *, watchdog: Watchdog) -> requests.Response:
    _expired(watchdog, "the fetch")
    remaining = max(0.001, watchdog.deadline - time.monotonic())
    sent = time.monotonic()
    log.info("--> GET %s", url)
    try:
        response = session.get(url, stream=True, allow_redirects=False, timeout=(remaining, remaining))
    except (requests.Timeout, urllib3.exceptions.TimeoutError):
        raise UpstreamTimeout("the site did not answer in time") from None
    except requests.exceptions.SSLError:
        _expired(watchdog, "the fetch")
        raise FetchError("the site's TLS certificate or handshake failed") from None
    except requests.RequestException as error:
        _expired(watchdog, "the fetch")
        raise FetchError(f"could not connect to the site ({_short(error)})") from None
    log.info("<-- %d %s (%d ms)", response.status_code, url, (time.monotonic() - sent) * 1000)
    return response


def _short(error: BaseException | None) -> str:
    """Name the kind of failure without echoing internal addresses."""
    text = str(error)
    for needle, said in (
        ("Connection refused", "connection refused"),
        ("reset", "connection reset"),
        ("Name or service not known", "name not found"),
        ("NameResolution", "name not found"),
        ("timed out", "timed out"),
        ("RemoteDisconnected", "the site closed the connection"),
        ("InvalidChunkLength", "the chunked framing is broken"),
        ("IncompleteRead", "the page was cut short"),
        ("unreachable", "network unreachable"),
    ):
        if needle in text:
            return said
    return type(error).__name__


def _read_page(
    url: str, final_url: str, response: requests.Response, *, policy: Policy, start: float, watchdog: Watchdog
) -> Page:
    status = response.status_code
    if status >= 400 or status < 200:
        _refuse_bot_check(response, policy=policy, watchdog=watchdog)
        raise UpstreamStatus(f"the site answered {status}", upstream_status=status)
    vendor = bot_check(status, response.headers, "")  # its headers; a small page's markup is read by extract
    if vendor:
        raise BlockedBySite(f"the site answered with a bot check instead of the page ({vendor})")
    if status in REDIRECT_STATUSES:
        raise FetchError(f"the site answered {status} without a Location to follow")
    mime, header_charset = _content_type(response.headers.get("Content-Type", ""))
    if mime and not _readable_type(mime) and mime not in ANY_FILE_TYPES:
        raise UnsupportedContent(f"the page is {mime[:100]}, not HTML or text")
    codings = _codings(response)
    if codings is None:
        raise FetchError("the page is compressed in a way text-mode does not read")
    declared = response.headers.get("Content-Length", "").strip()
    if declared.isdigit() and int(declared) > policy.max_bytes and codings in ([""], ["identity"]):
        raise TooLarge(f"the page is larger than {policy.max_bytes} bytes")
    sniff = _sniff if not mime else _only_pdf if mime in ANY_FILE_TYPES else None
    pieces = _pieces(response, codings, first=SNIFF_BYTES if sniff is not None else CHUNK)
    body = _read_body(pieces, policy=policy, watchdog=watchdog, sniff=sniff)
    if sniff is not None:
        mime = sniff(body)
    if mime in PDF_TYPES:
        elapsed_ms = (time.monotonic() - start) * 1000
        return Page(url, final_url, status, mime, "", "", False, elapsed_ms, pdf=body)
    text, charset = decode(body, header_charset=header_charset, is_html=mime not in TEXT_TYPES)
    return Page(
        url=url,
        final_url=final_url,
        status=status,
        content_type=mime,
        charset=charset,
        text=text,
        is_html=mime not in TEXT_TYPES,
        elapsed_ms=(time.monotonic() - start) * 1000,
    )


def _refuse_bot_check(response: requests.Response, *, policy: Policy, watchdog: Watchdog) -> None:
    """Raise BlockedBySite when an error answer is a bot check's page; read no more of it than one can be."""
    if response.status_code not in CHALLENGE_STATUSES and not bot_check(response.status_code, response.headers, ""):
        return
    codings = _codings(response)
    if codings is None:
        return
    try:
        limit = dataclasses.replace(policy, max_bytes=min(policy.max_bytes, MAX_CHALLENGE_BYTES))
        body = _read_body(_pieces(response, codings), policy=limit, watchdog=watchdog, sniff=None)
    except FetchError:
        return  # too large to be one, or cut short: the status says what there is to say
    vendor = bot_check(response.status_code, response.headers, body.decode("utf-8", "replace"))
    if vendor:
        raise BlockedBySite(f"the site answered {response.status_code} with a bot check instead of the page ({vendor})")


def _codings(response: requests.Response) -> list[str] | None:
    """The answer's content codings, or None when text-mode does not read them."""
    codings = [part.strip().lower() for part in response.headers.get("Content-Encoding", "").split(",")]
    if any(coding not in CONTENT_CODINGS for coding in codings) or ("br" in codings and len(codings) > 1):
        return None
    return codings


def _pieces(response: requests.Response, codings: list[str], *, first: int = CHUNK) -> Iterator[bytes]:
    """The decoded body, piece by piece; the first piece as soon as first bytes of it have come."""
    if codings == ["br"]:
        return _unbrotli(response.raw.stream(CHUNK, decode_content=False))
    if first < CHUNK:
        return _first_then_rest(response, first)
    return response.raw.stream(CHUNK, decode_content=True)


def _first_then_rest(response: requests.Response, first: int) -> Iterator[bytes]:
    # urllib3 fills a piece before it gives it: a file that trickles would be refused only at the deadline.
    yield response.raw.read(first, decode_content=True)
    yield from response.raw.stream(CHUNK, decode_content=True)


def _readable_type(mime: str) -> bool:
    """HTML, plain text, XML documents and PDFs; never images (image/svg+xml included), audio, video or files."""
    if mime in HTML_TYPES or mime in TEXT_TYPES or mime in XML_TYPES or mime in PDF_TYPES:
        return True
    return mime.startswith(("application/", "text/")) and mime.endswith("+xml")


def _content_type(header: str) -> tuple[str, str | None]:
    mime, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return mime.strip().lower(), charset


# What servers send for a file whose kind they do not know (S3 sends the second): read when it is a PDF.
ANY_FILE_TYPES = frozenset({"application/octet-stream", "binary/octet-stream"})
# Signatures of files that are not pages, for answers without a Content-Type (WHATWG MIME Sniffing).
BINARY_SIGNATURES = (
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"RIFF",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"BM",
    b"OggS",
    b"ID3",
    b"\x00\x00\x01\x00",
    b"wOFF",
    b"\x7fELF",
)
# A body's first piece when its first bytes say what it is: as long as the longest signature.
SNIFF_BYTES = max(len(PDF_SIGNATURE), *(len(signature) for signature in BINARY_SIGNATURES))


def _only_pdf(body: bytes) -> str:
    """The type of a body sent as a file of no stated kind (ANY_FILE_TYPES): a PDF, or UnsupportedContent.

    A first piece shorter than the signature passes when it is the signature's start.
    """
    if body[: len(PDF_SIGNATURE)] == PDF_SIGNATURE[: len(body)]:
        return "application/pdf"
    raise UnsupportedContent("the page is a file of no stated type, not HTML, text or a PDF")


def _sniff(body: bytes) -> str:
    """The type of a body sent without a Content-Type: HTML, text, PDF, or UnsupportedContent for another file."""
    if body.startswith(PDF_SIGNATURE):
        return "application/pdf"
    if body.startswith(BINARY_SIGNATURES) or b"\x00" in body[:4096]:
        raise UnsupportedContent("the page is a binary file, not HTML or text")
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"<"):
        return "text/html"
    return "text/plain"


def _unbrotli(raw: Iterator[bytes]) -> Iterator[bytes]:
    """A brotli body decoded CHUNK at a time.

    Not by urllib3: it decodes in bounded steps only while brotli's can_accept_more_data() is False, which
    brotli 1.2 answers True with megabytes still to come, and at the end of the body it decodes the rest in one
    call (a 14-byte body came out as 8 MB at once).
    """
    decoder = brotli.Decompressor()
    for data in raw:
        piece = decoder.process(data, output_buffer_limit=CHUNK)
        while piece:
            yield piece
            piece = decoder.process(b"", output_buffer_limit=CHUNK)


def _read_body(
    pieces: Iterator[bytes], *, policy: Policy, watchdog: Watchdog, sniff: Callable[[bytes], str] | None
) -> bytes:
    """Read the decoded body, stopping at the size limit or the wall-clock deadline; sniff, when given, may refuse
    the body by its first piece."""
    # One buffer, not a list of the pieces: urllib3 yields each chunk of a chunked body on its own, and a list of
    # two-byte chunks costs 43 bytes of memory for every 2 of page.
    body = bytearray()
    try:
        for chunk in pieces:
            if sniff is not None and not body and chunk:
                sniff(chunk)  # a file is refused at its first bytes, not after the whole of it
            if len(body) + len(chunk) > policy.max_bytes:
                raise TooLarge(f"the page is larger than {policy.max_bytes} bytes")
            body += chunk
            _expired(watchdog, "reading the page")
    except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
        raise UpstreamTimeout("the site stopped sending in time") from None
    except (urllib3.exceptions.DecodeError, brotli.error):
        _expired(watchdog, "reading the page")
        raise FetchError("the page's compression is broken") from None
    except (urllib3.exceptions.HTTPError, OSError) as error:
        _expired(watchdog, "reading the page")
        raise FetchError(f"the connection broke while reading the page ({_short(error)})") from None
    # A body that ends with the connection has no length to check: the watchdog cutting it must not pass as its end.
    _expired(watchdog, "reading the page")
    return bytes(body)


META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:\-]+)""", re.IGNORECASE)
BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# As browsers do (WHATWG Encoding): these labels mean windows-1252.
ALIASES = {"iso-8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252"}
# The encodings a browser knows (WHATWG Encoding), by Python's codec name. Anything else, such as utf-7
# (which spells "<" as "+ADw-"), unicode_escape or idna, is ignored as a lying label.
WEB_CODECS = frozenset(
    {"utf-8", "utf-16-le", "utf-16-be", "utf-16", "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255",
     "cp1256", "cp1257", "cp1258", "cp866", "cp874", "koi8-r", "koi8-u", "mac-roman", "mac-cyrillic", "gbk",
     "gb2312", "gb18030", "big5", "big5hkscs", "euc_jp", "iso2022_jp", "shift_jis", "cp932", "euc_kr", "cp949"}
    | {f"iso8859-{n}" for n in (2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16)}
)  # fmt: skip


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    label = ALIASES.get(label, label)
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return name if name in WEB_CODECS else None


def _decode_bytes(body: bytes, *, header_charset: str | None, is_html: bool) -> tuple[str, str]:
    """The bytes as text, by the first charset that fits: BOM, header, <meta>, UTF-8, detection, windows-1252."""
    for bom, name in BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(name, errors="replace"), name
    candidates: list[str | None] = [_codec(header_charset)]
    if is_html:
        match = META_CHARSET_RE.search(body[:4096])
        candidates.append(_codec(match.group(1).decode("ascii")) if match else None)
    for candidate in candidates:
        if candidate is None:
            continue
        try:
            return body.decode(candidate), candidate
        except (UnicodeDecodeError, LookupError):
            continue
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(body[:200_000]).best()
    encoding = _codec(str(best.encoding)) if best is not None and best.encoding else None
    if encoding is not None:
        return body.decode(encoding, errors="replace"), encoding
    return body.decode("cp1252", errors="replace"), "cp1252"  # not UTF-8 and no guess: the web's legacy default


# UTF-8 that was once decoded as windows-1252 and encoded again ("weâ€™re" for "we're"): a lead byte of a
# two- or three-byte sequence followed by what a continuation byte looks like in windows-1252.
MOJIBAKE_RE = re.compile(
    "[\u00c2-\u00f4]"
    "[\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)


def decode(body: bytes, *, header_charset: str | None, is_html: bool = True) -> tuple[str, str]:
    """Decode body: the BOM, the header's charset, a <meta> charset, UTF-8, detection, then windows-1252.

    Text that shows the marks of double-encoded UTF-8 is repaired (ftfy, which changes nothing it is not
    sure of); only such pages pay for it.
    """
    text, charset = _decode_bytes(body, header_charset=header_charset, is_html=is_html)
    if MOJIBAKE_RE.search(text):
        text = ftfy.fix_encoding(text)
    return text, charset
