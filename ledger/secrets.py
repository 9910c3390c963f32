"""Confidential fields: the log holds a salted commitment, the value lives beside it.

A field marked confidential is replaced, in the signed body, by

    {"commitment": hex(SHA-256("claimledger/commitment/v1\\n" || path || "\\n" || salt || canonical(value)))}

with a fresh random 32-byte salt.  The path (e.g. ``name``, ``reliability.reason``) is
hashed in so a commitment cannot be moved to another field.  Value and salt go to the
``secret`` table, which is not part of the log: hashes, signatures, proofs and status
are all computed over the commitment, so the log verifies with or without the secrets,
and deleting them (erasure, crypto-shredding) breaks nothing.  Handing over value and
salt (a reveal) lets anyone check what the field held.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass
from typing import Any

from .canonical import canonical_bytes
from .errors import InputError, VerificationError, shown

DOMAIN = b"claimledger/commitment/v1\n"
SALT_SIZE = 32
PATH_RE = re.compile(r"^[a-z_]+(\.[a-z_]+)?\Z")
REVEAL_FORMAT = "claimledger-reveal/v1"


@dataclass(frozen=True)
class Secret:
    """What a commitment hides: the field's path, its salt and its value."""

    path: str
    salt: bytes
    value: Any
    commitment: str


def commitment_of(path: str, salt: bytes, value: Any) -> str:
    """The hex commitment to ``value`` in field ``path`` under ``salt``."""
    digest = hashlib.sha256(DOMAIN + path.encode("ascii") + b"\n" + salt + canonical_bytes(value))
    return digest.hexdigest()


def is_commitment(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"commitment"}


def _parent(body: dict[str, Any], path: str) -> tuple[dict[str, Any], str]:
    if not PATH_RE.match(path):
        raise InputError(f"invalid field {shown(path)}: give a body field such as name or reliability.reason")
    *head, last = path.split(".")
    node: Any = body
    for part in head:
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict) or last not in node:
        raise InputError(f"no field {shown(path)} to keep confidential in this entry")
    return node, last


def commit(body: dict[str, Any], paths: list[str]) -> tuple[dict[str, Any], list[Secret]]:
    """A copy of ``body`` with each field in ``paths`` replaced by a fresh commitment."""
    import copy

    out = copy.deepcopy(body)
    secrets = []
    for path in dict.fromkeys(paths):
        parent, key = _parent(out, path)
        value = parent[key]
        if not isinstance(value, str):
            raise InputError(f"field {shown(path)} is not text: only text fields can be confidential")
        salt = os.urandom(SALT_SIZE)
        digest = commitment_of(path, salt, value)
        parent[key] = {"commitment": digest}
        secrets.append(Secret(path, salt, value, digest))
    return out, secrets


def committed_paths(body: dict[str, Any]) -> dict[str, str]:
    """Every committed field of a body: path -> commitment hex."""
    found = {}
    for key, value in body.items():
        if is_commitment(value):
            found[key] = value["commitment"]
        elif isinstance(value, dict):
            found.update({f"{key}.{k}": v["commitment"] for k, v in value.items() if is_commitment(v)})
    return found


def reveal_document(*, origin: str, seq: int, leaf_hash: bytes, data: bytes, secret: Secret) -> dict[str, Any]:
    """A self-contained reveal: the entry's bytes, the field, its value and salt."""
    return {
        "format": REVEAL_FORMAT, "origin": origin, "seq": seq, "leaf_hash": leaf_hash.hex(),
        "entry": data.decode("utf-8"), "field": secret.path, "value": secret.value,
        "salt": base64.b64encode(secret.salt).decode("ascii"),
    }


def check_reveal(doc: Any) -> dict[str, Any]:
    """Check a reveal with no database: the value and salt open the entry's commitment.

    Returns the parsed entry.  Proving that the entry is in the ledger is a separate
    step (``claimledger prove`` or a bundle).
    """
    from .canonical import loads_strict
    from .merkle import leaf_hash

    if not isinstance(doc, dict) or doc.get("format") != REVEAL_FORMAT:
        raise InputError(f"not a reveal: expected format {shown(REVEAL_FORMAT)}")
    try:
        data = doc["entry"].encode("utf-8")
        path, value, salt = doc["field"], doc["value"], base64.b64decode(doc["salt"], validate=True)
    except (KeyError, AttributeError, TypeError, ValueError) as exc:
        raise InputError(f"malformed reveal: {exc}") from None
    if not isinstance(path, str) or not isinstance(value, str):
        raise InputError("malformed reveal: field and value must be strings")
    if leaf_hash(data).hex() != doc.get("leaf_hash"):
        raise VerificationError("reveal: the entry's bytes do not hash to the stated leaf hash")
    entry = loads_strict(data)
    if not isinstance(entry, dict) or not isinstance(entry.get("body"), dict):
        raise VerificationError("reveal: the entry is not an entry object with a body")
    if canonical_bytes(entry) != data:
        raise VerificationError("reveal: the entry is not in canonical form")
    committed = committed_paths(entry.get("body", {}))
    if path not in committed:
        raise VerificationError(f"reveal: entry {entry.get('seq')} has no confidential field {shown(path)}")
    if len(salt) != SALT_SIZE or commitment_of(path, salt, value) != committed[path]:
        raise VerificationError(f"reveal: value and salt do not open the commitment of {shown(path)}")
    return entry
