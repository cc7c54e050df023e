"""The CloudEvents mapping (service/formats/cloudevents.py), read back by the official SDK."""

from __future__ import annotations

import ast
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from cloudevents.v1.http import from_dict, from_json

from events.errors import FieldError, InvalidInput
from service.formats import cloudevents
from service.formats.cloudevents import ID_NAMESPACE, Naming, envelope_of, prefers_batch, read_batch
from tests.factories import claim

NAMING = Naming("https://timeline.example.org/events", "org.example.timeline.")
ROOT = Path(__file__).resolve().parents[2]


def stored(position: int = 7, **changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "data": {"area": "ru-kursk-oblast", "claimant": "ru", "controller": "ru", "extent": "full"},
        "hash": "ab" * 32,
        "id": "9b00ad44-db4e-5bbe-8f60-24630d098488",
        "occurred_at": "2025-04",
        "occurred_from": "2025-04-01T00:00:00.000000Z",
        "occurred_precision": "month",
        "occurred_until": "2025-05-01T00:00:00.000000Z",
        "position": position,
        "prev_hash": "cd" * 32,
        "recorded_at": "2026-12-01T10:00:00.123456Z",
        "reported_at": None,
        "schema_version": 1,
        "source": {"kind": "media", "name": "Wire \u2028 «ü»"},
        "subject": "ru-kursk-oblast",
        "supersedes": None,
        "type": "territory.control_claimed",
        "version": 3,
    }
    event.update(changes)
    return event


