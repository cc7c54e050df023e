"""What every importer shares: the outcome of mapping a row, deterministic ids, the area
slug rule and the period rule."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

# The namespace of every imported event id: uuid5(NAMESPACE, "dataset:row id:version").
NAMESPACE = uuid.UUID("5d3c1f0e-6a8b-5c4e-9f1a-2b7d8e9c0a11")


@dataclass(frozen=True)
class Mapped:
    """A row that became an envelope."""

    row_id: str
    source_type: str  # the dataset's own kind of row, for the report
    envelope: dict[str, Any]


@dataclass(frozen=True)
class NotMapped:
    """A row the mapping does not take, and why: reported, never guessed."""

    row_id: str
    source_type: str
    reason: str


@dataclass(frozen=True)
class Known:
    """A row whose version the log already holds (`already_stored`) or has a newer version
    of (`outdated`): nothing to write."""

    row_id: str
    source_type: str
    outcome: str


Outcome = Mapped | NotMapped | Known


class RowImporter(Protocol):
    """Maps a dataset's rows, in file order, each to the outcomes it gives (a row of a
    living dataset may give a retraction and a new event)."""

    def map_row(self, row: Mapping[str, str]) -> list[Outcome]: ...

    def refused(self, row_id: str) -> None:
        """The catalog refused what the last row gave: forget any state it changed."""


class EachRowAlone:
    """A dataset whose rows map one by one, with no memory (UCDP GED)."""

    def __init__(self, map_one: Callable[[Mapping[str, str]], Mapped | NotMapped]) -> None:
        self.map_one = map_one

    def map_row(self, row: Mapping[str, str]) -> list[Outcome]:
        return [self.map_one(row)]

    def refused(self, row_id: str) -> None:
        pass


def event_id(dataset: str, row_id: str, version: str) -> str:
    """The same row of the same version gives the same id on every run: a re-run stores
    nothing twice."""
    return str(uuid.uuid5(NAMESPACE, f"{dataset}:{row_id}:{version}"))


def slug(text: str) -> str:
    """The documented slug rule: accents dropped, lowercase, every run of characters other
    than letters and digits one hyphen, none at either end ("Kursk oblast" -> kursk-oblast,
    "Zaporiz'ka" -> zaporiz-ka)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


def area_slug(country: str, region: str) -> str | None:
    """`{country}-{slug(region)}` (ru-kursk-oblast), None when the region has no slug; cut
    to the catalog's 80 characters."""
    region_slug = slug(region)
    if not region_slug:
        return None
    return f"{country}-{region_slug}"[:80].rstrip("-")


def period(first: date, last: date) -> str:
    """The smallest precision whose window holds first..last: a day, a month or a year
    (raises ValueError for a span over years, which no precision holds)."""
    if last < first:
        raise ValueError(f"ends ({last}) before it starts ({first})")
    if first == last:
        return first.isoformat()
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.year:04d}-{first.month:02d}"
    if first.year == last.year:
        return f"{first.year:04d}"
    raise ValueError(f"spans years ({first} to {last}): no precision holds it")


def day_of(text: str) -> date:
    """A dataset's date, `YYYY-MM-DD` with or without a time after it."""
    return date.fromisoformat(text.strip()[:10])
