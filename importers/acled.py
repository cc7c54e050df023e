"""ACLED CSV rows (and its deletions files) to events, field by field as docs/importers.md
gives them.

ACLED is a living dataset: a row keeps its `event_id_cnty` and gets a newer `timestamp`
when it is recoded, and deleted rows are published in a separate file. So the mapping is
not one row to one event: it keeps a ledger, per ACLED row, of the version imported and
the event now in effect for it, built from the log (`Ledger.add`) and updated row by row,
so that a newer version supersedes (or, when its type changed, retracts and replaces) the
event of the older one and a deletion retracts it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from importers.actors import country_of, country_of_iso, party_of
from importers.common import Known, Mapped, NotMapped, Outcome, area_slug, event_id, period

DATASET = "acled"
SOURCE_NAME = "ACLED (Armed Conflict Location & Event Data)"
# Every event the importer writes names its row and version first, in `data.note` or, for a
# retraction, in `data.reason`: that is how a later run finds what an earlier one stored.
MARK = re.compile(r"^ACLED (?P<row>[^,\s]+), (?P<kind>version|deleted) (?P<ts>\d+)")
ROW_ID = re.compile(r"^[^,\s]+$")  # what the mark can name
LAST_TIMESTAMP = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second a date can hold
BODY_MARK = '"ACLED '  # a cheap test before a stored event is parsed

TERRITORY = {
    "Government regains territory",
    "Non-state actor overtakes territory",
    "Non-violent transfer of territory",
}
CLASH = "Armed clash"
AGREEMENT = "Agreement"
CORRECTED = "its earlier event was corrected in the log since it was imported"
RECODED = "recoded (retraction)"  # the report's source type of a retraction for a recoded row

# time_precision: 1 the date itself; 2 a week (or weekend) the coded date lies in;
# 3 only the month (the coded date is within it). A week is kept as the smallest period
# that holds every day within three of the coded date (a month, or a year near a month's
# edge): no precision of the envelope is a week, and a narrower one would claim more than
# ACLED knows.
WEEK_REACH = timedelta(days=3)


@dataclass
class Entry:
    """What the log holds for one ACLED row."""

    version: int  # the newest timestamp imported for the row (a version or a deletion)
    live: tuple[str, str] | None  # (event id, type) in effect for the row, None if retracted


@dataclass
class Ledger:
    rows: dict[str, Entry] = field(default_factory=dict)

    def add(self, event_id_: str, type_: str, data: Mapping[str, Any]) -> None:
        """Take one stored event, in log order; events the importer did not write are
        ignored."""
        text = data.get("reason" if type_ == "event.retracted" else "note")
        found = MARK.match(text) if isinstance(text, str) else None
        if found is None:
            return
        row, version = found["row"], int(found["ts"])
        # Only the importer's own events count: a hand correction that kept the note (the
        # viewer's editor starts from the event's data) carries the mark but not our id.
        if type_ == "event.retracted":
            own = event_id(
                DATASET, row, f"{version}-{'deleted' if found['kind'] == 'deleted' else 'recoded'}"
            )
        else:
            own = event_id(DATASET, row, str(version))
        if event_id_ != own:
            return
        entry = self.rows.get(row)
        if type_ == "event.retracted":
            if entry is not None and entry.live is not None and entry.live[0] == data.get("target_event_id"):
                entry.live = None
            if entry is not None:
                entry.version = max(entry.version, version)
            return
        if entry is None:
            self.rows[row] = Entry(version, (event_id_, type_))
        elif version >= entry.version:
            entry.version, entry.live = version, (event_id_, type_)


def _day(text: str) -> date:
    """ACLED's event_date: `2025-04-26` (today's exports) or `26 April 2025` (older ones)."""
    text = text.strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return datetime.strptime(text, "%d %B %Y").date()


def occurred_at(event_date: str, time_precision: str) -> str:
    day = _day(event_date)
    precision = time_precision.strip()
    if precision == "1":
        return day.isoformat()
    if precision == "2":
        return period(day - WEEK_REACH, day + WEEK_REACH)
    if precision == "3":
        return f"{day.year:04d}-{day.month:02d}"
    raise ValueError(f"time_precision {precision or '(blank)'} is not 1, 2 or 3")


def _version_of(text: str | None) -> int | None:
    """A `timestamp` (seconds since 1970): None when blank, not a number, or out of range."""
    try:
        version = int((text or "").strip())
    except ValueError:
        return None
    return version if 0 <= version <= LAST_TIMESTAMP else None


def _day_of_timestamp(version: int) -> str:
    return datetime.fromtimestamp(version, UTC).date().isoformat()


class AcledImporter:
    """Maps rows in file order. `is_corrected(event_id)` says whether someone other than
    the importer has corrected an event since it was imported: such an event is left as it
    is and the row reported, never fought over."""

    def __init__(self, ledger: Ledger, is_corrected: Callable[[str], bool] = lambda _: False) -> None:
        self.ledger = ledger
        self.is_corrected = is_corrected
        self._undo: tuple[str, Entry | None] | None = None

    def map_row(self, row: Mapping[str, str]) -> list[Outcome]:
        if "deleted_timestamp" in row:
            return self._deletion(row)
        return self._version(row)

    def refused(self, row_id: str) -> None:
        """The catalog refused what the last row mapped to: forget it in the ledger, so
        that the next version of the row does not point at an event that was not stored."""
        if self._undo is not None and self._undo[0] == row_id:
            previous = self._undo[1]
            if previous is None:
                self.ledger.rows.pop(row_id, None)
            else:
                self.ledger.rows[row_id] = previous
        self._undo = None

    def _remember(self, row_id: str) -> None:
        entry = self.ledger.rows.get(row_id)
        self._undo = (row_id, None if entry is None else Entry(entry.version, entry.live))

    def _version(self, row: Mapping[str, str]) -> list[Outcome]:
        row_id = (row.get("event_id_cnty") or "").strip()
        source_type = f"{(row.get('event_type') or '').strip()} / {(row.get('sub_event_type') or '').strip()}"
        if not ROW_ID.match(row_id):
            return [NotMapped(row_id, source_type, "no event_id_cnty (or one with a space or comma)")]
        version = _version_of(row.get("timestamp"))
        if version is None:
            return [NotMapped(row_id, source_type, "no timestamp (the row's version), or one out of range")]
        entry = self.ledger.rows.get(row_id)
        if entry is not None and version < entry.version:
            return [Known(row_id, source_type, "outdated")]
        if entry is not None and version == entry.version:
            return [Known(row_id, source_type, "already_stored")]
        self._remember(row_id)
        mapped = self._envelope(row, row_id, source_type, version)
        live = entry.live if entry is not None else None
        if live is not None and self.is_corrected(live[0]):
            return [NotMapped(row_id, source_type, CORRECTED)]
        outcomes: list[Outcome] = []
        if isinstance(mapped, NotMapped):
            if live is None or not self._left_the_catalog(row):
                # A gap in our own tables (an actor, a blank cell) says nothing about the
                # row: the earlier event stays, and the row is reported.
                self._undo = None
                return [mapped]
            # The row was recoded into something the catalog has no type for: the earlier
            # event no longer stands for anything in ACLED.
            reason = (
                f"ACLED {row_id}, version {version}: recoded as {source_type}, "
                f"which is not imported ({mapped.reason})"
            )
            outcomes.append(self._retraction(row_id, RECODED, live[0], f"{version}-recoded", version, reason))
            self.ledger.rows[row_id] = Entry(version, None)
            return outcomes
        envelope = mapped.envelope
        if live is not None and live[1] == envelope["type"]:
            envelope["supersedes"] = live[0]
        elif live is not None:
            # A superseding event must have its target's type: a row recoded to another
            # type retracts the old event and stands anew.
            reason = (
                f"ACLED {row_id}, version {version}: recoded as {source_type}; replaced by {envelope['id']}"
            )
            outcomes.append(self._retraction(row_id, RECODED, live[0], f"{version}-recoded", version, reason))
        outcomes.append(mapped)
        self.ledger.rows[row_id] = Entry(version, (envelope["id"], envelope["type"]))
        return outcomes

    def _deletion(self, row: Mapping[str, str]) -> list[Outcome]:
        row_id = (row.get("event_id_cnty") or "").strip()
        source_type = "deletion"
        version = _version_of(row.get("deleted_timestamp"))
        if version is None:
            return [NotMapped(row_id, source_type, "no deleted_timestamp, or one out of range")]
        entry = self.ledger.rows.get(row_id)
        if entry is None:
            return [NotMapped(row_id, source_type, "deletes a row that was never imported")]
        if version < entry.version:
            return [Known(row_id, source_type, "outdated")]
        if version == entry.version or entry.live is None:
            return [Known(row_id, source_type, "already_stored")]
        if self.is_corrected(entry.live[0]):
            return [NotMapped(row_id, source_type, CORRECTED)]
        self._remember(row_id)
        day = _day_of_timestamp(version)
        reason = f"ACLED {row_id}, deleted {version}: removed from the dataset on {day}"
        target = entry.live[0]
        retraction = self._retraction(row_id, source_type, target, f"{version}-deleted", version, reason)
        self.ledger.rows[row_id] = Entry(version, None)
        return [retraction]

    def _retraction(
        self, row_id: str, source_type: str, target: str, id_version: str, version: int, reason: str
    ) -> Mapped:
        envelope = {
            "id": event_id(DATASET, row_id, id_version),
            "type": "event.retracted",
            "occurred_at": _day_of_timestamp(version),
            "source": {"name": SOURCE_NAME, "kind": "other"},
            "data": {"target_event_id": target, "reason": reason[:2000]},
        }
        return Mapped(row_id, source_type, envelope)

    @staticmethod
    def _left_the_catalog(row: Mapping[str, str]) -> bool:
        sub_event = (row.get("sub_event_type") or "").strip()
        return sub_event not in TERRITORY and sub_event not in (CLASH, AGREEMENT)

    def _envelope(
        self, row: Mapping[str, str], row_id: str, source_type: str, version: int
    ) -> Mapped | NotMapped:
        def refuse(reason: str) -> NotMapped:
            return NotMapped(row_id, source_type, reason)

        sub_event = (row.get("sub_event_type") or "").strip()
        if self._left_the_catalog(row):
            return refuse(f"{source_type}: no type in the catalog")
        actors = [(row.get(key) or "").strip() for key in ("actor1", "actor2")]
        parties = [party_of(actor) if actor else None for actor in actors]
        if parties[0] is None:
            return refuse(f"actor not in the table: {actors[0] or '(blank actor1)'}")
        country = country_of_iso(row.get("iso") or "") or country_of(row.get("country") or "")
        if country is None:
            return refuse(f"country not in the table: iso {(row.get('iso') or '').strip()}")
        try:
            when = occurred_at(row.get("event_date") or "", row.get("time_precision") or "")
        except ValueError as exc:
            return refuse(str(exc))
        sources = (row.get("source") or "").strip()
        scale = (row.get("source_scale") or "").strip()
        location = (row.get("location") or "").strip()
        note = f"ACLED {row_id}, version {version}. At {location or 'an unnamed place'}."
        note += f" Sources: {sources or 'none named'}"
        note += f" ({scale})." if scale else "."
        source: dict[str, Any] = {"name": SOURCE_NAME, "kind": "other"}
        notes = (row.get("notes") or "").strip()
        if notes:
            source["quote"] = notes[:2000]
        data: dict[str, Any]
        if sub_event == AGREEMENT:
            if parties[1] is None or parties[1] == parties[0]:
                return refuse("an agreement needs two parties in the table")
            place = area_slug(country, location) or area_slug(country, row.get("admin1") or "")
            if place is None:
                return refuse("no location or admin1")
            type_ = "talks.round_held"
            data = {"parties": [parties[0], parties[1]], "place": place, "outcome": "An agreement (ACLED)."}
        else:
            area = area_slug(country, row.get("admin1") or "")
            if area is None:
                return refuse("no admin1")
            if sub_event == CLASH:
                if parties[1] is None:
                    return refuse(f"actor not in the table: {actors[1] or '(blank actor2)'}")
                if parties[1] == parties[0]:
                    return refuse(f"both actors are {parties[0]}")
                type_ = "forces.clash_reported"
                data = {"area": area, "parties": [parties[0], parties[1]], "claimant": "acled"}
                fatalities = (row.get("fatalities") or "").strip()
                if fatalities:
                    if not (fatalities.isascii() and fatalities.isdigit()):
                        return refuse(f"fatalities is not a whole number >= 0 ({fatalities})")
                    data["deaths"] = {"best": int(fatalities)}
            else:
                # ACLED codes a place taken, within admin1: the actor holds part of it.
                type_ = "territory.assessed"
                data = {"area": area, "assessor": "acled", "controller": parties[0], "extent": "partial"}
        data["note"] = note[:2000]
        envelope = {
            "id": event_id(DATASET, row_id, str(version)),
            "type": type_,
            "occurred_at": when,
            "source": source,
            "data": data,
        }
        return Mapped(row_id, source_type, envelope)
