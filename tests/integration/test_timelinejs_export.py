"""`GET /export/timelinejs` (docs/api.md §14) on the seed, on a real server, field by field."""

from __future__ import annotations

import html
import json
from typing import Any

import httpx2 as httpx
import pytest

from events.drafts import drafts_from_batch
from events.errors import InvalidInput
from events.store import EventStore
from service.cli import main, seed_path
from tests.conftest import WRITE
from tests.factories import claim, retraction
from tests.server import ServerProcess

pytestmark = pytest.mark.server
KURSK = "ru-kursk-oblast"


@pytest.fixture
def seeded(
    database_url: str, server: ServerProcess, capsys: pytest.CaptureFixture[str]
) -> list[dict[str, Any]]:
    """The seed, imported with the command line; its envelopes by position (index 0 is 1)."""
    assert main(["--database-url", database_url, "import", "--seed"]) == 0
    capsys.readouterr()
    return [json.loads(line) for line in seed_path().read_text().splitlines()]


def export(server: ServerProcess, **params: Any) -> dict[str, Any]:
    response = httpx.get(server.url + "/export/timelinejs", params=params, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    document: dict[str, Any] = response.json()
    return document


def post(server: ServerProcess, event: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(server.url + "/events", json=event, headers=WRITE, timeout=30)
    assert response.status_code == 201, response.text
    stored: dict[str, Any] = response.json()
    return stored


def test_an_area_of_the_seed_slide_by_slide(server: ServerProcess, seeded: list[dict[str, Any]]) -> None:
    document = export(server, area=KURSK)
    assert set(document) == {"title", "events", "known_at", "position"}
    assert document["position"] == 16
    assert document["title"] == {
        "text": {
            "headline": KURSK,
            "text": f"<p>7 developments, as known at {document['known_at']} (log position 16).</p>",
        }
    }
    # Valid-time order (occurred_from, then position): 2024-08, 2025, then 2025-04-26.
    expected = [
        (14, {"year": 2024, "month": 8}, "Territory", "ua claims partial control of ru-kursk-oblast"),
        (16, {"year": 2025}, "Territory", "news-report assesses ru-kursk-oblast: partial control by ru"),
        (1, {"year": 2025, "month": 4, "day": 26}, "Territory", "ru claims full control of ru-kursk-oblast"),
        (
            4,
            {"year": 2025, "month": 4, "day": 26},
            "Territory",
            "ua claims partial control of ru-kursk-oblast",
        ),
        (
            5,
            {"year": 2025, "month": 4, "day": 26},
            "Territory",
            "ua denies a claim of control of ru-kursk-oblast",
        ),
        (
            6,
            {"year": 2025, "month": 4, "day": 26},
            "Territory",
            "isw assesses ru-kursk-oblast: partial control by ua",
        ),
        (
            12,
            {"year": 2025, "month": 4, "day": 26},
            "Forces",
            "kp forces supporting ru in ru-kursk-oblast: acknowledged by ru",
        ),
    ]
    slides = document["events"]
    assert len(slides) == len(expected)
    for slide, (position, start, group, headline) in zip(slides, expected, strict=True):
        envelope = seeded[position - 1]
        assert slide["unique_id"] == envelope["id"]
        assert slide["start_date"] == start
        assert "end_date" not in slide
        assert slide["group"] == group
        assert slide["text"]["headline"] == headline
        text = slide["text"]["text"]
        source = envelope["source"]
        assert f'<p class="tl-source">Source: {html.escape(source["name"])} (media)</p>' in text
        assert text.endswith(f"<blockquote>{html.escape(source['quote'])}</blockquote>")
        for key in ("note", "speaker"):
            if key in envelope["data"]:
                assert html.escape(envelope["data"][key]) in text
    assert "<p>Area: 1,295 km²</p>" in slides[0]["text"]["text"]


def test_a_track_of_the_seed(server: ServerProcess, seeded: list[dict[str, Any]]) -> None:
    slides = export(server, track="ru-ua")["events"]
    assert [s["unique_id"] for s in slides] == [seeded[p - 1]["id"] for p in (15, 7, 8, 11)]
    assert {s["group"] for s in slides} == {"Talks"}
    assert [s["text"]["headline"] for s in slides] == [
        "ua states its position on talks with ru",
        "ru offers talks to ua",
        "ru states its position on talks with ua",
        "us proposes terms (ru, ua)",
    ]
    assert "<p>No preconditions.</p>" in slides[1]["text"]["text"]
    terms = seeded[10]["data"]["terms"]
    assert (
        "<ol>" + "".join(f"<li>{html.escape(t)}</li>" for t in terms) + "</ol>" in slides[3]["text"]["text"]
    )
    # Several subjects at once, OR'ed, in one valid-time order.
    both = export(server, area=KURSK, track="ru-ua")
    assert len(both["events"]) == 11
    assert both["title"]["text"]["headline"] == "ru-kursk-oblast, ru-ua"
    starts = [(s["start_date"]["year"], s["start_date"].get("month", 0)) for s in both["events"]]
    assert starts == sorted(starts)


def test_corrections_replace_retractions_remove_and_known_at_looks_back(
    server: ServerProcess, seeded: list[dict[str, Any]]
) -> None:
    before = export(server, area=KURSK)
    gerasimov, ukraine_holds, august = seeded[0]["id"], seeded[3]["id"], seeded[13]["id"]

    retracted = post(server, retraction(gerasimov))
    fixed = post(server, claim(claimant="ua", extent="partial", occurred_at="2024-08", supersedes=august))
    moved = post(
        server,
        claim(area="ru-kursk-oblast-gornal", claimant="ua", extent="partial", supersedes=ukraine_holds),
    )

    now = export(server, area=KURSK)
    ids = [s["unique_id"] for s in now["events"]]
    assert (
        gerasimov not in ids and retracted["id"] not in ids
    )  # neither the retracted event nor the retraction
    assert august not in ids and fixed["id"] in ids  # the correction in place of what it corrects
    assert "Corrects an earlier report" in now["events"][ids.index(fixed["id"])]["text"]["text"]
    assert (
        ukraine_holds not in ids and moved["id"] not in ids
    )  # corrected into another area: gone from this one
    assert [s["unique_id"] for s in export(server, area="ru-kursk-oblast-gornal")["events"]][-1] == moved[
        "id"
    ]
    assert now["position"] == 19

    # The same question as known before the corrections gets the answer it got then.
    then = export(server, area=KURSK, known_at=before["known_at"])
    assert then == before

    # Retracting the retraction brings the claim back; retracting the correction that moved
    # Ukraine's claim away (a retraction in the other area) brings that one back too.
    post(server, retraction(retracted["id"]))
    post(server, retraction(moved["id"]))
    ids = [s["unique_id"] for s in export(server, area=KURSK)["events"]]
    assert gerasimov in ids and ukraine_holds in ids


def test_what_the_export_refuses(server: ServerProcess) -> None:
    for params in ({}, {"known_at": "2025-01-01"}):
        response = httpx.get(server.url + "/export/timelinejs", params=params)
        assert response.status_code == 422
        assert [e["path"] for e in response.json()["errors"]] == ["/area", "/track"]
    response = httpx.get(server.url + "/export/timelinejs", params={"area": KURSK, "as_of": "2025-01-01"})
    assert response.status_code == 422  # undeclared: refused, not ignored
    response = httpx.get(server.url + "/export/timelinejs", params={"area": KURSK, "known_at": "2025"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "/known_at"
    empty = export(server, area="nowhere")
    assert empty["events"] == [] and empty["position"] == 0


def test_the_export_pages_through_the_log_and_stops_at_its_limit(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service import export_api

    store.append(drafts_from_batch([claim() for _ in range(5)] + [claim(area="elsewhere")]))
    head = store.head()
    assert head is not None
    monkeypatch.setattr(export_api, "PAGE", 2)  # three pages for five events
    found = export_api.recorded(store, [KURSK], head.position, head.recorded_at)
    assert [e.position for e in found] == [1, 2, 3, 4, 5]
    assert [e.position for e in export_api.recorded(store, [KURSK], 3, head.recorded_at)] == [1, 2, 3]
    monkeypatch.setattr(export_api, "MAX_EXPORT_EVENTS", 4)
    with pytest.raises(InvalidInput) as refused:
        export_api.recorded(store, [KURSK], head.position, head.recorded_at)
    assert refused.value.extra["limit"] == {"max_events": 4}
