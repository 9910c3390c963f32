"""RFC 9162 Merkle trees: leaf and node hashes, tree heads, inclusion and consistency proofs.

Pure bytes in, bytes out, so the storage layer and an offline verifier share one
implementation.  Storage keeps *perfect nodes*, addressed as

    node (level, index) = hash of the complete subtree over leaves
                          [index * 2**level, (index + 1) * 2**level)

with level 0 holding the leaf hashes.  Every tree head and every proof element is the
hash of an RFC 9162 subtree, and every such subtree is a fold of at most log2(n) perfect
nodes, so a root or a proof costs O(log n) node reads, fetched in one query: ask
``*_nodes`` for the coordinates, then pass the fetched mapping to the function of the
same name without the suffix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from ledger.errors import InputError, ProofError

# Domain separation (RFC 9162 2.1.1), so a leaf can never pose as an interior node.
# The hashed structures are  LEAF_PREFIX || data  and  NODE_PREFIX || left || right.
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

Coord = tuple[int, int]  # a perfect node's (level, index)
_Range = tuple[int, int]  # leaves [begin, end), half-open


def leaf_hash(data: bytes) -> bytes:
    """Hash one entry's bytes as a leaf."""
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two child subtree hashes into their parent's."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def root_from_leaves(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the tree head over ``leaf_hashes`` by the RFC's own recursion (MTH).

    O(n) hashes: the slow, obviously correct oracle the fast paths are tested against.
    """
    if not leaf_hashes:
        return EMPTY_ROOT
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = _split(len(leaf_hashes))
    return node_hash(root_from_leaves(leaf_hashes[:k]), root_from_leaves(leaf_hashes[k:]))


class CompactRange:
    """The tree head of a log grown leaf by leaf, in O(log n) memory.

    Holds only the perfect subtrees that decompose the current size, largest first;
    an append merges equal-sized neighbours the way a binary counter carries.
    """

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []

    @classmethod
    def from_nodes(cls, size: int, nodes: Sequence[bytes]) -> CompactRange:
        """Resume at ``size`` from the hashes of the nodes at ``range_nodes(size)``, in order."""
        want = len(range_nodes(size))
        if len(nodes) != want:
            raise InputError(f"size {size} needs {want} nodes, got {len(nodes)}")
        for i, h in enumerate(nodes):
            _check_hash(f"node {i}", h, InputError)
        resumed = cls()
        resumed._size = size
        resumed._hashes = list(nodes)
        return resumed

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return self._size

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Add the next leaf; return the perfect nodes of level >= 1 it completed.

        They come as ``(level, index, hash)`` in increasing level, ready to be stored
        beside the leaf hash itself (level 0).
        """
        _check_hash("leaf hash", leaf_hash, InputError)
        completed = []
        h, level, index = leaf_hash, 0, self._size
        while index & 1:  # a left sibling of this level is waiting: carry
            h = node_hash(self._hashes.pop(), h)
            level, index = level + 1, index >> 1
            completed.append((level, index, h))
        self._hashes.append(h)
        self._size += 1
        return completed

    def node_rows(self, leaf_hashes: Sequence[bytes]) -> list[tuple[int, int, int, bytes]]:
        """``append`` each leaf; return every node storage keeps for them, each as
        ``(level, index, leaf index, hash)``: a leaf (level 0), then the nodes its append
        completed, then the next leaf.  The leaf index is that of the leaf whose append
        completed the node (``tree_node.seq``).

        One call for a bulk import's batch, not one a leaf: the carry loop runs here on
        local names.  ``append`` is the definition; tests/test_merkle.py checks the two agree.
        """
        for h in leaf_hashes:
            _check_hash("leaf hash", h, InputError)
        rows: list[tuple[int, int, int, bytes]] = []
        add, hashes, size, sha = rows.append, self._hashes, self._size, hashlib.sha256
        pop, push = hashes.pop, hashes.append
        for h in leaf_hashes:
            add((0, size, size, h))
            level, index = 0, size
            while index & 1:
                h = sha(NODE_PREFIX + pop() + h).digest()
                level, index = level + 1, index >> 1
                add((level, index, size, h))
            push(h)
            size += 1
        self._size = size
        return rows

    def root(self) -> bytes:
        """Return the tree head of the current size (EMPTY_ROOT when empty)."""
        return _fold(self._hashes)


