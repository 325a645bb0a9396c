# Managed by copier-python-service. Do not edit: changes are overwritten by `copier update`.
"""The dashboard and the alert rules in observability/ query only metrics this service exposes."""

import re

import httpx

from tests._platform.observability import (
    ALERTS,
    SYNTHETIC,
    alert_expressions,
    dashboard_expressions,
    exposed_names,
    metric_names,
    referenced_metrics,
)


def test_the_extractor_finds_metric_names_and_nothing_else() -> None:
    expr = (
        'sum by (job) (rate(http_requests_total{status=~"5.."}[5m])) / '
        "histogram_quantile(0.95, sum by (le) (rate(x_seconds_bucket[$__rate_interval]))) "
        "and on (job) time() - last_poll_timestamp_seconds > 1e3"
    )
    assert metric_names(expr) == {
        "http_requests_total",
        "x_seconds_bucket",
        "last_poll_timestamp_seconds",
    }


def test_assets_query_something() -> None:
    assert alert_expressions(), "no alert rules found in observability/alerts.yml"
    assert dashboard_expressions(), "no panel queries found in the dashboard"


async def test_every_metric_the_assets_use_is_exposed(client: httpx.AsyncClient) -> None:
    await client.get("/livez")
    exposed = exposed_names((await client.get("/metrics")).text)
    missing = {
        name: sorted(where)
        for name, where in referenced_metrics().items()
        if name not in exposed and name not in SYNTHETIC
    }
    assert not missing, f"observability assets use metrics this service does not expose: {missing}"


def test_every_alert_links_to_its_runbook_entry() -> None:
    root = ALERTS.parents[1]
    runbooks = (root / "docs" / "operate" / "runbooks.md").read_text(encoding="utf-8")
    entries = {line[3:].strip() for line in runbooks.splitlines() if line.startswith("## ")}
    rules = ALERTS.read_text(encoding="utf-8")
    alerts = re.findall(r"- alert: (\w+)", rules)
    links = re.findall(r"runbook_url: \"[^\"]*/operate/runbooks/#([\w-]+)\"", rules)
    assert links == [alert.lower() for alert in alerts], "each alert links to its own entry"
    assert set(alerts) <= entries, f"alerts without a runbook entry: {set(alerts) - entries}"
