"""What a client is told when a submitted event is refused, and the subject derived when it is not.

The detail and the field errors of each refusal are what a 422 problem+json carries
(docs/api.md §2, §4), so they are pinned word for word; the subjects follow docs/api.md §3.
All of it is pure: no log, no database.
"""

from __future__ import annotations

import pickle
import uuid
from dataclasses import fields
from typing import Any

import pytest
import rfc8785

from events.drafts import MAX_SUBJECT_LENGTH, Draft, draft_from_json, draft_or_refusal, drafts_from_batch
from events.errors import FieldError, InvalidInput
from events.types import KNOWN_TYPES
from tests.factories import claim, envelope, offer, retraction

OFFER_ID = "6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f"

# One valid `data` for each type of the catalog, and the subject docs/api.md §3 derives from it
# (None: decided later by the referenced event). Parties are given unsorted, so that the track's
# sorting shows.
SUBJECTS: list[tuple[str, dict[str, Any], str | None]] = [
    (
        "territory.control_claimed",
        {"area": "ru-kursk-oblast", "controller": "ua", "extent": "partial", "claimant": "ua"},
        "ru-kursk-oblast",
    ),
    ("territory.claim_denied", {"area": "ru-belgorod-oblast", "claimant": "ru"}, "ru-belgorod-oblast"),
    (
        "territory.assessed",
        {"area": "ua-sumy-oblast", "assessor": "isw", "controller": "ua", "extent": "full"},
        "ua-sumy-oblast",
    ),
    (
        "forces.involvement_reported",
        {
            "area": "ru-kursk-oblast-sudzha",
            "force": "kp",
            "supporting": "ru",
            "status": "reported",
            "claimant": "ua",
        },
        "ru-kursk-oblast-sudzha",
    ),
    (
        "forces.clash_reported",
        {"area": "ua-donetsk-oblast", "parties": ["ua", "ru"], "claimant": "acled"},
        "ua-donetsk-oblast",
    ),
    ("talks.offer_made", {"party": "ua", "counterparty": "ru", "preconditions": []}, "ru-ua"),
    ("talks.position_stated", {"party": "us", "counterparty": "ru", "position": "Talks first."}, "ru-us"),
    (
        "talks.proposal_made",
        {"proposer": "us", "parties": ["us", "ua", "ru"], "terms": ["a truce"]},
        "ru-ua-us",
    ),
    ("talks.offer_rejected", {"party": "ua", "offer_event_id": OFFER_ID}, None),
    (
        "talks.ceasefire_declared",
        {"parties": ["ua", "ru"], "declared_by": "ru", "starts": "2025-05-08", "ends": "2025-05-10"},
        "ru-ua",
    ),
    ("talks.round_held", {"parties": ["ua", "tr", "ru"], "place": "istanbul"}, "ru-tr-ua"),
    ("diplomacy.meeting_held", {"participants": ["zelensky", "trump"], "place": "va"}, "diplomacy"),
    ("diplomacy.statement_made", {"speaker": "peskov", "text": "We are ready."}, "diplomacy"),
    ("event.retracted", {"target_event_id": OFFER_ID, "reason": "false report"}, None),
]


