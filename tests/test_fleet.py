"""Fleet tool (cps-fleet) against small services generated from a tiny stand-in template.

The stand-in has the same questions as the real template (so the fleet recognises its
services) but renders in milliseconds; tests/test_update.py runs the fleet on services
generated from the real template.
"""

from __future__ import annotations

import json
import os
import pty
import select
import sys
import time
from pathlib import Path

import pytest
import yaml
from copier import run_copy

from copier_python_service.fleet.cli import main
from copier_python_service.fleet.inventory import discover, parse_version
from tests.update_support import commit_all, env, git

COPIER_YML = """\
_subdirectory: template
_skip_if_exists:
  - notes.md
service_name: {type: str, default: svc}
package_name: {type: str, default: "{{ service_name | replace('-', '_') }}"}
with_database: {type: bool, default: true}
with_kafka: {type: bool, default: true}
"""
ANSWERS = "{{ _copier_answers | to_nice_yaml }}"


def _template_version(repo: Path, version: str, platform: str, *, broken: bool = False) -> None:
    body = "{{ service_name }} platform " + platform + ("\n{{ broken(" if broken else "\n")
    (repo / "template" / "platform.txt.jinja").write_text(
        "header: managed by the template\n" + body + "footer\n"
    )
    commit_all(repo, f"release {version}")
    git(repo, "tag", version)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("fake-template")
    (repo / "template").mkdir()
    (repo / "copier.yml").write_text(COPIER_YML)
    (repo / "template" / "{{_copier_conf.answers_file}}.jinja").write_text(ANSWERS)
    (repo / "template" / "notes.md").write_text("service-owned notes\n")
    git(repo, "init", "--quiet", "--initial-branch=main")
    _template_version(repo, "1.0.0", "one")
    _template_version(repo, "1.1.0", "two")
    _template_version(repo, "1.2.0rc1", "three-rc")  # pre-releases are never offered
    _template_version(repo, "1.2.0", "three")
    return repo


def _service(root: Path, template: Path, name: str, version: str) -> Path:
    dst = root / name
    run_copy(
        str(template),
        dst,
        data={"service_name": name},
        vcs_ref=version,
        defaults=True,
        quiet=True,
        unsafe=True,
    )
    git(dst, "init", "--quiet", "--initial-branch=main")
    commit_all(dst, "generated")
    return dst


@pytest.fixture
def fleet(tmp_path: Path, template: Path) -> Path:
    """Four services: current, one behind, two behind and dirty, two behind with drift."""
    root = tmp_path / "fleet"
    _service(root, template, "current", "1.2.0")
    _service(root, template, "behind", "1.1.0")
    dirty = _service(root / "nested", template, "dirty", "1.0.0")
    (dirty / "notes.md").write_text("work in progress\n")
    drifted = _service(root, template, "drifted", "1.0.0")
    text = (drifted / "platform.txt").read_text().replace("header:", "header (edited):")
    (drifted / "platform.txt").write_text(text)
    commit_all(drifted, "edit a template-owned file")
    (root / "not-a-service").mkdir()
    (root / "not-a-service" / ".copier-answers.yml").write_text("_src_path: other\n")
    return root


def _status(fleet: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, object]]:
    capsys.readouterr()
    assert main(["status", str(fleet), "--json", "--jobs", "2"]) == 0
    return {row["service"]: row for row in json.loads(capsys.readouterr().out)}


def test_parse_version_reads_tags_and_describe_output() -> None:
    assert str(parse_version("1.2.0")) == "1.2.0"
    assert str(parse_version("v2.0.0")) == "2.0.0"
    assert str(parse_version("1.2.0-3-gabc123")) == "1.2.0.post3+gabc123"
    assert parse_version("not-a-version") is None


def test_discover_finds_only_services_from_this_template(fleet: Path) -> None:
    names = [service.name for service in discover(fleet)]
    assert names == ["behind", "current", "dirty", "drifted"]


