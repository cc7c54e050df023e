"""Windows on the lists that grow with the log, and pages of areas and tracks: the rules."""

from __future__ import annotations

from typing import Any

from projections.windows import NO_WINDOW, Page, Window, cut_shown, page_of

JAN, FEB, MAR = "2025-01-01T00:00:00.000000Z", "2025-02-01T00:00:00.000000Z", "2025-03-01T00:00:00.000000Z"


def item(since: str, event_id: str) -> dict[str, Any]:
    return {"since": since, "tentative": False, "event_id": event_id}


TRACK = {
    "status": "talks_held",
    "offers": [item(JAN, "o")],
    "proposals": [item(JAN, "p1"), item(FEB, "p2")],
    "ceasefires": [],
    "rounds": [item(JAN, "r1"), item(FEB, "r2"), item(FEB, "r3"), item(MAR, "r4")],
    "positions": [item(JAN, "x")],
}


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [i["event_id"] for i in items]


def test_no_window_is_the_full_answer_without_a_more_key() -> None:
    assert cut_shown(TRACK, NO_WINDOW) == TRACK


def test_since_is_inclusive_and_until_exclusive() -> None:
    cut = cut_shown(TRACK, Window(since=FEB, until=MAR))
    assert ids(cut["rounds"]) == ["r2", "r3"]
    assert ids(cut["proposals"]) == ["p2"]
    assert cut["more"] == {}


def test_limit_keeps_the_latest_in_order_and_says_so() -> None:
    cut = cut_shown(TRACK, Window(limit=2))
    assert ids(cut["rounds"]) == ["r3", "r4"]
    assert ids(cut["proposals"]) == ["p1", "p2"]  # exactly full: not shortened
    assert cut["more"] == {"rounds": True}


def test_limit_applies_after_the_bounds() -> None:
    cut = cut_shown(TRACK, Window(until=MAR, limit=1))
    assert ids(cut["rounds"]) == ["r3"] and cut["more"] == {"rounds": True, "proposals": True}


def test_lists_bounded_by_the_parties_are_never_cut_and_the_status_stays() -> None:
    cut = cut_shown(TRACK, Window(since=MAR, limit=1))
    assert cut["offers"] == TRACK["offers"] and cut["positions"] == TRACK["positions"]
    assert cut["status"] == "talks_held"
    assert cut["proposals"] == [] and "proposals" not in cut["more"]  # the bounds emptied it, not the limit


def test_a_page_is_the_first_names_after_one_and_says_where_the_next_starts() -> None:
    names = ["a", "b", "c", "d", "e"]
    assert page_of(names, Page(limit=2)) == (["a", "b"], "b")
    assert page_of(names, Page(after="b", limit=2)) == (["c", "d"], "d")
    assert page_of(names, Page(after="c", limit=2)) == (["d", "e"], None)  # exactly full: the last page
    assert page_of(names, Page(after="e", limit=2)) == ([], None)
    assert page_of(names, Page(after="b")) == (["c", "d", "e"], None)
    assert page_of(names, Page(after="bb", limit=10)) == (["c", "d", "e"], None)
