"""Every TEXT_MODE_* setting is checked at start-up: a good value is parsed, a bad one names its variable."""

from __future__ import annotations

import pytest

from app.settings import DEFAULT_PORTS, ConfigError, settings_from_env


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
        ("TEXT_MODE_PDF_MAX_PAGES", "0"),
        ("TEXT_MODE_PDF_MAX_PAGES", "all"),
        ("TEXT_MODE_PDF_MAX_PAGES", "100000"),
    ],
)
def test_a_bad_setting_fails_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        settings_from_env({variable: value})


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
        ("TEXT_MODE_PDF_MAX_PAGES", "50", "PDF_MAX_PAGES", 50),
    ],
)
def test_a_good_setting_is_parsed(variable: str, value: str, key: str, parsed: object) -> None:
    assert settings_from_env({variable: value}) == {key: parsed}


def test_the_default_ports_are_the_web_ports() -> None:
    assert frozenset({80, 443, 8080, 8443}) == DEFAULT_PORTS
