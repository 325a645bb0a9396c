"""Maintainer tool: refresh the settings table in template/README.md.jinja.

The generated README carries a copy of the settings table (between the settings-table
markers) that the generated service's contract test compares with its Settings class
(tests/contract/_platform/test_settings_docs.py). When platform settings change, run

    uv run python docs/hooks/readme_settings.py

It renders every switch combination with marker answers, asks each rendered service for its
table (`python -m <package>._platform.settings_docs`), and writes the rows back with Jinja
conditionals. Not part of the docs site (mkdocs.yml excludes docs/hooks/).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from copier import run_copy

REPO = Path(__file__).resolve().parents[2]
README = REPO / "template" / "README.md.jinja"
BEGIN = "<!-- settings-table:begin (generated from the Settings class; do not edit) -->"
END = "<!-- settings-table:end -->"
MARKERS = {"service_name": "zqx-svc", "package_name": "zqx_svc", "http_port": 8765}


def _table(folder: Path, with_database: bool, with_kafka: bool) -> list[str]:
    run_copy(
        str(REPO),
        folder,
        data={**MARKERS, "with_database": with_database, "with_kafka": with_kafka},
        defaults=True,
        unsafe=True,
        skip_tasks=True,
        quiet=True,
    )
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    out = subprocess.run(
        ["uv", "run", "--quiet", "python", "-m", "zqx_svc._platform.settings_docs"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    return out.strip().splitlines()


def _jinja(row: str) -> str:
    return (
        row.replace("ZQX_SVC_", "{{ prefix }}")
        .replace("zqx-svc", "{{ service_name }}")
        .replace("zqx_svc", "{{ package_name }}")
        .replace("8765", "{{ http_port }}")
    )


def _condition(present: set[tuple[bool, bool]], row: str) -> str:
    if len(present) == 4:
        return ""
    if present == {(True, True), (True, False)}:
        return "with_database"
    if present == {(True, True), (False, True)}:
        return "with_kafka"
    if present == {(True, True)}:
        return "with_database and with_kafka"
    raise SystemExit(f"row in an unexpected set of combinations {present}: {row}")


def main() -> int:
    tables: dict[tuple[bool, bool], list[str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for db, kafka in itertools.product([True, False], repeat=2):
            tables[(db, kafka)] = _table(Path(tmp) / f"s-{db}-{kafka}", db, kafka)
    lines: list[str] = []
    current = ""  # the condition of the open {% if %} block, "" when none is open
    for row in tables[(True, True)]:
        present = {combo for combo, rows in tables.items() if row in rows}
        condition = _condition(present, row)
        if condition != current:
            if current:
                lines.append("{%- endif %}")
            if condition:
                lines.append(f"{{%- if {condition} %}}")
            current = condition
        lines.append(_jinja(row))
    if current:
        lines.append("{%- endif %}")
    text = README.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    README.write_text(text[:start] + "\n" + "\n".join(lines) + "\n" + text[end:], encoding="utf-8")
    sys.stdout.write(f"{README}: {len(lines)} rows\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
