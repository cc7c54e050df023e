"""The viewer in a browser: first render with the seed, and each interaction's requests
at scale.

    python -m bench.viewer [--events 1000000] [--database-url postgresql://...]

Debian's Chromium, driven by Playwright, against `timeline serve`. (1) The seed article:
the time from navigation to the first rendered state (`body[data-ready]`), over fresh
page loads. (2) A log of `--events` (the state benchmark's, `bench/asof_log.py`): a
person's session of interactions, repeated: open the viewer, step the date control back
and forth, open an area (its state and history), the talks and diplomacy tabs, a track,
the next page of areas; every request the page makes is timed by the browser's own
Resource Timing (request start to response end), and the interaction's wall time to the
next rendered state.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from typing import Any

import httpx2 as httpx
from playwright.sync_api import Page, sync_playwright

from bench.asof_log import load
from bench.common import (
    CHROMIUM_ARGS,
    ROOT,
    backend_name,
    chromium_path,
    free_port,
    fresh_database,
    p50_p99_ms,
    record,
    server,
)
from events.recorders import make_engine
from service.cli import seed_path
from service.wiring import build_store

RESOURCES = """() => { const found = performance.getEntriesByType('resource')
  .filter((e) => e.initiatorType === 'fetch').map((e) => [e.name, e.responseEnd - e.requestStart]);
  performance.clearResourceTimings(); return found; }"""


def ready(page: Page, position: str | None = None) -> None:
    page.wait_for_selector("body[data-ready='true']")
    page.wait_for_selector("#date-control[data-loaded='true']")  # the slider has its stops
    if position is not None:
        page.wait_for_selector(f"body[data-position='{position}']")


def first_renders(page: Page, url: str, runs: int) -> list[float]:
    spent = []
    for _ in range(runs):
        began = time.perf_counter()
        page.goto(url + "/?as_of=2025-04-26")
        ready(page)
        page.wait_for_selector("article.area")
        spent.append(time.perf_counter() - began)
    return spent


def session(page: Page, url: str, rng: random.Random) -> tuple[list[tuple[float, str]], list[float]]:
    """One person's interactions: (each request's (time, path)), each interaction's time), in s."""
    requests: list[tuple[float, str]] = []
    interactions: list[float] = []

    def step(action: Any) -> None:
        page.evaluate("document.body.dataset.ready = 'false'")
        began = time.perf_counter()
        action()
        ready(page)
        interactions.append(time.perf_counter() - began)
        requests.extend((ms / 1000, name.split("/", 3)[-1]) for name, ms in page.evaluate(RESOURCES))

    area = f"r{rng.randrange(100)}-{rng.randrange(19)}"
    step(lambda: page.goto(url + f"/?as_of=2024-0{rng.randint(1, 9)}-15"))
    slider = page.locator("#as-of-slider")

    def press(key: str) -> None:
        slider.focus()
        slider.press(key)

    for key in ("ArrowLeft", "ArrowLeft", "ArrowRight"):
        step(lambda key=key: press(key))
    step(lambda: page.goto(url + f"/?as_of=2024-06-15&area={area}"))
    step(lambda: page.click("#tab-talks"))
    step(lambda: page.click("#tab-diplomacy"))
    step(lambda: page.goto(url + "/?as_of=2024-06-15&tab=talks&track=ru-ua"))
    step(lambda: page.goto(url + "/?as_of=2024-06-15"))
    more = page.get_by_role("button", name="Show more areas")
    if more.count():
        step(lambda: more.click())
    return requests, interactions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument(
        "--smoke", action="store_true", help="3,000 events, 2 sessions; figures to bench-results/"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.events, args.sessions = 3000, 2
    path = chromium_path()
    if path is None:
        raise SystemExit("bench.viewer needs Chromium: apt-get install chromium")
    rng = random.Random(5)
    rows = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        with fresh_database(args.database_url) as url:
            backend = backend_name(url)
            port = free_port()
            with server(url, port, {"TIMELINE_API_KEYS": "write:bench"}, timeline_serve=True):
                base = f"http://127.0.0.1:{port}"
                seed = [line for line in seed_path().read_text().splitlines() if line.strip()]
                body = "{" + '"events":[' + ",".join(seed) + "]}"
                admin = {"Authorization": "Bearer bench", "Content-Type": "application/json"}
                with httpx.Client(base_url=base, timeout=30) as client:
                    assert client.post("/events/batch", content=body, headers=admin).status_code == 201
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                renders = first_renders(page, base, 20)
                figure = "first render with the seed (navigation to the state shown), p50 / p99 (20 loads)"
                rows.append((figure, p50_p99_ms(renders), "under 1 s"))
        with fresh_database(args.database_url) as url:
            engine = make_engine(url)
            print(f"loading {args.events:,} events ({backend})", file=sys.stderr)
            load(build_store(engine), args.events)
            engine.dispose()
            port = free_port()
            with server(url, port, timeline_serve=True):
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                timed: list[tuple[float, str]] = []
                interactions: list[float] = []
                for _ in range(args.sessions):
                    found, took = session(page, f"http://127.0.0.1:{port}", rng)
                    timed += found
                    interactions += took
        browser.close()
    requests = [seconds for seconds, _ in timed]
    slowest = sorted(timed, reverse=True)[:5]
    for seconds, path in slowest:
        print(f"  slow: {seconds * 1000:.1f} ms /{path}", file=sys.stderr)
    figure = f"each request of an interaction, p50 / p99 ({len(requests):,} requests, {args.events:,} events)"
    rows.append((figure, p50_p99_ms(requests), "p99 <= 100 ms"))
    rows.append((f"each interaction to the next state shown, p50 / p99 ({len(interactions):,})",
                 p50_p99_ms(interactions), ""))  # fmt: skip
    rows.append(("slowest requests", "; ".join(f"{s * 1000:.0f} ms `/{p[:60]}`" for s, p in slowest[:3]), ""))
    table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    text = f"""
The viewer in Debian's Chromium (Playwright) against `timeline serve` ({backend}): the seed's first render,
then {args.sessions} sessions of interactions on a log of {args.events:,} events (`bench/asof_log.py`):
open, step the date back and forth, an area with its history, the talks and diplomacy tabs, a track,
the next page of areas. Requests are timed by the browser (Resource Timing).

| figure | value | target |
|---|---|---|
{table}
"""
    command = "python -m bench.viewer " + " ".join(argv if argv is not None else sys.argv[1:])
    output = ROOT / "bench-results" / f"viewer-{backend.lower()}.md" if args.smoke else None
    record(f"Viewer ({backend})", command.strip(), text, output=output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