def refusal(obj: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        draft_from_json(obj)
    return refused.value


def test_the_table_covers_the_catalog() -> None:
    assert sorted(type_name for type_name, _, _ in SUBJECTS) == KNOWN_TYPES


@pytest.mark.parametrize(("type_name", "data", "subject"), SUBJECTS, ids=[row[0] for row in SUBJECTS])
def test_each_type_derives_its_subject(type_name: str, data: dict[str, Any], subject: str | None) -> None:
    draft = draft_from_json(envelope(type_name, data))
    assert draft.subject == subject


# --- Refusals before the schema ---------------------------------------------------------------


def test_an_event_that_is_not_an_object_is_refused() -> None:
    refused = refusal(["not", "an", "object"])
    assert refused.detail == "An event must be a JSON object."
    assert refused.errors == [FieldError("", "expected an object")]


def test_an_event_without_a_type_is_refused() -> None:
    event = claim()
    del event["type"]
    refused = refusal(event)
    assert refused.detail == "The event has no type."
    assert refused.errors == [FieldError("/type", "this key is required")]


def test_an_unknown_type_is_refused_with_the_catalog() -> None:
    refused = refusal(envelope("talks.summit_held", {}))
    assert refused.detail == "Unknown event type 'talks.summit_held'."
    assert refused.errors == [FieldError("/type", "not a type of the catalog; see known_types")]
    assert refused.extra["known_types"] == KNOWN_TYPES


# --- Schema errors, as pydantic reports them, translated -------------------------------------


def test_a_missing_key_is_required_at_its_path_without_the_union_tag() -> None:
    event = claim()
    del event["data"]["extent"]
    refused = refusal(event)
    assert refused.detail == "The territory.control_claimed event does not match its schema."
    # pydantic locates it under the union's tag (territory.control_claimed/data/extent); a
    # client's pointer into its own JSON has no such member.
    assert refused.errors == [FieldError("/data/extent", "this key is required")]


def test_an_unknown_key_is_not_part_of_the_schema() -> None:
    refused = refusal(claim(data_extra={"casualties": 3}))
    assert refused.errors == [FieldError("/data/casualties", "this key is not part of the schema")]


def test_other_schema_errors_keep_pydantics_message() -> None:
    refused = refusal(claim(area="Kursk Oblast"))
    assert refused.errors == [FieldError("/data/area", "String should match pattern '^[a-z0-9-]{1,80}$'")]


def test_every_schema_error_is_listed_each_with_its_own_message() -> None:
    event = claim(area="Kursk Oblast", data_extra={"casualties": 3})
    del event["source"]["kind"]
    refused = refusal(event)
    assert sorted(refused.errors, key=lambda e: e.path) == [
        FieldError("/data/area", "String should match pattern '^[a-z0-9-]{1,80}$'"),
        FieldError("/data/casualties", "this key is not part of the schema"),
        FieldError("/source/kind", "this key is required"),
    ]


# --- Checks after the schema ------------------------------------------------------------------


def test_a_bad_occurred_at_says_what_is_expected() -> None:
    refused = refusal(claim(occurred_at="2025-04-26T17:30"))
    assert refused.detail == "The territory.control_claimed event is not valid."
    assert refused.errors == [
        FieldError(
            "/occurred_at",
            "expected YYYY, YYYY-MM, YYYY-MM-DD or a date-time: "
            "expected a date-time like 2025-04-26T17:30:00Z, with seconds and an offset",
        )
    ]


def test_a_retraction_cannot_supersede() -> None:
    refused = refusal(retraction(OFFER_ID, supersedes=str(uuid.uuid4())))
    assert refused.detail == "The event.retracted event is not valid."
    assert refused.errors == [FieldError("/supersedes", "a retraction cannot supersede; retract instead")]


def proposal(parties: list[str]) -> dict[str, Any]:
    return envelope("talks.proposal_made", {"proposer": parties[0], "parties": parties, "terms": []})


def test_a_derived_subject_of_exactly_the_maximum_length_is_accepted() -> None:
    # Three parties of 80, 80 and 38 characters joined by two '-': 200 characters.
    parties = ["a" * 80, "b" * 80, "c" * (MAX_SUBJECT_LENGTH - 162)]
    draft = draft_from_json(proposal(parties))
    assert draft.subject is not None and len(draft.subject) == MAX_SUBJECT_LENGTH


def test_a_derived_subject_one_over_the_maximum_is_refused_at_data() -> None:
    parties = ["a" * 80, "b" * 80, "c" * (MAX_SUBJECT_LENGTH - 161)]
    refused = refusal(proposal(parties))
    assert refused.detail == "The talks.proposal_made event is not valid."
    assert refused.errors == [FieldError("/data", "the derived subject is over 200 characters")]


def test_a_given_subject_must_be_the_derived_one() -> None:
    refused = refusal(offer(party="ua", counterparty="ru", subject="ua-ru"))
    assert refused.detail == "The talks.offer_made event is not valid."
    assert refused.errors == [FieldError("/subject", "the subject of this event is 'ru-ua'")]


def test_a_given_subject_equal_to_the_derived_one_is_kept() -> None:
    draft = draft_from_json(offer(party="ua", counterparty="ru", subject="ru-ua"))
    assert (draft.subject, draft.subject_given) == ("ru-ua", "ru-ua")


def test_a_given_subject_waits_for_the_referenced_event_when_the_data_does_not_decide_it() -> None:
    # A retraction's subject is its target's: compared when the target is known, not here.
    draft = draft_from_json(retraction(OFFER_ID, subject="ru-kursk-oblast"))
    assert (draft.subject, draft.subject_given) == (None, "ru-kursk-oblast")


def test_every_problem_after_the_schema_is_reported_at_once() -> None:
    refused = refusal(retraction(OFFER_ID, occurred_at="soon", supersedes=str(uuid.uuid4())))
    assert [e.path for e in refused.errors] == ["/occurred_at", "/supersedes"]


# --- Ids ---------------------------------------------------------------------------------------


def test_an_event_without_an_id_gets_a_fresh_uuid4() -> None:
    event = claim()
    del event["id"]
    first, second = draft_from_json(event), draft_from_json(dict(event))
    assert not first.id_given
    assert uuid.UUID(first.id).version == 4 and str(uuid.UUID(first.id)) == first.id
    assert first.id != second.id
    assert f'"id":"{first.id}"' in first.unsealed.identity


def test_a_given_id_is_kept_in_lower_case() -> None:
    given = str(uuid.uuid4())
    draft = draft_from_json(claim(id=given.upper()))
    assert (draft.id, draft.id_given) == (given, True)


# --- Canonical text: the fast path is only taken when the caller says it may be ----------------

# JCS writes 1295.0 as 1295 and 1e-07 as 1e-7; json.dumps does not. (Non-ASCII keys, the other
# case, cannot pass the schema: every key of source and data is fixed or a slug.)
FLOATS = [1295.0, 1e-07]


@pytest.mark.parametrize("area_km2", FLOATS)
def test_draft_from_json_writes_floats_as_jcs(area_km2: float) -> None:
    draft = draft_from_json(claim(data_extra={"area_km2": area_km2}))
    assert draft.data_jcs == rfc8785.dumps(draft.data).decode()
    assert draft.source_jcs == rfc8785.dumps(draft.source).decode()


@pytest.mark.parametrize("area_km2", FLOATS)
def test_draft_or_refusal_writes_floats_as_jcs(area_km2: float) -> None:
    draft = draft_or_refusal(claim(data_extra={"area_km2": area_km2}))
    assert isinstance(draft, Draft)
    assert draft.data_jcs == rfc8785.dumps(draft.data).decode()


@pytest.mark.parametrize("area_km2", FLOATS)
def test_a_batch_writes_floats_as_jcs(area_km2: float) -> None:
    [draft] = drafts_from_batch([claim(data_extra={"area_km2": area_km2})])
    assert isinstance(draft, Draft)
    assert draft.data_jcs == rfc8785.dumps(draft.data).decode()


# --- Batches -----------------------------------------------------------------------------------


def test_a_batch_that_is_not_a_list_is_refused_at_its_path() -> None:
    with pytest.raises(InvalidInput) as refused:
        drafts_from_batch({"events": []})
    assert refused.value.detail == "`events` must be a list."
    assert refused.value.errors == [FieldError("/events", "expected a list")]
    with pytest.raises(InvalidInput) as elsewhere:
        drafts_from_batch("events", "/batch/events")
    assert elsewhere.value.errors == [FieldError("/batch/events", "expected a list")]


def test_each_event_of_a_batch_is_checked_after_a_refused_one() -> None:
    first, second = claim(), claim()
    results = drafts_from_batch([claim(area="Bad"), first, {"type": "nope"}, second])
    assert [type(r) for r in results] == [InvalidInput, Draft, InvalidInput, Draft]
    refused = results[0]
    assert isinstance(refused, InvalidInput)
    assert refused.extra["index"] == 0
    assert refused.errors == [
        FieldError("/events/0/data/area", "String should match pattern '^[a-z0-9-]{1,80}$'")
    ]
    assert [r.id for r in results if isinstance(r, Draft)] == [first["id"], second["id"]]


def test_the_same_id_twice_in_a_batch_refuses_the_later_and_goes_on() -> None:
    first = claim()
    later = claim(id=first["id"].upper())  # the same id, however it is spelled
    other = claim()
    results = drafts_from_batch([first, later, other, dict(first)])
    assert isinstance(results[0], Draft) and isinstance(results[2], Draft)
    assert results[2].id == other["id"]
    for index in (1, 3):
        refused = results[index]
        assert isinstance(refused, InvalidInput)
        assert refused.detail == "The same id appears twice in the batch."
        assert refused.errors == [FieldError(f"/events/{index}/id", "this id appears earlier in the batch")]
        assert refused.extra["index"] == index


def test_events_without_ids_are_never_duplicates() -> None:
    event = claim()
    del event["id"]
    results = drafts_from_batch([event, dict(event)])
    assert all(isinstance(r, Draft) for r in results)


# --- Drafts sent to a worker process ------------------------------------------------------------


def test_a_pickled_draft_arrives_with_its_fields_and_nothing_else() -> None:
    # Source and data are left out of the pickle (they travel as their JCS text) and rebuilt
    # on arrival: the arriving draft must hold exactly a Draft's fields, equal to the sent ones.
    sent = draft_from_json(claim(data_extra={"area_km2": 12.5, "note": "Суджа"}))
    arrived = pickle.loads(pickle.dumps(sent))
    assert set(vars(arrived)) == {f.name for f in fields(Draft)}
    assert arrived == sent
    assert (arrived.source, arrived.data) == (sent.source, sent.data)
