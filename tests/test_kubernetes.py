"""Kubernetes manifests of a generated service (`deploy/`), for every switch combination with
`with_kubernetes`: each overlay is built with the real `kustomize` (what `kubectl apply -k`
runs), every built resource validates against the Kubernetes schemas (`kubernetes-validate`)
of the oldest supported and the newest release, the custom resources carry the fields their
operators require, `checkov` finds no failed check in `deploy/`, the Dockerfile or the CI
workflow, and the manifests agree with the service itself: probe paths and port, grace period
and shutdown timeout, settings names, alert rules, Kafka topic and group.

`kustomize` is built once with `go install` by `.ci/run` into a cache folder (or set
`KUSTOMIZE` to a binary).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.support import env, run
from tests.test_generate import COMBINATIONS

REPO_ROOT = Path(__file__).resolve().parent.parent
KUSTOMIZE_VERSION = "v5.8.2"  # the version .ci/run installs
KUSTOMIZE = Path(
    os.environ.get(
        "KUSTOMIZE",
        Path.home() / f".cache/copier-python-service/kustomize-{KUSTOMIZE_VERSION}/kustomize",
    )
)
# The oldest Kubernetes the manifests support (docs/deploy.md: the preStop sleep action is
# GA from 1.34) and the newest release whose schemas kubernetes-validate ships.
KUBERNETES_VERSIONS = ("1.34.0", kubernetes_validate.latest_version())
OVERLAYS = ("staging", "production")
CUSTOM_KINDS = {"ServiceMonitor", "PrometheusRule", "ScaledObject"}
# Combinations with Kubernetes: the four switch combinations and the longest name.
KUBERNETES_COMBINATIONS = {name: answers for name, answers in COMBINATIONS.items()}

# Prints the defaults of the service's own Settings as JSON (run in the generated service).
SETTINGS_DEFAULTS = """
import json, sys
from pydantic import SecretStr
from {package}.settings import Settings
from {package}._platform.settings import ENV_PREFIX
out = {{}}
for name, field in Settings.model_fields.items():
    value = field.default
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    try:
        json.dumps(value)
    except TypeError:
        value = repr(value)
    out[name] = value
json.dump({{"prefix": ENV_PREFIX, "defaults": out}}, sys.stdout)
"""


def _kustomize() -> str:
    if not KUSTOMIZE.is_file():
        pytest.fail(
            f"{KUSTOMIZE} is missing: build it as .ci/run does (`GOBIN=... go install "
            f"sigs.k8s.io/kustomize/kustomize/v5@{KUSTOMIZE_VERSION}`), or set KUSTOMIZE"
        )
    return str(KUSTOMIZE)


class Service:
    """A generated service, its answers, its built overlays and its settings' defaults."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.answers: dict[str, Any] = yaml.safe_load((root / ".copier-answers.yml").read_text())
        self.name: str = self.answers["service_name"]
        self.package: str = self.answers["package_name"]
        self.built = {
            overlay: list(
                yaml.safe_load_all(
                    run(root, _kustomize(), "build", f"deploy/overlays/{overlay}").stdout
                )
            )
            for overlay in OVERLAYS
        }
        script = SETTINGS_DEFAULTS.format(package=self.package)
        settings = json.loads(run(root, "uv", "run", "--no-sync", "python", "-c", script).stdout)
        self.prefix: str = settings["prefix"]
        self.defaults: dict[str, Any] = settings["defaults"]

    def one(self, overlay: str, kind: str, name: str | None = None) -> dict[str, Any]:
        found = [
            doc
            for doc in self.built[overlay]
            if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)
        ]
        assert len(found) == 1, f"{overlay}: {len(found)} {kind} named {name}"
        return found[0]

    def kinds(self, overlay: str) -> list[str]:
        return sorted(doc["kind"] for doc in self.built[overlay])


