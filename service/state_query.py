"""Answering a state question: resolve (as_of, known_at), read the read model, assemble.

The answers are JSON text, assembled from items rendered once; `state()` and `history()`
parse them for callers that want objects. The reference answers, by folding the log's
prefix (`projections/reference.py`), sit beside them for `timeline replay --check` and
the tests. Shared by the HTTP routes and `timeline state`; no web framework here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from events.errors import FieldError, InvalidInput
from events.instants import BadInstant, format_instant, parse_day_or_date_time, parse_query_instant
from events.store import EventStore
from projections import assemble, reference
from projections.changes import state_changes
from projections.facts import Fact, fact_of
from projections.parts import NAMES
from projections.sql import reader
from projections.windows import NO_PAGE, NO_WINDOW, Page, Window


def query_instant(name: str, value: str | None) -> str | None:
    """as_of / known_at / an events cut: a date (its last microsecond) or a date-time with an offset."""
    if value is None:
        return None
    try:
        return format_instant(parse_query_instant(value))
    except BadInstant as exc:
        raise _bad(name, f"expected a date or an RFC 3339 date-time with an offset: {exc}") from None


def window_bound(name: str, value: str | None, *, end: bool) -> str | None:
    """A window's `since` (a date D: D 00:00Z) or `until` (a date D: the end of D, exclusive)."""
    if value is None:
        return None
    try:
        return format_instant(parse_day_or_date_time(value, end_of_day=end))
    except BadInstant as exc:
        raise _bad(name, f"expected a date or an RFC 3339 date-time with an offset: {exc}") from None


def _bad(name: str, message: str) -> InvalidInput:
    return InvalidInput(f"`{name}` is not valid.", [FieldError(f"/{name}", message, "query")])


@dataclass(frozen=True)
class Cut:
    """The resolved instants and the log position known_at cuts at."""

    as_of: str
    known_at: str
    position: int
    head: int  # the last committed position when the question was resolved
    # known_at lies before the last committed event's recorded_at: every event recorded by
    # it is committed, and none appended later can be, so the answer can never change.
    final: bool = False

    def head_text(self) -> str:
        return f'"as_of":"{self.as_of}","known_at":"{self.known_at}","position":{self.position}'

    def answer(self, **parts: Any) -> dict[str, Any]:
        return {"as_of": self.as_of, "known_at": self.known_at, "position": self.position, **parts}


def resolve(store: EventStore, as_of: str | None, known_at: str | None) -> Cut:
    """Defaults: as_of now; known_at the last committed event's recorded_at, so that the
    same question with the echoed known_at gets the same answer."""
    now = format_instant(datetime.now(UTC))
    resolved_as_of = query_instant("as_of", as_of) or now
    wanted = query_instant("known_at", known_at)
    latest = store.cut_head(None)
    head = latest.position if latest else 0
    if latest is not None and (wanted is None or wanted >= latest.recorded_at):
        # At or after the last committed event, "now" is that event: an append still in
        # flight may already hold an earlier recorded_at, so only this cut is final, and
        # echoing it means the same question later gets the same answer.
        return Cut(resolved_as_of, latest.recorded_at, latest.position, head)
    if latest is None:  # a known_at later than now means now
        return Cut(resolved_as_of, min(wanted or now, now), 0, 0, wanted is not None and wanted < now)
    # Before the last committed event every event up to `wanted` is committed, since
    # recorded_at is stamped under the append lock: the cut is final.
    assert wanted is not None
    found = store.cut_head(wanted)
    return Cut(resolved_as_of, wanted, found.position if found else 0, head, True)


@dataclass(frozen=True)
class Question:
    """What to answer besides the cut: one part or all, one area or track, the windows on
    the lists that grow with the log, and pages of areas and tracks."""

    part: str | None = None
    area: str | None = None
    track: str | None = None
    window: Window = NO_WINDOW
    areas_page: Page = NO_PAGE
    tracks_page: Page = NO_PAGE


def _part_text(conn: Connection, name: str, cut: Cut, question: Question) -> str:
    """One part's object, e.g. `{"areas":{...}}` (with `next_areas_after` when paged)."""
    if name == "diplomacy":
        return reader.diplomacy_part(conn, cut.as_of, cut.position, question.window)
    only, page, key = (
        (question.area, question.areas_page, "areas")
        if name == "territory"
        else (question.track, question.tracks_page, "tracks")
    )
    shown, next_after = reader.scoped_part(conn, name, cut.as_of, cut.position, only, question.window, page)
    paged = f',"next_{key}_after":{json.dumps(next_after)}' if only is None and page.given else ""
    return f'{{"{key}":{shown}{paged}}}'


