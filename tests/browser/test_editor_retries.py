"""The editor's retries are safe: an event whose answer was lost is sent again with its id
and stored once (docs/api.md 4.3.1, Retries and ids)."""

from __future__ import annotations

import json
from typing import Any

import httpx2 as httpx
from playwright.sync_api import Route, expect

from tests.browser.conftest import Viewer
from tests.browser.test_editor import field, fill_source, record
from tests.conftest import WRITE_KEY


def test_a_write_whose_answer_is_lost_is_sent_again_with_its_id_and_stored_once(viewer: Viewer) -> None:
    page = viewer.open("?tab=editor")
    viewer.use_key(WRITE_KEY)
    bodies: list[dict[str, Any]] = []

    def lose_the_first_answer(route: Route) -> None:
        bodies.append(json.loads(route.request.post_data or "{}"))
        if len(bodies) == 1:
            route.fetch()  # the server stores it...
            route.abort("connectionreset")  # ...and the answer never arrives
        else:
            route.continue_()

    page.route("**/events", lose_the_first_answer)
    page.select_option("#editor-type", "diplomacy.statement_made")
    field(page, "Occurred at (required)").fill("2025-04-21")
    fill_source(page, "Example Wire", "media")
    field(page, "Speaker (required)").fill("peskov")
    field(page, "Text (required)").fill("We are ready.")
    event_id = page.locator(".event-id").inner_text()
    record(page)
    expect(page.locator(".form-status")).to_contain_text(
        "Already stored (nothing new was written), at position 17"
    )
    assert [body["id"] for body in bodies] == [event_id, event_id]
    answer = httpx.get(viewer.server.url + "/events", params={"after": 16}, timeout=10).json()
    assert [(e["id"], e["position"]) for e in answer["events"]] == [(event_id, 17)]
