"""The template's documentation: the site builds with --strict, the questions reference is
generated from copier.yml, a generated service's docs build too, and the tutorial's commands
run, in order, as a new hire would run them (docs/tutorial.md)."""

from __future__ import annotations

import html
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from docs.hooks.copier_reference import refused_values, validator_messages
from tests import support
from tests.update_support import copy_working_tree, git, tag

REPO_ROOT = Path(__file__).resolve().parent.parent
TUTORIAL = REPO_ROOT / "docs" / "tutorial.md"
DIRECTIVE = re.compile(r"^<!-- tutorial: (?P<kind>[\w-]+)(?P<args>.*?) -->$")
ARGUMENT = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"|(\w+)=(\S+)')  # key="a \"b\"" or key=value
NEW_VERSION_LINE = "This paragraph arrived with template version 0.2.0."


def _env(**extra: str) -> dict[str, str]:
    env = support.git_env(NO_MKDOCS_2_WARNING="1")
    # This interpreter's scripts (copier, mkdocs) first, as under `uv run`.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(extra)
    return env


def _mkdocs_build(
    cwd: Path, *prefix: str, site_dir: Path | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*prefix, "mkdocs", "build", "--strict", "--site-dir", str(site_dir or cwd / "site")],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return result


# --- the template's site ------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    _mkdocs_build(REPO_ROOT, sys.executable, "-m", site_dir=out)
    return out


def test_questions_reference_is_generated_from_copier_yml(site: Path) -> None:
    data = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
    questions = {k: v for k, v in data.items() if not k.startswith("_")}
    page = html.unescape((site / "reference" / "questions" / "index.html").read_text())
    text = re.sub(r"<[^>]+>", "", page)
    assert len(questions) >= 8
    for name, spec in questions.items():
        assert f'id="{name.replace("_", "-")}"' in page, f"no section for question {name}"
        assert " ".join(str(spec["help"]).split()) in " ".join(text.split()), name
        for message in validator_messages(str(spec.get("validator", ""))):
            assert message in " ".join(text.split()), f"{name}: validator message missing"
        for value in refused_values(str(spec.get("validator", ""))):
            assert f"<code>{html.escape(value)}</code>" in page, f"{name}: {value} not listed"
    assert "reserved names" in text, "package_name's reserved names are not listed"


def test_every_standard_has_a_decision_record(site: Path) -> None:
    records = sorted((REPO_ROOT / "docs" / "adr").glob("0*.md"))
    topics = " ".join(path.stem for path in records)
    for topic in (
        "dependency-injection",
        "unit-of-work",
        "kafka-consumer-startup",
        "idempotency",
        "error-model",
        "health",
        "metric-names",
        "timezone",
        "import-rules",
        "test-infrastructure",
    ):
        assert topic in topics, f"no ADR about {topic}"
    for path in records:
        text = path.read_text()
        assert "**Status**" in text
        assert "## Decision" in text
        assert (site / "adr" / path.stem / "index.html").is_file()


def test_architecture_has_its_diagrams(site: Path) -> None:
    text = (REPO_ROOT / "docs" / "architecture.md").read_text()
    assert text.count("```mermaid") >= 3
    assert 'class="mermaid"' in (site / "architecture" / "index.html").read_text()


# --- a generated service's site -------------------------------------------------------------


@pytest.mark.parametrize(
    "answers",
    [{}, {"with_database": False, "with_kafka": False}],
    ids=["full", "bare"],
)
def test_generated_service_docs_build_strict(copie_session: Any, answers: dict[str, Any]) -> None:
    name = "docs-" + ("full" if not answers else "bare")
    result = copie_session.copy(extra_answers={"service_name": name, **answers})
    assert result.exit_code == 0, result.exception
    project = Path(result.project_dir)
    subprocess.run(
        ["uv", "sync", "--quiet", "--group", "docs"],
        cwd=project,
        env=_env(),
        check=True,
        timeout=600,
    )
    _mkdocs_build(project, "uv", "run", "--no-sync")
    built = (project / "site" / "configuration" / "index.html").read_text()
    prefix = name.upper().replace("-", "_") + "_"
    assert f"{prefix}HTTP_PORT" in built, "the settings table was not generated"
    assert f"{prefix}LOG_LEVEL" in built


