"""Recording in the browser: the form built from /types, the intake of a report, the server's
errors at their fields, and corrections from an event's detail."""

from __future__ import annotations

import uuid
from typing import Any

import httpx2 as httpx
from playwright.sync_api import Page, expect

from service.cli import seed_article_path
from tests.browser.conftest import Viewer
from tests.browser.test_reading import ISW, KURSK, area_card, item
from tests.conftest import WRITE, WRITE_KEY


def events_after(viewer: Viewer, position: int) -> list[dict[str, Any]]:
    answer = httpx.get(viewer.server.url + "/events", params={"after": position}, timeout=10).json()
    events: list[dict[str, Any]] = answer["events"]
    return events


def field(page: Page, label: str) -> Any:
    return page.locator("#panel-editor").get_by_label(label, exact=True)


def fill_source(page: Page, name: str = "Desk notes", kind: str = "other") -> None:
    field(page, "Source name (required)").fill(name)
    field(page, "Kind of source (required)").select_option(kind)


def record(page: Page, button: str = "Record") -> None:
    page.locator("#panel-editor").get_by_role("button", name=button, exact=True).click()


def test_a_claim_typed_into_the_form_is_stored_and_seen_in_the_view(viewer: Viewer) -> None:
    page = viewer.open("?tab=editor")
    viewer.use_key(WRITE_KEY)
    page.select_option("#editor-type", "territory.control_claimed")
    field(page, "Occurred at (required)").fill("2025-04-20")
    fill_source(page, "Example Wire", "media")
    field(page, "URL").fill("https://example.org/belgorod")
    field(page, "Area (required)").fill("ru-belgorod-oblast")
    field(page, "Controller (required)").fill("ua")
    field(page, "Extent (required)").select_option("partial")
    field(page, "Claimant (required)").fill("ua")
    field(page, "Area Km2").fill("12.5")
    event_id = page.locator(".event-id").inner_text()
    record(page)
    expect(page.locator(".form-status")).to_contain_text("Recorded at position 17")
    [stored] = events_after(viewer, 16)
    assert stored["id"] == event_id  # the id made when the form opened
    assert stored["data"] == {
        "area": "ru-belgorod-oblast",
        "controller": "ua",
        "extent": "partial",
        "claimant": "ua",
        "area_km2": 12.5,
    }
    assert stored["source"] == {
        "name": "Example Wire",
        "kind": "media",
        "url": "https://example.org/belgorod",
    }
    assert stored["occurred_at"] == "2025-04-20" and stored["reported_at"] is None
    # The next event of the same report keeps its source and gets a new id.
    expect(field(page, "Source name (required)")).to_have_value("Example Wire")
    assert page.locator(".event-id").inner_text() != event_id
    page.click("#tab-territory")
    card = area_card(viewer, "ru-belgorod-oblast")
    expect(card.locator(f"li[data-event-id='{event_id}']")).to_contain_text(
        "ua claims ua controls it (partial)"
    )


def test_a_passage_of_the_seed_article_pasted_into_the_intake_becomes_an_events_quote(viewer: Viewer) -> None:
    article = seed_article_path().read_text()
    passage = "Ukrainian units continue to hold designated positions and inflict damage on the enemy"
    page = viewer.open("?tab=intake")
    viewer.use_key(WRITE_KEY)
    page.fill("#intake-text", article)
    page.fill("#intake-name", "Putin Signals Openness to Ukraine Talks")
    page.select_option("#intake-kind", "media")
    page.fill("#intake-url", "https://example.org/putin-talks")
    page.fill("#intake-published", "2025-04-26T17:30:00Z")
    expect(page.locator("#intake-start")).to_be_disabled()  # nothing selected yet
    start = len(article[: article.index(passage)].encode("utf-16-le")) // 2  # JavaScript counts UTF-16 units
    page.locator("#intake-text").evaluate(
        "(el, [a, b]) => { el.focus(); el.setSelectionRange(a, b); el.dispatchEvent(new Event('select')); }",
        [start, start + len(passage)],
    )
    expect(page.locator(".selection")).to_contain_text(passage[:40])
    page.click("#intake-start")
    viewer.wait_query(tab="editor")
    expect(field(page, "Quote")).to_have_value(passage)
    expect(field(page, "Reported at")).to_have_value("2025-04-26T17:30:00Z")
    expect(field(page, "Occurred at (required)")).to_have_value("2025-04-26")
    page.select_option("#editor-type", "territory.claim_denied")
    field(page, "Area (required)").fill(KURSK)
    field(page, "Claimant (required)").fill("ua")
    field(page, "Speaker").fill("ua-general-staff")
    record(page)
    expect(page.locator(".form-status")).to_contain_text("Recorded at position 17")
    [stored] = events_after(viewer, 16)
    assert stored["source"] == {
        "name": "Putin Signals Openness to Ukraine Talks",
        "kind": "media",
        "url": "https://example.org/putin-talks",
        "quote": passage,
    }
    assert stored["reported_at"] == "2025-04-26T17:30:00Z" and stored["type"] == "territory.claim_denied"


