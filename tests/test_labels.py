"""Import labels in bounded memory: the same answers as a dict, whatever went to disk."""

from __future__ import annotations

import os
import random
import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

from ledger.labels import Labels
from ledger.verify import verify_ledger

from .builders import random_items

names = st.text(alphabet="abc:-.", min_size=1, max_size=3)
digests = st.binary(min_size=32, max_size=32).map(bytes.hex)
values = digests | st.integers(0, 2**62)  # leaf hashes, or what an import's planner keeps (ints)


@settings(max_examples=60, deadline=None)
@given(limit=st.integers(2, 6), steps=st.lists(st.tuples(st.sampled_from(["set", "get", "del"]), names, values), max_size=80))
def test_labels_answer_as_a_dict_does(limit, steps):
    labels, model = Labels(limit), {}
    for op, name, digest in steps:
        if op == "set":
            labels[name] = model[name] = digest
        elif op == "get":
            assert labels.get(name) == model.get(name)
            assert (name in labels) == (name in model)
        elif name in model:
            del labels[name], model[name]
        else:
            with pytest.raises(KeyError):
                del labels[name]
        assert len(labels._recent) <= limit  # the memory bound holds
    assert dict(labels) == model
    assert len(labels) == len(model)
    labels.close()


def test_labels_spill_to_a_file_that_goes_away():
    labels = Labels(4)
    for n in range(10):
        labels[f"l{n}"] = os.urandom(32).hex()
    assert labels._disk is not None and len(labels._recent) <= 4
    assert labels["l0"] == dict(labels)["l0"]
    labels.close()
    with pytest.raises(KeyError):
        labels["l0"]


class CountingDisk:
    """The label file's connection, counting the statements run on it."""

    def __init__(self, conn):
        self.conn, self.statements = conn, 0

    def execute(self, *args):
        self.statements += 1
        return self.conn.execute(*args)

    def executemany(self, *args):
        return self.conn.executemany(*args)

    def close(self):
        self.conn.close()


def test_a_label_never_given_is_answered_without_reading_the_disk():
    labels = Labels(100)
    for n in range(1000):
        labels[f"given-{n}"] = os.urandom(32).hex()
    disk = labels._disk = CountingDisk(labels._disk)
    assert not any(f"never-{n}" in labels or labels.get(f"never-{n}") for n in range(10_000))
    assert disk.statements <= 30  # ~950 labels in 2**24 bits: about 0.6 of these 10,000 questions read it (2 statements each)
    assert all(f"given-{n}" in labels for n in range(1000))  # and every label on disk is found
    assert disk.statements >= 900
    labels.close()


def test_planning_an_import_keeps_its_labels_in_bounded_memory(monkeypatch):
    """The labels seen so far go to disk like the ledger's: a reference to one given
    long before still resolves, and giving it again is still refused."""
    from ledger import labels as labels_module
    from ledger.errors import InputError
    from ledger.importer import plan_import

    kept: list[int] = []
    spill = Labels._spill

    def spilling(self):
        kept.append(len(self._recent))
        spill(self)

    monkeypatch.setattr(labels_module, "IN_MEMORY", 4)
    monkeypatch.setattr(Labels, "_spill", spilling)
    lines = [b'{"kind":"source","body":{"name":"s%d","type":"dataset"},"label":"s%d"}\n' % (n, n) for n in range(50)]
    lines.append(b'{"kind":"claim","body":{"text":"t","asserted_by":["@s0","@s49"]}}\n')
    items = list(plan_import(lines, lambda ref: (0, ""), size=1))
    assert len(items) == 51 and items[-1].body["asserted_by"] == ["@s0", "@s49"]
    assert kept and max(kept) == 5  # never more than the bound, and one being added
    again = lines[:50] + [b'{"kind":"source","body":{"name":"x","type":"dataset"},"label":"s0"}\n']
    with pytest.raises(InputError, match="line 51: label 's0' is used twice"):
        list(plan_import(again, lambda ref: (0, ""), size=1))


def test_import_refers_to_labels_that_went_to_disk(ledger, signer, monkeypatch):
    """With 4 labels in memory, references still reach labels given long before, which
    only the disk holds by then."""
    from ledger import labels as labels_module

    from_disk: list[str] = []
    in_memory_only = Labels.__getitem__

    def counting(self: Labels, label: str) -> str:
        if label not in self._recent:
            from_disk.append(label)
        return in_memory_only(self, label)

    monkeypatch.setattr(labels_module, "IN_MEMORY", 4)
    monkeypatch.setattr(Labels, "__getitem__", counting)
    done = ledger.append_many(random_items(120, random.Random(21)), signer=signer, batch_size=16)
    assert done.recorded == 120
    assert from_disk, "no reference reached a label on disk"
    assert verify_ledger(ledger).size == 121


def test_a_label_file_that_cannot_be_written_is_named_in_the_error():
    """A real write failure (the process may write no byte to any file) names the
    temporary label file and what to do, not 'database unavailable'."""
    script = """
import os, resource, signal
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))
from ledger.errors import StorageError
from ledger.labels import Labels
labels = Labels(2)
try:
    for n in range(200_000):
        labels[f"label-{n}"] = os.urandom(32).hex()
except StorageError as exc:
    print(exc)
"""
    # stdout is a pipe, which the file-size limit does not cover
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("cannot keep the import's older labels in a temporary file ("), done.stdout
    assert "SQLITE_TMPDIR" in done.stdout
