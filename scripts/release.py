"""Cut a release of copier-python-service: version bump, dated CHANGELOG section, tag.

Usage (platform team, in a clean checkout of the template's main branch):

    uv run scripts/release.py 0.2.0            # or --date 2026-12-24
    git push origin main 0.2.0                 # the script never pushes

What it does, or refuses to do with a one-line reason and nothing changed:
1. checks the version: canonical PEP 440, newer than pyproject.toml's and than every tag;
2. checks the git tree is clean and the CHANGELOG's "Unreleased" section has an entry that
   says whether teams must act (`**Team action**`);
3. renames that section to the version with the release date, and opens a new empty
   "Unreleased" section above it;
4. sets `version` in pyproject.toml, refreshes uv.lock (`uv lock`);
5. commits "Release X" and creates the annotated tag X, which is what services record.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
UNRELEASED = "## Unreleased"
EMPTY_UNRELEASED = (
    "Nothing yet. (Write here, in the same two headings, as you change the template.)"
)
VERSION_LINE = re.compile(r'^version = "(?P<version>[^"]+)"$', re.MULTILINE)
HEADING = re.compile(r"^## .+$", re.MULTILINE)


class ReleaseError(Exception):
    """Why the release cannot be cut; nothing was changed."""


def _git(*args: str) -> str:
    result = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        raise ReleaseError(f"git {args[0]} failed: {lines[-1] if lines else result.returncode}")
    return result.stdout


def _version(text: str) -> Version:
    try:
        version = Version(text)
    except InvalidVersion as exc:
        raise ReleaseError(f"{text!r} is not a PEP 440 version") from exc
    if str(version) != text:
        raise ReleaseError(f"write the version canonically: {version} (no prefix)")
    return version


def _newest_known() -> Version:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = VERSION_LINE.search(pyproject)
    if match is None:
        raise ReleaseError("pyproject.toml has no version line")
    known = [Version(match["version"])]
    for tag in _git("tag", "--list").split():
        try:
            known.append(Version(tag))
        except InvalidVersion:
            continue
    return max(known)


def dated_changelog(text: str, version: Version, date: dt.date) -> str:
    """The CHANGELOG with its Unreleased entry released as ``version`` on ``date``."""
    start = text.find(f"\n{UNRELEASED}\n")
    if start < 0:
        raise ReleaseError(f"CHANGELOG.md has no '{UNRELEASED}' section")
    body_start = start + len(UNRELEASED) + 2
    following = HEADING.search(text, body_start)
    body_end = following.start() if following else len(text)
    entry = text[body_start:body_end].strip()
    if not entry or entry == EMPTY_UNRELEASED:
        raise ReleaseError("the Unreleased section of CHANGELOG.md is empty: describe the release")
    if "**Team action**" not in entry:
        raise ReleaseError("the Unreleased entry does not say whether teams act (**Team action**)")
    released = f"## {version}\n\nReleased on {date.isoformat()}.\n\n{entry}\n\n"
    fresh = f"{UNRELEASED}\n\n{EMPTY_UNRELEASED}\n\n"
    return text[: start + 1] + fresh + released + text[body_end:]


def release(version_text: str, date: dt.date) -> str:
    version = _version(version_text)
    newest = _newest_known()
    if version <= newest:
        raise ReleaseError(f"{version} is not newer than {newest}")
    if _git("status", "--porcelain").strip():
        raise ReleaseError("the git tree is not clean: commit or stash first")
    changelog_path, pyproject_path = ROOT / "CHANGELOG.md", ROOT / "pyproject.toml"
    changelog = dated_changelog(changelog_path.read_text(encoding="utf-8"), version, date)
    pyproject = VERSION_LINE.sub(
        f'version = "{version}"', pyproject_path.read_text(encoding="utf-8"), count=1
    )
    changelog_path.write_text(changelog, encoding="utf-8")
    pyproject_path.write_text(pyproject, encoding="utf-8")
    lock = subprocess.run(["uv", "lock", "--quiet"], cwd=ROOT, capture_output=True, text=True)
    if lock.returncode != 0:
        _git("checkout", "--", "CHANGELOG.md", "pyproject.toml")
        raise ReleaseError(f"`uv lock` failed: {lock.stderr.strip().splitlines()[-1:]}")
    _git("add", "CHANGELOG.md", "pyproject.toml", "uv.lock")
    _git("commit", "--quiet", "-m", f"Release {version}")
    _git("tag", "--annotate", str(version), "-m", f"copier-python-service {version}")
    return f"released {version}: commit and tag made; publish with `git push origin HEAD {version}`"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Cut a release: bump, date, tag.")
    parser.add_argument("version", help="the new version, e.g. 0.2.0")
    parser.add_argument(
        "--date",
        type=dt.date.fromisoformat,
        default=dt.datetime.now(dt.UTC).date(),
        help="release date (default: today, UTC)",
    )
    args = parser.parse_args(argv)
    try:
        message = release(args.version, args.date)
    except ReleaseError as exc:
        sys.stderr.write(f"release: error: {exc}\n")
        return 2
    sys.stdout.write(message + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
