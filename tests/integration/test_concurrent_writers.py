"""Eight writers against a real server process: positions, versions and the chain stay whole."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import httpx2 as httpx
import pytest
import rfc8785

from tests.conftest import WRITE
from tests.factories import claim
from tests.server import ServerProcess

WRITERS = 8
EACH = 500
AREAS = ["ru-kursk-oblast", "ru-belgorod-oblast", "ua-sumy-oblast"]


def write_many(url: str, writer: int) -> list[int]:
    statuses = []
    with httpx.Client(base_url=url, headers=WRITE, timeout=60) as http:
        for n in range(EACH):
            event = claim(area=AREAS[(writer + n) % len(AREAS)], data_extra={"note": f"writer {writer} #{n}"})
            statuses.append(http.post("/events", json=event).status_code)
    return statuses


@pytest.mark.server
def test_concurrent_writers_get_a_gapless_chained_log(server: ServerProcess) -> None:
    with ThreadPoolExecutor(WRITERS) as pool:
        statuses = [
            s for result in pool.map(write_many, [server.url] * WRITERS, range(WRITERS)) for s in result
        ]
    assert statuses.count(201) == WRITERS * EACH, sorted(set(statuses))

    export = httpx.get(server.url + "/audit/export", timeout=60)
    events = [json.loads(line) for line in export.text.splitlines()]
    assert [e["position"] for e in events] == list(range(1, WRITERS * EACH + 1))

    versions: dict[str, list[int]] = defaultdict(list)
    previous = "0" * 64
    for event in events:
        versions[event["subject"]].append(event["version"])
        # Checked with the off-the-shelf JCS package, not the service's code.
        unsealed = {k: v for k, v in event.items() if k != "hash"}
        assert hashlib.sha256(rfc8785.dumps(unsealed)).hexdigest() == event["hash"]
        assert event["prev_hash"] == previous
        previous = event["hash"]
    for subject, seen in versions.items():
        assert seen == list(range(1, len(seen) + 1)), subject
    recorded = [e["recorded_at"] for e in events]
    assert recorded == sorted(recorded) and len(set(recorded)) == len(recorded)
