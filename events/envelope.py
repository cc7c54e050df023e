"""The stored event (docs/api.md §2): an immutable value, its canonical form and hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from typing import Any

from events.canonical import canonical, canonical_object, canonical_scalar

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class StoredEvent:
    """One event as stored and served. `body` is its JCS text, hash included."""

    id: str
    type: str
    subject: str
    occurred_at: str
    occurred_precision: str
    occurred_from: str
    occurred_until: str
    reported_at: str | None
    source: dict[str, Any]
    data: dict[str, Any]
    supersedes: str | None
    schema_version: int
    position: int
    version: int
    recorded_at: str
    prev_hash: str
    hash: str
    body: str  # not a key: the JCS text of the others

    @classmethod
    def from_body(cls, body: str) -> StoredEvent:
        members = json.loads(body)
        return cls(**{key: members[key] for key in STORED_KEYS}, body=body)

    def as_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in STORED_KEYS}

    @property
    def corrects(self) -> str | None:
        """The event this one corrects: the one it supersedes or retracts."""
        if self.type == "event.retracted":
            return str(self.data["target_event_id"])
        return self.supersedes


# The closed set of keys of a stored event, in the order the contract lists them: the
# fields above, defined once; the HTTP schema (service/schemas.py) and the events table's
# row (events/recorders/sql.py) are derived from them.
STORED_KEYS: tuple[str, ...] = tuple(f.name for f in fields(StoredEvent) if f.name != "body")


def content_text(
    *,
    id: str,
    type: str,
    subject: str,
    occurred_at: str,
    reported_at: str | None,
    source_jcs: str,
    data_jcs: str,
    supersedes: str | None,
) -> str:
    """The JCS of what the client decided: what idempotency compares (docs/api.md §4)."""
    return canonical_object(
        {
            "id": canonical_scalar(id),
            "type": canonical_scalar(type),
            "subject": canonical_scalar(subject),
            "occurred_at": canonical_scalar(occurred_at),
            "reported_at": canonical_scalar(reported_at),
            "source": source_jcs,
            "data": data_jcs,
            "supersedes": canonical_scalar(supersedes),
        }
    )


@dataclass(frozen=True)
class Unsealed:
    """The canonical text of the members of a new event that the client decided, laid out
    for sealing: JCS sorts keys, so the members the store adds under its lock (position,
    prev_hash, recorded_at, subject, version) fall between these fixed pieces."""

    data: str  # "data"
    identity: str  # "id" .. "occurred_until"
    report: str  # "reported_at", "schema_version", "source"
    tail: str  # "supersedes", "type"


def unsealed_of(
    *,
    id: str,
    type: str,
    occurred_at: str,
    occurred_precision: str,
    occurred_from: str,
    occurred_until: str,
    reported_at: str | None,
    source_jcs: str,
    data_jcs: str,
    supersedes: str | None,
    schema_version: int,
) -> Unsealed:
    """Done outside the append lock: everything but the store's own members."""
    return Unsealed(
        data=f'"data":{data_jcs}',
        identity=(
            f',"id":{canonical_scalar(id)},"occurred_at":{canonical_scalar(occurred_at)}'
            f',"occurred_from":{canonical_scalar(occurred_from)}'
            f',"occurred_precision":{canonical_scalar(occurred_precision)}'
            f',"occurred_until":{canonical_scalar(occurred_until)}'
        ),
        report=(
            f',"reported_at":{canonical_scalar(reported_at)}'
            f',"schema_version":{canonical_scalar(schema_version)},"source":{source_jcs}'
        ),
        tail=f',"supersedes":{canonical_scalar(supersedes)},"type":{canonical_scalar(type)}',
    )


def seal_unsealed(
    unsealed: Unsealed, *, subject: str, position: int, prev_hash: str, recorded_at: str, version: int
) -> tuple[str, str]:
    """`seal` of the whole member set, by concatenation: the work left under the lock.

    prev_hash is hex and recorded_at an instant the store formats, so neither needs escaping.
    """
    rest = (
        f'{unsealed.identity},"position":{position},"prev_hash":"{prev_hash}","recorded_at":"{recorded_at}"'
        f'{unsealed.report},"subject":{canonical_scalar(subject)}{unsealed.tail},"version":{version}}}'
    )
    digest = hashlib.sha256(f"{{{unsealed.data}{rest}".encode()).hexdigest()
    return digest, f'{{{unsealed.data},"hash":"{digest}"{rest}'


def hash_of(event: dict[str, Any], *, fast_form_known: bool = False) -> str:
    """The contract's hash of a stored event, recomputed from scratch (see `canonical`)."""
    unsealed = {key: value for key, value in event.items() if key != "hash"}
    return hashlib.sha256(canonical(unsealed, fast_form_known=fast_form_known).encode("utf-8")).hexdigest()
