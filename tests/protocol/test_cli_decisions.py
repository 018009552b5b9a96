"""Each decision of protocol/cli.py pinned in process (``yilu.cli.main`` and the kit itself):
exit codes (docs/architecture.md, "Command line" and "Errors"), help with its example,
options, values, output and terminal detection."""

from __future__ import annotations

import io
import os
import shutil
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import protocol.cli as kit
import verifier._cli as verifier_cli
from yilu.cli import main

# -- exit codes ----------------------------------------------------------------------------------


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trust", "show", "-h"]) == 0
    assert capsys.readouterr().out.startswith("Usage: yilu trust show [OPTIONS]")


def test_a_usage_error_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trust", "show", "--data-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"yilu: error: nothing is installed in {tmp_path / 'trust'}: "
        "run yilu trust install BUNDLE --root KEYS\n"
    )


def test_an_internal_error_exits_3_and_ctrl_c_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(data_dir: str | None, roots: object = None) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(verifier_cli, "_store", broken)
    assert main(["trust", "show"]) == 3
    assert capsys.readouterr().err == "yilu: internal error (RuntimeError): boom; please report it\n"

    def interrupted(data_dir: str | None, roots: object = None) -> object:
        raise KeyboardInterrupt

    monkeypatch.setattr(verifier_cli, "_store", interrupted)
    assert main(["trust", "show"]) == 130
    assert capsys.readouterr().err.strip() == "yilu: interrupted"


def test_the_exit_codes_are_the_documented_ones() -> None:
    assert (kit.EXIT_OK, kit.EXIT_REJECT, kit.EXIT_USAGE, kit.EXIT_UNVERIFIABLE) == (0, 1, 2, 2)
    assert (kit.EXIT_INTERNAL, kit.EXIT_INTERRUPTED) == (3, 130)


# -- help ----------------------------------------------------------------------------------------


def _command(**settings: object) -> click.Command:
    @click.command(
        "probe",
        cls=kit.Command,
        help="a " * 150,
        example="yilu probe one\n  yilu probe two   # indented as written",
        **({"context_settings": {**kit.CONTEXT_SETTINGS, **settings}} if settings else {}),
    )
    @kit.at_option()
    @kit.json_option("the probe")
    @kit.data_dir_option()
    def probe(at: str | None, as_json: bool, data_dir: str | None) -> None:
        click.echo(f"at={at} json={as_json} data_dir={data_dir}")

    return probe


def _help(command: click.Command, monkeypatch: pytest.MonkeyPatch, columns: int = 200) -> str:
    monkeypatch.setattr(shutil, "get_terminal_size", lambda *a, **k: os.terminal_size((columns, 50)))
    ctx = command.make_context("probe", [], resilient_parsing=True)
    return command.get_help(ctx)