@pytest.fixture(
    scope="module", params=list(KUBERNETES_COMBINATIONS), ids=list(KUBERNETES_COMBINATIONS)
)
def service(request: pytest.FixtureRequest, copie_session: Any) -> Service:
    answers = {
        "service_name": f"k8s-{request.param}",
        **KUBERNETES_COMBINATIONS[request.param],
        "with_kubernetes": True,
    }
    if request.param == "longest-name":
        answers["service_name"] = COMBINATIONS["longest-name"]["service_name"]
    result = copie_session.copy(extra_answers=answers)
    assert result.exit_code == 0, result.exception
    project: Path = result.project_dir
    run(project, "uv", "sync", "--quiet")
    return Service(project)


# ---------------------------------------------------------------- layout and ownership


def test_layout_is_a_template_base_with_service_owned_overlays(service: Service) -> None:
    deploy = service.root / "deploy"
    assert (deploy / "base" / "kustomization.yaml").is_file()
    assert (deploy / "components" / "monitoring" / "kustomization.yaml").is_file()
    assert (deploy / "components" / "keda").is_dir() == service.answers["with_kafka"]
    for overlay in OVERLAYS:
        text = (deploy / "overlays" / overlay / "kustomization.yaml").read_text()
        assert "Service-owned" in text
        assert "Managed by copier-python-service" not in text
    config = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    assert "deploy/overlays/**" in config["_skip_if_exists"]


def test_each_overlay_builds_the_whole_service(service: Service) -> None:
    expected = [
        "ConfigMap",
        "Deployment",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "PrometheusRule",
        "Service",
        "ServiceAccount",
        "ServiceMonitor",
    ]
    expected += ["Job"] if service.answers["with_database"] else []
    # Kafka: the KEDA component replaces the CPU autoscaler (two autoscalers would fight).
    expected += ["ScaledObject"] if service.answers["with_kafka"] else ["HorizontalPodAutoscaler"]
    for overlay in OVERLAYS:
        assert service.kinds(overlay) == sorted(expected), overlay
        namespaces = {doc["metadata"].get("namespace") for doc in service.built[overlay]}
        assert namespaces == {f"{service.name}-{overlay}"}


# ---------------------------------------------------------------- schemas


def test_every_resource_validates_against_the_kubernetes_schemas(service: Service) -> None:
    errors = []
    checked = 0
    for overlay, docs in service.built.items():
        for doc in docs:
            if doc["kind"] in CUSTOM_KINDS:
                continue
            for version in KUBERNETES_VERSIONS:
                try:
                    kubernetes_validate.validate(doc, version, strict=True)
                except kubernetes_validate.ValidationError as exc:
                    errors.append(f"{overlay} {doc['kind']} ({version}): {exc.message}")
                checked += 1
    assert errors == []
    assert checked >= 6 * len(OVERLAYS) * len(KUBERNETES_VERSIONS)


def test_the_schema_check_catches_a_bad_field(service: Service) -> None:
    """The twin of the validation test: a misspelled field and a wrong type are refused."""
    deployment = json.loads(json.dumps(service.one("staging", "Deployment")))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinessProbe"]["periodSecond"] = 5
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)
    del container["readinessProbe"]["periodSecond"]
    deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = "20s"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


def _require(doc: dict[str, Any], *path: str) -> Any:
    value: Any = doc
    for key in path:
        assert isinstance(value, dict), f"{doc['kind']}: {'.'.join(path)} is not a mapping"
        assert key in value, f"{doc['kind']} lacks {'.'.join(path)}"
        value = value[key]
    assert value not in (None, "", [], {}), f"{doc['kind']}: {'.'.join(path)} is empty"
    return value


