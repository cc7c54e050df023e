"""The screenshots in docs/viewer.md, taken by a test so that they show the viewer as it is.

Each is checked for what it must show before it is taken. They go to the test's own
folder, or to TIMELINE_SCREENSHOTS when set (`TIMELINE_SCREENSHOTS=docs/viewer ./dev test
tests/browser/test_screenshots.py` renews the documentation's copies).
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx2 as httpx
from playwright.sync_api import Browser, expect

from tests.browser.conftest import Viewer, append, viewer_for
from tests.browser.test_reading import INCURSION, ISW, KURSK, area_card, item
from tests.factories import retraction
from tests.server import ServerProcess


def folder(tmp_path: Path) -> Path:
    target = Path(os.environ.get("TIMELINE_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


def shoot(viewer: Viewer, path: Path, *, full: bool = False) -> None:
    viewer.page.wait_for_timeout(200)  # the last layout settles
    viewer.page.screenshot(path=path, full_page=full)
    assert path.stat().st_size > 10_000, path


def test_the_screenshots_of_the_viewer_guide(viewer: Viewer, chromium: Browser, tmp_path: Path) -> None:
    out = folder(tmp_path)
    page = viewer.open(f"?as_of=2025-04-26&area={KURSK}")
    expect(area_card(viewer, KURSK).locator(":scope > header .badge")).to_have_text("contested")
    shoot(viewer, out / "kursk-2025-04-26.png", full=True)

    page = viewer.open("?as_of=2024-08-15")
    expect(item(area_card(viewer, KURSK), "claims", INCURSION).locator(".tentative-mark")).to_be_visible()
    shoot(viewer, out / "incursion-2024-08-15-tentative.png")

    page = viewer.open(f"?as_of=2025-04-26&event={ISW}")
    expect(page.locator("#detail blockquote")).to_be_visible()
    shoot(viewer, out / "event-detail.png")

    before = httpx.get(viewer.server.url + "/state/diplomacy", timeout=10).json()["known_at"]
    withdrawn = append(viewer.server, retraction(ISW, occurred_at="2025-04-28"))[0]
    viewer.open(f"?as_of=2025-04-26&known_at={before}")
    expect(item(area_card(viewer, KURSK), "assessments", ISW)).to_have_count(1)
    shoot(viewer, out / "kursk-known-before-the-retraction.png")
    viewer.open(f"?as_of=2025-04-26&known_at={withdrawn['recorded_at']}")
    expect(item(area_card(viewer, KURSK), "assessments", ISW)).to_have_count(0)
    shoot(viewer, out / "kursk-known-after-the-retraction.png")

    page = viewer.open(f"?as_of=2025-04-26&tab=changes&from_known_at={before}")
    expect(page.locator(f".changes li.change-removed[data-event-id='{ISW}']")).to_be_visible()
    shoot(viewer, out / "what-changed-after-the-retraction.png")

    page = viewer.open("?tab=editor")
    page.select_option("#editor-type", "territory.control_claimed")
    shoot(viewer, out / "editor.png", full=True)

    page = viewer.open("?tab=intake")
    article = (Path(__file__).parents[2] / "events" / "seed_article.txt").read_text()
    passage = "Independent sources, including the Institute for the Study of War (ISW), also suggest"
    start = len(article[: article.index(passage)].encode("utf-16-le")) // 2
    page.fill("#intake-text", article)
    page.fill("#intake-name", "Putin Signals Openness to Ukraine Talks")
    page.fill("#intake-published", "2025-04-26T17:30:00Z")
    page.locator("#intake-text").evaluate(
        "(el, [a, b]) => { el.focus(); el.setSelectionRange(a, b); el.dispatchEvent(new Event('select'));"
        " el.scrollTop = 0; }",
        [start, start + len(passage)],
    )
    expect(page.locator("#intake-start")).to_be_enabled()
    shoot(viewer, out / "intake.png")


def test_the_phone_screenshot(chromium: Browser, reading_server: ServerProcess, tmp_path: Path) -> None:
    for phone in viewer_for(chromium, reading_server, width=375):
        phone.page.set_viewport_size({"width": 375, "height": 780})
        phone.open("?as_of=2024-08-15")
        expect(phone.page.locator("article.area").first).to_be_visible()
        shoot(phone, folder(tmp_path) / "phone-2024-08-15.png")
