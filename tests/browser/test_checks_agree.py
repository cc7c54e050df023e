"""The editor checks an event in the browser as the server does: on random data for every
catalog type, `validateObject` of the viewer's schema_form.js accepts exactly what the
server's validation accepts (references need only be well formed at this stage)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.drafts import draft_or_refusal
from events.errors import InvalidInput
from events.instants import BadInstant, parse_occurred_at
from events.jsonio import parse_json_noting_form
from events.rules import MAX_LEAD
from events.types import type_catalog
from tests.browser.conftest import Viewer

EXAMPLES = int(os.environ.get("TIMELINE_CHECK_EXAMPLES", "200"))
CATALOG = {entry["type"]: entry["data_schema"] for entry in type_catalog()}
SOURCE = {"name": "Desk", "kind": "media"}

SLUGS = st.sampled_from(["ru", "ua", "kp", "ru-kursk-oblast", "isw", "a1", "x" * 80])
BAD_SLUGS = st.sampled_from(["", "Kursk", "ru kursk", "x" * 81, "ru_ua", "é", "ru\n", " ru"])
PEOPLE = st.sampled_from(["trump", "zelenskyy", "putin"])  # participants, and on_behalf_of's keys
PARTIES = st.sampled_from(["ru", "ua", "us", "hamas"])
BAD_PARTIES = st.sampled_from(["ru-ua", "", "RU"])
TEXTS = st.sampled_from(["a", "Ready to talk.", "😀 ok", ""])
BAD_TEXTS = st.sampled_from(["nul \u0000 here", "\ud800"])
INSTANTS = st.sampled_from(
    [
        "2025-04-25",
        "2025-04-26",
        "2025-04-27",
        "2025-04-28",
        "2025-04-26T12:00:00Z",
        "2025-04-26T12:00:00+02:00",
    ]
)
BAD_INSTANTS = st.sampled_from(["2025-4-26", "2025-04-26T12:00:00", "2025-02-30", "April", "2025"])
UUIDS = st.sampled_from(["0b6f0c8e-8f3c-4a53-9c6e-3f1a1c2b9d10", "0B6F0C8E-8F3C-4A53-9C6E-3F1A1C2B9D10"])
BAD_UUIDS = st.sampled_from(["0b6f0c8e", "not-a-uuid", ""])
WRONG_TYPES: st.SearchStrategy[Any] = st.sampled_from([None, 5, 1.5, True, [], {}])


@st.composite
def mostly(
    draw: st.DrawFn,
    good: st.SearchStrategy[Any],
    bad: st.SearchStrategy[Any],
    wrong: bool = True,
    good_share: int = 17,
) -> Any:
    """Good values `good_share` times in 20, else bad ones or values of the wrong type."""
    roll = draw(st.sampled_from(range(19 + 1)))
    return draw(good if roll < good_share else bad if roll < 19 or not wrong else WRONG_TYPES)


def strings(prop: dict[str, Any], people: bool = False, good_share: int = 17) -> st.SearchStrategy[Any]:
    pattern = prop.get("pattern", "")
    if "enum" in prop:
        good, bad = st.sampled_from(prop["enum"]), st.sampled_from(["bogus", "", "FULL"])
    elif prop.get("x-format") == "day-or-date-time":
        good, bad = INSTANTS, BAD_INSTANTS
    elif "[0-9a-fA-F]{8}" in pattern:
        good, bad = UUIDS, BAD_UUIDS
    elif "[a-z0-9-]" in pattern:
        good, bad = (PEOPLE if people else SLUGS), BAD_SLUGS
    elif "[a-z0-9]" in pattern:
        good, bad = PARTIES, BAD_PARTIES
    else:
        limit = prop.get("maxLength", 10_000)
        good = st.one_of(TEXTS, st.just("y" * limit))
        bad = st.one_of(BAD_TEXTS, st.just("y" * (limit + 1)))
    return mostly(good, bad, good_share=good_share)


def values(name: str, prop: dict[str, Any], good_share: int = 17) -> st.SearchStrategy[Any]:
    if prop.get("type") == "number":
        return st.sampled_from([0, 1.5, 12, 2**53 - 1, -1, 2**53, -0.5, "5"])
    if prop.get("type") == "array":
        item = strings(prop["items"], name == "participants")
        least = prop.get("minItems", 0)
        short = st.lists(item, max_size=least - 1) if least else st.just("a list?")
        return mostly(st.lists(item, min_size=least, max_size=4), short, good_share=good_share)
    if prop.get("type") == "object" and "properties" in prop:  # a clash's deaths
        counts = st.sampled_from([0, 1, 3, 7, 100, -1, 1.5, "5", True, None])
        estimates = st.dictionaries(st.sampled_from(["best", "low", "high", "median"]), counts, max_size=3)
        return mostly(estimates, st.sampled_from([[], "3", 3]), good_share=good_share)
    if prop.get("type") == "object":
        pairs = st.dictionaries(mostly(PEOPLE, BAD_SLUGS, wrong=False), mostly(SLUGS, BAD_SLUGS), max_size=3)
        return mostly(pairs, st.just([]), good_share=good_share)
    return strings(prop, good_share=good_share)


# A valid example of every type with every optional key set: most examples change one or
# two of its values, so that what one side checks and the other does not is one step away.
VALID: dict[str, dict[str, Any]] = {
    "territory.control_claimed": {"area": "ru-kursk-oblast-gornal", "controller": "ru", "extent": "full",
                                  "claimant": "ru", "within": "ru-kursk-oblast", "area_km2": 12.5},
    "territory.claim_denied": {"area": "ru-kursk-oblast", "claimant": "ua",
                               "denied_event_id": "0b6f0c8e-8f3c-4a53-9c6e-3f1a1c2b9d10"},
    "territory.assessed": {"area": "ru-kursk-oblast", "assessor": "isw", "controller": "ua",
                           "extent": "partial", "area_km2": 0},
    "forces.involvement_reported": {"area": "ru-kursk-oblast", "force": "kp", "supporting": "ru",
                                    "status": "acknowledged", "claimant": "ru", "size": "thousands"},
    "forces.clash_reported": {"area": "ru-kursk-oblast", "parties": ["ru", "ua"], "claimant": "acled",
                              "deaths": {"best": 3, "low": 1, "high": 7}},
    "talks.offer_made": {"party": "ru", "counterparty": "ua", "preconditions": ["none"]},
    "talks.position_stated": {"party": "ua", "counterparty": "ru", "position": "Leverage."},
    "talks.proposal_made": {"proposer": "us", "parties": ["ru", "ua"], "terms": ["a ceasefire"]},
    "talks.offer_rejected": {"party": "ua", "offer_event_id": "0b6f0c8e-8f3c-4a53-9c6e-3f1a1c2b9d10"},
    "talks.ceasefire_declared": {"parties": ["ru", "ua"], "declared_by": "ru", "starts": "2025-04-26",
                                 "ends": "2025-04-27", "scope": "energy"},
    "talks.round_held": {"parties": ["ru", "ua", "us"], "place": "istanbul", "mediator": "tr",
                         "outcome": "met"},
    "diplomacy.meeting_held": {"participants": ["trump", "zelenskyy"], "place": "va", "occasion": "a funeral",
                               "on_behalf_of": {"trump": "us"}, "tone": "calm", "topics": ["peace"]},
    "diplomacy.statement_made": {"speaker": "putin", "text": "Ready.", "party": "ru", "about": ["ua"]},
    "event.retracted": {"target_event_id": "0b6f0c8e-8f3c-4a53-9c6e-3f1a1c2b9d10", "reason": "wrong"},
}  # fmt: skip


@st.composite
def typed_data(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    name = draw(st.sampled_from(sorted(CATALOG)))
    schema = CATALOG[name]
    data: dict[str, Any] = {**VALID[name], "speaker": "gerasimov", "note": "n"}
    if name == "diplomacy.statement_made":
        data["speaker"] = "putin"
    wild = draw(st.sampled_from(range(3 + 1))) == 0  # a quarter of the examples change every key at will
    for key, prop in schema["properties"].items():
        roll = draw(st.sampled_from(range(9 + 1)))
        if wild:
            data[key] = draw(values(key, prop))
        elif roll == 0:  # one value changed, more often than not to a bad one
            data[key] = draw(values(key, prop, good_share=7))
        elif roll == 1 and (key not in schema["required"] or draw(st.sampled_from(range(4 + 1))) == 0):
            data.pop(key, None)
    if draw(st.sampled_from(range(49 + 1))) == 0:
        data["unknown_key"] = "x"
    return name, data


CHECK = """async ([schema, data]) => {
  const { validateObject } = await import('/viewer/js/schema_form.js');
  return validateObject(schema, '/data', data);
}"""
CHECK_ALL = """async (cases) => {
  const { validateObject } = await import('/viewer/js/schema_form.js');
  return cases.map(([schema, data]) => validateObject(schema, '/data', data).length > 0);
}"""


def examples_of(name: str, prop: dict[str, Any]) -> list[Any]:
    """Every value the strategies above can give a key, good and bad, and no value at all."""
    pattern = prop.get("pattern", "")
    strings_of = (
        [*prop["enum"], "bogus", "", "FULL"] if "enum" in prop
        else ["2025-04-25", "2025-04-26", "2025-04-27", "2025-04-28", "2025-04-26T12:00:00Z",
              "2025-04-26T12:00:00+02:00", "2025-4-26", "2025-04-26T12:00:00", "2025-02-30", "2025"]
        if prop.get("x-format") == "day-or-date-time"
        else ["0b6f0c8e-8f3c-4a53-9c6e-3f1a1c2b9d10", "0B6F0C8E-8F3C-4A53-9C6E-3F1A1C2B9D10", "0b6f0c8e", ""]
        if "[0-9a-fA-F]{8}" in pattern
        else ["ru", "trump", "putin", "ru-kursk-oblast", "x" * 80, "", "Kursk", "ru kursk", "x" * 81, "é",
              "ru\n"]
        if "[a-z0-9-]" in pattern
        else ["ru", "ua", "hamas", "ru-ua", "", "RU"]
        if "[a-z0-9]" in pattern
        else ["a", "", "😀", "y" * prop.get("maxLength", 10_000), "y" * (prop.get("maxLength", 10_000) + 1),
              "\u0000"]
    )  # fmt: skip
    wrong: list[Any] = [None, 5, 1.5, True, [], {}]
    if prop.get("type") == "number":
        return [0, 1.5, 12, 2**53 - 1, -1, 2**53, -0.5, "5", None, True, [], ...]
    if prop.get("type") == "array":
        items = [i for i in examples_of(name, prop["items"]) if i is not ...]
        lists = [
            [],
            [items[0]],
            [items[0], items[0]],
            items[:2],
            items[:3],
            [items[0], 5],
            "a list?",
            None,
            ...,
        ]
        return [*lists, *([[i, items[1]] for i in items])]
    if prop.get("type") == "object" and "properties" in prop:  # a clash's deaths
        return [
            {},
            {"best": 3},
            {"low": 1, "best": 2, "high": 9},
            {"low": 2, "high": 2},
            {"low": 5, "best": 3},
            {"best": 5, "high": 3},
            {"low": 5, "high": 3},
            {"best": -1},
            {"best": 1.5},
            {"best": "5"},
            {"best": True},
            {"best": None},
            {"median": 1},
            [],
            None,
            ...,
        ]
    if prop.get("type") == "object":
        return [
            {},
            {"trump": "us"},
            {"putin": "ru"},
            {"Trump": "us"},
            {"trump": "U S"},
            {"trump": 5},
            [],
            None,
            ...,
        ]
    return [*strings_of, *wrong, ...]


def single_changes() -> list[tuple[str, dict[str, Any]]]:
    """Each catalog type's valid example with one key changed to each of its examples
    (`...` leaves the key out), and the example itself."""
    cases = []
    for name, schema in sorted(CATALOG.items()):
        base = {**VALID[name], "speaker": "putin", "note": "n"}
        cases.append((name, base))
        for key, prop in schema["properties"].items():
            for value in examples_of(key, prop):
                changed = {k: v for k, v in base.items() if k != key}
                if value is not ...:
                    changed[key] = value
                cases.append((name, changed))
        cases.append((name, {**base, "unknown_key": "x"}))
    return cases


def test_every_single_change_of_a_valid_event_is_judged_alike(reader: Viewer) -> None:
    cases = single_changes()
    assert len(cases) > 500
    reader.open()
    refused_here = reader.page.evaluate(CHECK_ALL, [[CATALOG[name], data] for name, data in cases])
    disagree = []
    for (name, data), browser_refuses in zip(cases, refused_here, strict=True):
        envelope = {"type": name, "occurred_at": "2025-04-26", "source": SOURCE, "data": data}
        refusal = server_check(json.dumps(envelope).encode())
        if browser_refuses != bool(refusal):
            disagree.append(
                (name, data, browser_refuses, refusal and [(e.path, e.message) for e in refusal.errors])
            )
    assert not disagree, disagree[:5]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(example=typed_data())
def test_the_browser_accepts_exactly_what_the_server_accepts(
    reader: Viewer, example: tuple[str, dict[str, Any]]
) -> None:
    if not reader.page.url.startswith(reader.server.url):
        reader.open()
    type_name, data = example
    # JSON cannot carry a lone surrogate to the page; it is checked on the server side only.
    if "\ud800" in repr(data):
        return
    browser_errors = reader.page.evaluate(CHECK, [CATALOG[type_name], data])
    envelope = {"type": type_name, "occurred_at": "2025-04-26", "source": SOURCE, "data": data}
    refusal = server_check(json.dumps(envelope).encode())
    detail = [(e.path, e.message) for e in refusal.errors] if refusal else None
    assert bool(browser_errors) == bool(refusal), (type_name, data, browser_errors, detail)


def server_check(body: bytes) -> InvalidInput | None:
    """What POST /events does before the store: the strict JSON reader, then the draft."""
    try:
        envelope, fast_form = parse_json_noting_form(body)
    except InvalidInput as refused:
        return refused
    draft = draft_or_refusal(envelope, fast_form_known=fast_form)
    return draft if isinstance(draft, InvalidInput) else None


ENVELOPE_CHECK = """async (cases) => {
  const { validateObject } = await import('/viewer/js/schema_form.js');
  const { SOURCE_SCHEMA, TIMING_SCHEMA } = await import('/viewer/js/editor.js');
  return cases.map(([timing, source]) =>
    validateObject(TIMING_SCHEMA, '', timing).length
    + validateObject(SOURCE_SCHEMA, '/source', source).length > 0);
}"""
OCCURRED_AT = ["2025", "2025-04", "2025-04-26", "2025-04-26T10:00:00Z", "2025-04-26T10:00:00.123456+03:00",
               "0000", "2025-13", "2025-04-31", "2025-04-26T10:00:00", "2025-04-26 10:00:00Z", "9999", "2999",
               "2025-04-26T24:00:00Z", "2025-04-26T10:00:00+24:00", "", "26 April 2025"]  # fmt: skip
REPORTED_AT = [..., "2025-04-26T17:30:00Z", "2025-04-26T17:30:00.5-05:00", "2025-04-26", "2025-04-26T17:30Z"]
SOURCES: list[dict[str, Any]] = [
    {"name": "Wire", "kind": "media"},
    {"name": "", "kind": "media"},
    {"name": "x" * 200, "kind": "ngo"},
    {"name": "x" * 201, "kind": "ngo"},
    {"name": "Wire", "kind": "newspaper"},
    {"name": "Wire"},
    {"kind": "media"},
    {"name": "Wire", "kind": "media", "url": "https://example.org/a"},
    {"name": "Wire", "kind": "media", "url": "ftp://example.org/a"},
    {"name": "Wire", "kind": "media", "url": "https://example.org/a b"},
    {"name": "Wire", "kind": "media", "quote": "q" * 2000},
    {"name": "Wire", "kind": "media", "quote": "q" * 2001},
    {"name": "Wire", "kind": "media", "site": "x"},
]


def begins_too_late(timing: dict[str, Any]) -> bool:
    """The store's own rule, at append: no event begins more than 24 hours after it is recorded."""
    try:
        period = parse_occurred_at(timing.get("occurred_at", ""))
    except BadInstant:
        return False
    return period.start > datetime.now(UTC) + MAX_LEAD