def test_custom_resources_have_the_fields_their_operators_require(service: Service) -> None:
    for overlay in OVERLAYS:
        monitor = service.one(overlay, "ServiceMonitor")
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        selector = _require(monitor, "spec", "selector", "matchLabels")
        for endpoint in _require(monitor, "spec", "endpoints"):
            assert endpoint["port"] == "http"
            assert endpoint["path"] == "/metrics"
        scraped = service.one(overlay, "Service")
        assert selector.items() <= scraped["metadata"]["labels"].items()
        assert {port["name"] for port in scraped["spec"]["ports"]} >= {"http"}

        rule = service.one(overlay, "PrometheusRule")
        assert rule["apiVersion"] == "monitoring.coreos.com/v1"
        for group in _require(rule, "spec", "groups"):
            assert group["name"]
            for item in group["rules"]:
                assert item.get("alert"), item
                assert item.get("expr"), item

        if service.answers["with_kafka"]:
            scaled = service.one(overlay, "ScaledObject")
            assert scaled["apiVersion"] == "keda.sh/v1alpha1"
            target = _require(scaled, "spec", "scaleTargetRef")
            assert target["name"] == service.one(overlay, "Deployment")["metadata"]["name"]
            for trigger in _require(scaled, "spec", "triggers"):
                assert trigger["type"] in {"kafka", "cpu"}
                _require(trigger, "metadata")
            kafka = next(t for t in scaled["spec"]["triggers"] if t["type"] == "kafka")
            for key in ("consumerGroup", "topic", "lagThreshold"):
                _require(kafka, "metadata", key)
            assert "bootstrapServers" in kafka["metadata"] or kafka["metadata"].get(
                "bootstrapServersFromEnv"
            )
            assert scaled["spec"]["minReplicaCount"] <= scaled["spec"]["maxReplicaCount"]


