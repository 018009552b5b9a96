"""The ``yilu`` command line: one small app composing each party's command group.

Each party keeps its commands next to its code (``issuer/_cli.py``, ``verifier/_cli.py``,
``trust_registry/_cli.py``; the demo's in ``yilu/demo.py``) as click commands built with
``protocol.cli``. :data:`COMMANDS` names them; a command's module is imported only when
that command runs or help lists it, so ``yilu verify`` imports no other party (DESIGN.md,
"Performance budget"). A new party group is one line there (docs/architecture.md,
"Command line").

Exit status: 0 success (``verify``: accept), 1 ``verify`` reject, 2 unusable input,
arguments or trust data (``verify``: cannot verify), 3 internal error, 130 interrupted.
Errors are one line on stderr, never a traceback, click's usage errors included.
"""

# The Ctrl-C handler comes first, before any import that runs Python code: _signal and sys
# are loaded at start-up (signal would take ~7 ms of enum, and `from __future__ import
# annotations` imports __future__), so a Ctrl-C meets the handler a few bytecodes after yilu
# starts instead of printing a traceback through this file (tests/cli/test_cli_attacks.py).
import _signal  # type: ignore[import-not-found]
import sys


class _Interrupted(SystemExit):
    """Ctrl-C's exit (130), told apart from any other SystemExit."""


def _interrupted(signum: int, frame: object) -> None:
    """Ctrl-C: one line and exit 130, never a traceback. Installed before anything else
    is imported; SystemExit still runs every ``finally`` and the atomic writes' cleanup."""
    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)  # a second Ctrl-C while cleaning up: still one line
    sys.stderr.write("yilu: interrupted\n")
    raise _Interrupted(130)


def _was_interrupted(exc: BaseException | None) -> bool:
    """True if Ctrl-C's exit is ``exc`` or inside it: Python 3.11 wraps an exception raised
    while a class is created (``__set_name__``, as an import defines its classes) in a
    RuntimeError, which would otherwise reach the user as a traceback."""
    while exc is not None:
        if isinstance(exc, _Interrupted):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _uncaught(kind: type[BaseException], exc: BaseException, tb: object) -> None:
    """The last stop of an exception during yilu's imports: Ctrl-C's, however wrapped, ends
    the process with 130 and the one line already written."""
    if _was_interrupted(exc):
        sys.stderr.flush()
        import os

        os._exit(130)  # every finally has run: the exception has left all of yilu's code
    sys.__excepthook__(kind, exc, tb)  # type: ignore[arg-type]


if __name__ == "__main__" or sys.argv[0].endswith("yilu"):
    _signal.signal(_signal.SIGINT, _interrupted)
    sys.excepthook = _uncaught

import importlib
from collections.abc import Mapping, Sequence
from typing import Any, Final

import click

from protocol.cli import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    Group,
    UsageError,
    err,
    shown,
)
from protocol.errors import YiluError
from yilu import __version__

#: ``yilu``'s commands in the order ``yilu --help`` lists them: name -> ``module:attribute``
#: of a click command or group. Adding a party's group (``yilu serve``, say) is one entry.
COMMANDS: Final[Mapping[str, str]] = {
    "issue": "issuer._cli:issue",
    "revoke": "issuer._cli:revoke",
    "verify": "verifier._cli:verify",
    "trust": "verifier._cli:trust",
    "lab": "issuer._cli:lab",
    "registry": "trust_registry._cli:registry",
    "root": "trust_registry._cli:root",
    "serve": "yilu.serve:serve",
    "demo": "yilu.demo:cli",
}


class App(Group):
    """The top-level ``yilu`` group: its commands are imported from :data:`COMMANDS` when needed."""

    def __init__(self, commands: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lazy = dict(commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.lazy)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return None
        module, _, attribute = self.lazy[cmd_name].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):  # pragma: no cover - a wrong COMMANDS entry
            raise TypeError(f"{self.lazy[cmd_name]} is not a click command")
        return command


app = App(
    COMMANDS,
    name="yilu",
    help="Verifiable cross-border test certificates: sign, print as QR, verify offline.",
    example="yilu demo init demo\n"
    "yilu trust install demo/bundle.ylb --root demo/root/root-keys.json\n"
    "yilu verify certificate.png --country KZ",
)
app = click.version_option(__version__, "--version", prog_name="yilu", message="%(prog)s %(version)s")(app)


def _usage_line(exc: click.UsageError) -> str:
    """click's usage error as one line, pointing at the help of the command it is about."""
    if isinstance(exc, click.exceptions.NoArgsIsHelpError) or exc.message.startswith("Missing command"):
        ctx = exc.ctx
        path = ctx.command_path if ctx else "yilu"
        commands = ctx.command.list_commands(ctx) if ctx and isinstance(ctx.command, click.Group) else []
        message = f"missing command: {path} {'|'.join(commands)}"
    else:
        message = exc.format_message().rstrip(".")
    hint = f" (see {exc.ctx.command_path} --help)" if exc.ctx else ""
    return f"yilu: error: {shown(message)}{hint}"


def main(argv: Sequence[str] | None = None) -> int:
    given = list(sys.argv[1:] if argv is None else argv)
    try:
        code = app.main(args=given, prog_name="yilu", standalone_mode=False)
    except click.UsageError as exc:
        err(_usage_line(exc))
        return EXIT_USAGE
    except click.ClickException as exc:
        err(f"yilu: error: {shown(exc.format_message())}")
        return EXIT_USAGE
    except (UsageError, YiluError) as exc:
        err(f"yilu: error: {shown(exc)}")
        return EXIT_USAGE
    except OSError as exc:
        err(f"yilu: error: {shown(exc.strerror or exc)} ({shown(exc.filename or 'I/O')})")
        return EXIT_USAGE
    except (KeyboardInterrupt, click.Abort):
        err("yilu: interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:  # the last line of defence: never a traceback to a user
        if _was_interrupted(exc):  # Ctrl-C's exit, wrapped by a lazy import's class creation
            return EXIT_INTERRUPTED
        err(f"yilu: internal error ({type(exc).__name__}): {shown(exc)}; please report it")
        return EXIT_INTERNAL
    return code if isinstance(code, int) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
