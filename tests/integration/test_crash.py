"""SIGKILL under load, then a restart on the same database (issue 16, point 3).

Four writers append batches with ids of their own choosing to a real server
process; the test kills the process (and, with `--workers`, its children) with
SIGKILL while they do, restarts it on the same database, and checks what a
crash must never break: every acknowledged event is stored as it was answered,
no batch is half there, positions are gapless, the hash chain and the Merkle
tree verify, and the read model gives the fold's answer. Then every batch that
got no answer is sent again with the same ids: each event ends up stored once.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from events.recorders import make_engine
from service.read_model import replay_check
from service.wiring import build_store
from tests.conftest import ADMIN, WRITE
from tests.factories import claim, denial, offer, retraction, statement
from tests.server import ServerProcess

pytestmark = pytest.mark.server

WRITERS = 4
BATCH = 20
ACKNOWLEDGED_BEFORE_THE_KILL = 30  # batches, across the writers
AREAS = ["ru-kursk-oblast", "ru-belgorod-oblast", "ua-sumy-oblast", "ua-kharkiv-oblast"]
PARTIES = ["ru", "ua", "isw"]


@dataclass
class Sent:
    """One batch a writer sent, and what (if anything) came back."""

    events: list[dict[str, Any]]
    status: int | None = None
    answer: list[dict[str, Any]] | None = None
    in_flight: bool = False  # sent, and the connection broke before an answer

    @property
    def ids(self) -> list[str]:
        return [e["id"] for e in self.events]


def make_batch(rng: random.Random, writer: int, number: int) -> list[dict[str, Any]]:
    """Claims, denials, offers, statements and a retraction of one of them: a fold with
    something to do on every part of the state."""
    events: list[dict[str, Any]] = []
    for n in range(BATCH - 1):
        day = f"2025-04-{rng.randint(1, 28):02d}"
        area, party = rng.choice(AREAS), rng.choice(PARTIES)
        kind = rng.random()
        if kind < 0.5:
            controller = rng.choice(["ru", "ua"])
            event = claim(area=area, claimant=party, controller=controller, occurred_at=day)
        elif kind < 0.65:
            event = denial(area=area, claimant=party, occurred_at=day)
        elif kind < 0.8:
            event = offer(party="ru", counterparty="ua", occurred_at=day)
        else:
            event = statement(speaker=f"speaker-{writer}", text=f"writer {writer} batch {number} #{n}")
            event["occurred_at"] = day
        events.append(event)
    events.append(retraction(events[rng.randrange(len(events))]["id"]))
    return events


def write(url: str, writer: int, stop: threading.Event, sent: list[Sent]) -> None:
    """Append batches until told to stop or the server is gone (its last batch unanswered)."""
    rng = random.Random(writer)
    with httpx.Client(base_url=url, headers=WRITE, timeout=30) as http:
        number = 0
        while not stop.is_set():
            batch = Sent(make_batch(rng, writer, number))
            sent.append(batch)
            number += 1
            try:
                answer = http.post("/events/batch", json={"events": batch.events})
            except httpx.ConnectError:
                return  # never reached the server
            except httpx.TransportError:
                batch.in_flight = True
                return
            batch.status = answer.status_code
            batch.answer = answer.json()["events"] if answer.status_code in (200, 201) else None


def descendants(pid: int) -> list[int]:
    """The process ids under `pid` (uvicorn's worker processes), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_hard(process: subprocess.Popen[bytes]) -> int:
    """SIGKILL the server and every process under it, all at once; how many were killed."""
    doomed = [process.pid, *descendants(process.pid)]
    for pid in doomed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(10)
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() and not _zombie(pid) for pid in doomed[1:]):
        assert time.monotonic() < deadline, "a worker outlived its SIGKILL"
        time.sleep(0.05)
    return len(doomed)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


class Server(ServerProcess):
    """`timeline serve --workers N` for N > 1 (a supervisor and its worker processes),
    else a single uvicorn process as every other server test starts."""

    def __init__(self, database_url: str, log_path: Path, workers: int) -> None:
        self.workers = workers
        super().__init__(database_url, log_path)

    def start(self) -> None:
        if self.workers == 1:
            super().start()
            return
        command = [sys.executable, "-m", "service.cli", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, "--workers", str(self.workers)],
            env=self.environment,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_ready()
        except BaseException:
            kill_hard(self.process)  # no supervisor or worker left behind
            self._log.close()
            raise

    def stop(self, *, close_log: bool = True) -> None:
        """Stop the supervisor, then whatever it left: a supervisor that outlives the grace
        period is SIGKILLed, which would leave its workers running."""
        left = descendants(self.process.pid) if self.process.poll() is None else []
        super().stop(close_log=close_log)
        for pid in left:
            with contextlib.suppress(OSError):  # gone, or its id not ours any more
                if b"multiprocessing" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    os.kill(pid, signal.SIGKILL)


