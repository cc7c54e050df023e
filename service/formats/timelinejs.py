"""Knight Lab's TimelineJS 3 JSON (docs/api.md §14), as pure functions: the events of some
areas and tracks, in effect at known_at, as the slides a desk publishes with the viewer.

TimelineJS reads `headline` and `text` as HTML, so every value from the log is escaped
here; the only markup is our own (paragraphs, a list, a link, a quote).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from datetime import UTC
from typing import Any

from events.envelope import StoredEvent
from events.instants import parse_day_or_date_time
from events.types import RETRACTED
from events.upcasting import upcast
from projections.effect import in_effect
from projections.facts import fact_of

GROUPS = {"territory": "Territory", "forces": "Forces", "talks": "Talks", "diplomacy": "Diplomacy"}
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
# Text keys of the catalog's data shown as paragraphs, in this order.
PARAGRAPHS = ("position", "text", "outcome", "scope", "size", "occasion", "tone", "note")


# -- which events ---------------------------------------------------------------------


def shown(candidates: Sequence[StoredEvent], correctors: Iterable[StoredEvent]) -> list[StoredEvent]:
    """Of `candidates` (the events of the chosen subjects recorded by the cut), those in
    effect there (docs/api.md §5), retractions aside, in valid-time order (occurred_from,
    then position). `correctors`: every event recorded by the cut that corrects a candidate
    or one of its correctors, whatever its subject, so that the set is closed under "who
    corrects whom" and `in_effect` decides over it as over the whole log."""
    by_id = {event.id: event for event in candidates}
    everything = dict(by_id)
    everything.update({event.id: event for event in correctors})
    facts = sorted((fact_of(event) for event in everything.values()), key=lambda fact: fact.position)
    effective = [fact for fact in in_effect(facts) if fact.id in by_id and fact.type != RETRACTED]
    return [by_id[fact.id] for fact in sorted(effective, key=lambda fact: fact.order)]


# -- dates ----------------------------------------------------------------------------


def _clock(
    year: int, month: int, day: int, hour: int, minute: int, second: int, micro: int
) -> dict[str, Any]:
    """An instant (UTC) with a display_date that says so: TimelineJS would show the
    fields in the reader's own time zone, without saying which."""
    date: dict[str, Any] = {"year": year, "month": month, "day": day, "hour": hour, "minute": minute}
    date["second"] = second
    if micro:
        date["millisecond"] = micro // 1000
    date["display_date"] = f"{day} {MONTHS[month - 1]} {year}, {hour:02d}:{minute:02d} UTC"
    return date


def date_of(instant: str, precision: str) -> dict[str, Any]:
    """A TimelineJS date object of one of our instants (YYYY-MM-DDTHH:MM:SS.ffffffZ), with
    the fields of the precision: a year, a month, a day, or an instant to the millisecond."""
    year, month, day = int(instant[0:4]), int(instant[5:7]), int(instant[8:10])
    if precision == "year":
        return {"year": year}
    if precision == "month":
        return {"year": year, "month": month}
    if precision == "day":
        return {"year": year, "month": month, "day": day}
    hour, minute, second = int(instant[11:13]), int(instant[14:16]), int(instant[17:19])
    return _clock(year, month, day, hour, minute, second, int(instant[20:26]))


def end_of_ceasefire(ends: str) -> dict[str, Any]:
    """A ceasefire's `ends`: a date D (its last day, D) or a date-time with an offset."""
    if len(ends) == 10:
        return {"year": int(ends[0:4]), "month": int(ends[5:7]), "day": int(ends[8:10])}
    m = parse_day_or_date_time(ends, end_of_day=True).astimezone(UTC)
    return _clock(m.year, m.month, m.day, m.hour, m.minute, m.second, m.microsecond)


# -- text -----------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _parties(values: Iterable[str]) -> str:
    return ", ".join(values)


