"""Entries stored past the library, as a key holder with write access to the database
could store them: the chain, the Merkle nodes and the projections made right, so that
only the rule under test can catch what is wrong."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import text

from ledger.entry import Entry, content_hash
from ledger.keys import Signer
from ledger.merkle import CompactRange, leaf_hash, range_nodes
from ledger.store import Ledger


def forge_append(ledger: Ledger, *, value_for: Callable[[int, bytes], Entry], refs: tuple[int, ...] = (),
                 content: bytes | None = None) -> None:
    """Append the entry ``value_for(seq, prev leaf hash)`` makes at the end of the log,
    with its tree nodes, through ``ledger``'s own database connection (SQLite or
    PostgreSQL) but none of its checks; ``refs`` are the seqs its references name, in
    order (its ``entry_ref`` rows), and ``content`` its content column (default: the
    right one)."""
    with ledger.engine.begin() as conn:
        size = conn.execute(text("SELECT count(*) FROM log")).scalar_one()
        prev = bytes(conn.execute(text("SELECT leaf_hash FROM log WHERE seq = :seq"), {"seq": size - 1}).scalar_one())
        nodes = {(level, idx): bytes(digest) for level, idx, digest in conn.execute(
            text("SELECT level, idx, hash FROM tree_node"))}
        tree = CompactRange.from_nodes(size, [nodes[c] for c in range_nodes(size)])
        entry = value_for(size, prev)
        conn.execute(text("INSERT INTO log (seq, leaf_hash, kind, recorded_at, signer, content, data) "
                          "VALUES (:seq, :leaf_hash, :kind, :recorded_at, :signer, :content, :data)"), {
            "seq": size, "leaf_hash": entry.leaf_hash, "kind": entry.kind, "recorded_at": entry.recorded_at,
            "signer": entry.signer, "data": entry.data,
            "content": content_hash(entry.kind, entry.body) if content is None else content})
        node = text("INSERT INTO tree_node (level, idx, seq, hash) VALUES (:level, :idx, :seq, :hash)")
        for level, idx, digest in [(0, size, entry.leaf_hash), *tree.append(entry.leaf_hash)]:
            conn.execute(node, {"level": level, "idx": idx, "seq": size, "hash": digest})
        for pos, target in enumerate(refs):
            conn.execute(text("INSERT INTO entry_ref (seq, pos, target) VALUES (:seq, :pos, :target)"),
                         {"seq": size, "pos": pos, "target": target})


def written(value: dict[str, Any]) -> bytes:
    """``value`` as orjson writes it, members sorted: RFC 8785 for the ledger's own
    values, and for a float the one spelling orjson gives it."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def signed_as_written(value: dict[str, Any], signer: Signer, *,
                      spell: Callable[[bytes], bytes] = lambda data: data) -> Entry:
    """The entry ``value`` (an envelope, without ``sig``) signed by ``signer``, its bytes
    ``written``; ``spell`` may respell the bytes, which the signature then covers."""
    message = spell(written(value))
    sig = signer.sign(message).hex()
    data = spell(written({**value, "sig": sig}))
    return Entry(value["seq"], leaf_hash(data), data, {**value, "sig": sig})


def raw_entry(seq: int, data: bytes, *, kind: str = "source", signer: str = "00" * 32) -> Entry:
    """Stored bytes that need not be an entry at all, for ``forge_append``: its query
    columns say ``kind``, recorded at a fixed time, by ``signer``."""
    return Entry(seq, leaf_hash(data), data, {"kind": kind, "body": {}, "recorded_at": "2026-11-27T00:00:00Z",
                                              "signer": signer})
