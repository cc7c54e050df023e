"""Soak: `timeline serve --workers 2` on PostgreSQL under writers, filtered subscribers and
state readers for a long while; nothing may be lost, duplicated or reordered, and nothing
may grow.

    python -m bench.soak --database-url postgresql://... [--minutes 10] [--subscribers 1000]
                         [--writers 8] [--readers 20] [--smoke]

8 writers (singles and batches, with corrections: supersedes and retractions), 1,000 SSE
subscribers with filters, 20 state readers. At the end each subscriber's positions are
checked against the log (`/audit/export`) filtered its way. Figures: p50/p99 of appends,
state reads and delivery (commit to receive); each worker's RSS every 10 s and its slope;
the server's TCP connections and PostgreSQL's at the start and at the end. `--smoke`: one
minute, 100 subscribers, figures to bench-results/soak.md rather than docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx2 as httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bench.common import (
    ROOT,
    backend_name,
    free_port,
    fresh_database,
    percentile,
    process_cpu,
    record,
    rss_kib,
)
from bench.soak_clients import FILTERS, Subscribers, Writer, read_state
from bench.stream import answer_within, run_loop
from events.recorders import normalise_url

KEY = "soak-write"
ADMIN_KEY = "soak-admin"
RSS_EVERY_SECONDS = 10.0


# ---- the server and what it holds ----------------------------------------------------


def start_server(url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    environment = {
        **os.environ,
        "TIMELINE_DATABASE_URL": url,
        "TIMELINE_API_KEYS": f"write:{KEY},admin:{ADMIN_KEY}",
        "TIMELINE_LOG_LEVEL": "warning",  # no access log; drops and errors still show
    }
    command = [sys.executable, "-m", "service.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", "2"], env=environment, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 180  # two workers on a busy machine
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            state = "exited" if process.poll() is not None else "still starting: stopped"
            process.terminate()  # never left behind, holding a port and the database
            process.wait(30)
            raise RuntimeError(f"the server did not start ({state}): {log.read_text()[-2000:]}")
        time.sleep(0.2)


def workers_of(master: int) -> list[int]:
    """uvicorn's worker processes: the master's children, but for multiprocessing's helper."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == master and b"resource_tracker" not in command:
            found.append(int(stat.parent.name))
    return sorted(found)


def tcp_sockets() -> dict[int, tuple[int, int, str]]:
    """inode -> (local port, remote port, state) for every TCP socket on the machine."""
    table = {}
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], int(fields[9])
            table[inode] = (int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16), state)
    return table


def connections(pids: list[int], http_port: int, db_port: int) -> dict[str, int]:
    """The processes' established TCP connections: with HTTP clients, and with the database."""
    table = tcp_sockets()
    counts = {"http": 0, "database": 0}
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            if not link.startswith("socket:["):
                continue
            local, remote, state = table.get(int(link[8:-1]), (0, 0, ""))
            if state != "01":  # ESTABLISHED
                continue
            counts["http"] += local == http_port
            counts["database"] += remote == db_port
    return counts


