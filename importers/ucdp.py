"""UCDP GED (the Georeferenced Event Dataset) CSV rows to `forces.clash_reported` events
by `ucdp`, field by field as docs/importers.md gives them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from importers.actors import country_of, party_of
from importers.common import Mapped, NotMapped, area_slug, day_of, event_id, period

DATASET = "ucdp-ged"
# type_of_violence: 1 state-based conflict, 2 non-state conflict, 3 one-sided violence.
VIOLENCE = {"1": "state-based", "2": "non-state", "3": "one-sided"}
# where_prec 6 (only the country is known) and 7 (international waters or airspace) name
# no region: such a row has no area.
NO_REGION = {"6", "7"}
SOURCE_NAME = "UCDP Georeferenced Event Dataset"


def _count(row: Mapping[str, str], key: str) -> int | None:
    text = (row.get(key) or "").strip()
    if not text:
        return None
    value = int(text)  # a ValueError is reported by map_row
    if value < 0:
        raise ValueError(f"{key} is negative ({value})")
    return value


def map_row(row: Mapping[str, str]) -> Mapped | NotMapped:
    row_id = (row.get("id") or "").strip()
    source_type = VIOLENCE.get((row.get("type_of_violence") or "").strip(), "unknown")

    def refuse(reason: str) -> NotMapped:
        return NotMapped(row_id, source_type, reason)

    if not row_id:
        return refuse("no id")
    if source_type == "one-sided":
        return refuse("one-sided violence is not a clash between parties")
    side_a, side_b = (row.get("side_a") or "").strip(), (row.get("side_b") or "").strip()
    parties = [party_of(side_a), party_of(side_b)]
    unknown = [name for name, party in zip((side_a, side_b), parties, strict=True) if party is None]
    if unknown:
        return refuse(f"actor not in the table: {unknown[0]}")
    if parties[0] == parties[1]:
        return refuse(f"both sides are {parties[0]}")
    if (row.get("where_prec") or "").strip() in NO_REGION:
        return refuse("located to no region (where_prec 6 or 7)")
    country = country_of(row.get("country") or "")
    if country is None:
        return refuse(f"country not in the table: {(row.get('country') or '').strip()}")
    area = area_slug(country, row.get("adm_1") or "")
    if area is None:
        return refuse("no adm_1")
    try:
        occurred_at = period(day_of(row.get("date_start") or ""), day_of(row.get("date_end") or ""))
        deaths = {key: value for key in ("best", "low", "high") if (value := _count(row, key)) is not None}
    except ValueError as exc:
        return refuse(str(exc))
    note = f"UCDP GED {row_id}"
    data: dict[str, Any] = {"area": area, "parties": parties, "claimant": "ucdp", "note": note}
    if deaths:
        data["deaths"] = deaths
    source: dict[str, Any] = {"name": SOURCE_NAME, "kind": "other"}
    article = (row.get("source_article") or "").strip()
    if article:
        source["quote"] = article[:2000]
    envelope = {
        # GED rows carry no version of their own: a row is its id.
        "id": event_id(DATASET, row_id, "1"),
        "type": "forces.clash_reported",
        "occurred_at": occurred_at,
        "source": source,
        "data": data,
    }
    return Mapped(row_id, source_type, envelope)
