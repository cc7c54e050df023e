"""Live: at known_at = now new events arrive over EventSource and the view follows them
without a reload; with an explicit known_at the view is frozen and says so."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.browser.conftest import Viewer, append, viewer_for
from tests.factories import claim

BELGOROD = "article.area[data-area='ru-belgorod-oblast']"


def belgorod_claim() -> dict[str, object]:
    return claim(area="ru-belgorod-oblast", claimant="ua", extent="partial", occurred_at="2025-04-20")


def test_an_event_appended_over_http_appears_without_a_reload(viewer: Viewer) -> None:
    page = viewer.open()
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    expect(page.locator("#live")).to_contain_text("Live")
    page.evaluate("window.notReloaded = true")
    stored = append(viewer.server, belgorod_claim())[0]
    expect(page.locator(BELGOROD)).to_be_visible()
    expect(page.locator(BELGOROD).locator(f"li[data-event-id='{stored['id']}']")).to_contain_text(
        "ua claims ua"
    )
    assert page.evaluate("window.notReloaded") is True
    viewer.wait_position(17)
    # The date control learns the new event's day as well.
    assert page.locator("#as-of-slider").get_attribute("max") == "5"  # four seed days, the new one, today


def test_with_known_at_set_the_view_is_frozen_and_an_append_does_not_change_it(
    viewer: Viewer, chromium: Browser
) -> None:
    known_at = viewer.page.request.get(viewer.server.url + "/state/diplomacy").json()["known_at"]
    frozen = viewer.open(f"?known_at={known_at}")
    expect(frozen.locator("#live")).to_have_attribute("data-state", "frozen")
    expect(frozen.locator("#live")).to_contain_text("Frozen")
    expect(frozen.locator("#known-at-state")).to_have_text(f"Frozen at {known_at}")
    for live in viewer_for(chromium, viewer.server):
        live.open()
        expect(live.page.locator("#live")).to_have_attribute("data-state", "live")
        append(viewer.server, belgorod_claim())
        expect(live.page.locator(BELGOROD)).to_be_visible()  # the live page got it ...
        live.wait_position(17)
    assert frozen.locator(BELGOROD).count() == 0  # ... and the frozen one did not move
    assert frozen.locator("body").get_attribute("data-position") == "16"
    # Back to now: live again, and up to date.
    frozen.click("#known-at-now")
    expect(frozen.locator(BELGOROD)).to_be_visible()
    expect(frozen.locator("#live")).to_have_attribute("data-state", "live")
    assert "known_at" not in frozen.url


def test_paused_shows_nothing_new_until_resumed(viewer: Viewer) -> None:
    page = viewer.open()
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#live")).to_have_attribute("data-state", "paused")
    expect(page.locator("#live")).to_contain_text("Paused")
    append(viewer.server, belgorod_claim())
    page.wait_for_timeout(1500)  # time enough for a live view to have shown it
    assert page.locator(BELGOROD).count() == 0
    page.get_by_role("button", name="Resume").click()
    expect(page.locator(BELGOROD)).to_be_visible()
    expect(page.locator("#live")).to_have_attribute("data-state", "live")


def test_the_indicator_says_reconnecting_while_the_service_is_away_and_catches_up(viewer: Viewer) -> None:
    page = viewer.open()
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
    viewer.server.stop(close_log=False)
    expect(page.locator("#live")).to_have_attribute("data-state", "reconnecting")
    expect(page.locator("#live")).to_contain_text("Reconnecting")
    viewer.server.start()
    append(viewer.server, belgorod_claim())  # appended while the browser is still away
    expect(page.locator(BELGOROD)).to_be_visible(timeout=15_000)
    expect(page.locator("#live")).to_have_attribute("data-state", "live")
