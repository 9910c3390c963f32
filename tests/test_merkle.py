"""Tests for ledger.merkle.

Known answers are public test vectors from github.com/transparency-dev/merkle
(Apache-2.0), via shared/vectors/rfc6962_vectors.json (copied to tests/vectors/); its README.md
names the commit and the upstream files.  Beyond them, the fast paths are checked
against literal transcriptions of the RFC 9162 recursions (MTH, PATH, SUBPROOF).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import InputError, ProofError
from ledger.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    CompactRange,
    consistency_proof,
    consistency_proof_nodes,
    inclusion_proof,
    inclusion_proof_nodes,
    leaf_hash,
    node_hash,
    range_nodes,
    root_from_consistency_proof,
    root_from_inclusion_proof,
    root_from_leaves,
    root_from_nodes,
    root_nodes,
    verify_consistency,
    verify_inclusion,
)

VECTORS = json.loads(
    (Path(__file__).resolve().parent / "vectors/rfc6962_vectors.json").read_text()
)
# Upstream accepts this probe's 12-byte dummy roots; we insist on 32-byte hashes.
WE_REJECT = {"testdata/consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"}

VECTOR_LEAVES = [leaf_hash(bytes.fromhex(h)) for h in VECTORS["leaves_hex"]]
MAX = 300
LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(MAX)]  # distinct leaves


def _build(leaves: list[bytes]) -> dict[tuple[int, int], bytes]:
    """Store every perfect node the way the storage layer does: leaves plus appends."""
    cr = CompactRange()
    nodes = {}
    for i, h in enumerate(leaves):
        nodes[(0, i)] = h
        nodes.update({(level, index): x for level, index, x in cr.append(h)})
    return nodes


VECTOR_NODES = _build(VECTOR_LEAVES)
NODES = _build(LEAVES)


def _only(coords: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """Hand over exactly the requested nodes, so an unrequested read fails."""
    return {c: NODES[c] for c in coords}


def _hexes(hashes: list[bytes]) -> list[str]:
    return [h.hex() for h in hashes]


def _verifies(verify: Callable[..., None], **args: Any) -> bool:
    try:
        verify(**args)
    except ProofError:
        return False
    return True


def _flip(h: bytes, bit: int) -> bytes:
    return h[: bit // 8] + bytes([h[bit // 8] ^ (1 << bit % 8)]) + h[bit // 8 + 1 :]


# --- literal RFC 9162 recursions over leaf ranges [lo, hi), the oracles -------------------


def _k(n: int) -> int:
    k = 1
    while 2 * k < n:
        k *= 2
    return k


def _rfc_path(m: int, lo: int, hi: int) -> list[tuple[int, int]]:
    """PATH(m, D[lo:hi]) of 2.1.3.1, as the leaf ranges of its elements."""
    if hi - lo == 1:
        return []
    k = _k(hi - lo)
    if m < lo + k:
        return _rfc_path(m, lo, lo + k) + [(lo + k, hi)]
    return _rfc_path(m, lo + k, hi) + [(lo, lo + k)]


def _rfc_subproof(m: int, lo: int, hi: int, b: bool) -> list[tuple[int, int]]:
    """SUBPROOF(m, D[lo:hi], b) of 2.1.4.1 (m counted from leaf 0), as leaf ranges."""
    if m == hi:
        return [] if b else [(lo, hi)]
    k = _k(hi - lo)
    if m <= lo + k:
        return _rfc_subproof(m, lo, lo + k, b) + [(lo + k, hi)]
    return _rfc_subproof(m, lo + k, hi, False) + [(lo, lo + k)]


@cache
def _term(lo: int, hi: int) -> object:
    """MTH(D[lo:hi]) as a formal term: leaf numbers nested in pairs."""
    if hi - lo == 1:
        return lo
    k = _k(hi - lo)
    return (_term(lo, lo + k), _term(lo + k, hi))


def _express(term: object, names: dict[object, str | int]) -> object:
    """Rewrite ``term`` over the verifier's inputs: what it hashes, in which order."""
    if term in names:
        return names[term]
    if isinstance(term, int):
        return ("unknown leaf", term)
    return tuple(_express(t, names) for t in term)  # type: ignore[attr-defined]


@cache
def _inclusion_shape(index: int, size: int) -> object:
    names: dict[object, str | int] = {_term(*r): i for i, r in enumerate(_rfc_path(index, 0, size))}
    names[index] = "leaf"
    return _express(_term(0, size), names)


