"""What a reader asks for (the target, the format and the options), checked once, for service and command line."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.errors import BadRequest
from app.formats import FORMATS

if TYPE_CHECKING:
    from app.fetch import Policy
    from app.selectors import Selector

# Options for the terminal, refused with any other format: Markdown, JSON and HTML have their own emphasis and
# are read by software that takes Unicode, and transliterating Markdown would write markup the page never had
# (anyascii turns "＜b＞" into "<b>", "「x」" into "[x]" and "•" into "*").
TEXT_ONLY_SWITCHES = ("ascii", "ansi")


@dataclass(frozen=True)
class Options:
    """What the request asks for: the target and how to show it.

    Only the fields in the repr change an answer's bytes (and so its cache key); fresh and timeout change
    how it is got.
    """

    url: str
    format: str
    width: int
    ascii: bool = False
    ansi: bool = False
    selector: str = ""
    remove: str = ""
    pages: str = ""  # a PDF's page range as asked for ("3-7"), checked by app.pdf.parse_page_range
    fresh: bool = field(default=False, repr=False)
    timeout: float | None = field(default=None, repr=False)
    keep_selector: Selector | None = field(default=None, repr=False, compare=False)
    remove_selector: Selector | None = field(default=None, repr=False, compare=False)


def options_from(target: str | None, params: Mapping[str, str], *, default_format: Callable[[], str]) -> Options:
    """The options params name (query parameters, or what a header or a flag says), or BadRequest naming the bad one.

    default_format: the format when params name none (the service's Accept header, the command line's text).
    """
    raw_format = params.get("format", "").strip().lower()
    if raw_format and raw_format not in FORMATS:
        raise BadRequest(f"format={raw_format!r} is not known; use text, markdown, json or html")
    fmt = FORMATS[raw_format] if raw_format else default_format()
    raw_width = params.get("width", "").strip()
    width = 80
    if raw_width:
        if not raw_width.isdigit() or not (int(raw_width) == 0 or 20 <= int(raw_width) <= 200):
            raise BadRequest(f"width={raw_width!r} is not allowed; use 0 (no wrapping) or 20 to 200")
        width = int(raw_width)
    switches = {name: _switch(params, name) for name in TEXT_ONLY_SWITCHES}
    for name, on in switches.items():
        if on and fmt != "text":
            chosen = f"format={raw_format}" if raw_format else "chosen by the Accept header"
            raise BadRequest(
                f"{name}=1 is for the text format, not {fmt} ({chosen})", hint=f"Drop {name}=1, or add format=text."
            )
    selectors = {name: _selector(params.get(name, ""), option=name) for name in ("selector", "remove")}
    return Options(
        url=(target or "").strip(),
        format=fmt,
        width=width,
        ascii=switches["ascii"],
        ansi=switches["ansi"],
        selector=selectors["selector"].css if selectors["selector"] else "",
        remove=selectors["remove"].css if selectors["remove"] else "",
        pages=params.get("pages", "").strip(),
        fresh=_switch(params, "nocache"),
        timeout=_timeout(params.get("timeout", "")),
        keep_selector=selectors["selector"],
        remove_selector=selectors["remove"],
    )


def _selector(css: str, *, option: str) -> Selector | None:
    if not css.strip():
        return None
    from app.selectors import compile_selector  # cssselect and lxml: loaded by the first request that needs them

    return compile_selector(css, option=option)


# The longest wait a reader may ask for; the configured fetch deadline (and Lambda's) still caps it.
MAX_TIMEOUT = 600.0


def _timeout(raw: str) -> float | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= MAX_TIMEOUT:  # also refuses nan and inf
        raise BadRequest(
            f"timeout={raw[:50]!r} is not allowed; give seconds, more than 0 and at most {MAX_TIMEOUT:.0f}"
        )
    return seconds


def _switch(params: Mapping[str, str], name: str) -> bool:
    value = params.get(name, "").strip().lower()
    if value in {"", "0", "false", "no", "off"}:
        return False
    if value in {"1", "true", "yes", "on"}:
        return True
    raise BadRequest(f"{name}={value!r} is not allowed; use {name}=1 or {name}=0")


def policy_for(
    config: Mapping[str, Any], options: Options, *, deadline: float | None = None, allow_private: bool = False
) -> Policy:
    """Where and how the fetch may go: the settings, the timeout asked for (never past the configured one, nor
    past deadline seconds: a Lambda invocation's), and private addresses when the settings or the caller allow."""
    from app.fetch import Policy  # requests: loaded by the first fetch, not at start-up

    timeout = float(config["FETCH_TIMEOUT"])
    if options.timeout is not None:
        timeout = min(timeout, options.timeout)
    if deadline is not None:
        timeout = max(0.0, min(timeout, deadline))
    return Policy(
        timeout=timeout,
        max_bytes=int(config["MAX_BYTES"]),
        allow_private=allow_private or bool(config["ALLOW_PRIVATE"]),
        allowed_ports=frozenset(config["ALLOWED_PORTS"]),
        user_agent=str(config["USER_AGENT"]),
    )
