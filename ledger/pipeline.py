"""Bulk import on two cores: a second process plans the lines while this one signs.

An import's time is almost all Python on one thread, and the GIL keeps a second thread
from sharing it.  So the lines are planned in a forked process: it parses and checks
each one as ``plan_import`` would (``plan_lines``), checks its body against the schema
and its references against the kinds their fields admit, and canonicalises the body.
A reference to an earlier line of the import cannot be resolved there, since that
line's leaf hash exists only once it is signed: its place holds a placeholder of 64 hex
digits, as a leaf hash has, so the canonical bytes around it are already final (RFC
8785 orders members by name and escapes nothing in hex).  This process then only swaps
in the real hashes, signs, hashes and writes (``Ledger._prepare_planned``): it never
builds the bodies as Python objects again (``bench/README.md``, "Last runs", has the
figures).

The planner runs ``PLANNER_NICE`` steps below this process.  On two cores three strands
compete: the planner, this signing thread (the import's critical path: each entry's
signature covers the hash of the one before) and the writer.  The planner, ahead by up
to ``AHEAD`` messages, then takes the core time the signing thread leaves, and that
thread waits less for a core: in a 1M-line import, half as long (``bench/README.md``).
On a machine busy with other work the planner gets less than its share, and an import
may wait for it.

A line the planner cannot vouch for (a check fails, a key entry, a placeholder that also
appears elsewhere in the body) goes across as the ``Item`` ``plan_import`` would yield
and takes the ordinary path, which raises the ordinary error in its turn.  An error
``plan_import`` would raise crosses after the lines before it, and is raised where the
ordinary import would raise it.

``PlannedItems`` does the same for a library caller's list of ``Item``: an item the
planner cannot vouch for does not cross at all; this process takes it from its own list.
"""

from __future__ import annotations

import gc
import os
import pickle
import queue
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from functools import partial
from multiprocessing.connection import Connection as Pipe
from typing import IO, TYPE_CHECKING, Any

from . import backend
from .canonical import canonical_bytes
from .entry import content_digest
from .errors import InputError, LedgerError, StorageError, UnknownRef, shown
from .importer import Item, Planned, Resolver, parse_lines, recorded_ref, resolve_refs
from .labels import Labels
from .rules import check_occurred, check_refs, iter_refs
from .schema import KINDS, body_valid, integer_fields

if TYPE_CHECKING:
    from .store import Ledger

CHUNK = 256  # planned lines a message
PLANNER_NICE = 10  # what the planner adds to its niceness (see above)
AHEAD = 128  # messages the planner may be ahead: 32,768 lines, about 12 MB
# A message is one tag byte and a pickle: planned lines with the bytes of the file read
# so far, the end, or the error that stopped the planner.
LINES, END, ERROR = b"L", b"E", b"X"


