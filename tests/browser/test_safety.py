"""Safety and access: hostile text stays text, nothing comes from elsewhere (the API docs
included), every control has a label and is reached by keyboard, and a phone can read it."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.browser.conftest import Viewer, append, viewer_for
from tests.factories import claim
from tests.server import ServerProcess

HOSTILE = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"


def test_a_hostile_quote_renders_as_text_and_creates_no_element(viewer: Viewer) -> None:
    event = claim(
        area="ru-belgorod-oblast",
        occurred_at="2025-04-20",
        source={"name": SCRIPT, "kind": "media", "quote": HOSTILE, "url": "https://example.org/?q=<b>x</b>"},
        data_extra={"note": HOSTILE},
    )
    stored = append(viewer.server, event)[0]
    page = viewer.open(f"?as_of=2025-04-26&event={stored['id']}")
    detail = page.locator("#detail")
    expect(detail.locator("blockquote")).to_have_text(HOSTILE)
    expect(detail).to_contain_text(SCRIPT)
    expect(detail.locator("dd").filter(has_text=HOSTILE)).to_have_count(1)  # the note
    assert page.locator("img").count() == 0
    assert page.locator("script").count() == 1  # the viewer's own module, no other
    assert page.locator("#detail b").count() == 0
    page.wait_for_timeout(300)  # an onerror handler would have run by now
    # (the fixture fails the test on any dialog, and on any request to another host)


def test_the_api_docs_render_their_operations_with_no_outside_request(
    chromium: Browser, reading_server: ServerProcess
) -> None:
    for viewer in viewer_for(chromium, reading_server):
        page = viewer.page
        page.goto(reading_server.url + "/docs")
        page.wait_for_selector(".opblock")
        paths = page.request.get(reading_server.url + "/openapi.json").json()["paths"]
        operations = sum(len(methods) for methods in paths.values())
        expect(page.locator(".opblock")).to_have_count(operations)
        expect(page.locator(".opblock-summary-path", has_text="/state/changes")).to_have_count(1)
        # ReDoc's sidebar shows its vendor's logo from a CDN; the page's policy blocks it,
        # so no request leaves the browser (and the logo is left out).
        viewer.may_block = {"https://cdn.redoc.ly/redoc/logo-mini.svg"}
        page.goto(reading_server.url + "/redoc")
        heading = page.get_by_role("heading", name="What changed between two (as_of, known_at) pairs")
        expect(heading).to_be_visible()


LABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter((el) => el.offsetParent !== null || el.type === 'range')
  .filter((el) => {
    if (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')) return false;
    if (el.tagName === 'BUTTON') return !el.textContent.trim();
    if (el.closest('label')) return false;
    return !(el.id && document.querySelector(`label[for="${el.id}"]`));
  })
  .map((el) => el.outerHTML.slice(0, 80))"""


def test_every_control_of_every_tab_has_a_label(reader: Viewer) -> None:
    page = reader.open("?as_of=2025-04-26&area=ru-kursk-oblast")
    for tab in ["territory", "talks", "diplomacy", "changes", "editor", "intake"]:
        page.click(f"#tab-{tab}")
        reader.wait_query(as_of="2025-04-26", area="ru-kursk-oblast", tab=tab)
        page.wait_for_timeout(100)
        assert page.evaluate(LABELLED) == [], tab
    page.click("#tab-editor")
    page.select_option("#editor-type", "diplomacy.meeting_held")
    page.locator("#panel-editor").get_by_role("button", name="Add an item").first.click()
    page.locator("#panel-editor").get_by_role("button", name="Add an entry").click()
    assert page.evaluate(LABELLED) == []


def test_the_keyboard_reaches_the_controls_and_the_items(reader: Viewer) -> None:
    page = reader.open("?as_of=2025-04-26")
    reached = set()
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.id || document.activeElement.className"))
    assert {"as-of-slider", "as-of-date", "known-at", "tab-territory", "event-link"} <= reached
    # Tabs move with the arrow keys, and a link opens an event's detail from the keyboard.
    page.focus("#tab-territory")
    page.keyboard.press("ArrowRight")
    reader.wait_query(as_of="2025-04-26", tab="talks")
    page.locator("#panel-talks .event-link").first.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#detail-title")).to_be_focused()


def test_a_375_pixel_phone_screen_reads_every_tab_without_scrolling_sideways(
    chromium: Browser, reading_server: ServerProcess
) -> None:
    for phone in viewer_for(chromium, reading_server, width=375):
        page = phone.open("?as_of=2025-04-26&area=ru-kursk-oblast&event=9b00ad44-db4e-5bbe-8f60-24630d098488")
        expect(page.locator("#detail-title")).to_be_visible()  # the detail covers the screen
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.get_by_role("button", name="Close").click()
        for tab in ["territory", "talks", "diplomacy", "changes", "editor", "intake"]:
            page.click(f"#tab-{tab}")
            page.wait_for_timeout(150)
            assert page.evaluate("document.documentElement.scrollWidth") <= 375, tab
