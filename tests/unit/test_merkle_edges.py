"""The Merkle tree at its edges: trees of 0, 1, 2, 3 leaves, powers of two and one more,
proofs at either end, and the verifiers refusing what an auditor must not accept."""

from __future__ import annotations

import pytest

from events import merkle
from tests.unit.test_merkle import CT_LEAVES, CT_ROOTS, fetcher, tree_of

EDGE_SIZES = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17]
LEAVES = [bytes([i, 7]) for i in range(17)]
NODES = tree_of(LEAVES)
FETCH = fetcher(NODES)
ROOTS = {size: merkle.root(size, FETCH) for size in range(1, 18)}
FORGED = merkle.leaf_hash(b"forged")


@pytest.mark.parametrize("size", [0, *EDGE_SIZES])
def test_complete_levels_are_every_complete_subtree(size: int) -> None:
    # range_check rebuilds a range's nodes with this to compare them with the stored ones:
    # level L must hold exactly the size >> L complete subtrees, as appending builds them.
    leaves = [merkle.leaf_hash(leaf) for leaf in LEAVES[:size]]
    nodes = merkle.new_nodes(0, leaves, {})
    expected = [[nodes[(lv, i)] for i in range(size >> lv)] for lv in range(max(1, size.bit_length()))]
    assert merkle.complete_levels(leaves) == expected


def test_complete_levels_reach_the_published_root() -> None:
    levels = merkle.complete_levels([merkle.leaf_hash(leaf) for leaf in CT_LEAVES])
    assert [len(level) for level in levels] == [8, 4, 2, 1]
    assert levels[3][0].hex() == CT_ROOTS[8]


def test_parts_name_nodes_by_integer_level_and_index() -> None:
    # The names go into SQL and into messages: integers, never 14.0 (nor inexact past 2**53).
    assert merkle.parts(0, 15) == [(3, 0), (2, 2), (1, 6), (0, 14)]
    assert merkle.parts(4, 7) == [(1, 2), (0, 6)]
    assert merkle.parts(16, 17) == [(0, 16)]
    assert all(type(number) is int for node in merkle.parts(0, 15) for number in node)


def test_a_tree_lacking_nodes_says_which() -> None:
    # A damaged node store is a LookupError naming (the first three of) the missing nodes,
    # not a KeyError from deep inside.
    with pytest.raises(LookupError) as nothing_stored:
        merkle.root(15, fetcher({}))
    assert nothing_stored.type is LookupError
    assert str(nothing_stored.value) == "the tree lacks nodes [(0, 14), (1, 6), (2, 2)]"
    one_lost = {node: h for node, h in NODES.items() if node != (1, 6)}
    with pytest.raises(LookupError, match=r"^the tree lacks nodes \[\(1, 6\)\]$"):
        merkle.inclusion_proof(0, 15, fetcher(one_lost))


@pytest.mark.parametrize("size", EDGE_SIZES)
def test_inclusion_proofs_at_the_edges_verify_and_fail_when_tampered(size: int) -> None:
    root = ROOTS[size]
    for index in sorted({0, 1 % size, size // 2, size - 2 if size > 1 else 0, size - 1}):
        leaf = merkle.leaf_hash(LEAVES[index])
        path = merkle.inclusion_proof(index, size, FETCH)
        assert merkle.verify_inclusion(index, size, leaf, path, root), (index, size)
        assert not merkle.verify_inclusion(index, size, FORGED, path, root)
        assert not merkle.verify_inclusion(index, size, leaf, path, FORGED)
        assert not merkle.verify_inclusion(index, size, leaf, [*path, FORGED], root)
        if path:
            assert not merkle.verify_inclusion(index, size, leaf, path[:-1], root)
            assert not merkle.verify_inclusion(index, size, leaf, [FORGED, *path[1:]], root)


def test_an_index_at_or_beyond_the_size_is_refused() -> None:
    # With one leaf the root is the leaf, so only the bound stops "leaf 1 of a tree of 1"
    # from verifying with an empty path.
    leaf = merkle.leaf_hash(LEAVES[0])
    assert merkle.verify_inclusion(0, 1, leaf, [], ROOTS[1])
    assert not merkle.verify_inclusion(1, 1, leaf, [], ROOTS[1])
    assert not merkle.verify_inclusion(5, 3, leaf, [], leaf)


def test_a_proof_from_a_larger_tree_to_a_smaller_is_refused() -> None:
    # These hashes satisfy the RFC's walk for 5 -> 3 (first_root is the first hash, the
    # second root their fold), yet a log never shrinks: the sizes alone must refuse it.
    a, b, c = (merkle.leaf_hash(bytes([n])) for n in range(3))
    assert not merkle.verify_consistency(5, 3, [a, b, c], a, merkle.node_hash(merkle.node_hash(a, b), c))


def test_consistency_from_an_empty_tree_is_refused() -> None:
    assert not merkle.verify_consistency(0, 3, [ROOTS[3]], merkle.EMPTY_ROOT, ROOTS[3])


def test_equal_sizes_are_consistent_only_with_no_proof_and_the_same_root() -> None:
    assert merkle.verify_consistency(3, 3, [], ROOTS[3], ROOTS[3])
    assert not merkle.verify_consistency(3, 3, [], ROOTS[3], ROOTS[4])
    assert not merkle.verify_consistency(3, 3, [ROOTS[3]], ROOTS[3], ROOTS[3])


@pytest.mark.parametrize("second", EDGE_SIZES[1:])
def test_consistency_proofs_at_the_edges_verify_and_fail_when_tampered(second: int) -> None:
    for first in sorted(f for f in {1, 2, second // 2, second - 1} if 0 < f < second):
        proof = merkle.consistency_proof(first, second, FETCH)
        old, new = ROOTS[first], ROOTS[second]
        assert merkle.verify_consistency(first, second, proof, old, new), (first, second)
        assert not merkle.verify_consistency(first, second, proof, FORGED, new)
        assert not merkle.verify_consistency(first, second, proof, old, FORGED)
        assert not merkle.verify_consistency(first, second, [], old, new)
        assert not merkle.verify_consistency(first, second, [*proof, FORGED], old, new)
        assert not merkle.verify_consistency(first, second, proof[:-1], old, new)
        assert not merkle.verify_consistency(first, second, [FORGED, *proof[1:]], old, new)
