"""The catalog's own validators: what each refuses, with which message, at which field.

The message is what a client shows next to the field (the viewer's editor puts it under the
input), and the field is the one that holds the value, so both are pinned; pydantic's error
type is what drafts.py translates, pinned too. Each rule is also shown to accept the edge
it must accept.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from events.drafts import draft_from_json
from events.errors import FieldError, InvalidInput
from events.types import (
    CeasefireDeclared,
    ClashReported,
    Deaths,
    Envelope,
    MeetingHeld,
    OfferMade,
    PositionStated,
    ProposalMade,
    RoundHeld,
)
from tests.factories import envelope

SOURCE = {"name": "Wire", "kind": "media"}


def errors_of(model: type[BaseModel], data: dict[str, Any]) -> list[tuple[str, tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as refused:
        model.model_validate(data)
    return [(e["type"], e["loc"], e["msg"]) for e in refused.value.errors()]


# --- _distinct ----------------------------------------------------------------------------------

DISTINCT_LISTS: list[tuple[type[BaseModel], dict[str, Any], str]] = [
    (ClashReported, {"area": "ua-sumy-oblast", "claimant": "acled"}, "parties"),
    (ProposalMade, {"proposer": "us", "terms": []}, "parties"),
    (CeasefireDeclared, {"declared_by": "ru", "starts": "2025-05-08"}, "parties"),
    (RoundHeld, {"place": "istanbul"}, "parties"),
    (MeetingHeld, {"place": "va"}, "participants"),
]


@pytest.mark.parametrize(("model", "rest", "key"), DISTINCT_LISTS)
def test_a_list_of_parties_must_be_distinct(model: type[BaseModel], rest: dict[str, Any], key: str) -> None:
    # A repeat anywhere, not only next to itself.
    for repeated in (["ru", "ru"], ["ru", "ua", "ru"], ["ua", "ru", "us", "us"]):
        assert errors_of(model, {**rest, key: repeated}) == [("distinct", (key,), "entries must be distinct")]
    model.model_validate({**rest, key: ["ru", "ua", "us"]})


# --- _differs_from_party --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "rest"), [(OfferMade, {"preconditions": []}), (PositionStated, {"position": "Talks first."})]
)
def test_the_counterparty_must_differ_from_the_party(model: type[BaseModel], rest: dict[str, Any]) -> None:
    refused = errors_of(model, {**rest, "party": "ua", "counterparty": "ua"})
    assert refused == [("differs", ("counterparty",), "must differ from party")]
    model.model_validate({**rest, "party": "ua", "counterparty": "ru"})


def test_a_counterparty_after_an_invalid_party_is_not_compared() -> None:
    # The party failed its own pattern, so it is not in info.data: one error, at the party.
    refused = errors_of(OfferMade, {"party": "u-a", "counterparty": "ua", "preconditions": []})
    assert [(kind, loc) for kind, loc, _ in refused] == [("string_pattern_mismatch", ("party",))]


# --- _after_starts ------------------------------------------------------------------------------


def ceasefire(starts: str, ends: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"parties": ["ua", "ru"], "declared_by": "ru", "starts": starts}
    if ends is not None:
        data["ends"] = ends
    return data


@pytest.mark.parametrize(
    ("starts", "ends"),
    [
        ("2025-05-08", "2025-05-07"),
        ("2025-05-08T12:00:00Z", "2025-05-08T12:00:00Z"),  # the same instant is not after
        ("2025-05-08T12:00:00Z", "2025-05-08T14:00:00+02:00"),  # the same instant, written otherwise
        ("2025-05-08T12:00:00Z", "2025-05-08T11:59:59.999999Z"),
        ("2025-05-09", "2025-05-08T23:59:59Z"),  # a starting day starts at its midnight
        ("2025-05-08T00:00:01Z", "2025-05-07"),  # an ending day ends at the next midnight
    ],
)
def test_a_ceasefire_must_end_after_it_starts(starts: str, ends: str) -> None:
    assert errors_of(CeasefireDeclared, ceasefire(starts, ends)) == [
        ("after", ("ends",), "must come after starts")
    ]


@pytest.mark.parametrize(
    ("starts", "ends"),
    [
        ("2025-05-08", "2025-05-08"),  # one day: from its start to its end
        ("2025-05-08T23:59:59Z", "2025-05-08"),
        ("2025-05-08", "2025-05-08T00:00:00.000001Z"),
        ("2025-05-08T12:00:00Z", "2025-05-08T12:00:00.000001Z"),
        ("2025-05-08T12:00:00Z", "2025-05-08T13:00:01+01:00"),
    ],
)
def test_a_ceasefire_that_ends_after_it_starts_is_taken(starts: str, ends: str) -> None:
    CeasefireDeclared.model_validate(ceasefire(starts, ends))


def test_an_open_ceasefire_and_one_whose_start_was_refused_are_not_compared() -> None:
    CeasefireDeclared.model_validate(ceasefire("2025-05-08"))
    # The last day there is starts at its midnight, which is an instant.
    CeasefireDeclared.model_validate(ceasefire("9999-12-31"))
    refused = errors_of(CeasefireDeclared, ceasefire("2025-13-01", "2025-05-07"))
    assert refused == [
        (
            "value_error",
            ("starts",),
            "Value error, expected a date or a date-time with an offset: '2025-13-01' is not a valid date",
        )
    ]


def test_a_ceasefire_cannot_end_after_the_last_instant() -> None:
    # The end of 9999-12-31 is past what an instant can hold: refused by the comparison, not
    # by the format check (the format is valid) and not as an error (a 500).
    refused = errors_of(CeasefireDeclared, ceasefire("2025-05-08", "9999-12-31"))
    assert refused == [
        ("value_error", ("ends",), "Value error, '9999-12-31' ends after 9999-12-31T23:59:59.999999Z")
    ]
    CeasefireDeclared.model_validate(ceasefire("2025-05-08", "9999-12-31T23:59:59.999999Z"))


def test_a_ceasefire_refused_in_a_submission_points_at_its_ends() -> None:
    with pytest.raises(InvalidInput) as refused:
        draft_from_json(envelope("talks.ceasefire_declared", ceasefire("2025-05-08", "2025-05-07")))
    assert refused.value.errors == [FieldError("/data/ends", "must come after starts")]


# --- _keys_are_participants -----------------------------------------------------------------------


def meeting(on_behalf_of: dict[str, str], participants: list[str] | None = None) -> dict[str, Any]:
    return {
        "participants": participants or ["zelensky", "trump"],
        "place": "va",
        "on_behalf_of": on_behalf_of,
    }


def test_on_behalf_of_names_participants_only() -> None:
    refused = errors_of(MeetingHeld, meeting({"zelensky": "ua", "vance": "us"}))
    assert refused == [("participant", ("on_behalf_of",), "names vance, who is not one of the participants")]
    with pytest.raises(ValidationError) as named:
        MeetingHeld.model_validate(meeting({"vance": "us"}))
    assert named.value.errors()[0]["ctx"] == {"name": "vance"}


def test_on_behalf_of_may_name_every_participant_or_none() -> None:
    MeetingHeld.model_validate(meeting({"zelensky": "ua", "trump": "us"}))
    MeetingHeld.model_validate(meeting({}))
    MeetingHeld.model_validate({"participants": ["zelensky", "trump"], "place": "va"})


def test_on_behalf_of_is_not_checked_against_refused_participants() -> None:
    # The participants repeat (refused): not in info.data, so nothing to check the keys against.
    refused = errors_of(MeetingHeld, meeting({"vance": "us"}, participants=["trump", "trump"]))
    assert refused == [("distinct", ("participants",), "entries must be distinct")]


def test_a_meeting_refused_in_a_submission_points_at_on_behalf_of() -> None:
    with pytest.raises(InvalidInput) as refused:
        draft_from_json(envelope("diplomacy.meeting_held", meeting({"vance": "us"})))
    assert refused.value.errors == [
        FieldError("/data/on_behalf_of", "names vance, who is not one of the participants")
    ]


# --- Deaths, and the instants' format checks --------------------------------------------------------


@pytest.mark.parametrize(
    "deaths",
    [{"low": 5, "best": 3}, {"best": 5, "high": 3}, {"low": 5, "high": 3}, {"low": 2, "best": 9, "high": 3}],
)
def test_deaths_out_of_order_are_refused_with_the_order_named(deaths: dict[str, int]) -> None:
    message = "low <= best <= high must hold for the values given"
    assert errors_of(Deaths, deaths) == [("ordered", (), message)]


def test_deaths_in_order_or_equal_are_taken() -> None:
    for deaths in (
        {},
        {"best": 3},
        {"low": 3, "best": 3, "high": 3},
        {"low": 1, "high": 2},
        {"best": 1, "high": 9},
    ):
        Deaths.model_validate(deaths)


def test_reported_at_must_be_a_date_time_with_seconds_and_an_offset() -> None:
    base = {"occurred_at": "2025-04-26", "source": SOURCE}
    refused = errors_of(Envelope, {**base, "reported_at": "2025-04-26"})
    message = "Value error, expected a date-time like 2025-04-26T17:30:00Z, with seconds and an offset"
    assert refused == [("value_error", ("reported_at",), message)]
    Envelope.model_validate({**base, "reported_at": "2025-04-26T17:30:00+03:00"})