def test_the_envelopes_own_fields_are_judged_alike(reader: Viewer) -> None:
    cases = []
    for occurred_at in [*OCCURRED_AT, ...]:
        for reported_at in REPORTED_AT:
            timing = {} if occurred_at is ... else {"occurred_at": occurred_at}
            if reported_at is not ...:
                timing["reported_at"] = reported_at
            cases.append((timing, SOURCES[0]))
    cases += [({"occurred_at": "2025-04-26"}, source) for source in SOURCES]
    reader.open()
    refused_here = reader.page.evaluate(ENVELOPE_CHECK, cases)
    disagree = []
    for (timing, source), browser_refuses in zip(cases, refused_here, strict=True):
        envelope = {"type": "diplomacy.statement_made", **timing, "source": source,
                    "data": {"speaker": "putin", "text": "Ready."}}  # fmt: skip
        refused = bool(server_check(json.dumps(envelope).encode())) or begins_too_late(timing)
        if browser_refuses != refused:
            disagree.append((timing, source, browser_refuses, refused))
    assert not disagree, disagree[:5]


def test_the_editors_copy_of_the_source_schema_is_the_servers(reader: Viewer) -> None:
    reader.open()
    mine = reader.page.evaluate("async () => (await import('/viewer/js/editor.js')).SOURCE_SCHEMA")
    server = reader.page.request.get(reader.server.url + "/openapi.json").json()["components"]["schemas"][
        "Source"
    ]
    assert mine["required"] == server["required"]
    assert set(mine["properties"]) == set(server["properties"])
    for name, prop in server["properties"].items():
        for rule in ("minLength", "maxLength", "pattern", "enum"):
            assert mine["properties"][name].get(rule) == prop.get(rule), (name, rule)
