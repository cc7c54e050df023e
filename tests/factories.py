"""Envelopes for tests: valid by default, any key overridable."""

from __future__ import annotations

import uuid
from typing import Any

SOURCE = {"name": "Test Wire", "kind": "media"}


def envelope(type_name: str, data: dict[str, Any], **keys: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "type": type_name,
        "occurred_at": "2025-04-26",
        "source": dict(SOURCE),
        "data": data,
    }
    event.update(keys)
    return event


def claim(
    area: str = "ru-kursk-oblast",
    claimant: str = "ru",
    controller: str | None = None,
    extent: str = "full",
    **keys: Any,
) -> dict[str, Any]:
    data = {"area": area, "controller": controller or claimant, "extent": extent, "claimant": claimant}
    data.update(keys.pop("data_extra", {}))
    return envelope("territory.control_claimed", data, **keys)


def denial(area: str = "ru-kursk-oblast", claimant: str = "ua", **keys: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"area": area, "claimant": claimant}
    data.update(keys.pop("data_extra", {}))
    return envelope("territory.claim_denied", data, **keys)


def offer(party: str = "ru", counterparty: str = "ua", **keys: Any) -> dict[str, Any]:
    return envelope(
        "talks.offer_made", {"party": party, "counterparty": counterparty, "preconditions": []}, **keys
    )


def rejection(offer_id: str, party: str = "ua", **keys: Any) -> dict[str, Any]:
    return envelope("talks.offer_rejected", {"party": party, "offer_event_id": offer_id}, **keys)


def retraction(target: str, **keys: Any) -> dict[str, Any]:
    return envelope("event.retracted", {"target_event_id": target, "reason": "false report"}, **keys)


def statement(speaker: str = "peskov", text: str = "We are ready.", **keys: Any) -> dict[str, Any]:
    return envelope("diplomacy.statement_made", {"speaker": speaker, "text": text}, **keys)
