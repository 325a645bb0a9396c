"""Render bench/results/*.json into docs/performance.md (between its generated markers).

Run: uv run python bench/report.py   (after one or more benchmarks)
Only the block between `<!-- bench:begin -->` and `<!-- bench:end -->` is rewritten; the
analysis around it is written by hand.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from _common import REPO_ROOT, RESULTS, fmt

DOC = REPO_ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
ORDER = [
    ("generation", "1", "bench/generation.py"),
    ("consumer_overhead", "2", "bench/consumer_overhead.py"),
    ("consumer_db", "3", "bench/consumer_db.py"),
    ("http_overhead", "4", "bench/http_overhead.py"),
    ("startup", "5", "bench/startup.py"),
    ("suite", "6", "bench/suite.py"),
    ("readiness_burst", "7", "bench/readiness_burst.py"),
]


def met(figure: dict[str, Any]) -> str:
    match = re.fullmatch(r"\s*(<|<=|>=|>)\s*([\d.]+).*", figure.get("target") or "")
    if not match:
        return ""
    op, bound = match.group(1), float(match.group(2))
    value = figure["median"]
    ok = {"<": value < bound, "<=": value <= bound, ">": value > bound, ">=": value >= bound}[op]
    return "yes" if ok else "**no**"


def figure_rows(figures: list[dict[str, Any]]) -> list[str]:
    rows = []
    for f in figures:
        spread = f"{fmt(f['min'], f['unit'])} - {fmt(f['max'], f['unit'])}"
        name = f["name"].strip()
        rows.append(
            f"| {name} | {fmt(f['median'], f['unit'])} | {spread} | {f['runs']} "
            f"| {f.get('target') or ''} | {met(f)} |"
        )
    return rows


def chart(documents: dict[str, dict[str, Any]]) -> list[str]:
    """A Mermaid bar chart of the ratio figures (generated as % of the raw library)."""
    picks = [
        ("consumer_overhead", "ratio generated (WARNING) / plain", "Consumer, no-op"),
        ("consumer_db", "ratio generated / plain", "Consumer + PostgreSQL"),
        ("http_overhead", "ratio service / bare Starlette", "HTTP /livez, served"),
    ]
    labels, values = [], []
    for name, figure_name, label in picks:
        doc = documents.get(name)
        if doc is None:
            continue
        for f in doc["figures"]:
            if f["name"].strip() == figure_name:
                labels.append(label)
                values.append(round(f["median"], 1))
    if not labels:
        return []
    quoted = ", ".join(f'"{label}"' for label in labels)
    return [
        "```mermaid",
        "xychart-beta",
        '    title "Generated service as % of the raw library (targets: consumer 85, HTTP 35)"',
        f"    x-axis [{quoted}]",
        '    y-axis "% of raw library throughput" 0 --> 100',
        f"    bar {values}",
        "```",
    ]


def served_profiles(profiles: list[dict[str, Any]]) -> list[str]:
    """Where the served service's CPU goes under wrk (py-spy), one column per version."""
    profiles = [p for p in profiles if p.get("categories")]
    if not profiles:
        return []
    shares = [{r["category"]: r["pct"] for r in p["categories"]} for p in profiles]
    names = list(dict.fromkeys(c for share in shares for c in share))
    heads = " | ".join(f"{p['label']} ({p['samples']} samples)" for p in profiles)
    lines = [
        "Where the served service's CPU goes under `wrk` (py-spy, deepest frame that is not "
        "event-loop plumbing):",
        "",
        f"| Category | {heads} |",
        "|---|" + "---|" * len(profiles),
    ]
    for name in names:
        cells = " | ".join(f"{share.get(name, 0.0)} %" for share in shares)
        lines.append(f"| {name} | {cells} |")
    return [*lines, ""]


def render() -> str:
    documents: dict[str, dict[str, Any]] = {}
    for name, _, _ in ORDER:
        path = RESULTS / f"{name}.json"
        if path.is_file():
            documents[name] = json.loads(path.read_text())
    if not documents:
        return "No results yet: run the benchmarks (see below).\n"
    machine = next(iter(documents.values()))["machine"]
    out = [
        f"Machine: {machine['cpu']}, {machine['cpus']} CPUs, {machine['memory_gb']} GB RAM, "
        f"{machine['os']}, Python {machine['python']}. Shared with other workloads while "
        "measured: read medians with their min-max spread, and ratios (both sides measured "
        "in the same run) rather than absolute figures.",
        "",
    ]
    out += chart(documents)
    out.append("")
    for name, number, script in ORDER:
        doc = documents.get(name)
        if doc is None:
            out += [f"### {number}. `{script}`", "", "Not measured yet.", ""]
            continue
        out += [
            f"### {doc['title']}",
            "",
            f"`{script}` — measured {doc['date']} on template commit `{doc['template_commit']}`.",
            "",
            "| Figure | Median | Min - max | Runs | Target | Met |",
            "|---|---|---|---|---|---|",
            *figure_rows(doc["figures"]),
            "",
        ]
        if doc.get("layers"):
            out += [
                "In-process CPU per `/livez` request, no server: the peers (`bench/http_peers.py`)"
                " and the service's stack layer by layer (`bench/asgi_layers.py`):",
                "",
                "| Stack | Median | Min - max | Runs | Target | Met |",
                "|---|---|---|---|---|---|",
                *figure_rows(doc["layers"]),
                "",
            ]
        out += served_profiles(doc.get("served_profiles") or [])
        profile = doc.get("profile")
        if isinstance(profile, dict) and profile:
            out += [
                f"Where the generated consumer's CPU goes while it handles records (py-spy, "
                f"{profile['samples']} samples):",
                "",
                "| Category | Share |",
                "|---|---|",
                *[f"| {r['category']} | {r['pct']} % |" for r in profile["categories"]],
                "",
            ]
    return "\n".join(out)


def main() -> int:
    text = DOC.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        sys.stderr.write(f"{DOC} lacks the {BEGIN} / {END} markers\n")
        return 1
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    DOC.write_text(f"{head}{BEGIN}\n{render()}\n{END}{tail}", encoding="utf-8")
    sys.stdout.write(f"written: {DOC.relative_to(REPO_ROOT)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
