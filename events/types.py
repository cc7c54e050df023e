"""The event catalog (docs/api.md §3, schema version 1) as strict pydantic models.

Each type has a `data` model; `Submission` is the union of the typed envelopes,
discriminated by `type`. The models validate; what is stored is the client's
own JSON (normalised), so an optional key that was not sent stays absent.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from events.instants import BadInstant, parse_date_time, parse_day_or_date_time

SCHEMA_VERSION = 1

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,80}$")]
# Talks parties join into track names with "-", so they may not contain one.
TalksParty = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{1,80}$")]
Text = Annotated[str, StringConstraints(max_length=10_000)]
Note = Annotated[str, StringConstraints(max_length=2_000)]
Extent = Literal["full", "partial"]
EventId = Annotated[
    str,
    StringConstraints(
        pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    ),
]


def _check_date_time(value: str) -> str:
    try:
        parse_date_time(value)
    except BadInstant as exc:
        raise ValueError(str(exc)) from None
    return value


def _check_day_or_date_time(value: str) -> str:
    try:
        parse_day_or_date_time(value, end_of_day=False)
    except BadInstant as exc:
        raise ValueError(f"expected a date or a date-time with an offset: {exc}") from None
    return value


DateTime = Annotated[str, AfterValidator(_check_date_time)]
DayOrDateTime = Annotated[str, AfterValidator(_check_day_or_date_time)]


# What the models' own validators check, said in each type's JSON Schema so that a
# client (the viewer's editor) can check it before sending: `uniqueItems` is standard
# JSON Schema; the `x-` keywords are this service's, and their meaning is in docs/api.md.
DISTINCT = {"uniqueItems": True}
DIFFERS_FROM_PARTY = {"x-differs-from": "party"}
AFTER_STARTS = {"x-after": "starts", "x-format": "day-or-date-time"}
DAY_OR_DATE_TIME = {"x-format": "day-or-date-time"}
ORDERED_DEATHS = {"x-ordered": ["low", "best", "high"]}
KEYS_FROM_PARTICIPANTS = {"x-keys-from": "participants", "additionalProperties": False}


# The rules that span a field and its neighbours, each reported at its field (a client can
# show the message where the value is typed). A validator sees the fields declared before
# its own that validated (`info.data`): each names only earlier fields.


def _distinct(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise PydanticCustomError("distinct", "entries must be distinct")
    return values


def _differs_from_party(value: str, info: ValidationInfo) -> str:
    if value == info.data.get("party"):
        raise PydanticCustomError("differs", "must differ from party")
    return value


def _after_starts(value: str | None, info: ValidationInfo) -> str | None:
    starts = info.data.get("starts")
    if value is None or starts is None:
        return value
    if parse_day_or_date_time(value, end_of_day=True) <= parse_day_or_date_time(starts, end_of_day=False):
        raise PydanticCustomError("after", "must come after starts")
    return value


def _keys_are_participants(value: dict[str, str] | None, info: ValidationInfo) -> dict[str, str] | None:
    participants = info.data.get("participants")
    for participant in value or {}:
        if participants is not None and participant not in participants:
            raise PydanticCustomError(
                "participant", "names {name}, who is not one of the participants", {"name": participant}
            )
    return value


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class EventData(Strict):
    """Keys accepted on every type."""

    speaker: Slug | None = Field(
        default=None,
        description="Who spoke for the party: a person or body, as a slug (gerasimov, ua-general-staff)",
    )
    note: Note | None = Field(default=None, description="Anything worth keeping that fits no other field")


class ControlClaimed(EventData):
    area: Slug = Field(description="The area claimed, as a slug (ru-kursk-oblast)")
    controller: Slug = Field(description="The party that holds the area, by this claim")
    extent: Extent = Field(description="Whether the controller holds all of the area or part of it")
    claimant: Slug = Field(description="The party that makes the claim")
    within: Slug | None = Field(
        default=None, description="The area this one lies in (ru-kursk-oblast for ru-kursk-oblast-gornal)"
    )
    area_km2: Annotated[float, Field(ge=0)] | None = Field(
        default=None, description="The square kilometres the controller holds, by this claim"
    )


class ClaimDenied(EventData):
    area: Slug = Field(description="The area whose claim is denied")
    claimant: Slug = Field(description="The party that denies")
    denied_event_id: EventId | None = Field(
        default=None, description="The id of the territory.control_claimed event denied, on the same area"
    )


class Assessed(EventData):
    area: Slug = Field(description="The area assessed")
    assessor: Slug = Field(description="Who assesses: an institute, an agency, a dataset (isw, acled)")
    controller: Slug = Field(description="The party that holds the area, by this assessment")
    extent: Extent = Field(description="Whether the controller holds all of the area or part of it")
    area_km2: Annotated[float, Field(ge=0)] | None = Field(
        default=None, description="The square kilometres the controller holds, by this assessment"
    )


class ForcesReported(EventData):
    area: Slug = Field(description="Where the forces are reported")
    force: Slug = Field(description="Whose forces (kp for North Korea's)")
    supporting: Slug = Field(description="The party they fight for")
    status: Literal["reported", "acknowledged", "denied"] = Field(
        description="Reported by others, acknowledged by those involved, or denied"
    )
    claimant: Slug = Field(description="The party that makes the report")
    size: Text | None = Field(default=None, description="How many, in the report's words (about 12,000)")


class Deaths(Strict):
    """Deaths reported for a clash: a best estimate and a range, each optional."""

    best: Annotated[int, Field(ge=0)] | None = Field(default=None, description="The best estimate")
    low: Annotated[int, Field(ge=0)] | None = Field(default=None, description="The lowest estimate")
    high: Annotated[int, Field(ge=0)] | None = Field(default=None, description="The highest estimate")

    @model_validator(mode="after")
    def _ordered(self) -> Deaths:
        given = [value for value in (self.low, self.best, self.high) if value is not None]
        if given != sorted(given):
            raise PydanticCustomError("ordered", "low <= best <= high must hold for the values given")
        return self


class ClashReported(EventData):
    area: Slug = Field(description="Where the clash was fought, as a slug (ru-kursk-oblast)")
    parties: Annotated[list[Slug], Field(min_length=2, json_schema_extra=DISTINCT)] = Field(
        description="The parties that fought (two or more, distinct)"
    )
    claimant: Slug = Field(description="Who reports the clash: a party, or a dataset (acled, ucdp)")
    deaths: Annotated[Deaths, Field(json_schema_extra=ORDERED_DEATHS)] | None = Field(
        default=None, description="Deaths reported: best, low and high estimates, each optional"
    )

    _parties = field_validator("parties")(_distinct)


class OfferMade(EventData):
    party: TalksParty = Field(description="The party that offers talks")
    counterparty: Annotated[TalksParty, Field(json_schema_extra=DIFFERS_FROM_PARTY)] = Field(
        description="The party offered talks"
    )
    preconditions: list[Text] = Field(
        description="Each precondition in the offer's words; none means without preconditions"
    )

    _counterparty = field_validator("counterparty")(_differs_from_party)


class PositionStated(EventData):
    party: TalksParty = Field(description="The party whose position it is")
    counterparty: Annotated[TalksParty, Field(json_schema_extra=DIFFERS_FROM_PARTY)] = Field(
        description="The other side of the track"
    )
    position: Text = Field(description="The position, in a sentence")

    _counterparty = field_validator("counterparty")(_differs_from_party)


class ProposalMade(EventData):
    proposer: TalksParty = Field(description="The party that proposes")
    parties: Annotated[list[TalksParty], Field(min_length=2, json_schema_extra=DISTINCT)] = Field(
        description="The parties the proposal is addressed to (two or more)"
    )
    terms: list[Text] = Field(description="The terms, in order")

    _parties = field_validator("parties")(_distinct)


class OfferRejected(EventData):
    party: TalksParty = Field(description="The party that rejects (the offer's counterparty)")
    offer_event_id: EventId = Field(description="The id of the talks.offer_made event rejected")


class CeasefireDeclared(EventData):
    parties: Annotated[list[TalksParty], Field(min_length=2, json_schema_extra=DISTINCT)] = Field(
        description="The parties the ceasefire binds (two or more)"
    )
    declared_by: Slug = Field(description="Who declared it")
    starts: Annotated[DayOrDateTime, Field(json_schema_extra=DAY_OR_DATE_TIME)] = Field(
        description="When it starts: a date (its start) or a date-time with an offset"
    )
    ends: Annotated[DayOrDateTime, Field(json_schema_extra=AFTER_STARTS)] | None = Field(
        default=None,
        description="When it ends: a date (the end of that day) or a date-time with an offset; none: open",
    )
    scope: Text | None = Field(
        default=None, description="What it covers (energy infrastructure, the Black Sea)"
    )

    _parties = field_validator("parties")(_distinct)
    _ends = field_validator("ends")(_after_starts)


class RoundHeld(EventData):
    parties: Annotated[list[TalksParty], Field(min_length=2, json_schema_extra=DISTINCT)] = Field(
        description="The parties at the table (two or more)"
    )
    place: Slug = Field(description="Where, as a slug (istanbul, va)")
    mediator: Slug | None = Field(default=None, description="Who mediated")
    outcome: Text | None = Field(default=None, description="What came of it, in a sentence")

    _parties = field_validator("parties")(_distinct)


class MeetingHeld(EventData):
    participants: Annotated[list[Slug], Field(min_length=2, json_schema_extra=DISTINCT)] = Field(
        description="Who met: people or parties, two or more"
    )
    place: Slug = Field(description="Where, as a slug (va for the Vatican)")
    occasion: Text | None = Field(default=None, description="The occasion (Pope Francis' funeral)")
    on_behalf_of: Annotated[dict[Slug, Slug], Field(json_schema_extra=KEYS_FROM_PARTICIPANTS)] | None = Field(
        default=None, description="For each participant who spoke for a party, that party"
    )
    tone: Text | None = Field(default=None, description="The tone reported (constructive)")
    topics: list[Text] | None = Field(default=None, description="What was discussed, one topic an entry")

    _participants = field_validator("participants")(_distinct)
    _on_behalf_of = field_validator("on_behalf_of")(_keys_are_participants)


class StatementMade(EventData):
    speaker: Slug = Field(
        description="Who spoke, as a slug (putin, peskov)"
    )  # required here, unlike on other types
    text: Text = Field(description="What was said, quoted or summed up")
    party: Slug | None = Field(default=None, description="The party the speaker speaks for")
    about: list[Slug] | None = Field(default=None, description="The parties the statement is about")


class Retracted(EventData):
    target_event_id: EventId = Field(
        description="The id of the event retracted: it stops counting from now on"
    )
    reason: Text = Field(description="Why it is retracted")


DATA_MODELS: dict[str, type[EventData]] = {
    "territory.control_claimed": ControlClaimed,
    "territory.claim_denied": ClaimDenied,
    "territory.assessed": Assessed,
    "forces.involvement_reported": ForcesReported,
    "forces.clash_reported": ClashReported,
    "talks.offer_made": OfferMade,
    "talks.position_stated": PositionStated,
    "talks.proposal_made": ProposalMade,
    "talks.offer_rejected": OfferRejected,
    "talks.ceasefire_declared": CeasefireDeclared,
    "talks.round_held": RoundHeld,
    "diplomacy.meeting_held": MeetingHeld,
    "diplomacy.statement_made": StatementMade,
    "event.retracted": Retracted,
}
KNOWN_TYPES = sorted(DATA_MODELS)
RETRACTED = "event.retracted"

# Which data key references which kind of earlier event (docs/api.md §3).
REFERENCE_KEYS = {
    "territory.claim_denied": ("denied_event_id", "territory.control_claimed"),
    "talks.offer_rejected": ("offer_event_id", "talks.offer_made"),
    "event.retracted": ("target_event_id", None),
}


class Source(Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    kind: Literal[
        "government",
        "military",
        "media",
        "think_tank",
        "intelligence",
        "international_org",
        "ngo",
        "other",
    ]
    url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$", max_length=2_000)] | None = None
    quote: Annotated[str, StringConstraints(max_length=2_000)] | None = None


class Envelope(Strict):
    """The keys every submitted event may carry besides `type` and `data`."""

    id: EventId | None = None
    subject: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    occurred_at: str
    reported_at: DateTime | None = None
    source: Source
    supersedes: EventId | None = None
    expected_version: Annotated[int, Field(ge=0)] | None = None


def _envelope_for(type_name: str, data_model: type[EventData]) -> type[Envelope]:
    # One small class per type gives pydantic its discriminated union and
    # gives /openapi.json a named schema for each kind of event.
    name = "".join(part.title() for part in type_name.replace(".", "_").split("_")) + "Event"
    annotations = {"type": Literal[type_name], "data": data_model}
    return type(name, (Envelope,), {"__annotations__": annotations, "__module__": __name__})


TYPED_ENVELOPES = {name: _envelope_for(name, model) for name, model in DATA_MODELS.items()}
# Built from the table above, so a type cannot be listed in one place and missed in another.
Submission: Any = Annotated[Union[tuple(TYPED_ENVELOPES.values())], Field(discriminator="type")]  # noqa: UP007
SUBMISSION: TypeAdapter[Any] = TypeAdapter(Submission)


class InputJsonSchema(GenerateJsonSchema):
    """JSON Schema of what clients may send: an optional key is absent, never null."""

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        json_schema = super().default_schema(schema)
        if json_schema.get("default", ...) is None:
            del json_schema["default"]
        return json_schema


def submission_json_schema(ref_template: str) -> dict[str, Any]:
    return SUBMISSION.json_schema(ref_template=ref_template, schema_generator=InputJsonSchema)


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with each `$ref` to its `$defs` replaced by the definition (a clash's
    `deaths`), so that a client builds a form from one self-contained object."""
    definitions = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                found = definitions[node["$ref"].rsplit("/", 1)[-1]]
                return resolve({**found, **{k: v for k, v in node.items() if k != "$ref"}})
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def type_catalog() -> list[dict[str, Any]]:
    """`GET /types`: each type with the JSON Schema of its data."""
    return [
        {
            "type": name,
            "schema_version": SCHEMA_VERSION,
            "subject": SUBJECT_RULES[name],
            "data_schema": _inlined(DATA_MODELS[name].model_json_schema(schema_generator=InputJsonSchema)),
        }
        for name in KNOWN_TYPES
    ]


SUBJECT_RULES = {
    "territory.control_claimed": "data.area",
    "territory.claim_denied": "data.area",
    "territory.assessed": "data.area",
    "forces.involvement_reported": "data.area",
    "forces.clash_reported": "data.area",
    "talks.offer_made": "track of data.party and data.counterparty",
    "talks.position_stated": "track of data.party and data.counterparty",
    "talks.proposal_made": "track of data.parties",
    "talks.offer_rejected": "the track of the offer named by data.offer_event_id",
    "talks.ceasefire_declared": "track of data.parties",
    "talks.round_held": "track of data.parties",
    "diplomacy.meeting_held": "diplomacy",
    "diplomacy.statement_made": "diplomacy",
    "event.retracted": "the subject of the event named by data.target_event_id",
}