def headline(type_name: str, data: dict[str, Any]) -> str:
    """One line saying what happened, in plain text (escaped by the caller)."""
    d = data
    if type_name == "territory.control_claimed":
        if d["claimant"] == d["controller"]:
            return f"{d['claimant']} claims {d['extent']} control of {d['area']}"
        return f"{d['claimant']} claims {d['controller']} has {d['extent']} control of {d['area']}"
    if type_name == "territory.claim_denied":
        return f"{d['claimant']} denies a claim of control of {d['area']}"
    if type_name == "territory.assessed":
        return f"{d['assessor']} assesses {d['area']}: {d['extent']} control by {d['controller']}"
    if type_name == "forces.involvement_reported":
        where = f"{d['force']} forces supporting {d['supporting']} in {d['area']}"
        return f"{where}: {d['status']} by {d['claimant']}"
    if type_name == "forces.clash_reported":
        best = (d.get("deaths") or {}).get("best")
        toll = f", {best} killed" if best is not None else ""
        return f"Clash in {d['area']} ({_parties(d['parties'])}{toll}), reported by {d['claimant']}"
    if type_name == "talks.offer_made":
        return f"{d['party']} offers talks to {d['counterparty']}"
    if type_name == "talks.position_stated":
        return f"{d['party']} states its position on talks with {d['counterparty']}"
    if type_name == "talks.proposal_made":
        return f"{d['proposer']} proposes terms ({_parties(d['parties'])})"
    if type_name == "talks.offer_rejected":
        return f"{d['party']} rejects an offer of talks"
    if type_name == "talks.ceasefire_declared":
        return f"{d['declared_by']} declares a ceasefire ({_parties(d['parties'])})"
    if type_name == "talks.round_held":
        return f"Talks in {d['place']} ({_parties(d['parties'])})"
    if type_name == "diplomacy.meeting_held":
        return f"{' and '.join(d['participants'])} meet in {d['place']}"
    if type_name == "diplomacy.statement_made":
        return f"Statement by {d['speaker']}"
    return type_name


def _details(data: dict[str, Any]) -> list[str]:
    parts = [f"<p>{_e(data[key])}</p>" for key in PARAGRAPHS if key in data]
    if "area_km2" in data:
        parts.append(f"<p>Area: {data['area_km2']:,} km²</p>")
    if "within" in data:
        parts.append(f"<p>Within {_e(data['within'])}</p>")
    if "preconditions" in data:
        listed = "; ".join(data["preconditions"])
        parts.append(f"<p>Preconditions: {_e(listed)}</p>" if listed else "<p>No preconditions.</p>")
    if data.get("terms"):
        parts.append("<ol>" + "".join(f"<li>{_e(term)}</li>" for term in data["terms"]) + "</ol>")
    if data.get("topics"):
        parts.append(f"<p>Topics: {_e('; '.join(data['topics']))}</p>")
    if "speaker" in data:
        parts.append(f"<p>Speaker: {_e(data['speaker'])}</p>")
    return parts


def source_html(source: dict[str, Any], reported_at: str | None) -> str:
    """Who reported it: the name (a link when the source has a url), its kind, when it
    published, and the quote."""
    name = _e(source["name"])
    if "url" in source:  # http or https only, checked on the way in
        name = f'<a href="{_e(source["url"])}">{name}</a>'
    line = f"Source: {name} ({_e(source['kind'].replace('_', ' '))})"
    if reported_at is not None:
        line += f", reported {_e(reported_at)}"
    found = f'<p class="tl-source">{line}</p>'
    if "quote" in source:
        found += f"<blockquote>{_e(source['quote'])}</blockquote>"
    return found


def slide(event: StoredEvent) -> dict[str, Any]:
    data = upcast(event.type, event.schema_version, event.data)
    parts = _details(data)
    if event.supersedes is not None:
        parts.append(f"<p>Corrects an earlier report ({_e(event.supersedes)}).</p>")
    parts.append(source_html(event.source, event.reported_at))
    found: dict[str, Any] = {
        "unique_id": event.id,
        "start_date": date_of(event.occurred_from, event.occurred_precision),
        "text": {"headline": _e(headline(event.type, data)), "text": "".join(parts)},
        "group": GROUPS.get(event.type.split(".", 1)[0], event.type.split(".", 1)[0]),
    }
    if event.type == "talks.ceasefire_declared" and "ends" in data:
        found["end_date"] = end_of_ceasefire(data["ends"])
    return found


def timeline(
    events: Sequence[StoredEvent], subjects: Sequence[str], known_at: str, position: int
) -> dict[str, Any]:
    """The TimelineJS document: a title slide, then a slide per event. `known_at` and
    `position` (the cut, as every state answer echoes it) are extra keys TimelineJS ignores."""
    count = f"{len(events)} development{'' if len(events) == 1 else 's'}"
    return {
        "title": {
            "text": {
                "headline": _e(", ".join(subjects)),
                "text": f"<p>{count}, as known at {_e(known_at)} (log position {position}).</p>",
            }
        },
        "events": [slide(event) for event in events],
        "known_at": known_at,
        "position": position,
    }
