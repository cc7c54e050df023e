"""What changed between two state answers (projections/changes.py), rule by rule."""

from __future__ import annotations

from typing import Any

from projections.changes import entry_changes, list_changes, part_changes, state_changes


def item(event_id: str, since: str = "2025-01-01T00:00:00.000000Z", **fields: Any) -> dict[str, Any]:
    return {"claimant": "ru", **fields, "since": since, "tentative": False, "event_id": event_id}


def area(
    status: str = "contested", within: str | None = None, **lists: list[dict[str, Any]]
) -> dict[str, Any]:
    shown: dict[str, Any] = {"status": status, "claims": [], "denials": [], "assessments": [], "forces": []}
    return {**shown, **lists, "within": within}


def test_an_item_only_in_the_later_answer_is_added_and_one_only_in_the_earlier_is_removed() -> None:
    found = list_changes([item("a"), item("b")], [item("b"), item("c")])
    assert found == {"added": [item("c")], "removed": [item("a")], "changed": []}


def test_items_are_the_same_item_when_they_come_from_the_same_event() -> None:
    before, after = item("a", controller="ru"), item("a", controller="ua")
    assert list_changes([before], [after]) == {
        "added": [],
        "removed": [],
        "changed": [{"from": before, "to": after}],
    }


def test_an_item_that_stops_being_tentative_is_changed_not_added() -> None:
    before = {**item("a"), "tentative": True}
    found = list_changes([before], [item("a")])
    assert (
        found["changed"] == [{"from": before, "to": item("a")}]
        and not found["added"]
        and not found["removed"]
    )


def test_each_list_keeps_its_answer_order() -> None:
    later = [item("c", "2025-01-01T00:00:00.000000Z"), item("a", "2025-02-01T00:00:00.000000Z")]
    assert [i["event_id"] for i in list_changes([], later)["added"]] == ["c", "a"]
    assert [i["event_id"] for i in list_changes(later, [])["removed"]] == ["c", "a"]


def test_status_and_within_are_compared_as_values() -> None:
    found = entry_changes(area("uncontested", within="x"), area("contested", within="y"))
    assert found is not None
    assert found["status"] == {"from": "uncontested", "to": "contested"}
    assert found["within"] == {"from": "x", "to": "y"}


def test_an_area_with_no_difference_is_left_out() -> None:
    same = area(claims=[item("a")])
    assert entry_changes(same, dict(same)) is None
    assert part_changes("territory", {"areas": {"x": same}}, {"areas": {"x": same}}) == {"areas": {}}


def test_an_area_new_in_the_later_answer_comes_from_null() -> None:
    later = area("uncontested", within="parent", claims=[item("a")])
    found = part_changes("territory", {"areas": {}}, {"areas": {"x": later}})["areas"]["x"]
    assert found["status"] == {"from": None, "to": "uncontested"}
    assert found["within"] == {"from": None, "to": "parent"}
    assert found["added"] == {"claims": [item("a")]}
    assert found["removed"] == {} and found["changed"] == {}


def test_an_area_gone_from_the_later_answer_goes_to_null() -> None:
    earlier = area("contested", claims=[item("a")], denials=[item("d")])
    found = part_changes("territory", {"areas": {"x": earlier}}, {"areas": {}})["areas"]["x"]
    assert found["status"] == {"from": "contested", "to": None}
    assert "within" not in found  # null in both
    assert found["removed"] == {"claims": [item("a")], "denials": [item("d")]}


def test_lists_with_nothing_to_say_are_left_out_of_an_area() -> None:
    found = entry_changes(
        area(claims=[item("a")], forces=[item("f")]), area(claims=[item("b")], forces=[item("f")])
    )
    assert found is not None
    assert set(found["added"]) == {"claims"} and set(found["removed"]) == {"claims"}
    assert "status" not in found


def test_a_track_has_status_but_no_within() -> None:
    track = {
        "status": "offered",
        "offers": [item("o")],
        "proposals": [],
        "ceasefires": [],
        "rounds": [],
        "positions": [],
    }
    later = {**track, "status": "ceasefire", "ceasefires": [item("c")]}
    found = part_changes("talks", {"tracks": {"ru-ua": track}}, {"tracks": {"ru-ua": later}})["tracks"][
        "ru-ua"
    ]
    assert found["status"] == {"from": "offered", "to": "ceasefire"}
    assert "within" not in found
    assert found["added"] == {"ceasefires": [item("c")]}


def test_diplomacy_is_one_entry_and_always_answers() -> None:
    before = {"meetings": [item("m1")], "statements": [item("s1")]}
    after = {"meetings": [item("m1"), item("m2")], "statements": [item("s2")]}
    found = part_changes("diplomacy", before, after)
    assert found == {
        "added": {"meetings": [item("m2")], "statements": [item("s2")]},
        "removed": {"statements": [item("s1")]},
        "changed": {},
    }
    assert part_changes("diplomacy", before, before) == {"added": {}, "removed": {}, "changed": {}}


def test_every_part_of_both_answers_is_compared() -> None:
    before = {
        "territory": {"areas": {}},
        "talks": {"tracks": {}},
        "diplomacy": {"meetings": [], "statements": []},
    }
    after = {
        "territory": {"areas": {"x": area(claims=[item("a")])}},
        "talks": {"tracks": {}},
        "diplomacy": {"meetings": [item("m")], "statements": []},
    }
    found = state_changes(before, after)
    assert set(found) == {"territory", "talks", "diplomacy"}
    assert found["territory"]["areas"]["x"]["added"] == {"claims": [item("a")]}
    assert found["talks"] == {"tracks": {}}
    assert found["diplomacy"]["added"] == {"meetings": [item("m")]}


def test_every_list_is_compared_whatever_its_name_sorts_after() -> None:
    # Lists and scalars are told apart by name, not by where they sort: a list named after
    # "status" (none is today) is compared like the others.
    before = {"status": "contested", "claims": [], "zones": [item("z1")]}
    after = {"status": "contested", "claims": [item("c")], "zones": [item("z2")]}
    assert entry_changes(before, after) == {
        "added": {"claims": [item("c")], "zones": [item("z2")]},
        "removed": {"zones": [item("z1")]},
        "changed": {},
    }