def test_status_reports_versions_dirt_and_drift(
    fleet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = _status(fleet, capsys)
    assert {name: row["behind"] for name, row in rows.items()} == {
        "behind": 1,
        "current": 0,
        "dirty": 2,
        "drifted": 2,
    }
    assert {row["newest"] for row in rows.values()} == {"1.2.0"}
    assert rows["dirty"]["dirty"] == ["notes.md"]
    assert rows["drifted"]["drift"] == ["changed platform.txt"]
    assert rows["current"]["drift"] == []
    assert rows["dirty"]["drift"] == []  # a service-owned file is never drift


def test_status_table_is_readable(fleet: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", str(fleet), "--no-drift"]) == 0
    out = capsys.readouterr().out
    for word in ("service", "template version", "behind by", "current", "1.2.0", "not checked"):
        assert word in out
    assert "path" in out
    assert "nested/dirty" in out  # where each one is, relative to DIR


def test_check_fails_when_behind_or_drifted(
    fleet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(fleet)]) == 1
    out = capsys.readouterr().out
    assert "behind: 1 release(s) behind 1.2.0" in out
    assert "drifted: template-owned files drifted: changed platform.txt" in out
    assert "current:" not in out.split("fleet")[-1].replace("current  ", "")


def test_check_prints_json_for_ci(fleet: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(fleet), "--json"]) == 1
    captured = capsys.readouterr()
    rows = {row["service"]: row for row in json.loads(captured.out)}
    assert rows["behind"]["behind"] == 1
    assert rows["drifted"]["drift"] == ["changed platform.txt"]
    assert rows["current"]["path"] == str(fleet / "current")
    assert "behind: 1 release(s) behind 1.2.0" in captured.err  # the verdict, for the CI log


def test_check_passes_for_a_current_clean_service(
    fleet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(fleet / "current")]) == 0
    assert "all services current, no drift" in capsys.readouterr().out