@cache
def _consistency_shape(old: int, new: int) -> object:
    names: dict[object, str | int] = {
        _term(*r): i for i, r in enumerate(_rfc_subproof(old, 0, new, True))
    }
    if old & (old - 1) == 0:
        names[_term(0, old)] = "old root"
    return (_express(_term(0, old), names), _express(_term(0, new), names))


# --- hashes ------------------------------------------------------------------------------


@pytest.mark.parametrize("v", VECTORS["hasher_unit_vectors"], ids=lambda v: v["desc"])
def test_hasher_matches_unit_vectors(v: dict) -> None:
    if "leaf_hex" in v:
        assert leaf_hash(bytes.fromhex(v["leaf_hex"])).hex() == v["leaf_hash_hex"]
    else:
        got = node_hash(bytes.fromhex(v["left_hex"]), bytes.fromhex(v["right_hex"]))
        assert got.hex() == v["node_hash_hex"]


def test_empty_root_is_hash_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == VECTORS["empty_root_hex"]
    assert root_from_leaves([]) == CompactRange().root() == root_from_nodes(0, {}) == EMPTY_ROOT


# --- roots -------------------------------------------------------------------------------


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_vectors(size: int) -> None:
    want = VECTORS["roots_hex"][str(size)]
    assert root_from_leaves(VECTOR_LEAVES[:size]).hex() == want
    cr = CompactRange()
    for h in VECTOR_LEAVES[:size]:
        cr.append(h)
    assert cr.size == size
    assert cr.root().hex() == want
    assert root_from_nodes(size, VECTOR_NODES).hex() == want


def test_perfect_nodes_match_vector_node_hashes() -> None:
    for level, hashes in enumerate(VECTORS["node_hashes_hex_by_level"]):
        for index, want in enumerate(hashes):
            assert VECTOR_NODES[(level, index)].hex() == want
    assert len(VECTOR_NODES) == sum(len(h) for h in VECTORS["node_hashes_hex_by_level"])


def test_root_nodes_are_the_decomposition_of_size() -> None:
    assert range_nodes(0) == []
    assert range_nodes(8) == [(3, 0)]
    assert root_nodes(13) == [(3, 0), (2, 2), (0, 12)]


@pytest.mark.parametrize("size", range(0, 70))
def test_root_from_nodes_reads_only_root_nodes(size: int) -> None:
    assert root_from_nodes(size, _only(root_nodes(size))) == root_from_leaves(LEAVES[:size])


@given(st.integers(0, MAX))
def test_compact_range_root_matches_root_from_leaves(size: int) -> None:
    cr = CompactRange()
    for h in LEAVES[:size]:
        cr.append(h)
    assert cr.root() == root_from_leaves(LEAVES[:size])


@given(st.integers(0, MAX))
def test_compact_range_append_emits_exactly_the_perfect_nodes(size: int) -> None:
    cr = CompactRange()
    emitted = []
    for h in LEAVES[:size]:
        nodes = cr.append(h)
        assert [level for level, _, _ in nodes] == list(range(1, len(nodes) + 1))
        emitted += nodes
    want = [
        (level, index)
        for level in range(1, size.bit_length())
        for index in range(size >> level)
    ]
    assert sorted((level, index) for level, index, _ in emitted) == sorted(want)
    for level, index, h in emitted:
        assert h == root_from_leaves(LEAVES[index << level : (index + 1) << level])


@given(st.integers(0, MAX).flatmap(lambda n: st.tuples(st.just(n), st.lists(st.integers(0, n), max_size=4))))
def test_compact_range_node_rows_are_the_leaves_and_what_append_completes(cuts: tuple[int, list[int]]) -> None:
    size, splits = cuts
    one_by_one, batched = CompactRange(), CompactRange()
    want = []
    for seq, h in enumerate(LEAVES[:size]):
        want += [(0, seq, seq, h), *((level, index, seq, node) for level, index, node in one_by_one.append(h))]
    got = []
    bounds = [0, *sorted(splits), size]
    for start, end in zip(bounds, bounds[1:]):  # in batches, of any size, empty ones too
        got += batched.node_rows(LEAVES[start:end])
    assert got == want
    assert batched.size == size and batched.root() == one_by_one.root()
    with pytest.raises(InputError, match="leaf hash has 3 bytes"):
        batched.node_rows([LEAVES[0], b"abc"])
    assert batched.size == size  # a bad leaf anywhere in the batch appends none of it