def export(url: str) -> list[dict[str, Any]]:
    answer = httpx.get(url + "/audit/export", timeout=60)
    assert answer.status_code == 200, answer.text
    return [json.loads(line) for line in answer.text.splitlines()]


def check_log(url: str, database_url: str) -> dict[str, dict[str, Any]]:
    """Gapless positions, each id once, chain and Merkle tree verified, the read model
    equal to the fold; the stored events by id."""
    events = export(url)
    assert [e["position"] for e in events] == list(range(1, len(events) + 1))
    by_id = {e["id"]: e for e in events}
    assert len(by_id) == len(events), "an id is stored twice"
    verdict = httpx.get(url + "/audit/verify", headers=ADMIN, timeout=120).json()
    assert verdict["ok"] is True and verdict["count"] == len(events), verdict
    head = httpx.get(url + "/audit/head", timeout=30).json()
    assert head["tree_size"] == len(events) and head["root_hash"] == verdict["root_hash"]
    engine = make_engine(database_url)
    try:
        asked, differences = replay_check(build_store(engine), samples=20, seed=len(events))
    finally:
        engine.dispose()
    assert asked == 21 and differences == [], differences[:3]
    return by_id


def check_batches(sent: list[Sent], stored: dict[str, dict[str, Any]]) -> None:
    """Each batch all there (with one recorded_at, in consecutive positions) or not at all;
    an acknowledged one exactly as it was answered; nothing stored that was not sent."""
    for batch in sent:
        there = [stored[i] for i in batch.ids if i in stored]
        assert len(there) in (0, len(batch.ids)), f"a batch is half there: {len(there)} of {len(batch.ids)}"
        if there:
            positions = [e["position"] for e in there]
            assert positions == list(range(positions[0], positions[0] + len(there)))
            assert len({e["recorded_at"] for e in there}) == 1
        if batch.answer is not None:
            assert batch.status in (200, 201), batch.status
            assert there == batch.answer, "an acknowledged batch is not stored as answered"
    assert set(stored) <= {i for batch in sent for i in batch.ids}


@pytest.mark.parametrize("workers", [1, 2], ids=["one-process", "workers"])
def test_sigkill_under_four_writers_loses_nothing_acknowledged_and_retries_store_once(
    database_url: str, tmp_path: Path, workers: int
) -> None:
    server = Server(database_url, tmp_path / "server.log", workers)
    try:
        sent: list[Sent] = []
        stop = threading.Event()
        writers = [
            threading.Thread(target=write, args=(server.url, n, stop, sent), daemon=True)
            for n in range(WRITERS)
        ]
        for thread in writers:
            thread.start()
        deadline = time.monotonic() + 120
        while sum(b.answer is not None for b in sent) < ACKNOWLEDGED_BEFORE_THE_KILL:
            assert time.monotonic() < deadline, "the writers made too little progress"
            assert all(b.status in (None, 201) for b in sent), [b.status for b in sent]
            time.sleep(0.01)
        time.sleep(random.uniform(0, 0.05))  # somewhere in the middle of the writers' requests
        killed = kill_hard(server.process)
        # With workers: the supervisor, each worker, and multiprocessing's helper process.
        assert killed == 1 if workers == 1 else killed >= 1 + workers
        stop.set()
        for thread in writers:
            thread.join(30)
            assert not thread.is_alive()

        acknowledged = [b for b in sent if b.answer is not None]
        unanswered = [b for b in sent if b.answer is None]
        assert all(b.status in (None, 201) for b in sent), [b.status for b in sent]
        assert any(b.in_flight for b in unanswered), "the kill caught no request in flight"

        server.start()  # the same database, a new process
        stored = check_log(server.url, database_url)
        check_batches(sent, stored)
        assert {i for b in acknowledged for i in b.ids} <= set(stored)

        # Every unanswered batch again, with its ids: stored once, whatever the crash did.
        with httpx.Client(base_url=server.url, headers=WRITE, timeout=60) as http:
            for batch in unanswered:
                already = batch.ids[0] in stored
                answer = http.post("/events/batch", json={"events": batch.events})
                assert answer.status_code == (200 if already else 201), answer.text
                events = answer.json()["events"]
                assert [e["id"] for e in events] == batch.ids
                if already:  # the crash came after the commit: the stored events, as they are
                    assert events == [stored[i] for i in batch.ids]
                batch.status, batch.answer = answer.status_code, events
            # An acknowledged batch sent again stores nothing.
            again = http.post("/events/batch", json={"events": acknowledged[0].events})
            assert again.status_code == 200 and again.json()["events"] == acknowledged[0].answer

        stored = check_log(server.url, database_url)
        assert len(stored) == sum(len(b.events) for b in sent)
        check_batches(sent, stored)
    finally:
        server.stop()
