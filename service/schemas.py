"""Response shapes, for the OpenAPI document. Handlers return pre-serialised JSON."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class StoredEventOut(BaseModel):
    """The stored event (docs/api.md §2): exactly these keys."""

    id: str
    type: str
    subject: str
    occurred_at: str
    occurred_precision: Literal["year", "month", "day", "instant"]
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
