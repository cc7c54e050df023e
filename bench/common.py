"""What every benchmark needs: a database, a server process, percentiles, and the report."""

from __future__ import annotations

import datetime
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from events.recorders import normalise_url
from service.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "benchmarks.md"


# Debian's Chromium, as the browser tests and the viewer benchmark launch it.
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Otherwise Chromium calls its own services at start-up, which this closed network refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    import shutil

    for candidate in (os.environ.get("TIMELINE_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def p50_p99_ms(samples: Sequence[float]) -> str:
    return f"{percentile(samples, 0.5) * 1000:.1f} / {percentile(samples, 0.99) * 1000:.1f} ms"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){memory}, Python {platform.python_version()}, {platform.system()}"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


@contextmanager
def fresh_database(base_url: str | None) -> Iterator[str]:
    """A new, migrated database: a temporary SQLite file, or a new database next to `base_url`."""
    if base_url is None or make_url(normalise_url(base_url)).get_backend_name() == "sqlite":
        with tempfile.TemporaryDirectory(prefix="timeline-bench-") as folder:
            url = f"sqlite:///{folder}/bench.db"
            upgrade(url)
            yield url
        return
    base = make_url(normalise_url(base_url))
    name = f"timeline_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def backend_name(url: str) -> str:
    return "SQLite" if make_url(normalise_url(url)).get_backend_name() == "sqlite" else "PostgreSQL"


@contextmanager
def server(
    database_url: str, port: int, env: dict[str, str] | None = None, *, timeline_serve: bool = False
) -> Iterator[subprocess.Popen[bytes]]:
    """The app on a port: through uvicorn without access logs (the stream benchmark, whose
    figures are about the stream), or as a user starts it, `timeline serve` (the append
    benchmark), whose log lines go to /dev/null."""
    environment = {**os.environ, "TIMELINE_DATABASE_URL": database_url, **(env or {})}
    if timeline_serve:
        command = [sys.executable, "-m", "service.cli", "serve", "--port", str(port)]
        output = subprocess.DEVNULL
    else:
        command = [sys.executable, "-m", "uvicorn", "service.app:app_from_environment", "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"]
        output = None
    process = subprocess.Popen(command, env=environment, stdout=output, stderr=output)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        process.wait(15)


def process_cpu(pid: int) -> float:
    """CPU seconds (user and system) a process has used so far; 0 where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu() -> float:
    """CPU seconds used so far by every PostgreSQL process on this machine (its backends
    included), for the share of a run's CPU that the database server took."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/comm"):
        try:
            if stat.read_text().strip() == "postgres":
                total += process_cpu(int(stat.parent.name))
        except OSError:
            continue
    return total


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def record(section: str, command: str, body: str, *, output: Path | None = None) -> None:
    """Replace this benchmark's section of docs/benchmarks.md (or write `output` instead)."""
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text_block = (
        f"<!-- bench:{section} -->\n## {section}\n\n"
        f"- Date: {stamp}\n- Machine: {machine()}\n- Command: `{command}`\n\n{body.strip()}\n"
        f"<!-- /bench:{section} -->\n"
    )
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text_block)
        print(text_block)
        return
    current = (
        REPORT.read_text()
        if REPORT.exists()
        else "# Benchmarks\n\nFigures written by the scripts in `bench/`.\n\n"
    )
    pattern = re.compile(
        rf"<!-- bench:{re.escape(section)} -->.*?<!-- /bench:{re.escape(section)} -->\n", re.S
    )
    if pattern.search(current):
        current = pattern.sub(lambda _: text_block, current)
    else:
        current = current.rstrip("\n") + "\n\n" + text_block
    REPORT.write_text(current)
    print(text_block)
