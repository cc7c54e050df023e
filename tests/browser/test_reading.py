"""Reading in the browser: the seed article on its dates, permalinks, nesting, history, changes."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import Viewer, seed_events

KURSK = "ru-kursk-oblast"


def seed_id(event_type: str, **data: Any) -> str:
    for event in seed_events():
        if event["type"] == event_type and all(event["data"].get(k) == v for k, v in data.items()):
            return str(event["id"])
    raise LookupError(event_type)


GERASIMOV = seed_id("territory.control_claimed", area=KURSK, claimant="ru")
DENIAL = seed_id("territory.claim_denied", area=KURSK)
ISW = seed_id("territory.assessed", assessor="isw")
INCURSION = seed_id("territory.control_claimed", claimant="ua", area_km2=1295)


def area_card(viewer: Viewer, area: str) -> Any:
    return viewer.page.locator(f"article.area[data-area='{area}']")


def item(card: Any, list_name: str, event_id: str) -> Any:
    # The area's own lists, not those of an area nested in it.
    return card.locator(f":scope > section.list-{list_name} li[data-event-id='{event_id}']")


def test_kursk_on_the_day_of_the_article_is_contested_with_claim_denial_and_assessment(
    reader: Viewer,
) -> None:
    reader.open("?as_of=2025-04-26")
    kursk = area_card(reader, KURSK)
    expect(kursk.locator(":scope > header .badge")).to_have_text("contested")
    expect(kursk).to_have_attribute("data-status", "contested")
    claim = item(kursk, "claims", GERASIMOV)
    expect(claim).to_contain_text("ru claims ru controls it (full)")
    expect(claim).to_contain_text("gerasimov")
    expect(item(kursk, "denials", DENIAL)).to_contain_text("ua denies")
    expect(item(kursk, "assessments", ISW)).to_contain_text("isw assesses ua controls it (partial)")
    expect(claim.locator(".tentative-mark")).to_have_count(0)
    # Gornal is shown inside Kursk, the area it lies within.
    gornal = kursk.locator(":scope > .children article.area[data-area='ru-kursk-oblast-gornal']")
    expect(gornal.locator("header .badge")).to_have_text("uncontested")
    expect(gornal).to_contain_text("within ru-kursk-oblast")
    expect(reader.page.locator("#summary")).to_contain_text("at the end of 2025-04-26 (UTC), as known now")


def test_the_incursion_is_tentative_in_words_while_august_is_not_over(reader: Viewer) -> None:
    reader.open("?as_of=2024-08-15")
    incursion = item(area_card(reader, KURSK), "claims", INCURSION)
    expect(incursion).to_have_class("item tentative")
    expect(incursion.locator(".tentative-mark")).to_have_text("tentative")
    expect(area_card(reader, KURSK).locator(":scope > header .badge")).to_have_text("uncontested")
    reader.open("?as_of=2024-09-01")
    expect(item(area_card(reader, KURSK), "claims", INCURSION).locator(".tentative-mark")).to_have_count(0)


def test_moving_the_date_control_changes_the_url_and_reloading_it_shows_the_same_view(reader: Viewer) -> None:
    page = reader.open("?as_of=2025-04-26")
    slider = page.locator("#as-of-slider")
    slider.focus()
    slider.press("ArrowLeft")  # the slider snaps to the previous day with events
    page.wait_for_url("**/?as_of=2025-01-01")
    reader.wait_ready()
    expect(page.locator("#as-of-label")).to_have_text("2025-01-01 (end of day, UTC)")
    expect(area_card(reader, KURSK).locator(":scope > header .badge")).to_have_text("contested")
    shown = page.locator("#panel-territory").inner_text()
    page.reload()
    reader.wait_ready()
    assert page.url.endswith("/?as_of=2025-01-01")
    assert page.locator("#panel-territory").inner_text() == shown
    # The date field and the step buttons move it too; the URL follows each move.
    page.fill("#as-of-date", "2024-08-15")
    page.locator("#as-of-date").dispatch_event("change")
    page.wait_for_url("**/?as_of=2024-08-15")
    page.click("#as-of-next")
    page.wait_for_url("**/?as_of=2025-01-01")
    page.click("#as-of-previous")
    page.wait_for_url("**/?as_of=2024-08-01")


def test_a_permalink_with_every_key_shows_that_view(reader: Viewer) -> None:
    known_at = seed_known_at(reader)
    page = reader.open(f"?as_of=2025-04-26&known_at={known_at}&area={KURSK}&track=ru-ua&tab=talks")
    expect(page.locator("#tab-talks")).to_have_attribute("aria-selected", "true")
    track = page.locator("article.track[data-track='ru-ua']")
    expect(track.locator("header .badge")).to_have_text("offered")
    expect(track.locator("section.list-offers")).to_contain_text("ru offers talks to ua")
    expect(track.locator("section.list-offers")).to_contain_text("preconditions: none")
    expect(page.locator("#known-at-state")).to_have_text(f"Frozen at {known_at}")
    expect(page.locator("#live")).to_have_attribute("data-state", "frozen")
    page.click("#tab-territory")
    reader.wait_query(as_of="2025-04-26", known_at=known_at, area=KURSK, track="ru-ua", tab="territory")
    assert f"known_at={known_at}&" in page.url  # readable: colons are not escaped
    expect(page.locator("article.area")).to_have_count(1)  # one area, as the URL says
    expect(page.locator(".history .segment").first).to_be_visible()


def seed_known_at(viewer: Viewer) -> str:
    return str(viewer.page.request.get(viewer.server.url + "/state/diplomacy").json()["known_at"])


def test_an_areas_history_is_a_strip_of_periods_that_moves_the_date(reader: Viewer) -> None:
    page = reader.open(f"?as_of=2025-04-26&area={KURSK}")
    segments = page.locator(".history .segment")
    history = page.request.get(reader.server.url + f"/state/territory/{KURSK}/history").json()["intervals"]
    expect(segments).to_have_count(len(history))
    for segment, interval in zip(segments.all(), history, strict=True):
        expect(segment).to_have_text(interval["status"])  # in words, not colour alone
    expect(page.locator(".history .periods li")).to_have_count(len(history))
    segments.first.click()
    page.wait_for_url(f"**/?as_of={history[0]['valid_from'][:10]}&area={KURSK}")


def test_diplomacy_lists_meetings_and_statements(reader: Viewer) -> None:
    page = reader.open("?as_of=2025-04-26&tab=diplomacy")
    meetings = page.locator("section.list-meetings li")
    expect(meetings.filter(has_text="trump, zelenskyy met in va")).to_have_count(1)
    expect(page.locator("section.list-statements")).to_contain_text("putin (ru)")


def test_the_detail_shows_the_event_behind_an_item(reader: Viewer) -> None:
    page = reader.open("?as_of=2025-04-26")
    item(area_card(reader, KURSK), "claims", GERASIMOV).get_by_role("link", name="source and event").click()
    detail = page.locator("#detail")
    expect(detail.locator("h2")).to_have_text("territory.control_claimed")
    expect(detail.locator("blockquote")).to_have_text(
        "Russian forces have fully liberated the Kursk region from Ukrainian control"
    )
    expect(detail).to_contain_text("2025-04-26 (precision: day)")
    expect(detail).to_contain_text("(media)")
    expect(detail).to_contain_text("None: nothing supersedes or retracts this event.")
    assert f"event={GERASIMOV}" in page.url
    event = page.request.get(reader.server.url + f"/events/{GERASIMOV}").json()
    for shown in [event["recorded_at"], str(event["position"]), event["hash"]]:
        expect(detail).to_contain_text(shown)
    page.keyboard.press("Escape")
    expect(detail).to_be_hidden()
    assert "event=" not in page.url
    # A permalink to the detail opens it.
    reader.open(f"?as_of=2025-04-26&event={DENIAL}")
    expect(detail.locator("h2")).to_have_text("territory.claim_denied")
    detail.get_by_role("link", name=GERASIMOV).click()  # the claim it denies
    expect(detail.locator("h2")).to_have_text("territory.control_claimed")


def test_what_changed_between_two_dates(reader: Viewer) -> None:
    page = reader.open(f"?as_of=2025-04-26&tab=changes&area={KURSK}")
    page.fill("#from-as-of", "2024-08-15")
    page.get_by_role("button", name="Compare").click()
    reader.wait_query(as_of="2025-04-26", area=KURSK, tab="changes", from_as_of="2024-08-15")
    kursk = page.locator(f".changes article[data-area='{KURSK}']")
    expect(kursk.locator(".scalar-change").first).to_contain_text("status: uncontested → contested")
    expect(kursk.locator(f"li.change-removed[data-event-id='{INCURSION}']")).to_contain_text("removed:")
    expect(kursk.locator(f"li.change-added[data-event-id='{GERASIMOV}']")).to_contain_text("added:")
    expect(page.locator(".changes article")).to_have_count(1)  # the area filter holds


def test_the_viewer_asks_for_a_page_of_areas_and_the_latest_items_and_shows_more_on_request(
    viewer: Viewer,
) -> None:
    from tests.browser.conftest import append
    from tests.factories import claim, envelope

    append(viewer.server, *[claim(area=f"a-{n:03d}", occurred_at="2025-04-01") for n in range(60)])
    meeting = {"participants": ["a", "b"], "place": "va"}
    append(
        viewer.server,
        *[envelope("diplomacy.meeting_held", meeting, occurred_at=f"2025-03-{d:02d}") for d in range(1, 26)],
    )
    page = viewer.open("?as_of=2025-04-26")
    expect(page.locator("article.area.depth-0")).to_have_count(50)  # a page of areas, in name order
    with page.expect_request(lambda r: "areas_after=a-049" in r.url):
        page.get_by_role("button", name="Show more areas").click()
    expect(page.locator("article.area")).to_have_count(63)  # the 60, ru, Kursk and Gornal (within Kursk)
    expect(page.get_by_role("button", name="Show more areas")).to_have_count(0)
    page.click("#tab-diplomacy")
    expect(page.locator("section.list-meetings li")).to_have_count(20)  # the latest 20
    page.get_by_role("button", name="Show every one").click()
    expect(page.locator("section.list-meetings li")).to_have_count(27)
