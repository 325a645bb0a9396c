"""Find generated services, read their recorded template version, list template releases."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from packaging.version import InvalidVersion, Version

ANSWERS_FILE = ".copier-answers.yml"
# Questions every copier-python-service answers file has; other templates are ignored.
MARKER_KEYS = frozenset({"service_name", "package_name", "with_database", "with_kafka"})
SKIP_DIRS = frozenset({".git", ".venv", "node_modules", "__pycache__", ".tox", ".nox"})
_DESCRIBE = re.compile(r"^(?P<base>.+)-(?P<count>\d+)-g(?P<hash>[0-9a-f]+)$")


class FleetError(Exception):
    """A problem the user can fix; shown as one line, never as a traceback."""


@dataclass(frozen=True)
class Service:
    """A service generated from this template."""

    path: Path
    name: str
    src_path: str
    commit: str
    answers: dict[str, Any] = field(compare=False, repr=False)

    @property
    def version(self) -> Version | None:
        return parse_version(self.commit)


def parse_version(ref: str) -> Version | None:
    """PEP 440 version of a recorded `_commit` (a tag, or `git describe` output)."""
    text = ref[1:] if ref[:1] in {"v", "V"} else ref
    match = _DESCRIBE.match(text)
    if match:
        text = f"{match['base']}.post{match['count']}+g{match['hash']}"
    try:
        return Version(text)
    except InvalidVersion:
        return None


def read_service(path: Path) -> Service | None:
    """Return the service at ``path``, or None when it was not generated from this template."""
    answers_path = path / ANSWERS_FILE
    try:
        answers = yaml.safe_load(answers_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if not isinstance(answers, dict) or not answers.keys() >= MARKER_KEYS:
        return None
    src, commit = answers.get("_src_path"), answers.get("_commit")
    if not isinstance(src, str) or not isinstance(commit, str):
        return None
    return Service(
        path=path,
        name=str(answers.get("service_name") or path.name),
        src_path=src,
        commit=commit,
        answers=answers,
    )


def discover(root: Path, max_depth: int = 4) -> list[Service]:
    """Every service under ``root`` (``root`` itself included), sorted by name."""
    if not root.is_dir():
        raise FleetError(f"{root} is not a directory")
    found = list(_walk(root.resolve(), max_depth))
    return sorted(found, key=lambda service: (service.name, str(service.path)))


def _walk(folder: Path, depth: int) -> Iterator[Service]:
    service = read_service(folder)
    if service is not None:
        yield service
        return  # services do not nest
    if depth <= 0:
        return
    try:
        children = sorted(entry for entry in folder.iterdir() if entry.is_dir())
    except OSError:
        return
    for child in children:
        if child.name not in SKIP_DIRS and not child.is_symlink():
            yield from _walk(child, depth - 1)


def git_url(src_path: str) -> str:
    """Turn Copier's source shorthands (gh:, gl:, git+...) into something git understands."""
    if src_path.startswith("gh:"):
        return f"https://github.com/{src_path[3:]}"
    if src_path.startswith("gl:"):
        return f"https://gitlab.com/{src_path[3:]}"
    if src_path.startswith("git+"):
        return src_path[4:]
    return os.path.expanduser(src_path)


@cache
def template_tags(src_path: str) -> dict[Version, str]:
    """Release versions (PEP 440 tags, no pre-releases) of a template, mapped to their tag."""
    try:
        result = subprocess.run(
            ["git", "ls-remote", "--tags", git_url(src_path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FleetError(f"cannot list the versions of template {src_path}: {exc}") from exc
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["git ls-remote failed"])[-1]
        raise FleetError(f"cannot list the versions of template {src_path}: {reason}")
    tags: dict[Version, str] = {}
    for line in result.stdout.splitlines():
        ref = line.partition("\t")[2].removeprefix("refs/tags/")
        if ref.endswith("^{}"):
            continue
        version = parse_version(ref)
        if version is not None and not version.is_prerelease and not version.local:
            tags[version] = ref
    return dict(sorted(tags.items()))


def newest_version(src_path: str) -> Version | None:
    tags = template_tags(src_path)
    return max(tags) if tags else None


def versions_behind(service: Service) -> int | None:
    """How many releases are newer than the service's recorded version (None: unknown)."""
    current = service.version
    if current is None:
        return None
    return sum(1 for version in template_tags(service.src_path) if version > current)