@given(st.integers(0, MAX).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))))
def test_compact_range_from_nodes_resumes(sizes: tuple[int, int]) -> None:
    size, split = sizes
    whole, resumed = CompactRange(), CompactRange.from_nodes(
        split, [NODES[c] for c in range_nodes(split)]
    )
    assert resumed.size == split
    for h in LEAVES[:split]:
        whole.append(h)
    for h in LEAVES[split:size]:
        assert resumed.append(h) == whole.append(h)
    assert resumed.root() == whole.root() == root_from_leaves(LEAVES[:size])


def test_compact_range_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="^size 3 needs 2 nodes, got 1$"):
        CompactRange.from_nodes(3, [EMPTY_ROOT])
    with pytest.raises(InputError, match="^size 3 needs 2 nodes, got 3$"):
        CompactRange.from_nodes(3, [EMPTY_ROOT] * 3)
    with pytest.raises(InputError, match=r"^node 1 has 31 bytes, want 32$"):
        CompactRange.from_nodes(3, [EMPTY_ROOT, EMPTY_ROOT[:31]])
    with pytest.raises(InputError, match="^leaf hash has 4 bytes, want 32$"):
        CompactRange().append(b"data")


# --- inclusion ---------------------------------------------------------------------------


@pytest.mark.parametrize("v", VECTORS["inclusion_proofs"], ids=lambda v: v["note"])
def test_inclusion_proof_matches_vectors(v: dict) -> None:
    index, size = v["leaf_index"], v["tree_size"]
    nodes = {c: VECTOR_NODES[c] for c in inclusion_proof_nodes(index, size)}
    proof = inclusion_proof(index, size, nodes)
    assert _hexes(proof) == v["proof_hex"]
    root = bytes.fromhex(VECTORS["roots_hex"][str(size)])
    verify_inclusion(
        index=index, size=size, leaf_hash=VECTOR_LEAVES[index], proof=proof, root=root
    )


@pytest.mark.parametrize(
    "v", VECTORS["golden_probes"]["inclusion"], ids=lambda v: v["file"].removeprefix("testdata/")
)
def test_verify_inclusion_golden_probes(v: dict) -> None:
    def check() -> None:
        verify_inclusion(
            index=v["leafIdx"],
            size=v["treeSize"],
            leaf_hash=bytes.fromhex(v["leafHash"]),
            proof=[bytes.fromhex(h) for h in v["proof"] or []],
            root=bytes.fromhex(v["root"]),
        )

    if v["wantErr"]:
        with pytest.raises(ProofError):
            check()
    else:
        check()


def test_inclusion_proof_matches_rfc_path_for_all_small_trees() -> None:
    for size in range(1, 40):
        for index in range(size):
            want = [root_from_leaves(LEAVES[a:b]) for a, b in _rfc_path(index, 0, size)]
            coords = inclusion_proof_nodes(index, size)
            assert len(coords) <= 2 * size.bit_length()
            assert inclusion_proof(index, size, _only(coords)) == want


@given(st.integers(1, MAX).flatmap(lambda n: st.tuples(st.integers(0, n - 1), st.just(n))))
def test_inclusion_proof_verifies(case: tuple[int, int]) -> None:
    index, size = case
    proof = inclusion_proof(index, size, _only(inclusion_proof_nodes(index, size)))
    root = root_from_leaves(LEAVES[:size])
    verify_inclusion(index=index, size=size, leaf_hash=LEAVES[index], proof=proof, root=root)


@given(st.data())
def test_verify_inclusion_rejects_any_flipped_bit(data: st.DataObject) -> None:
    size = data.draw(st.integers(1, MAX))
    args = {
        "index": (index := data.draw(st.integers(0, size - 1))),
        "size": size,
        "leaf_hash": LEAVES[index],
        "proof": inclusion_proof(index, size, NODES),
        "root": root_from_nodes(size, NODES),
    }
    where = data.draw(st.sampled_from(["leaf_hash", "root", *range(len(args["proof"]))]))
    bit = data.draw(st.integers(0, 8 * HASH_SIZE - 1))
    if isinstance(where, int):
        args["proof"][where] = _flip(args["proof"][where], bit)
    else:
        args[where] = _flip(args[where], bit)
    with pytest.raises(ProofError):
        verify_inclusion(**args)


