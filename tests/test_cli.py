"""`python -m app <source>` as a terminal user runs it: a real process, on a pipe and on a pseudo-terminal."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import ROOT
from tests.samples import OWLS as ARTICLE

ESC = "\x1b"


def run(*args: str, stdin: bytes = b"", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith(("TEXT_MODE_", "NO_COLOR"))}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        input=stdin.decode(),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**environ, **(env or {})},
        timeout=60,
    )


def on_a_terminal(*args: str, env: dict[str, str] | None = None) -> str:
    """What the command writes to a pseudo-terminal, as a reader's terminal would receive it."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith(("TEXT_MODE_", "NO_COLOR"))}
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", *args], stdout=follower, stderr=follower, cwd=ROOT, env={**environ, **(env or {})}
    )
    os.close(follower)
    output = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes with the process
            break
        if not chunk:
            break
        output += chunk
    process.wait(timeout=60)
    os.close(leader)
    return output.decode().replace("\r\n", "\n")


@pytest.fixture
def article_file(tmp_path: Path) -> Path:
    path = tmp_path / "owls.html"
    path.write_bytes(ARTICLE)
    return path


def test_a_page_from_the_web_is_printed_as_the_service_answers_it(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/owls").respond_with_data(ARTICLE, content_type="text/html; charset=utf-8")
    result = run(httpserver.url_for("/owls"), "--allow-private", "--width", "40")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("Owls at night\n=============\n")
    assert all(len(line) <= 40 for line in result.stdout.splitlines())
    assert f"[1] {httpserver.url_for('/more')}" in result.stdout


def test_a_file_and_stdin_are_read_with_base_url_for_their_links(article_file: Path) -> None:
    from_file = run(str(article_file), "--base-url", "https://example.com/birds/")
    from_stdin = run("-", "--base-url", "https://example.com/birds/", stdin=article_file.read_bytes())
    assert from_file.returncode == from_stdin.returncode == 0
    assert from_file.stdout == from_stdin.stdout
    assert "\n[1] https://example.com/more\n" in from_file.stdout  # /more, against the base URL given
    assert "The first paragraph is about owls" in from_file.stdout


@pytest.mark.parametrize(
    ("args", "check"),
    [
        (["--format", "json"], lambda out: json.loads(out)["title"] == "Owls at night"),
        (["--format", "markdown"], lambda out: out.startswith("# Owls at night\n")),
        (["--selector", "h1"], lambda out: "The first paragraph" not in out),
        (["--remove", "p"], lambda out: "The first paragraph" not in out),
    ],
)
def test_the_options_mirror_the_service(article_file: Path, args: list[str], check: object) -> None:
    result = run(str(article_file), *args)
    assert result.returncode == 0, result.stderr
    assert callable(check) and check(result.stdout)


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["ftp://example.com/a"], 2, "text-mode: the scheme 'ftp' is not supported"),
        (["FILE", "--width", "7"], 2, "text-mode: width='7' is not allowed"),
        (["FILE", "--selector", "div >"], 2, "text-mode: selector 'div >' is not a CSS selector"),
        (["FILE", "--format", "json", "--ansi"], 2, "text-mode: ansi=1 is for the text format"),
        (["http://127.0.0.1/a"], 3, "text-mode: "),  # loopback, refused without --allow-private
        (["http://127.0.0.1:9/a", "--allow-private"], 4, "text-mode: "),  # nothing listens on port 9
        (["FILE", "--selector", ".comments"], 5, "text-mode: the selector '.comments' matched nothing in the page"),
        (["-"], 5, "text-mode: "),  # empty stdin: nothing readable
    ],
)
def test_each_kind_of_error_has_its_exit_status_and_one_line_on_stderr(
    article_file: Path, args: list[str], status: int, message: str
) -> None:
    result = run(*[str(article_file) if arg == "FILE" else arg for arg in args])
    assert (result.returncode, result.stdout) == (status, "")
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_a_bad_setting_is_bad_input_naming_the_variable(article_file: Path) -> None:
    result = run(str(article_file), env={"TEXT_MODE_MAX_BYTES": "lots"})
    assert result.returncode == 2
    assert result.stderr.startswith("text-mode: TEXT_MODE_MAX_BYTES")


def test_styling_is_on_for_a_terminal_and_off_for_a_pipe_or_no_color(article_file: Path) -> None:
    assert ESC in on_a_terminal(str(article_file))
    assert ESC not in on_a_terminal(str(article_file), env={"NO_COLOR": "1"})
    assert ESC not in on_a_terminal(str(article_file), "--no-ansi")
    piped = run(str(article_file))
    assert piped.returncode == 0
    assert ESC not in piped.stdout
    assert ESC in run(str(article_file), "--ansi").stdout


def test_help_lists_the_options_and_the_exit_statuses() -> None:
    result = run("--help")
    assert result.returncode == 0
    for flag in ("--width", "--format", "--ascii", "--ansi", "--selector", "--remove", "--timeout", "--base-url"):
        assert flag in result.stdout
    for status in ("2  bad input", "3  refused destination", "4  the page could not be fetched", "5  nothing readable"):
        assert status in result.stdout


def test_a_closed_pipe_ends_the_command_quietly(article_file: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "app", str(article_file), "--width", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # as `| head -0` does
    assert process.wait(timeout=60) == 0
    assert b"Traceback" not in process.stderr.read()


def test_html_from_stdin_without_an_address_has_no_address_line(article_file: Path) -> None:
    text = run("-", stdin=article_file.read_bytes())
    markdown = run("-", "--format", "markdown", stdin=article_file.read_bytes())
    assert text.stdout.startswith("Owls at night\n=============\nAda Owl · Bird News\n\n")
    assert markdown.stdout.startswith("# Owls at night\n\n*Ada Owl · Bird News*\n\n")
    assert "<>" not in markdown.stdout


def test_a_pdf_from_the_web_is_printed_too(httpserver: HTTPServer) -> None:
    from tests.pdfs import owls_pdf

    httpserver.expect_request("/owls.pdf").respond_with_data(owls_pdf(), content_type="application/pdf")
    result = run(httpserver.url_for("/owls.pdf"), "--allow-private", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert "PDF" in json.loads(result.stdout)["site_name"]
