"""Every command has a one-line summary and an example, and README documents it."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from ledger.cli.main import cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def _commands(group: click.Group, prefix: str = ""):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            yield from _commands(command, path + " ")
        else:
            yield path, command


COMMANDS = list(_commands(cli))


@pytest.mark.parametrize("path, command", COMMANDS, ids=[p for p, _ in COMMANDS])
def test_cli_command_has_help_with_example(path, command):
    assert command.help and command.help.strip().splitlines()[0].endswith(".")
    assert "Example" in command.help


@pytest.mark.parametrize("path, command", COMMANDS, ids=[p for p, _ in COMMANDS])
def test_cli_command_is_documented_in_readme(path, command):
    assert f"claimledger {path}" in README


def test_lazy_command_map_matches_the_modules():
    import importlib

    from ledger.cli.main import COMMANDS as LAZY

    for module in set(LAZY.values()):
        group = click.Group()
        importlib.import_module(f"ledger.cli.{module}").register(group)
        assert set(group.commands) == {name for name, m in LAZY.items() if m == module}, module


def test_cli_help_runs(runner):
    for path, _ in COMMANDS:
        result = runner.invoke(cli, [*path.split(), "--help"])
        assert result.exit_code == 0, (path, result.output)
