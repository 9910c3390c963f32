"""The database tables, defined in SQLModel.  ``log`` is the source of truth; the rest follow.

This module is the definition: ``claimledger init`` and ``copy`` create the tables from
it.  Queries name the same tables through ``ledger.tables``, which needs only
SQLAlchemy's core: importing SQLModel (and pydantic) costs ~120 ms, which commands that
only read or append should not pay (tests/test_store.py checks the two agree).

- ``log``: one row per entry: its exact canonical bytes plus columns to query by.  Its
  two hash columns are indexed on their first 8 bytes, not all 32: random digests land
  on random index pages, and a bulk import rewrites every page it touches each batch,
  so an index a third the size costs a third of those writes (``ledger.backend``).
- ``tree_node``: every perfect Merkle subtree (level 0: the leaf hashes), written as
  appends complete it, so any root or proof needs O(log n) reads.  Keyed by the seq whose
  append completed it, so the verifier can stream it beside the log.
- ``entry_ref``: which entries each entry refers to (a projection of the log).
- ``checkpoint``: every signed checkpoint (C2SP tlog-checkpoint note) the ledger issued.
- ``cosignature``: witness cosignature lines on those checkpoints.
- ``secret``: values and salts behind confidential fields.  Not part of the log, never
  exported by default, deletable (erasure).
- ``meta``: the ledger's origin and settings.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, LargeBinary, Text, text
from sqlmodel import Field, SQLModel

from .backend import PREFIX


class Meta(SQLModel, table=True):
    __tablename__ = "meta"
    key: str = Field(primary_key=True)
    value: str


class LogRow(SQLModel, table=True):
    __tablename__ = "log"
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    leaf_hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    kind: str = Field(index=True)
    recorded_at: str = Field(index=True)
    signer: str
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))

    # Lookups by leaf hash and by content hash find their first PREFIX bytes here,
    # then compare the whole digest (``ledger.backend``).
    __table_args__ = (
        Index("ix_log_leaf_hash_prefix", text(f"substr(leaf_hash, 1, {PREFIX})")),
        Index("ix_log_content_prefix", text(f"substr(content, 1, {PREFIX})")),
    )


class TreeNode(SQLModel, table=True):
    __tablename__ = "tree_node"
    level: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    idx: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    seq: int
    hash: bytes = Field(sa_column=Column(LargeBinary, nullable=False))

    __table_args__ = (Index("ix_tree_node_seq", "seq", "level"),)


class EntryRef(SQLModel, table=True):
    __tablename__ = "entry_ref"
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    pos: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    target: int = Field(index=True)


class CheckpointRow(SQLModel, table=True):
    __tablename__ = "checkpoint"
    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    size: int = Field(index=True)
    root: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    signer: str
    created_at: str
    note: str = Field(sa_column=Column(Text, nullable=False))


class CosignatureRow(SQLModel, table=True):
    __tablename__ = "cosignature"
    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    checkpoint_id: int = Field(index=True)
    witness: str
    timestamp: int
    line: str = Field(sa_column=Column(Text, nullable=False))


class SecretRow(SQLModel, table=True):
    __tablename__ = "secret"
    commitment: str = Field(primary_key=True)
    seq: int = Field(index=True)
    path: str
    salt: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    value: str = Field(sa_column=Column(Text, nullable=False))

