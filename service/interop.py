"""The HTTP side of CloudEvents (docs/api.md §13): what `GET /events`, `POST /events/batch`
and the stream do when a client asks for CloudEvents. The mapping itself is pure, in
`service/formats/cloudevents.py`; the routes in `service/api.py` and `service/stream.py`
only branch here."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from events.drafts import drafts_from_batch
from events.envelope import StoredEvent
from events.errors import TimelineError
from events.store import AppendResult, EventStore, Page
from service.config import Settings
from service.formats import cloudevents
from service.formats.cloudevents import BATCH_MEDIA_TYPE, Naming


def naming(request: Request) -> Naming:
    settings: Settings = request.app.state.settings
    return Naming(settings.cloudevents_source, settings.cloudevents_type_prefix)


def wants_batch(request: Request) -> bool:
    return cloudevents.prefers_batch(request.headers.get("accept"))


def sends_batch(request: Request) -> bool:
    return cloudevents.is_batch_media(request.headers.get("content-type"))


def batch_response(request: Request, events: Sequence[StoredEvent], status: int = 200) -> Response:
    text = cloudevents.batch_text((e.body for e in events), naming(request))
    return Response(text, status_code=status, media_type=BATCH_MEDIA_TYPE, headers={"Vary": "Accept"})


def page_response(request: Request, page: Page) -> Response:
    """A page of `GET /events` as a CloudEvents batch. The array has no room for the cursor:
    `next_after` travels as a `Link: <...>; rel="next"` header (RFC 8288), the same query
    with `after` moved on, and is absent exactly when `next_after` would be null."""
    response = batch_response(request, page.events)
    if page.next_after is not None:
        following = request.url.include_query_params(after=page.next_after)
        response.headers["Link"] = f'<{following}>; rel="next"'
    return response


def append_batch(
    store: EventStore, body: Any, fast_form: bool, names: Naming, max_batch: int
) -> AppendResult:
    """`POST /events/batch` with a CloudEvents batch: the same atomic, in-order append, with
    each refusal located in the array (`index` and `/3/data/...`)."""
    incoming = cloudevents.read_batch(body, names, max_batch)
    drafts = drafts_from_batch(incoming.envelopes(), fast_form_known=fast_form)
    try:
        return store.append(incoming.placed(drafts), batch=True)
    except TimelineError as exc:
        raise incoming.relocate(exc) from None


def _cloudevent_schema() -> dict[str, Any]:
    """A structured CloudEvent as this service writes it (docs/api.md §13.1)."""
    text = {"type": "string"}
    return {
        "type": "object",
        "required": ["specversion", "id", "source", "type", "data"],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": text,
            "source": text,
            "type": text,
            "subject": text,
            "time": {"type": "string", "format": "date-time"},
            "datacontenttype": text,
            "recordedtime": {"type": "string", "format": "date-time"},
            "sequence": {"type": "string", "pattern": "^[0-9]{19}$"},
            "hash": text,
            "data": {},
        },
    }


def describe(schema: dict[str, Any]) -> None:
    """Add the CloudEvents forms to the OpenAPI document: the batch answer of `GET /events`
    and `POST /events/batch`, and the batch body the latter takes."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["CloudEvent"] = _cloudevent_schema()
    batch = {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/CloudEvent"}}}
    paths = schema.get("paths", {})
    listing = paths.get("/events", {}).get("get")
    if listing is not None:
        listing["responses"]["200"].setdefault("content", {})[BATCH_MEDIA_TYPE] = batch
    writing = paths.get("/events/batch", {}).get("post")
    if writing is not None:
        for status in ("200", "201"):
            if status in writing["responses"]:
                writing["responses"][status].setdefault("content", {})[BATCH_MEDIA_TYPE] = batch
        body = writing.get("requestBody", {}).get("content")
        if body is not None:
            body[BATCH_MEDIA_TYPE] = batch
