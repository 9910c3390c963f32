"""Shared fixtures: a private key home and a fresh ledger file under tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

PASSPHRASE = "correct horse battery staple"
SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(autouse=True)
def key_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own key directory and passphrase; nothing leaks between tests."""
    home = tmp_path / "home"
    monkeypatch.setenv("CLAIMLEDGER_HOME", str(home))
    monkeypatch.setenv("CLAIMLEDGER_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("CLAIMLEDGER_DB", raising=False)
    return home


@pytest.fixture
def signer(key_home: Path):
    from ledger.keys import KeyStore

    return KeyStore(key_home).create("alice", PASSPHRASE.encode())


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "ledger.db"


@pytest.fixture
def ledger(db_path: Path, signer):
    from ledger.store import Ledger

    led = Ledger.create(str(db_path), origin="test.example/ledger", signer=signer)
    yield led
    led.close()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cli_invoke(runner: CliRunner, db_path: Path):
    """Run a claimledger command against the test ledger; returns click's Result."""
    from ledger.cli.main import cli

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(cli, ["--db", str(db_path), *args], input=input, catch_exceptions=False)

    return invoke


def shared_path(*parts: str) -> Path:
    """A file under ../shared (vectors, scenario); tests skip nothing if it is missing: they fail."""
    return SHARED.joinpath(*parts)
