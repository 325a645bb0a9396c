"""Supply chain of a generated service, for every switch combination: its workflows pass
zizmor (offline), its Renovate configuration passes Renovate's own validator and finds every
pin, the SBOM step gives a valid CycloneDX document listing exactly the locked runtime
dependencies, and the audit step audits the lock and fails closed.

Renovate comes from npm, installed once into a cache folder by `.ci/run` (or set
`RENOVATE_BIN_DIR` to a folder holding `renovate` and `renovate-config-validator`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.markers import Marker
from packaging.utils import canonicalize_name

from tests.kafka_support import KAFKA_VERSION
from tests.support import env, run
from tests.test_generate import COMBINATIONS

RENOVATE_BIN_DIR = Path(
    os.environ.get(
        "RENOVATE_BIN_DIR",
        Path.home() / ".cache/copier-python-service/renovate/node_modules/.bin",
    )
)
PINNED_USES = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")


@pytest.fixture(scope="module", params=list(COMBINATIONS), ids=list(COMBINATIONS))
def service(request: pytest.FixtureRequest, copie_session: Any) -> Path:
    """A generated service for one combination (a git repo with uv.lock; not synced)."""
    answers = {"service_name": f"sc-{request.param}", **COMBINATIONS[request.param]}
    result = copie_session.copy(extra_answers=answers)
    assert result.exit_code == 0, result.exception
    project: Path = result.project_dir
    return project


def _tool(directory: Path, name: str) -> str:
    path = directory / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: install Renovate as .ci/run does, or set RENOVATE_BIN_DIR")
    return str(path)


def _zizmor(workflows: Path) -> subprocess.CompletedProcess[str]:
    zizmor = shutil.which("zizmor", path=str(Path(sys.executable).parent)) or "zizmor"
    return run(None, zizmor, "--offline", "--format", "json", workflows, check=False, timeout=120)


def _findings(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [
        f"{f['ident']} ({f['determinations']['severity']}): {f['desc']}: "
        f"{f['locations'][0]['symbolic']['annotation']}"
        for f in json.loads(result.stdout or "[]")
    ]


def _step(service: Path, job: str, name: str) -> dict[str, Any]:
    workflow = yaml.safe_load((service / ".github/workflows/ci.yml").read_text())
    steps = [s for s in workflow["jobs"][job]["steps"] if s.get("name") == name]
    assert len(steps) == 1, f"job {job!r} has no single step named {name!r}"
    step: dict[str, Any] = steps[0]
    return step


def _run_step(
    service: Path, step: dict[str, Any], **extra_env: str
) -> subprocess.CompletedProcess[str]:
    """Run a workflow step's script as GitHub's default shell does (`bash -e`)."""
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=service,
        capture_output=True,
        text=True,
        env=env(**extra_env),
        timeout=900,
        check=False,
        stdin=subprocess.DEVNULL,
    )


# --- workflows -----------------------------------------------------------------------------


def test_every_workflow_passes_zizmor_offline(service: Path) -> None:
    workflows = sorted((service / ".github/workflows").glob("*.yml"))
    assert workflows
    result = _zizmor(service / ".github/workflows")
    assert _findings(result) == []
    assert result.returncode == 0, result.stderr[-3000:]
    for workflow in workflows:  # audited, not skipped
        assert f"completed {workflow}" in result.stderr, result.stderr[-3000:]


def test_zizmor_reports_an_unpinned_action_and_persisted_credentials(
    service: Path, tmp_path: Path
) -> None:
    """The twin of the test above: the same run fails on what the issue found."""
    text = (service / ".github/workflows/ci.yml").read_text()
    text = re.sub(r"actions/checkout@[0-9a-f]{40} # \S+", "actions/checkout@v4", text, count=1)
    text = text.replace("        with:\n          persist-credentials: false\n", "", 1)
    workflows = tmp_path / ".github/workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(text)
    findings = "\n".join(_findings(_zizmor(workflows)))
    assert "unpinned-uses" in findings
    assert "artipacked" in findings


def test_actions_are_pinned_by_commit_hash_with_the_version_in_a_comment(service: Path) -> None:
    pins: dict[str, set[str]] = {}
    for workflow in (service / ".github/workflows").glob("*.yml"):
        for line in workflow.read_text().splitlines():
            uses = re.match(r"^\s*(?:- )?uses: (.*)$", line)
            if uses:
                assert PINNED_USES.match(uses.group(1)), f"{workflow.name}: {line.strip()}"
                pins.setdefault(uses.group(1).split("@")[0], set()).add(uses.group(1))
    assert {"actions/checkout", "actions/setup-python", "astral-sh/setup-uv"} <= set(pins)
    assert all(len(p) == 1 for p in pins.values()), f"one action, several pins: {pins}"


def test_ci_compose_and_testcontainers_run_the_same_apache_kafka(service: Path) -> None:
    """One Apache Kafka image everywhere a generated service meets Kafka, and the version the
    template's own tests run (scripts/kafka_broker.py)."""
    if not (service / "tests/_platform/kafka.py").exists():
        assert "apache/kafka" not in (service / ".github/workflows/ci.yml").read_text()
        return
    workflow = yaml.safe_load((service / ".github/workflows/ci.yml").read_text())
    job = workflow["jobs"]["test"]
    compose = yaml.safe_load((service / "compose.yaml").read_text())
    fixture = re.search(
        r'^KAFKA_IMAGE = "([^"]+)"', (service / "tests/_platform/kafka.py").read_text(), re.M
    )
    assert fixture is not None
    images = {
        job["services"]["kafka"]["image"],
        compose["services"]["kafka"]["image"],
        compose["services"]["kafka-topics"]["image"],
        fixture.group(1),
    }
    assert images == {f"apache/kafka:{KAFKA_VERSION}"}
    assert job["env"]["TEST_KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:9092"
    kafka_env = job["services"]["kafka"]["env"]
    assert kafka_env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert compose["services"]["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    names = [step.get("name", "") for step in job["steps"]]
    topics = names.index("Kafka topics (the service's; the tests create their own)")
    assert topics < [step.get("run") for step in job["steps"]].index("uv run pytest")


def test_compose_publishes_on_loopback_with_credentials_from_dotenv(service: Path) -> None:
    """Nothing of the local stack is reachable from the network, and no password is written
    in compose.yaml: each comes from `.env` (required), and `.env.example` names it."""
    text = (service / "compose.yaml").read_text()
    compose = yaml.safe_load(text)["services"]
    published = [port for item in compose.values() for port in item.get("ports", [])]
    assert published
    assert all(str(port).startswith("127.0.0.1:") for port in published), published
    example = (service / ".env.example").read_text()
    required = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    assert "GRAFANA_ADMIN_PASSWORD" in required
    assert ("POSTGRES_PASSWORD" in required) == ("postgres" in compose)
    for variable in required:
        assert re.search(rf"^{variable}=$", example, re.M), f".env.example lacks {variable}="
    for item in compose.values():
        environment = item.get("environment", {})
        for key, value in environment.items():
            if "PASSWORD" in key:
                assert str(value).startswith("${"), f"{key} is written in compose.yaml"
    assert "app:app@" not in text
    assert "GF_SECURITY_ADMIN_PASSWORD" in compose["grafana"]["environment"]


# --- Renovate ------------------------------------------------------------------------------


def test_renovate_config_passes_renovates_validator(service: Path) -> None:
    validator = _tool(RENOVATE_BIN_DIR, "renovate-config-validator")
    result = run(service, validator, "--strict", ".github/renovate.json5", timeout=300)
    assert "Config validated successfully" in result.stdout


def test_renovate_validator_refuses_a_broken_config(service: Path, tmp_path: Path) -> None:
    """The twin: the validator run above can fail."""
    validator = _tool(RENOVATE_BIN_DIR, "renovate-config-validator")
    text = (service / ".github/renovate.json5").read_text().replace("groupName:", "groupNam:", 1)
    (tmp_path / "renovate.json5").write_text(text)
    with pytest.raises(AssertionError, match=r"Invalid configuration option: packageRules\[\d\]"):
        run(tmp_path, validator, "--strict", "renovate.json5", timeout=300)


def test_renovate_finds_the_template_and_every_pin(service: Path, tmp_path: Path) -> None:
    """Renovate's own extraction (no network) over the generated files.

    Renovate's Copier manager needs `_src_path` to be a URL; a service copied from a local
    path (as here) records a path, so a copy of the service records a URL first."""
    renovate = _tool(RENOVATE_BIN_DIR, "renovate")
    copy = tmp_path / "svc"
    shutil.copytree(service, copy, ignore=shutil.ignore_patterns(".venv"))
    answers = copy / ".copier-answers.yml"
    url = "https://git.example.com/platform/copier-python-service.git"
    answers.write_text(re.sub(r"(?m)^_src_path: .*$", f"_src_path: {url}", answers.read_text()))
    run(copy, "git", "commit", "-q", "-am", "record the template's URL")
    report = tmp_path / "report.json"
    run(
        copy,
        renovate,
        "--platform=local",
        "--dry-run=extract",
        "--onboarding=false",
        "--report-type=file",
        f"--report-path={report}",
        f"--base-dir={tmp_path / 'renovate'}",
        timeout=300,
    )
    files = json.loads(report.read_text())["repositories"]["local"]["packageFiles"]
    deps = {
        manager: [d for f in package_files for d in f["deps"]]
        for manager, package_files in files.items()
    }
    assert [(d["depName"], d["depType"]) for d in deps["copier"]] == [(url, "template")]
    actions = [d for d in deps["github-actions"] if d["depType"] == "action"]
    assert {d["depName"] for d in actions} >= {"actions/checkout", "astral-sh/setup-uv"}
    assert all(re.fullmatch(r"[0-9a-f]{40}", d.get("currentDigest", "")) for d in actions)
    assert all(re.fullmatch(r"v\d+\.\d+\.\d+", d["currentValue"]) for d in actions)
    assert {d["depName"] for d in deps["dockerfile"]} >= {"python"}
    platform = {"fastapi", "uvicorn", "dishka", "cyclonedx-bom", "pip-audit", "pytest"}
    assert platform <= {d["depName"] for d in deps["pep621"]}
    # Every pre-commit hook is `repo: local`: nothing for Renovate to pin or fetch.
    assert "pre-commit" not in deps


# --- SBOM and audit ------------------------------------------------------------------------


def _locked_runtime_packages(lock_path: Path, root: str) -> dict[str, str]:
    """Name -> version of every package the lock installs at run time on this machine:
    the root's dependencies (no dependency groups), their extras, transitively."""
    packages = {p["name"]: p for p in tomllib.loads(lock_path.read_text())["package"]}
    seen: set[tuple[str, tuple[str, ...]]] = set()
    pending: list[tuple[str, tuple[str, ...]]] = [(root, ())]
    while pending:
        name, extras = pending.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        package = packages[name]
        edges = list(package.get("dependencies", []))
        for extra in extras:
            edges += package.get("optional-dependencies", {}).get(extra, [])
        for dep in edges:
            if "marker" not in dep or Marker(dep["marker"]).evaluate({"extra": ""}):
                pending.append((dep["name"], tuple(dep.get("extra", ()))))
    return {name: packages[name]["version"] for name, _ in seen if name != root}


def test_sbom_step_gives_a_valid_cyclonedx_document_of_the_locked_dependencies(
    service: Path,
) -> None:
    result = _run_step(service, _step(service, "supply-chain", "SBOM"))
    assert result.returncode == 0, result.stderr[-3000:]
    upload = _step(service, "supply-chain", "Upload the SBOM")
    assert upload["with"]["path"] == "dist/sbom.cdx.json"
    assert upload["with"]["if-no-files-found"] == "error"
    sbom_path = service / upload["with"]["path"]
    sbom = json.loads(sbom_path.read_text())
    assert sbom["bomFormat"] == "CycloneDX"
    # Validate against the CycloneDX schema of the document's own version.
    validate = (
        "import sys; from cyclonedx.schema import SchemaVersion; "
        "from cyclonedx.validation.json import JsonStrictValidator; "
        "v = SchemaVersion.from_version(sys.argv[1]); "
        "error = JsonStrictValidator(v).validate_str(open(sys.argv[2]).read()); "
        "sys.exit(str(error) if error else 0)"
    )
    run(
        service,
        "uv",
        "run",
        "--locked",
        "--only-group",
        "supply-chain",
        "python",
        "-c",
        validate,
        sbom["specVersion"],
        str(sbom_path),
    )
    answers = yaml.safe_load((service / ".copier-answers.yml").read_text())
    assert sbom["metadata"]["component"]["name"] == answers["service_name"]
    listed = {canonicalize_name(c["name"]): c["version"] for c in sbom["components"]}
    locked = _locked_runtime_packages(service / "uv.lock", answers["service_name"])
    assert listed == {canonicalize_name(n): v for n, v in locked.items()}
    assert "fastapi" in listed
    assert ("aiokafka" in listed) == answers["with_kafka"]
    assert ("sqlalchemy" in listed) == answers["with_database"]
    assert "pytest" not in listed, "dev tools are not part of what ships"


class _OsvStandIn(BaseHTTPRequestHandler):
    """OSV's query API on loopback: one known vulnerability, in `vulnerable` (a package)."""

    vulnerable = ""

    def do_POST(self) -> None:
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        name, version = query["package"]["name"], query["version"]
        answer: dict[str, Any] = {}
        if name == self.vulnerable:
            answer = {
                "vulns": [
                    {
                        "id": "OSV-TEST-0001",
                        "summary": "a known vulnerability",
                        "affected": [
                            {
                                "package": {"name": name, "ecosystem": "PyPI"},
                                "ranges": [
                                    {
                                        "type": "ECOSYSTEM",
                                        "events": [{"introduced": "0"}, {"fixed": version + "1"}],
                                    }
                                ],
                            }
                        ],
                    }
                ]
            }
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def audit(service: Path) -> Iterator[Callable[[str], subprocess.CompletedProcess[str]]]:
    """Run the workflow's audit step against a loopback OSV that knows one vulnerability."""
    run(service, "uv", "sync", "--locked", "--only-group", "supply-chain", "--quiet")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OsvStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1/query"
    step = _step(service, "supply-chain", "Audit")

    def audit(vulnerable: str) -> subprocess.CompletedProcess[str]:
        _OsvStandIn.vulnerable = vulnerable
        return _run_step(service, step, UV_OFFLINE="1", PIP_AUDIT_OSV_URL=url, NO_PROXY="*")

    yield audit
    server.shutdown()
    thread.join()


def test_audit_step_fails_on_a_known_vulnerability_in_the_lock(
    service: Path, audit: Callable[[str], subprocess.CompletedProcess[str]]
) -> None:
    result = audit("starlette")
    assert result.returncode == 1, result.stdout + result.stderr[-3000:]
    assert re.search(r"starlette\s+\S+\s+OSV-TEST-0001", result.stdout), result.stdout


def test_audit_step_passes_when_no_locked_package_is_vulnerable(
    service: Path, audit: Callable[[str], subprocess.CompletedProcess[str]]
) -> None:
    """The twin: the failure above comes from the vulnerability, not from the wiring."""
    result = audit("a-package-not-in-the-lock")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "No known vulnerabilities found" in result.stdout + result.stderr


def test_audit_step_audits_the_lock_and_fails_closed(service: Path) -> None:
    """With the vulnerability database unreachable (a dead proxy on loopback), the audit
    fails instead of passing: every locked package must be audited (`--strict`)."""
    workflow = yaml.safe_load((service / ".github/workflows/ci.yml").read_text())
    job = workflow["jobs"]["supply-chain"]
    step = _step(service, "supply-chain", "Audit")
    assert "continue-on-error" not in job
    assert "continue-on-error" not in step
    assert "||" not in step["run"]
    export, audit = step["run"].strip().splitlines()
    assert export.startswith("uv export --locked --no-default-groups ")
    assert audit.startswith("uv run --locked --only-group supply-chain pip-audit ")
    assert "--requirement dist/requirements.txt" in audit
    assert "--strict" in audit  # a package that cannot be audited fails the step
    run(service, "uv", "sync", "--locked", "--only-group", "supply-chain", "--quiet")
    dead = "http://127.0.0.1:9"
    result = _run_step(service, step, UV_OFFLINE="1", HTTPS_PROXY=dead, HTTP_PROXY=dead)
    assert result.returncode != 0
    assert "osv.dev" in result.stderr
    requirements = (service / "dist/requirements.txt").read_text()
    assert re.search(r"(?m)^fastapi==\S+ \\$", requirements)
    assert "--hash=sha256:" in requirements


def test_docs_show_the_ci_commands_as_ci_runs_them(service: Path) -> None:
    """docs/supply-chain.md's local commands are the workflow's, line for line."""
    docs = (service / "docs/supply-chain.md").read_text()
    for name in ("SBOM", "Audit"):
        for line in _step(service, "supply-chain", name)["run"].strip().splitlines():
            assert f"\n{line}\n" in docs, f"docs/supply-chain.md lacks `{line}`"