def range_nodes(size: int) -> list[Coord]:
    """Return the perfect nodes that decompose a tree of ``size`` leaves, largest first."""
    if size < 0:
        raise InputError(f"size {size} is negative")
    return _coords((0, size))


root_nodes = range_nodes  # the tree head folds exactly the decomposition of its size


def root_from_nodes(size: int, nodes: Mapping[Coord, bytes]) -> bytes:
    """Return the tree head of ``size`` from the perfect nodes at ``root_nodes(size)``."""
    if size < 0:
        raise InputError(f"size {size} is negative")
    return _hash_range((0, size), nodes)


def inclusion_proof_nodes(index: int, size: int) -> list[Coord]:
    """Return the perfect nodes ``inclusion_proof(index, size, ...)`` reads."""
    _check_index(index, size, InputError)
    return [c for r in _inclusion_ranges(index, size) for c in _coords(r)]


def inclusion_proof(index: int, size: int, nodes: Mapping[Coord, bytes]) -> list[bytes]:
    """Return the RFC 9162 2.1.3 inclusion proof of leaf ``index`` in the tree of ``size``.

    Requires 0 <= index < size and the nodes at ``inclusion_proof_nodes(index, size)``.
    """
    _check_index(index, size, InputError)
    return [_hash_range(r, nodes) for r in _inclusion_ranges(index, size)]


def consistency_proof_nodes(old_size: int, new_size: int) -> list[Coord]:
    """Return the perfect nodes ``consistency_proof(old_size, new_size, ...)`` reads."""
    _check_sizes(old_size, new_size, InputError)
    return [c for r in _consistency_ranges(old_size, new_size) for c in _coords(r)]


def consistency_proof(old_size: int, new_size: int, nodes: Mapping[Coord, bytes]) -> list[bytes]:
    """Return the RFC 9162 2.1.4 proof that the tree of ``old_size`` is a prefix of ``new_size``.

    Requires 0 < old_size <= new_size (equal sizes give an empty proof) and the nodes at
    ``consistency_proof_nodes(old_size, new_size)``.
    """
    _check_sizes(old_size, new_size, InputError)
    return [_hash_range(r, nodes) for r in _consistency_ranges(old_size, new_size)]


def root_from_inclusion_proof(
    *, index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]
) -> bytes:
    """Return the tree head that ``proof`` implies for ``leaf_hash`` at ``index``.

    Requires 0 <= index < size, 32-byte hashes and exactly the proof length RFC 9162
    gives for (index, size); each violation is its own ProofError.
    """
    _check_index(index, size, ProofError)
    _check_hash("leaf hash", leaf_hash, ProofError)
    ranges = _inclusion_ranges(index, size)
    _check_proof(proof, len(ranges))
    h = leaf_hash
    for (begin, _), sibling in zip(ranges, proof):
        h = node_hash(sibling, h) if begin < index else node_hash(h, sibling)
    return h