def test_verify_inclusion_rejects_other_index_or_size_unless_same_shape() -> None:
    # A proof binds the size only through the root, so another (index, size) whose path
    # hashes in the same shape verifies too; the oracle says exactly which ones do.
    aliases = set()
    cases = [(index, size) for size in range(1, 17) for index in range(size)]
    for index, size in cases:
        args = {
            "leaf_hash": LEAVES[index],
            "proof": inclusion_proof(index, size, NODES),
            "root": root_from_leaves(LEAVES[:size]),
        }
        for other in cases:
            verified = _verifies(verify_inclusion, index=other[0], size=other[1], **args)
            assert verified == (_inclusion_shape(*other) == _inclusion_shape(index, size))
            if verified and other != (index, size):
                assert other[1] != size  # with the size kept, no other index verifies
                aliases.add(((index, size), other))
    assert ((0, 8), (0, 7)) in aliases
    assert ((1, 2), (2, 3)) in aliases


def test_verify_inclusion_messages() -> None:
    proof = inclusion_proof(5, 8, VECTOR_NODES)
    root = root_from_nodes(8, VECTOR_NODES)
    ok = {"index": 5, "size": 8, "leaf_hash": VECTOR_LEAVES[5], "proof": proof, "root": root}
    cases = [
        ({"index": 8}, "index 8 out of range for size 8"),
        ({"index": -1}, "index -1 out of range for size 8"),
        ({"leaf_hash": b"x" * 9}, "leaf hash has 9 bytes, want 32"),
        ({"root": b""}, "root has 0 bytes, want 32"),
        ({"proof": proof + [root]}, "proof length 4, want 3"),
        ({"proof": proof[:1] + [b""] + proof[2:]}, "proof[1] has 0 bytes, want 32"),
        ({"root": EMPTY_ROOT}, f"root mismatch: expected e3b0..b855, calculated {root.hex()[:4]}.."),
    ]
    for change, message in cases:
        with pytest.raises(ProofError) as err:
            verify_inclusion(**{**ok, **change})
        assert str(err.value).startswith(message)


def test_inclusion_proof_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="^index 3 out of range for size 3$"):
        inclusion_proof_nodes(3, 3)
    with pytest.raises(InputError, match="^index 0 out of range for size 0$"):
        inclusion_proof(0, 0, NODES)
    with pytest.raises(InputError, match=r"^missing perfect node \(level, index\) = \(1, 1\)$"):
        inclusion_proof(0, 4, {(0, 1): LEAVES[1]})


def test_root_from_inclusion_proof_is_the_root() -> None:
    proof = inclusion_proof(6, 11, NODES)
    got = root_from_inclusion_proof(index=6, size=11, leaf_hash=LEAVES[6], proof=proof)
    assert got == root_from_leaves(LEAVES[:11])


# --- consistency -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "v", VECTORS["consistency_proofs"], ids=lambda v: f"{v['size1']}-{v['size2']}"
)
def test_consistency_proof_matches_vectors(v: dict) -> None:
    old, new = v["size1"], v["size2"]
    nodes = {c: VECTOR_NODES[c] for c in consistency_proof_nodes(old, new)}
    proof = consistency_proof(old, new, nodes)
    assert _hexes(proof) == v["proof_hex"]
    verify_consistency(
        old_size=old,
        new_size=new,
        old_root=bytes.fromhex(VECTORS["roots_hex"][str(old)]),
        new_root=bytes.fromhex(VECTORS["roots_hex"][str(new)]),
        proof=proof,
    )


@pytest.mark.parametrize(
    "v", VECTORS["golden_probes"]["consistency"], ids=lambda v: v["file"].removeprefix("testdata/")
)
def test_verify_consistency_golden_probes(v: dict) -> None:
    def check() -> None:
        verify_consistency(
            old_size=v["size1"],
            new_size=v["size2"],
            old_root=bytes.fromhex(v["root1"]),
            new_root=bytes.fromhex(v["root2"]),
            proof=[bytes.fromhex(h) for h in v["proof"] or []],
        )

    if v["wantErr"] or v["file"] in WE_REJECT:
        with pytest.raises(ProofError):
            check()
    else:
        check()


def test_consistency_proof_matches_rfc_subproof_for_all_small_trees() -> None:
    for new in range(1, 40):
        for old in range(1, new + 1):
            want = [root_from_leaves(LEAVES[a:b]) for a, b in _rfc_subproof(old, 0, new, True)]
            coords = consistency_proof_nodes(old, new)
            assert len(coords) <= 2 * new.bit_length()
            assert consistency_proof(old, new, _only(coords)) == want


