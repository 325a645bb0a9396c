"""copier.yml itself: every question is documented, typed, defaulted and validated; bad answers
are refused with the validator's message; the ownership globs are static and every
template-owned file a service gets says it is managed by the template."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml
from pathspec import PathSpec

from tests.support import REPO_ROOT, run
from tests.update_support import copy_working_tree


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("service_name=Order Service", "service_name must be kebab-case"),
        ("service_name=1svc", "service_name must be kebab-case"),
        ("service_name=", "service_name must be kebab-case"),
        ("service_name=" + "a" * 41, "service_name must be at most 40 characters"),
        ("package_name=asyncio", "would shadow a standard-library or dependency module"),
        ("package_name=" + "a" * 41, "package_name must be at most 40 characters"),
        ("package_name=Bad-Name", "package_name must be a lowercase Python identifier"),
        ("http_port=80", "http_port must be between 1024 and 65535"),
        ("team=Platform Team", "team must be lowercase letters"),
    ],
)
def test_invalid_answers_are_refused_with_the_validator_message(
    tmp_path: Path, answer: str, message: str
) -> None:
    copy = [sys.executable, "-m", "copier", "copy", "--defaults", "--trust", "-r", "HEAD"]
    result = run(tmp_path, *copy, "-d", answer, REPO_ROOT, tmp_path / "out", check=False)
    assert result.returncode != 0
    assert message in result.stderr + result.stdout
    assert not (tmp_path / "out" / "pyproject.toml").exists()


def test_every_question_has_help_type_default_and_validation() -> None:
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    questions = {k: v for k, v in config.items() if not k.startswith("_")}
    assert questions
    for name, spec in questions.items():
        assert spec.get("help"), f"{name} has no help"
        assert spec.get("type"), f"{name} has no type"
        assert "default" in spec, f"{name} has no default (breaks `copier update --defaults`)"
        if spec["type"] in {"str", "int"}:
            assert spec.get("validator") or spec.get("choices"), f"{name} is not validated"
    assert re.search(r"_subdirectory:\s*template", (REPO_ROOT / "copier.yml").read_text())


UPDATE_ONLY = re.compile(
    r"^\{%- if _copier_operation == 'update' %\}\n(?P<globs>.*)\n\{%- endif %\}$", re.DOTALL
)


def test_service_owned_globs_are_static() -> None:
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    skip = config["_skip_if_exists"]
    assert "src/*/domain/**" in skip
    assert not [glob for glob in skip if "{" in glob], "_skip_if_exists must use static globs"
    static = [glob for glob in config["_exclude"] if "{" not in glob]
    dynamic = [glob for glob in config["_exclude"] if "{" in glob]
    assert len(dynamic) == 1, "only the update-time exclusion of service-owned paths is Jinja"
    match = UPDATE_ONLY.match(dynamic[0])
    assert match, "the only Jinja allowed in _exclude is the test of _copier_operation"
    assert match["globs"].splitlines() == skip, "update-time exclusions = _skip_if_exists"
    assert "copier.yml" in static


# Formats without comments, and files that must not carry the header.
HEADERLESS_SUFFIXES = (".json", ".md")
HEADERLESS = {
    ".copier-answers.yml",  # Copier's own file, with its own "never edit" header
    "migrations/script.py.mako",  # copied into every new revision the team writes
}


def test_template_owned_files_say_so(tmp_path: Path) -> None:
    template = copy_working_tree(tmp_path / "copier-python-service")
    service = tmp_path / "all-switches-on"
    run(tmp_path, sys.executable, "-m", "copier", "copy", "--defaults", "--skip-tasks",
        str(template), str(service))  # fmt: skip
    config = yaml.safe_load((template / "copier.yml").read_text())
    service_owned = PathSpec.from_lines("gitignore", config["_skip_if_exists"])
    unmarked = []
    for path in sorted(service.rglob("*")):
        relpath = path.relative_to(service).as_posix()
        if (
            not path.is_file()
            or service_owned.match_file(relpath)
            or relpath in HEADERLESS
            or path.suffix in HEADERLESS_SUFFIXES
            or not path.read_text(encoding="utf-8").strip()  # empty package markers
        ):
            continue
        if "managed by copier-python-service" not in path.read_text()[:800].lower():
            unmarked.append(relpath)
    assert unmarked == []
