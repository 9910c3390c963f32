"""Inclusion and consistency proofs from a stored ledger, in O(log n) node reads.

The pure computation lives in ``merkle``; this module only fetches the perfect nodes a
proof needs, in one query, and packages the answer with what it proves.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import backend
from .errors import InputError, VerificationError
from .merkle import (
    consistency_proof,
    consistency_proof_nodes,
    inclusion_proof,
    inclusion_proof_nodes,
    root_from_nodes,
    root_nodes,
    verify_consistency,
)
from .note import Checkpoint
from .store import Ledger, read_nodes


@dataclass(frozen=True)
class InclusionProof:
    """``leaf_hash`` is leaf ``index`` of the tree of ``size`` whose head is ``root``."""

    index: int
    size: int
    leaf_hash: bytes
    root: bytes
    proof: list[bytes]


@dataclass(frozen=True)
class ConsistencyProof:
    """The tree of ``old_size`` (head ``old_root``) is a prefix of the one of ``new_size``."""

    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes
    proof: list[bytes]


def _check_size(ledger: Ledger, size: int, current: int) -> None:
    if not 0 < size <= current:
        raise InputError(f"tree size {size} is out of range: the ledger has {current} entries")


def prove_inclusion(ledger: Ledger, index: int, size: int | None = None) -> InclusionProof:
    """The inclusion proof of entry ``index`` in the tree of ``size`` (default: all)."""
    with backend.translate_errors(), ledger.engine.connect() as conn:
        current = ledger.head_in(conn).size
        size = current if size is None else size
        _check_size(ledger, size, current)
        if not 0 <= index < size:
            raise InputError(f"entry {index} is not in the tree of size {size}")
        path = inclusion_proof_nodes(index, size)
        nodes = read_nodes(conn, {*path, *root_nodes(size), (0, index)})
    return InclusionProof(
        index=index, size=size, leaf_hash=nodes[(0, index)],
        root=root_from_nodes(size, nodes), proof=inclusion_proof(index, size, nodes),
    )


def prove_consistency(ledger: Ledger, old_size: int, new_size: int | None = None) -> ConsistencyProof:
    """The proof that the tree of ``old_size`` is a prefix of the tree of ``new_size``."""
    with backend.translate_errors(), ledger.engine.connect() as conn:
        current = ledger.head_in(conn).size
        new_size = current if new_size is None else new_size
        _check_size(ledger, new_size, current)
        if not 0 < old_size <= new_size:
            raise InputError(f"old size {old_size} must be between 1 and the new size {new_size}")
        path = consistency_proof_nodes(old_size, new_size)
        nodes = read_nodes(conn, {*path, *root_nodes(old_size), *root_nodes(new_size)})
    return ConsistencyProof(
        old_size=old_size, new_size=new_size,
        old_root=root_from_nodes(old_size, nodes), new_root=root_from_nodes(new_size, nodes),
        proof=consistency_proof(old_size, new_size, nodes),
    )


def verify_extends(ledger: Ledger, checkpoint: Checkpoint, *, size: int) -> ConsistencyProof | None:
    """Prove that the ledger's first ``size`` entries extend ``checkpoint``; raise if not.

    The reason names what happened: a shorter log was truncated or rolled back; a log
    whose prefix has another root was rewritten or forked.
    """
    if checkpoint.size > size:
        raise VerificationError(
            f"the ledger has {size} entries but checkpoint {checkpoint.size} was issued: "
            "it was truncated or rolled back"
        )
    if checkpoint.size == 0:
        return None
    proof = prove_consistency(ledger, checkpoint.size, size)
    if proof.old_root != checkpoint.root:
        raise VerificationError(
            f"the ledger's first {checkpoint.size} entries have root {proof.old_root.hex()[:12]}, "
            f"not the checkpoint's {checkpoint.root.hex()[:12]}: it was rewritten or forked"
        )
    verify_consistency(
        old_size=checkpoint.size, new_size=size, old_root=checkpoint.root,
        new_root=proof.new_root, proof=proof.proof,
    )
    return proof


TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"


def format_tlog_proof(*, index: int, proof: list[bytes], checkpoint_note: str) -> str:
    """An inclusion proof in the C2SP tlog-proof text format, with its signed checkpoint."""
    import base64

    lines = [TLOG_PROOF_HEADER, f"index {index}", *(base64.b64encode(h).decode("ascii") for h in proof)]
    return "\n".join(lines) + "\n\n" + checkpoint_note


def parse_tlog_proof(text: str) -> tuple[int, list[bytes], str]:
    """Split a tlog-proof into (index, proof hashes, checkpoint note); raise if malformed."""
    import base64
    import binascii
    import re

    head, sep, note_text = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or lines[0] != TLOG_PROOF_HEADER:
        raise VerificationError(f"not a tlog-proof: expected a first line {TLOG_PROOF_HEADER!r} and a blank line")
    rest = lines[1:]
    if rest and rest[0].startswith("extra "):
        rest = rest[1:]
    if not rest or not re.fullmatch(r"index (0|[1-9][0-9]*)", rest[0]):
        raise VerificationError("tlog-proof: expected an 'index N' line")
    try:
        hashes = [base64.b64decode(line, validate=True) for line in rest[1:]]
    except (binascii.Error, ValueError):
        raise VerificationError("tlog-proof: a proof line is not base64") from None
    return int(rest[0].split()[1]), hashes, note_text
