"""`GET /state/changes` is the difference of two `/state` answers, on random histories.

The difference is computed here afresh, item by item, from two answers of `/state`
(read model) for random pairs of (as_of, known_at); corrections of every kind are in
the histories, so items leave and come back as retractions are retracted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.recorders import make_engine
from service.app import create_app
from service.wiring import build_store
from tests.conftest import WRITE, make_settings
from tests.databases import Databases
from tests.integration.histories import AREAS, histories
from tests.integration.test_read_model import interesting_instants, store_history
from tests.integration.test_state_http import seed_events, seed_id

EXAMPLES = int(os.environ.get("TIMELINE_CHANGES_EXAMPLES", "25"))
KURSK = "ru-kursk-oblast"


def difference(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any] | None:
    """One area, track or diplomacy part, compared the plain way."""
    before, after = before or {}, after or {}
    found: dict[str, Any] = {"added": {}, "removed": {}, "changed": {}}
    for key in ("status", "within"):
        if (key in before or key in after) and before.get(key) != after.get(key):
            found[key] = {"from": before.get(key), "to": after.get(key)}
    for key in set(before) | set(after):
        if key in ("status", "within"):
            continue
        old = {i["event_id"]: i for i in before.get(key, [])}
        new = {i["event_id"]: i for i in after.get(key, [])}
        added = [i for i in after.get(key, []) if i["event_id"] not in old]
        removed = [i for i in before.get(key, []) if i["event_id"] not in new]
        changed = [
            {"from": old[i["event_id"]], "to": i}
            for i in after.get(key, [])
            if i["event_id"] in old and old[i["event_id"]] != i
        ]
        for kind, items in (("added", added), ("removed", removed), ("changed", changed)):
            if items:
                found[kind][key] = items
    if found == {"added": {}, "removed": {}, "changed": {}}:
        return None
    return found


def expected(earlier: dict[str, Any], later: dict[str, Any]) -> dict[str, Any]:
    areas = {
        name: difference(earlier["territory"]["areas"].get(name), later["territory"]["areas"].get(name))
        for name in set(earlier["territory"]["areas"]) | set(later["territory"]["areas"])
    }
    tracks = {
        name: difference(earlier["talks"]["tracks"].get(name), later["talks"]["tracks"].get(name))
        for name in set(earlier["talks"]["tracks"]) | set(later["talks"]["tracks"])
    }
    return {
        "as_of": later["as_of"],
        "known_at": later["known_at"],
        "position": later["position"],
        "from": {"as_of": earlier["as_of"], "known_at": earlier["known_at"], "position": earlier["position"]},
        "territory": {"areas": {k: v for k, v in areas.items() if v is not None}},
        "talks": {"tracks": {k: v for k, v in tracks.items() if v is not None}},
        "diplomacy": difference(earlier["diplomacy"], later["diplomacy"])
        or {"added": {}, "removed": {}, "changed": {}},
    }


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(history=histories, data=st.data())
def test_changes_are_the_difference_of_two_state_answers(
    databases: Databases, history: Any, data: st.DataObject
) -> None:
    url = databases.fresh_url()
    engine = make_engine(url)
    try:
        store = build_store(engine)
        store_history(store, history)
        as_ofs, known_ats = interesting_instants(store)
    finally:
        engine.dispose()
    if not known_ats:
        return
    with TestClient(create_app(make_settings(url))) as client:
        for _ in range(4):
            as_of, from_as_of = (data.draw(st.sampled_from(as_ofs)) for _ in range(2))
            known_at, from_known_at = (data.draw(st.sampled_from(known_ats)) for _ in range(2))
            omitted = data.draw(st.sampled_from(["none", "from_as_of", "from_known_at"]), label="omitted")
            if omitted == "from_as_of":
                from_as_of = as_of
            elif omitted == "from_known_at":
                from_known_at = known_at
            later = client.get("/state", params={"as_of": as_of, "known_at": known_at}).json()
            earlier = client.get("/state", params={"as_of": from_as_of, "known_at": from_known_at}).json()
            params = {
                "as_of": as_of,
                "known_at": known_at,
                "from_as_of": from_as_of,
                "from_known_at": from_known_at,
            }
            if omitted != "none":
                del params[omitted]
            answer = client.get("/state/changes", params=params)
            assert answer.status_code == 200, answer.text
            assert answer.json() == expected(earlier, later)
            # One part, with the parts' exact filters.
            area = data.draw(st.sampled_from(AREAS), label="area")
            one = client.get("/state/changes", params={**params, "part": "territory", "area": area}).json()
            whole = expected(earlier, later)["territory"]["areas"]
            assert one["areas"] == ({area: whole[area]} if area in whole else {})
            assert one["from"] == expected(earlier, later)["from"]


@pytest.fixture
def seeded(client: TestClient) -> Iterator[TestClient]:
    response = client.post("/events/batch", json={"events": seed_events()}, headers=WRITE)
    assert response.status_code == 201, response.text
    yield client


def test_the_seed_from_the_incursion_to_the_article(seeded: TestClient) -> None:
    answer = seeded.get(
        "/state/changes",
        params={"as_of": "2025-04-26", "from_as_of": "2024-08-15", "area": KURSK, "part": "territory"},
    ).json()
    kursk = answer["areas"][KURSK]
    assert kursk["status"] == {"from": "uncontested", "to": "contested"}
    incursion = seed_id("territory.control_claimed", claimant="ua", area_km2=1295)
    assert [c["event_id"] for c in kursk["removed"]["claims"]] == [incursion]
    assert seed_id("territory.control_claimed", claimant="ru", area="ru-kursk-oblast") in {
        c["event_id"] for c in kursk["added"]["claims"]
    }
    assert answer["from"]["as_of"] == "2024-08-15T23:59:59.999999Z"
    assert answer["as_of"] == "2025-04-26T23:59:59.999999Z"


def test_a_retraction_is_a_removal_between_two_known_ats(seeded: TestClient) -> None:
    before = seeded.get("/state", params={"as_of": "2025-04-26"}).json()
    isw = seed_id("territory.assessed", assessor="isw")
    retraction = {
        "type": "event.retracted",
        "occurred_at": "2025-04-27",
        "source": {"name": "desk", "kind": "other"},
        "data": {"target_event_id": isw, "reason": "misread"},
    }
    assert seeded.post("/events", json=retraction, headers=WRITE).status_code == 201
    answer = seeded.get(
        "/state/changes", params={"as_of": "2025-04-26", "from_known_at": before["known_at"]}
    ).json()
    assert answer["from"]["position"] == before["position"] == answer["position"] - 1
    kursk = answer["territory"]["areas"][KURSK]
    assert [a["event_id"] for a in kursk["removed"]["assessments"]] == [isw]
    assert kursk["added"] == {} and "status" not in kursk  # still contested
    assert answer["talks"] == {"tracks": {}}


def test_one_of_the_earlier_pair_must_be_given(seeded: TestClient) -> None:
    answer = seeded.get("/state/changes", params={"as_of": "2025-04-26"})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert {e["path"] for e in answer.json()["errors"]} == {"/from_as_of", "/from_known_at"}


@pytest.mark.parametrize("name", ["as_of", "known_at", "from_as_of", "from_known_at"])
def test_bad_instants_are_422_at_their_parameter(seeded: TestClient, name: str) -> None:
    params = {"from_as_of": "2025-01-01", name: "2025-13-01"}
    answer = seeded.get("/state/changes", params=params)
    assert answer.status_code == 422
    assert [e["path"] for e in answer.json()["errors"]] == [f"/{name}"]


def test_an_unknown_part_is_422(seeded: TestClient) -> None:
    assert (
        seeded.get("/state/changes", params={"from_as_of": "2025-01-01", "part": "weather"}).status_code
        == 422
    )
