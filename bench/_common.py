"""Shared plumbing for the benchmarks: generated services, timing, tables and JSON results.

Every benchmark is one script run from the template repo root, e.g.
`UV_PYTHON_DOWNLOADS=never uv run python bench/generation.py`. Each prints a table and writes
`bench/results/<name>.json` (machine, date, template commit, figures). `bench/report.py` turns
the JSON files into `docs/performance.md`.

Figures are medians of several runs with min and max, or ratios measured in the same run:
the machines here are shared and noisy.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS = REPO_ROOT / "bench" / "results"
PG_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://app:app@127.0.0.1:5432/app")

# Commands and their environment, ports, waiting for HTTP, stopping processes, scratch databases,
# the mock broker and the template snapshot come from the template repo's one harness
# (tests/support.py, tests/update_support.py).
sys.path.insert(0, str(REPO_ROOT))
from tests import support  # noqa: E402
from tests.support import create_database as create_database  # noqa: E402
from tests.support import free_port as free_port  # noqa: E402
from tests.support import git_env as env  # noqa: E402
from tests.support import start_mock_broker as start_mock_broker  # noqa: E402
from tests.support import stop as stop  # noqa: E402
from tests.support import wait_for_http as wait_for_http  # noqa: E402
from tests.update_support import copy_working_tree as copy_working_tree  # noqa: E402


def run(
    args: Sequence[str | Path],
    cwd: Path | None = None,
    environ: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """tests.support.run in env() (or `environ`), without a time limit."""
    return support.run(cwd, *args, check=check, timeout=None, environ=environ or env())


def timed(args: Sequence[str | Path], cwd: Path | None = None, **kw: Any) -> float:
    start = time.perf_counter()
    run(args, cwd=cwd, **kw)
    return time.perf_counter() - start


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --- statistics and output --------------------------------------------------------------


@dataclass
class Figure:
    """One row of a benchmark table: a median with min/max, or a single value."""

    name: str
    unit: str
    samples: list[float] = field(default_factory=list)
    target: str = ""
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "unit": self.unit,
            "median": self.median,
            "min": min(self.samples),
            "max": max(self.samples),
            "runs": len(self.samples),
            "samples": self.samples,
            "target": self.target,
            "note": self.note,
        }


def fmt(value: float, unit: str) -> str:
    """A figure as the tables print it and docs/performance.md shows it."""
    if unit == "%":
        return f"{value:.1f} %"
    if unit == "s":
        return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "us":
        return f"{value:.0f} µs"
    if unit == "x":
        return f"{value:.2f} x"
    return f"{value:,.0f} {unit}"


def table(title: str, figures: Sequence[Figure]) -> str:
    rows = [("figure", "median", "min", "max", "runs", "target", "note")]
    for f in figures:
        rows.append(
            (
                f.name,
                fmt(f.median, f.unit),
                fmt(min(f.samples), f.unit),
                fmt(max(f.samples), f.unit),
                str(len(f.samples)),
                f.target,
                f.note,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [title, "=" * len(title)]
    for i, r in enumerate(rows):
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    mem_gb = 0.0
    meminfo = Path("/proc/meminfo")
    if meminfo.is_file():
        first = meminfo.read_text().splitlines()[0].split()
        mem_gb = round(int(first[1]) / 1024 / 1024, 1)
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gb": mem_gb,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def template_commit() -> str:
    result = run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, check=False)
    dirty = run(["git", "status", "--porcelain"], cwd=REPO_ROOT, check=False).stdout.strip()
    return result.stdout.strip() + ("+dirty" if dirty else "")


def report(
    name: str, title: str, figures: Sequence[Figure], extra: dict[str, Any] | None = None
) -> Path:
    """Print the table and write bench/results/<name>.json."""
    out(table(title, figures))
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {
        "benchmark": name,
        "title": title,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "template_commit": template_commit(),
        "machine": machine(),
        "figures": [f.as_dict() for f in figures],
        **(extra or {}),
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    out(f"\nwritten: {path.relative_to(REPO_ROOT)}")
    return path


# --- generated services -------------------------------------------------------------------


@contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"cps-bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def generate(
    dst: Path, answers: dict[str, str] | None = None, sync: bool = True, vcs_ref: str | None = None
) -> Path:
    """`copier copy --defaults` of the working tree (or of the commit `vcs_ref`) into dst, then
    `uv sync` there."""
    data: list[str] = []
    for key, value in (answers or {}).items():
        data += ["--data", f"{key}={value}"]
    if vcs_ref:
        data += ["--vcs-ref", vcs_ref]
    run(["copier", "copy", "--trust", "--defaults", "--quiet", *data, REPO_ROOT, dst])
    if sync:
        run(["uv", "sync", "--quiet"], cwd=dst)
    return dst


def answers(project: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (project / ".copier-answers.yml").read_text().splitlines():
        key, sep, value = line.partition(":")
        if sep and not key.startswith("#"):
            values[key.strip()] = value.strip().strip("'\"")
    return values


def features(project: Path) -> tuple[bool, bool]:
    """(with_database, with_kafka) of a generated project."""
    a = answers(project)
    return a.get("with_database") == "true", a.get("with_kafka") == "true"


def env_prefix(project: Path) -> str:
    return answers(project)["service_name"].upper().replace("-", "_") + "_"
