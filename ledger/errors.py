"""The error taxonomy: every failure the library reports is a ``LedgerError``.

Each class carries the process exit code the CLI maps it to, so that mapping lives in
one place (``cli.main``) and the library never exits.  Messages are lowercase, one line,
and say what and where: ``entry 42: prev hash mismatch: expected 3f..a1, got 9c..07``.
"""

from __future__ import annotations

SHOWN = 60  # characters of a value an error message quotes


def shown(value: object) -> str:
    """``repr(value)`` for an error message, cut to ``SHOWN`` characters: a message
    quotes what it was given, and one line must stay one clear line when that was
    20,000 characters."""
    text = repr(value)
    return text if len(text) <= SHOWN else f"{text[:SHOWN - 3]}... ({len(text):,} characters)"


class LedgerError(Exception):
    """Root of every error the library raises on purpose."""

    exit_code = 1


# --- 2: the caller's input is wrong -------------------------------------------------


class InputError(LedgerError):
    """Bad input or usage: nothing was changed."""

    exit_code = 2


class LedgerNotFound(InputError):
    """No ledger at the given path or URL (only ``init`` creates one)."""


class LedgerExists(InputError):
    """``init`` was asked to create a ledger where one already is."""


class UnknownRef(InputError):
    """A REF names no entry (no such seq, no leaf hash with that prefix)."""


class DigitsPastTheEnd(UnknownRef):
    """An all-digit REF, read as a seq number past the log's end, whose digits start
    the leaf hash of one entry, ``seq``: ``hint`` says which longer prefix names it."""

    def __init__(self, message: str, hint: str, seq: int) -> None:
        super().__init__(f"{message}; {hint}")
        self.hint, self.seq = hint, seq


class AmbiguousRef(InputError):
    """A leaf-hash prefix matches more than one entry."""


class InvalidEntry(InputError):
    """A body fails its kind's schema or a ledger rule (wrong kind of target...)."""


class KeyStoreError(InputError):
    """A signing key is missing, unreadable, too exposed, or its passphrase is wrong."""


# --- 1: something does not verify ---------------------------------------------------


class VerificationError(LedgerError):
    """The ledger, a proof, a note or a bundle does not verify."""

    exit_code = 1

    def __init__(self, message: str, *, seq: int | None = None) -> None:
        super().__init__(message if seq is None else f"entry {seq}: {message}")
        self.seq = seq
        self.reason = message


class ProofError(VerificationError):
    """A Merkle proof is malformed or does not lead to the expected root."""


# --- 3: the environment failed ------------------------------------------------------


class StorageError(LedgerError):
    """The database is unreachable, locked past the timeout, or failed mid-write."""

    exit_code = 3
