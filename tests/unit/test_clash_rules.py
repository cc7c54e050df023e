"""`forces.clash_reported` (docs/api.md §7): an area lists the clashes whose occurred_from
lies in the 30 days up to as_of, both ends included, by (since, position)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from events.types import ClashReported
from projections.history import intervals
from tests.unit.state_log import Log, ids

AREA = "ru-kursk-oblast"
BEGINS = "2025-04-01T00:00:00Z"  # the clash's instant
LAST_IN = "2025-05-01T00:00:00Z"  # 30 days later: its last instant in the list
FIRST_OUT = "2025-05-01T00:00:00.000001Z"


def test_a_clash_is_listed_from_the_instant_it_begins() -> None:
    log = Log()
    clash = log.clash(AREA, ["ru", "ua"], occurred_at=BEGINS, deaths={"best": 3})
    assert log.area(AREA, "2025-03-31T23:59:59.999999Z") is None
    shown = log.area(AREA, BEGINS)
    assert shown["clashes"] == [
        {
            "parties": ["ru", "ua"],
            "claimant": "acled",
            "deaths": {"best": 3},
            "note": None,
            "speaker": None,
            "since": "2025-04-01T00:00:00.000000Z",
            "tentative": False,
            "event_id": clash.id,
        }
    ]


def test_the_window_holds_30_days_up_to_as_of_both_ends_included() -> None:
    log = Log()
    clash = log.clash(AREA, ["ru", "ua"], occurred_at=BEGINS)
    assert ids(log.area(AREA, LAST_IN)["clashes"]) == [clash.id]
    assert log.area(AREA, FIRST_OUT) is None  # nothing else to show: the area is gone


def test_an_old_clash_leaves_the_list_but_the_area_keeps_its_claims() -> None:
    log = Log()
    log.claim(AREA, "ru", occurred_at="2025-01-01")
    log.clash(AREA, ["ru", "ua"], occurred_at=BEGINS)
    shown = log.area(AREA, FIRST_OUT)
    assert shown["clashes"] == [] and shown["status"] == "uncontested"


def test_clashes_are_listed_by_since_then_position_and_do_not_change_the_status() -> None:
    log = Log()
    late = log.clash(AREA, ["ru", "ua"], occurred_at="2025-04-10")
    early = log.clash(AREA, ["ru", "kp", "ua"], claimant="ucdp", occurred_at="2025-04-02")
    tie = log.clash(AREA, ["ru", "ua"], claimant="ua", occurred_at="2025-04-10")
    shown = log.area(AREA, "2025-04-20")
    assert ids(shown["clashes"]) == [early.id, late.id, tie.id]
    assert shown["status"] == "unknown"


def test_a_clash_reported_for_a_day_is_tentative_until_that_day_ends() -> None:
    log = Log()
    log.clash(AREA, ["ru", "ua"], occurred_at="2025-04-01")
    assert log.area(AREA, "2025-04-01T12:00:00Z")["clashes"][0]["tentative"] is True
    assert log.area(AREA, "2025-04-01")["clashes"][0]["tentative"] is False


def test_a_superseded_clash_shows_its_correction_and_a_retracted_one_nothing() -> None:
    log = Log()
    first = log.clash(AREA, ["ru", "ua"], occurred_at=BEGINS, deaths={"best": 3})
    fixed = log.clash(AREA, ["ru", "ua"], occurred_at=BEGINS, supersedes=first.id, deaths={"best": 30})
    shown = log.area(AREA, LAST_IN)["clashes"]
    assert ids(shown) == [fixed.id] and shown[0]["deaths"] == {"best": 30}
    assert ids(log.area(AREA, LAST_IN, known_at=first)["clashes"]) == [first.id]
    other = log.clash(AREA, ["ru", "ua"], occurred_at=BEGINS)
    log.retraction(other)
    assert ids(log.area(AREA, LAST_IN)["clashes"]) == [fixed.id]


def test_a_correction_that_moves_a_clash_moves_its_window() -> None:
    log = Log()
    first = log.clash(AREA, ["ru", "ua"], occurred_at=BEGINS)
    log.clash(AREA, ["ru", "ua"], occurred_at="2025-04-15", supersedes=first.id)
    assert log.area(AREA, FIRST_OUT) is not None
    assert log.area(AREA, "2025-05-16") is None


def test_history_ends_an_interval_where_the_last_clash_leaves() -> None:
    log = Log()
    log.clash(AREA, ["ru", "ua"], occurred_at=BEGINS)
    log.clash(AREA, ["ru", "ua"], occurred_at="2025-06-01T00:00:00Z")
    found = intervals(log.facts)
    spans = [(i["valid_from"], i["valid_until"], len(i["clashes"])) for i in found]
    assert spans == [
        ("2025-04-01T00:00:00.000000Z", "2025-05-01T00:00:00.000001Z", 1),
        ("2025-06-01T00:00:00.000000Z", "2025-07-01T00:00:00.000001Z", 1),
    ]


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"parties": ["ru"]}, "parties"),
        ({"parties": ["ru", "ru"]}, "parties"),
        ({"deaths": {"best": -1}}, "deaths"),
        ({"deaths": {"low": 5, "best": 3}}, "deaths"),
        ({"deaths": {"best": 5, "high": 3}}, "deaths"),
        ({"deaths": {"low": 5, "high": 3}}, "deaths"),
        ({"deaths": {"best": 1.5}}, "deaths"),
        ({"deaths": {"median": 1}}, "deaths"),
    ],
)
def test_the_catalog_refuses_what_a_clash_cannot_be(data: dict[str, object], where: str) -> None:
    valid = {"area": AREA, "parties": ["ru", "ua"], "claimant": "ucdp"}
    with pytest.raises(ValidationError) as refused:
        ClashReported.model_validate({**valid, **data})
    assert refused.value.errors()[0]["loc"][0] == where


def test_the_catalog_takes_any_part_of_the_deaths_in_order() -> None:
    for deaths in ({}, {"best": 0}, {"low": 1, "high": 1}, {"low": 1, "best": 2, "high": 9}):
        data = {"area": AREA, "parties": ["ru", "ua"], "claimant": "ucdp", "deaths": deaths}
        ClashReported.model_validate(data)
