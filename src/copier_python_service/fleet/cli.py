"""`cps-fleet`: status, drift and updates for every service generated from this template."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import NoReturn, TypeVar

from packaging.version import InvalidVersion, Version
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from copier_python_service.fleet.drift import (
    ANSWERS_FILE,
    DriftError,
    is_git_source,
    local_source,
    record_source,
)
from copier_python_service.fleet.inventory import (
    FleetError,
    Service,
    discover,
    newest_version,
    read_service,
    template_tags,
)
from copier_python_service.fleet.operations import (
    Outcome,
    Preview,
    Status,
    UpdateResult,
    preview_service,
    require_source,
    service_status,
    update_service,
)

T = TypeVar("T")
R = TypeVar("R")


def _console() -> Console:
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False)


def _jobs(value: str) -> int:
    try:
        jobs = int(value)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(f"--jobs must be a positive integer (got {value!r})")
    return jobs


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line (the full usage is one `--help` away)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cps-fleet",
        description="Report and update the services generated from copier-python-service.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("root", type=Path, metavar="DIR", help="folder holding the services")
        sub.add_argument("--jobs", "-j", type=_jobs, default=4, help="parallel jobs (default 4)")

    status = commands.add_parser("status", help="table of versions, dirty trees and drift")
    common(status)
    status.add_argument("--no-drift", action="store_true", help="skip the drift check (faster)")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    check = commands.add_parser("check", help="exit 1 when a service is behind or drifted")
    common(check)
    check.add_argument("--no-drift", action="store_true", help="only check versions")
    check.add_argument("--json", action="store_true", help="print the statuses as JSON")
    update = commands.add_parser("update", help="update services, each on its own branch")
    common(update)
    update.add_argument("names", nargs="*", help="services to update (name or folder name)")
    update.add_argument("--all", action="store_true", help="update every service")
    update.add_argument("--to", metavar="VERSION", help="target version (default: newest)")
    update.add_argument(
        "--branch-prefix",
        default="template-update",
        help="branch name prefix (default %(default)s)",
    )
    preview = commands.add_parser(
        "preview", help="what `update` would change, file by file, changing nothing"
    )
    common(preview)
    preview.add_argument("names", nargs="*", help="services to preview (default: all)")
    preview.add_argument("--to", metavar="VERSION", help="target version (default: newest)")
    preview.add_argument("--json", action="store_true", help="machine-readable output")
    source = commands.add_parser(
        "set-source", help="record where a service's template now is (a moved clone, a URL)"
    )
    source.add_argument("root", type=Path, metavar="DIR", help="the service's folder")
    source.add_argument("source", metavar="TEMPLATE", help="template URL or path of a clone")
    return parser


def _parallel(
    items: Sequence[T],
    work: Callable[[T], R],
    *,
    jobs: int,
    label: Callable[[T], str],
    title: str,
    not_run: Callable[[T], R],
) -> list[R]:
    """Run ``work`` over ``items`` with a progress display; results keep the input order.

    On Ctrl-C, items not started yet get ``not_run(item)``; running ones are waited for (their
    subprocesses got the same interrupt and roll back), so every item ends with a result.
    """
    console = Console(stderr=True)
    with Progress(
        TextColumn(f"[bold]{title}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task("", total=len(items))

        def run(item: T) -> R:
            result = work(item)
            progress.advance(task)
            progress.update(task, description=f"done: {label(item)}")
            if not console.is_terminal:
                console.print(f"{title}: {label(item)} done", highlight=False)
            return result

        pool = ThreadPoolExecutor(max_workers=jobs)
        futures = [pool.submit(run, item) for item in items]
        try:
            wait(futures)
        except KeyboardInterrupt:
            console.print("interrupted: finishing the services already started...")
            for future in futures:
                future.cancel()
            wait([future for future in futures if not future.cancelled()])
        finally:
            pool.shutdown(wait=True)
    return [
        not_run(item) if future.cancelled() else future.result()
        for item, future in zip(items, futures, strict=True)
    ]


def _services(root: Path) -> list[Service]:
    services = discover(root)
    if not services:
        raise FleetError(f"no service generated from copier-python-service under {root}")
    return services


def _statuses(args: argparse.Namespace) -> list[Status]:
    services = _services(args.root)
    return _parallel(
        services,
        lambda service: service_status(service, drift=not args.no_drift),
        jobs=args.jobs,
        label=lambda service: service.name,
        title="status",
        not_run=lambda service: Status(service=service, error="interrupted before its check"),
    )


def _drift_cell(status: Status) -> str:
    if status.drift is None:
        return "not checked"
    if not status.drift:
        return "none"
    return f"{len(status.drift)} file(s): " + ", ".join(
        line.split(" ", 1)[-1] for line in status.drift[:3]
    )


def _dirty_cell(status: Status) -> str:
    if not status.git:
        return "not a git repo"
    return f"yes ({len(status.dirty)} file(s))" if status.dirty else "no"


def _where(path: Path, root: Path) -> str:
    """A service's folder relative to the DIR given (the whole path when it is outside)."""
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _status_table(statuses: Iterable[Status], root: Path) -> Table:
    table = Table(title="copier-python-service fleet")
    columns = ("service", "path", "template version", "newest", "behind by", "dirty", "drift")
    for column in columns:
        table.add_column(column)
    for status in statuses:
        behind = "?" if status.behind is None else str(status.behind)
        row = [
            status.service.name,
            _where(status.service.path, root),
            status.service.commit,
            str(status.newest or "?"),
            behind,
            _dirty_cell(status),
            _drift_cell(status) if status.error is None else f"error: {status.error}",
        ]
        table.add_row(*row)
    return table


