"""docs/api.md §§4 and 5 (write time): idempotency, batches, versions, references, corrections."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN, WRITE
from tests.factories import claim, denial, offer, rejection, retraction, statement


def post(client: TestClient, event: dict[str, Any]) -> Any:
    return client.post("/events", json=event, headers=WRITE)


def batch(client: TestClient, events: list[dict[str, Any]]) -> Any:
    return client.post("/events/batch", json={"events": events}, headers=WRITE)


def count(client: TestClient) -> int:
    return len(client.get("/events", params={"limit": 1000}).json()["events"])


# -- idempotency ---------------------------------------------------------------


def test_same_id_same_content_is_answered_200_and_stores_nothing(client: TestClient) -> None:
    event = claim()
    first = post(client, event)
    again = post(client, event)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert count(client) == 1


def test_same_id_other_content_is_a_409(client: TestClient) -> None:
    event = claim()
    post(client, event)
    response = post(client, {**event, "occurred_at": "2025-04-25"})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert count(client) == 1


def test_a_stored_id_with_invalid_content_is_a_409_not_a_422(client: TestClient) -> None:
    event = claim()
    post(client, event)
    invalid = {**event, "data": {**event["data"], "extent": "bogus"}}
    assert post(client, invalid).status_code == 409
    unknown_type = {**event, "type": "territory.invaded"}
    assert post(client, unknown_type).status_code == 409
    response = batch(client, [statement(), invalid])
    assert (response.status_code, response.json()["index"]) == (409, 1)
    # Not stored yet: the same invalid content is a 422.
    assert post(client, {**invalid, "id": claim()["id"]}).status_code == 422


def test_uppercase_id_is_the_same_id(client: TestClient) -> None:
    event = claim()
    post(client, event)
    assert post(client, {**event, "id": event["id"].upper()}).status_code == 200


def test_a_retried_write_gets_200_whatever_expected_version_says(client: TestClient) -> None:
    event = claim(expected_version=0)
    assert post(client, event).status_code == 201
    assert post(client, event).status_code == 200  # the subject is at version 1 now


def test_a_retried_correction_gets_200(client: TestClient) -> None:
    original = post(client, claim()).json()
    correction = claim(supersedes=original["id"], data_extra={"note": "corrected"})
    assert post(client, correction).status_code == 201
    # The original now has a live corrector, yet the retry is answered by idempotency alone.
    again = post(client, correction)
    assert again.status_code == 200, again.text
    other = post(client, claim())
    retract = retraction(other.json()["id"])
    assert post(client, retract).status_code == 201
    assert post(client, retract).status_code == 200


def test_batch_of_stored_events_answers_200_with_old_positions(client: TestClient) -> None:
    events = [claim(), statement()]
    first = batch(client, events)
    assert first.status_code == 201
    mixed = batch(client, [*events, offer()])
    assert mixed.status_code == 201
    positions = [e["position"] for e in mixed.json()["events"]]
    assert positions == [1, 2, 3]
    again = batch(client, events)
    assert again.status_code == 200
    assert [e["position"] for e in again.json()["events"]] == [1, 2]


def test_same_id_twice_in_one_batch_is_a_422(client: TestClient) -> None:
    event = claim()
    response = batch(client, [statement(), event, event])
    assert response.status_code == 422
    assert response.json()["index"] == 2
    assert count(client) == 0


# -- batches -------------------------------------------------------------------


def test_a_batch_is_atomic_and_names_the_failing_index(client: TestClient) -> None:
    response = batch(client, [claim(), statement(), claim(data_extra={"extent": "most"})])
    assert response.status_code == 422
    problem = response.json()
    assert problem["index"] == 2
    assert "/events/2/data/extent" in [e["path"] for e in problem["errors"]]
    assert count(client) == 0


def test_the_first_failure_decides_the_status(client: TestClient) -> None:
    stored = post(client, claim()).json()
    conflict = claim(id=stored["id"], occurred_at="2020")  # 409: same id, other content
    response = batch(client, [statement(), conflict, claim(data_extra={"extent": "most"})])
    assert response.status_code == 409
    assert response.json()["index"] == 1
    response = batch(client, [claim(data_extra={"extent": "most"}), conflict])
    assert (response.status_code, response.json()["index"]) == (422, 0)


def test_expected_version_counts_earlier_events_of_the_batch(client: TestClient) -> None:
    post(client, claim())
    ok = batch(client, [claim(expected_version=1), claim(expected_version=2), statement(expected_version=0)])
    assert ok.status_code == 201, ok.text
    assert [e["version"] for e in ok.json()["events"]] == [2, 3, 1]
    stale = batch(client, [claim(expected_version=3), claim(expected_version=3)])
    assert stale.status_code == 409
    assert stale.json()["index"] == 1
    assert stale.json()["actual_version"] == 4
    assert count(client) == 4


def test_references_to_earlier_events_of_the_same_batch(client: TestClient) -> None:
    made = claim()
    offered = offer()
    events = [
        made,
        denial(data_extra={"denied_event_id": made["id"]}),
        offered,
        rejection(offered["id"]),
        retraction(made["id"]),
    ]
    response = batch(client, events)
    assert response.status_code == 201, response.text
    stored = response.json()["events"]
    assert stored[3]["subject"] == "ru-ua"
    assert stored[4]["subject"] == "ru-kursk-oblast"
    # A reference to a later event of the batch does not count.
    later = claim()
    response = batch(client, [denial(data_extra={"denied_event_id": later["id"]}), later])
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "/events/0/data/denied_event_id"


def test_batch_shape_and_size(client: TestClient) -> None:
    assert client.post("/events/batch", json={"events": []}, headers=WRITE).status_code == 422
    assert client.post("/events/batch", json=[claim()], headers=WRITE).status_code == 422
    too_many = [statement() for _ in range(1001)]
    assert client.post("/events/batch", json={"events": too_many}, headers=WRITE).status_code == 422


def test_positions_and_recorded_at(client: TestClient) -> None:
    one = batch(client, [claim(), statement()]).json()["events"]
    two = post(client, offer()).json()
    assert [e["position"] for e in one] + [two["position"]] == [1, 2, 3]
    assert one[0]["recorded_at"] == one[1]["recorded_at"] < two["recorded_at"]


# -- references and corrections -----------------------------------------------


@pytest.mark.parametrize(
    ("make", "path"),
    [
        (lambda ids: denial(data_extra={"denied_event_id": ids["statement"]}), "/data/denied_event_id"),
        (
            lambda ids: denial(area="ua-donetsk-oblast", data_extra={"denied_event_id": ids["claim"]}),
            "/data/denied_event_id",
        ),
        (lambda ids: rejection(ids["claim"]), "/data/offer_event_id"),
        (lambda ids: rejection(ids["offer"], party="ru"), "/data/offer_event_id"),
        (lambda ids: retraction("5b2a7e58-2f7c-4d0e-9d52-1d7f0e0e0e0e"), "/data/target_event_id"),
        (lambda ids: statement(supersedes=ids["claim"]), "/supersedes"),
        (lambda ids: retraction(ids["claim"], subject="diplomacy"), "/subject"),
    ],
)
def test_references_must_name_the_right_kind_of_event(client: TestClient, make: Any, path: str) -> None:
    ids = {
        "claim": post(client, claim()).json()["id"],
        "statement": post(client, statement()).json()["id"],
        "offer": post(client, offer()).json()["id"],
    }
    response = post(client, make(ids))
    assert response.status_code == 422, response.text
    assert [e["path"] for e in response.json()["errors"]] == [path]


def test_supersedes_may_change_the_subject(client: TestClient) -> None:
    wrong = post(client, claim(area="ru-belgorod-oblast")).json()
    fixed = post(client, claim(area="ru-kursk-oblast", supersedes=wrong["id"]))
    assert fixed.status_code == 201
    assert fixed.json()["subject"] == "ru-kursk-oblast"


def test_correcting_an_event_with_a_live_corrector_is_a_409(client: TestClient) -> None:
    original = post(client, claim()).json()
    fix = post(client, claim(supersedes=original["id"])).json()
    second = post(client, claim(supersedes=original["id"]))
    assert second.status_code == 409
    assert second.json()["corrected_by"] == fix["id"]
    retracting = post(client, retraction(original["id"]))
    assert (retracting.status_code, retracting.json()["corrected_by"]) == (409, fix["id"])
    # The chain goes on from the corrector.
    assert post(client, claim(supersedes=fix["id"])).status_code == 201


def test_a_retracted_corrector_frees_its_target(client: TestClient) -> None:
    original = post(client, claim()).json()
    fix = post(client, claim(supersedes=original["id"])).json()
    undo = post(client, retraction(fix["id"])).json()
    assert post(client, claim(supersedes=original["id"])).status_code == 201
    # Retracting the retraction makes `fix` live again, but `original` already has a new live corrector.
    assert post(client, retraction(undo["id"])).status_code == 201


def test_retractions_can_be_retracted_never_superseded(client: TestClient) -> None:
    target = post(client, claim()).json()
    first = post(client, retraction(target["id"])).json()
    assert post(client, retraction(target["id"])).status_code == 409
    second = post(client, retraction(first["id"]))
    assert second.status_code == 201
    assert second.json()["subject"] == "ru-kursk-oblast"
    # `first` is retracted, so `target` is live and has no live corrector: it may be retracted again.
    assert post(client, retraction(target["id"])).status_code == 201
    superseding = retraction(target["id"], supersedes=first["id"])
    assert post(client, superseding).status_code == 422


def test_expected_version_mismatch_carries_actual_version(client: TestClient) -> None:
    post(client, claim())
    response = post(client, claim(expected_version=0))
    assert response.status_code == 409
    assert response.json()["actual_version"] == 1


# -- keys ------------------------------------------------------------------------


def test_writes_need_a_write_key(client: TestClient) -> None:
    assert client.post("/events", json=claim()).status_code == 401
    assert client.post("/events", json=claim(), headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.post("/events", json=claim(), headers=ADMIN).status_code == 201
    assert client.get("/audit/verify", headers=WRITE).status_code == 403
    assert client.get("/audit/verify").status_code == 401
    assert client.get("/audit/verify", headers=ADMIN).json()["ok"] is True
