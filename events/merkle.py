"""RFC 9162 Merkle trees over the log, computed from stored complete subtrees.

Leaf i (from 0) is SHA-256(0x00 || the stored body of position i + 1);
interior nodes are SHA-256(0x01 || left || right). A complete subtree is
named (level, index): it covers leaves [index * 2^level, (index + 1) * 2^level).
Any range the RFC's recursion visits splits into at most log2(n) complete
subtrees, so a root or a proof needs O(log n) stored nodes, fetched at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

Node = tuple[int, int]  # (level, index)
Fetch = Callable[[Iterable[Node]], Mapping[Node, bytes]]

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def parts(lo: int, hi: int) -> list[Node]:
    """The complete subtrees that make up leaves [lo, hi), largest first."""
    found: list[Node] = []
    while lo < hi:
        size = 1 << ((hi - lo).bit_length() - 1)
        assert lo % size == 0, f"[{lo}, {hi}) is not a range of the RFC's recursion"
        found.append(((size.bit_length() - 1), lo // size))
        lo += size
    return found


def fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from its complete subtrees: H(s1, H(s2, ... H(s_k-1, s_k)))."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


Range = tuple[int, int]


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """PATH(m, D[0:n]) of RFC 9162 2.1.3.1, as the ranges whose MTH makes up the path."""
    ranges: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index - lo < k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo = lo + k
    return list(reversed(ranges))


def consistency_ranges(first: int, second: int) -> list[Range]:
    """PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true) of RFC 9162 2.1.4.1, as ranges."""
    ranges: list[Range] = []
    lo, hi, m, complete = 0, second, first, True
    while True:
        n = hi - lo
        if m == n:
            if not complete:
                ranges.append((lo, hi))
            break
        k = split_point(n)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    return list(reversed(ranges))


def hashes_of(ranges: Sequence[Range], fetch: Fetch) -> list[bytes]:
    """The MTH of each range, from one fetch of every complete subtree they need."""
    needed = {node for lo, hi in ranges for node in parts(lo, hi)}
    stored = fetch(needed)
    missing = needed - set(stored)
    if missing:
        raise LookupError(f"the tree lacks nodes {sorted(missing)[:3]}")
    return [fold([stored[node] for node in parts(lo, hi)]) for lo, hi in ranges]


def root(size: int, fetch: Fetch) -> bytes:
    if size == 0:
        return EMPTY_ROOT
    return hashes_of([(0, size)], fetch)[0]


def inclusion_proof(index: int, size: int, fetch: Fetch) -> list[bytes]:
    return hashes_of(inclusion_ranges(index, size), fetch)


def consistency_proof(first: int, second: int, fetch: Fetch) -> list[bytes]:
    if first == second:
        return []
    return hashes_of(consistency_ranges(first, second), fetch)


def new_nodes(size: int, leaves: Sequence[bytes], frontier: Mapping[Node, bytes]) -> dict[Node, bytes]:
    """The complete subtrees that appending `leaves` to a tree of `size` leaves completes.

    `frontier` holds the complete subtrees of the current tree (`parts(0, size)`),
    the only old nodes a new one can be built on.
    """
    known = dict(frontier)
    created: dict[Node, bytes] = {}
    for offset, leaf in enumerate(leaves):
        level, index, current = 0, size + offset, leaf
        created[(level, index)] = known[(level, index)] = current
        while index % 2 == 1:
            current = node_hash(known[(level, index - 1)], current)
            level, index = level + 1, index // 2
            created[(level, index)] = known[(level, index)] = current
    return created


def complete_levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """Every complete subtree of a tree of these leaves, level by level: level L holds
    nodes 0..len(leaves) // 2**L - 1. `new_nodes` from an empty tree, without the bookkeeping."""
    levels = [list(leaves)]
    while len(levels[-1]) >= 2:
        below = levels[-1]
        levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
    return levels


class RootBuilder:
    """The root of a stream of leaves in O(log n) memory: how an auditor recomputes it."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, bytes]] = []  # (subtree size, hash), sizes decreasing

    def add(self, leaf: bytes) -> None:
        size, current = 1, leaf
        while self.stack and self.stack[-1][0] == size:
            left = self.stack.pop()[1]
            size, current = size * 2, node_hash(left, current)
        self.stack.append((size, current))

    def root(self) -> bytes:
        return fold([h for _, h in self.stack]) if self.stack else EMPTY_ROOT


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], expected_root: bytes) -> bool:
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == expected_root


def verify_consistency(
    first: int, second: int, proof: Sequence[bytes], first_root: bytes, second_root: bytes
) -> bool:
    """RFC 9162 2.1.4.2."""
    if first == second:
        return not proof and first_root == second_root
    if first == 0 or first > second or not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: first_root is the first node
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root
