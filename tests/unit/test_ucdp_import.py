"""The UCDP GED mapping (docs/importers.md), one rule a test, on tests/samples/ucdp_ged.csv."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from events.drafts import draft_from_json
from importers.common import Mapped, NotMapped, area_slug, event_id, period, slug
from importers.ucdp import map_row

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "ucdp_ged.csv"


def outcomes() -> dict[str, Mapped | NotMapped]:
    with SAMPLE.open(encoding="utf-8", newline="") as handle:
        return {row["id"]: map_row(row) for row in csv.DictReader(handle)}


def mapped(row_id: str) -> Mapped:
    found = outcomes()[row_id]
    assert isinstance(found, Mapped), found
    draft_from_json(found.envelope)  # the catalog takes it
    return found


def not_mapped(row_id: str) -> NotMapped:
    found = outcomes()[row_id]
    assert isinstance(found, NotMapped), found
    return found


def test_a_state_based_row_is_a_clash_by_ucdp_with_its_deaths_and_its_article() -> None:
    envelope = mapped("501").envelope
    assert envelope["type"] == "forces.clash_reported"
    assert envelope["data"] == {
        "area": "ru-kursk-oblast",
        "parties": ["ru", "ua"],
        "claimant": "ucdp",
        "note": "UCDP GED 501",
        "deaths": {"best": 3, "low": 2, "high": 5},
    }
    assert envelope["occurred_at"] == "2024-08-10"
    assert envelope["source"]["quote"] == 'Reuters, 2024-08-11, "Fighting near Sudzha"'


def test_occurred_at_is_the_smallest_precision_that_holds_the_dates() -> None:
    assert mapped("502").envelope["occurred_at"] == "2024-09"  # within one month
    assert mapped("503").envelope["occurred_at"] == "2024"  # across months of one year
    assert "spans years" in not_mapped("504").reason
    assert period(date(2024, 2, 29), date(2024, 2, 29)) == "2024-02-29"


def test_blank_deaths_leave_the_key_out() -> None:
    assert "deaths" not in mapped("503").envelope["data"]


def test_one_sided_violence_unknown_actors_and_no_region_are_reported_not_guessed() -> None:
    assert not_mapped("505").source_type == "one-sided"
    assert not_mapped("506").reason == "actor not in the table: Government of Israel"
    assert "no region" in not_mapped("507").reason


def test_the_area_slug_rule() -> None:
    assert mapped("508").envelope["data"]["area"] == "ua-zaporiz-ka-oblast"
    assert slug("  Kyiv City ") == "kyiv-city" and slug("Žytomyr") == "zytomyr"
    assert area_slug("ua", "—") is None
    assert len(area_slug("ua", "x" * 200) or "") == 80


def test_the_actor_table_names_north_korea() -> None:
    assert mapped("509").envelope["data"]["parties"] == ["kp", "ua"]


def test_ids_are_the_same_on_every_run_and_differ_by_row_and_version() -> None:
    assert mapped("501").envelope["id"] == mapped("501").envelope["id"] == event_id("ucdp-ged", "501", "1")
    assert event_id("ucdp-ged", "501", "1") != event_id("ucdp-ged", "501", "2")
    assert event_id("ucdp-ged", "501", "1") != event_id("acled", "501", "1")


@pytest.mark.parametrize(("first", "last"), [("2024-05-02", "2024-05-01")])
def test_a_period_that_ends_before_it_starts_is_refused(first: str, last: str) -> None:
    with pytest.raises(ValueError, match="before it starts"):
        period(date.fromisoformat(first), date.fromisoformat(last))
