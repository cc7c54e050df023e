"""What each kind of item shows of its event's data (docs/api.md, the state shapes): the
fields of every type, each copied as given, the optional ones null when the event did not
set them, and nothing else (the area or track is the item's place, not a field).

The fold and the read model share these functions, so the equivalence tests could not
tell a renamed or dropped field; mutmut found them alive (territory.x_forces_fields_*,
x_assessment_fields_*, talks.x_round_fields_*, ...)."""

from __future__ import annotations

from typing import Any

import pytest

from projections import diplomacy, talks, territory

FIELDS = {**territory.FIELDS, **talks.FIELDS, **diplomacy.FIELDS}

# type: (fields every event has, optional fields)
SHOWN: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "territory.control_claimed": (("claimant", "controller", "extent"), ("area_km2", "speaker")),
    "territory.claim_denied": (("claimant",), ("denied_event_id", "speaker")),
    "territory.assessed": (("assessor", "controller", "extent"), ("area_km2", "speaker")),
    "forces.involvement_reported": (("force", "supporting", "claimant", "status"), ("size", "speaker")),
    "forces.clash_reported": (("parties", "claimant"), ("deaths", "note", "speaker")),
    "talks.offer_made": (("party", "counterparty", "preconditions"), ("speaker",)),
    "talks.proposal_made": (("proposer", "parties", "terms"), ("speaker",)),
    "talks.ceasefire_declared": (("parties", "declared_by", "starts"), ("ends", "scope")),
    "talks.round_held": (("parties", "place"), ("mediator", "outcome")),
    "talks.position_stated": (("party", "counterparty", "position"), ("speaker",)),
    "diplomacy.meeting_held": (("participants", "place"), ("occasion", "on_behalf_of", "tone", "topics")),
    "diplomacy.statement_made": (("speaker", "text"), ("party", "about")),
}
LISTS = {"parties", "preconditions", "terms", "participants", "topics"}


def value(key: str) -> Any:
    if key in LISTS:
        return [f"{key}-1", f"{key}-2"]
    if key == "deaths":
        return {"best": 3, "high": 5}
    return 12.5 if key in ("area_km2", "size") else f"{key}-value"


def test_every_type_with_items_is_listed() -> None:
    assert set(FIELDS) == set(SHOWN)


@pytest.mark.parametrize("type_name", sorted(SHOWN))
def test_an_item_shows_each_field_of_its_event_and_nothing_else(type_name: str) -> None:
    required, optional = SHOWN[type_name]
    data = {key: value(key) for key in (*required, *optional)} | {"area": "not shown", "x": 1}
    shown = FIELDS[type_name](data)
    assert shown == {key: value(key) for key in (*required, *optional)}


@pytest.mark.parametrize("type_name", sorted(SHOWN))
def test_optional_fields_an_event_did_not_set_are_null(type_name: str) -> None:
    required, optional = SHOWN[type_name]
    shown = FIELDS[type_name]({key: value(key) for key in required})
    assert shown == {key: value(key) for key in required} | dict.fromkeys(optional)
