"""The deploy files, checked as far as a machine without Docker or AWS can: real linters, a real parser."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
import tree_sitter
import tree_sitter_earthfile
import yaml

from app.__main__ import HANDLER
from app.routes import LAMBDA_MARGIN
from app.settings import DEFAULTS

ROOT = Path(__file__).parent.parent
BIN = Path(sys.executable).parent


def run(*command: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in command], cwd=ROOT, capture_output=True, text=True, timeout=120)


def instructions(dockerfile: str) -> list[str]:
    """A Dockerfile's instructions, comments and blank lines left out."""
    text = (ROOT / dockerfile).read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "Dockerfile.local"])
def test_hadolint_passes_and_would_catch_an_untagged_base_image(dockerfile: str, tmp_path: Path) -> None:
    result = run(BIN / "hadolint", "--no-color", dockerfile)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
    untagged = (ROOT / dockerfile).read_text().replace("lambda/python:3.13", "lambda/python")
    (tmp_path / "Dockerfile").write_text(untagged)
    broken = run(BIN / "hadolint", "--no-color", tmp_path / "Dockerfile")
    assert broken.returncode != 0
    assert "DL3006" in broken.stdout  # the same file with its base image untagged: so the pass above means something


def test_the_image_installs_requirements_before_the_code_and_runs_the_handler() -> None:
    steps = instructions("Dockerfile")
    assert steps[0] == "FROM public.ecr.aws/lambda/python:3.13"
    requirements = next(i for i, step in enumerate(steps) if "--requirement" in step)
    code = next(i for i, step in enumerate(steps) if step.startswith("COPY app/"))
    assert steps[requirements - 1].startswith("COPY requirements.txt ")
    assert requirements < code
    assert steps[-1] == f"CMD {json.dumps([HANDLER])}"


def test_the_handler_the_image_names_imports_in_a_fresh_process() -> None:
    (handler,) = json.loads(instructions("Dockerfile")[-1].removeprefix("CMD "))
    module, _, name = handler.rpartition(".")
    env = {"PATH": os.environ["PATH"], "AWS_LAMBDA_FUNCTION_NAME": "text-mode"}
    result = subprocess.run(
        [sys.executable, "-c", f"import {module} as m; assert callable(m.{name})"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_the_local_image_is_the_same_image_with_the_entrypoint_replaced() -> None:
    lambda_steps, local_steps = instructions("Dockerfile"), instructions("Dockerfile.local")
    assert local_steps[: len(lambda_steps) - 1] == lambda_steps[:-1]
    assert local_steps[len(lambda_steps) - 1 :] == [
        'ENV AWS_LAMBDA_RUNTIME_API=""',
        "EXPOSE 8080",
        'ENTRYPOINT ["python", "-m", "app"]',
        "CMD []",
    ]


def load_template() -> dict[str, Any]:
    class TemplateLoader(yaml.SafeLoader):
        pass

    def intrinsic(loader: yaml.SafeLoader, tag: str, node: yaml.Node) -> dict[str, Any]:
        value = loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None
        return {tag: value}

    TemplateLoader.add_multi_constructor("!", intrinsic)
    template: dict[str, Any] = yaml.load((ROOT / "template.yaml").read_text(), Loader=TemplateLoader)
    return template


def test_cfn_lint_passes_and_would_catch_a_bad_package_type(tmp_path: Path) -> None:
    result = run(BIN / "cfn-lint", "template.yaml")
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
    broken = (ROOT / "template.yaml").read_text().replace("PackageType: Image", "PackageType: Docker")
    (tmp_path / "template.yaml").write_text(broken)
    result = run(BIN / "cfn-lint", tmp_path / "template.yaml")
    assert result.returncode != 0
    assert "'Docker' is not one of ['Image', 'Zip']" in result.stdout


def test_the_template_is_an_http_api_stage_default_with_a_catch_all_route() -> None:
    resources = load_template()["Resources"]
    assert resources["HttpApi"] == {"Type": "AWS::Serverless::HttpApi", "Properties": {"StageName": "default"}}
    function = resources["TextModeFunction"]["Properties"]
    assert function["PackageType"] == "Image"
    assert function["MemorySize"] == 512
    # No Path and no Method: SAM makes the $default route, which also takes /default/ itself.
    assert function["Events"] == {
        "Everything": {
            "Type": "HttpApi",
            "Properties": {"ApiId": {"Ref": "HttpApi"}, "PayloadFormatVersion": "2.0"},
        }
    }
    fetch_timeout = float(function["Environment"]["Variables"]["TEXT_MODE_FETCH_TIMEOUT"])
    assert fetch_timeout == DEFAULTS["FETCH_TIMEOUT"]
    assert fetch_timeout + LAMBDA_MARGIN < function["Timeout"] < 29  # API Gateway gives up at 29 s
    assert function["Environment"]["Variables"]["TEXT_MODE_PREFIX"] == "/default"


def parse_earthfile(text: bytes) -> tree_sitter.Tree:
    with warnings.catch_warnings():  # tree-sitter-earthfile 0.6.0 hands its grammar over as an int, now deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        language = tree_sitter.Language(tree_sitter_earthfile.language())
    return tree_sitter.Parser(language).parse(text)


def earthfile_targets() -> dict[str, str]:
    tree = parse_earthfile((ROOT / "Earthfile").read_bytes())
    assert not tree.root_node.has_error
    targets = {}
    for node in tree.root_node.children:
        if node.type == "target":
            name = node.child_by_field_name("name") or node.children[0]
            targets[(name.text or b"").decode()] = (node.text or b"").decode()
    return targets


def test_the_earthfile_parses_with_the_targets_the_readme_names() -> None:
    assert (ROOT / "Earthfile").read_text().startswith("VERSION 0.8\n")
    broken = (ROOT / "Earthfile").read_bytes().replace(b"    FROM +deps", b"    FROM +deps (")
    assert parse_earthfile(broken).root_node.has_error  # the parser does see a broken line of this file
    targets = earthfile_targets()
    assert list(targets) == ["deps", "build", "test", "docker", "local-image", "deploy"]
    assert "SAVE IMAGE --push $REGISTRY/text-mode:$TAG" in targets["docker"]
    assert f"CMD {json.dumps([HANDLER])}" in targets["docker"]
    assert "SAVE IMAGE text-mode:latest" in targets["local-image"]
    assert 'ENTRYPOINT ["python", "-m", "app"]' in targets["local-image"]
    assert "python -m pytest" in targets["test"]
    assert "aws lambda update-function-code" in targets["deploy"]
    assert "--mount=type=secret,id=aws_credentials" in targets["deploy"]
    for name in ("FUNCTION_NAME", "REGION", "IMAGE_URI"):
        assert f"ARG --required {name}" in targets["deploy"]