def body_of(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def test_a_stored_event_is_a_cloudevent_the_sdk_validates() -> None:
    body = body_of(stored())
    text = cloudevents.cloudevent_text(body, NAMING)
    # The core reader validates every attribute, extension names included (a-z, 0-9).
    event = JSONFormat().read(CloudEvent, text.encode())
    assert event.get_specversion() == "1.0"
    assert event.get_id() == "9b00ad44-db4e-5bbe-8f60-24630d098488"
    assert event.get_source() == NAMING.source
    assert event.get_type() == "org.example.timeline.territory.control_claimed"
    assert event.get_subject() == "ru-kursk-oblast"
    time = event.get_time()
    assert time is not None and time.isoformat() == "2025-04-01T00:00:00+00:00"
    assert event.get_datacontenttype() == "application/json"
    assert event.get_extension("recordedtime") == "2026-12-01T10:00:00.123456Z"
    assert event.get_extension("sequence") == "0000000000000000007"
    assert event.get_extension("hash") == "ab" * 32
    assert event.get_data() == stored()
    # The 1.x API the SDK keeps under cloudevents.v1 reads it the same.
    legacy = from_json(text)
    assert legacy["id"] == event.get_id() and legacy["sequence"] == "0000000000000000007"
    assert legacy.data == stored()
    # `data` is the stored text byte for byte: an auditor can hash it as served.
    assert text.endswith(',"data":' + body + "}")
    assert "\n" not in text and "\r" not in text


def test_every_attribute_name_is_one_the_spec_allows() -> None:
    names = cloudevents.attributes_of(stored(), NAMING)
    assert all(name.isascii() and name.isalnum() and name == name.lower() for name in names)
    assert all(len(name) <= 20 for name in names)  # the spec's SHOULD


@pytest.mark.parametrize("positions", [(9, 10), (99, 100), (1, 2**63 - 1)])
def test_sequence_orders_as_strings_as_positions_do(positions: tuple[int, int]) -> None:
    low, high = (cloudevents.sequence_of(p) for p in positions)
    assert low < high
    assert len(low) == len(high) == 19


def test_a_batch_is_an_array_of_cloudevents_in_order() -> None:
    bodies = [body_of(stored(position=p)) for p in (1, 2, 3)]
    batch = json.loads(cloudevents.batch_text(bodies, NAMING))
    assert [from_dict(item)["sequence"] for item in batch] == [cloudevents.sequence_of(p) for p in (1, 2, 3)]
    assert cloudevents.batch_text([], NAMING) == "[]"


def test_a_stream_keeps_its_ids_and_only_its_data_lines_change() -> None:
    body = body_of(stored(position=5))
    chunk = (
        f"id: 5\r\nevent: territory.control_claimed\r\ndata: {body}\r\n\r\n"
        "id: 6\r\n\r\n: ping\r\n\r\n"
        f"id: 7\r\nevent: territory.control_claimed\r\ndata: {body_of(stored(position=7))}\r\n\r\n"
    ).encode()
    lines = cloudevents.reencode_sse(chunk, NAMING).decode().split("\r\n")
    assert lines[:2] == ["id: 5", "event: territory.control_claimed"]
    assert json.loads(lines[2].removeprefix("data: "))["sequence"] == cloudevents.sequence_of(5)
    assert lines[3:8] == ["", "id: 6", "", ": ping", ""]
    assert from_json(lines[10].removeprefix("data: "))["sequence"] == cloudevents.sequence_of(7)
    assert cloudevents.reencode_sse(b"retry: 2000\r\n\r\n", NAMING) == b"retry: 2000\r\n\r\n"


@pytest.mark.parametrize(
    ("accept", "wanted"),
    [
        (None, False),
        ("", False),
        ("*/*", False),
        ("application/json", False),
        ("application/cloudevents-batch+json", True),
        ("Application/CloudEvents-Batch+JSON", True),
        ("application/cloudevents-batch+json;q=0", False),
        ("application/json, application/cloudevents-batch+json;q=0.5", False),
        ("application/json;q=0.5, application/cloudevents-batch+json", True),
        ("application/cloudevents-batch+json, */*;q=0.1", True),
        ("application/cloudevents-batch+json;q=0.5, */*", True),
        ("text/html, application/cloudevents-batch+json;q=0.9", True),
        ("application/cloudevents-batch+json;q=bad", False),
        ("application/cloudevents+json", False),
    ],
)
def test_accept_asks_for_a_batch(accept: str | None, wanted: bool) -> None:
    assert prefers_batch(accept) is wanted


def sdk_dict(data: dict[str, Any], **attributes: Any) -> dict[str, Any]:
    """A CloudEvent as the SDK writes it (it adds `time`), with the data's id by default."""
    defaults = {"type": "org.example.timeline.territory.control_claimed", "source": "/desk"}
    if "id" in data:
        defaults["id"] = data["id"]
    event = CloudEvent({**defaults, **attributes}, data)
    parsed: dict[str, Any] = json.loads(JSONFormat().write(event))
    return parsed


def test_the_envelope_is_the_data_and_the_cloudevent_fills_what_it_lacks() -> None:
    envelope = claim()
    del envelope["type"], envelope["id"]
    event_id = str(uuid.uuid4()).upper()
    found, filled = envelope_of(sdk_dict(envelope, id=event_id, subject="ru-kursk-oblast"), NAMING)
    assert found == {**envelope, "type": "territory.control_claimed", "id": event_id.lower(),
                     "subject": "ru-kursk-oblast"}  # fmt: skip
    assert filled == {"type", "id", "subject"}
    # A type without the prefix is taken as it is.
    found, _ = envelope_of(sdk_dict(envelope, type="territory.control_claimed"), NAMING)
    assert found["type"] == "territory.control_claimed"


def test_an_id_that_is_not_a_uuid_is_named_by_source_and_id() -> None:
    envelope = claim()
    del envelope["id"]
    found, _ = envelope_of(sdk_dict(envelope, id="A234-1234-1234", source="/desk"), NAMING)
    # Fixed forever (docs/api.md §13.4): a producer can compute the stored id itself.
    assert found["id"] == "8d7891ff-8d4a-55c1-ab0a-c2d1862332e6"
    assert found["id"] == str(uuid.uuid5(ID_NAMESPACE, "/desk A234-1234-1234"))
    assert uuid.uuid5(uuid.NAMESPACE_URL, "urn:timeline:cloudevents") == ID_NAMESPACE
    again, _ = envelope_of(sdk_dict(envelope, id="A234-1234-1234", source="/desk"), NAMING)
    other, _ = envelope_of(sdk_dict(envelope, id="A234-1234-1234", source="/other-desk"), NAMING)
    assert again["id"] == found["id"] != other["id"]


def test_the_envelopes_own_keys_win_and_must_agree() -> None:
    envelope = claim()
    found, filled = envelope_of(sdk_dict(envelope, id="not-a-uuid"), NAMING)
    assert found == envelope and filled == set()
    found, filled = envelope_of(sdk_dict(envelope, id=envelope["id"].upper()), NAMING)
    assert found == envelope and filled == set()
    cases = [
        (sdk_dict(envelope, id=str(uuid.uuid4())), "/id"),
        (sdk_dict(envelope, id=envelope["id"], type="org.example.timeline.talks.offer_made"), "/type"),
        (sdk_dict(envelope, id=envelope["id"], type="talks.offer_made"), "/type"),
        (sdk_dict({**envelope, "subject": "ru-kursk-oblast"}, id=envelope["id"], subject="ua"), "/subject"),
    ]
    for event, path in cases:
        with pytest.raises(InvalidInput) as refused:
            envelope_of(event, NAMING)
        assert [e.path for e in refused.value.errors] == [path]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"specversion": "0.3"}, "/specversion"),
        ({"id": ""}, "/id"),
        ({"source": 5}, "/source"),
        ({"source": "a desk"}, "/source"),
        ({"type": None}, "/type"),
        ({"subject": ""}, "/subject"),
        ({"datacontenttype": "text/plain"}, "/datacontenttype"),
        ({"data_base64": "e30="}, "/data_base64"),
        ({"data": "not an object"}, "/data"),
        ({"Bad_Name": "x"}, "/Bad_Name"),
    ],
)
def test_what_is_not_a_cloudevent_is_refused_at_its_attribute(change: dict[str, Any], path: str) -> None:
    event = {**sdk_dict(claim()), **change}
    if "data_base64" in change:
        del event["data"]
    with pytest.raises(InvalidInput) as refused:
        envelope_of(event, NAMING)
    assert path in [e.path for e in refused.value.errors]


