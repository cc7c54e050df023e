"""CloudEvents over HTTP (docs/api.md §13) on a real server: the official SDK parses what we
send and writes what we take."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx2 as httpx
import pytest
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from cloudevents.v1.http import from_dict

from service.formats.cloudevents import BATCH_MEDIA_TYPE, ID_NAMESPACE
from tests.conftest import WRITE, ServerFactory
from tests.factories import claim, offer, retraction, statement
from tests.server import ServerProcess
from tests.sse import SSEClient

pytestmark = pytest.mark.server

ASK = {"Accept": BATCH_MEDIA_TYPE}
SEND = {**WRITE, "Content-Type": BATCH_MEDIA_TYPE}


def append(url: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = httpx.post(url + "/events/batch", json={"events": events}, headers=WRITE, timeout=30)
    assert response.status_code == 201, response.text
    stored: list[dict[str, Any]] = response.json()["events"]
    return stored


def read(text: str) -> CloudEvent:
    """One CloudEvent through the SDK's validating reader (attribute names included)."""
    event = JSONFormat().read(CloudEvent, text.encode())
    assert isinstance(event, CloudEvent)
    return event


def written(data: dict[str, Any], **attributes: Any) -> dict[str, Any]:
    """A CloudEvent as the SDK writes it."""
    defaults: dict[str, Any] = {"type": "timeline." + str(data.get("type", "")), "source": "/desk"}
    if "id" in data:
        defaults["id"] = data["id"]
    event = CloudEvent({**defaults, **attributes}, data)
    found: dict[str, Any] = json.loads(JSONFormat().write(event))
    return found


def post_cloudevents(url: str, events: list[dict[str, Any]], **headers: str) -> httpx.Response:
    return httpx.post(
        url + "/events/batch", content=json.dumps(events), headers={**SEND, **headers}, timeout=30
    )


