"""Signing identities: Ed25519 key pairs kept encrypted, 0600, in a key directory.

A key's id is the SHA-256 of its raw 32-byte public key: it names the signer in every
entry, and cannot be claimed by a different public key.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from collections.abc import Callable
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError, KeyStoreError, LedgerExists, shown

if TYPE_CHECKING:  # imported where used: commands that sign nothing skip cryptography's ~20 ms
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of an Ed25519 public key."""
    return key.public_bytes_raw()


def key_id(public_key: bytes) -> bytes:
    """SHA-256 of the raw public key: the signer id written into entries."""
    return hashlib.sha256(public_key).digest()


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid key name, else raise InputError."""
    if not NAME_RE.match(name):
        raise InputError(
            f"invalid key name {shown(name)}: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


@dataclass(frozen=True)
class Signer:
    """A named private key, ready to sign entries."""

    name: str
    private_key: Ed25519PrivateKey

    @cached_property
    def public_key(self) -> bytes:
        return raw_public_key(self.private_key.public_key())

    @cached_property
    def key_id(self) -> bytes:
        return key_id(self.public_key)

    @cached_property
    def _sodium_key(self) -> bytes:
        seed = self.private_key.private_bytes_raw()
        return seed + self.public_key

    def sign(self, message: bytes) -> bytes:
        """The Ed25519 signature of ``message`` (RFC 8032: the same bytes from any library).

        Entries are signed through libsodium: it signs about 1.6 times as fast as
        OpenSSL here (bench/README.md), and a bulk import signs every entry in turn.
        """
        from nacl.bindings import crypto_sign

        return crypto_sign(message, self._sodium_key)[:64]

    def signing(self) -> Callable[[bytes], bytes]:
        """``sign`` as one call with nothing to look up, for one loop that signs each
        entry of a bulk import in turn (one thread: the callable keeps its own buffer).

        It calls libsodium's ``crypto_sign`` through PyNaCl's own binding, into a buffer
        made once: PyNaCl's wrapper makes two buffers a call and copies the message back
        out, 4% of the signing thread's instructions (bench/bench_instructions.py).
        """
        key = self._sodium_key
        try:
            from nacl._sodium import ffi, lib
        except ImportError:  # PyNaCl moved its binding: its wrapper does the same
            from nacl.bindings import crypto_sign

            return lambda message: crypto_sign(message, key)[:64]
        signed = ffi.new("unsigned char[]", _SIGNED_ROOM)
        room, length, signature = _SIGNED_ROOM - 64, ffi.new("unsigned long long *"), ffi.buffer(signed, 64)

        def sign(message: bytes) -> bytes:
            nonlocal signed, room, signature
            if len(message) > room:
                signed = ffi.new("unsigned char[]", len(message) + 64)
                room, signature = len(message), ffi.buffer(signed, 64)
            if lib.crypto_sign(signed, length, message, len(message), key) != 0:  # pragma: no cover - libsodium's own failure
                raise RuntimeError("libsodium could not sign")
            return signature[:]

        return sign


_SIGNED_ROOM = 1 << 16  # bytes of signature and message a signing buffer starts with


def verify_signature(*, public_key: bytes, signature: bytes, message: bytes) -> bool:
    """True if ``signature`` is a valid Ed25519 signature of ``message`` by ``public_key``.

    libsodium checks it (twice OpenSSL's speed here, which full verification needs),
    with its strict rules: besides RFC 8032 it refuses small-order and non-canonical
    keys and R values, which no honest signer produces (docs/FORMAT.md).
    """
    if len(public_key) != 32 or len(signature) != 64:
        return False
    open_signed, errors = _sodium_open()
    try:
        open_signed(signature + message, public_key)
    except errors:
        return False
    return True


@cache
def _sodium_open() -> tuple[Callable[[bytes, bytes], bytes], tuple[type[Exception], ...]]:
    # Imported on first use, not at start-up: `claimledger --help` never verifies.
    from nacl.bindings import crypto_sign_open
    from nacl.exceptions import CryptoError

    return crypto_sign_open, (CryptoError, ValueError, TypeError)


def default_home() -> Path:
    """``$CLAIMLEDGER_HOME``, else ``$XDG_DATA_HOME/claimledger``, else ~/.local/share."""
    if env := os.environ.get("CLAIMLEDGER_HOME"):
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "claimledger"


class KeyStore:
    """A directory of passphrase-encrypted private keys, one PEM file per name."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = Path(home) if home is not None else default_home()
        self.keys_dir = self.home / "keys"

    def path(self, name: str) -> Path:
        return self.keys_dir / f"{check_name(name)}.key"

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def names(self) -> list[str]:
        if not self.keys_dir.is_dir():
            return []
        return sorted(p.stem for p in self.keys_dir.glob("*.key"))

    def create(self, name: str, passphrase: bytes) -> Signer:
        """Generate a key pair and write its private key encrypted with ``passphrase``."""
        path = self.path(name)
        if path.exists():
            raise LedgerExists(f"key {shown(name)} already exists at {path}")
        if not passphrase:
            raise KeyStoreError("a key needs a non-empty passphrase")
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        )
        self.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.keys_dir, 0o700)
        # O_EXCL: two `key new` at once must not overwrite each other's key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        return Signer(name, private)

    def load(self, name: str, passphrase: bytes) -> Signer:
        """Read and decrypt the key ``name``; refuse a file others can read or write."""
        path = self.path(name)
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise KeyStoreError(f"no key named {shown(name)} in {self.keys_dir}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyStoreError(
                f"key file {path} is accessible by others (mode {stat.S_IMODE(mode):o}); "
                f"run: chmod 600 {path}"
            )
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        try:
            private = serialization.load_pem_private_key(path.read_bytes(), password=passphrase)
        except (ValueError, TypeError) as exc:
            raise KeyStoreError(f"cannot unlock key {shown(name)}: wrong passphrase or damaged key file") from exc
        if not isinstance(private, Ed25519PrivateKey):
            raise KeyStoreError(f"key {shown(name)} is not an Ed25519 key")
        return Signer(name, private)
