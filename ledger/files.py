"""Fingerprints of documents we hold: only their SHA-256 enters the ledger."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .errors import InputError


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks (documents can be large)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except FileNotFoundError:
        raise InputError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise InputError(f"{path} is a directory, not a file") from None
    except PermissionError:
        raise InputError(f"cannot read {path}: permission denied") from None
    return digest.hexdigest()