def all_events(url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = httpx.get(url + "/events", params={"limit": 1000}).json()["events"]
    return found


def test_a_page_is_a_batch_the_sdk_reads_and_link_pages_on(server: ServerProcess) -> None:
    stored = append(server.url, [claim(), offer(), statement(), claim(claimant="ua"), statement()])
    response = httpx.get(server.url + "/events", params={"limit": 2}, headers=ASK)
    assert response.status_code == 200
    assert response.headers["content-type"] == BATCH_MEDIA_TYPE
    assert response.headers["vary"] == "Accept"
    page = response.json()
    assert isinstance(page, list) and len(page) == 2
    for item, event in zip(page, stored[:2], strict=True):
        parsed = read(json.dumps(item))
        assert parsed.get_id() == event["id"]
        assert parsed.get_source() == "urn:timeline:events"
        assert parsed.get_type() == "timeline." + event["type"]
        assert parsed.get_subject() == event["subject"]
        assert parsed.get_time() is not None
        assert item["time"] == event["occurred_from"]
        assert parsed.get_extension("recordedtime") == event["recorded_at"]
        assert parsed.get_extension("sequence") == f"{event['position']:019d}"
        assert parsed.get_extension("hash") == event["hash"]
        assert parsed.get_datacontenttype() == "application/json"
        assert parsed.get_data() == event
        assert from_dict(item).data == event  # the 1.x API reads it too

    # The cursor is a Link header; following it pages to the end, filters kept.
    seen, url = [], server.url + "/events?limit=2&type=diplomacy.&type=territory."
    while True:
        response = httpx.get(url, headers=ASK)
        seen += [item["data"]["position"] for item in response.json()]
        if "link" not in response.headers:
            break
        link = response.headers["link"]
        assert link.endswith('>; rel="next"')
        url = link[1 : link.index(">")]
        assert "type=diplomacy." in url and "type=territory." in url and "limit=2" in url
    assert seen == [e["position"] for e in stored if e["type"].split(".")[0] in ("diplomacy", "territory")]
    assert url.count("after=") == 1


def test_without_the_batch_type_the_answer_is_the_plain_page(server: ServerProcess) -> None:
    append(server.url, [statement()])
    for accept in (None, "application/json", "*/*", f"application/json, {BATCH_MEDIA_TYPE};q=0.5"):
        headers = {"Accept": accept} if accept else {}
        response = httpx.get(server.url + "/events", headers=headers)
        assert response.headers["content-type"] == "application/json"
        assert set(response.json()) == {"events", "next_after"}
        assert "link" not in response.headers


def test_source_and_type_prefix_are_settings(database_url: str, start_server: ServerFactory) -> None:
    env = {
        "TIMELINE_CLOUDEVENTS_SOURCE": "https://news.example/timeline",
        "TIMELINE_CLOUDEVENTS_TYPE_PREFIX": "",
    }
    server = start_server(database_url, env)
    event = append(server.url, [claim()])[0]
    item = httpx.get(server.url + "/events", headers=ASK).json()[0]
    assert (item["source"], item["type"]) == ("https://news.example/timeline", event["type"])


def test_sdk_batches_are_appended_and_a_resend_is_a_retry(server: ServerProcess) -> None:
    with_id = claim()
    no_id = offer()
    del no_id["id"], no_id["type"]
    uuid_id = statement()
    ce_uuid = str(uuid.uuid4()).upper()
    del uuid_id["id"]
    batch = [
        written(with_id),
        written(no_id, id="desk-42", type="timeline.talks.offer_made", subject="ru-ua"),
        written(uuid_id, id=ce_uuid),
    ]
    response = post_cloudevents(server.url, batch)
    assert response.status_code == 201, response.text
    stored = response.json()["events"]
    assert [e["id"] for e in stored] == [
        with_id["id"],
        str(uuid.uuid5(ID_NAMESPACE, "/desk desk-42")),
        ce_uuid.lower(),
    ]
    assert [e["type"] for e in stored] == [
        "territory.control_claimed",
        "talks.offer_made",
        "diplomacy.statement_made",
    ]
    assert stored[1]["subject"] == "ru-ua"
    assert all_events(server.url) == stored

    # The same CloudEvents again (the SDK stamps a new `time`; it is not stored): nothing new.
    batch[1]["time"] = "2030-01-01T00:00:00Z"
    again = post_cloudevents(server.url, batch, Accept=BATCH_MEDIA_TYPE)
    assert again.status_code == 200, again.text
    assert again.headers["content-type"] == BATCH_MEDIA_TYPE
    assert [read(json.dumps(item)).get_data() for item in again.json()] == stored
    assert len(all_events(server.url)) == 3


def problem_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    found: dict[str, Any] = response.json()
    return found


def test_refusals_name_their_index_and_nothing_is_written(server: ServerProcess) -> None:
    target = append(server.url, [claim()])[0]
    good = written(claim())
    bad_data = written(claim(extent="most"))
    problem = problem_of(post_cloudevents(server.url, [good, bad_data]))
    assert problem["index"] == 1
    assert [e["path"] for e in problem["errors"]] == ["/1/data/data/extent"]

    # The first failure in order wins, whatever its kind.
    not_a_cloudevent = {"specversion": "1.0", "data": claim()}
    problem = problem_of(post_cloudevents(server.url, [good, not_a_cloudevent, bad_data]))
    assert problem["index"] == 1
    assert {e["path"] for e in problem["errors"]} == {"/1/id", "/1/source", "/1/type"}

    # A refusal found against the log (a reference to no event) is located the same way.
    missing = written(retraction(str(uuid.uuid4())))
    problem = problem_of(post_cloudevents(server.url, [good, missing]))
    assert problem["index"] == 1
    assert [e["path"] for e in problem["errors"]] == ["/1/data/data/target_event_id"]

    # A type taken from the CloudEvent is refused at the CloudEvent's own attribute.
    typeless = claim()
    del typeless["type"]
    problem = problem_of(post_cloudevents(server.url, [written(typeless, type="timeline.territory.nope")]))
    assert (problem["index"], [e["path"] for e in problem["errors"]]) == (0, ["/0/type"])
    assert "territory.control_claimed" in problem["known_types"]

    # The same id twice, and strict JSON, as in the plain batch.
    problem = problem_of(post_cloudevents(server.url, [good, good]))
    assert (problem["index"], [e["path"] for e in problem["errors"]]) == (1, ["/1/data/id"])
    response = httpx.post(
        server.url + "/events/batch", content=json.dumps([{**good, "subject": None}]), headers=SEND
    )
    assert [e["path"] for e in problem_of(response)["errors"]] == ["/0/subject"]
    for body in ([], {"events": [good]}, [good] * 1001):
        problem = problem_of(post_cloudevents(server.url, body))  # type: ignore[arg-type]
        assert [e["path"] for e in problem["errors"]] == [""] and "index" not in problem

    assert all_events(server.url) == [target]


def test_the_plain_batch_is_unchanged(server: ServerProcess) -> None:
    response = httpx.post(server.url + "/events/batch", json=[written(claim())], headers=WRITE)
    assert problem_of(response)["errors"][0]["path"] == ""  # a plain batch is {"events": [...]}
    stored = append(server.url, [claim()])
    assert len(stored) == 1


def test_the_stream_sends_cloudevents_and_resumes_by_position(server: ServerProcess) -> None:
    stored = append(server.url, [claim(), offer(), statement()])
    url = server.url + "/events/stream"
    with SSEClient(url, params={"after": 0, "format": "cloudevents"}) as sse:
        got = sse.events(3)
        assert [m.position for m in got] == [1, 2, 3]
        assert [m.event for m in got] == [e["type"] for e in stored]
        for message, event in zip(got, stored, strict=True):
            parsed = read(message.data or "")
            assert parsed.get_id() == event["id"]
            assert parsed.get_extension("sequence") == f"{event['position']:019d}"
            assert parsed.get_data() == event
        live = append(server.url, [statement()])[0]
        message = sse.events(1)[0]
        assert (message.position, read(message.data or "").get_data()) == (4, live)
    with SSEClient(url, params={"format": "cloudevents"}, headers={"Last-Event-ID": "2"}) as sse:
        assert [read(m.data or "").get_id() for m in sse.events(2)] == [stored[2]["id"], live["id"]]
    # Filtered, it still moves Last-Event-ID past what it filtered out.
    with SSEClient(url, params={"after": 0, "format": "cloudevents", "type": "talks."}) as sse:
        message = sse.events(1)[0]
        assert read(message.data or "").get_type() == "timeline.talks.offer_made"
        while (checkpoint := sse.next()).data is None and checkpoint.id is None:
            pass
        assert checkpoint.data is None and checkpoint.position == 4
    response = httpx.get(url, params={"format": "xml"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "/format"


def test_the_openapi_document_names_the_cloudevents_forms(server: ServerProcess) -> None:
    paths = httpx.get(server.url + "/openapi.json").json()["paths"]
    assert BATCH_MEDIA_TYPE in paths["/events"]["get"]["responses"]["200"]["content"]
    batch = paths["/events/batch"]["post"]
    assert BATCH_MEDIA_TYPE in batch["requestBody"]["content"]
    assert BATCH_MEDIA_TYPE in batch["responses"]["201"]["content"]
    assert "format" in [p["name"] for p in paths["/events/stream"]["get"]["parameters"]]
    assert {p["name"] for p in paths["/export/timelinejs"]["get"]["parameters"]} == {
        "area",
        "track",
        "known_at",
    }
