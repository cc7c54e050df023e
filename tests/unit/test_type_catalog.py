"""The catalog's JSON Schema export (`GET /types`, the OpenAPI document) built in this process.

The viewer's editor builds its forms and its checks from these schemas (docs/viewer.md), so
their shape is pinned: what is required, the definitions inlined, and nothing of pydantic's
output-side schema left over (no `null`, no `default: null`, no `$defs`). Every schema is
built inside the test, never taken from a table built at import.
"""

from __future__ import annotations

from typing import Any, get_args

import pytest
from pydantic import BaseModel, Field, ValidationError

from events.types import (
    DATA_MODELS,
    KNOWN_TYPES,
    SCHEMA_VERSION,
    SUBJECT_RULES,
    Envelope,
    InputJsonSchema,
    OfferMade,
    Retracted,
    _envelope_for,
    _inlined,
    submission_json_schema,
    type_catalog,
)

SLUG = {"pattern": "^[a-z0-9-]{1,80}$", "type": "string"}
TALKS_PARTY = {"pattern": "^[a-z0-9]{1,80}$", "type": "string"}
SPEAKER = {
    "description": "Who spoke for the party: a person or body, as a slug (gerasimov, ua-general-staff)",
    "title": "Speaker",
    **SLUG,
}
COUNT = {"minimum": 0, "type": "integer"}
NOTE = {
    "description": "Anything worth keeping that fits no other field",
    "maxLength": 2000,
    "title": "Note",
    "type": "string",
}


def catalog() -> dict[str, dict[str, Any]]:
    return {entry["type"]: entry for entry in type_catalog()}


def leftovers(node: Any, path: str = "") -> list[str]:
    """Where a schema still says what only pydantic's output side means: a nullable value,
    a null default, or a reference into definitions that are not there."""
    found: list[str] = []
    if isinstance(node, dict):
        for key in ("$ref", "$defs", "anyOf", "oneOf", "default"):
            if key in node:
                found.append(f"{path}/{key}")
        if node.get("type") == "null":
            found.append(f"{path}/type")
        for key, child in node.items():
            found.extend(leftovers(child, f"{path}/{key}"))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            found.extend(leftovers(child, f"{path}/{i}"))
    return found


# --- type_catalog -----------------------------------------------------------------------------


def test_the_catalog_lists_every_type_once_in_name_order_with_its_subject_rule() -> None:
    entries = type_catalog()
    assert [entry["type"] for entry in entries] == KNOWN_TYPES == sorted(DATA_MODELS)
    for entry in entries:
        assert set(entry) == {"type", "schema_version", "subject", "data_schema"}
        assert entry["schema_version"] == SCHEMA_VERSION == 1
        assert entry["subject"] == SUBJECT_RULES[entry["type"]]


def test_no_schema_of_the_catalog_holds_null_defaults_or_references() -> None:
    # An optional key is absent, never null: a client offered `null` would be refused (422).
    for name, entry in catalog().items():
        schema = entry["data_schema"]
        assert leftovers(schema) == [], name
        assert schema["type"] == "object" and schema["additionalProperties"] is False, name
        assert set(schema["required"]) <= set(schema["properties"]), name


def test_required_keys_are_exactly_those_without_a_default() -> None:
    for name, entry in catalog().items():
        model = DATA_MODELS[name]
        required = [key for key, field in model.model_fields.items() if field.is_required()]
        assert entry["data_schema"]["required"] == required, name
    # A statement's speaker is required, unlike on every other type.
    assert catalog()["diplomacy.statement_made"]["data_schema"]["required"] == ["speaker", "text"]


