"""The README's commands and its curl example are the real ones, so they cannot rot."""

from __future__ import annotations

import re
from pathlib import Path

from tests.golden import PAGES, render_golden

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_first_two_commands_run_the_service_and_the_tests() -> None:
    block = README.split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands[:2] == ["make run", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_curl_example_shows_what_the_service_answers() -> None:
    block = README.split("```console\n", 1)[1].split("```", 1)[0]
    command, _, shown = block.partition("\n")
    match = re.search(r"width=(\d+)&url=https://example\.com/([\w-]+)'", command)
    assert match is not None
    width, name = int(match.group(1)), match.group(2)
    assert shown == render_golden(PAGES / f"{name}.html", width=width)


def test_every_setting_is_in_the_configuration_table() -> None:
    from app.settings import PARSERS

    for variable in [*PARSERS, "PORT", "WEB_CONCURRENCY", "AWS_LAMBDA_RUNTIME_API"]:
        assert f"| `{variable}` |" in README


def test_the_development_section_lists_every_module_once() -> None:
    section = README.split("## Development", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^- `(app/\w+\.py)`:", section, flags=re.MULTILINE)
    assert sorted(listed) == sorted(f"app/{path.name}" for path in (ROOT / "app").glob("*.py"))