# --- the tutorial ---------------------------------------------------------------------------


@dataclass
class Step:
    kind: str
    args: dict[str, str]
    line: int
    block: str = ""
    title: str = ""


def tutorial_steps(path: Path = TUTORIAL) -> list[Step]:
    """The directives of the tutorial, each with the fenced block that follows it."""
    steps: list[Step] = []
    lines = path.read_text().splitlines()
    index = 0
    while index < len(lines):
        match = DIRECTIVE.match(lines[index].strip())
        index += 1
        if not match:
            continue
        args = {
            key or bare_key: (quoted or bare).replace('\\"', '"')
            for key, quoted, bare_key, bare in ARGUMENT.findall(match["args"])
        }
        step = Step(match["kind"], args, index)
        if step.kind in {"run", "background", "write"}:
            while not lines[index].startswith("```"):
                index += 1
            fence = lines[index]
            title = re.search(r'title="([^"]+)"', fence)
            step.title = title.group(1) if title else ""
            body = []
            index += 1
            while not lines[index].startswith("```"):
                body.append(lines[index])
                index += 1
            step.block = "\n".join(body) + "\n"
        steps.append(step)
    return steps


def test_the_tutorial_has_every_part() -> None:
    steps = tutorial_steps()
    kinds = [step.kind for step in steps]
    assert kinds.count("run") >= 6
    assert "background" in kinds
    runs = "\n".join(step.block for step in steps if step.kind == "run")
    assert "git tag " in runs, "the tutorial does not cut a new template version"
    expected = [step.args.get("expect", "") for step in steps]
    assert "Keeping template version" in expected, "no update without a newer version"
    assert any(e.startswith("Updating to template version") for e in expected)
    written = {step.title for step in steps if step.kind == "write"}
    assert any(t.startswith("src/bookshop/api/") for t in written), "no endpoint"
    assert any(t.startswith("src/bookshop/repositories/") for t in written), "no model"
    assert any(t.startswith("src/bookshop/handlers/") for t in written), "no handler"
    assert any(t.startswith("tests/") for t in written), "no tests"
    text = TUTORIAL.read_text()
    assert "alembic revision --autogenerate" in text
    assert "copier update" in text


def commands(block: str) -> list[str]:
    """The commands of a shell block: one per line, a trailing backslash continues a line."""
    found: list[str] = []
    pending = ""
    for line in block.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        command = (pending + line).strip()
        pending = ""
        if command and not command.startswith("#"):
            found.append(command)
    return found