def test_a_clash_schema_in_full_with_its_deaths_inlined() -> None:
    # `deaths` is a $ref to the Deaths model in pydantic's output: inlined, with the field's own
    # description and x-ordered laid over the definition's keys.
    assert catalog()["forces.clash_reported"]["data_schema"] == {
        "additionalProperties": False,
        "properties": {
            "speaker": SPEAKER,
            "note": NOTE,
            "area": {
                "description": "Where the clash was fought, as a slug (ru-kursk-oblast)",
                "title": "Area",
                **SLUG,
            },
            "parties": {
                "description": "The parties that fought (two or more, distinct)",
                "items": SLUG,
                "minItems": 2,
                "title": "Parties",
                "type": "array",
                "uniqueItems": True,
            },
            "claimant": {
                "description": "Who reports the clash: a party, or a dataset (acled, ucdp)",
                "title": "Claimant",
                **SLUG,
            },
            "deaths": {
                "additionalProperties": False,
                "description": "Deaths reported: best, low and high estimates, each optional",
                "properties": {
                    "best": {
                        "description": "The best estimate",
                        "minimum": 0,
                        "title": "Best",
                        "type": "integer",
                    },
                    "low": {
                        "description": "The lowest estimate",
                        "minimum": 0,
                        "title": "Low",
                        "type": "integer",
                    },
                    "high": {
                        "description": "The highest estimate",
                        "minimum": 0,
                        "title": "High",
                        "type": "integer",
                    },
                },
                "title": "Deaths",
                "type": "object",
                "x-ordered": ["low", "best", "high"],
            },
        },
        "required": ["area", "parties", "claimant"],
        "title": "ClashReported",
        "type": "object",
    }


def test_a_ceasefire_schema_says_what_its_validators_check() -> None:
    properties = catalog()["talks.ceasefire_declared"]["data_schema"]["properties"]
    assert properties["parties"] == {
        "description": "The parties the ceasefire binds (two or more)",
        "items": TALKS_PARTY,
        "minItems": 2,
        "title": "Parties",
        "type": "array",
        "uniqueItems": True,
    }
    assert properties["starts"] == {
        "description": "When it starts: a date (its start) or a date-time with an offset",
        "title": "Starts",
        "type": "string",
        "x-format": "day-or-date-time",
    }
    # Optional: a plain string, not anyOf [string, null], and no default.
    assert properties["ends"] == {
        "description": "When it ends: a date (the end of that day) or a date-time with an offset; none: open",
        "title": "Ends",
        "type": "string",
        "x-after": "starts",
        "x-format": "day-or-date-time",
    }
    assert list(properties) == ["speaker", "note", "parties", "declared_by", "starts", "ends", "scope"]


def test_a_meeting_schema_keys_on_behalf_of_by_the_participants() -> None:
    properties = catalog()["diplomacy.meeting_held"]["data_schema"]["properties"]
    assert properties["on_behalf_of"] == {
        "additionalProperties": False,
        "description": "For each participant who spoke for a party, that party",
        "patternProperties": {"^[a-z0-9-]{1,80}$": SLUG},
        "title": "On Behalf Of",
        "type": "object",
        "x-keys-from": "participants",
    }
    assert properties["topics"] == {
        "description": "What was discussed, one topic an entry",
        "items": {"maxLength": 10000, "type": "string"},
        "title": "Topics",
        "type": "array",
    }


def test_an_offer_schema_says_the_counterparty_differs() -> None:
    assert catalog()["talks.offer_made"]["data_schema"]["properties"]["counterparty"] == {
        "description": "The party offered talks",
        "title": "Counterparty",
        "x-differs-from": "party",
        **TALKS_PARTY,
    }


# --- InputJsonSchema, _inlined, submission_json_schema --------------------------------------------


class Defaults(BaseModel):
    optional: int | None = None
    counted: int = 5
    listed: list[int] = Field(default_factory=list)


def test_only_a_null_default_is_dropped() -> None:
    # A default other than None is what a client may rely on; a default_factory gives pydantic's
    # schema no `default` key at all, which must not be taken for a null one (a KeyError).
    properties = Defaults.model_json_schema(schema_generator=InputJsonSchema)["properties"]
    assert properties == {
        "optional": {"title": "Optional", "type": "integer"},
        "counted": {"default": 5, "title": "Counted", "type": "integer"},
        "listed": {"items": {"type": "integer"}, "title": "Listed", "type": "array"},
    }


