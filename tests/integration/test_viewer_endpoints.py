"""What the viewer reads besides the state: the days with events, an event's correctors, and
its own pages and the API docs, each served by this process with nothing from elsewhere."""

from __future__ import annotations

import re
import time
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import WRITE
from tests.factories import claim, retraction, statement
from tests.integration.test_state_http import seed_events

CSP = "default-src 'self'"


def post(client: TestClient, *events: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post("/events/batch", json={"events": list(events)}, headers=WRITE)
    assert response.status_code == 201, response.text
    stored: list[dict[str, Any]] = response.json()["events"]
    return stored


def test_days_are_the_utc_days_on_which_events_begin(client: TestClient) -> None:
    assert client.get("/events/days").json()["days"] == []
    stored = post(client, *seed_events())
    answer = client.get("/events/days").json()
    assert answer["days"] == sorted({str(e["occurred_from"])[:10] for e in stored})
    assert answer["position"] == len(stored)
    # An instant east of UTC begins on the previous UTC day; a year on its first day.
    post(client, statement(occurred_at="2023-03-05T01:00:00+03:00"), statement(occurred_at="2022"))
    days = client.get("/events/days").json()["days"]
    assert "2023-03-04" in days and "2022-01-01" in days and "2023-03-05" not in days


def test_days_at_an_earlier_known_at_leave_out_later_events(client: TestClient) -> None:
    first = post(client, statement(occurred_at="2025-01-02"))[0]
    assert client.get("/events/days").json()["days"] == ["2025-01-02"]  # counted by this process now
    time.sleep(0.002)
    post(client, statement(occurred_at="2024-06-30"), statement(occurred_at="2025-01-02T10:00:00Z"))
    assert client.get("/events/days").json()["days"] == ["2024-06-30", "2025-01-02"]
    earlier = client.get("/events/days", params={"known_at": first["recorded_at"]}).json()
    assert earlier == {"known_at": first["recorded_at"], "position": 1, "days": ["2025-01-02"]}
    assert client.get("/events/days", params={"known_at": "2000-01-01"}).json()["days"] == []


def test_days_refuse_a_bad_known_at(client: TestClient) -> None:
    answer = client.get("/events/days", params={"known_at": "yesterday"})
    assert answer.status_code == 422
    assert [e["path"] for e in answer.json()["errors"]] == ["/known_at"]


def test_corrections_list_the_superseding_and_retracting_events_in_log_order(client: TestClient) -> None:
    original = post(client, claim())[0]
    assert client.get(f"/events/{original['id']}/corrections").json() == {"events": []}
    better = claim(supersedes=original["id"], data_extra={"note": "fuller"})
    superseding = post(client, better)[0]
    time.sleep(0.002)
    withdrawn = post(client, retraction(str(superseding["id"])))[0]
    unrelated = post(client, statement())[0]
    assert client.get(f"/events/{original['id']}/corrections").json()["events"] == [superseding]
    assert client.get(f"/events/{superseding['id']}/corrections").json()["events"] == [withdrawn]
    # Retracting the retraction is a correction of the retraction, not of the claim.
    again = post(client, retraction(str(withdrawn["id"])))[0]
    assert client.get(f"/events/{withdrawn['id']}/corrections").json()["events"] == [again]
    assert client.get(f"/events/{unrelated['id']}/corrections").json()["events"] == []
    # known_at cuts by recorded_at; the id is accepted in upper case as everywhere.
    cut = client.get(
        f"/events/{str(superseding['id']).upper()}/corrections",
        params={"known_at": superseding["recorded_at"]},
    )
    assert cut.json() == {"events": []}


def test_corrections_of_an_unknown_event_are_404(client: TestClient) -> None:
    for event_id in ["00000000-0000-4000-8000-000000000000", "not-a-uuid"]:
        answer = client.get(f"/events/{event_id}/corrections")
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"


def test_the_viewer_is_at_the_root_with_a_strict_policy(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"].startswith(CSP)
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    # Every script is a file of the service's: none inline, none from elsewhere.
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page.text, re.S)
    assert scripts and all(re.search(r'src="/viewer/', attrs) and not body.strip() for attrs, body in scripts)
    assert not re.search(r"\son[a-z]+=", page.text)  # no inline handlers
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text)
    for asset in ["/viewer/js/app.js", "/viewer/viewer.css", "/viewer/favicon.svg"]:
        answer = client.get(asset)
        assert answer.status_code == 200, asset
        assert answer.headers["content-security-policy"].startswith(CSP)


def test_the_api_docs_load_their_assets_from_this_service(client: TestClient) -> None:
    for path in ["/docs", "/redoc"]:
        page = client.get(path)
        assert page.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets), assets
        for asset in assets:
            if asset != "/openapi.json":
                assert client.get(asset).status_code == 200, asset
    assert "fonts.googleapis" not in client.get("/redoc").text