def _status_json(statuses: Iterable[Status]) -> str:
    return json.dumps(
        [
            {
                "service": status.service.name,
                "path": str(status.service.path),
                "version": status.service.commit,
                "newest": None if status.newest is None else str(status.newest),
                "behind": status.behind,
                "git": status.git,
                "dirty": status.dirty,
                "drift": status.drift,
                "error": status.error,
            }
            for status in statuses
        ],
        indent=2,
    )


def cmd_status(args: argparse.Namespace) -> int:
    statuses = _statuses(args)
    if args.json:
        sys.stdout.write(_status_json(statuses) + "\n")
    else:
        _console().print(_status_table(statuses, args.root))
    return 2 if any(status.error for status in statuses) else 0


def cmd_check(args: argparse.Namespace) -> int:
    statuses = _statuses(args)
    console = Console(stderr=True, highlight=False) if args.json else _console()
    if args.json:
        sys.stdout.write(_status_json(statuses) + "\n")
    else:
        console.print(_status_table(statuses, args.root))
    problems = []
    for status in statuses:
        name = status.service.name
        if status.error:
            problems.append(f"{name}: cannot check: {status.error}")
        if status.behind:
            problems.append(f"{name}: {status.behind} release(s) behind {status.newest}")
        if status.drifted:
            problems.append(
                f"{name}: template-owned files drifted: " + "; ".join(status.drift or [])
            )
    for problem in problems:
        console.print(problem)
    if not problems:
        console.print("all services current, no drift")
    return 1 if problems else 0


def _select(services: list[Service], args: argparse.Namespace) -> list[Service]:
    if args.names:
        by_name = {s.name: s for s in services} | {s.path.name: s for s in services}
        unknown = [name for name in args.names if name not in by_name]
        if unknown:
            known = ", ".join(s.name for s in services)
            raise FleetError(f"unknown service(s): {', '.join(unknown)} (known: {known})")
        return list(dict.fromkeys(by_name[name] for name in args.names))
    if args.all:
        return services
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise FleetError("no terminal to choose services: name them or pass --all")
    import questionary

    choices = [
        questionary.Choice(f"{s.name}  ({s.commit} -> {newest_version(s.src_path)})", value=s)
        for s in services
    ]
    chosen = questionary.checkbox("Services to update", choices=choices).ask()
    return list(chosen or [])


def _target(service: Service, wanted: str | None) -> Version:
    tags = template_tags(service.src_path)
    if wanted is None:
        if not tags:
            raise FleetError(f"template {service.src_path} has no release tags")
        return max(tags)
    try:
        version = Version(wanted.removeprefix("v"))
    except InvalidVersion as exc:
        raise FleetError(f"--to {wanted!r} is not a PEP 440 version") from exc
    if version not in tags:
        raise FleetError(f"template {service.src_path} has no release {version}")
    return version


def _summary(results: Sequence[UpdateResult]) -> Table:
    table = Table(title="update summary")
    for column in ("service", "result", "branch"):
        table.add_column(column)
    for result in results:
        table.add_row(result.service.name, result.outcome.value, result.branch or "-")
    return table


