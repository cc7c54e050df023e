"""`GET /export/timelinejs` (docs/api.md §14): some areas and tracks as a TimelineJS document.

Thin: resolve the cut, read the chosen subjects' events and whatever corrects them, and let
`service/formats/timelinejs.py` decide what is shown and how.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from events.envelope import StoredEvent
from events.errors import FieldError, InvalidInput
from events.store import EventStore
from service.api import Store, require
from service.formats import timelinejs
from service.schemas import problems
from service.state_query import resolve

router = APIRouter(tags=["export"])
# The events of the chosen subjects one export reads at most, retractions and superseded
# ones included: a story timeline is read slide by slide, and TimelineJS slows down long
# before this.
MAX_EXPORT_EVENTS = 2000
PAGE = 1000


def recorded(store: EventStore, subjects: list[str], position: int, known_at: str) -> list[StoredEvent]:
    """The events of these subjects recorded by the cut, in log order; a 422 past the limit."""
    found: list[StoredEvent] = []
    after = 0
    while True:
        page = store.read(after=after, limit=PAGE, subjects=subjects, known_at=known_at)
        found.extend(event for event in page.events if event.position <= position)
        if len(found) > MAX_EXPORT_EVENTS:
            raise InvalidInput(
                f"These subjects hold more than {MAX_EXPORT_EVENTS:,} events (the limit of one export);"
                " export fewer areas or tracks at once.",
                [
                    FieldError(f"/{name}", "too many events for one export", "query")
                    for name in ("area", "track")
                ],
                limit={"max_events": MAX_EXPORT_EVENTS},
            )
        if page.next_after is None:
            return found
        after = page.next_after


def correctors_of(store: EventStore, events: list[StoredEvent], position: int) -> list[StoredEvent]:
    """Every event recorded by the cut that corrects one of `events`, or corrects one of
    those, and so on, that is not among them (a superseding event may have moved to
    another subject). Through the store's own question, one per event: backend-neutral,
    and an export reads at most MAX_EXPORT_EVENTS events."""
    known = {event.id for event in events}
    found: list[StoredEvent] = []
    frontier = [event.id for event in events]
    while frontier:
        event_id = frontier.pop()
        for corrector in store.correctors(event_id, position):
            if corrector.id not in known:
                known.add(corrector.id)
                found.append(corrector)
                frontier.append(corrector.id)
    return found


@router.get(
    "/export/timelinejs",
    dependencies=[Depends(require("read"))],
    responses={
        200: {"content": {"application/json": {}}, "description": "A TimelineJS 3 document"},
        **problems(401, 403, 422),
    },
    summary="Areas and tracks as a TimelineJS story timeline",
    description="The events of the areas and tracks named (OR'ed) in effect at known_at, one slide "
    "each in valid-time order; corrections replace what they correct, retracted events and "
    "retractions are left out (docs/api.md §14).",
)
def export_timelinejs(
    store: Store,
    area: Annotated[list[str] | None, Query(description="An area, exactly; repeatable")] = None,
    track: Annotated[list[str] | None, Query(description="A talks track, exactly; repeatable")] = None,
    known_at: Annotated[str | None, Query(description="Cut by recorded_at; default: the head")] = None,
) -> Response:
    subjects = list(dict.fromkeys([*(area or []), *(track or [])]))
    if not subjects:
        raise InvalidInput(
            "Say what the timeline is about: `area`, `track` or both (each repeatable).",
            [
                FieldError(f"/{name}", "give at least one area or track", "query")
                for name in ("area", "track")
            ],
        )
    cut = resolve(store, None, known_at)
    candidates = recorded(store, subjects, cut.position, cut.known_at)
    events = timelinejs.shown(candidates, correctors_of(store, candidates, cut.position))
    document = timelinejs.timeline(events, subjects, cut.known_at, cut.position)
    return Response(json.dumps(document, ensure_ascii=False), media_type="application/json")
