"""Checking an export offline, with the very code that checks the live log (`events.verify`).

The export alone proves its chain: every hash, every link, positions from 1 without a
gap, no id twice; its Merkle root is computed as it goes. Whether it is *the* log, and
not a rewritten one, takes a tree head kept from earlier (`Client.head()`,
`timeline head`): its root must be the root of the export's first `tree_size` events,
and a signed head must carry a valid signature by the service's key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from events.merkle import EMPTY_ROOT
from events.signing import load_public_key, signature_valid
from events.verify import ChainVerifier


def verify_export(
    path: str | Path, head: dict[str, Any] | None = None, public_key: str | None = None
) -> dict[str, Any]:
    """The verdict of `timeline verify FILE` (docs/api.md §10.3): `{"ok": true, "count",
    "head", "root_hash"}` or `{"ok": false, "first_bad_position", "reason", "detail"}`.

    With `head` (`{"tree_size", "root_hash", ...}`) the export must hold at least
    `tree_size` events whose root is `root_hash` (reasons `head_beyond_export`,
    `root_mismatch`); with `public_key` (PEM, or 32 raw bytes in hex or base64) the head's
    signature must be valid (`bad_signature`)."""
    verifier = ChainVerifier()
    size = head.get("tree_size") if head is not None else None
    prefix_root: str | None = None
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.strip() and not verifier.feed(line):
                break
            if size is not None and verifier.count == size and verifier.tree is not None:
                prefix_root = verifier.tree.root().hex()
    verdict = verifier.verdict().as_dict()
    if not verdict["ok"] or head is None:
        return verdict
    if public_key is not None and not signature_valid(head, load_public_key(public_key)):
        return _refused(verdict, "bad_signature", "the head's signature is not valid for this key")
    if not isinstance(size, int) or size < 0:
        return _refused(verdict, "malformed_head", "the head has no tree_size")
    if size == 0:
        prefix_root = EMPTY_ROOT.hex()
    if prefix_root is None:
        return _refused(
            verdict,
            "head_beyond_export",
            f"the head covers {size} events; the export holds {verdict['count']}",
        )
    if prefix_root != head.get("root_hash"):
        return _refused(
            verdict, "root_mismatch", f"the export's first {size} events do not hash to the head's root"
        )
    return {**verdict, "tree_size": size}


def _refused(verdict: dict[str, Any], reason: str, detail: str) -> dict[str, Any]:
    return {"ok": False, "count": verdict["count"], "reason": reason, "detail": detail}
