"""Observability assets of a generated service, checked with the real tools:
`promtool check rules` on the alert rules, `promtool check metrics` on a live /metrics, and a
real Prometheus (Debian package `prometheus`) that scrapes a running service, finds every
metric the dashboard and the alert rules use, and evaluates the rules without error."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.support import env, free_port, http_get, run, stop, wait_for_http, wait_until

NAME = "obs-svc"
PREFIX = "OBS_SVC_"
PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
needs_prometheus = pytest.mark.skipif(
    PROMETHEUS is None or PROMTOOL is None,
    reason="the Debian package `prometheus` (prometheus, promtool) is not installed: "
    "apt-get install prometheus",
)


def _helpers(project: Path) -> ModuleType:
    """The generated service's own reader of its assets (tests/_platform/observability.py)."""
    path = project / "tests" / "_platform" / "observability.py"
    spec = importlib.util.spec_from_file_location(f"observability_{project.name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def service(copie_session: Any) -> Path:
    result = copie_session.copy(extra_answers={"service_name": NAME})
    assert result.exit_code == 0, result.exception
    project: Path = result.project_dir
    run(project, "uv", "sync", "--quiet")
    return project


@pytest.fixture(scope="module")
def bare(copie_session: Any) -> Path:
    """Rendered only (not synced): both switches off."""
    result = copie_session.copy(
        extra_answers={"service_name": "obs-bare", "with_database": False, "with_kafka": False}
    )
    assert result.exit_code == 0, result.exception
    return Path(result.project_dir)


@pytest.fixture(scope="module")
def running(service: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service on a free port. With Kafka it runs `dev` (an in-process Kafka-protocol
    broker and SQLite) and handles one published event, so every consumer metric has samples."""
    port, kafka_port = free_port(), free_port()
    service_env = env(
        **{
            f"{PREFIX}HTTP_PORT": str(port),
            f"{PREFIX}KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{kafka_port}",
            f"{PREFIX}DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db')}/obs.db",
            f"{PREFIX}LOG_FORMAT": "json",
            f"{PREFIX}CATALOG__BASE_URL": f"http://127.0.0.1:{free_port()}",  # nothing there
        }
    )
    answers = (service / ".copier-answers.yml").read_text()
    with_kafka = "with_kafka: true" in answers
    command = "dev" if with_kafka else "serve"
    if not with_kafka and "with_database: true" in answers:
        migrate = ["uv", "run", "--no-sync", NAME, "migrate"]
        subprocess.run(migrate, cwd=service, env=service_env, check=True)
    process = subprocess.Popen(
        ["uv", "run", "--no-sync", NAME, command],
        cwd=service,
        env=service_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/livez", 60, process=process, interval=0.5)
        if with_kafka:
            published = subprocess.run(
                ["uv", "run", "--no-sync", NAME, "publish"],
                cwd=service,
                env=service_env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert published.returncode == 0, published.stderr
            wait_until(
                lambda: 'outcome="success"' in http_get(f"{base}/metrics", timeout=5)[1],
                60,
                "the published event to be handled",
                interval=0.5,
                process=process,
            )
        wait_for_http(f"{base}/readyz", 60, process=process, interval=0.5)
        http_get(f"{base}/no-such-route", timeout=5)  # an unmatched route: counted as `<unmatched>`
        # The seeded example dependency is not running: one call gives every outbound
        # metric its samples (connection refused, retried, then a 503 problem).
        assert http_get(f"{base}/catalog/products/p-1", timeout=20)[0] == 503
        yield base
    finally:
        stop(process, 20)


@pytest.fixture(scope="module")
def prometheus(
    service: Path, running: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    assert PROMETHEUS is not None
    folder = tmp_path_factory.mktemp("prometheus")
    port = free_port()
    config = {
        "global": {
            "scrape_interval": "1s",
            "evaluation_interval": "1s",
            "external_labels": {"runbook_base_url": "http://docs.example.invalid"},
        },
        "rule_files": [str(service / "observability" / "alerts.yml")],
        "scrape_configs": [
            {
                "job_name": NAME,
                "static_configs": [{"targets": [running.removeprefix("http://")]}],
            }
        ],
    }
    (folder / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/-/ready", 60, process=process, interval=0.5)
        yield base
    finally:
        stop(process, 20)


def _api(base: str, path: str) -> Any:
    status, body = http_get(base + path, timeout=5)
    assert status == 200, body
    return json.loads(body)["data"]


@needs_prometheus
@pytest.mark.parametrize("which", ["service", "bare"])
def test_alert_rules_pass_promtool(which: str, request: pytest.FixtureRequest) -> None:
    project: Path = request.getfixturevalue(which)
    assert PROMTOOL is not None
    result = run(project, PROMTOOL, "check", "rules", "observability/alerts.yml")
    assert "SUCCESS" in result.stdout + result.stderr


@needs_prometheus
def test_compose_observability_config_is_valid(service: Path) -> None:
    """The scrape configuration compose.yaml mounts (with its rule file), and the Grafana
    provisioning that points at the dashboard folder."""
    assert PROMTOOL is not None
    run(service, PROMTOOL, "check", "config", "observability/prometheus.yml")
    compose = yaml.safe_load((service / "compose.yaml").read_text())["services"]
    mounts = " ".join(compose["prometheus"]["volumes"] + compose["grafana"]["volumes"])
    for path in ("prometheus.yml", "alerts.yml", "grafana/provisioning", "grafana/dashboards"):
        assert f"./observability/{path}" in mounts, f"compose.yaml does not mount {path}"
    provisioning = service / "observability" / "grafana" / "provisioning"
    datasource = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    assert datasource["datasources"][0]["type"] == "prometheus"
    dashboards = yaml.safe_load((provisioning / "dashboards" / "dashboards.yml").read_text())
    assert dashboards["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


def test_switched_off_kafka_leaves_no_kafka_metric_in_the_assets(bare: Path) -> None:
    used = _helpers(bare).referenced_metrics(bare)
    assert used, "the bare service's assets query no metric at all"
    assert not [name for name in used if name.startswith("kafka_")]
    assert "Kafka" not in (bare / "observability" / "alerts.yml").read_text()


def test_every_alert_links_to_its_runbook_entry(service: Path) -> None:
    runbooks = (service / "docs" / "operate" / "runbooks.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9_-]", "", line[3:].strip().lower().replace(" ", "-"))
        for line in runbooks.splitlines()
        if line.startswith("## ")
    }
    rules = (service / "observability" / "alerts.yml").read_text()
    alerts = re.findall(r"- alert: (\w+)", rules)
    links = re.findall(r"runbook_url: \"[^\"]*/operate/runbooks/#([\w-]+)\"", rules)
    assert len(alerts) == len(links) >= 5
    assert links == [alert.lower() for alert in alerts]
    assert set(links) <= anchors, f"runbook entries missing: {set(links) - anchors}"


@pytest.mark.parametrize(
    ("which", "rows"),
    [
        ("service", {"HTTP", "Dependencies (outbound HTTP)", "Database", "Kafka consumer"}),
        ("bare", {"HTTP", "Dependencies (outbound HTTP)"}),
    ],
)
def test_dashboard_is_well_formed(
    which: str, rows: set[str], request: pytest.FixtureRequest
) -> None:
    project: Path = request.getfixturevalue(which)
    dashboard = json.loads(
        (project / "observability" / "grafana" / "dashboards" / "service.json").read_text()
    )
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    titles = {panel["title"] for panel in dashboard["panels"] if panel["type"] == "row"}
    assert rows <= titles
    if which == "bare":
        assert not {"Database", "Kafka consumer"} & titles
    cells: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, f"{panel['title']} is wider than the dashboard"
        area = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not area & cells, f"{panel['title']} overlaps another panel"
        cells |= area
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == "${datasource}"
            assert target["expr"].strip()


@needs_prometheus
def test_live_metrics_pass_promtool_check_metrics(running: str) -> None:
    _status, text = http_get(f"{running}/metrics", timeout=5)
    assert PROMTOOL is not None
    result = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@needs_prometheus
def test_prometheus_scrapes_every_metric_the_dashboard_and_rules_use(
    service: Path, prometheus: str
) -> None:
    def target_up() -> bool:
        targets = _api(prometheus, "/api/v1/targets")["activeTargets"]
        return any(t["health"] == "up" for t in targets)

    wait_until(target_up, 30, "the scrape target to be up", interval=0.5)
    used: dict[str, set[str]] = _helpers(service).referenced_metrics(service)
    query = urllib.request.quote(f'{{job="{NAME}"}}')

    def missing() -> dict[str, list[str]]:
        names = set(_api(prometheus, f"/api/v1/label/__name__/values?match[]={query}"))
        return {name: sorted(where) for name, where in used.items() if name not in names}

    try:
        wait_until(lambda: not missing(), 30, "every used metric in Prometheus", interval=1)
    except TimeoutError:
        pytest.fail(f"used by the dashboard/alerts but not in Prometheus: {missing()}")
    assert any(name.startswith("kafka_consumer_") for name in used)


@needs_prometheus
def test_prometheus_loads_and_evaluates_every_alert_rule(prometheus: str) -> None:
    def evaluated() -> list[dict[str, Any]]:
        groups = _api(prometheus, "/api/v1/rules")["groups"]
        rules = [rule for group in groups for rule in group["rules"]]
        # Prometheus reports 0001-01-01T00:00:00Z for a rule it has not evaluated yet.
        done = all(not rule["lastEvaluation"].startswith("0001") for rule in rules)
        return rules if rules and done else []

    rules = wait_until(evaluated, 30, "every rule to be evaluated", interval=0.5)
    assert {rule["name"] for rule in rules} >= {
        "ServiceNotReady",
        "HttpErrorRateHigh",
        "KafkaConsumerLagGrowing",
        "KafkaMessagesDeadLettered",
        "KafkaRecordsSkipped",
        "KafkaConsumerLoopStalled",
        "KafkaOutboxStalled",
        "DependencyCircuitOpen",
        "DependencyErrorRateHigh",
    }
    for rule in rules:
        assert rule["health"] == "ok", rule
        assert "/operate/runbooks/#" in rule["annotations"]["runbook_url"]
    # The service is ready: the not-ready alert has nothing to say.
    firing = _api(prometheus, "/api/v1/alerts")["alerts"]
    assert not [a for a in firing if a["labels"]["alertname"] == "ServiceNotReady"]


ALERT_TESTS = """
rule_files: [{rules}]
evaluation_interval: 1m
tests:
  - name: every alert fires on the situation it describes
    interval: 1m
    external_labels:
      runbook_base_url: http://docs.example.invalid
    input_series:
      - series: 'service_ready{{job="svc", instance="a:1"}}'
        values: '0x20'
      - series: 'http_requests_total{{job="svc", instance="a:1", status="500"}}'
        values: '0+30x40'
      - series: 'http_requests_total{{job="svc", instance="a:1", status="200"}}'
        values: '0+30x40'
      - series: 'kafka_consumer_lag{{job="svc", instance="a:1", topic="o", partition="0"}}'
        values: '2000+100x40'
      - series: 'kafka_consumer_messages_total{{job="svc", topic="o", outcome="dead_lettered"}}'
        values: '0 1 1 1 1 1'
      - series: 'kafka_consumer_last_poll_timestamp_seconds{{job="svc", instance="a:1"}}'
        values: '60x20'
      - series: 'outbound_circuit_breaker_state{{job="svc", instance="a:1", dependency="catalog"}}'
        values: '2 2 1 2 2 1 2 2 2'
      - series: 'kafka_consumer_dead_letter_failures_total{{job="svc", instance="a:1", topic="o"}}'
        values: '0+1x20'
      - series: 'kafka_outbox_oldest_pending_age_seconds{{job="svc", instance="a:1"}}'
        values: '0+60x20'
      - series: 'kafka_consumer_offset_resets_total{{job="svc", instance="a:1", topic="o"}}'
        values: '0 0 1x20'
      - series: 'kafka_consumer_messages_total{{job="svc", instance="a:1", topic="o", outcome="skipped"}}'
        values: '0 0 0 2x20'
      - series: 'outbound_requests_total{{job="svc", instance="a:1", dependency="catalog", method="GET", status_class="error"}}'
        values: '0+30x40'
      - series: 'outbound_requests_total{{job="svc", instance="a:1", dependency="catalog", method="GET", status_class="2xx"}}'
        values: '0+30x40'
    alert_rule_test:
      - eval_time: 6m
        alertname: ServiceNotReady
        exp_alerts:
          - exp_labels: {{severity: page, job: svc, instance: "a:1"}}
            exp_annotations: {{runbook_url: "http://docs.example.invalid/operate/runbooks/#servicenotready"}}
      - eval_time: 15m
        alertname: HttpErrorRateHigh
        exp_alerts:
          - exp_labels: {{severity: page, job: svc}}
            exp_annotations: {{runbook_url: "http://docs.example.invalid/operate/runbooks/#httperrorratehigh"}}
      - eval_time: 35m
        alertname: KafkaConsumerLagGrowing
        exp_alerts:
          - exp_labels: {{severity: page, job: svc, topic: o}}
            exp_annotations: {{runbook_url: "http://docs.example.invalid/operate/runbooks/#kafkaconsumerlaggrowing"}}
      - eval_time: 3m
        alertname: KafkaMessagesDeadLettered
        exp_alerts:
          - exp_labels: {{severity: ticket, job: svc, topic: o}}
            exp_annotations: {{runbook_url: "http://docs.example.invalid/operate/runbooks/#kafkamessagesdeadlettered"}}
      - eval_time: 10m
        alertname: KafkaConsumerLoopStalled
        exp_alerts:
          - exp_labels: {{severity: page, job: svc, instance: "a:1"}}
            exp_annotations: {{runbook_url: "http://docs.example.invalid/operate/runbooks/#kafkaconsumerloopstalled"}}
      - eval_time: 8m
        alertname: KafkaDeadLetterPublishFailing
        exp_alerts:
          - exp_labels: {{severity: page, job: svc, topic: o}}
            exp_annotations: {{runbook_url: "http://docs.example.invalid/operate/runbooks/#kafkadeadletterpublishfailing"}}
      - eval_time: 12m
        alertname: KafkaOutboxStalled
        exp_alerts:
          - exp_labels: {{severity: page, job: svc}}
            exp_annotations: {{runbook_url: "http://docs.example.invalid/operate/runbooks/#kafkaoutboxstalled"}}
      - eval_time: 5m
        alertname: KafkaConsumerOffsetReset
        exp_alerts:
          - exp_labels: {{severity: ticket, job: svc, topic: o}}
            exp_annotations: {{runbook_url: "http://docs.example.invalid/operate/runbooks/#kafkaconsumeroffsetreset"}}
      - eval_time: 5m
        alertname: KafkaRecordsSkipped
        exp_alerts:
          - exp_labels: {{severity: ticket, job: svc, topic: o}}
            exp_annotations: {{runbook_url: "http://docs.example.invalid/operate/runbooks/#kafkarecordsskipped"}}
      - eval_time: 6m
        alertname: DependencyCircuitOpen
        exp_alerts:
          - exp_labels: {{severity: page, job: svc, dependency: catalog}}
            exp_annotations: {{runbook_url: "http://docs.example.invalid/operate/runbooks/#dependencycircuitopen"}}
      - eval_time: 15m
        alertname: DependencyErrorRateHigh
        exp_alerts:
          - exp_labels: {{severity: ticket, job: svc, dependency: catalog}}
            exp_annotations: {{runbook_url: "http://docs.example.invalid/operate/runbooks/#dependencyerrorratehigh"}}
  - name: a healthy service raises nothing
    interval: 1m
    input_series:
      - series: 'service_ready{{job="svc", instance="a:1"}}'
        values: '1x40'
      - series: 'http_requests_total{{job="svc", instance="a:1", status="500"}}'
        values: '0+1x40'
      - series: 'http_requests_total{{job="svc", instance="a:1", status="200"}}'
        values: '0+100x40'
      - series: 'kafka_consumer_lag{{job="svc", instance="a:1", topic="o", partition="0"}}'
        values: '5000-100x40'
      - series: 'kafka_consumer_messages_total{{job="svc", topic="o", outcome="dead_lettered"}}'
        values: '3x40'
      - series: 'kafka_consumer_last_poll_timestamp_seconds{{job="svc", instance="a:1"}}'
        values: '0+60x40'
      - series: 'kafka_consumer_dead_letter_failures_total{{job="svc", instance="a:1", topic="o"}}'
        values: '2x40'
      - series: 'kafka_outbox_oldest_pending_age_seconds{{job="svc", instance="a:1"}}'
        values: '0 400 400 400 0x36'
      - series: 'kafka_consumer_offset_resets_total{{job="svc", instance="a:1", topic="o"}}'
        values: '1x40'
      - series: 'kafka_consumer_messages_total{{job="svc", instance="a:1", topic="o", outcome="skipped"}}'
        values: '0x40'
      - series: 'outbound_circuit_breaker_state{{job="svc", instance="a:1", dependency="catalog"}}'
        values: '0 0 2 2 1 0x35'
      - series: 'outbound_requests_total{{job="svc", instance="a:1", dependency="catalog", method="GET", status_class="error"}}'
        values: '0+1x40'
      - series: 'outbound_requests_total{{job="svc", instance="a:1", dependency="catalog", method="GET", status_class="2xx"}}'
        values: '0+100x40'
    alert_rule_test:
      - {{eval_time: 35m, alertname: ServiceNotReady, exp_alerts: []}}
      - {{eval_time: 35m, alertname: HttpErrorRateHigh, exp_alerts: []}}
      - {{eval_time: 35m, alertname: KafkaConsumerLagGrowing, exp_alerts: []}}
      - {{eval_time: 35m, alertname: KafkaMessagesDeadLettered, exp_alerts: []}}
      - {{eval_time: 35m, alertname: KafkaConsumerLoopStalled, exp_alerts: []}}
      - {{eval_time: 35m, alertname: KafkaDeadLetterPublishFailing, exp_alerts: []}}
      - {{eval_time: 35m, alertname: KafkaConsumerOffsetReset, exp_alerts: []}}
      - {{eval_time: 35m, alertname: KafkaRecordsSkipped, exp_alerts: []}}
      - {{eval_time: 4m, alertname: KafkaOutboxStalled, exp_alerts: []}}
      - {{eval_time: 35m, alertname: KafkaOutboxStalled, exp_alerts: []}}
      - {{eval_time: 4m, alertname: DependencyCircuitOpen, exp_alerts: []}}
      - {{eval_time: 35m, alertname: DependencyCircuitOpen, exp_alerts: []}}
      - {{eval_time: 35m, alertname: DependencyErrorRateHigh, exp_alerts: []}}
"""


@needs_prometheus
def test_every_alert_fires_when_it_should_and_only_then(service: Path, tmp_path: Path) -> None:
    """`promtool test rules` with synthetic series: each alert fires on its situation, with
    its severity and its runbook link, and a healthy service raises none."""
    # Summaries and descriptions are prose; keep only the runbook link, which must render to
    # the alert's runbook entry under the `runbook_base_url` external label.
    rules = yaml.safe_load((service / "observability" / "alerts.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule["annotations"] = {"runbook_url": rule["annotations"]["runbook_url"]}
    (tmp_path / "alerts.yml").write_text(yaml.safe_dump(rules))
    tests = tmp_path / "alerts_test.yml"
    tests.write_text(ALERT_TESTS.format(rules=tmp_path / "alerts.yml"))
    assert PROMTOOL is not None
    result = subprocess.run(
        [PROMTOOL, "test", "rules", str(tests)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
