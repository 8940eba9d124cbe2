"""Settings: the defaults and the TEXT_MODE_* environment variables, validated once at start-up."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from app.cache import parse_cache_setting, parse_ttl

DEFAULT_PORTS = frozenset({80, 443, 8080, 8443})
# The largest page read, in decoded bytes (README, "The size limit"): the largest of the 641 benchmark pages is
# 1.6 MiB and a shop's product page with its inline JSON passes 5 MiB; the costliest 10 MiB page measured
# (markup just under extract.MAX_ELEMENTS) grew a worker by 360 to 380 MiB, which the 512 MB Lambda holds.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024

DEFAULTS: dict[str, Any] = {
    "PREFIX": "/default",
    "FETCH_TIMEOUT": 10.0,
    "MAX_BYTES": DEFAULT_MAX_BYTES,
    "ALLOW_PRIVATE": False,
    "ALLOWED_PORTS": DEFAULT_PORTS,
    "USER_AGENT": "text-mode/1.0 (+https://github.com/text-mode/text-mode; reader mode for the terminal)",
    "CACHE": "memory",
    "CACHE_TTL": 600.0,
    "CACHE_MAX_BYTES": 64 * 1024 * 1024,
    "PDF_MAX_PAGES": 300,
}


class ConfigError(Exception):
    """A setting has a value the service cannot start with; the message names the variable."""


# Path segments of RFC 3986's unreserved characters, "." and ".." excepted: what an API Gateway stage or base
# path is made of, and nothing a URL, a route rule or a log line would read another way.
PREFIX_RE = re.compile(r"(?:/(?!\.\.?(?:/|$))[A-Za-z0-9._~-]+)*")


def _prefix(value: str) -> str:
    value = value.strip().rstrip("/")
    if value and not value.startswith("/"):
        value = "/" + value
    if PREFIX_RE.fullmatch(value) is None:
        raise ValueError("must be a plain path such as /default (letters, digits, '-', '.', '_', '~'), or empty")
    return value


def _seconds(value: str) -> float:
    seconds = float(value)
    if not 0.1 <= seconds <= 120:
        raise ValueError("must be a number of seconds between 0.1 and 120")
    return seconds


def _byte_count(value: str) -> int:
    count = int(value)
    if not 1024 <= count <= 1024**3:
        raise ValueError("must be a whole number of bytes between 1024 and 1073741824")
    return count


def _page_count(value: str) -> int:
    count = int(value)
    if not 1 <= count <= 10_000:
        raise ValueError("must be a whole number of pages between 1 and 10000")
    return count


def _flag(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"", "0", "false", "no", "off"}:
        return False
    raise ValueError("must be 1 or 0 (also true/false, yes/no, on/off)")


def _ports(value: str) -> frozenset[int]:
    ports = frozenset(int(part) for part in value.replace(",", " ").split())
    if not ports or not all(0 < port < 65536 for port in ports):
        raise ValueError("must list port numbers between 1 and 65535, separated by commas")
    return ports


def _user_agent(value: str) -> str:
    # A header value: CR or LF would end it and start another (header injection); http.client encodes
    # latin-1 only, so "鳥" would fail every fetch; RFC 9110 (5.5) keeps other controls and non-ASCII as
    # obsolete or invalid field content. Printable ASCII is what every origin reads.
    value = value.strip()
    if not value or not all(" " <= c <= "~" for c in value):
        raise ValueError("must be one line of printable ASCII (no CR, LF or other control characters)")
    return value


PARSERS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "TEXT_MODE_PREFIX": ("PREFIX", _prefix),
    "TEXT_MODE_FETCH_TIMEOUT": ("FETCH_TIMEOUT", _seconds),
    "TEXT_MODE_MAX_BYTES": ("MAX_BYTES", _byte_count),
    "TEXT_MODE_ALLOW_PRIVATE": ("ALLOW_PRIVATE", _flag),
    "TEXT_MODE_ALLOWED_PORTS": ("ALLOWED_PORTS", _ports),
    "TEXT_MODE_USER_AGENT": ("USER_AGENT", _user_agent),
    "TEXT_MODE_CACHE": ("CACHE", parse_cache_setting),
    "TEXT_MODE_CACHE_TTL": ("CACHE_TTL", parse_ttl),
    "TEXT_MODE_CACHE_MAX_BYTES": ("CACHE_MAX_BYTES", _byte_count),
    "TEXT_MODE_PDF_MAX_PAGES": ("PDF_MAX_PAGES", _page_count),
}


def settings_from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    """Return the settings named by TEXT_MODE_* variables, or raise ConfigError naming a bad one."""
    settings: dict[str, Any] = {}
    for variable, (key, parse) in PARSERS.items():
        raw = environ.get(variable)
        if raw is None:
            continue
        try:
            settings[key] = parse(raw)
        except ValueError as error:
            reason = str(error) if "must" in str(error) else "is not valid"
            raise ConfigError(f"{variable}={raw!r} {reason}") from None
    return settings
