"""The Merkle tree against Certificate Transparency's published vectors, and the RFC's own verifiers."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest

from events import merkle

# The eight leaf inputs and the roots of trees of size 0..8 published with the Certificate
# Transparency implementations (RFC 6962 test data), and their proof vectors.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_INCLUSION = [  # (leaf index, tree size, path)
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CT_CONSISTENCY = [  # (first size, second size, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


def h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# -- the RFC 9162 verifiers, written here from the RFC, independent of the code under test ----


def rfc_verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes) -> bool:
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = h(b"\x01" + p + r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn //= 2
                    sn //= 2
        else:
            r = h(b"\x01" + r + p)
        fn //= 2
        sn //= 2
    return sn == 0 and r == root


def rfc_verify_consistency(
    first: int, second: int, proof: Sequence[bytes], first_root: bytes, second_root: bytes
) -> bool:
    if first == second:
        return len(proof) == 0 and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if (first & (first - 1)) == 0:
        path = [first_root, *path]
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn //= 2
        sn //= 2
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = h(b"\x01" + c + fr)
            sr = h(b"\x01" + c + sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn //= 2
                    sn //= 2
        else:
            sr = h(b"\x01" + sr + c)
        fn //= 2
        sn //= 2
    return fr == first_root and sr == second_root and sn == 0


def tree_of(leaves: Sequence[bytes]) -> dict[merkle.Node, bytes]:
    return merkle.new_nodes(0, [merkle.leaf_hash(leaf) for leaf in leaves], {})


def fetcher(nodes: dict[merkle.Node, bytes]) -> merkle.Fetch:
    return lambda wanted: {node: nodes[node] for node in wanted if node in nodes}


def test_roots_match_the_published_vectors() -> None:
    nodes = tree_of(CT_LEAVES)
    for size, expected in enumerate(CT_ROOTS):
        assert merkle.root(size, fetcher(nodes)).hex() == expected, size


def test_trees_grown_one_leaf_at_a_time_match_too() -> None:
    nodes: dict[merkle.Node, bytes] = {}
    for size, leaf in enumerate(CT_LEAVES):
        frontier = {node: nodes[node] for node in merkle.parts(0, size)}
        nodes.update(merkle.new_nodes(size, [merkle.leaf_hash(leaf)], frontier))
        assert merkle.root(size + 1, fetcher(nodes)).hex() == CT_ROOTS[size + 1]


@pytest.mark.parametrize(("index", "size", "path"), CT_INCLUSION)
def test_inclusion_proofs_match_the_published_vectors(index: int, size: int, path: list[str]) -> None:
    nodes = tree_of(CT_LEAVES)
    assert [p.hex() for p in merkle.inclusion_proof(index, size, fetcher(nodes))] == path


@pytest.mark.parametrize(("first", "second", "proof"), CT_CONSISTENCY)
def test_consistency_proofs_match_the_published_vectors(first: int, second: int, proof: list[str]) -> None:
    nodes = tree_of(CT_LEAVES)
    assert [p.hex() for p in merkle.consistency_proof(first, second, fetcher(nodes))] == proof


def test_every_proof_of_trees_of_1_to_70_leaves_verifies_by_the_rfc() -> None:
    leaves = [bytes([i, i * 3 % 256]) for i in range(70)]
    nodes = tree_of(leaves)
    fetch = fetcher(nodes)
    roots = {size: merkle.root(size, fetch) for size in range(1, 71)}
    for size in range(1, 71):
        for index in range(size):
            path = merkle.inclusion_proof(index, size, fetch)
            leaf = merkle.leaf_hash(leaves[index])
            assert rfc_verify_inclusion(index, size, leaf, path, roots[size]), (index, size)
            assert not rfc_verify_inclusion(index, size, merkle.leaf_hash(b"other"), path, roots[size])
        for first in range(1, size + 1):
            proof = merkle.consistency_proof(first, size, fetch)
            assert rfc_verify_consistency(first, size, proof, roots[first], roots[size]), (first, size)
            if first < size:
                assert not rfc_verify_consistency(first, size, proof, h(b"forged"), roots[size])


def test_the_streaming_root_builder_agrees() -> None:
    builder = merkle.RootBuilder()
    for size, leaf in enumerate(CT_LEAVES, start=1):
        builder.add(merkle.leaf_hash(leaf))
        assert builder.root().hex() == CT_ROOTS[size]


def test_the_products_verifiers_agree_with_the_rfcs() -> None:
    leaves = [bytes([i]) for i in range(23)]
    fetch = fetcher(tree_of(leaves))
    for size in range(1, 24):
        root = merkle.root(size, fetch)
        for first in range(1, size + 1):
            proof = merkle.consistency_proof(first, size, fetch)
            assert merkle.verify_consistency(first, size, proof, merkle.root(first, fetch), root)
        for index in range(size):
            path = merkle.inclusion_proof(index, size, fetch)
            assert merkle.verify_inclusion(index, size, merkle.leaf_hash(leaves[index]), path, root)
