"""The upcasting chain (events/upcasting.py): empty today, since every stored event is at
schema version 1; these cases give it steps to prove the chain itself."""

from __future__ import annotations

from typing import Any

import pytest

from events import upcasting
from events.upcasting import upcast


@pytest.fixture
def two_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    # Version 3 is current; "t" changed at 1 -> 2 and at 2 -> 3, "u" never did.
    def one_to_two(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "steps": [*data.get("steps", []), "1->2"]}

    def two_to_three(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "steps": [*data.get("steps", []), "2->3"]}

    monkeypatch.setattr(upcasting, "SCHEMA_VERSION", 3)
    monkeypatch.setattr(upcasting, "UPCASTERS", {("t", 1): one_to_two, ("t", 2): two_to_three})


@pytest.mark.usefixtures("two_steps")
@pytest.mark.parametrize(
    ("version", "steps"), [(1, ["1->2", "2->3"]), (2, ["2->3"]), (3, None)], ids=["v1", "v2", "current"]
)
def test_each_step_from_the_stored_version_applies_in_order(version: int, steps: list[str] | None) -> None:
    data = {"area": "a"}
    upcast_data = upcast("t", version, data)
    assert upcast_data.get("steps") == steps and upcast_data["area"] == "a"
    assert data == {"area": "a"}  # the stored event's data is never changed


@pytest.mark.usefixtures("two_steps")
def test_a_type_without_steps_is_read_as_stored() -> None:
    data = {"area": "a"}
    assert upcast("u", 1, data) is data


def test_today_every_event_is_read_as_stored() -> None:
    data = {"area": "a"}
    assert upcast("territory.control_claimed", 1, data) is data
