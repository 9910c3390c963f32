"""Bulk import: the JSON Lines format and the references between its lines.

Each line is one object: ``{"kind": K, "body": {...}}`` with an optional ``"label"``.
Wherever a body holds a reference, it may give ``"@label"`` (an earlier line of the
same file), ``"#N"`` (the entry with seq N) or a full leaf hash.  docs/FORMAT.md has
the details.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from .canonical import loads_strict
from .errors import DigitsPastTheEnd, InputError, UnknownRef, shown
from .labels import Labels
from .schema import KINDS


class Item(NamedTuple):
    """One entry to append: its kind and body, an optional label naming it for later
    ``@label`` references, and where it came from (for error messages).

    A named tuple, not a frozen dataclass: a bulk import makes one or two a line, and
    a frozen dataclass takes three times as long to make (1.1 us against 0.33 here).
    """

    kind: str
    body: dict[str, Any]
    label: str | None = None
    where: str = ""
    secrets: tuple[Any, ...] = ()  # ledger.secrets.Secret: what this body's commitments hide


class Planned(NamedTuple):
    """One import line as ``ledger.pipeline`` plans it in a second process.

    ``number`` numbers the line among the import's (increasing, not always by one).
    ``body_bytes`` is the canonical body with a placeholder of 64 hex digits wherever it
    names an earlier line's label, to be replaced by that line's leaf hash: ``swaps``
    pairs each placeholder (quoted) with the number of the line that gave the label.
    ``targets`` are its references in ``iter_refs`` order: the seq of an entry recorded
    before, or a quoted placeholder.  ``content`` is its content hash
    (``content_hash``) when it has no swaps, which would change it.  Without
    ``body_bytes`` the line is ``item``, to be checked and resolved as any other item
    is, and ``swaps`` pairs each label its body names with the line that gave it.
    """

    kind: str
    label: str | None
    where: str
    body_bytes: bytes | None
    swaps: tuple[tuple[bytes, int], ...] | tuple[tuple[str, int], ...]
    targets: tuple[int | bytes, ...]
    content: bytes | None
    item: Item | None
    number: int


REF_FIELDS = ("target", "source", "from", "to", "part_of", "replacement")
REF_LIST_FIELDS = ("asserted_by", "reported_by")
LABEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\Z")
MAX_LINE_BYTES = 1 << 20
_LINE_FIELDS = frozenset({"kind", "body", "label"})

Resolver = Callable[[str], tuple[int, str]]
"""Turns what follows ``#`` (a seq or a hash prefix) into (seq, full leaf hash), or raises."""


def parse_lines(lines: Iterable[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, parsed object) for each non-blank line; InputError names the line."""
    for number, raw in enumerate(lines, start=1):
        if len(raw) > MAX_LINE_BYTES:
            raise InputError(f"line {number}: longer than {MAX_LINE_BYTES} bytes")
        if not raw.strip():
            continue
        try:
            obj = loads_strict(raw)
        except InputError as exc:
            raise InputError(f"line {number}: {exc}") from None
        if not isinstance(obj, dict):
            raise InputError(f"line {number}: expected a JSON object")
        if not _LINE_FIELDS.issuperset(obj):
            unknown = sorted(set(obj) - _LINE_FIELDS)
            raise InputError(f"line {number}: unknown field {shown(unknown[0])} (allowed: kind, body, label)")
        if obj.get("kind") not in KINDS:
            raise InputError(f"line {number}: kind must be one of {', '.join(KINDS)}")
        if not isinstance(obj.get("body"), dict):
            raise InputError(f"line {number}: body must be a JSON object")
        label = obj.get("label")
        if label is not None and (not isinstance(label, str) or not LABEL_RE.match(label)):
            raise InputError(f"line {number}: label must be 1-128 letters, digits or ._:-")
        yield number, obj


def resolve_refs(body: dict[str, Any], resolve: Callable[[str], str]) -> dict[str, Any]:
    """``body`` with every reference field passed through ``resolve``: a copy if any
    reference changes, else ``body`` itself (bulk imports resolve every line twice)."""
    out: dict[str, Any] | None = None
    for name in REF_FIELDS:
        if isinstance(ref := body.get(name), str) and (new := resolve(ref)) != ref:
            out = dict(body) if out is None else out
            out[name] = new
    for name in REF_LIST_FIELDS:
        if isinstance(refs := body.get(name), list):
            new_refs = [resolve(r) if isinstance(r, str) else r for r in refs]
            if new_refs != refs:
                out = dict(body) if out is None else out
                out[name] = new_refs
    return body if out is None else out


def plan_import(lines: Iterable[bytes], ledger_resolver: Resolver, *, size: int) -> Iterator[Item]:
    """Yield one Item per line, ``#N`` references resolved; ``@label`` ones are left
    for the ledger to resolve as it signs, since a line's hash exists only then.

    ``#N`` may only name one of the ``size`` entries recorded before the import began,
    so that what a line means never depends on how the file is cut into batches.
    """
    seen = Labels()  # the labels of the lines before; a set of a million would take ~90 MB
    try:
        yield from _plan(lines, ledger_resolver, size, seen)
    finally:
        seen.close()


def _instead(tail: str, ledger_resolver: Resolver, size: int) -> str:
    """What to write for a ``#`` reference to no entry recorded before the import: a
    label, or, where its digits start the leaf hash of one that was, a longer prefix."""
    if tail.isascii() and tail.isdigit():
        try:
            ledger_resolver(tail)
        except DigitsPastTheEnd as exc:
            if exc.seq < size:
                return exc.hint
        except InputError:
            pass
    return "use @label to refer to its lines"


def recorded_ref(ref: str, number: int, ledger_resolver: Resolver, size: int) -> str:
    """The full leaf hash a ``#`` reference on line ``number`` names, which must be one of
    the ``size`` entries recorded before the import began; else UnknownRef."""
    try:
        tail = ref[1:]
        seq, digest = (size, "") if tail.isascii() and tail.isdigit() and int(tail) >= size \
            else ledger_resolver(tail)
    except InputError as exc:
        raise UnknownRef(f"line {number}: {exc}") from None
    if seq >= size:
        raise UnknownRef(f"line {number}: {ref} was not recorded before this import; "
                         f"{_instead(tail, ledger_resolver, size)}")
    return digest


def _plan(lines: Iterable[bytes], ledger_resolver: Resolver, size: int, seen: Labels) -> Iterator[Item]:
    for number, obj in parse_lines(lines):

        def resolve(ref: str) -> str:
            if ref.startswith("#"):
                return recorded_ref(ref, number, ledger_resolver, size)
            if ref.startswith("@") and ref[1:] not in seen:
                raise UnknownRef(f"line {number}: no earlier line has label {shown(ref[1:])}")
            return ref

        label = obj.get("label")
        if label is not None:
            if label in seen:
                raise InputError(f"line {number}: label {shown(label)} is used twice")
            seen[label] = ""
        yield Item(obj["kind"], resolve_refs(obj["body"], resolve), label=label, where=f"line {number}")
