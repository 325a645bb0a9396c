"""Benchmark 1: `copier copy` with default answers and `copier update` between two versions.

The template is this repo's working tree, snapshotted into a temporary git repo and tagged
twice (v1, then a small change to a template-owned file as v2). Median of 5 runs each.
Targets (issue 7): copy < 2 s, update < 5 s, not counting the step that locks and installs
dependencies, which is reported on its own lines:
- post-copy task: `hooks/post_copy.py` (git init, `uv lock`, first commit);
- install: `uv sync` with a warm uv cache;
- post-update migration: `uv lock` after the update (`hooks/post_update.py`).
To keep the lock out of the update figure, Copier runs with a PATH on which `uv` is absent
(the migration then skips the lock and says so); the lock is then timed on its own.

Run: UV_PYTHON_DOWNLOADS=never uv run python bench/generation.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from _common import Figure, copy_working_tree, env, out, report, run, timed, workdir

V1, V2 = "99.0.0", "99.0.1"  # far above real releases: no versioned migration runs


def copier_without_uv(tmp: Path) -> dict[str, str]:
    """An environment whose PATH has copier and git but no uv."""
    bin_dir = tmp / "bin-no-uv"
    bin_dir.mkdir()
    copier = shutil.which("copier")
    if copier is None:
        raise SystemExit("copier is not installed")
    real = Path(sys.executable).parent / "copier"
    (bin_dir / "copier").symlink_to(real if real.exists() else Path(copier).resolve())
    git = shutil.which("git")
    if git is None:
        raise SystemExit("git is not installed")
    (bin_dir / "git").symlink_to(git)
    return env(PATH=f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")


def build_template(tmp: Path) -> Path:
    tpl = copy_working_tree(tmp / "template-repo")
    run(["git", "tag", V1], cwd=tpl)
    matches = sorted((tpl / "template" / "src").glob("*/_platform/logs.py.jinja"))
    target = matches[0] if matches else tpl / "template" / "README.md.jinja"
    with target.open("a", encoding="utf-8") as fh:
        fh.write("# v2: a small template-owned change for the update benchmark\n")
    run(["git", "commit", "--quiet", "-am", "v2: small change"], cwd=tpl)
    run(["git", "tag", V2], cwd=tpl)
    return tpl


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    copy = Figure("copier copy --defaults (tasks skipped)", "s", target="< 2 s")
    post_copy = Figure("  post-copy task: git init + uv lock + commit", "s")
    install = Figure("  install: uv sync (warm cache)", "s")
    update = Figure(f"copier update {V1} -> {V2} (lock skipped)", "s", target="< 5 s")
    post_update = Figure("  post-update migration: uv lock", "s")

    with workdir("generation") as tmp:
        tpl = build_template(tmp)
        no_uv = copier_without_uv(tmp)
        # Warm-up (not measured): fills uv's cache and Python's bytecode caches.
        warm = tmp / "warm"
        run(["copier", "copy", "--trust", "--defaults", "--quiet", "--vcs-ref", V1, tpl, warm])
        run(["uv", "sync", "--quiet"], cwd=warm)

        for i in range(args.runs):
            dst = tmp / f"svc{i}"
            copy.samples.append(
                timed(
                    [
                        "copier",
                        "copy",
                        "--trust",
                        "--defaults",
                        "--quiet",
                        "--skip-tasks",
                        "--vcs-ref",
                        V1,
                        tpl,
                        dst,
                    ]
                )
            )
            post_copy.samples.append(
                timed([sys.executable, tpl / "hooks" / "post_copy.py"], cwd=dst)
            )
            install.samples.append(timed(["uv", "sync", "--quiet"], cwd=dst))
            status = run(["git", "status", "--porcelain"], cwd=dst).stdout.strip()
            if status:
                raise SystemExit(f"generated project is not clean after post-copy:\n{status}")
            update.samples.append(
                timed(
                    ["copier", "update", "--trust", "--defaults", "--quiet", "--vcs-ref", V2],
                    cwd=dst,
                    environ=no_uv,
                )
            )
            answers = (dst / ".copier-answers.yml").read_text()
            if f"_commit: {V2}" not in answers:
                raise SystemExit(f"update did not reach {V2}:\n{answers}")
            post_update.samples.append(timed(["uv", "lock", "--quiet"], cwd=dst))
            out(
                f"run {i + 1}/{args.runs}: copy {copy.samples[-1]:.2f} s, "
                f"update {update.samples[-1]:.2f} s"
            )

    figures = [copy, post_copy, install, update, post_update]
    report("generation", "Benchmark 1: generation (copier copy / copier update)", figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