@dataclass
class Runner:
    root: Path
    template: Path
    env: dict[str, str]
    port: int
    cwd: Path = field(init=False)
    background: list[subprocess.Popen[str]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.cwd = self.root

    def localise(self, text: str) -> str:
        return text.replace("127.0.0.1:8000", f"127.0.0.1:{self.port}")

    def run(self, step: Step) -> None:
        """Run a block; with `retry=N`, run it again (up to N times in all) while its output
        lacks the expected text: for blocks whose effect is asynchronous (a published event
        being handled). Such blocks must be safe to repeat."""
        for _attempt in range(int(step.args.get("retry", "1")) - 1):
            if self._run_once(step, check_expect=False):
                return
            time.sleep(2)
        self._run_once(step, check_expect=True)

    def script(self, step: Step) -> str:
        """The block as one bash script that checks each command's exit status on its own.

        `set -e` is not enough: it does not stop at a failing command inside an `&&` chain or
        before the last command of a block. Here every command line is followed by a check
        that ends the script with that command's status and says which command it was.
        """
        script = f"set -uo pipefail\ncd {shlex.quote(str(self.cwd))} || exit 99\n"
        for command in commands(self.localise(step.block)):
            script += (
                f"{command}\n__status=$?\nif [ $__status -ne 0 ]; then "
                f"echo {shlex.quote('tutorial command failed: ' + command)} >&2; "
                "exit $__status; fi\n"
            )
        return script

    def _run_once(self, step: Step, *, check_expect: bool) -> bool:
        marker = self.root / ".cwd"
        script = self.script(step) + f"pwd > {shlex.quote(str(marker))}\n"
        result = subprocess.run(
            ["bash", "-c", script],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=600,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        self.log.append(f"$ {step.block}{result.stdout[-3000:]}{result.stderr[-3000:]}")
        assert result.returncode == 0, (
            f"tutorial line {step.line}: exit {result.returncode}\n{step.block}\n"
            f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
        )
        self.cwd = Path(marker.read_text().strip())
        found = step.args.get("expect", "") in result.stdout + result.stderr
        if check_expect:
            assert found, (
                f"tutorial line {step.line}: expected {step.args['expect']!r} in\n"
                f"{result.stdout[-4000:]}"
            )
        return found

    def start(self, step: Step) -> None:
        process = subprocess.Popen(
            ["bash", "-c", f"cd {shlex.quote(str(self.cwd))} && exec {step.block.strip()}"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.background.append(process)
        url = self.localise(step.args["wait"])
        try:
            support.wait_for_http(url, 120, process=process, interval=0.5)
        except (AssertionError, TimeoutError) as exc:  # it exited, or never answered 200
            raise AssertionError(
                f"tutorial line {step.line}: `{step.block.strip()}`: {exc}"
            ) from None

    def stop(self) -> None:
        while self.background:
            process = self.background.pop()
            support.stop(process, 30, group=True)
            if process.stdout:
                process.stdout.close()

    def write(self, step: Step) -> None:
        assert step.title, f"tutorial line {step.line}: a written block needs a title"
        target = self.cwd / step.title
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(step.block)


@pytest.fixture
def runner(tmp_path: Path) -> Iterator[Runner]:
    template = copy_working_tree(tmp_path / "template")
    tag(template, "0.1.0")
    root = tmp_path / "work"
    root.mkdir()
    port = support.free_port()
    env = _env(
        TEMPLATE=str(template),
        BOOKSHOP_HTTP_PORT=str(port),
        BOOKSHOP_KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{support.free_port()}",
        BOOKSHOP_LOG_FORMAT="json",
    )
    env.pop("TEST_DATABASE_URL", None)  # the tutorial runs only unit, HTTP and contract tests
    runner = Runner(root, template, env, port)
    try:
        yield runner
    finally:
        runner.stop()


@pytest.mark.parametrize(
    "block",
    [
        "uv run ruff check . && false && true\necho passed\n",  # inside an && chain
        "true\nfalse\necho passed\n",  # not the last command of the block
        "false | cat\necho passed\n",  # inside a pipeline
    ],
    ids=["and-chain", "middle", "pipeline"],
)
def test_a_failing_command_fails_its_step(runner: Runner, block: str) -> None:
    """The twin of the tutorial test: a broken command fails the step even when the block's
    output still shows the expected text."""
    step = Step("run", {"expect": "passed"}, line=1, block=block)
    with pytest.raises(AssertionError, match="tutorial command failed"):
        runner.run(step)


def test_a_broken_tutorial_command_fails_the_tutorial(runner: Runner) -> None:
    """Break one command of the tutorial's own check step (a ruff rule that does not exist):
    running that step fails although its pytest line would still print "passed"."""
    (step,) = [s for s in tutorial_steps() if "uv run lint-imports" in s.block]
    broken = Step(step.kind, step.args, step.line, step.block.replace(
        "uv run pytest tests/unit tests/integration/test_hello.py tests/contract",
        "echo 1 passed"
    ).replace("uv run ruff check .", "false"))  # fmt: skip
    with pytest.raises(AssertionError, match="tutorial command failed: false"):
        runner.run(broken)


def test_the_tutorial_runs_as_written(runner: Runner) -> None:
    for step in tutorial_steps():
        if step.kind == "run":
            runner.run(step)
        elif step.kind == "background":
            runner.start(step)
        elif step.kind == "stop":
            runner.stop()
        elif step.kind == "write":
            runner.write(step)
        else:
            raise AssertionError(f"tutorial line {step.line}: unknown directive {step.kind}")
    service = runner.root / "bookshop"
    answers = (service / ".copier-answers.yml").read_text()
    assert "_commit: 0.2.0" in answers, answers
    assert NEW_VERSION_LINE in (service / "docs" / "update.md").read_text()
    assert "BOOKSHOP_GREETING" in (service / "README.md").read_text()
    assert git(service, "status", "--porcelain").strip() == ""