def pg_connections(url: str) -> int:
    """Sessions PostgreSQL holds on the run's database (this query's own aside)."""
    engine = create_engine(normalise_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            query = (
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return int(conn.execute(text(query)).scalar_one())
    finally:
        engine.dispose()


def slope_per_minute(samples: list[tuple[float, int]]) -> float:
    """Least-squares slope of (seconds, KiB) in KiB a minute."""
    if len(samples) < 2:
        return float("nan")
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    return 60 * sum((t - mean_t) * (v - mean_v) for t, v in samples) / spread if spread else float("nan")


# ---- the client processes ------------------------------------------------------------


def load_in_process(
    role: str, url: str, count: int, seconds: float, interval: float, answer: Connection
) -> None:
    """Writers or state readers, in a process of their own (see bench/stream.py on why)."""

    async def main() -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        # Idle connections are let go before uvicorn's 5 s keep-alive ends them, so that a
        # request never races the server's close of the connection it reuses.
        limits = httpx.Limits(max_connections=count, max_keepalive_connections=count, keepalive_expiry=2)
        headers = {"Authorization": f"Bearer {KEY}"}
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60, limits=limits) as http:
            if role == "writers":
                writers = [Writer(n, random.Random(n)) for n in range(count)]
                await asyncio.gather(*(w.run(http, deadline, interval) for w in writers))
                return {
                    "single": [s for w in writers for s in w.single_seconds],
                    "batch": [s for w in writers for s in w.batch_seconds],
                    "positions": [p for w in writers for p in w.positions],
                    "failures": [f for w in writers for f in w.failures],
                    "superseded": sum(w.corrections["superseded"] for w in writers),
                    "retracted": sum(w.corrections["retracted"] for w in writers),
                }
            times: list[float] = []
            failures: list[str] = []
            rngs = [random.Random(1000 + n) for n in range(count)]
            await asyncio.gather(*(read_state(http, r, deadline, interval, times, failures) for r in rngs))
            return {"state": times, "failures": failures}

    answer.send(run_loop(main()))


async def warm_up(url: str) -> None:
    """Concurrent reads and appends through both workers, so that each database pool has grown
    to its resting size before the connections are counted at the start."""
    async with httpx.AsyncClient(
        base_url=url, timeout=60, headers={"Authorization": f"Bearer {KEY}"}
    ) as http:
        writer = Writer(99, random.Random(99))
        for _ in range(3):
            reads = [http.get("/state?limit=50") for _ in range(60)]
            writes = [http.post("/events", json=writer.statement()) for _ in range(20)]
            answers = await asyncio.gather(*reads, *writes)
            assert all(a.is_success for a in answers), [a.text for a in answers if not a.is_success][:3]


async def read_log(url: str, after: int) -> list[tuple[int, str, str]]:
    """(position, type, subject) of every event after `after`, from the NDJSON export."""
    log = []
    async with (
        httpx.AsyncClient(base_url=url, timeout=300) as http,
        http.stream("GET", f"/audit/export?after={after}") as response,
    ):
        async for line in response.aiter_lines():
            if line:
                event = json.loads(line)
                log.append((event["position"], event["type"], event["subject"]))
    return log


async def settle(
    pids: list[int], port: int, db_port: int, want: dict[str, int], seconds: float
) -> dict[str, int]:
    """The connections once closed sockets are gone (or as they are after `seconds`)."""
    deadline = time.monotonic() + seconds
    while (now := connections(pids, port, db_port)) != want and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    return now


async def run(
    args: argparse.Namespace, url: str, database_url: str, port: int, master: int
) -> dict[str, Any]:
    db_port = make_url(normalise_url(database_url)).port or 5432
    pids = workers_of(master)
    if len(pids) != 2:
        raise RuntimeError(f"expected 2 workers under {master}, found {pids}")
    await warm_up(url)
    await asyncio.sleep(2)
    at_start = connections([master, *pids], port, db_port)
    pg_start = pg_connections(database_url)
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        start = (await http.get("/healthz")).json()["head"]
    subscribers = Subscribers(port, start, args.subscribers, instrumented_every=10)
    await subscribers.connect_all()
    connected = connections(pids, port, db_port)
    per_worker = [connections([pid], port, db_port)["http"] for pid in pids]

    spawn = multiprocessing.get_context("spawn")
    ends = []
    for role, count, interval in (
        ("writers", args.writers, args.writer_interval),
        ("readers", args.readers, args.reader_interval),
    ):
        mine, theirs = spawn.Pipe()
        spawn.Process(
            target=load_in_process, args=(role, url, count, args.minutes * 60, interval, theirs)
        ).start()
        ends.append(mine)
    rss: dict[int, list[tuple[float, int]]] = {pid: [] for pid in pids}
    began = time.monotonic()
    cpu_before = process_cpu(os.getpid())
    while time.monotonic() - began < args.minutes * 60:
        for pid in pids:
            rss[pid].append((time.monotonic() - began, rss_kib(pid)))
        await asyncio.sleep(RSS_EVERY_SECONDS)
    writes = await answer_within(ends[0], 300, "the writers did not finish")
    reads = await answer_within(ends[1], 300, "the readers did not finish")
    for pid in pids:
        rss[pid].append((time.monotonic() - began, rss_kib(pid)))
    client_cpu = process_cpu(os.getpid()) - cpu_before

    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        head = (await http.get("/healthz")).json()["head"]
    deadline = time.monotonic() + 120
    while min(s.last_id for s in subscribers.members) < head and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    behind = sum(s.last_id < head for s in subscribers.members)
    subscribers.close()
    log = await read_log(url, start)
    checks = [s.check(log) for s in subscribers.members]
    at_end = await settle([master, *pids], port, db_port, at_start, 30)
    pg_end = pg_connections(database_url)
    return {
        "start": start,
        "head": head,
        "log": log,
        "writes": writes,
        "reads": reads,
        "checks": checks,
        "behind": behind,
        "reconnects": subscribers.reconnects,
        "delivery": subscribers.delivery,
        "rss": rss,
        "client_cpu": client_cpu,
        "connections": {"start": at_start, "connected": connected, "end": at_end, "per_worker": per_worker},
        "pg": {"start": pg_start, "end": pg_end},
    }


def report(args: argparse.Namespace, figures: dict[str, Any], drops: int) -> tuple[str, bool]:
    writes, reads, checks = figures["writes"], figures["reads"], figures["checks"]
    log_positions = [p for p, _, _ in figures["log"]]
    appended = len(writes["positions"])
    contiguous = log_positions == list(range(figures["start"] + 1, figures["head"] + 1))
    log_ok = contiguous and sorted(set(writes["positions"])) == log_positions
    totals = {
        k: sum(c[k] for c in checks)
        for k in ("expected", "received", "lost", "unexpected", "duplicated", "reordered")
    }
    bad = sum(1 for c in checks if c["lost"] or c["unexpected"] or c["duplicated"] or c["reordered"])
    conn, pg = figures["connections"], figures["pg"]
    connections_ok = conn["start"] == conn["end"] and pg["start"] == pg["end"]
    ok = (
        bad == 0
        and figures["behind"] == 0
        and totals["received"] == totals["expected"]
        and log_ok
        and not writes["failures"]
        and not reads["failures"]
        and connections_ok
    )

    def p(samples: list[float]) -> str:
        return f"{percentile(samples, 0.5) * 1000:.1f} / {percentile(samples, 0.99) * 1000:.1f} ms"

    rows = [
        (
            "events appended",
            f"{appended} ({len(writes['single'])} single POSTs, {len(writes['batch'])} batches; "
            f"{writes['superseded']} supersedes, {writes['retracted']} retractions)",
            "",
        ),
        ("failed appends / state reads", f"{len(writes['failures'])} / {len(reads['failures'])}", "0 / 0"),
        (
            "the log after the start",
            f"positions {figures['start'] + 1} to {figures['head']}, no gap, each one a writer stored"
            if log_ok
            else "DIFFERS from what the writers stored",
            "",
        ),
        (
            "event messages received / expected, all subscribers",
            f"{totals['received']} / {totals['expected']}",
            "equal",
        ),
        (
            "lost / duplicated / reordered / unexpected",
            " / ".join(str(totals[k]) for k in ("lost", "duplicated", "reordered", "unexpected")),
            "0 / 0 / 0 / 0",
        ),
        (
            "subscribers with any of those",
            f"{bad} of {args.subscribers} (not at the head 2 min after the "
            f"writers stopped: {figures['behind']})",
            "0",
        ),
        (
            "reconnects (a subscriber dropped) / slow clients the server dropped",
            f"{figures['reconnects']} / {drops}",
            "",
        ),
        ("append p50 / p99", f"single {p(writes['single'])}; batch {p(writes['batch'])}", ""),
        (f"state read p50 / p99 ({len(reads['state'])} reads)", p(reads["state"]), ""),
        (
            f"delivery p50 / p99 (commit to receive; {len(figures['delivery'])} messages, a tenth of the "
            "subscribers)",
            p(figures["delivery"]),
            "",
        ),
    ]
    for n, (_pid, samples) in enumerate(sorted(figures["rss"].items()), 1):
        first, last, peak = samples[0][1] / 1024, samples[-1][1] / 1024, max(v for _, v in samples) / 1024
        rows.append(
            (
                f"worker {n} RSS: first / last / peak ({len(samples)} samples, one each 10 s)",
                f"{first:.1f} / {last:.1f} / {peak:.1f} MiB; slope {slope_per_minute(samples):+.0f} KiB/min, "
                f"over the second half {slope_per_minute(samples[len(samples) // 2 :]):+.0f} KiB/min",
                "flat",
            )
        )
    rows += [
        (
            "server TCP connections (HTTP, database): start / with the subscribers / end",
            f"({conn['start']['http']}, {conn['start']['database']}) / ({conn['connected']['http']}, "
            f"{conn['connected']['database']}; {conn['per_worker']} per worker) / ({conn['end']['http']}, "
            f"{conn['end']['database']})",
            "end = start",
        ),
        ("PostgreSQL sessions on the database: start / end", f"{pg['start']} / {pg['end']}", "end = start"),
        ("the subscribers' process: CPU", f"{figures['client_cpu']:.0f} s", ""),
    ]
    table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    duration = f"{args.minutes:g} minute{'s' if args.minutes != 1 else ''}"
    body = f"""
`timeline serve --workers 2` on {figures["backend"]} for {duration}: {args.writers} writers (each a
request every {args.writer_interval:g} s: 70% single events, 30% batches of 5 to 20; about 15% of events
correct an earlier one, by `supersedes` or `event.retracted`), {args.subscribers} SSE subscribers on
{len(FILTERS)} kinds of filter (none, types, prefixes, subjects, both), {args.readers} state readers (each a
request every {args.reader_interval:g} s over `/state`, its parts and a history, windowed). Every
subscriber's positions are checked against the log, filtered its way, at the end.

| figure | value | target |
|---|---|---|
{table}

The start is after a warm-up (concurrent reads and appends) that grows each worker's pool of
database connections to its resting size, so that the counts compare like with like. The
server, PostgreSQL and every client process share this machine's two cores with other work,
so the latencies are noisy; the counts (loss, duplicates, order, connections) are not.
"""
    return body, ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database-url", required=True, help="PostgreSQL; a fresh database is made next to it"
    )
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument(
        "--writer-interval", type=float, default=1.0, help="seconds between a writer's requests"
    )
    parser.add_argument(
        "--reader-interval", type=float, default=1.0, help="seconds between a reader's requests"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="1 minute, 100 subscribers; figures to bench-results/"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.minutes, args.subscribers = 1, 100
    if backend_name(args.database_url) != "PostgreSQL":
        parser.error("the soak runs on PostgreSQL (--database-url postgresql://...)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))

    with (
        fresh_database(args.database_url) as url,
        tempfile.TemporaryDirectory(prefix="timeline-soak-") as folder,
    ):
        port = free_port()
        log = Path(folder) / "server.log"
        process = start_server(url, port, log)
        try:
            figures = run_loop(run(args, f"http://127.0.0.1:{port}", url, port, process.pid))
        finally:
            process.terminate()
            process.wait(30)
        server_log = log.read_text(errors="replace")
    figures["backend"] = backend_name(url)
    drops = server_log.count("slow stream client dropped")
    body, ok = report(args, figures, drops)
    problems = [line for line in server_log.splitlines() if line.startswith(("ERROR", "CRITICAL"))]
    if problems or figures["writes"]["failures"] or figures["reads"]["failures"]:
        print(
            "server errors:",
            *problems[:10],
            "failures:",
            *figures["writes"]["failures"][:5],
            *figures["reads"]["failures"][:5],
            sep="\n  ",
            file=sys.stderr,
        )
        ok = ok and not problems
    command = "python -m bench.soak " + " ".join(argv if argv is not None else sys.argv[1:])
    output = ROOT / "bench-results" / "soak.md" if args.smoke else None
    record("Soak", command.strip(), body, output=output)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