def test_a_value_the_server_refuses_shows_its_message_at_the_field(viewer: Viewer) -> None:
    missing = str(uuid.uuid4())
    page = viewer.open("?tab=editor")
    viewer.use_key(WRITE_KEY)
    page.select_option("#editor-type", "territory.claim_denied")
    field(page, "Occurred at (required)").fill("2025-04-26")
    fill_source(page)
    field(page, "Area (required)").fill(KURSK)
    field(page, "Claimant (required)").fill("ua")
    field(page, "Denied Event Id").fill(missing)  # well formed, but no such event: only the server knows
    record(page)
    body = {
        "type": "territory.claim_denied",
        "occurred_at": "2025-04-26",
        "source": {"name": "Desk notes", "kind": "other"},
        "data": {"area": KURSK, "claimant": "ua", "denied_event_id": missing},
    }
    refusal = httpx.post(viewer.server.url + "/events", json=body, headers=WRITE, timeout=10).json()
    [error] = refusal["errors"]
    assert error["path"] == "/data/denied_event_id"
    at_field = page.locator("[data-pointer='/data/denied_event_id'] .field-error")
    expect(at_field).to_have_text(error["message"])
    expect(field(page, "Denied Event Id")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".form-status")).to_contain_text("Invalid input")
    assert events_after(viewer, 16) == []


def test_the_browser_checks_as_the_server_does_before_sending(viewer: Viewer) -> None:
    page = viewer.open("?tab=editor")
    viewer.use_key(WRITE_KEY)
    page.select_option("#editor-type", "talks.offer_made")
    field(page, "Occurred at (required)").fill("2025-04-26T10:00:00")  # no offset
    field(page, "Party (required)").fill("ru")
    field(page, "Counterparty (required)").fill("ru")
    record(page)
    errors = {
        pointer: page.locator(f"[data-pointer='{pointer}'] > .field-error").inner_text()
        for pointer in ["/occurred_at", "/source/name", "/source/kind", "/data/counterparty"]
    }
    assert "offset" in errors["/occurred_at"]
    assert errors["/source/name"] == errors["/source/kind"] == "required"
    assert errors["/data/counterparty"] == "must differ from party"
    expect(page.locator(".form-status")).to_contain_text("Check the 4 fields marked below.")
    assert viewer.posts == []  # nothing was sent


def test_without_a_key_nothing_is_sent_and_the_key_is_asked_for(viewer: Viewer) -> None:
    page = viewer.open("?tab=editor")
    page.select_option("#editor-type", "diplomacy.statement_made")
    field(page, "Occurred at (required)").fill("2025-04-26")
    fill_source(page)
    field(page, "Speaker (required)").fill("peskov")
    field(page, "Text (required)").fill("We are ready.")
    record(page)
    expect(page.locator(".form-status")).to_contain_text("A write key is needed")
    assert viewer.posts == []
    # The key goes in a header, and is kept in sessionStorage only.
    viewer.use_key(WRITE_KEY)
    assert page.evaluate("sessionStorage.getItem('timeline.key')") == WRITE_KEY
    assert page.evaluate("localStorage.length") == 0
    with page.expect_request(lambda r: r.method == "POST") as sent:
        record(page)
    assert sent.value.headers["authorization"] == f"Bearer {WRITE_KEY}"
    assert WRITE_KEY not in sent.value.url and WRITE_KEY not in page.url
    expect(page.locator(".form-status")).to_contain_text("Recorded at position 17")