def _detail(result: UpdateResult) -> str:
    line = f"{result.service.name}: {result.outcome.value}"
    if result.detail:
        line += f": {result.detail}"
    if result.branch:
        line += f" (branch {result.branch})"
    if result.files:
        line += "; conflicts in: " + ", ".join(result.files)
    return line


def cmd_update(args: argparse.Namespace) -> int:
    services = _select(_services(args.root), args)
    if not services:
        _console().print("nothing selected")
        return 0
    if args.to is not None:
        _target(services[0], args.to)  # a bad --to is an input error, not a per-service failure

    def work(service: Service) -> UpdateResult:
        try:
            require_source(service)
            target = _target(service, args.to)
        except FleetError as exc:
            return UpdateResult(service, Outcome.FAILED, str(exc))
        return update_service(service, target, branch_prefix=args.branch_prefix)

    results = _parallel(
        services,
        work,
        jobs=args.jobs,
        label=lambda service: service.name,
        title="update",
        not_run=lambda service: UpdateResult(
            service, Outcome.SKIPPED, "interrupted before it started: nothing changed"
        ),
    )
    console = _console()
    console.print(_summary(results))
    for result in results:
        console.print(_detail(result), soft_wrap=True)
    bad = {Outcome.CONFLICTS, Outcome.SKIPPED, Outcome.FAILED}
    return 1 if any(result.outcome in bad for result in results) else 0


def _preview_text(preview: Preview, root: Path) -> str:
    head = (
        f"{preview.service.name} ({_where(preview.service.path, root)}): {preview.service.commit}"
    )
    if preview.note:
        return f"{head}: {preview.note}"
    lines = [f"{head} -> {preview.target}"]
    conflicts = set(preview.conflicts)
    for change in preview.changes:
        letter, relpath = change.split(" ", 1)
        verb = {"A": "added", "D": "deleted"}.get(letter, "changed")
        lines.append(f"  {'CONFLICT' if relpath in conflicts else verb:<8} {relpath}")
    if not preview.changes:
        lines.append("  no file changes")
    lines.extend(
        f"  seed     {relpath}  (yours, not updated: the template's version is newer, read it)"
        for relpath in preview.newer_seeds
    )
    return "\n".join(lines)


def _preview_json(previews: Iterable[Preview]) -> str:
    return json.dumps(
        [
            {
                "service": preview.service.name,
                "path": str(preview.service.path),
                "version": preview.service.commit,
                "target": None if preview.target is None else str(preview.target),
                "changes": preview.changes,
                "conflicts": preview.conflicts,
                "newer_seeds": preview.newer_seeds,
                "note": preview.note or None,
            }
            for preview in previews
        ],
        indent=2,
    )


def cmd_preview(args: argparse.Namespace) -> int:
    services = _services(args.root)
    if args.names:
        services = _select(services, args)
    if args.to is not None:
        _target(services[0], args.to)

    def work(service: Service) -> Preview:
        try:
            require_source(service)
            target = _target(service, args.to)
        except FleetError as exc:
            return Preview(service, note=f"cannot preview: {exc}")
        return preview_service(service, target)

    previews = _parallel(
        services,
        work,
        jobs=args.jobs,
        label=lambda service: service.name,
        title="preview",
        not_run=lambda service: Preview(service, note="interrupted before it started"),
    )
    if args.json:
        sys.stdout.write(_preview_json(previews) + "\n")
    else:
        for preview in previews:
            _console().print(_preview_text(preview, args.root), soft_wrap=True)
    return 2 if any(p.note.startswith("cannot preview") for p in previews) else 0


def cmd_set_source(args: argparse.Namespace) -> int:
    service = read_service(args.root.resolve())
    if service is None:
        raise FleetError(f"{args.root} holds no service generated from copier-python-service")
    source: str = args.source
    path = local_source(source)
    if path is not None:
        path = path.resolve()
        if not is_git_source(path):
            raise FleetError(f"{path} is not a git repository of the template")
        source = str(path)
    template_tags(source)  # reachable, or a one-line FleetError
    try:
        old = record_source(service.path, source)
    except DriftError as exc:
        raise FleetError(str(exc)) from exc
    _console().print(
        f"{service.name}: template source {old} -> {source} (in {ANSWERS_FILE}: commit it)",
        soft_wrap=True,
    )
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "status": cmd_status,
    "check": cmd_check,
    "update": cmd_update,
    "preview": cmd_preview,
    "set-source": cmd_set_source,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except FleetError as exc:
        sys.stderr.write(f"cps-fleet: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("cps-fleet: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