def test_prometheus_rule_passes_promtool(service: Service, tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: apt-get install prometheus (as .ci/run does)")
    rules = tmp_path / "rules.yml"
    rules.write_text(yaml.safe_dump(service.one("production", "PrometheusRule")["spec"]))
    run(tmp_path, promtool, "check", "rules", str(rules))


# ---------------------------------------------------------------- security


def _checkov(cwd: Path, *args: str) -> tuple[dict[str, Any], list[str]]:
    """checkov's reports by framework, and its failed checks as lines."""
    checkov = shutil.which("checkov", path=str(Path(sys.executable).parent)) or "checkov"
    result = subprocess.run(
        [checkov, "--skip-download", "--output", "json", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env(PATH=f"{KUSTOMIZE.parent}{os.pathsep}{os.environ['PATH']}"),
        timeout=600,
        check=False,
    )
    try:
        reports = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"checkov gave no report:\n{result.stderr[-3000:]}") from None
    reports = reports if isinstance(reports, list) else [reports]
    assert all("results" in report for report in reports), f"checkov scanned nothing: {reports}"
    failed = [
        f"{report['check_type']}: {check['check_id']} {check['check_name']} "
        f"({check.get('resource')}, {check.get('file_path')})"
        for report in reports
        for check in report["results"]["failed_checks"]
    ]
    assert (result.returncode == 0) == (failed == []), result.stderr[-3000:]
    return {report["check_type"]: report for report in reports}, failed


def _checkov_overlays(root: Path) -> tuple[dict[str, Any], list[str]]:
    # The base alone is not deployable (no namespace, no image tag: the overlays set them),
    # so checkov scans what is applied: every overlay, built by kustomize.
    _kustomize()
    # --skip-path is a regular expression over the whole path: anchor it (a service named
    # k8s-database-only contains "base", and a bare "base" skipped everything).
    reports, failed = _checkov(
        root, "-d", "deploy", "--framework", "kustomize", "--skip-path", "deploy/base$"
    )
    scanned = {
        ":".join(check["resource"].split(":")[:2])
        for check in reports["kustomize"]["results"]["passed_checks"]
    }
    assert scanned == {f"overlay:{overlay}" for overlay in OVERLAYS}, scanned
    return reports, failed


def test_checkov_finds_no_failed_check_in_the_built_overlays(service: Service) -> None:
    reports, failed = _checkov_overlays(service.root)
    assert failed == [], "\n".join(failed)
    results = reports["kustomize"]["results"]
    assert len(results["passed_checks"]) > 100
    # Every suppression is inline in the manifests, with its reason.
    for check in results["skipped_checks"]:
        assert len(check["check_result"].get("suppress_comment", "")) > 30, check["check_id"]
    assert {check["check_id"] for check in results["skipped_checks"]} <= {
        "CKV_K8S_35",  # secrets as environment variables: the settings' design
        "CKV_K8S_43",  # image digest: the overlay sets the image
    }


def test_checkov_would_catch_a_writable_root_filesystem(service: Service, tmp_path: Path) -> None:
    """The twin of the checkov test: the same run fails on a weakened Deployment."""
    shutil.copytree(service.root / "deploy", tmp_path / "deploy")
    deployment = tmp_path / "deploy" / "base" / "deployment.yaml"
    text = deployment.read_text()
    assert "readOnlyRootFilesystem: true" in text
    weakened = text.replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")
    deployment.write_text(weakened)
    _reports, failed = _checkov_overlays(tmp_path)
    assert [line for line in failed if "CKV_K8S_22" in line and "Deployment" in line]


def test_checkov_finds_no_failed_check_in_the_dockerfile_and_ci(service: Service) -> None:
    reports, failed = _checkov(
        service.root,
        "-f", "Dockerfile",
        "-f", ".github/workflows/ci.yml",
        "--framework", "dockerfile", "github_actions",
    )  # fmt: skip
    assert failed == [], "\n".join(failed)
    assert len(reports["dockerfile"]["results"]["passed_checks"]) > 10
    assert len(reports["github_actions"]["results"]["passed_checks"]) > 10


# ---------------------------------------------------------------- consistency with the service


def _container(workload: dict[str, Any]) -> dict[str, Any]:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def test_probes_use_the_services_paths_and_port(service: Service) -> None:
    health = next(service.root.glob("src/*/_platform/health.py")).read_text()
    assert 'LIVENESS_PATH = "/livez"' in health
    assert 'READINESS_PATH = "/readyz"' in health
    assert "Route(LIVENESS_PATH, livez" in health
    assert "Route(READINESS_PATH, readyz" in health
    for overlay in OVERLAYS:
        deployment = service.one(overlay, "Deployment")
        container = _container(deployment)
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        assert ports == {"http": service.defaults["http_port"]}
        assert service.answers["http_port"] == service.defaults["http_port"]
        probes = {
            kind: container[kind]["httpGet"]
            for kind in ("startupProbe", "livenessProbe", "readinessProbe")
        }
        assert probes == {
            "startupProbe": {"path": "/livez", "port": "http"},
            "livenessProbe": {"path": "/livez", "port": "http"},
            "readinessProbe": {"path": "/readyz", "port": "http"},
        }
        # A readiness probe must outlast the checks' own time limit.
        readiness = container["readinessProbe"]
        assert readiness["timeoutSeconds"] > service.defaults["health_check_timeout_seconds"]
        # /readyz answers the background evaluation: probed at the interval it is made at.
        assert readiness["periodSeconds"] == service.defaults["readiness_interval_seconds"]
        config = service.one(overlay, "ConfigMap")["data"]
        assert config[f"{service.prefix}HTTP_PORT"] == str(service.defaults["http_port"])
        assert config[f"{service.prefix}HTTP_HOST"] == "0.0.0.0"  # noqa: S104 - in a pod
        target = service.one(overlay, "Service")["spec"]["ports"][0]["targetPort"]
        assert target == "http"


def test_grace_period_exceeds_the_shutdown_it_must_wait_for(service: Service) -> None:
    shutdown = service.defaults["shutdown_timeout_seconds"]
    # HTTP drains for up to the shutdown timeout, then (Kafka) the consumer stops within it.
    phases = 2 if service.answers["with_kafka"] else 1
    for overlay in OVERLAYS:
        pod = service.one(overlay, "Deployment")["spec"]["template"]["spec"]
        pause = _container(service.one(overlay, "Deployment"))["lifecycle"]["preStop"]["sleep"]
        assert 0 < pause["seconds"] <= 10
        grace = pod["terminationGracePeriodSeconds"]
        assert grace > pause["seconds"] + phases * shutdown, (grace, pause, shutdown)
        assert f"{grace}" in (service.root / "docs" / "deploy.md").read_text()


def test_pods_run_restricted_as_the_image_user(service: Service) -> None:
    dockerfile = (service.root / "Dockerfile").read_text()
    uid = int(re.search(r"useradd --uid (\d+)", dockerfile)[1])  # type: ignore[index]
    workloads = ["Deployment"] + (["Job"] if service.answers["with_database"] else [])
    for overlay in OVERLAYS:
        for kind in workloads:
            pod = service.one(overlay, kind)["spec"]["template"]["spec"]
            assert pod["securityContext"]["runAsUser"] == uid
            assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
            assert pod["automountServiceAccountToken"] is False
            container = _container(service.one(overlay, kind))
            security = container["securityContext"]
            assert security["runAsNonRoot"] is True
            assert security["runAsUser"] == uid
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"] == {"drop": ["ALL"]}
            assert {m["mountPath"] for m in container["volumeMounts"]} == {"/tmp"}  # noqa: S108
            assert "emptyDir" in pod["volumes"][0]
            assert set(container["resources"]) == {"requests", "limits"}
            assert container["image"].startswith("registry.example.com/")
            # the NetworkPolicy covers these pods
            policy = service.one(overlay, "NetworkPolicy")["spec"]["podSelector"]["matchLabels"]
            labels = service.one(overlay, kind)["spec"]["template"]["metadata"]["labels"]
            assert policy.items() <= labels.items()


def test_settings_reach_the_pods_under_the_services_own_names(service: Service) -> None:
    for overlay in OVERLAYS:
        config = service.one(overlay, "ConfigMap")["data"]
        container = _container(service.one(overlay, "Deployment"))
        [source] = container["envFrom"]
        assert (
            source["configMapRef"]["name"] == service.one(overlay, "ConfigMap")["metadata"]["name"]
        )
        names = list(config) + [item["name"] for item in container.get("env", [])]
        for name in names:
            assert name.startswith(service.prefix), name
            assert name.removeprefix(service.prefix).lower() in service.defaults, name
        secrets = {
            item["name"]: item["valueFrom"]["secretKeyRef"] for item in container.get("env", [])
        }
        for name, ref in secrets.items():
            assert ref["name"] == f"{service.name}-secrets"
            assert ref["key"] == name
        if service.answers["with_database"]:
            assert f"{service.prefix}DATABASE_URL" in secrets
            assert "optional" not in secrets[f"{service.prefix}DATABASE_URL"]
            assert f"{service.prefix}DATABASE_URL" not in config
        else:
            assert not [name for name in names if "DATABASE" in name]


def test_migration_job_runs_migrate_with_the_same_settings(service: Service) -> None:
    if not service.answers["with_database"]:
        for overlay in OVERLAYS:
            assert "Job" not in service.kinds(overlay)
        return
    for overlay in OVERLAYS:
        job = service.one(overlay, "Job")
        container = _container(job)
        assert container["args"] == [service.name, "migrate"]
        server = _container(service.one(overlay, "Deployment"))
        assert container["image"] == server["image"]
        assert container["envFrom"] == server["envFrom"]
        assert container["env"] == server["env"]
        assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    cli = next(service.root.glob("src/*/_platform/db/cli.py")).read_text()
    assert '"migrate"' in cli


def test_prometheus_rule_is_the_alert_file(service: Service) -> None:
    alerts = yaml.safe_load((service.root / "observability" / "alerts.yml").read_text())
    for overlay in OVERLAYS:
        assert service.one(overlay, "PrometheusRule")["spec"]["groups"] == alerts["groups"]
    # Twin: the comparison sees a changed rule.
    changed = json.loads(json.dumps(alerts["groups"]))
    changed[0]["rules"][0]["for"] = "1m"
    assert service.one("staging", "PrometheusRule")["spec"]["groups"] != changed


def test_autoscaling_matches_the_consumer_settings(service: Service) -> None:
    for overlay in OVERLAYS:
        if not service.answers["with_kafka"]:
            hpa = service.one(overlay, "HorizontalPodAutoscaler")
            assert hpa["spec"]["scaleTargetRef"]["name"] == service.name
            assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
            continue
        scaled = service.one(overlay, "ScaledObject")
        kafka = next(t for t in scaled["spec"]["triggers"] if t["type"] == "kafka")["metadata"]
        assert kafka["topic"] in service.defaults["kafka_topics"]
        assert kafka["consumerGroup"] == service.defaults["kafka_group_id"]
        assert int(kafka["lagThreshold"]) == service.defaults["kafka_max_poll_records"]
        runner = next(service.root.glob("src/*/_platform/kafka/runner.py")).read_text()
        # KEDA counts the lag of a group without offsets as the runner reads it: a new group
        # starts at the earliest offset (the runner resets positions itself, so the client's
        # own policy is "none").
        assert kafka["offsetResetPolicy"] == "earliest"
        assert 'auto_offset_reset="none"' in runner
        assert "a new group starts at the beginning" in runner
        # The brokers come from the pods' own settings, so they are set in one place.
        assert kafka["bootstrapServersFromEnv"] == f"{service.prefix}KAFKA_BOOTSTRAP_SERVERS"
        config = service.one(overlay, "ConfigMap")["data"]
        assert kafka["bootstrapServersFromEnv"] in config
        assert kafka["allowIdleConsumers"] == "false"
        # At most one replica per partition: the number the docs give as the partition count.
        docs = (service.root / "docs" / "deploy.md").read_text()
        partitions = int(re.search(r"partition count \(\*\*(\d+)\*\*", docs)[1])  # type: ignore[index]
        assert scaled["spec"]["maxReplicaCount"] <= partitions
    base_hpa = yaml.safe_load(
        (service.root / "deploy" / "base" / "horizontalpodautoscaler.yaml").read_text()
    )
    assert base_hpa["spec"]["minReplicas"] >= 2  # one pod may always be disrupted (PDB)


# ---------------------------------------------------------------- docs and the switch


def test_docs_page_is_generated_and_linked(service: Service) -> None:
    page = (service.root / "docs" / "deploy.md").read_text()
    for overlay in OVERLAYS:
        assert f"kubectl apply -k deploy/overlays/{overlay}" in page or (
            "kubectl apply -k deploy/overlays/<env>" in page
        )
    for needle in ("/livez", "/readyz", "terminationGracePeriodSeconds", "rollout undo"):
        assert needle in page, needle
    assert "deploy.md" in (service.root / "mkdocs.yml").read_text()
    assert "docs/deploy.md" in (service.root / "README.md").read_text()


KUBERNETES_TRACES = ("deploy/", "kustomiz", "kubectl", "servicemonitor", "scaledobject", "keda")


def _text(root: Path) -> str:
    return "\n".join(
        path.read_text(errors="replace").lower()
        for path in root.rglob("*")
        if path.is_file()
        and not {".git", ".venv", ".mypy_cache", ".ruff_cache"} & set(path.parts)
        and path.name not in {"uv.lock", ".copier-answers.yml"}
    )


def test_without_kubernetes_nothing_is_left_behind(copie_session: Any) -> None:
    result = copie_session.copy(extra_answers={"service_name": "no-k8s", "with_kubernetes": False})
    assert result.exit_code == 0, result.exception
    root: Path = result.project_dir
    assert not (root / "deploy").exists()
    assert not (root / "docs" / "deploy.md").exists()
    text = _text(root)
    assert [word for word in KUBERNETES_TRACES if word in text] == []
    # Twin: the same words are found in a service with Kubernetes.
    with_kubernetes = copie_session.copy(extra_answers={"service_name": "with-k8s"})
    assert with_kubernetes.exit_code == 0, with_kubernetes.exception
    found = _text(with_kubernetes.project_dir)
    assert [word for word in KUBERNETES_TRACES if word not in found] == []
