# Managed by copier-python-service. Do not edit: changes are overwritten by `copier update`.
"""What the observability assets (observability/) rely on: the metric names they query.

Used by tests/contract/_platform/test_observability_assets.py here, and by the template's own
tests, which scrape a running service with a real Prometheus.
"""

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "observability" / "alerts.yml"
DASHBOARD = ROOT / "observability" / "grafana" / "dashboards" / "service.json"

# Series that Prometheus makes itself for every target; no service exposes them.
SYNTHETIC = frozenset({"up", "scrape_duration_seconds", "scrape_samples_scraped"})
_KEYWORDS = frozenset(
    {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right"}
    | {"offset", "bool", "inf", "nan"}
)
_SUFFIXES = ("_total", "_created", "_bucket", "_count", "_sum", "_info")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, labels and keywords removed)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        before = text[match.start() - 1] if match.start() else " "
        after = text[match.end() :].lstrip()
        if before.isdigit() or before in ".$" or after.startswith("("):
            continue
        if match.group() not in _KEYWORDS:
            names.add(match.group())
    return names


def alert_expressions(path: Path = ALERTS) -> dict[str, str]:
    """`alert name -> expr` from a Prometheus rules file (a small reader: no YAML dependency)."""
    rules: dict[str, str] = {}
    name = ""
    lines = path.read_text(encoding="utf-8").splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("- alert:"):
            name = stripped.partition(":")[2].strip()
        elif stripped.startswith("expr:") and name:
            value = stripped.partition(":")[2].strip()
            if value in {"|", ">", "|-", ">-"}:
                indent = len(line) - len(line.lstrip())
                block = []
                for following in lines[index + 1 :]:
                    if following.strip() and len(following) - len(following.lstrip()) <= indent:
                        break
                    block.append(following.strip())
                value = " ".join(block)
            rules[name] = value
    return rules


def _targets(panels: Iterable[dict[str, object]]) -> Iterator[str]:
    for panel in panels:
        for target in panel.get("targets", []) or []:  # type: ignore[attr-defined]
            yield str(target["expr"])
        yield from _targets(panel.get("panels", []) or [])  # type: ignore[arg-type]


def dashboard_expressions(path: Path = DASHBOARD) -> list[str]:
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    return list(_targets(dashboard["panels"]))


def referenced_metrics(root: Path = ROOT) -> dict[str, set[str]]:
    """Every metric name the alert rules and the dashboard use, with where it is used."""
    used: dict[str, set[str]] = {}
    alerts = alert_expressions(root / "observability" / "alerts.yml")
    for alert, expr in alerts.items():
        for name in metric_names(expr):
            used.setdefault(name, set()).add(f"alert {alert}")
    dashboard = root / "observability" / "grafana" / "dashboards" / "service.json"
    for expr in dashboard_expressions(dashboard):
        for name in metric_names(expr):
            used.setdefault(name, set()).add("dashboard")
    return used


def exposed_names(exposition: str) -> set[str]:
    """Metric names a Prometheus text exposition offers, with the suffixes of each family."""
    names = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            family = line.split(" ")[2]
            names.add(family)
            names.update(family + suffix for suffix in _SUFFIXES)
        elif line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names
