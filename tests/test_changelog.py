"""CHANGELOG.md: one entry per PEP 440 release, each saying whether a team must act."""

from __future__ import annotations

import re
import tomllib

from packaging.version import Version

from tests.update_support import REPO_ROOT

HEADING = re.compile(r"^## (?P<title>.+)$", re.MULTILINE)


def _entries() -> dict[str, str]:
    text = (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    matches = list(HEADING.finditer(text))
    return {
        match["title"].strip(): text[match.end() : nxt.start() if nxt else len(text)]
        for match, nxt in zip(matches, [*matches[1:], None], strict=True)
    }


def test_every_release_is_pep440_newest_first_and_says_whether_to_act() -> None:
    entries = _entries()
    assert next(iter(entries)) == "Unreleased"
    releases = [title for title in entries if title != "Unreleased"]
    versions = [Version(title) for title in releases]
    assert [str(v) for v in versions] == releases, "use canonical PEP 440 versions, no prefix"
    assert versions == sorted(versions, reverse=True)
    for title in releases:
        assert "**Team action**" in entries[title], f"{title} does not say whether teams act"


def test_newest_release_is_the_package_version() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    newest = next(title for title in _entries() if title != "Unreleased")
    assert newest == pyproject["project"]["version"]
