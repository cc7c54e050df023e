"""The event catalog (CONTRACT section 3, schema version 1) as strict pydantic models.

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
    model_validator,
)
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

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


def _distinct(values: list[str], what: str) -> None:
    if len(set(values)) != len(values):
        raise ValueError(f"{what} must be distinct")


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class EventData(Strict):
    """Keys accepted on every type."""

    speaker: Slug | None = None
    note: Note | None = None


class ControlClaimed(EventData):
    area: Slug
    controller: Slug
    extent: Extent
    claimant: Slug
    within: Slug | None = None
    area_km2: Annotated[float, Field(ge=0)] | None = None


class ClaimDenied(EventData):
    area: Slug
    claimant: Slug
    denied_event_id: EventId | None = None


class Assessed(EventData):
    area: Slug
    assessor: Slug
    controller: Slug
    extent: Extent
    area_km2: Annotated[float, Field(ge=0)] | None = None


class ForcesReported(EventData):
    area: Slug
    force: Slug
    supporting: Slug
    status: Literal["reported", "acknowledged", "denied"]
    claimant: Slug
    size: Text | None = None


class OfferMade(EventData):
    party: TalksParty
    counterparty: TalksParty
    preconditions: list[Text]

    @model_validator(mode="after")
    def _two_sides(self) -> OfferMade:
        if self.party == self.counterparty:
            raise ValueError("party and counterparty must differ")
        return self


class PositionStated(EventData):
    party: TalksParty
    counterparty: TalksParty
    position: Text

    @model_validator(mode="after")
    def _two_sides(self) -> PositionStated:
        if self.party == self.counterparty:
            raise ValueError("party and counterparty must differ")
        return self


class ProposalMade(EventData):
    proposer: TalksParty
    parties: Annotated[list[TalksParty], Field(min_length=2)]
    terms: list[Text]

    @model_validator(mode="after")
    def _distinct_parties(self) -> ProposalMade:
        _distinct(self.parties, "parties")
        return self


class OfferRejected(EventData):
    party: TalksParty
    offer_event_id: EventId


class CeasefireDeclared(EventData):
    parties: Annotated[list[TalksParty], Field(min_length=2)]
    declared_by: Slug
    starts: DayOrDateTime
    ends: DayOrDateTime | None = None
    scope: Text | None = None

    @model_validator(mode="after")
    def _window(self) -> CeasefireDeclared:
        _distinct(self.parties, "parties")
        if self.ends is not None:
            start = parse_day_or_date_time(self.starts, end_of_day=False)
            end = parse_day_or_date_time(self.ends, end_of_day=True)
            if end <= start:
                raise ValueError("ends must come after starts")
        return self


class RoundHeld(EventData):
    parties: Annotated[list[TalksParty], Field(min_length=2)]
    place: Slug
    mediator: Slug | None = None
    outcome: Text | None = None

    @model_validator(mode="after")
    def _distinct_parties(self) -> RoundHeld:
        _distinct(self.parties, "parties")
        return self


class MeetingHeld(EventData):
    participants: Annotated[list[Slug], Field(min_length=2)]
    place: Slug
    occasion: Text | None = None
    on_behalf_of: dict[Slug, Slug] | None = None
    tone: Text | None = None
    topics: list[Text] | None = None

    @model_validator(mode="after")
    def _participants(self) -> MeetingHeld:
        _distinct(self.participants, "participants")
        for participant in self.on_behalf_of or {}:
            if participant not in self.participants:
                raise ValueError(f"on_behalf_of names {participant!r}, who is not a participant")
        return self


class StatementMade(EventData):
    speaker: Slug  # required here, unlike on other types
    text: Text
    party: Slug | None = None
    about: list[Slug] | None = None


class Retracted(EventData):
    target_event_id: EventId
    reason: Text


DATA_MODELS: dict[str, type[EventData]] = {
    "territory.control_claimed": ControlClaimed,
    "territory.claim_denied": ClaimDenied,
    "territory.assessed": Assessed,
    "forces.involvement_reported": ForcesReported,
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

# Which data key references which kind of earlier event (CONTRACT section 3).
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


def type_catalog() -> list[dict[str, Any]]:
    """`GET /types`: each type with the JSON Schema of its data."""
    return [
        {
            "type": name,
            "schema_version": SCHEMA_VERSION,
            "subject": SUBJECT_RULES[name],
            "data_schema": DATA_MODELS[name].model_json_schema(schema_generator=InputJsonSchema),
        }
        for name in KNOWN_TYPES
    ]


SUBJECT_RULES = {
    "territory.control_claimed": "data.area",
    "territory.claim_denied": "data.area",
    "territory.assessed": "data.area",
    "forces.involvement_reported": "data.area",
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
