"""Caches of finished answers: in memory (bounded by bytes), none, or S3 shared by every instance; one fetch per page.

The factory builds one `ResultCache` per app; nothing here lives at module level. A backend never raises to the
view: a failed read is a miss and a failed write is logged, so the cache can only make an answer faster.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

log = logging.getLogger("text_mode.cache")

T = TypeVar("T")
Clock = Callable[[], float]

ENTRY_OVERHEAD = 400  # bytes a stored entry costs beyond its body and key: the objects and the dict slot
S3_LOCATION_RE = re.compile(r"s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<prefix>.*))?")
S3_PAUSE = 10.0  # seconds without S3 calls after one fails, so an outage costs one timeout, not one per request


@dataclass(frozen=True)
class Entry:
    """A finished answer as stored: its bytes, their media type, a strong ETag, and when it was made and expires."""

    body: bytes
    content_type: str
    etag: str
    stored_at: float
    expires_at: float

    @classmethod
    def make(cls, body: bytes, *, content_type: str, ttl: float, now: float) -> Entry:
        """An entry for body made now that stays fresh for ttl seconds; the ETag is a hash of the bytes."""
        etag = hashlib.sha256(body).hexdigest()[:32]
        return cls(body=body, content_type=content_type, etag=etag, stored_at=now, expires_at=now + ttl)

    def fresh(self, now: float) -> bool:
        return now < self.expires_at  # not stored_at <= now: another instance's clock may run a little ahead


class Backend(Protocol):
    """Where entries are kept. get returns None for a miss, an expired entry, or a failed read."""

    def get(self, key: str) -> Entry | None: ...

    def put(self, key: str, entry: Entry) -> None: ...


class NoCache:
    """TEXT_MODE_CACHE=none: every request is answered fresh."""

    def get(self, key: str) -> Entry | None:
        return None

    def put(self, key: str, entry: Entry) -> None:
        return None


class MemoryCache:
    """Entries in this process, least recently used dropped first once their bytes pass max_bytes."""

    def __init__(self, *, max_bytes: int, clock: Clock = time.time) -> None:
        self.max_bytes = max_bytes
        self.clock = clock
        self.size = 0
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def cost(key: str, entry: Entry) -> int:
        return len(entry.body) + len(key) + ENTRY_OVERHEAD

    def get(self, key: str) -> Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if not entry.fresh(self.clock()):
                self._discard(key)
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: Entry) -> None:
        cost = self.cost(key, entry)
        if cost > self.max_bytes:
            return  # larger than the whole cache: storing it would only evict everything else
        with self._lock:
            self._discard(key)
            self._entries[key] = entry
            self.size += cost
            while self.size > self.max_bytes:
                self._discard(next(iter(self._entries)))

    def _discard(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.size -= self.cost(key, entry)


class S3Cache:
    """Entries as objects in s3://bucket/prefix, shared by every instance; expiry from the object's metadata.

    boto3 reads the standard AWS configuration (credentials, region, AWS_ENDPOINT_URL). Each call has short
    timeouts and no retries; a failure is logged and S3 is left alone for S3_PAUSE seconds.
    """

    def __init__(self, location: str, *, clock: Clock = time.time) -> None:
        match = S3_LOCATION_RE.fullmatch(location)
        if match is None:
            raise ValueError(f"{location!r} is not an s3://bucket/prefix location")
        self.bucket = match.group("bucket")
        self.prefix = (match.group("prefix") or "").strip("/")
        self.clock = clock
        # Imported here, not at the top: only an S3 cache pays for loading boto3. Neither ships type hints.
        import boto3  # type: ignore[import-untyped]
        from botocore.config import Config  # type: ignore[import-untyped]
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        # Short timeouts and no retries: a slow cache must not hold an answer up.
        config = Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1, "mode": "standard"})
        self._client = boto3.session.Session().client("s3", config=config)
        self._client_error: type[Exception] = ClientError
        self._errors: tuple[type[Exception], ...] = (BotoCoreError, ClientError)
        self._paused_until = 0.0

    def object_key(self, key: str) -> str:
        """Keys hold URLs of any length and alphabet; the object is named by their hash."""
        name = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return f"{self.prefix}/{name}" if self.prefix else name

    def get(self, key: str) -> Entry | None:
        if self._paused():
            return None
        try:
            answer = self._client.get_object(Bucket=self.bucket, Key=self.object_key(key))
            body = answer["Body"].read()
        except self._errors as error:
            code = getattr(error, "response", {}).get("Error", {}).get("Code")
            if isinstance(error, self._client_error) and code in ("NoSuchKey", "404"):
                return None
            self._failed("read", error)
            return None
        meta = answer.get("Metadata", {})
        try:
            entry = Entry(
                body=body,
                content_type=str(answer.get("ContentType", "application/octet-stream")),
                etag=meta["etag"],
                stored_at=float(meta["stored-at"]),
                expires_at=float(meta["expires-at"]),
            )
        except (KeyError, ValueError):
            log.warning("cache object %s has no usable metadata; ignoring it", self.object_key(key))
            return None
        return entry if entry.fresh(self.clock()) else None

    def put(self, key: str, entry: Entry) -> None:
        if self._paused():
            return
        try:
            self._client.put_object(
                Bucket=self.bucket,
                Key=self.object_key(key),
                Body=entry.body,
                ContentType=entry.content_type,
                Metadata={
                    "etag": entry.etag,
                    "stored-at": f"{entry.stored_at:.3f}",
                    "expires-at": f"{entry.expires_at:.3f}",
                },
            )
        except self._errors as error:
            self._failed("write", error)

    def _paused(self) -> bool:
        return time.monotonic() < self._paused_until

    def _failed(self, what: str, error: Exception) -> None:
        self._paused_until = time.monotonic() + S3_PAUSE
        log.warning(
            "cache %s failed on s3://%s/%s (%s); answering fresh, S3 paused for %.0f s",
            what,
            self.bucket,
            self.prefix,
            error,
            S3_PAUSE,
        )


class TieredCache:
    """The process's memory in front of a shared backend: repeats in one instance never leave the process."""

    def __init__(self, near: MemoryCache, far: Backend) -> None:
        self.near = near
        self.far = far

    def get(self, key: str) -> Entry | None:
        entry = self.near.get(key)
        if entry is None:
            entry = self.far.get(key)
            if entry is not None:
                self.near.put(key, entry)
        return entry

    def put(self, key: str, entry: Entry) -> None:
        self.near.put(key, entry)
        self.far.put(key, entry)


