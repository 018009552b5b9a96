"""What every party's command group shares: exit codes, one-line errors, output, help.

Each party keeps its commands next to its code (``issuer/_cli.py``, ``verifier/_cli.py``,
``trust_registry/_cli.py``) as a click group built from the classes here; ``yilu/cli.py``
composes them into the one ``yilu`` command and turns errors into exit codes
(docs/architecture.md, "Command line").

Conventions: bad input raises :class:`UsageError` (or a ``YiluError``) and becomes one
``yilu: error:`` line on stderr with exit 2; results go to stdout, what changed to stderr;
``--json`` prints one JSON document; a terminal gets colour, tables and progress (rich,
imported only then), a pipe plain text. Every command, argument and option has help, and
every command an example (``tests/cli/test_cli_help.py`` walks the whole tree).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final, TypeVar

import click

from protocol.errors import YiluError

EXIT_OK: Final = 0
EXIT_REJECT: Final = 1
EXIT_USAGE: Final = 2
EXIT_UNVERIFIABLE: Final = 2
EXIT_INTERNAL: Final = 3
EXIT_INTERRUPTED: Final = 130
#: Where ``yilu trust`` keeps the pinned root and the installed snapshot (DESIGN.md,
#: "Command line contract"): ``$YILU_DATA_DIR/trust``, ``./yilu-data`` by default.
DATA_DIR_ENV: Final = "YILU_DATA_DIR"
DEFAULT_DATA_DIR: Final = "yilu-data"
#: A function that a click decorator turns into a command, or the command it made.
FC = TypeVar("FC", bound="Callable[..., Any] | click.Command")
#: ``-h`` as well as ``--help``, on every command.
CONTEXT_SETTINGS: Final[dict[str, Any]] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class UsageError(Exception):
    """Bad arguments or unusable input: exit 2 with one line."""


# -- help: every argument documented, every command with an example -----------------------------


def _format_example(example: str, formatter: click.HelpFormatter) -> None:
    """The example lines as written (click would re-wrap them into one paragraph)."""
    formatter.write_paragraph()
    formatter.write_text("Example:")
    formatter.indent()
    for line in example.strip().splitlines():
        formatter.write(f"{'':>{formatter.current_indent}}{line}\n")
    formatter.dedent()


class Command(click.Command):
    """A ``yilu`` command: its help, its arguments' help (click >= 8.5 lists them under
    "Positional arguments") and an ``example`` shown after the options."""

    def __init__(self, *args: Any, example: str, **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", CONTEXT_SETTINGS)
        super().__init__(*args, **kwargs)
        self.example = example

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        _format_example(self.example, formatter)


class Group(click.Group):
    """A group of ``yilu`` commands, listed in the order they were added; its commands are
    :class:`Command` and its sub-groups :class:`Group` unless given otherwise."""

    command_class = Command
    group_class = type

    def __init__(self, *args: Any, example: str, **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", CONTEXT_SETTINGS)
        super().__init__(*args, **kwargs)
        self.example = example

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        _format_example(self.example, formatter)


def group(name: str, *, help: str, example: str) -> Group:
    """A party's command group (``yilu lab``, ``yilu registry``, …)."""
    return Group(name, help=help, example=example)


def at_option(
    help: str = "act as of this RFC 3339 time instead of now (for tests and replays)", *, hidden: bool = True
) -> Callable[[FC], FC]:
    """``--at TIME``: hidden where only tests use it."""
    return click.option("--at", metavar="TIME", hidden=hidden, help=help)


def json_option(what: str = "the result") -> Callable[[FC], FC]:
    return click.option("--json", "as_json", is_flag=True, help=f"print {what} as JSON (for scripts)")


def data_dir_option() -> Callable[[FC], FC]:
    return click.option(
        "--data-dir",
        metavar="DIR",
        help=f"where trust data is installed (default ${DATA_DIR_ENV} or ./{DEFAULT_DATA_DIR})",
    )


# -- values ------------------------------------------------------------------------------------


def now(value: str | None) -> datetime:
    """``--at`` as a time (now when not given); a bad one is a usage error."""
    if value is None:
        return datetime.now(UTC)
    from protocol.encoding import parse_time

    try:
        return parse_time(value, "--at")
    except YiluError as exc:
        raise UsageError(str(exc)) from exc


def output_path(value: str) -> Path:
    """Check before any work is done that ``value`` can be written (its folder exists)."""
    path = Path(value)
    if not path.parent.is_dir():
        raise UsageError(f"cannot write {value}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise UsageError(f"cannot write {value}: it is a folder")
    return path


def writable_file(value: str | None) -> Path | None:
    return None if value is None else output_path(value)


# -- output ------------------------------------------------------------------------------------


def print_json(obj: Any) -> None:
    """JSON on stdout, UTF-8; a value that cannot be UTF-8 (a lone surrogate from an
    untrusted ``\\ud800`` escape) makes the whole document ASCII with escapes instead."""
    text = json.dumps(obj, ensure_ascii=False, indent=2)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(obj, ensure_ascii=True, indent=2)
    sys.stdout.write(text + "\n")


def err(text: str) -> None:
    """One line on stderr: what changed, or why nothing could be done."""
    sys.stderr.write(text + "\n")


def shown(value: object) -> str:
    """An error's text made safe for a terminal: it may quote untrusted data (a list's
    issuer, a file name), so control characters are escaped and the length bounded."""
    from protocol.reasons import safe_text

    return safe_text(value, 600)


def warn(text: str) -> None:
    """A ``yilu: warning:`` line: the command succeeded, but something needs acting on."""
    err(f"yilu: warning: {shown(text)}")


def on_terminal(stream: IO[Any]) -> bool:
    """True when ``stream`` is a terminal that shows colour and tables (not a pipe, a
    file, ``TERM=dumb`` or ``NO_COLOR``): then rich output; otherwise plain lines."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        return False
    return tty and os.environ.get("TERM") != "dumb" and "NO_COLOR" not in os.environ


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A table on stdout, drawn by rich: only for a terminal (:func:`on_terminal`); the
    caller prints plain lines to a pipe. The cells must already be safe text."""
    from rich.console import Console
    from rich.table import Table

    shown_table = Table(title=title, title_justify="left", title_style="bold")
    for column in columns:
        shown_table.add_column(column, overflow="fold")  # a path or an id is never cut short
    for row in rows:
        shown_table.add_row(*row)
    Console().print(shown_table)  # rich never highlights the cells of a Table


@contextmanager
def progress(message: str) -> Iterator[None]:
    """A spinner with ``message`` on stderr while a long step runs, on a terminal only."""
    if not on_terminal(sys.stderr):
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield
