"""Shared fixtures: a private key home, and a fresh ledger on each storage backend.

Every test that takes ``ledger``, ``cli_invoke`` or ``db_target`` runs twice: on a new
SQLite file under tmp_path, and on a real PostgreSQL server (127.0.0.1:5432, database
``test``, or $CLAIMLEDGER_TEST_PG_URL) in a schema of its own, dropped afterwards.
Tests that take ``db_path`` handle the SQLite file itself and run on SQLite only.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

PASSPHRASE = "correct horse battery staple"
SHARED = Path(__file__).resolve().parents[2] / "shared"
PG_URL = os.environ.get("CLAIMLEDGER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite"] if os.environ.get("CLAIMLEDGER_TEST_PG") == "0" else ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def _pg_admin():
    import psycopg

    return psycopg.connect(PG_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


@pytest.fixture
def db_target(backend: str, tmp_path: Path):
    """Where this test's ledger lives: a SQLite path, or a PostgreSQL URL with its own schema."""
    if backend == "sqlite":
        yield str(tmp_path / "ledger.db")
        return
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with _pg_admin() as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with _pg_admin() as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


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
def db_path(db_target: str, backend: str) -> Path:
    """The SQLite file behind the ledger, for tests that touch the file itself."""
    if backend != "sqlite":
        pytest.skip("handles the SQLite file directly")
    return Path(db_target)


@pytest.fixture
def ledger(db_target: str, signer):
    from ledger.store import Ledger

    led = Ledger.create(db_target, origin="test.example/ledger", signer=signer)
    yield led
    led.close()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cli_invoke(runner: CliRunner, db_target: str):
    """Run a claimledger command against the test ledger; returns click's Result."""
    from ledger.cli.main import cli

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(cli, ["--db", db_target, *args], input=input, catch_exceptions=False)

    return invoke


def shared_path(*parts: str) -> Path:
    """A file under ../shared (vectors, scenario); tests skip nothing if it is missing: they fail."""
    return SHARED.joinpath(*parts)