def test_a_retraction_from_the_detail_removes_the_item_now_and_not_at_an_earlier_known_at(
    viewer: Viewer,
) -> None:
    before = httpx.get(viewer.server.url + "/state/diplomacy", timeout=10).json()["known_at"]
    page = viewer.open("?as_of=2025-04-26")
    viewer.use_key(WRITE_KEY)
    item(area_card(viewer, KURSK), "assessments", ISW).get_by_role("link", name="source and event").click()
    page.locator("#detail").get_by_role("button", name="Retract").click()
    viewer.wait_query(as_of="2025-04-26", tab="editor")
    expect(page.locator(".editor-form .notice")).to_contain_text(f"This retracts {ISW}")
    expect(field(page, "Target Event Id (required)")).to_have_value(ISW)
    fill_source(page, "Desk notes", "other")
    field(page, "Reason (required)").fill("misread the institute's map")
    record(page, "Retract")
    expect(page.locator(".form-status")).to_contain_text("Recorded at position 17")
    page.click("#tab-territory")
    viewer.wait_position(17)
    expect(item(area_card(viewer, KURSK), "assessments", ISW)).to_have_count(0)
    viewer.open(f"?as_of=2025-04-26&known_at={before}")
    expect(item(area_card(viewer, KURSK), "assessments", ISW)).to_have_count(1)
    # The detail says what retracted it, and links to it.
    viewer.open(f"?as_of=2025-04-26&event={ISW}")
    correction = page.locator("#detail .corrections li")
    expect(correction).to_contain_text("retracted by event.retracted at position 17")
    expect(correction).to_contain_text("misread the institute's map")


def test_a_correction_from_the_detail_supersedes_the_event(viewer: Viewer) -> None:
    page = viewer.open("?as_of=2025-04-26")
    viewer.use_key(WRITE_KEY)
    item(area_card(viewer, KURSK), "assessments", ISW).get_by_role("link", name="source and event").click()
    page.locator("#detail").get_by_role("button", name="Correct").click()
    expect(page.locator(".editor-form .notice")).to_contain_text(f"This event will supersede {ISW}")
    expect(page.locator("#editor-type")).to_be_disabled()  # a correction keeps the type
    expect(field(page, "Assessor (required)")).to_have_value("isw")  # pre-filled from the event
    field(page, "Extent (required)").select_option("full")
    record(page)
    expect(page.locator(".form-status")).to_contain_text("Recorded at position 17")
    [stored] = events_after(viewer, 16)
    assert stored["supersedes"] == ISW and stored["data"]["extent"] == "full"
    assert stored["data"]["assessor"] == "isw" and stored["data"]["controller"] == "ua"
    page.click("#tab-territory")
    viewer.wait_position(17)
    kursk = area_card(viewer, KURSK)
    expect(item(kursk, "assessments", ISW)).to_have_count(0)
    expect(item(kursk, "assessments", stored["id"])).to_contain_text("isw assesses ua controls it (full)")


def test_a_clash_with_its_deaths_is_checked_in_the_browser_then_stored(viewer: Viewer) -> None:
    page = viewer.open("?tab=editor")
    viewer.use_key(WRITE_KEY)
    page.select_option("#editor-type", "forces.clash_reported")
    field(page, "Occurred at (required)").fill("2024-08-10")
    fill_source(page, "UCDP", "other")
    field(page, "Area (required)").fill(KURSK)
    for index, party in enumerate(("ru", "ua"), start=1):
        page.locator("#panel-editor").get_by_role("button", name="Add an item").first.click()
        field(page, f"Parties {index}").fill(party)
    field(page, "Claimant (required)").fill("ucdp")
    field(page, "Low").fill("5")
    field(page, "Best").fill("3")  # below low: the browser says so, and sends nothing
    record(page)
    at_deaths = page.locator("[data-pointer='/data/deaths'] .field-error").first
    expect(at_deaths).to_contain_text("low <= best <= high")
    expect(page.locator(".form-status")).to_contain_text("Check the field marked below.")
    assert viewer.posts == []  # nothing was sent
    field(page, "Low").fill("2")
    field(page, "High").fill("9")
    record(page)
    expect(page.locator(".form-status")).to_contain_text("Recorded at position 17")
    [stored] = events_after(viewer, 16)
    assert stored["data"] == {
        "area": KURSK,
        "parties": ["ru", "ua"],
        "claimant": "ucdp",
        "deaths": {"best": 3, "low": 2, "high": 9},
    }