def test_update_all_reports_each_service_and_keeps_trees_clean(
    fleet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    heads = {p.name: git(p, "rev-parse", "HEAD") for p in (fleet / "behind", fleet / "drifted")}
    assert main(["update", str(fleet), "--all", "--jobs", "3"]) == 1  # a dirty tree was skipped
    out = capsys.readouterr().out
    lines = {line.split(":")[0]: line for line in out.splitlines() if ": " in line}
    assert "already current" in lines["current"]
    assert "updated cleanly" in lines["behind"]
    assert "template-update/1.2.0" in lines["behind"]
    assert "skipped" in lines["dirty"]
    assert "dirty tree: notes.md" in lines["dirty"]
    assert "updated with conflicts" in lines["drifted"]
    assert "platform.txt" in lines["drifted"]

    for name in ("behind", "drifted"):
        service = fleet / name
        # back on the original branch, untouched, clean; the update is one commit on a branch
        assert git(service, "rev-parse", "HEAD") == heads[name]
        assert git(service, "branch", "--show-current").strip() == "main"
        assert git(service, "status", "--porcelain") == ""
        log = git(service, "log", "--format=%s", "main..template-update/1.2.0").splitlines()
        assert len(log) == 1
        assert "-> 1.2.0" in log[0]
        answers = git(service, "show", "template-update/1.2.0:.copier-answers.yml")
        assert "_commit: 1.2.0" in answers
    merged = git(fleet / "behind", "show", "template-update/1.2.0:platform.txt")
    assert "platform three" in merged
    conflicted = git(fleet / "drifted", "show", "template-update/1.2.0:platform.txt")
    assert "<<<<<<< before updating" in conflicted
    message = git(fleet / "drifted", "log", "-1", "--format=%B", "template-update/1.2.0")
    assert "- platform.txt" in message
    # the dirty service was not touched at all
    assert (fleet / "nested" / "dirty" / "notes.md").read_text() == "work in progress\n"
    assert "template-update/1.2.0" not in git(fleet / "nested" / "dirty", "branch")


def test_update_by_name_and_existing_branch_is_skipped(
    fleet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["update", str(fleet), "behind"]) == 0
    assert "updated cleanly" in capsys.readouterr().out
    assert main(["update", str(fleet), "behind"]) == 1
    assert "already exists" in capsys.readouterr().out


def test_failed_update_is_rolled_back_and_reported(
    tmp_path: Path, template: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken-template"
    git(tmp_path, "clone", "--quiet", str(template), str(broken))
    _template_version(broken, "2.0.0", "four", broken=True)
    service = _service(tmp_path / "fleet", broken, "victim", "1.2.0")
    head = git(service, "rev-parse", "HEAD")
    assert main(["update", str(tmp_path / "fleet"), "--all"]) == 1
    out = capsys.readouterr().out
    assert "failed" in out
    assert "copier update failed" in out
    assert "nothing changed, still on main" in out
    assert git(service, "rev-parse", "HEAD") == head
    assert git(service, "status", "--porcelain") == ""
    assert "template-update" not in git(service, "branch")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["status", "/does/not/exist"], "is not a directory"),
        (["update", "{fleet}", "nobody"], "unknown service(s): nobody"),
        (["update", "{fleet}"], "no terminal to choose services: name them or pass --all"),
        (["update", "{fleet}", "--all", "--to", "9.9.9"], "has no release 9.9.9"),
        (["check", "{empty}"], "no service generated from copier-python-service"),
    ],
)
def test_bad_input_is_one_line_without_traceback(
    fleet: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    (tmp_path / "empty").mkdir()
    args = [arg.format(fleet=fleet, empty=tmp_path / "empty") for arg in argv]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_bad_option_value_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["status", ".", "--jobs", "0"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--jobs must be a positive integer" in err
    assert err.count("\n") == 1


def test_unreachable_template_fails_that_service_only(
    fleet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lost = fleet / "behind"
    answers = lost / ".copier-answers.yml"
    text = answers.read_text()
    src = next(line for line in text.splitlines() if line.startswith("_src_path:"))
    answers.write_text(text.replace(src, "_src_path: /nonexistent/template"))
    commit_all(lost, "point at a template that is gone")
    assert main(["update", str(fleet), "--all"]) == 1
    out = capsys.readouterr().out
    said = (
        "behind: failed: .copier-answers.yml records the template source '/nonexistent/template'"
        ", which cannot be reached (no git repository there (moved or deleted?)); fix: uvx --from"
        f" PATH/TO/copier-python-service cps-fleet set-source {lost} PATH/TO/copier-python-service"
    )
    assert said in out
    assert "drifted: updated with conflicts" in out
    assert main(["status", str(fleet), "--json", "--no-drift"]) == 2
    rows = {row["service"]: row for row in json.loads(capsys.readouterr().out)}
    assert "cps-fleet set-source" in str(rows["behind"]["error"])
    assert rows["current"]["error"] is None
    # The command it names fixes it.
    assert main(["set-source", str(lost), str(fleet.parent / "moved")]) == 2
    assert "is not a git repository of the template" in capsys.readouterr().err
    template = Path(yaml.safe_load((fleet / "current" / ".copier-answers.yml").read_text())[
        "_src_path"])  # fmt: skip
    assert main(["set-source", str(lost), str(template)]) == 0
    assert f"template source /nonexistent/template -> {template}" in capsys.readouterr().out
    assert main(["status", str(fleet), "--json", "--no-drift"]) == 0
    rows = {row["service"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["behind"]["error"] is None
    assert rows["behind"]["behind"] == 1


def test_preview_changes_nothing_and_names_each_file(
    fleet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {name: git(fleet / name, "rev-parse", "HEAD") for name in ("behind", "drifted")}
    capsys.readouterr()
    assert main(["preview", str(fleet), "behind", "drifted", "current"]) == 0
    out = capsys.readouterr().out
    assert "behind (" in out
    assert "changed  platform.txt" in out
    assert "CONFLICT platform.txt" in out  # drifted: its edit meets the template's change
    assert "current (" in out
    assert "already current at 1.2.0" in out
    for name, head in before.items():
        assert git(fleet / name, "rev-parse", "HEAD") == head
        assert git(fleet / name, "status", "--porcelain") == ""
        assert "template-update" not in git(fleet / name, "branch")


def _read_until(fd: int, token: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while token not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    return seen


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs a POSIX pseudo-terminal")
def test_update_in_a_terminal_offers_a_checkbox_and_shows_progress(fleet: Path) -> None:
    command = [sys.executable, "-m", "copier_python_service.fleet", "update", str(fleet)]
    pid, fd = pty.fork()
    if pid == 0:  # the child: the CLI, in a terminal
        os.execvpe(command[0], command, env())  # noqa: S606 - fixed argv
    prompt = _read_until(fd, b"Services to update", 60)
    assert b"Services to update" in prompt
    os.write(fd, b" ")  # tick the first service ("behind")
    time.sleep(0.3)
    os.write(fd, b"\r")
    output = _read_until(fd, b"\x00never\x00", 180)  # read to the end
    _, status = os.waitpid(pid, 0)
    text = output.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "behind: updated cleanly" in text
    assert "━" in text  # the progress bar was drawn
    assert "template-update/1.2.0" in git(fleet / "behind", "branch")
    assert "template-update" not in git(fleet / "drifted", "branch")  # not ticked
