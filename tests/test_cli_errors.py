"""Every user error: one line on stderr, the documented exit code, the ledger untouched."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest
from click.testing import CliRunner

from .helpers import db_fingerprint


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def seeded(runner, db_target):
    """A ledger with a source (1) and a claim (2); returns an invoker."""
    from ledger.cli.main import cli

    def invoke(*args: str, input: str | None = None, env: dict | None = None):
        return runner.invoke(cli, ["--db", db_target, *args], input=input, env=env)

    assert invoke("init", "--origin", "err.example/desk", "--key", "alice").exit_code == 0
    assert invoke("source", "add", "memo", "--type", "leaked-document").exit_code == 0
    assert invoke("claim", "add", "C1", "--asserted-by", "1").exit_code == 0
    return invoke


def check_error(result, code: int, message: str, stdout: str = "") -> None:
    """Exit code ``code``, stderr exactly one line containing ``message``, stdout empty
    (or ``stdout``: what a streaming listing printed before the error)."""
    assert result.exit_code == code, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert len(lines[0]) <= 500, lines[0][:500]  # one clear line, whatever the input held
    assert message in lines[0], lines[0]
    assert result.stdout == stdout
    assert "Traceback" not in result.output


CASES = [
    # (args, exit code, message)
    (["show", "99"], 2, "error: no entry 99: the ledger has 3 entries"),
    (["show", "zz"], 2, "error: invalid ref 'zz': give a seq number or at least 4 hex digits"),
    (["show", "abc"], 2, "error: invalid ref 'abc'"),
    (["show", "fffffffffff0"], 2, "error: no entry has a leaf hash starting fffffffffff0"),
    (["claim", "add", "C2", "--asserted-by", "2"], 2, "error: asserted_by: entry 2 is a claim, expected source"),
    (["claim", "add", "C2", "--asserted-by", "7"], 2, "error: no entry 7: the ledger has 3 entries"),
    (["claim", "add", "C2", "--part-of", "1"], 2, "error: part_of: entry 1 is a source, expected claim"),
    (["link", "1", "1", "--relation", "derived-from"], 2, "error: link: an entry cannot be linked to itself"),
    (["link", "1", "2", "--relation", "derived-from"], 2, "error: to: entry 2 is a claim, expected source"),
    (["assess", "0", "--by", "x", "--stance", "denies", "--finding", "y"], 2, "error: target: entry 0 is a key"),
    (["assess", "2", "--by", "x", "--stance", "maybe", "--finding", "y"], 2, "Invalid value for '--stance'"),
    (["assess", "2", "--by", "x", "--stance", "denies", "--finding", "y", "--credibility", "7"], 2, "Invalid value for '--credibility'"),
    (["source", "add", "x", "--type", "news-report", "--grade", "G", "--grade-reason", "r"], 2, "Invalid value for '--grade'"),
    (["source", "add", "x", "--type", "news-report", "--grade", "B"], 2, "--grade and --grade-reason go together"),
    (["source", "add", "x", "--type", "blog"], 2, "Invalid value for '--type'"),
    (["source", "add", "x", "--type", "news-report", "--date", "1 November"], 2,
     "error: source body.occurred_at: '1 November' is not valid: expected when a thing happened"),
    (["source", "add", "x", "--type", "news-report", "--url", "not a url"], 2, "error: source body.url: 'not a url' is not valid"),
    (["source", "add", "x" * 20001, "--type", "news-report"], 2, "error: source body.name:"),
    (["source", "add", "", "--type", "news-report"], 2, "error: source body.name:"),
    (["source", "add", "x", "--type", "news-report", "--file", "/nonexistent/memo.pdf"], 2, "error: no such file: /nonexistent/memo.pdf"),
    (["correct", "1", "--action", "supersede", "--reason", "r"], 2, "--replacement is required with --action supersede"),
    (["correct", "1", "--action", "supersede", "--reason", "r", "--replacement", "2"], 2,
     "error: replacement: entry 2 is a claim, but it replaces a source"),
    (["source", "add", "x", "--type", "person", "--as", "nobody"], 2, "error: no key named 'nobody'"),
    (["source", "add", "x", "--type", "person", "--as", "../etc"], 2, "error: invalid key name '../etc'"),
    (["init"], 2, "error: a ledger already exists at"),
    (["key", "revoke", "nobody", "--reason", "r"], 2, "error: no active key named 'nobody' in this ledger"),
    (["log", "--about", "42"], 2, "error: no entry 42"),
    (["source", "add", "x", "--type", "person", "--date", "2025-02-31"], 2, "error: occurred_at: 2025-02-31 is not a real date"),
    (["assess", "2", "--by", "x", "--stance", "denies", "--finding", "y", "--reliability", "B"], 2,
     "error: reliability: grades a source, but entry 2 is a claim"),
    (["assess", "1", "--by", "x", "--stance", "denies", "--finding", "y", "--credibility", "3"], 2,
     "error: credibility: grades a claim, but entry 1 is a source"),
    (["key", "revoke", "alice", "--reason", "r"], 2, "error: key: alice is the last active key; register another first"),
    (["frobnicate"], 2, "No such command 'frobnicate'"),
]


@pytest.mark.parametrize("args, code, message", CASES, ids=[" ".join(c[0])[:50] for c in CASES])
def test_cli_error_is_one_line_and_leaves_ledger_unchanged(seeded, db_target, args, code, message):
    before = db_fingerprint(db_target)
    result = seeded(*args)
    check_error(result, code, message)
    assert db_fingerprint(db_target) == before


def test_cli_missing_ledger_is_exit_2_and_creates_nothing(runner, tmp_path):
    from ledger.cli.main import cli

    target = tmp_path / "typo.db"
    for args in (["log"], ["verify"], ["source", "add", "x", "--type", "person"], ["show", "0"], ["export"]):
        result = runner.invoke(cli, ["--db", str(target), *args])
        check_error(result, 2, f"error: no ledger at {target} (create one with: claimledger init)")
    assert not target.exists()


def test_cli_file_that_is_no_database_is_exit_2_and_left_alone(runner, tmp_path):
    """A --db path naming some other file is a wrong path (exit 2), not an unavailable
    database (exit 3); the file is not touched."""
    from ledger.cli.main import cli

    target = tmp_path / "notes.txt"
    target.write_bytes(b"not a ledger at all\n" * 100)
    for args in (["log"], ["verify"], ["source", "add", "x", "--type", "person"], ["export"]):
        result = runner.invoke(cli, ["--db", str(target), *args])
        check_error(result, 2, f"error: no ledger at {target}: the file is not a SQLite database")
    assert target.read_bytes() == b"not a ledger at all\n" * 100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # no -wal or -shm beside it


def test_cli_init_in_missing_directory_is_exit_2(runner, tmp_path):
    from ledger.cli.main import cli

    result = runner.invoke(cli, ["--db", str(tmp_path / "no" / "such" / "l.db"), "init"])
    check_error(result, 2, "error: cannot create a ledger in")


def test_cli_wrong_passphrase_is_exit_2(seeded, db_target):
    before = db_fingerprint(db_target)
    result = seeded("source", "add", "x", "--type", "person", env={"CLAIMLEDGER_PASSPHRASE": "wrong"})
    check_error(result, 2, "error: cannot unlock key 'alice': wrong passphrase or damaged key file")
    assert db_fingerprint(db_target) == before


def test_cli_no_passphrase_without_terminal_is_exit_2(seeded, monkeypatch):
    monkeypatch.delenv("CLAIMLEDGER_PASSPHRASE")
    result = seeded("source", "add", "x", "--type", "person")
    check_error(result, 2, "error: no passphrase: set CLAIMLEDGER_PASSPHRASE or run in a terminal")


def test_cli_key_file_too_open_is_refused(seeded, db_target, key_home):
    path = key_home / "keys" / "alice.key"
    os.chmod(path, 0o644)
    before = db_fingerprint(db_target)
    result = seeded("source", "add", "x", "--type", "person")
    check_error(result, 2, f"error: key file {path} is accessible by others (mode 644); run: chmod 600 {path}")
    assert db_fingerprint(db_target) == before


def test_cli_unregistered_local_key_is_refused(seeded, db_target, key_home):
    from ledger.keys import KeyStore

    KeyStore(key_home).create("mallory", b"correct horse battery staple")
    before = db_fingerprint(db_target)
    result = seeded("source", "add", "x", "--type", "person", "--as", "mallory")
    check_error(result, 2, "is not a registered key")
    assert db_fingerprint(db_target) == before


@pytest.mark.parametrize(
    "content, message",
    [
        (b'{"kind": "source", "body": {"name": "a", "type": "person"}}\n{"kind": "source", "body": ', "line 2: malformed JSON"),
        (b'{"kind": "source", "body": {"name": "a", "type": "person", "name": "b"}}\n', "line 1: duplicate key 'name'"),
        (b'{"kind": "source", "body": {"name": "a", "type": "person", "score": 1.5}}\n', "line 1: number 1.5 is not an integer"),
        (b'{"kind": "source", "body": {"name": "a", "type": "person", "extra": 1}}\n', "line 1: source body: Additional properties are not allowed ('extra' was unexpected)"),
        (b'{"kind": "source", "body": {"type": "person"}}\n', "line 1: source body: 'name' is a required property"),
        (b'{"kind": "rumour", "body": {}}\n', "line 1: kind must be one of"),
        (b'{"kind": "source", "body": {"name": "a", "type": "person"}, "colour": 1}\n', "line 1: unknown field 'colour'"),
        (b'[1, 2]\n', "line 1: expected a JSON object"),
        (b'\xff\xfe\n', "line 1: input is not valid UTF-8"),
        (b'{"kind": "claim", "body": {"text": "c", "asserted_by": ["@nolabel"]}}\n', "line 1: no earlier line has label 'nolabel'"),
        (b'{"kind": "claim", "body": {"text": "c", "asserted_by": ["#77"]}}\n', "line 1: #77 was not recorded before this import"),
        (b'{"kind": "claim", "body": {"text": "c", "asserted_by": ["' + b"ab" * 32 + b'"]}}\n', "line 1: asserted_by: no earlier entry has hash abababababab"),
        (b'{"kind": "source", "body": {"name": "\\ud800", "type": "person"}}\n', "line 1: text holds an unpaired surrogate"),
        (b'{"kind": "source", "body": {"name": "a\\u0000", "type": "person", "sha256": "XYZ"}}\n', "line 1: source body.sha256: 'XYZ' is not valid"),
        (b'{"kind": "source", "body": {"name": "a", "type": "person", "sha256": "' + b"ab" * 32 + b'\\n"}}\n', "line 1: source body.sha256: 'ababab"),
        (b'{"kind": "claim", "body": {"text": "c", "asserted_by": ["' + b"ab" * 32 + b'\\n"]}}\n', "line 1: claim body.asserted_by[0]: 'ababab"),
        (b'{"kind": "assessment", "body": {"target": "#1", "by": "x", "stance": "denies", "finding": "y", "credibility": 9007199254740993}}\n',
         "line 1: assessment body.credibility: 9007199254740993 is greater than the maximum of 6"),
        # Values far past a limit are measured, not quoted: the line stays one short line.
        (b'{"kind": "source", "body": {"name": "' + b"x" * 100_000 + b'", "type": "person"}}\n',
         "line 1: source body.name: 100,000 characters, more than the 20,000 allowed"),
        (b'{"kind": "source", "body": {"name": ["' + b"y" * 100_000 + b'"], "type": "person"}}\n',
         "line 1: source body.name: ['yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy... (100,004 characters) is not of type 'string'"),
    ],
)
def test_cli_bad_import_is_exit_2_and_records_nothing(seeded, db_target, tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    before = db_fingerprint(db_target)
    result = seeded("import", str(path))
    check_error(result, 2, message)
    assert db_fingerprint(db_target) == before


def test_cli_verify_tampered_ledger_is_exit_1_naming_the_entry(seeded, db_path):
    conn = sqlite3.connect(db_path)
    conn.execute("DROP TRIGGER log_no_update")
    conn.execute("UPDATE log SET data = replace(data, 'memo', 'mema') WHERE seq = 1")
    conn.execute("CREATE TRIGGER log_no_update BEFORE UPDATE ON log BEGIN SELECT RAISE(ABORT, 'log is append-only'); END")
    conn.commit()
    conn.close()
    result = seeded("verify")
    check_error(result, 1, "error: entry 1: leaf hash mismatch")


def test_cli_database_locked_is_exit_3(seeded, db_path, monkeypatch):
    import ledger.backend

    monkeypatch.setattr(ledger.backend, "LOCK_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = seeded("source", "add", "x", "--type", "person")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    check_error(result, 3, "error: database unavailable: database is locked")
    assert json.loads(seeded("verify", "--json").stdout)["size"] == 3


def test_cli_update_through_sql_is_refused_by_trigger(seeded, db_path):
    conn = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.IntegrityError, match="log is append-only"):
        conn.execute("UPDATE log SET kind = 'claim' WHERE seq = 1")
    with pytest.raises(sqlite3.IntegrityError, match="tree_node is append-only"):
        conn.execute("DELETE FROM tree_node")
    conn.close()


DAMAGE = {
    "not JSON": b'{"kind": "source", "body": {"name": "tru',
    "nested past the parser": b"[" * 100_000 + b"]" * 100_000,
    "not an object": b"[1,2]",
    "no body": b'{"kind":"source","prev":"x","recorded_at":"x","signer":"x"}',
}
# The commands that read every entry, or this one (``status 2`` and ``claims`` read only
# what claims rest on: below).
READERS = [["log"], ["show", "3"], ["export", "-o", "{tmp}/out.jsonl"], ["report", "-o", "{tmp}/report.html"]]


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_cli_a_damaged_stored_entry_stops_every_reader_with_one_line_naming_it(seeded, db_target, tmp_path, damage):
    """Storage that holds bytes which are not an entry at all (a bad disk, a hand-made
    row): verify names the entry, and so does every command that reads it, in one line,
    exit 1, without a traceback."""
    from ledger.store import Ledger

    from .forgery import forge_append, raw_entry

    listed = seeded("log").stdout  # `log` streams: the rows before entry 3 come out before it stops
    led = Ledger.open(db_target)
    forge_append(led, value_for=lambda seq, prev: raw_entry(seq, DAMAGE[damage]))
    led.close()
    check_error(seeded("verify"), 1, "error: entry 3: ")
    for args in READERS:
        result = seeded(*(arg.replace("{tmp}", str(tmp_path)) for arg in args))
        check_error(result, 1, "error: entry 3: stored bytes are not an entry (", listed if args == ["log"] else "")
    assert seeded("claims").exit_code == 0  # entry 3 names no claim: no status rests on it
    led = Ledger.open(db_target)
    forge_append(led, value_for=lambda seq, prev: raw_entry(seq, DAMAGE[damage], kind="assessment"), refs=(2,))
    led.close()
    for args in (["claims"], ["status", "2"]):  # entry 4 says it assesses claim 2
        check_error(seeded(*args), 1, "error: entry 4: stored bytes are not an entry (")


def test_cli_a_ledger_that_lost_its_origin_says_so_in_one_line(seeded, db_target, tmp_path):
    """The meta table's origin is named by every entry; without it nothing can be
    checked or signed, and every command says the storage is damaged."""
    from sqlalchemy import text

    from ledger.store import Ledger

    led = Ledger.open(db_target)
    with led.engine.begin() as conn:
        conn.execute(text("DELETE FROM meta WHERE key = 'origin'"))
    led.close()
    for args in (["verify"], ["log"], ["source", "add", "x", "--type", "person"], ["report", "-o", str(tmp_path / "r.html")]):
        check_error(seeded(*args), 1, "has lost its origin from the meta table: its storage is damaged")


@pytest.mark.parametrize("extra, flag", [(["-o", "{tmp}/out.jsonl"], "-o/--output"), (["--format", "csv"], "--format")])
def test_cli_export_bundle_refuses_the_log_exports_options(seeded, db_target, tmp_path, extra, flag):
    """--bundle FILE writes FILE: an -o or --format beside it was ignored without a word
    (``--bundle 2 -o b.json`` wrote a bundle named 2)."""
    before, out = db_fingerprint(db_target), tmp_path / "out"
    out.mkdir()
    args = ["export", "--bundle", str(out / "b.json"), *(a.replace("{tmp}", str(out)) for a in extra)]
    check_error(seeded(*args), 2, f"error: {flag} goes with the log export; --bundle FILE writes the bundle to FILE")
    assert list(out.iterdir()) == []
    assert db_fingerprint(db_target) == before


def test_cli_import_stopped_by_a_bad_line_says_what_it_recorded_before(seeded, db_target, tmp_path):
    """A batch lands whole or not at all, and those before a bad line's batch stay: the
    error says so and how many, and the same import, once the line is mended, goes on."""
    from ledger.store import Ledger

    good = [json.dumps({"kind": "source", "body": {"name": f"s{n}", "type": "person"}}) for n in range(30)]
    bad = good[:24] + ['{"kind": "source", "body": {"type": "person"}}'] + good[25:]
    path = tmp_path / "lines.jsonl"
    path.write_text("\n".join(bad) + "\n")
    result = seeded("import", "--batch-size", "10", str(path))
    check_error(result, 2, "error: line 25: source body: 'name' is a required property; the batches before it were "
                           "recorded (20 entries added); the same import again goes on from there")
    led = Ledger.open(db_target)
    assert led.size() == 3 + 20
    led.close()
    before = db_fingerprint(db_target)
    again = seeded("import", "--batch-size", "10", str(path))  # nothing new lands: the ledger is as it was
    check_error(again, 2, "error: line 25: source body: 'name' is a required property")
    assert "recorded" not in again.stderr and db_fingerprint(db_target) == before
    path.write_text("\n".join(good) + "\n")
    assert seeded("import", "--batch-size", "10", str(path)).stdout == "imported 10 entries; skipped 20 already recorded; the ledger now has 33\n"


def test_cli_a_damaged_key_entry_stops_a_writer_with_one_line_naming_it(seeded, db_target):
    """Every append rebuilds the key state from the key entries; one that no longer
    applies (its body lost a member) stops it, naming the entry, in one line."""
    from ledger.store import Ledger

    from .forgery import forge_append, raw_entry

    data = (b'{"body":{},"kind":"key","log":"err.example/desk","prev":"' + b"0" * 64
            + b'","recorded_at":"2026-11-27T00:00:00Z","seq":3,"sig":"' + b"0" * 128 + b'","signer":"' + b"0" * 64 + b'","v":1}')
    led = Ledger.open(db_target)
    forge_append(led, value_for=lambda seq, prev: raw_entry(seq, data, kind="key"))
    led.close()
    before = db_fingerprint(db_target)
    check_error(seeded("source", "add", "x", "--type", "person"), 1, "error: entry 3: key entry does not apply (")
    assert db_fingerprint(db_target) == before


def test_cli_messages_never_show_a_database_password(seeded, db_target, backend, runner):
    """A URL's password is masked wherever a message names the database: error lines
    are read over shoulders and pasted into tickets."""
    from ledger.backend import shown_url
    from ledger.cli.main import cli

    assert shown_url("postgresql+psycopg://desk:s3cret@db.example/ledger") == "postgresql+psycopg://desk:***@db.example/ledger"
    assert shown_url("postgre sql://desk:s3cret@db/x") == "postgre sql://desk:***@db/x"  # not even a URL
    assert shown_url("desk.db") == "desk.db"
    cases = [(["--db", "postgresql+nosuch://desk:s3cret@127.0.0.1/x", "log"], 2, "error: cannot use database URL"),
             (["--db", "postgre sql://desk:s3cret@db/x", "log"], 2, "error: invalid database URL")]
    if backend == "postgresql":  # trust auth takes any password: the ledger is there, so init refuses
        from sqlalchemy.engine import make_url

        with_password = make_url(db_target).set(password="s3cret").render_as_string(hide_password=False)
        cases.append((["--db", with_password, "init"], 2, "error: a ledger already exists at postgresql+psycopg://"))
    for args, code, message in cases:
        result = runner.invoke(cli, args)
        check_error(result, code, message)
        assert "s3cret" not in result.output


def test_cli_sqlalchemy_pool_logs_reach_no_terminal():
    """SQLAlchemy's pool logs, with a traceback, a dropped connection it could not reset;
    with no logging set up Python prints that on stderr, before the command's one line.
    (In a fresh interpreter: pytest's own log capture would hide what a terminal gets.)"""
    import subprocess
    import sys

    code = ("import logging, ledger.cli.main\n"
            "try:\n    raise ConnectionError('server closed the connection unexpectedly')\n"
            "except ConnectionError:\n"
            "    logging.getLogger('sqlalchemy.pool.impl.QueuePool').error('Exception during reset', exc_info=True)\n"
            "logging.getLogger('elsewhere').error('shown')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, "shown\n")


def test_cli_an_error_while_ctrl_c_unwinds_is_reported_as_the_abort(seeded, tmp_path, monkeypatch):
    """Ctrl-C can cut a PostgreSQL query off midway; putting that connection back then
    fails ("can't change 'autocommit' now"), and that error used to be reported, exit 3,
    instead of the Ctrl-C (1 run in 8 of the interrupted-import test, on PostgreSQL).
    The race is stood in for here: an error raised while KeyboardInterrupt unwinds."""
    from ledger.store import Ledger

    def interrupted_then_cleanup_fails(self, *args, **kwargs):
        try:
            raise KeyboardInterrupt
        finally:
            raise RuntimeError("can't change 'autocommit' now: connection in transaction status ACTIVE")

    monkeypatch.setattr(Ledger, "append_many", interrupted_then_cleanup_fails)
    path = tmp_path / "one.jsonl"
    path.write_text('{"kind": "source", "body": {"name": "a", "type": "person"}}\n')
    check_error(seeded("import", str(path)), 1, "error: aborted")


@pytest.mark.parametrize("args", [["show", "1"], ["export", "--format", "prov", "--claim", "2"], ["export"], ["log"]],
                         ids=["echoed", "left-in-the-buffer", "streamed", "table"])
def test_cli_output_to_a_reader_that_went_away_stops_without_a_word(seeded, db_target, key_home, args):
    """`claimledger log | head`: once the reader stops reading, the command stops, prints
    nothing (it said "error: Broken pipe", exit 3) and exits 141, as a shell reports a
    tool that SIGPIPE ended. Output left in stdout's buffer (PROV's one document) fails
    only when the command has ended: there too. In a real process whose stdout pipe
    has no reader."""
    import subprocess
    import sys

    from ledger.importer import Item
    from ledger.keys import KeyStore
    from ledger.store import Ledger

    from .conftest import PASSPHRASE

    led = Ledger.open(db_target)
    signer = KeyStore(key_home).load("alice", PASSPHRASE.encode())
    led.append_many([Item("source", {"name": f"s{n} " + "x" * 200, "type": "person"}) for n in range(200)], signer=signer)
    led.close()
    before = db_fingerprint(db_target)
    # Buffered, as on a user's machine (this project's set PYTHONUNBUFFERED, which writes
    # every byte at once and so never leaves output for the end).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.Popen([sys.executable, "-m", "ledger.cli.main", "--db", db_target, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdout.close()  # gone before the command writes a byte
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert stderr == ""
    assert db_fingerprint(db_target) == before