def verify_inclusion(
    *, index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``.

    Raises ProofError if not.  The proof binds the size only through the root: a proof
    can also verify for another size whose path has the same shape.
    """
    _check_hash("root", root, ProofError)
    calculated = root_from_inclusion_proof(
        index=index, size=size, leaf_hash=leaf_hash, proof=proof
    )
    _check_match("root", root, calculated)


def root_from_consistency_proof(
    *, old_size: int, new_size: int, old_root: bytes, proof: Sequence[bytes]
) -> bytes:
    """Return the new tree head that ``proof`` implies, having checked it against ``old_root``.

    Requires 0 < old_size <= new_size: a proof from the empty tree proves nothing, and
    equal sizes take an empty proof (the new head is then the old one).
    """
    _check_sizes(old_size, new_size, ProofError)
    _check_hash("old root", old_root, ProofError)
    ranges = _consistency_ranges(old_size, new_size)
    _check_proof(proof, len(ranges))
    if old_size == new_size:
        return old_root
    hashes = list(proof)
    if old_size & (old_size - 1) == 0:
        # The old tree is one perfect subtree of the new: the verifier already has it.
        hashes.insert(0, old_root)
        ranges.insert(0, (0, old_size))
    old_h = new_h = hashes[0]  # the subtree ending at old_size, where the trees diverge
    for (begin, _), sibling in zip(ranges[1:], hashes[1:]):
        if begin < old_size:  # a left sibling lies in both trees
            old_h = node_hash(sibling, old_h)
            new_h = node_hash(sibling, new_h)
        else:  # a right sibling was appended after old_size
            new_h = node_hash(new_h, sibling)
    _check_match("old root", old_root, old_h)
    return new_h


def verify_consistency(
    *, old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``old_size`` with ``old_root`` is a prefix of ``new_root``'s.

    Raises ProofError if not.  As with inclusion, the sizes are bound through the roots.
    """
    _check_hash("new root", new_root, ProofError)
    calculated = root_from_consistency_proof(
        old_size=old_size, new_size=new_size, old_root=old_root, proof=proof
    )
    _check_match("new root", new_root, calculated)


# --- the shape of the tree: leaf ranges and the perfect nodes that cover them ----------


def _split(n: int) -> int:
    """Return the largest power of two below ``n`` (>= 2): where RFC 9162 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def _inclusion_ranges(index: int, size: int) -> list[_Range]:
    """Return the ranges whose hashes form PATH(index, D[size]), bottom up (2.1.3.1)."""
    ranges = []
    begin, end = 0, size
    while end - begin > 1:
        mid = begin + _split(end - begin)
        if index < mid:
            ranges.append((mid, end))
            end = mid
        else:
            ranges.append((begin, mid))
            begin = mid
    ranges.reverse()
    return ranges


def _consistency_ranges(old_size: int, new_size: int) -> list[_Range]:
    """Return the ranges whose hashes form PROOF(old_size, D[new_size]), bottom up (2.1.4.1)."""
    ranges = []
    begin, end = 0, new_size
    old_is_prefix = True  # the RFC's flag b: the verifier holds [begin, old_size) already
    while old_size < end:
        mid = begin + _split(end - begin)
        if old_size <= mid:
            ranges.append((mid, end))
            end = mid
        else:
            ranges.append((begin, mid))
            begin = mid
            old_is_prefix = False
    if not old_is_prefix:
        ranges.append((begin, end))
    ranges.reverse()
    return ranges


def _coords(r: _Range) -> list[Coord]:
    """Return the perfect nodes covering a subtree's range, largest (leftmost) first.

    A subtree's begin is aligned to its size rounded up to a power of two, so each piece
    of the binary decomposition of its size is a perfect node.
    """
    begin, end = r
    coords = []
    for level in reversed(range((end - begin).bit_length())):
        if (end - begin) >> level & 1:
            coords.append((level, begin >> level))
            begin += 1 << level
    return coords


def _hash_range(r: _Range, nodes: Mapping[Coord, bytes]) -> bytes:
    """Return the hash of the subtree over ``r`` from the perfect nodes that cover it."""
    hashes = []
    for coord in _coords(r):
        try:
            hashes.append(nodes[coord])
        except KeyError:
            raise InputError(f"missing perfect node (level, index) = {coord}") from None
    return _fold(hashes)


def _fold(hashes: list[bytes]) -> bytes:
    """Hash a decomposition, largest first, into one root: RFC 9162 splits off the left."""
    if not hashes:
        return EMPTY_ROOT
    h = hashes[-1]
    for left in reversed(hashes[:-1]):
        h = node_hash(left, h)
    return h


# --- preconditions and mismatches ------------------------------------------------------


def _check_index(index: int, size: int, error: type[Exception]) -> None:
    if not 0 <= index < size:
        raise error(f"index {index} out of range for size {size}")


def _check_sizes(old_size: int, new_size: int, error: type[Exception]) -> None:
    if old_size > new_size:
        raise error(f"old size {old_size} exceeds new size {new_size}")
    if old_size <= 0:
        raise error(f"consistency from old size {old_size} proves nothing")


def _check_hash(what: str, h: bytes, error: type[Exception]) -> None:
    if len(h) != HASH_SIZE:
        raise error(f"{what} has {len(h)} bytes, want {HASH_SIZE}")


def _check_proof(proof: Sequence[bytes], want: int) -> None:
    if len(proof) != want:
        raise ProofError(f"proof length {len(proof)}, want {want}")
    for i, h in enumerate(proof):
        _check_hash(f"proof[{i}]", h, ProofError)


def _check_match(what: str, expected: bytes, calculated: bytes) -> None:
    if calculated != expected:
        raise ProofError(
            f"{what} mismatch: expected {_short(expected)}, calculated {_short(calculated)}"
        )


def _short(h: bytes) -> str:
    return f"{h[:2].hex()}..{h[-2:].hex()}"
