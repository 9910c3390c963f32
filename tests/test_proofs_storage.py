"""Proofs served from storage verify with the pure functions, for every index and size."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ledger.errors import InputError, VerificationError
from ledger.merkle import root_from_leaves, verify_consistency, verify_inclusion
from ledger.note import parse_checkpoint
from ledger.proofs import (
    format_tlog_proof,
    parse_tlog_proof,
    prove_consistency,
    prove_inclusion,
    verify_extends,
)

from .builders import random_items


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """A 300-entry ledger and its leaf hashes, built once."""
    from ledger.keys import KeyStore
    from ledger.store import Ledger

    base = tmp_path_factory.mktemp("proofs")
    signer = KeyStore(base / "keys").create("alice", b"pw")
    led = Ledger.create(str(base / "l.db"), origin="proofs.example/log", signer=signer)
    led.append_many(random_items(299, random.Random(3)), signer=signer, batch_size=37)
    leaves = [e.leaf_hash for e in led.iter_entries()]
    yield led, leaves
    led.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_prove_inclusion_from_storage_verifies(big, data):
    led, leaves = big
    size = data.draw(st.integers(1, len(leaves)))
    index = data.draw(st.integers(0, size - 1))
    proof = prove_inclusion(led, index, size)
    assert proof.root == root_from_leaves(leaves[:size])
    assert proof.leaf_hash == leaves[index]
    verify_inclusion(index=index, size=size, leaf_hash=leaves[index], proof=proof.proof, root=proof.root)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_prove_consistency_from_storage_verifies(big, data):
    led, leaves = big
    new = data.draw(st.integers(1, len(leaves)))
    old = data.draw(st.integers(1, new))
    proof = prove_consistency(led, old, new)
    assert (proof.old_root, proof.new_root) == (root_from_leaves(leaves[:old]), root_from_leaves(leaves[:new]))
    verify_consistency(old_size=old, new_size=new, old_root=proof.old_root, new_root=proof.new_root, proof=proof.proof)


def test_prove_reads_logarithmically_many_nodes(big, monkeypatch):
    """A proof reads O(log n) stored nodes in one query, never the whole log."""
    import ledger.proofs as proofs

    led, leaves = big
    seen: list[int] = []
    real = proofs.read_nodes

    def counting(conn, coords):
        coords = list(coords)
        seen.append(len(coords))
        return real(conn, coords)

    monkeypatch.setattr(proofs, "read_nodes", counting)
    prove_inclusion(led, 123, 300)
    prove_consistency(led, 77, 300)
    assert len(seen) == 2 and max(seen) <= 4 * 9  # 2 * bit_length(300), twice over


def test_prove_rejects_out_of_range(big):
    led, _ = big
    with pytest.raises(InputError, match="entry 300 is not in the tree of size 300"):
        prove_inclusion(led, 300, 300)
    with pytest.raises(InputError, match="tree size 301 is out of range"):
        prove_inclusion(led, 1, 301)
    with pytest.raises(InputError, match="old size 0 must be between 1 and the new size 10"):
        prove_consistency(led, 0, 10)


def test_tlog_proof_round_trips(big):
    led, leaves = big
    cp = led.latest_checkpoint()
    proof = prove_inclusion(led, 42, cp.size)
    text = format_tlog_proof(index=42, proof=proof.proof, checkpoint_note=cp.note)
    index, hashes, note_text = parse_tlog_proof(text)
    assert (index, hashes, note_text) == (42, proof.proof, cp.note)
    stated = parse_checkpoint(note_text.split("\n\n")[0] + "\n")
    verify_inclusion(index=index, size=stated.size, leaf_hash=leaves[42], proof=hashes, root=stated.root)
    with pytest.raises(VerificationError, match="not a tlog-proof"):
        parse_tlog_proof(text.replace("tlog-proof@v1", "tlog-proof@v2"))


def test_verify_extends_names_truncation_and_fork(big):
    from ledger.note import Checkpoint

    led, leaves = big
    with pytest.raises(VerificationError, match="has 300 entries but checkpoint 301 was issued: it was truncated or rolled back"):
        verify_extends(led, Checkpoint(led.origin, 301, bytes(32)), size=300)
    with pytest.raises(VerificationError, match="first 200 entries have root .* not the checkpoint's .*: it was rewritten or forked"):
        verify_extends(led, Checkpoint(led.origin, 200, bytes(32)), size=300)
    assert verify_extends(led, Checkpoint(led.origin, 200, root_from_leaves(leaves[:200])), size=300) is not None
