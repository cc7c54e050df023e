"""The state answer assembled from the read model's selection, as JSON text: the fast path.

The reducers folded over the log are the specification (`projections/state.py`); this
builds the same answer from the events a read model selected (the newest counting
event per slot, and every counting event of the kinds every one of which is shown),
from their items rendered once (`stored_items`), without folding or parsing. The
read-model property tests prove the two equal.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence, Set
from typing import NamedTuple

from projections import talks, territory
from projections.stored_items import JSON, render
from projections.windows import NO_WINDOW, WINDOWED, Window

# Kinds of which every counting event is shown; of every other kind, the newest per slot.
EVERY_ONE = ("clash_reported", "proposal_made", "ceasefire_declared", "round_held", "meeting_held")
LIST_OF = {
    "control_claimed": "claims",
    "claim_denied": "denials",
    "assessed": "assessments",
    "involvement_reported": "forces",
    "clash_reported": "clashes",
    "offer_made": "offers",
    "proposal_made": "proposals",
    "ceasefire_declared": "ceasefires",
    "round_held": "rounds",
    "position_stated": "positions",
    "meeting_held": "meetings",
    "statement_made": "statements",
}


class Selected(NamedTuple):
    """One selected row of the read model with its event's stored item (a tuple: answers
    select thousands, and a named tuple is made from a database row at no cost)."""

    scope: str
    kind: str
    slot: str
    valid_from: str
    position: int
    event_id: str | None  # None for a rejection, which shows no item
    last_instant: str | None
    item: str | None
    control: str | None
    within: str | None
    starts: str | None
    ends: str | None

    @property
    def order(self) -> tuple[str, int]:
        return (self.valid_from, self.position)


def _items(rows: Iterable[Selected], as_of: str) -> str:
    """A state list: ordered by (since, position). Rows shown always carry their item."""
    ordered = sorted(rows, key=lambda r: r.order)
    return (
        "["
        + ",".join(render(r.item or "", r.last_instant or "", r.event_id or "", as_of) for r in ordered)
        + "]"
    )


def _by_kind(rows: Iterable[Selected]) -> dict[str, list[Selected]]:
    found: dict[str, list[Selected]] = defaultdict(list)
    for row in rows:
        found[row.kind].append(row)
    return found


def area(rows: Sequence[Selected], as_of: str) -> str | None:
    """One area (`territory.render`), or None when it has nothing to show."""
    kinds = _by_kind(rows)
    claims = kinds["control_claimed"]
    newest_claim = {r.slot: r.order for r in claims}
    # A denial stands until its party makes a newer claim for the area.
    denials = [
        d for d in kinds["claim_denied"] if d.slot not in newest_claim or newest_claim[d.slot] < d.order
    ]
    assessments, forces = kinds["assessed"], kinds["involvement_reported"]
    start = territory.clashes_from(as_of)
    clashes = [r for r in kinds["clash_reported"] if start <= r.valid_from <= as_of]
    if not (claims or denials or assessments or forces or clashes):
        return None
    controls = {r.control for r in claims} | {r.control for r in assessments}
    if not controls:
        status = "unknown"
    elif len(controls) == 1 and not denials:
        status = "uncontested"
    else:
        status = "contested"
    setting = max(kinds["within"], key=lambda r: r.order, default=None)
    return (
        f'{{"status":"{status}","claims":{_items(claims, as_of)},"denials":{_items(denials, as_of)},'
        f'"assessments":{_items(assessments, as_of)},"forces":{_items(forces, as_of)},'
        f'"clashes":{_items(clashes, as_of)},'
        f'"within":{JSON.encode(setting.within if setting else None)}}}'
    )


def _windowed(name: str, rows: Sequence[Selected], as_of: str, window: Window, more: list[str]) -> str:
    if not window.given or name not in WINDOWED:
        return _items(rows, as_of)
    kept, shortened = window.cut(sorted(rows, key=lambda r: r.order), lambda r: r.valid_from)
    if shortened:
        more.append(name)
    return _items(kept, as_of)


def _more(window: Window, more: list[str]) -> str:
    return "," + '"more":{' + ",".join(f'"{name}":true' for name in more) + "}" if window.given else ""


def track(
    rows: Sequence[Selected], as_of: str, window: Window = NO_WINDOW, present: Set[str] = frozenset()
) -> str | None:
    """One talks track (`talks.render`), or None when it has nothing to show. `present`: the
    kinds shown in full that have a counting event though the window's bounds left it out
    of `rows` (the status and whether the track appears are the full answer's)."""
    kinds = _by_kind(rows)
    rejected = {r.slot for r in kinds["offer_rejected"]}
    offers = [r for r in kinds["offer_made"] if r.event_id not in rejected]
    in_force = [
        r
        for r in kinds["ceasefire_declared"]
        if (r.starts or "") <= as_of and (r.ends is None or as_of < r.ends)
    ]
    proposals, rounds, positions = kinds["proposal_made"], kinds["round_held"], kinds["position_stated"]
    any_proposal = bool(proposals) or "proposal_made" in present
    any_in_force = bool(in_force) or "ceasefire_declared" in present
    any_round = bool(rounds) or "round_held" in present
    if not (offers or any_proposal or any_in_force or any_round or positions):
        return None
    status = talks.status(bool(offers), any_proposal, any_in_force, any_round)
    more: list[str] = []
    lists = [
        ("offers", offers),
        ("proposals", proposals),
        ("ceasefires", in_force),
        ("rounds", rounds),
        ("positions", positions),
    ]
    body = ",".join(f'"{name}":{_windowed(name, shown, as_of, window, more)}' for name, shown in lists)
    return f'{{"status":"{status}",{body}{_more(window, more)}}}'


def diplomacy(rows: Sequence[Selected], as_of: str, window: Window = NO_WINDOW) -> str:
    """The diplomacy part (`diplomacy.render`)."""
    kinds = _by_kind(rows)
    more: list[str] = []
    meetings = _windowed("meetings", kinds["meeting_held"], as_of, window, more)
    statements = _windowed("statements", kinds["statement_made"], as_of, window, more)
    return f'{{"meetings":{meetings},"statements":{statements}{_more(window, more)}}}'


def scoped(rows: Iterable[Selected]) -> dict[str, list[Selected]]:
    """Rows by area or track, in name order."""
    found: dict[str, list[Selected]] = defaultdict(list)
    for row in rows:
        found[row.scope].append(row)
    return dict(sorted(found.items()))


def shown_map(parts: Iterable[tuple[str, str | None]]) -> str:
    """`{"name": shown, ...}` of the areas or tracks that have something to show."""
    return "{" + ",".join(f"{JSON.encode(name)}:{shown}" for name, shown in parts if shown is not None) + "}"


__all__ = ["EVERY_ONE", "LIST_OF", "Selected", "area", "diplomacy", "scoped", "shown_map", "track"]


def history(rows: Sequence[Selected]) -> str:
    """One area's intervals over valid time (`history.intervals`), as JSON: from every row
    of the area in effect at known_at. The answer can change only where an event begins,
    where an item shown stops being tentative, or where a clash leaves the window; it is
    assembled at those instants alone, and an interval is kept where it differs from the
    one before (an instant at which the area shows nothing ends the interval before)."""
    events: dict[int, list[Selected]] = defaultdict(list)
    for row in rows:
        events[row.position].append(row)
    ordered = sorted(events.values(), key=lambda group: group[0].order)
    leaving = territory.leaving_instants(r.valid_from for r in rows if r.kind == "clash_reported")
    instants = sorted({r.valid_from for r in rows} | {r.last_instant or r.valid_from for r in rows} | leaving)
    # The newest row per slot; each row of a kind every one of which is shown (a clash).
    newest: dict[tuple[str, str | int], Selected] = {}
    # (valid_from, the area's JSON or None where it shows nothing: a gap)
    found: list[tuple[str, str | None]] = []
    applied = 0
    for instant in instants:
        changed = False
        while applied < len(ordered) and ordered[applied][0].valid_from <= instant:
            for row in ordered[applied]:
                newest[(row.kind, row.position if row.kind in EVERY_ONE else row.slot)] = row
            applied += 1
            changed = True
        if (
            not changed
            and instant not in leaving
            and not any(r.last_instant == instant for r in newest.values())
        ):
            continue
        shown = area(list(newest.values()), instant)
        if (found and found[-1][1] == shown) or (shown is None and not found):
            continue
        found.append((instant, shown))
    parts = []
    for index, (valid_from, shown) in enumerate(found):
        if shown is None:
            continue
        until = JSON.encode(found[index + 1][0]) if index + 1 < len(found) else "null"
        parts.append(f'{{"valid_from":"{valid_from}","valid_until":{until},{shown[1:]}')
    return "[" + ",".join(parts) + "]"