class _Planner:
    """Planned entries, made by a forked process from what ``produce`` yields there.

    Iterate it once.  Use it as a context manager, so that the planner is stopped
    whatever happens.  The planner is forked when this is made: make it before the
    process starts threads of its own (a fork copies only the thread that makes it, and
    none of the locks others hold would ever be released in the copy).
    """

    def __init__(self, ledger: Ledger, produce: Callable[[Any], Iterator[tuple[Any, ...]]],
                 tell: Callable[[], int]) -> None:
        from multiprocessing.connection import Pipe as pipe

        self._from_planner, to_parent = pipe(duplex=False)
        for stream in (sys.stdout, sys.stderr):  # a fork must not write the parent's buffers twice
            stream.flush()
        # A bare fork, not multiprocessing's Process: that closes standard input in the
        # child, and ``claimledger import -`` reads its lines from there.
        self._pid = os.fork()
        if self._pid == 0:  # pragma: no cover - the child; its work is measured by its messages
            try:
                _planner(ledger, produce, tell, to_parent, self._from_planner)
            finally:
                os._exit(0)
        to_parent.close()
        self.position = 0
        # A thread takes the messages off the pipe as they come, so that the planner
        # runs ahead while a whole batch is gathered and signed here; bounded, so
        # memory stays flat.
        self._messages: queue.Queue[bytes | None] = queue.Queue(maxsize=AHEAD)
        self._pump = threading.Thread(target=self._receive, name="claimledger-planned", daemon=True)
        self._pump.start()

    # A planned line from the fields the planner sent: tuple.__new__ makes it without a
    # call in Python (Planned._make), once a line; the planner always sends all of them.
    _planned: Callable[[tuple[Any, ...]], Planned] = staticmethod(partial(tuple.__new__, Planned))  # type: ignore[assignment]

    def _receive(self) -> None:
        try:
            while True:
                message = self._from_planner.recv_bytes()
                self._messages.put(message)
                if message[:1] != LINES:  # the planner's last message
                    return
        except (EOFError, OSError):
            self._messages.put(None)

    def __iter__(self) -> Iterator[Planned]:
        while True:
            blob = self._messages.get()
            if blob is None:
                raise StorageError(
                    "the process reading the import file stopped unexpectedly (killed, or out of memory?); "
                    "the batches reported imported are recorded"
                )
            tag, payload = blob[:1], blob[1:]
            if tag == LINES:
                chunk, self.position = pickle.loads(payload)
                yield from map(self._planned, chunk)
            elif tag == ERROR:
                raise pickle.loads(payload)
            else:
                return

    def close(self) -> None:
        """Stop the planner if it still runs."""
        if self._pid:
            try:
                os.kill(self._pid, signal.SIGTERM)  # nothing, if it has ended
                os.waitpid(self._pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self._pid = 0
        while self._pump.is_alive():  # the planner is gone: the pump meets the pipe's end
            try:
                self._messages.get(timeout=0.1)
            except queue.Empty:
                pass
        self._from_planner.close()

    def __enter__(self) -> _Planner:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class PlannedLines(_Planner):
    """The lines of an import file (JSON Lines, as ``plan_import`` reads them), planned
    in a forked process; ``position`` says how many bytes of it the planner has read."""

    def __init__(self, ledger: Ledger, lines: IO[bytes], *, size: int) -> None:
        super().__init__(ledger, lambda conn: plan_lines(lines, ledger, conn, size=size), lambda: _tell(lines))


class PlannedItems(_Planner):
    """A library caller's items, planned in a forked process: ``append_many(PlannedItems(
    ledger, items), ...)`` records what ``append_many(items, ...)`` records, faster.

    ``items`` must be a sequence: an item the planner leaves to the ordinary path is
    taken from it here, so nothing in it needs to cross between processes.
    """

    def __init__(self, ledger: Ledger, items: Sequence[Item]) -> None:
        self._items = items
        super().__init__(ledger, lambda conn: plan_items(items, conn, lambda index, _item: index), lambda: 0)

    def _planned(self, fields: tuple[Any, ...]) -> Planned:
        if isinstance(fields[7], int):  # an item left to the ordinary path, by its index
            return Planned(*fields[:7], self._items[fields[7]], fields[8])
        return _Planner._planned(fields)


def _planner(ledger: Ledger, produce: Callable[[Any], Iterator[tuple[Any, ...]]], tell: Callable[[], int],
             to_parent: Pipe, parent_end: Pipe) -> None:
    """The forked process: plan everything and send it on, then an error or the end."""
    parent_end.close()
    gc.disable()  # planning makes no reference cycles, and the process ends with the import
    with suppress(OSError):  # a system that refuses only costs the import its speed
        os.nice(PLANNER_NICE)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    ledger.engine.dispose(close=False)  # the parent's connections stay the parent's

    def send(tag: bytes, payload: Any = None) -> None:
        to_parent.send_bytes(tag + pickle.dumps(payload, pickle.HIGHEST_PROTOCOL))

    chunk: list[tuple[Any, ...]] = []
    try:
        with backend.translate_errors(), ledger.engine.connect() as conn:
            for planned in produce(conn):
                chunk.append(planned)
                if len(chunk) >= CHUNK:
                    send(LINES, (chunk, tell()))
                    chunk = []
        send(LINES, (chunk, tell()))
        send(END)
    except BrokenPipeError:
        pass  # the parent is gone or stopped listening: nothing to tell
    except BaseException as exc:  # noqa: BLE001 -- crosses to the parent, which raises it
        send(LINES, (chunk, tell()))
        send(ERROR, _portable(exc))
    finally:
        to_parent.close()
        ledger.engine.dispose()  # its own connections: a server sees them closed, not dropped


def _tell(lines: IO[bytes]) -> int:
    try:
        return lines.tell()
    except (OSError, ValueError):
        return 0


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a plain error with its message."""
    try:
        return pickle.loads(pickle.dumps(exc, pickle.HIGHEST_PROTOCOL))  # type: ignore[no-any-return]
    except Exception:  # noqa: BLE001 -- any failure to cross means: send the message instead
        base = InputError if isinstance(exc, InputError) else LedgerError if isinstance(exc, LedgerError) else RuntimeError
        return base(str(exc))


def plan_lines(lines: IO[bytes], ledger: Ledger, conn: Any, *, size: int) -> Iterator[tuple[Any, ...]]:
    """Plan each line of an import into the fields of a ``Planned`` (see the module).

    What ``plan_import`` and then ``plan_items`` would do, in one pass over each line:
    the same errors, raised at the same line, with one map of the labels given so far
    and each reference resolved once.  A line that needs the ordinary path goes across
    as the ``Item`` that ``plan_import`` yields.
    """

    def resolver(ref: str) -> tuple[int, str]:
        entry = ledger.resolve(ref)
        return entry.seq, entry.leaf_hash.hex()

    stored = backend.hash_lookup(conn)
    salt = os.urandom(16).hex()
    given: Labels[int] = Labels()  # label -> the line that gave it (``_given``)
    try:
        for number, obj in parse_lines(lines):
            kind, body, label = obj["kind"], obj["body"], obj.get("label")
            if label is not None and label in given:
                raise InputError(f"line {number}: label {shown(label)} is used twice")
            where = f"line {number}"
            planned = _plan_line(kind, body, label, number, where, given, stored, resolver, size, salt)
            if planned is None:
                givers: dict[str, int] = {}

                def ordinary(ref: str) -> str:
                    if ref.startswith("#"):
                        return recorded_ref(ref, number, resolver, size)
                    _note_giver(ref, given, givers)
                    return ref

                item = Item(kind, resolve_refs(body, ordinary), label=label, where=where)
                planned = (kind, label, where, None, tuple(givers.items()), (), None, item, number)
            if label is not None:
                given[label] = _given(number, kind)
            yield planned
    finally:
        given.close()


def _plan_line(kind: str, body: dict[str, Any], label: str | None, number: int, where: str, given: Labels[int],
               stored: Any, resolver: Resolver, size: int, salt: str) -> tuple[Any, ...] | None:
    """The ``Planned`` fields of one parsed line, or None for the ordinary path.

    Raises what ``plan_import`` raises for the line's references: an unknown label, a
    ``#`` reference to no entry recorded before the import.
    """
    named: dict[str, tuple[int, str]] = {}  # placeholder -> the line that gave its label, and its kind
    uses: dict[str, int] = {}

    def resolve(ref: str) -> str:
        if ref.startswith("#"):
            return recorded_ref(ref, number, resolver, size)
        if not ref.startswith("@"):
            return ref
        try:
            return _use_placeholder(ref[1:], given, salt, named, uses)
        except KeyError:  # nor does the line's own label name one yet
            raise UnknownRef(f"line {number}: no earlier line has label {shown(ref[1:])}") from None

    planned_body = resolve_refs(body, resolve)
    if kind == "key":
        return None
    try:
        return _checked_fields(kind, planned_body, label, where, number, named, uses, stored)
    except Exception:  # noqa: BLE001 -- the ordinary path decides, and explains
        return None


def plan_items(items: Iterable[Item], conn: Any, slow: Callable[[int, Item], Any]) -> Iterator[tuple[Any, ...]]:
    """Plan each item into the fields of a ``Planned``; ``slow(index, item)`` is what
    stands for an item left to the ordinary path."""
    stored = backend.hash_lookup(conn)
    salt = os.urandom(16).hex()
    given: Labels[int] = Labels()  # label -> the item that gave it (``_given``)
    try:
        for index, item in enumerate(items):
            planned = _plan_one(item, given, stored, salt, index)
            if planned is None:
                givers: dict[str, int] = {}
                with suppress(Exception):  # a body the ordinary path refuses names no one
                    resolve_refs(item.body, lambda ref: _note_giver(ref, given, givers) or ref)
                planned = (item.kind, item.label, item.where, None, tuple(givers.items()), (), None,
                           slow(index, item), index)
            if item.label is not None and item.kind in KINDS:  # no other kind gets past its turn
                given[item.label] = _given(index, item.kind)
            yield planned
    finally:
        given.close()


def _plan_one(item: Item, given: Labels[int], stored: Any, salt: str, index: int) -> tuple[Any, ...] | None:
    """The ``Planned`` fields of one item, its body canonical, if every check passes;
    None leaves it to the ordinary path, to check and explain."""
    if item.kind == "key" or item.kind not in KINDS or item.secrets or type(item.body) is not dict:
        return None
    try:
        return _planned_fields(item, given, stored, salt, index)
    except Exception:  # noqa: BLE001 -- whatever a library caller's values do, the ordinary path decides
        return None


def _planned_fields(item: Item, given: Labels[int], stored: Any, salt: str, index: int) -> tuple[Any, ...] | None:
    named: dict[str, tuple[int, str]] = {}  # placeholder -> the line that gave its label, and its kind
    uses: dict[str, int] = {}

    def placeholder(ref: str) -> str:
        # KeyError: no item before gave the label (the item's own, say)
        return _use_placeholder(ref[1:], given, salt, named, uses) if ref.startswith("@") else ref

    body = resolve_refs(item.body, placeholder)
    return _checked_fields(item.kind, body, item.label, item.where, index, named, uses, stored)


_KIND_INDEX = {kind: index for index, kind in enumerate(KINDS)}


def _given(number: int, kind: str) -> int:
    """What ``given`` holds for a label: the number of the line that gave it, and the
    index of that line's kind in ``KINDS`` in the low byte."""
    return number << 8 | _KIND_INDEX[kind]


def _note_giver(ref: str, given: Labels[int], givers: dict[str, int]) -> None:
    """For a line left to the ordinary path: note in ``givers`` the line that gave the
    label ``ref`` names, if one did (if none did, the ordinary path says so)."""
    if ref.startswith("@") and (value := given.get(ref[1:])) is not None:
        givers[ref[1:]] = value >> 8


def _use_placeholder(label: str, given: Labels[int], salt: str, named: dict[str, tuple[int, str]],
                     uses: dict[str, int]) -> str:
    """The placeholder of ``label`` (KeyError if none gave it): this import's salt and
    the number of the line that gave it, 64 hex digits; noted in ``named`` with that
    number and the line's kind, and counted in ``uses``."""
    value = given[label]
    hex_ = f"{salt}{value >> 8:032x}"
    named[hex_] = (value >> 8, KINDS[value & 0xFF])
    uses[hex_] = uses.get(hex_, 0) + 1
    return hex_


def _checked_fields(kind: str, body: dict[str, Any], label: str | None, where: str, number: int,
                    named: dict[str, tuple[int, str]], uses: dict[str, int], stored: Any) -> tuple[Any, ...] | None:
    """The ``Planned`` fields of line ``number``, whose labels are placeholders
    (``named``, each used ``uses`` times), if every check passes; None if one fails.
    What the rules raise (InvalidEntry) passes through: the callers send the item the
    ordinary way."""

    def lookup(ref: str) -> tuple[int, str] | None:
        if ref in named:
            # A stand-in seq, one of its own for each label (the same entry is the same
            # seq): it reaches no message, since a failure takes the ordinary path.
            return -1 - named[ref][0], named[ref][1]
        try:
            return stored(bytes.fromhex(ref))
        except ValueError:
            return None

    if not body_valid(kind, body):
        return None
    for name in integer_fields(kind):
        if isinstance(body.get(name), float):
            return None
    check_occurred(body)  # InvalidEntry, as check_refs may raise: the ordinary path says which
    check_refs(kind, body, lookup)
    targets = [_quoted(ref) if ref in named else lookup(ref)[0] for _, ref in iter_refs(kind, body)]  # type: ignore[index]
    body_bytes = canonical_bytes(body)
    swaps = []
    for hex_, count in uses.items():
        quoted = _quoted(hex_)
        if body_bytes.count(quoted) != count:  # the text holds the placeholder too: no splicing
            return None
        swaps.append((quoted, named[hex_][0]))
    # Without swaps the content hash is final here, and this process has the time for it.
    content = None if swaps else content_digest(kind, body_bytes)
    return (kind, label, where, body_bytes, tuple(swaps), tuple(targets), content, None, number)


def _quoted(hex_: str) -> bytes:
    return b'"' + hex_.encode("ascii") + b'"'