def answer_text(store: EventStore, cut: Cut, question: Question = Question()) -> str:
    with store.engine.connect() as conn:
        reader.check_built(conn)
        if question.part is not None:
            body = _part_text(conn, question.part, cut, question)
            return "{" + cut.head_text() + ("," + body[1:] if body != "{}" else "}")
        parts = ",".join(f'"{name}":{_part_text(conn, name, cut, question)}' for name in NAMES)
    return "{" + cut.head_text() + "," + parts + "}"


def state_text(
    store: EventStore, as_of: str | None = None, known_at: str | None = None, question: Question = Question()
) -> str:
    return answer_text(store, resolve(store, as_of, known_at), question)


def state(
    store: EventStore,
    as_of: str | None = None,
    known_at: str | None = None,
    part: str | None = None,
    area: str | None = None,
    track: str | None = None,
    **more: Any,
) -> dict[str, Any]:
    """The whole state, or one part of it (`territory`, `talks`, `diplomacy`), from the read model."""
    answer: dict[str, Any] = json.loads(
        state_text(store, as_of, known_at, Question(part, area, track, **more))
    )
    return answer


def history_text(store: EventStore, area: str, cut: Cut) -> str:
    with store.engine.connect() as conn:
        reader.check_built(conn)
        intervals = assemble.history(reader.area_rows(conn, cut.position, area))
    head = f'"known_at":"{cut.known_at}","position":{cut.position}'
    return f'{{"area":{json.dumps(area, ensure_ascii=False)},{head},"intervals":{intervals}}}'


def history(store: EventStore, area: str, known_at: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = json.loads(history_text(store, area, resolve(store, None, known_at)))
    return answer


def changes(
    store: EventStore,
    as_of: str | None = None,
    known_at: str | None = None,
    from_as_of: str | None = None,
    from_known_at: str | None = None,
    part: str | None = None,
    area: str | None = None,
    track: str | None = None,
) -> dict[str, Any]:
    """What differs between the answer at (from_as_of, from_known_at) and the one at
    (as_of, known_at); each `from_` defaults to its counterpart, and one must be given."""
    if from_as_of is None and from_known_at is None:
        raise InvalidInput(
            "Say what to compare with: `from_as_of`, `from_known_at` or both.",
            [
                FieldError(
                    f"/{name}", "give from_as_of or from_known_at (each defaults to its counterpart)", "query"
                )
                for name in ("from_as_of", "from_known_at")
            ],
        )
    # Checked under their own names, so that a bad value is reported at its parameter.
    earlier_as_of = query_instant("from_as_of", from_as_of)
    earlier_known_at = query_instant("from_known_at", from_known_at)
    cut = resolve(store, as_of, known_at)
    # An omitted from_known_at is this very cut, not the head resolved a second time: an
    # append between the two resolutions would otherwise show up as a change.
    earlier = (
        Cut(earlier_as_of or cut.as_of, cut.known_at, cut.position, cut.head)
        if earlier_known_at is None
        else resolve(store, earlier_as_of or cut.as_of, earlier_known_at)
    )
    question = Question(part, area, track)
    before, after = (
        json.loads(answer_text(store, earlier, question)),
        json.loads(answer_text(store, cut, question)),
    )
    if part is not None:  # one part's answer is unwrapped; the comparison takes parts by name
        keys = ("as_of", "known_at", "position")
        before = {part: {k: v for k, v in before.items() if k not in keys}}
        after = {part: {k: v for k, v in after.items() if k not in keys}}
    else:
        before = {name: before[name] for name in NAMES}
        after = {name: after[name] for name in NAMES}
    found = state_changes(before, after)
    return cut.answer(
        **{"from": {"as_of": earlier.as_of, "known_at": earlier.known_at, "position": earlier.position}},
        **(found[part] if part is not None else found),
    )


# -- the reference: the same answers by folding the log's prefix --------------------------


def recorded_until(store: EventStore, position: int) -> list[Fact]:
    return [fact_of(event) for event in store.events_until(position)] if position else []


def reference_state(
    store: EventStore,
    as_of: str | None = None,
    known_at: str | None = None,
    part: str | None = None,
    area: str | None = None,
    track: str | None = None,
    **more: Any,
) -> dict[str, Any]:
    cut = resolve(store, as_of, known_at)
    parts = reference.state_parts(recorded_until(store, cut.position), cut.as_of, part, area, track, **more)
    return cut.answer(**parts)


def reference_history(store: EventStore, area: str, known_at: str | None = None) -> dict[str, Any]:
    cut = resolve(store, None, known_at)
    return {
        "area": area,
        "known_at": cut.known_at,
        "position": cut.position,
        "intervals": reference.history(recorded_until(store, cut.position), area),
    }