@given(st.integers(1, MAX).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))))
def test_consistency_proof_verifies(sizes: tuple[int, int]) -> None:
    old, new = sizes
    proof = consistency_proof(old, new, _only(consistency_proof_nodes(old, new)))
    old_root, new_root = root_from_leaves(LEAVES[:old]), root_from_leaves(LEAVES[:new])
    verify_consistency(
        old_size=old, new_size=new, old_root=old_root, new_root=new_root, proof=proof
    )
    got = root_from_consistency_proof(old_size=old, new_size=new, old_root=old_root, proof=proof)
    assert got == new_root


@given(st.data())
def test_verify_consistency_rejects_any_flipped_bit(data: st.DataObject) -> None:
    new = data.draw(st.integers(1, MAX))
    old = data.draw(st.integers(1, new))
    args = {
        "old_size": old,
        "new_size": new,
        "old_root": root_from_nodes(old, NODES),
        "new_root": root_from_nodes(new, NODES),
        "proof": consistency_proof(old, new, NODES),
    }
    where = data.draw(st.sampled_from(["old_root", "new_root", *range(len(args["proof"]))]))
    bit = data.draw(st.integers(0, 8 * HASH_SIZE - 1))
    if isinstance(where, int):
        args["proof"][where] = _flip(args["proof"][where], bit)
    else:
        args[where] = _flip(args[where], bit)
    with pytest.raises(ProofError):
        verify_consistency(**args)


def test_verify_consistency_rejects_other_sizes_unless_same_shape() -> None:
    # As with inclusion, other sizes whose proofs hash in the same shape verify too.
    aliases = set()
    pairs = [(old, new) for new in range(1, 17) for old in range(1, new + 1)]
    for old, new in pairs:
        args = {
            "old_root": root_from_leaves(LEAVES[:old]),
            "new_root": root_from_leaves(LEAVES[:new]),
            "proof": consistency_proof(old, new, NODES),
        }
        for other in [(0, 0), (0, 1), (2, 1), *pairs]:
            verified = _verifies(verify_consistency, old_size=other[0], new_size=other[1], **args)
            if not 0 < other[0] <= other[1]:
                want = False
            elif other[0] == other[1] or old == new:
                want = other[0] == other[1] and old == new  # empty proof, equal roots
            else:
                want = _consistency_shape(*other) == _consistency_shape(old, new)
            assert verified == want, (old, new, other)
            if verified and other != (old, new):
                aliases.add(((old, new), other))
    assert ((4, 8), (4, 5)) in aliases
    assert ((1, 1), (2, 2)) in aliases


def test_verify_consistency_accepts_equal_sizes_with_equal_roots() -> None:
    root = root_from_nodes(5, NODES)
    assert consistency_proof(5, 5, NODES) == []
    verify_consistency(old_size=5, new_size=5, old_root=root, new_root=root, proof=[])


def test_verify_consistency_messages() -> None:
    old_root, new_root = root_from_nodes(6, NODES), root_from_nodes(7, NODES)
    proof = consistency_proof(6, 7, NODES)
    ok = {"old_size": 6, "new_size": 7, "old_root": old_root, "new_root": new_root, "proof": proof}
    cases = [
        ({"old_size": 8}, "old size 8 exceeds new size 7"),
        ({"old_size": 0}, "consistency from old size 0 proves nothing"),
        ({"old_size": 0, "new_size": 0, "proof": []}, "consistency from old size 0 proves nothing"),
        ({"old_root": b"x" * 9}, "old root has 9 bytes, want 32"),
        ({"new_root": b"x" * 12}, "new root has 12 bytes, want 32"),
        ({"proof": proof[:2]}, "proof length 2, want 3"),
        ({"proof": [b"", *proof[1:]]}, "proof[0] has 0 bytes, want 32"),
        ({"new_size": 6, "proof": []}, "new root mismatch: expected "),
        ({"new_size": 6}, "proof length 3, want 0"),
        ({"old_root": new_root}, f"old root mismatch: expected {new_root.hex()[:4]}.."),
        ({"new_root": old_root}, f"new root mismatch: expected {old_root.hex()[:4]}.."),
    ]
    for change, message in cases:
        with pytest.raises(ProofError) as err:
            verify_consistency(**{**ok, **change})
        assert str(err.value).startswith(message)


def test_consistency_proof_rejects_bad_input() -> None:
    with pytest.raises(InputError, match="^old size 5 exceeds new size 4$"):
        consistency_proof_nodes(5, 4)
    with pytest.raises(InputError, match="^consistency from old size 0 proves nothing$"):
        consistency_proof(0, 4, NODES)

