"""The import planned in a second process (ledger.pipeline) records what the ordinary
import records, skips what it skips, and fails where and as it fails."""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path
from typing import Any

import pytest

from ledger.errors import InputError, LedgerError, StorageError, UnknownRef
from ledger.importer import REF_FIELDS, REF_LIST_FIELDS, Item, plan_import
from ledger.keys import KeyStore, key_id
from ledger.labels import Labels
from ledger.pipeline import PlannedItems, PlannedLines, _plan_one, _portable
from ledger.schema import KINDS
from ledger.store import Ledger
from ledger.tables import REFS, SECRETS
from ledger.verify import verify_ledger
from sqlalchemy import select

from .builders import random_items
from .conftest import PASSPHRASE


def _write(path: Path, lines: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return path


def _random_lines(count: int, seed: int) -> list[dict[str, Any]]:
    return [{"kind": i.kind, "body": i.body, "label": i.label} for i in random_items(count, random.Random(seed))]


def _import(led: Ledger, signer: Any, path: Path, *, planned: bool, batch_size: int | None = 50) -> Any:
    """Import ``path`` as ``claimledger import`` does, through either planner."""
    with path.open("rb") as lines:
        if planned:
            with PlannedLines(led, lines, size=led.size()) as items:
                return led.append_many(items, signer=signer, batch_size=batch_size, skip_existing=True)

        def resolve(ref: str) -> tuple[int, str]:
            entry = led.resolve(ref)
            return entry.seq, entry.leaf_hash.hex()

        return led.append_many(plan_import(lines, resolve, size=led.size()), signer=signer,
                               batch_size=batch_size, skip_existing=True)


def _outcome(led: Ledger, signer: Any, path: Path, *, planned: bool, batch_size: int | None = 50) -> tuple[Any, ...]:
    try:
        done = _import(led, signer, path, planned=planned, batch_size=batch_size)
    except LedgerError as exc:
        return type(exc), str(exc), led.size()
    return None, (done.recorded, done.skipped), led.size()


def _recorded(led: Ledger) -> list[tuple[str, dict[str, Any], list[tuple[int, int]]]]:
    """Every entry as (kind, body with references as seqs, its entry_ref rows): what an
    import decides, without the times and hashes that differ from run to run."""
    entries = list(led.iter_entries())
    seq_of = {e.leaf_hash.hex(): e.seq for e in entries}
    with led.engine.connect() as conn:
        refs = conn.execute(select(REFS.c.seq, REFS.c.pos, REFS.c.target).order_by(REFS.c.seq, REFS.c.pos)).all()
    rows: dict[int, list[tuple[int, int]]] = {}
    for seq, pos, target in refs:
        rows.setdefault(seq, []).append((pos, target))
    out = []
    for e in entries:
        body = dict(e.body)
        for name in REF_FIELDS:
            if name in body:
                body[name] = seq_of[body[name]]
        for name in REF_LIST_FIELDS:
            if name in body:
                body[name] = [seq_of[r] for r in body[name]]
        out.append((e.kind, body, rows.get(e.seq, [])))
    return out


@pytest.fixture
def twin(signer: Any, tmp_path: Path) -> Ledger:
    """A SQLite ledger beside ``ledger`` (on either backend), for the ordinary import of
    the same file: its outcome is the reference."""
    led = Ledger.create(str(tmp_path / "twin.db"), origin="test.example/twin", signer=signer)
    yield led
    led.close()


def test_planned_import_records_what_the_ordinary_import_records(ledger, twin, signer, tmp_path):
    path = _write(tmp_path / "lines.jsonl", _random_lines(700, seed=7))
    planned = _import(ledger, signer, path, planned=True)
    ordinary = _import(twin, signer, path, planned=False)
    # Repeated lines (the same correction twice, say) are skipped by both, alike.
    assert (planned.recorded, planned.skipped) == (ordinary.recorded, ordinary.skipped)
    assert planned.recorded + planned.skipped == 700 and planned.skipped > 0
    assert _recorded(ledger) == _recorded(twin)
    assert verify_ledger(ledger).size == planned.recorded + 1


def test_planned_import_runs_on_both_backends_and_resumes(ledger, signer, tmp_path):
    lines = _random_lines(400, seed=11)
    first = _import(ledger, signer, _write(tmp_path / "head.jsonl", lines[:150]), planned=True, batch_size=None)
    again = _import(ledger, signer, _write(tmp_path / "all.jsonl", lines), planned=True, batch_size=None)
    assert again.recorded + again.skipped == 400
    fresh = Ledger.create(str(tmp_path / "fresh.db"), origin="test.example/fresh", signer=signer)
    whole = _import(fresh, signer, tmp_path / "all.jsonl", planned=False)
    assert first.recorded + again.recorded == whole.recorded == ledger.size() - 1
    assert _recorded(ledger) == _recorded(fresh)
    fresh.close()
    once_more = _import(ledger, signer, tmp_path / "all.jsonl", planned=True, batch_size=37)
    assert (once_more.recorded, once_more.skipped) == (0, 400)
    assert verify_ledger(ledger).size == ledger.size()


def _source(n: int) -> dict[str, Any]:
    return {"kind": "source", "label": f"s{n}", "body": {"name": f"source {n}", "type": "person"}}


def _claim(n: int, by: str) -> dict[str, Any]:
    return {"kind": "claim", "label": f"c{n}", "body": {"text": f"claim {n}", "asserted_by": [by]}}


def _revoke(name: str, key: str) -> dict[str, Any]:
    return {"kind": "key", "body": {"action": "revoke", "name": name, "key": key}}


BAD_TAILS: dict[str, list[dict[str, Any]] | str] = {
    "unknown label": [_claim(90, "@nobody")],
    "own label": [{"kind": "claim", "label": "me", "body": {"text": "x", "part_of": "@me", "asserted_by": ["@s0"]}}],
    "wrong kind": [{"kind": "assessment", "body": {"target": "@c1", "by": "desk", "stance": "confirms",
                                                   "finding": "f", "reliability": {"grade": "A", "reason": "r"}}}],
    "linked to itself": [{"kind": "link", "body": {"from": "@s0", "relation": "cites", "to": "@s0"}}],
    "supersedes itself": [{"kind": "correction", "body": {"target": "@c1", "action": "supersede", "reason": "r",
                                                          "replacement": "@c1"}}],
    "schema": [{"kind": "source", "body": {"name": "no type"}}],
    "calendar": [{"kind": "source", "body": {"name": "n", "type": "person", "occurred_at": "2025-02-31"}}],
    "seq past the start": [_claim(91, "#3")],
    "label twice": [_source(0)],
    "malformed": '{"kind": "source", "body": {"name": "x", "type": "person"}',
    # Two labels for one entry: the second source repeats the first, so it is skipped
    # and its label names the first one's entry.
    "linked to itself by two labels": [
        {"kind": "source", "label": "t1", "body": {"name": "twin", "type": "person"}},
        {"kind": "source", "label": "t2", "body": {"name": "twin", "type": "person"}},
        {"kind": "link", "body": {"from": "@t1", "relation": "cites", "to": "@t2"}}],
    "supersedes itself by two labels": [
        {"kind": "claim", "label": "d1", "body": {"text": "twice", "asserted_by": ["@s0"]}},
        {"kind": "claim", "label": "d2", "body": {"text": "twice", "asserted_by": ["@s0"]}},
        {"kind": "correction", "body": {"target": "@d1", "action": "supersede", "reason": "r", "replacement": "@d2"}}],
    "float": '{"kind": "assessment", "body": {"target": "@c1", "by": "d", "stance": "confirms", "finding": "f", "credibility": 2.0}}',
}


@pytest.mark.parametrize("case", sorted(BAD_TAILS))
def test_planned_import_fails_where_and_as_the_ordinary_import_fails(ledger, twin, signer, tmp_path, case):
    """Twelve good lines in batches of 5, then a bad one: the same error, and the same
    two batches recorded, through either planner."""
    good = [_source(0)] + [_claim(n, "@s0") for n in range(1, 12)]
    tail = BAD_TAILS[case]
    text = "".join(json.dumps(line) + "\n" for line in good)
    text += (tail + "\n") if isinstance(tail, str) else "".join(json.dumps(line) + "\n" for line in tail)
    path = tmp_path / "bad.jsonl"
    path.write_text(text, encoding="utf-8")
    planned = _outcome(ledger, signer, path, planned=True, batch_size=5)
    ordinary = _outcome(twin, signer, path, planned=False, batch_size=5)
    assert planned == ordinary
    assert planned[0] is not None and issubclass(planned[0], InputError)
    assert planned[2] == 11  # the key and two batches of five


def test_a_key_entry_in_the_file_changes_who_may_sign_the_lines_after_it(ledger, twin, signer, key_home, tmp_path):
    bob = KeyStore(key_home).create("bob", PASSPHRASE.encode())
    lines = [_source(0), {"kind": "key", "body": {"action": "add", "name": "bob", "public_key": bob.public_key.hex()}},
             _claim(1, "@s0"), _revoke("alice", key_id(signer.public_key).hex()), _claim(2, "@s0")]
    path = _write(tmp_path / "keys.jsonl", lines)
    planned = _outcome(ledger, signer, path, planned=True, batch_size=None)
    ordinary = _outcome(twin, signer, path, planned=False, batch_size=None)
    assert planned == ordinary
    assert "line 5: signer alice" in planned[1] and "was revoked" in planned[1]
    assert planned[2] == 1  # one batch: none of it lands


def test_a_body_that_holds_a_placeholder_takes_the_ordinary_path():
    """Swapping bytes is exact only if the placeholder appears nowhere else in the body."""
    given = Labels()
    placeholder = "ab" * 16 + f"{0:032x}"  # this import's salt, then the number of the line that gave "s0"
    given["s0"] = 0 << 8 | KINDS.index("source")
    from ledger.importer import Item

    def plan(text: str) -> tuple[Any, ...]:
        return _plan_one(Item("claim", {"text": text, "asserted_by": ["@s0"]}, None, "line 2"), given,
                         lambda digest: None, "ab" * 16, 1)

    fast = plan("an ordinary claim")
    quoted = f'"{placeholder}"'.encode()
    assert fast[3] is not None and fast[4] == ((quoted, 0),) and fast[5] == (quoted,)  # line 0 gave "s0"
    assert fast[6] is None and fast[8] == 1
    assert plan(placeholder) is None  # left to the ordinary path
    given.close()


def _far_back_lines() -> list[dict[str, Any]]:
    """Sources, then claims naming them from far back, a repeat of a source under a
    new label (skipped, its label naming the first), and claims naming that label."""
    out = [_source(n) for n in range(60)] + [_claim(n, f"@s{n}") for n in range(60)]
    out.append({**_source(2), "label": "again"})
    out += [_claim(100 + n, "@again") for n in range(3)] + [_claim(200, "@s0")]
    return out


@pytest.mark.parametrize("caller_labels", [False, True])
def test_lines_named_from_far_back_and_a_callers_labels(ledger, twin, signer, tmp_path, monkeypatch, caller_labels):
    """A planned line names an earlier one by its number: the last few are in memory,
    older ones are read from storage by seq.  A caller's label mapping still ends up
    naming every line's entry, skipped ones included, as the ordinary import's does."""
    import ledger.store as store

    monkeypatch.setattr(store, "LINES_IN_MEMORY", 4)  # with batches of 3: 24 lines in memory
    path = _write(tmp_path / "far.jsonl", _far_back_lines())
    planned_labels: dict[str, str] | None = {} if caller_labels else None
    with path.open("rb") as lines, PlannedLines(ledger, lines, size=ledger.size()) as items:
        planned = ledger.append_many(items, signer=signer, batch_size=3, skip_existing=True, labels=planned_labels)
    ordinary_labels: dict[str, str] = {}
    with path.open("rb") as lines:
        ordinary = twin.append_many(plan_import(lines, lambda ref: (0, ""), size=twin.size()), signer=signer,
                                    batch_size=3, skip_existing=True, labels=ordinary_labels)
    assert (planned.recorded, planned.skipped) == (ordinary.recorded, ordinary.skipped) == (124, 1)
    assert _recorded(ledger) == _recorded(twin)
    if planned_labels is not None:
        def seqs(led: Ledger, labels: dict[str, str]) -> dict[str, int]:
            return {label: led.resolve(hex_hash).seq for label, hex_hash in labels.items()}

        assert len(planned_labels) == 125  # every line has a label
        assert seqs(ledger, planned_labels) == seqs(twin, ordinary_labels)
        assert planned_labels["again"] == planned_labels["s2"]


def test_lines_keep_the_last_ones_in_memory_and_the_seqs_of_the_rest():
    from ledger.store import _Lines

    lines = _Lines(4)
    for number in range(0, 20, 2):
        lines.put(number, f"{number:064x}", 100 + number)
    assert len(lines.entries) <= 4 and lines.entries[18] == (f"{18:064x}", 118)
    asked: list[int] = []

    def leaf_at(seq: int) -> bytes:
        asked.append(seq)
        return seq.to_bytes(32, "big")

    assert lines.older(4, leaf_at) == (f"{104:064x}", 104) and asked == [104]


def test_the_planner_dying_is_one_clear_error_and_the_batches_before_stay(ledger, signer, tmp_path, monkeypatch):
    import ledger.pipeline as pipeline

    real = pipeline.plan_lines

    def dies_after_30(*args: Any, **kwargs: Any):
        for n, planned in enumerate(real(*args, **kwargs)):
            if n == 30:
                os._exit(3)  # in the forked planner: as if it were killed
            yield planned

    monkeypatch.setattr(pipeline, "plan_lines", dies_after_30)
    monkeypatch.setattr(pipeline, "CHUNK", 10)
    path = _write(tmp_path / "lines.jsonl", _random_lines(60, seed=3))
    with pytest.raises(StorageError, match="stopped unexpectedly"):
        _import(ledger, signer, path, planned=True, batch_size=10)
    assert ledger.size() in (1, 11, 21, 31)  # whole batches only
    verify_ledger(ledger)


def test_an_error_that_cannot_cross_crosses_as_its_message():
    class Stubborn(UnknownRef):
        def __init__(self, message: str, extra: int) -> None:
            super().__init__(message)
            self.extra = extra

    crossed = _portable(Stubborn("line 4: no earlier line has label 'x'", 1))
    assert type(crossed) is InputError and str(crossed) == "line 4: no earlier line has label 'x'"
    assert isinstance(_portable(UnknownRef("kept")), UnknownRef)


def test_the_planner_says_how_far_it_has_read(ledger, signer, tmp_path):
    path = _write(tmp_path / "lines.jsonl", _random_lines(300, seed=5))
    seen = []
    with path.open("rb") as lines, PlannedLines(ledger, lines, size=ledger.size()) as items:
        ledger.append_many(items, signer=signer, on_batch=lambda _: seen.append(items.position))
    assert seen and seen == sorted(seen) and seen[-1] == path.stat().st_size


def test_the_planner_gives_way_to_the_signing_thread(ledger, tmp_path):
    """The planner runs PLANNER_NICE steps below the importing process: on two cores
    the signing thread, the critical path, then gets a core first."""
    import ledger.pipeline as pipeline

    read_end, write_end = os.pipe()  # lines that never come: the planner waits, alive
    try:
        with os.fdopen(read_end, "rb") as lines, PlannedLines(ledger, lines, size=ledger.size()) as items:
            expected = min(os.getpriority(os.PRIO_PROCESS, 0) + pipeline.PLANNER_NICE, 19)
            deadline = time.monotonic() + 5
            while os.getpriority(os.PRIO_PROCESS, items._pid) != expected and time.monotonic() < deadline:
                time.sleep(0.01)
            assert os.getpriority(os.PRIO_PROCESS, items._pid) == expected
    finally:
        os.close(write_end)


def test_cli_import_reads_its_lines_from_standard_input(cli_invoke, db_target, key_home, tmp_path):
    """``claimledger import -``: the planner reads the parent's standard input (through
    click's runner here, through a real pipe in a process of its own below)."""
    import subprocess
    import sys

    assert cli_invoke("init", "--origin", "test.example/stdin", "--key", "alice").exit_code == 0
    lines = _random_lines(120, seed=9)
    text = "".join(json.dumps(line) + "\n" for line in lines)
    first = cli_invoke("import", "-", "--json", input=text[: len(text) // 2].rsplit("\n", 1)[0] + "\n")
    assert first.exit_code == 0, first.output
    command = [sys.executable, "-c", "from ledger.cli.main import main; main()", "--db", db_target, "import", "-", "--json"]
    done = subprocess.run(command, input=text, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "CLAIMLEDGER_HOME": str(key_home)})
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["imported"] + report["skipped"] == 120
    assert report["size"] == 1 + json.loads(first.output)["imported"] + report["imported"]


def _mixed_file(seed: int) -> list[dict[str, Any] | str]:
    """Random lines of every kind, with repeats under new labels (skipped, their labels
    naming the first), references by label to those repeats, and now and then one line
    that is wrong in one of many ways."""
    rng = random.Random(seed)
    lines: list[dict[str, Any] | str] = list(_random_lines(rng.randrange(20, 90), seed))
    out: list[dict[str, Any] | str] = []
    repeats = 0
    for line in lines:
        out.append(line)
        if isinstance(line, dict) and rng.random() < 0.15:
            repeats += 1
            out.append({**line, "label": f"r{repeats}"})
            if line["kind"] in ("source", "claim") and rng.random() < 0.5:
                relation = "cites" if line["kind"] == "source" else "supports"
                if line["kind"] == "claim":
                    out.append({"kind": "link", "body": {"from": f"@{line['label']}", "relation": relation,
                                                          "to": f"@{line['label']}"}})
                else:
                    out.append({"kind": "link", "body": {"from": f"@{line['label']}", "relation": relation,
                                                          "to": f"@r{repeats}"}})
    if rng.random() < 0.6:
        spoilt = dict(rng.choice([x for x in out if isinstance(x, dict)]))
        spoilt["label"] = "spoilt"
        body = dict(spoilt["body"])
        way = rng.randrange(4)
        if way == 0:
            body.pop(rng.choice(sorted(body)))
        elif way == 1:
            body["unknown_field"] = 1
        elif way == 2:
            body = {**body, **{name: "@nowhere" for name in REF_FIELDS if name in body}}
        spoilt["body"] = body
        out.insert(rng.randrange(len(out) + 1), spoilt if way < 3 else '{"kind": "claim", "body": {"text": 1.5}}')
    return out


@pytest.mark.parametrize("seed", range(16))
def test_planned_and_ordinary_imports_agree_on_random_files(ledger, twin, signer, tmp_path, seed):
    """Differential: whatever a file holds, both imports record the same entries, skip
    the same lines, and stop at the same line with the same message."""
    lines = _mixed_file(seed)
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8")
    batch_size = random.Random(seed).choice([None, 3, 7, 16])
    planned = _outcome(ledger, signer, path, planned=True, batch_size=batch_size)
    ordinary = _outcome(twin, signer, path, planned=False, batch_size=batch_size)
    assert planned == ordinary
    assert _recorded(ledger) == _recorded(twin)
    verify_ledger(ledger)


def _mixed_items(seed: int) -> list[Item]:
    """A library caller's items: every kind, repeats under new labels, a confidential
    source, and now and then one that is wrong, or not even JSON."""
    from ledger.secrets import commit

    rng = random.Random(seed)
    items = random_items(rng.randrange(20, 90), rng)
    out: list[Item] = []
    for n, item in enumerate(items):
        out.append(item)
        if rng.random() < 0.15:
            out.append(item._replace(label=f"again{n}"))
        if rng.random() < 0.05:
            body, secrets = commit({"name": f"a confidential source {n}", "type": "person"}, ["name"])
            out.append(Item("source", body, f"hidden{n}", secrets=tuple(secrets)))
    if rng.random() < 0.6:
        at = rng.randrange(len(out))
        spoilt = out[at]
        way = rng.randrange(4)
        body = dict(spoilt.body)
        if way == 0:
            body.pop(rng.choice(sorted(body)))
        elif way == 1:
            body["text" if "text" in body else "name"] = {"not", "json"}  # a set: no JSON, no pickling needed
        elif way == 2:
            body = {**body, **{name: "@nowhere" for name in REF_FIELDS if name in body}}
        else:
            body["credibility"] = 2.0
        out.insert(at + 1, Item(spoilt.kind, body, "spoilt"))
    return out


def _items_outcome(led: Ledger, signer: Any, items: list[Item], *, planned: bool, skip: bool,
                   batch_size: int | None) -> tuple[Any, ...]:
    try:
        if planned:
            with PlannedItems(led, items) as planned_items:
                done = led.append_many(planned_items, signer=signer, batch_size=batch_size, skip_existing=skip)
        else:
            done = led.append_many(items, signer=signer, batch_size=batch_size, skip_existing=skip)
    except Exception as exc:  # noqa: BLE001 -- a library caller's items may fail in any way; both must alike
        return type(exc), str(exc), led.size()
    return None, (done.recorded, done.skipped), led.size()


@pytest.mark.parametrize("seed", range(12))
def test_planned_items_record_what_append_many_of_the_items_records(ledger, twin, signer, seed):
    items = _mixed_items(seed)
    rng = random.Random(seed)
    skip, batch_size = rng.random() < 0.5, rng.choice([None, 4, 9])
    planned = _items_outcome(ledger, signer, items, planned=True, skip=skip, batch_size=batch_size)
    ordinary = _items_outcome(twin, signer, items, planned=False, skip=skip, batch_size=batch_size)
    assert planned == ordinary
    assert _recorded(ledger) == _recorded(twin)
    assert _secrets(ledger) == _secrets(twin)
    verify_ledger(ledger)


def _secrets(led: Ledger) -> list[tuple[Any, ...]]:
    with led.engine.connect() as conn:
        rows = conn.execute(select(SECRETS.c.seq, SECRETS.c.path, SECRETS.c.commitment, SECRETS.c.value)
                            .order_by(SECRETS.c.seq, SECRETS.c.path)).all()
    return [tuple(row) for row in rows]
