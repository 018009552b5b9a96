"""Every ``yilu`` command says what it does and shows an example; every argument and option
has help. The whole command tree is walked, so a new command cannot slip through."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest

from protocol.cli import Command, Group
from testkit import run_yilu
from yilu.cli import COMMANDS, app


def walk(command: click.Command, parent: click.Context | None = None) -> Iterator[click.Context]:
    ctx = click.Context(command, info_name=command.name if parent else "yilu", parent=parent)
    yield ctx
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, f"{ctx.command_path} lists {name} but cannot load it"
            yield from walk(sub, ctx)


CONTEXTS = list(walk(app))
PATHS = [ctx.command_path for ctx in CONTEXTS]


def test_the_tree_has_every_command() -> None:
    """The walk really covers the tree: every composed command and the sub-commands of each party."""
    assert PATHS[0] == "yilu"
    assert [p.split()[1] for p in PATHS if p.count(" ") == 1] == list(COMMANDS)
    for expected in (
        "yilu issue",
        "yilu verify",
        "yilu trust install",
        "yilu lab republish",
        "yilu registry key revoke",
        "yilu registry token create",
        "yilu registry audit verify",
        "yilu root bundle",
        "yilu root member admit",
        "yilu serve registry",
        "yilu lab key-request",
        "yilu demo refresh",
    ):
        assert expected in PATHS
    assert len(PATHS) >= 30


@pytest.mark.parametrize("ctx", CONTEXTS, ids=PATHS)
def test_command_has_help_and_an_example(ctx: click.Context) -> None:
    command = ctx.command
    assert isinstance(command, Command | Group), f"{ctx.command_path}: build it with protocol.cli"
    assert command.help and len(command.help) > 20, f"{ctx.command_path} has no help text"
    example = command.example.strip()
    assert example, f"{ctx.command_path} has no example"
    # The example runs the command it documents (a group's example, one of its commands).
    assert ctx.command_path in example, f"{ctx.command_path}: the example does not use it: {example}"
    shown = command.get_help(ctx)
    assert "Example:" in shown and example.splitlines()[0] in shown


@pytest.mark.parametrize("ctx", CONTEXTS, ids=PATHS)
def test_every_argument_and_option_has_help(ctx: click.Context) -> None:
    for param in ctx.command.get_params(ctx):
        assert isinstance(param, click.Argument | click.Option)
        assert param.help, f"{ctx.command_path}: {param.name} has no help"


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["-h"],
        ["verify", "--help"],
        ["registry", "key", "revoke", "-h"],
        ["serve", "root", "--help"],
        ["root", "--help"],
    ],
)
def test_help_is_exit_0_on_stdout(args: list[str]) -> None:
    proc = run_yilu(*args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Usage: yilu") and "Example:" in proc.stdout
    assert not proc.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([], "missing command: yilu issue|revoke|verify|trust|lab|registry|root|serve|demo"),
        (["lab"], "missing command: yilu lab init|key-request|show|republish"),
        (["frobnicate"], "No such command 'frobnicate'"),
        (["verify", "x"], "Missing option '--country'"),
        (["verify", "x", "--country", "KZ", "--nope"], "No such option '--nope'"),
        (["verify", "x", "--country", "KZ", "--clock-skew", "-1"], "a whole number of seconds"),
        (["registry", "lab", "status", "https://a.example", "closed"], "'closed' is not one of"),
        (["serve", "registry", "--tls-cert", "c.pem"], "both --tls-cert and --tls-key"),
        (["revoke", "X", "--lab", "d", "--suspend", "--unsuspend"], "cannot be given together"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str], says: str) -> None:
    """click's own usage errors too: one ``yilu: error:`` line, no usage block, exit 2."""
    proc = run_yilu(*args)
    assert proc.returncode == 2, proc
    assert proc.stderr.startswith("yilu: error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert says in proc.stderr
    assert not proc.stdout


def test_version() -> None:
    proc = run_yilu("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("yilu ")