def test_inlining_replaces_each_reference_with_its_definition_at_any_depth() -> None:
    schema = {
        "$defs": {
            "Inner": {"type": "integer", "title": "Inner"},
            "Outer": {"type": "object", "title": "Outer", "properties": {"inner": {"$ref": "#/$defs/Inner"}}},
        },
        "type": "object",
        "properties": {
            "outer": {"$ref": "#/$defs/Outer", "title": "Mine", "description": "kept"},
            "either": {"items": [{"$ref": "#/$defs/Inner"}, {"type": "string"}]},
        },
    }
    assert _inlined(schema) == {
        "type": "object",
        "properties": {
            # The referring node's own keys win over the definition's (its title here).
            "outer": {
                "type": "object",
                "title": "Mine",
                "properties": {"inner": {"type": "integer", "title": "Inner"}},
                "description": "kept",
            },
            "either": {"items": [{"type": "integer", "title": "Inner"}, {"type": "string"}]},
        },
    }


def test_inlining_a_schema_without_definitions_leaves_it_as_it_is() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "array", "items": [1, "x", None]}}}
    assert _inlined(dict(schema)) == schema


def test_a_reference_to_a_missing_definition_is_an_error_not_a_silent_hole() -> None:
    with pytest.raises(KeyError, match="Gone"):
        _inlined({"properties": {"a": {"$ref": "#/$defs/Gone"}}})


def test_the_submission_schema_refers_by_the_template_to_one_envelope_a_type() -> None:
    schema = submission_json_schema("#/components/schemas/{model}")
    refs = {f"#/components/schemas/{name}" for name in schema["$defs"] if name.endswith("Event")}
    assert len(refs) == len(KNOWN_TYPES)
    assert {choice["$ref"] for choice in schema["oneOf"]} == refs
    assert schema["discriminator"]["propertyName"] == "type"
    assert (
        schema["discriminator"]["mapping"]["talks.offer_made"] == "#/components/schemas/TalksOfferMadeEvent"
    )
    # Built with InputJsonSchema: an envelope's optional keys are plain, not nullable.
    event = schema["$defs"]["TalksOfferMadeEvent"]
    assert event["properties"]["supersedes"] == {
        "pattern": event["properties"]["id"]["pattern"],
        "title": "Supersedes",
        "type": "string",
    }
    assert event["required"] == ["occurred_at", "source", "type", "data"]


# --- _envelope_for ------------------------------------------------------------------------------


def test_each_type_gets_an_envelope_class_named_after_it() -> None:
    made = _envelope_for("talks.offer_made", OfferMade)
    assert made.__name__ == "TalksOfferMadeEvent"
    assert made.__module__ == "events.types"
    assert issubclass(made, Envelope)
    assert list(made.model_fields) == [*Envelope.model_fields, "type", "data"]
    assert get_args(made.model_fields["type"].annotation) == ("talks.offer_made",)
    assert made.model_fields["data"].annotation is OfferMade
    assert _envelope_for("event.retracted", Retracted).__name__ == "EventRetractedEvent"
    assert (
        _envelope_for("forces.involvement_reported", Retracted).__name__ == "ForcesInvolvementReportedEvent"
    )


def test_an_envelope_class_takes_its_own_type_only() -> None:
    made = _envelope_for("talks.offer_made", OfferMade)
    event = {
        "type": "talks.offer_made",
        "occurred_at": "2025-04-26",
        "source": {"name": "Wire", "kind": "media"},
        "data": {"party": "ua", "counterparty": "ru", "preconditions": []},
    }
    parsed = made.model_validate(event).model_dump(exclude_unset=True)
    assert parsed["type"] == "talks.offer_made"
    assert parsed["data"] == event["data"]
    with pytest.raises(ValidationError) as refused:
        made.model_validate({**event, "type": "talks.position_stated"})
    assert [error["loc"] for error in refused.value.errors()] == [("type",)]
