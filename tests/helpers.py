"""Small test helpers: a fingerprint of a SQLite ledger's whole content."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path


def db_fingerprint(path: Path) -> str:
    """SHA-256 over a full SQL dump: equal fingerprints mean byte-identical content."""
    if not path.exists():
        return "absent"
    conn = sqlite3.connect(path)
    try:
        digest = hashlib.sha256()
        for line in conn.iterdump():
            digest.update(line.encode("utf-8", "surrogatepass") + b"\n")
        return digest.hexdigest()
    finally:
        conn.close()
