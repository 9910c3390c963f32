"""The tables as queries name them: names and columns, no types or constraints.

``ledger.models`` defines the tables (SQLModel) and creates them; this module mirrors
their names and columns with SQLAlchemy's lightweight ``table()`` and ``column()``, so
that reading and appending never import SQLModel and pydantic (~120 ms of start-up).
Values pass to and from the driver untouched: bytes stay bytes, text stays text.
tests/test_store.py checks every table and column here against the models.
"""

from __future__ import annotations

from sqlalchemy import column, table

META = table("meta", column("key"), column("value"))
LOG = table(
    "log", column("seq"), column("leaf_hash"), column("kind"), column("recorded_at"), column("signer"),
    column("content"), column("data"),
)
TREE = table("tree_node", column("level"), column("idx"), column("seq"), column("hash"))
REFS = table("entry_ref", column("seq"), column("pos"), column("target"))
CHECKPOINTS = table(
    "checkpoint", column("id"), column("size"), column("root"), column("signer"), column("created_at"), column("note"),
)
COSIGNATURES = table("cosignature", column("id"), column("checkpoint_id"), column("witness"), column("timestamp"), column("line"))
SECRETS = table("secret", column("commitment"), column("seq"), column("path"), column("salt"), column("value"))

ALL = (META, LOG, TREE, REFS, CHECKPOINTS, COSIGNATURES, SECRETS)
NAMES = tuple(t.name for t in ALL)
