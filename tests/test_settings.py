"""Every TEXT_MODE_* setting is checked at start-up: a good value is parsed, a bad one names its variable."""

from __future__ import annotations

import pytest

from app.settings import ConfigError, settings_from_env


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TEXT_MODE_FETCH_TIMEOUT", "soon"),
        ("TEXT_MODE_FETCH_TIMEOUT", "0"),
        ("TEXT_MODE_FETCH_TIMEOUT", "nan"),
        ("TEXT_MODE_FETCH_TIMEOUT", "inf"),
        ("TEXT_MODE_FETCH_TIMEOUT", "-5"),
        ("TEXT_MODE_MAX_BYTES", "5MB"),
        ("TEXT_MODE_MAX_BYTES", "12"),
        ("TEXT_MODE_MAX_BYTES", "99999999999999"),
        ("TEXT_MODE_ALLOW_PRIVATE", "maybe"),
        ("TEXT_MODE_ALLOW_PRIVATE", "2"),
        ("TEXT_MODE_ALLOWED_PORTS", ""),
        ("TEXT_MODE_ALLOWED_PORTS", "80,https"),
        ("TEXT_MODE_ALLOWED_PORTS", "0"),
        ("TEXT_MODE_ALLOWED_PORTS", "70000"),
        ("TEXT_MODE_CACHE", "redis://localhost"),
        ("TEXT_MODE_CACHE", "s3://"),
        ("TEXT_MODE_CACHE", "s3://Upper_Case"),
        ("TEXT_MODE_CACHE", "disk"),
        ("TEXT_MODE_CACHE_TTL", "0"),
        ("TEXT_MODE_CACHE_TTL", "ten minutes"),
        ("TEXT_MODE_CACHE_MAX_BYTES", "12"),
        ("TEXT_MODE_PREFIX", "/a b"),
        ("TEXT_MODE_PREFIX", "/default?x=1"),
        ("TEXT_MODE_PREFIX", "/default#top"),
        ("TEXT_MODE_PREFIX", "/de%66ault"),
        ("TEXT_MODE_PREFIX", "/a//b"),
        ("TEXT_MODE_PREFIX", "/../etc"),
        ("TEXT_MODE_PREFIX", "/$default"),
        ("TEXT_MODE_PREFIX", "/default\r\nX-Injected: 1"),
        ("TEXT_MODE_PREFIX", "/défaut"),
        ("TEXT_MODE_USER_AGENT", ""),
        ("TEXT_MODE_USER_AGENT", "   "),
        ("TEXT_MODE_USER_AGENT", "text-mode\r\nX-Injected: 1"),
        ("TEXT_MODE_USER_AGENT", "text-mode\nX-Injected: 1"),
        ("TEXT_MODE_USER_AGENT", "text-mode\rX-Injected: 1"),
        ("TEXT_MODE_USER_AGENT", "text-mode\x1b[2J"),
        ("TEXT_MODE_USER_AGENT", "text-mode\tbot"),
        ("TEXT_MODE_USER_AGENT", "text-mode 鳥"),
        ("TEXT_MODE_PDF_MAX_PAGES", "0"),
        ("TEXT_MODE_PDF_MAX_PAGES", "all"),
        ("TEXT_MODE_PDF_MAX_PAGES", "100000"),
    ],
)
def test_a_bad_setting_fails_naming_the_variable_and_its_value(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from_env({variable: value})
    assert str(raised.value).startswith(f"{variable}={value!r} ")  # repr: a CR or LF is shown, not written


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TEXT_MODE_PREFIX", "/a b",
         "TEXT_MODE_PREFIX='/a b' must be a plain path such as /default (letters, digits, '-', '.', '_', '~'), "
         "or empty"),
        ("TEXT_MODE_USER_AGENT", "bot\r\nX: 1",
         "TEXT_MODE_USER_AGENT='bot\\r\\nX: 1' must be one line of printable ASCII (no CR, LF or other control "
         "characters)"),
        ("TEXT_MODE_FETCH_TIMEOUT", "soon", "TEXT_MODE_FETCH_TIMEOUT='soon' is not valid"),
        ("TEXT_MODE_FETCH_TIMEOUT", "0", "TEXT_MODE_FETCH_TIMEOUT='0' must be a number of seconds between 0.1 and 120"),
    ],
)  # fmt: skip
def test_the_message_says_what_is_wrong_when_it_can(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from_env({variable: value})
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("variable", "value", "key", "parsed"),
    [
        ("TEXT_MODE_FETCH_TIMEOUT", "2.5", "FETCH_TIMEOUT", 2.5),
        ("TEXT_MODE_MAX_BYTES", "1048576", "MAX_BYTES", 1048576),
        ("TEXT_MODE_ALLOW_PRIVATE", "1", "ALLOW_PRIVATE", True),
        ("TEXT_MODE_ALLOW_PRIVATE", "off", "ALLOW_PRIVATE", False),
        ("TEXT_MODE_ALLOWED_PORTS", "443, 8443", "ALLOWED_PORTS", frozenset({443, 8443})),
        ("TEXT_MODE_CACHE", "memory", "CACHE", "memory"),
        ("TEXT_MODE_CACHE", " NONE ", "CACHE", "none"),
        ("TEXT_MODE_CACHE", "s3://my-bucket/text-mode/v1", "CACHE", "s3://my-bucket/text-mode/v1"),
        ("TEXT_MODE_CACHE", "s3://my-bucket", "CACHE", "s3://my-bucket"),
        ("TEXT_MODE_CACHE_TTL", "30", "CACHE_TTL", 30.0),
        ("TEXT_MODE_CACHE_MAX_BYTES", "1048576", "CACHE_MAX_BYTES", 1048576),
        ("TEXT_MODE_PREFIX", "/default", "PREFIX", "/default"),
        ("TEXT_MODE_PREFIX", "Prod", "PREFIX", "/Prod"),
        ("TEXT_MODE_PREFIX", " /Prod/ ", "PREFIX", "/Prod"),
        ("TEXT_MODE_PREFIX", "/api/v1.2/text_mode~x", "PREFIX", "/api/v1.2/text_mode~x"),
        ("TEXT_MODE_PREFIX", "", "PREFIX", ""),
        ("TEXT_MODE_PREFIX", "/", "PREFIX", ""),
        ("TEXT_MODE_USER_AGENT", "probe/2.0 (+https://example.org/bot; contact@example.org)", "USER_AGENT",
         "probe/2.0 (+https://example.org/bot; contact@example.org)"),
        ("TEXT_MODE_USER_AGENT", "  probe/2.0  ", "USER_AGENT", "probe/2.0"),
        ("TEXT_MODE_PDF_MAX_PAGES", "50", "PDF_MAX_PAGES", 50),
    ],
)  # fmt: skip
def test_a_good_setting_is_parsed(variable: str, value: str, key: str, parsed: object) -> None:
    assert settings_from_env({variable: value}) == {key: parsed}
