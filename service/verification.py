"""Checking the stored log as an auditor would: the chain, the Merkle tree, and a saved head.

Shared by `GET /audit/verify` and `timeline verify`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine

from events import merkle
from events.envelope import GENESIS_HASH
from events.merkle_store import TreeReader
from events.range_check import TREE_MISMATCH, Failure, RangeCheck, check_range, first_bad_node
from events.recorders import make_engine
from events.signing import signature_valid
from events.store import EventStore
from service.ordered_pool import ordered_map

RANGE_LEVEL = 12  # ranges of 4,096 events: few reads each, little memory per worker

ProgressCallback = Callable[[int, int], None]


def verify_database(
    store: EventStore,
    tree: TreeReader,
    *,
    workers: int = 1,
    level: int = RANGE_LEVEL,
    progress: ProgressCallback | None = None,
) -> dict[str, Any]:
    """Re-hash every event, check the chain, and check every stored Merkle node against the
    node rebuilt from the events (a proof may use any of them, not only the root's).

    The verdict: the first position where the chain fails; when the whole chain holds,
    the first position under a stored node that does not match. Neither depends on how
    the work is cut: the log is cut into aligned ranges, checked on their own (by
    `workers` processes when there are several) and joined here in order, with the link
    into each range and the tree nodes above the ranges.
    """
    size = tree.size()
    span = 1 << level
    # A generator: a forged position near 2**63 must not make a list of every range.
    bounds = ((after, min(after + span, size)) for after in range(0, size, span))
    count, last_hash, upper = 0, GENESIS_HASH, dict[merkle.Node, bytes]()
    bad_nodes: list[int] = []
    for check in _checks(store.engine, bounds, level, workers, several=size > span):
        failure = _joined_failure(check, last_hash)
        if failure is not None:
            return _failed(failure)
        count += check.count
        last_hash = check.last_hash or last_hash
        if check.bad_node_position is not None:
            bad_nodes.append(check.bad_node_position)
        if check.top is not None:
            bad = _check_upper(store.engine, upper, check, level)
            if bad is not None:
                bad_nodes.append(bad)
        if progress:
            progress(count, size)
    if bad_nodes:
        return _failed(Failure(min(bad_nodes), "tree_mismatch", TREE_MISMATCH))
    head = {"position": count, "hash": last_hash}
    return {"ok": True, "count": count, "head": head, "root_hash": tree.head(count).root_hash}


def _joined_failure(check: RangeCheck, last_hash: str) -> Failure | None:
    """The range's first chain failure, or the link into it, whichever a single pass meets
    first: every other check of the range's first event comes before its link."""
    first = check.after + 1
    if check.failure is not None and check.failure.position == first:
        return check.failure
    if check.first_prev_hash is not None and check.first_prev_hash != last_hash:
        return Failure(first, "broken_link", "prev_hash is not the previous event's hash")
    return check.failure


def _check_upper(
    engine: Engine, upper: dict[merkle.Node, bytes], check: RangeCheck, level: int
) -> int | None:
    """Add a complete range's subtree to the nodes above the ranges and compare those it
    completes with the stored ones. `upper` is kept as the frontier, in range units."""
    assert check.top is not None
    index = check.after >> level
    created = merkle.new_nodes(index, [check.top], upper)
    runs: dict[int, tuple[int, list[bytes]]] = {}
    for (lv, ix), h in sorted(created.items()):
        if lv > 0:  # level 0 here is the range's own top, checked with the range
            runs[lv + level] = (ix, [h])  # one new node a level at most
    bad = first_bad_node(engine, runs)
    known = {**upper, **created}
    upper.clear()
    upper.update({node: known[node] for node in merkle.parts(0, index + 1)})
    return bad


def _failed(failure: Failure) -> dict[str, Any]:
    """`count`: the events before the first bad position, which all passed."""
    return {
        "ok": False,
        "count": failure.position - 1,
        "first_bad_position": failure.position,
        "reason": failure.reason,
        "detail": failure.detail,
    }


# -- checking ranges in order, here or in worker processes ---------------------------------

_worker_engine: list[Engine] = []


def _start_worker(url: str) -> None:
    _worker_engine.append(make_engine(url))


def _check_in_worker(bounds: tuple[int, int, int]) -> RangeCheck:
    after, until, level = bounds
    return check_range(_worker_engine[0], after, until, level)


def _checks(
    engine: Engine, bounds: Iterator[tuple[int, int]], level: int, workers: int, *, several: bool
) -> Iterator[RangeCheck]:
    """Range checks in log order, in worker processes when there are `several` ranges."""
    url = engine.url.render_as_string(hide_password=False)
    if workers <= 1 or not several or (url.startswith("sqlite://") and ":memory:" in url):
        for after, until in bounds:
            yield check_range(engine, after, until, level)
        return
    yield from ordered_map(
        _check_in_worker,
        ((after, until, level) for after, until in bounds),
        workers,
        initializer=_start_worker,
        initargs=(url,),
    )


def verify_head(
    store: EventStore,
    tree: TreeReader,
    head: dict[str, Any],
    public_key: Ed25519PublicKey | None,
    *,
    workers: int = 1,
    progress: ProgressCallback | None = None,
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
    log = verify_database(store, tree, workers=workers, progress=progress)
    if not log["ok"]:
        return {**log, "detail": f"the log itself is damaged: {log['detail']}"}
    current = int(log["count"])
    if size > current:
        return {
            "ok": False,
            "reason": "head_beyond_log",
            "detail": f"the head has {size} events, the log {current}",
        }
    # Every stored node now matches the events, so the stored tree gives the root at `size`.
    rebuilt = tree.head(size).root_hash
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