@dataclass
class _Flight:
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    error: BaseException | None = None
    waiters: int = 0


class SingleFlight:
    """Runs one call per key at a time in this process; callers that arrive meanwhile wait for its result."""

    def __init__(self) -> None:
        self._flights: dict[str, _Flight] = {}
        self._lock = threading.Lock()
        self._joined = threading.Condition(self._lock)

    def run(self, key: str, call: Callable[[], T]) -> tuple[T, bool]:
        """The call's result (or its exception, raised), and whether this caller waited for another's call."""
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
            else:
                flight.waiters += 1
                self._joined.notify_all()
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return flight.value, True
        try:
            flight.value = call()
            return flight.value, False
        except BaseException as error:
            flight.error = error
            raise
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()

    def wait_for_waiters(self, key: str, count: int, *, timeout: float) -> bool:
        """Block until count callers wait for key's running call (True), or until timeout seconds pass (False).

        A caller counted here gets that call's result: it can no longer start a call of its own. Tests use it
        to know a burst has gathered without guessing a sleep.
        """
        with self._joined:
            return self._joined.wait_for(lambda: key in self._flights and self._flights[key].waiters >= count, timeout)


class Timings:
    """Durations of a request's stages, for the Server-Timing header."""

    def __init__(self) -> None:
        self.stages: list[tuple[str, float, str]] = []

    @contextmanager
    def stage(self, name: str, description: str = "") -> Iterator[None]:
        """Time the block, and record it even when it raises."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, (time.perf_counter() - started) * 1000, description)

    def add(self, name: str, milliseconds: float, description: str = "") -> None:
        self.stages.append((name, milliseconds, description))

    def header(self) -> str:
        parts = []
        for name, milliseconds, description in self.stages:
            desc = f';desc="{description}"' if description else ""
            parts.append(f"{name}{desc};dur={milliseconds:.1f}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Answer:
    """A finished answer and how it was got: "hit", "miss", or "shared" (waited for a concurrent fetch)."""

    entry: Entry
    how: str


class ResultCache:
    """Finished answers keyed by the page's final URL and the output's variant, with one fetch per page at a time.

    The final URL is known only after fetching, so the cache also remembers where each requested URL led:
    a repeat finds the final URL from the requested one, then the answer from the final URL and the variant.
    """

    def __init__(self, backend: Backend, *, ttl: float, clock: Clock = time.time) -> None:
        self.backend = backend
        self.ttl = ttl
        self.clock = clock
        self.flights = SingleFlight()

    def answer(
        self,
        url: str,
        variant: str,
        *,
        load: Callable[[], Any],
        final_url: Callable[[Any], str],
        render: Callable[[Any], tuple[bytes, str]],
        timings: Timings,
        loads_as: str = "",
        fresh: bool = False,
    ) -> Answer:
        """The answer for url in variant: from the cache, or loaded (once per url at a time), rendered and stored.

        load fetches and extracts (raising on failure, and then nothing is stored); render turns what load
        returned into (body, content type); final_url tells where the loaded page ended up. loads_as: what
        besides the url changes what load returns (a selector), so that only equal loads are shared.
        fresh: load again, whatever is stored, and replace it.
        """
        if not fresh:
            started = time.perf_counter()
            entry = self._lookup(url, variant)
            timings.add("cache", (time.perf_counter() - started) * 1000, "miss" if entry is None else "hit")
            if entry is not None:
                return Answer(entry, "hit")
        started = time.perf_counter()
        loaded, shared = self.flights.run(f"{url} {loads_as}" if loads_as else url, load)
        if shared:
            timings.add("cache", (time.perf_counter() - started) * 1000, "waited for the same page")
        with timings.stage("render"):
            body, content_type = render(loaded)
        entry = Entry.make(body, content_type=content_type, ttl=self.ttl, now=self.clock())
        final = final_url(loaded)
        with timings.stage("cache", "store"):
            self.backend.put(result_key(final, variant), entry)
            if final != url:
                location = final.encode("utf-8")
                self.backend.put(
                    alias_key(url),
                    Entry.make(location, content_type="text/uri-list", ttl=self.ttl, now=entry.stored_at),
                )
        return Answer(entry, "shared" if shared else "miss")

    def _lookup(self, url: str, variant: str) -> Entry | None:
        entry = self.backend.get(result_key(url, variant))
        if entry is not None:
            return entry
        alias = self.backend.get(alias_key(url))
        if alias is None:
            return None
        return self.backend.get(result_key(alias.body.decode("utf-8"), variant))


def result_key(final_url: str, variant: str) -> str:
    return f"answer {final_url} {variant}"


def alias_key(url: str) -> str:
    return f"location {url}"


def create_cache(spec: str, *, ttl: float, max_bytes: int) -> ResultCache:
    """The cache TEXT_MODE_CACHE names: "memory", "none", or "s3://bucket/prefix" (behind this process's memory)."""
    backend: Backend
    if spec == "none":
        backend = NoCache()
    elif spec == "memory":
        backend = MemoryCache(max_bytes=max_bytes)
    else:
        backend = TieredCache(MemoryCache(max_bytes=max_bytes), S3Cache(spec))
    return ResultCache(backend, ttl=ttl)


def parse_cache_setting(value: str) -> str:
    """TEXT_MODE_CACHE: "memory", "none", or an s3://bucket/prefix location."""
    value = value.strip()
    if value.lower() in ("memory", "none"):
        return value.lower()
    if S3_LOCATION_RE.fullmatch(value) is None:
        raise ValueError("must be memory, none, or s3://bucket/prefix (a bucket name of 3 to 63 a-z, 0-9, '.', '-')")
    return value


def parse_ttl(value: str) -> float:
    """TEXT_MODE_CACHE_TTL: how long an answer stays fresh, in seconds."""
    seconds = float(value)
    if not 1 <= seconds <= 7 * 24 * 3600:
        raise ValueError("must be a number of seconds between 1 and 604800 (a week)")
    return seconds
