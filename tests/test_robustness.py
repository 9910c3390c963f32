"""Concurrent writers, killed imports and copies between backends: nothing lost or forked."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from ledger.store import Ledger
from ledger.verify import verify_ledger

from .conftest import PASSPHRASE

WRITER = """
import sys
from ledger.keys import KeyStore
from ledger.store import Ledger
target, home, name, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
signer = KeyStore(__import__("pathlib").Path(home)).load("alice", b"%s")
ledger = Ledger.open(target)
for n in range(count):
    ledger.append("source", {"name": f"{name} {n}", "type": "person"}, signer=signer)
ledger.close()
""" % PASSPHRASE.encode().decode()


def test_eight_writers_at_once_lose_and_fork_nothing(ledger, key_home, db_target):
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, db_target, str(key_home), f"writer{w}", "250"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for w in range(8)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err  # no process saw an error
    report = verify_ledger(ledger)
    assert report.size == 1 + 8 * 250
    names = [e.body["name"] for e in ledger.iter_entries(kind="source")]
    assert sorted(names) == sorted(f"writer{w} {n}" for w in range(8) for n in range(250))
    assert [e.seq for e in ledger.iter_entries()] == list(range(report.size))


def _lines(count: int, round_: int, offset: int) -> list[dict]:
    """Import lines: sources and claims asserted by them; line n is recorded as seq offset+n."""
    rng = random.Random(round_)
    lines = []
    for n in range(count):
        label = f"{'s' if n % 10 == 0 else 'c'}{offset + n}"
        if n % 10 == 0:
            lines.append({"kind": "source", "label": label, "body": {"name": f"round {round_} source {n}", "type": "news-report"}})
        else:
            lines.append({"kind": "claim", "label": label, "body": {
                "text": f"round {round_} claim {n}: {rng.randrange(10**9)}", "asserted_by": [f"@s{offset + n - n % 10}"]}})
    return lines


def _as_lines(led: Ledger) -> list[dict]:
    """The recorded entries after the key, written back as import lines: references by
    the label of the line that recorded the referenced entry (line n is seq n + 1)."""
    entries = list(led.iter_entries(start=1))
    seq_of = {e.leaf_hash.hex(): e.seq for e in entries}
    label = {e.seq: f"{'s' if e.kind == 'source' else 'c'}{e.seq - 1}" for e in entries}
    lines = []
    for e in entries:
        body = dict(e.body)
        if "asserted_by" in body:
            body["asserted_by"] = [f"@{label[seq_of[r]]}" for r in body["asserted_by"]]
        lines.append({"kind": e.kind, "label": label[e.seq], "body": body})
    return lines


class _Forked:
    """``claimledger ARGS`` in a process forked from this one, as ``subprocess.Popen`` runs
    it (``poll``, ``send_signal``, ``wait``).

    The child has every module imported already, so it starts at once where a new
    interpreter spends half a second on imports, fifty times a test; a SIGKILL finds it
    as deep in its work as it would a command's own process.  A fork copies only the
    thread that makes it, so this one must have no other (``start_import``); and it
    must hold no SQLite connection, whose state the child would share (SQLite's rule).
    """

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        from ledger.cli.main import main

        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        self.returncode: int | None = None
        self.pid = os.fork()
        if self.pid == 0:  # pragma: no cover - the child
            code = 1
            try:
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - gone with the process
                os.environ.clear()
                os.environ.update(env)
                sys.argv = ["claimledger", *args]
                main()
                code = 0
            except SystemExit as exc:
                code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
            finally:
                os._exit(code)

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.returncode is None:  # unreaped, it is still there to signal, if only a zombie
            os.kill(self.pid, signum)

    def wait(self) -> int:
        if self.returncode is None:
            self.returncode = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        return self.returncode


def start_import(args: list[str], env: dict[str, str]) -> _Forked | subprocess.Popen:
    """``claimledger ARGS`` running: forked from this process (``_Forked``) when it has
    no other thread, else in a new interpreter."""
    if threading.active_count() == 1:
        return _Forked(args, env)
    return subprocess.Popen([sys.executable, "-m", "ledger.cli.main", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _kill_once(proc: _Forked | subprocess.Popen, led: Ledger, size: int, then: float, patience: float = 60.0) -> None:
    """SIGKILL ``proc`` ``then`` seconds after the ledger holds ``size`` entries (or it
    has ended, or ``patience`` seconds have passed): at a random moment of a transaction."""
    give_up = time.monotonic() + patience
    while proc.poll() is None and led.size() < size and time.monotonic() < give_up:
        time.sleep(0.002)
    time.sleep(then)
    proc.send_signal(signal.SIGKILL)  # nothing, if it has ended
    proc.wait()


def test_killed_imports_leave_a_prefix_and_resume_without_duplicates(cli_invoke, db_target, key_home, tmp_path):
    """Five imports, each killed (SIGKILL) at ten random points, then run to the end: 50 kills."""
    from ledger.audit import check_checkpoint, verifiers_for

    assert cli_invoke("init", "--origin", "crash.example/desk", "--key", "alice").exit_code == 0
    env = {**os.environ, "CLAIMLEDGER_HOME": str(key_home), "CLAIMLEDGER_PASSPHRASE": PASSPHRASE}
    rng = random.Random(11)
    led = Ledger.open(db_target)
    expected: list[dict] = []
    kept_checkpoint = None
    sizes = set()
    for round_ in range(5):
        lines = _lines(800, round_, len(expected))
        path = tmp_path / f"round{round_}.jsonl"
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        args = ["--db", db_target, "import", str(path)]
        for _ in range(10):
            # One entry a transaction, killed once a chosen number more have landed: at
            # whatever point of a transaction it is then in, on a machine of any speed.
            led.engine.dispose()  # its connections closed: the child shares none of their state
            proc = start_import(args + ["--batch-size", "1"], env)
            _kill_once(proc, led, led.size() + rng.randint(1, 60), then=rng.uniform(0, 0.01))
            report = verify_ledger(led)  # stored checkpoints included: each must still match
            recorded = _as_lines(led)
            assert recorded == (expected + lines)[: len(recorded)]  # exactly a prefix, in order
            sizes.add(len(recorded))
            if kept_checkpoint is not None:  # checkpoints issued before the crash still hold
                check_checkpoint(led, kept_checkpoint, size=report.size, verifiers=verifiers_for(led))
            latest = led.latest_checkpoint()
            kept_checkpoint = latest.note if latest is not None else kept_checkpoint
        before = led.size() - 1 - len(expected)
        # Resumed in the default batches, by the command in a new interpreter: what was
        # recorded one at a time is skipped all the same.
        result = subprocess.run([sys.executable, "-m", "ledger.cli.main", *args, "--json"], env=env,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        expected += lines
        assert json.loads(result.stdout) == {"imported": len(lines) - before, "skipped": before, "size": 1 + len(expected)}
        assert _as_lines(led) == expected  # the whole input, once, in order
    assert len(sizes) >= 10  # the kills landed at many different points
    verify_ledger(led)
    led.close()


def test_copy_between_backends_keeps_the_root(ledger, signer, tmp_path, backend):
    from ledger.copy import copy_ledger
    from .builders import random_items

    ledger.append_many(random_items(120, random.Random(2)), signer=signer, batch_size=13)
    ledger.append("source", {"name": "secret person", "type": "person"}, signer=signer, confidential=["name"])
    target = str(tmp_path / "copy.db")
    copy, report = copy_ledger(ledger, target)
    assert report.root == verify_ledger(ledger).root
    assert copy.secrets(report.size - 1)["name"].value == "secret person"
    copy.append("source", {"name": "after the copy", "type": "person"}, signer=signer)
    assert verify_ledger(copy).size == report.size + 1
    copy.close()
    with pytest.raises(Exception, match="already exists"):
        copy_ledger(ledger, target)


@pytest.mark.parametrize("batch_size", [1, 3, 7, 50])
def test_resumed_import_skips_exactly_what_is_recorded_whatever_the_batches(ledger, signer, batch_size):
    """Items refer to labels in their own batch and in earlier ones; re-running a prefix
    that landed, then the whole input, records each item once and in order."""
    from ledger.importer import Item

    lines = _lines(40, 3, 0)

    def items(count: int) -> list[Item]:
        return [Item(line["kind"], line["body"], label=line["label"]) for line in lines[:count]]

    first = ledger.append_many(items(17), signer=signer, batch_size=batch_size, skip_existing=True)
    assert (first.recorded, first.skipped) == (17, 0)
    again = ledger.append_many(items(40), signer=signer, batch_size=batch_size, skip_existing=True)
    assert (again.recorded, again.skipped) == (23, 17)
    assert _as_lines(ledger) == lines
    once_more = ledger.append_many(items(40), signer=signer, batch_size=batch_size, skip_existing=True)
    assert (once_more.recorded, once_more.skipped) == (0, 40)
    verify_ledger(ledger)


SINGLE_WRITER = """
import sys
from ledger.keys import KeyStore
from ledger.store import Ledger
target, home, name, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
signer = KeyStore(__import__("pathlib").Path(home)).load("alice", b"%s")
ledger = Ledger.open(target)
print("ready", flush=True)
sys.stdin.readline()
for n in range(count):
    ledger.append("source", {"name": f"{name} {n}", "type": "person"}, signer=signer)
ledger.close()
""" % PASSPHRASE.encode().decode()


def _other_writers(db_target: str, key_home: object) -> list[subprocess.Popen[str]]:
    """Two processes appending 150 sources each (``w0 n``, ``w1 n``), started together."""
    writers = [subprocess.Popen([sys.executable, "-c", SINGLE_WRITER, db_target, str(key_home), f"w{w}", "150"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for w in range(2)]
    for proc in writers:
        assert proc.stdout.readline().strip() == "ready"
    for proc in writers:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    return writers


def test_bulk_import_beside_other_writers_records_everything_once_in_order(ledger, signer, key_home, db_target):
    """The import writes batches while it signs the next; when another writer appends
    in between, the batch is prepared again on the new tip, never forked or lost."""
    from ledger.importer import Item

    writers = _other_writers(db_target, key_home)
    items = [Item("source", {"name": f"bulk {n}", "type": "dataset"}) for n in range(3000)]
    done = ledger.append_many(items, signer=signer, batch_size=40, checkpoint_every=0)
    for proc in writers:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    assert done.recorded == 3000
    report = verify_ledger(ledger)
    assert report.size == 1 + 3000 + 2 * 150
    names = [e.body["name"] for e in ledger.iter_entries(kind="source")]
    assert [n for n in names if n.startswith("bulk ")] == [f"bulk {n}" for n in range(3000)]
    for w in range(2):
        assert [n for n in names if n.startswith(f"w{w} ")] == [f"w{w} {n}" for n in range(150)]


def test_planned_import_beside_other_writers_names_the_right_entries(ledger, signer, key_home, db_target,
                                                                      monkeypatch):
    """A batch prepared again on a new tip gets new hashes and seqs: the lines after it,
    which name its lines by number (in memory, or by seq from storage), must name the
    entries as finally recorded."""
    import ledger.store as store
    from ledger.importer import Item
    from ledger.pipeline import PlannedItems

    monkeypatch.setattr(store, "LINES_IN_MEMORY", 64)  # with batches of 40: 320 lines in memory
    writers = _other_writers(db_target, key_home)
    items = []
    for n in range(1000):
        items.append(Item("source", {"name": f"bulk {n}", "type": "dataset"}, f"s{n}"))
        sources = [f"s{n}", f"s{n - 700}"] if n >= 700 else [f"s{n}"]  # far back: read from storage by seq
        items.append(Item("claim", {"text": f"claim {n}", "asserted_by": [f"@{s}" for s in sources]}, f"c{n}"))
    with PlannedItems(ledger, items) as planned:
        done = ledger.append_many(planned, signer=signer, batch_size=40, checkpoint_every=0)
    for proc in writers:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
    assert done.recorded == 2000
    assert verify_ledger(ledger).size == 1 + 2000 + 2 * 150
    name_of = {e.leaf_hash.hex(): e.body["name"] for e in ledger.iter_entries(kind="source")}
    claims = list(ledger.iter_entries(kind="claim"))
    assert [c.body["text"] for c in claims] == [f"claim {n}" for n in range(1000)]
    for n, claim in enumerate(claims):
        named = [f"bulk {n}", f"bulk {n - 700}"] if n >= 700 else [f"bulk {n}"]
        assert [name_of[h] for h in claim.body["asserted_by"]] == named


def test_a_full_disk_stops_an_import_cleanly_and_the_same_import_resumes(signer, tmp_path):
    """SQLite's page limit stands in for the disk filling up (SQLITE_FULL, as a full disk
    gives): the import stops with StorageError (exit 3) naming it, what landed is whole
    batches that verify, and once there is room the same import records the rest once."""
    from sqlalchemy import event

    from ledger.errors import StorageError
    from ledger.importer import Item

    path = tmp_path / "full.db"
    led = Ledger.create(str(path), origin="full.example/desk", signer=signer)
    items = [Item("source", {"name": f"source {n} " + "x" * 400, "type": "person"}) for n in range(3000)]
    room = {"pages": (path.stat().st_size // 4096) + 200}  # some batches' worth, not all

    @event.listens_for(led.engine, "connect")
    def limit(dbapi_conn, _record):
        dbapi_conn.execute(f"PRAGMA max_page_count = {room['pages']}")

    led.engine.dispose()  # connections made from now on have the limit
    with pytest.raises(StorageError, match="database or disk is full") as info:
        led.append_many(items, signer=signer, batch_size=250, checkpoint_every=0)
    assert "the batches before it were recorded" in "; ".join(getattr(info.value, "__notes__", ()))
    landed = led.size() - 1
    assert 0 < landed < 3000 and landed % 250 == 0
    assert verify_ledger(led).size == landed + 1
    room["pages"] = 1 << 30
    led.engine.dispose()
    done = led.append_many(items, signer=signer, batch_size=250, skip_existing=True, checkpoint_every=0)
    assert (done.recorded, done.skipped) == (3000 - landed, landed)
    assert verify_ledger(led).size == 3001
    led.close()


def _import_midway(ledger: Ledger, key_home, db_target: str, tmp_path) -> tuple[subprocess.Popen, Any]:
    """``claimledger import`` of 6,000 lines in batches of 25, in a new interpreter, once
    it has recorded 100 of them (or ended); and a function that runs it again to the end."""
    env = {**os.environ, "CLAIMLEDGER_HOME": str(key_home), "CLAIMLEDGER_PASSPHRASE": PASSPHRASE}
    path = tmp_path / "lines.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in _lines(6000, 0, 0)))
    args = [sys.executable, "-m", "ledger.cli.main", "--db", db_target, "import", "--batch-size", "25", str(path)]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    give_up = time.monotonic() + 120
    while ledger.size() < 1 + 100 and proc.poll() is None and time.monotonic() < give_up:
        time.sleep(0.01)
    return proc, lambda: subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)


def test_ctrl_c_stops_an_import_saying_what_it_recorded_and_the_same_import_resumes(ledger, key_home, db_target, tmp_path):
    """SIGINT, as Ctrl-C sends it, mid-import: exit 1 and one line that says how many
    entries landed; they are whole batches that verify, and the import run again records
    the rest once."""
    proc, rerun = _import_midway(ledger, key_home, db_target, tmp_path)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    landed = ledger.size() - 1
    if proc.returncode == 0:  # the machine finished all 6,000 lines before the signal came: nothing to test
        pytest.skip(f"the import ended before Ctrl-C ({out.strip()})")
    assert proc.returncode == 1, err
    assert err.count("\n") == 1 and out == "", (out, err)
    assert err.startswith(f"error: aborted; the batches before it were recorded ({landed:,} entries added)"), err
    assert 100 <= landed < 6000 and landed % 25 == 0
    assert verify_ledger(ledger).size == landed + 1
    again = rerun()
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"imported {6000 - landed:,} entries; skipped {landed:,} already recorded; the ledger now has 6001\n".replace(",", "")
    assert verify_ledger(ledger).size == 6001


def test_a_dropped_database_connection_stops_an_import_in_one_line_and_it_resumes(ledger, key_home, db_target, backend,
                                                                                    tmp_path):
    """The server ends the import's connections mid-import (a restart, an administrator).
    Between transactions the pool notices and reconnects, and the import goes on; in the
    middle of one, exit 3 and one line (SQLAlchemy's pool logged a traceback before it),
    what landed verifies, and the same import goes on."""
    if backend != "postgresql":
        pytest.skip("a server that drops its connections")
    from .conftest import _pg_admin

    proc, rerun = _import_midway(ledger, key_home, db_target, tmp_path)
    with _pg_admin() as conn:  # the import's connections (its writer's, its planner's), by the name it gives them
        dropped = conn.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                               "WHERE application_name = %s", (f"claimledger {proc.pid}",)).fetchone()[0]
    out, err = proc.communicate(timeout=120)
    assert dropped >= 1
    if proc.returncode == 0:  # the pool's pre-ping found the connection dead between transactions and made another
        assert (out, err) == ("imported 6000 entries; the ledger now has 6001\n", "")
        assert verify_ledger(ledger).size == 6001
        return
    landed = ledger.size() - 1
    assert proc.returncode == 3, err
    assert err.count("\n") == 1 and out == "", (out, err)
    assert err.startswith("error: database connection lost: "), err
    assert f"; the batches before it were recorded ({landed:,} entries added)" in err, err
    assert verify_ledger(ledger).size == landed + 1
    again = rerun()
    assert (again.returncode, again.stdout) == (0, f"imported {6000 - landed} entries; skipped {landed} already recorded; "
                                                   "the ledger now has 6001\n"), again.stderr
