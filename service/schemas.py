"""Response shapes, for the OpenAPI document. Handlers return pre-serialised JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model

from events.envelope import STORED_KEYS, StoredEvent

if TYPE_CHECKING:  # the model is built from StoredEvent below; mypy sees a plain model

    class StoredEventOut(BaseModel): ...

else:
    # The stored event (docs/api.md §2): exactly the keys of `events.envelope.StoredEvent`,
    # derived from it so that the shape is written once.
    _HINTS = get_type_hints(StoredEvent)
    _HINTS["occurred_precision"] = Literal["year", "month", "day", "instant"]
    StoredEventOut = create_model(
        "StoredEventOut",
        __doc__="The stored event (docs/api.md §2): exactly these keys.",
        **{key: (_HINTS[key], ...) for key in STORED_KEYS},
    )


class BatchOut(BaseModel):
    events: list[StoredEventOut]


class EventsPage(BaseModel):
    events: list[StoredEventOut]
    next_after: int | None = Field(description="Pass as `after` for the next page; null at the end.")


class SubjectPage(BaseModel):
    events: list[StoredEventOut]
    next_after_version: int | None


class CorrectionsOut(BaseModel):
    events: list[StoredEventOut] = Field(description="The superseding and retracting events, by position")


class DaysOut(BaseModel):
    known_at: str
    position: int
    days: list[str] = Field(description="UTC days, YYYY-MM-DD, ascending")


class TypeOut(BaseModel):
    type: str
    schema_version: int
    subject: str
    data_schema: dict[str, Any]


class TypesOut(BaseModel):
    types: list[TypeOut]


class Health(BaseModel):
    status: str
    database: str
    head: int | None = None


class VerifyHead(BaseModel):
    position: int
    hash: str


class VerifyOut(BaseModel):
    ok: bool
    count: int
    head: VerifyHead | None = None
    first_bad_position: int | None = None
    reason: str | None = None
    detail: str | None = None


class HeadOut(BaseModel):
    tree_size: int
    root_hash: str = Field(description="Lowercase hex")
    timestamp: str | None = Field(description="recorded_at of the event at tree_size")
    signature: str | None = Field(
        default=None, description="Base64 Ed25519 signature over the JCS of the three keys above"
    )


class KeyOut(BaseModel):
    algorithm: str
    public_key: str = Field(description="The 32-byte Ed25519 public key, base64")
    public_key_pem: str


class InclusionOut(BaseModel):
    position: int
    tree_size: int
    audit_path: list[str]


class ConsistencyOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    first: int = Field(alias="from")
    second: int = Field(alias="to")
    consistency_path: list[str]


class ProblemError(BaseModel):
    path: str
    message: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    errors: list[ProblemError] | None = None
    index: int | None = None


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": Problem, "content": {"application/problem+json": {}}} for status in statuses}