def test_a_command_shows_its_example_as_written_after_the_options(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _help(_command(), monkeypatch)
    assert text.endswith(
        "\n  -h, --help      Show this message and exit.\n"
        "\nExample:\n  yilu probe one\n    yilu probe two   # indented as written"
    )


def test_help_is_wrapped_at_100_columns_and_answers_to_h(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = _help(_command(), monkeypatch).splitlines()
    assert lines[2] == "  " + "a " * 47 + "a"  # 97 columns: the most that fits in 100 less the margin
    assert CliRunner().invoke(_command(), ["-h"]).output.startswith("Usage: probe [OPTIONS]")


def test_the_options_of_the_kit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    text = _help(_command(), monkeypatch)
    assert "--at" not in text  # hidden: only tests use it
    assert "  --json          print the probe as JSON (for scripts)\n" in text
    assert "  --data-dir DIR  where trust data is installed (default $YILU_DATA_DIR or ./yilu-data)\n" in text
    result = CliRunner().invoke(
        _command(), ["--json", "--at", "2026-01-01T00:00:00Z", "--data-dir", str(tmp_path)]
    )
    assert result.output == f"at=2026-01-01T00:00:00Z json=True data_dir={tmp_path}\n"
    shown = kit.at_option("when", hidden=False)(click.command("x")(lambda at: None))
    assert [(p.name, p.hidden) for p in shown.params] == [("at", False)]


def test_a_group_lists_its_commands_in_the_order_added_and_shows_its_example(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    grp = kit.group("g", help="A group.", example="yilu g zeta")
    for name in ("zeta", "alpha"):
        grp.command(name, help=f"the {name} command", example=f"yilu g {name}")(lambda: None)
    assert isinstance(grp.commands["zeta"], kit.Command)
    ctx = grp.make_context("g", [], resilient_parsing=True)
    assert grp.list_commands(ctx) == ["zeta", "alpha"]
    monkeypatch.setattr(shutil, "get_terminal_size", lambda *a, **k: os.terminal_size((200, 50)))
    text = grp.get_help(ctx)
    assert text.index("zeta") < text.index("alpha")
    assert text.endswith("\nExample:\n  yilu g zeta")
    assert "  -h, --help  Show this message and exit." in text


# -- values --------------------------------------------------------------------------------------


def test_now_is_the_clock_or_the_given_time() -> None:
    before = datetime.now(UTC)
    got = kit.now(None)
    assert before <= got <= datetime.now(UTC) + timedelta(seconds=1)
    assert got.tzinfo is not None
    assert kit.now("2026-03-01T12:00:00Z") == datetime(2026, 3, 1, 12, tzinfo=UTC)
    with pytest.raises(kit.UsageError, match="--at"):
        kit.now("yesterday")


def test_output_paths_are_checked_before_any_work(tmp_path: Path) -> None:
    assert kit.output_path(str(tmp_path / "out.ylb")) == tmp_path / "out.ylb"
    with pytest.raises(kit.UsageError, match=r"the folder .* does not exist"):
        kit.output_path(str(tmp_path / "missing" / "out.ylb"))
    with pytest.raises(kit.UsageError, match="it is a folder"):
        kit.output_path(str(tmp_path))
    assert kit.writable_file(None) is None
    assert kit.writable_file(str(tmp_path / "x")) == tmp_path / "x"
    with pytest.raises(kit.UsageError):
        kit.writable_file(str(tmp_path))


# -- output --------------------------------------------------------------------------------------


def test_print_json_is_utf8_indented_by_two(capsys: pytest.CaptureFixture[str]) -> None:
    kit.print_json({"name": "中国", "n": [1]})
    assert capsys.readouterr().out == '{\n  "name": "中国",\n  "n": [\n    1\n  ]\n}\n'


def test_print_json_falls_back_to_ascii_for_a_lone_surrogate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    kit.print_json({"a": "\ud800é"})
    assert out.getvalue() == '{\n  "a": "\\ud800\\u00e9"\n}\n'


def test_err_warn_and_shown(capsys: pytest.CaptureFixture[str]) -> None:
    kit.err("one line")
    kit.warn("bad\nthing")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "one line\nyilu: warning: bad\\u000athing\n"
    assert kit.shown("x" * 600) == "x" * 600
    assert kit.shown("x" * 601) == "x" * 599 + "…"


class _Stream:
    def __init__(self, tty: bool | None) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        if self.tty is None:
            raise ValueError("I/O operation on closed file")
        return self.tty


def test_on_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert kit.on_terminal(_Stream(True)) is True
    assert kit.on_terminal(_Stream(False)) is False
    assert kit.on_terminal(_Stream(None)) is False
    assert kit.on_terminal(object()) is False  # type: ignore[arg-type]
    monkeypatch.setenv("TERM", "dumb")
    assert kit.on_terminal(_Stream(True)) is False
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv("NO_COLOR", "")
    assert kit.on_terminal(_Stream(True)) is False
    monkeypatch.delenv("TERM")
    monkeypatch.delenv("NO_COLOR")
    assert kit.on_terminal(_Stream(True)) is True


def test_a_table_has_its_title_columns_and_rows_without_highlighting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    kit.table("labs", ("name", "count"), [("Qingdao", "123"), ("Almaty", "7")])
    out = capsys.readouterr().out
    assert "labs" in out
    assert "name" in out and "count" in out
    assert "Qingdao" in out and "Almaty" in out
    assert "123" in out
    assert "\x1b[1;36m123" not in out  # rich would colour numbers if it highlighted
    lines = [line for line in out.splitlines() if "Qingdao" in line]
    assert len(lines) == 1 and lines[0].index("Qingdao") < lines[0].index("123")


def test_progress_shows_a_spinner_on_stderr_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.console import Console

    shown: list[tuple[str, bool]] = []
    real_status = Console.status

    def status(self: Console, message: str, **kwargs: object) -> object:
        shown.append((message, self.stderr))
        return real_status(self, message)

    monkeypatch.setattr(Console, "status", status)
    monkeypatch.setattr(kit, "on_terminal", lambda stream: False)
    ran = []
    with kit.progress("working"):
        ran.append(1)
    assert (ran, shown) == ([1], [])
    monkeypatch.setattr(kit, "on_terminal", lambda stream: stream is sys.stderr)
    with kit.progress("working"):
        ran.append(2)
    assert (ran, shown) == ([1, 2], [("working", True)])


def test_an_epilog_comes_before_the_example(monkeypatch: pytest.MonkeyPatch) -> None:
    command = kit.Command("c", epilog="Exit status: 0 on success.", example="yilu c")
    grp = kit.Group("g", epilog="See also yilu c.", example="yilu g c")
    assert _help(command, monkeypatch).endswith("\n\n  Exit status: 0 on success.\n\nExample:\n  yilu c")
    ctx = grp.make_context("g", [], resilient_parsing=True)
    assert grp.get_help(ctx).endswith("\n\n  See also yilu c.\n\nExample:\n  yilu g c")
