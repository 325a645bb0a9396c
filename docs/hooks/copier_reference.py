"""mkdocs hook: the reference of every copier.yml question, generated from copier.yml.

Any page containing the marker below gets it replaced, at build time, by one section per
question (type, default, choices, help and the validator's messages) and a table of the
template's settings, so the reference cannot drift from copier.yml. tests/test_docs.py
checks that the built page names every question.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

MARKER = "<!-- copier-questions -->"
COPIER_YML = Path(__file__).resolve().parents[2] / "copier.yml"


def load_questions(path: Path = COPIER_YML) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """(questions, settings): questions keyed by name, settings are the `_`-prefixed keys."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    questions = {
        name: spec if isinstance(spec, dict) else {"default": spec}
        for name, spec in data.items()
        if not name.startswith("_")
    }
    settings = {name: value for name, value in data.items() if name.startswith("_")}
    return questions, settings


def validator_messages(validator: str) -> list[str]:
    """The messages a Jinja validator can print, with expressions shown as `…`."""
    messages = []
    for part in re.split(r"\{%.*?%\}", validator, flags=re.DOTALL):
        text = " ".join(re.sub(r"\{\{.*?\}\}", "…", part, flags=re.DOTALL).split())
        if text:
            messages.append(text)
    return messages


def refused_values(validator: str) -> list[str]:
    """Values a validator refuses by list (`{% elif x in ['a', 'b'] %}`), in order."""
    values: list[str] = []
    for listing in re.findall(r"\{%-?\s*(?:el)?if\s+\w+\s+in\s+\[(.*?)\]", validator, re.DOTALL):
        values += re.findall(r"'([^']*)'", listing)
    return values


def _code(value: Any) -> str:
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def render(questions: dict[str, dict[str, Any]], settings: dict[str, Any]) -> str:
    lines = [
        "| question | type | default | help |",
        "|---|---|---|---|",
    ]
    for name, spec in questions.items():
        help_text = str(spec.get("help", "")).replace("|", "\\|")
        lines.append(
            f"| [`{name}`](#{name.replace('_', '-')}) | {spec.get('type', 'str')} "
            f"| {_code(spec.get('default', ''))} | {help_text} |"
        )
    for name, spec in questions.items():
        lines += ["", f"## `{name}` {{ #{name.replace('_', '-')} }}", ""]
        lines.append(str(spec.get("help", "(no help text)")))
        lines += ["", f"- **type**: `{spec.get('type', 'str')}`"]
        lines.append(f"- **default**: {_code(spec.get('default', ''))}")
        if spec.get("choices"):
            choices = spec["choices"]
            values = choices.values() if isinstance(choices, dict) else choices
            lines.append("- **choices**: " + ", ".join(_code(v) for v in values))
        if spec.get("when") is not None:
            lines.append(f"- **asked when**: {_code(spec['when'])}")
        messages = validator_messages(str(spec.get("validator", "")))
        refused = refused_values(str(spec.get("validator", "")))
        if refused:
            lines.append("- **reserved names**: " + ", ".join(_code(v) for v in refused))
        if messages:
            lines.append("- **refused with**:")
            lines += [f"    - {message}" for message in messages]
        lines.append(f"- **on the command line**: `--data {name}=<value>`")
    lines += [
        "",
        "## Template settings",
        "",
        "| setting | value |",
        "|---|---|",
    ]
    for name, value in settings.items():
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            shown = ", ".join(_code(v) for v in value)
        elif isinstance(value, (list, dict)):
            shown = f"{len(value)} entries (see `copier.yml`)"
        else:
            shown = _code(value)
        lines.append(f"| `{name}` | {shown} |")
    return "\n".join(lines)


def on_page_markdown(markdown: str, *_args: Any, **_kwargs: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render(*load_questions()))
