"""The command reference (docs/commands.md), written from the command line's own
definitions, so the page cannot say an option the command does not take:

    python -m entrypoints.cli_docs        # rewrites docs/commands.md
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from entrypoints.cli import EXIT_CODES, cloudsync

PAGE = Path(__file__).resolve().parents[1] / "docs" / "commands.md"


def _commands(
    group: click.Group, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in group.commands.items():
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))


def _text(value: str | None) -> str:
    """A docstring as Markdown: its lines joined, click's `\\b` markers kept as code."""
    if not value:
        return ""
    paragraphs = inspect.cleandoc(value).split("\n\n")
    out = []
    for paragraph in paragraphs:
        if paragraph.startswith("\b\n"):
            out.append("```\n" + paragraph[2:] + "\n```")
        else:
            out.append(" ".join(paragraph.split()))
    return "\n\n".join(out)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _option_row(option: click.Option) -> str:
    names = ", ".join(f"`{n}`" for n in [*option.opts, *option.secondary_opts])
    if not option.is_flag and not option.count:
        names += f" `{option.make_metavar(click.Context(cloudsync))}`"
    default = option.to_info_dict()["default"]
    shown = "" if option.is_flag or option.count or default is None else f"`{default}`"
    variable = f"`{option.envvar}`" if isinstance(option.envvar, str) else ""
    return f"| {names} | {shown} | {variable} | {_cell(option.help or '')} |"


def reference() -> str:
    lines = [
        "# Commands",
        "",
        "Written from the command line's own definitions (`python -m entrypoints.cli_docs`);",
        "a test keeps it so. Every command also answers `--help`. A setting comes from its",
        "flag, else its environment variable, else the stack, else its default.",
        "",
        " ".join(EXIT_CODES.replace("\b", "").split()),
    ]
    for path, command in _commands(cloudsync):
        lines += ["", f"## cloudsync {' '.join(path)}", ""]
        if isinstance(command, click.Group):
            names = ", ".join(f"`{n}`" for n in command.commands)
            lines += [_text(command.help), "", f"Its commands: {names}."]
            continue
        arguments = [p for p in command.params if isinstance(p, click.Argument)]
        usage = " ".join(["cloudsync", *path, *(a.human_readable_name for a in arguments)])
        lines += [f"`{usage} [OPTIONS]`", "", _text(command.help), ""]
        for argument in arguments:
            if isinstance(argument.type, click.Choice):
                choices = ", ".join(f"`{c}`" for c in argument.type.choices)
                lines += [f"`{argument.human_readable_name}`: one of {choices}.", ""]
        lines += ["| option | default | variable | what |", "|---|---|---|---|"]
        lines += [_option_row(p) for p in command.params if isinstance(p, click.Option)]
        if command.epilog:
            example = command.epilog.removeprefix("Example: ")
            lines += ["", "```bash", example, "```"]
    return "\n".join(lines) + "\n"


def rewrite_block(page: Path, begin: str, end: str, block: str) -> None:
    """Put `block` (which starts with `begin` and ends with `end`) in place of the page's
    text from `begin` to `end`."""
    text = page.read_text(encoding="utf-8")
    start, stop = text.index(begin), text.index(end) + len(end)
    page.write_text(text[:start] + block + text[stop:], encoding="utf-8")


def main() -> int:
    PAGE.write_text(reference(), encoding="utf-8")
    print(f"wrote {PAGE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
