"""Checking the stored log as an auditor would: the chain, the Merkle tree, and a saved head.

Shared by `GET /audit/verify` and `timeline verify`.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from events import merkle
from events.merkle_store import TreeReader
from events.signing import signature_valid
from events.store import EventStore
from events.verify import ChainVerifier


def verify_database(
    store: EventStore, tree: TreeReader, *, root_at: int | None = None
) -> tuple[dict[str, Any], ChainVerifier]:
    """Re-hash every event, check the chain, and check every stored Merkle node against the
    node rebuilt from the events (a proof may use any of them, not only the root's)."""
    verifier = ChainVerifier(check_ids=False, root_at=root_at)
    size, frontier = 0, dict[merkle.Node, bytes]()
    for page in store.iter_rows():
        if not all(verifier.feed(body, row_position=position) for position, body in page):
            return verifier.verdict().as_dict(), verifier
        rebuilt = merkle.new_nodes(
            size, [merkle.leaf_hash(body.encode("utf-8")) for _, body in page], frontier
        )
        stored = tree.nodes(rebuilt)
        bad = [
            (index << level) + 1 for (level, index), h in rebuilt.items() if stored.get((level, index)) != h
        ]
        if bad:
            return {
                "ok": False,
                "count": verifier.count,
                "first_bad_position": min(bad),
                "reason": "tree_mismatch",
                "detail": "a stored Merkle node does not match the one rebuilt from the events",
            }, verifier
        size += len(page)
        known = {**frontier, **rebuilt}
        frontier = {node: known[node] for node in merkle.parts(0, size)}
    return verifier.verdict().as_dict(), verifier


def verify_head(
    store: EventStore, tree: TreeReader, head: dict[str, Any], public_key: Ed25519PublicKey | None
) -> dict[str, Any]:
    """Does the current log extend the one that `head` (saved earlier, perhaps signed) describes?"""
    try:
        size, saved_root = int(head["tree_size"]), str(head["root_hash"])
    except (KeyError, TypeError, ValueError):
        return {"ok": False, "reason": "malformed_head", "detail": "a head has tree_size and root_hash"}
    if "signature" in head:
        if public_key is None:
            return {
                "ok": False,
                "reason": "no_public_key",
                "detail": "the head is signed: give the public key",
            }
        if not signature_valid(head, public_key):
            return {
                "ok": False,
                "reason": "bad_signature",
                "detail": "the signature does not verify with this key",
            }
    log, verifier = verify_database(store, tree, root_at=size)
    if not log["ok"]:
        return {**log, "detail": f"the log itself is damaged: {log['detail']}"}
    current = verifier.count
    if size > current:
        return {
            "ok": False,
            "reason": "head_beyond_log",
            "detail": f"the head has {size} events, the log {current}",
        }
    rebuilt = verifier.root_at_mark if size else merkle.EMPTY_ROOT.hex()
    if rebuilt != saved_root:
        return {
            "ok": False,
            "reason": "root_mismatch",
            "detail": f"the first {size} events no longer hash to the saved root: the log was rewritten",
        }
    if size:
        proof = [bytes.fromhex(h) for h in tree.consistency(size, current)]
        current_root = bytes.fromhex(tree.head(current).root_hash)
        if not merkle.verify_consistency(size, current, proof, bytes.fromhex(saved_root), current_root):
            return {"ok": False, "reason": "inconsistent", "detail": "the consistency proof does not verify"}
    return {
        "ok": True,
        "tree_size": size,
        "current_size": current,
        "signature": "valid" if "signature" in head else "absent",
        "root_hash": tree.head(current).root_hash,
    }