def test_datacontenttype_may_be_any_json_type() -> None:
    for kind in ("application/json", "application/json; charset=utf-8", "application/vnd.example+json"):
        envelope_of({**sdk_dict(claim()), "datacontenttype": kind}, NAMING)


def test_a_batch_locates_each_refusal_at_its_cloudevent() -> None:
    envelope = claim()
    good = sdk_dict(envelope)
    incoming = read_batch([good, {"specversion": "1.0"}], NAMING, 1000)
    assert incoming.items[0] == envelope
    refusal = incoming.items[1]
    assert isinstance(refusal, InvalidInput)
    assert refusal.extra["index"] == 1
    assert {e.path for e in refusal.errors} >= {"/1/id", "/1/source", "/1/type", "/1/data"}
    for body in ([], {"events": [good]}, [good] * 3):
        with pytest.raises(InvalidInput) as refused:
            read_batch(body, NAMING, 2)
        assert [e.path for e in refused.value.errors] == [""]
        assert "index" not in refused.value.extra


def test_refusals_found_as_in_a_plain_batch_move_into_the_array() -> None:
    envelope = claim()
    del envelope["type"]
    incoming = read_batch([sdk_dict(claim()), sdk_dict(envelope)], NAMING, 1000)
    exc = InvalidInput(
        "no",
        [FieldError("/events/1/data/area", "bad"), FieldError("/events/1/type", "bad"), FieldError("", "x")],
    ).at_index(1, "")
    moved = incoming.relocate(exc)
    assert [e.path for e in moved.errors] == ["/1/data/data/area", "/1/type", ""]
    assert moved.extra["index"] == 1 and type(moved) is InvalidInput


def test_the_formats_are_pure() -> None:
    """No web framework or database in service/formats: the routes are the only HTTP."""
    for path in (ROOT / "service" / "formats").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top not in {"fastapi", "starlette", "sse_starlette", "sqlalchemy"}, f"{path}: {name}"
                assert not name.startswith(("service.api", "service.stream", "service.interop")), name
