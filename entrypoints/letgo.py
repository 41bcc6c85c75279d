"""`cloudsync verify --source --report PATH`: the dated report of whether everything GoPro
holds is archived and verified (domain.letgo), as JSON and HTML side by side:
`PATH-YYYY-MM-DD.json` and `.html` (a `.json` or `.html` ending of PATH is dropped). An
existing report is never replaced."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from domain.letgo import LetGoReport, Standing
from entrypoints.exits import UserError


def report_paths(path: Path, day: date) -> tuple[Path, Path]:
    base = path.expanduser()
    if base.suffix in (".json", ".html"):
        base = base.with_suffix("")
    stem = f"{base.name}-{day.isoformat()}"
    return base.with_name(stem + ".json"), base.with_name(stem + ".html")


def document(report: LetGoReport, context: dict[str, str]) -> dict[str, Any]:
    def plain(value: object) -> object:
        return value.isoformat() if isinstance(value, datetime) else value

    return {
        "verdict": report.verdict,
        "safe": report.safe,
        "generated_at": report.generated_at.isoformat(),
        **context,
        "covered": report.covered,
        "counts": {s.value: len(report.of(s)) for s in Standing},
        "items": [{k: plain(v) for k, v in asdict(item).items()} for item in report.items],
    }


def html(report: LetGoReport, context: dict[str, str]) -> str:
    environment = Environment(
        loader=PackageLoader("entrypoints", "templates"), autoescape=select_autoescape()
    )
    sections = [(standing, report.of(standing)) for standing in Standing]
    return environment.get_template("report.html").render(
        report=report, sections=sections, **context
    )


def write_report(report: LetGoReport, path: Path, context: dict[str, str]) -> tuple[Path, Path]:
    """Both files, or neither: an existing one is never replaced."""
    json_path, html_path = report_paths(path, report.generated_at.date())
    for existing in (json_path, html_path):
        if existing.exists():
            raise UserError(f"{existing} exists already; pass another --report (or move it)")
    try:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        with json_path.open("x", encoding="utf-8") as out:
            json.dump(document(report, context), out, indent=2)
            out.write("\n")
        with html_path.open("x", encoding="utf-8") as out:
            out.write(html(report, context))
    except OSError as error:
        json_path.unlink(missing_ok=True)
        raise UserError(f"cannot write the report at {path}: {error.strerror}") from None
    return json_path, html_path
