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


# RFC 9457 problems (docs/api.md §4.7). Handlers build them in `service/problems.py`; the
# schema is written out here rather than derived from a model, so that an optional member
# is one the body omits (never `null`), as the handlers send it.
PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_SCHEMAS: dict[str, dict[str, Any]] = {
    "ProblemError": {
        "type": "object",
        "required": ["path", "message"],
        "properties": {
            "path": {
                "type": "string",
                "description": "A JSON Pointer into the body (`/events/3/data/extent`, `` for the whole "
                "body), or `/name` of a query parameter or header",
            },
            "message": {"type": "string"},
            "in": {"type": "string", "enum": ["query", "header", "path", "body", "cookie"]},
        },
    },
    "Problem": {
        "type": "object",
        "description": "An RFC 9457 problem; members other than these four appear only where they apply.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "description": "https://timeline.invalid/problems/ and a kind"},
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ProblemError"}},
            "index": {"type": "integer", "minimum": 0, "description": "A refused batch: the event, from 0"},
            "limit": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
                "description": "The limit that refused the request, by name (`max_depth`, ...)",
            },
            "retry_after": {"type": "integer", "minimum": 0, "description": "429: seconds, as Retry-After"},
            "known_types": {"type": "array", "items": {"type": "string"}},
            "accepts": {"type": "array", "items": {"type": "string"}, "description": "415: media types"},
            "existing_position": {
                "type": "integer",
                "description": "409: the id is stored with other content",
            },
            "corrected_by": {"type": "string", "description": "409: the event's live corrector"},
            "actual_version": {"type": "integer", "description": "409: the subject's version"},
            "rebuild": {"type": "object", "description": "409: the rebuild already running"},
        },
    },
}
_DESCRIPTIONS = {
    400: "Bad request",
    401: "No valid key",
    403: "The key lacks the scope",
    404: "Not found",
    406: "Not acceptable",
    408: "The body did not arrive in full in time; nothing was written",
    409: "Conflict",
    413: "The body is over the limit",
    414: "The query string is over 8,192 bytes",
    415: "The body is not JSON",
    422: "Invalid input, or a query parameter the endpoint does not take",
    429: "Too many requests",
    503: "The database is not answering",
}
_HEADERS = {
    401: {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}},
    429: {"Retry-After": {"required": True, "schema": {"type": "integer"}}},
    503: {"Retry-After": {"required": True, "schema": {"type": "integer"}}},
}
# Every route of the API's schema may answer these: a query string over the limit, or a
# query parameter the route does not take (service/strict_inputs.py).
ANY_ROUTE = (414, 422)
# A route that reads with a key: no key or an unknown one, or one without the scope.
KEYED = (401, 403)


def problem_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _DESCRIPTIONS[status],
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if status in _HEADERS:
        response["headers"] = _HEADERS[status]
    return response


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The problems a route may answer: those given, and those of every route."""
    return {status: problem_response(status) for status in sorted(set(statuses) | set(ANY_ROUTE))}
