"""Schemathesis against a real server process: every phase (examples, coverage, fuzzing,
stateful), with a fixed seed and with a random one that is printed (docs/testing.md,
"Fuzzing"). The server runs on a fresh migrated database with the seed article loaded,
write and admin keys and a signing key, so that writes, admin routes and signed heads
are exercised too."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from service.cli import main as timeline
from tests.conftest import ADMIN_KEY, ServerFactory

# About a minute of CPU per run (client and server); the bounds leave room for a machine
# that other jobs share, so that a slow run is not a failure.
RUN_SECONDS = 540
pytestmark = [pytest.mark.server, pytest.mark.timeout(RUN_SECONDS + 60)]

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
FIXED_SEED = 20261202
SEED_VARIABLE = "TIMELINE_FUZZ_SEED"
# What every response must satisfy. `problem_json_errors` is ours (tests/fuzz/hooks.py).
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "unsupported_method",
    "problem_json_errors",
]
PHASE_LINE = re.compile(r"^ *(\S+ +(Examples|Coverage|Fuzzing|Stateful) \(in |[0-9]+ generated, )")
SIGNING_SEED = "11" * 32  # an Ed25519 seed in hex: heads are signed and /audit/key answers


def schemathesis_run(url: str, seed: int, phases: str, max_examples: int, report: Path) -> tuple[int, str]:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "run",
        f"{url}/openapi.json",
        "--header",
        f"Authorization: Bearer {ADMIN_KEY}",  # admin includes write and read
        "--phases",
        phases,
        "--checks",
        ",".join(CHECKS),
        "--seed",
        str(seed),
        "--max-examples",
        str(max_examples),
        "--workers",
        "2",  # the server waits on its database about as much as it computes
        "--no-color",
        "--report",
        "junit",
        "--report-dir",
        str(report),
    ]
    environment = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.fuzz.hooks",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=RUN_SECONDS, check=False
    )
    return done.returncode, done.stdout + done.stderr


def fuzz(
    database_url: str,
    start_server: ServerFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    seed: int,
    phases: str,
    max_examples: int,
) -> None:
    assert timeline(["--database-url", database_url, "import", "--seed"]) == 0
    server = start_server(database_url, {"TIMELINE_SIGNING_KEY": SIGNING_SEED})
    replay = f"{SEED_VARIABLE}={seed} ./dev test tests/fuzz"
    with capsys.disabled():
        print(f"\nschemathesis: seed {seed}, phases {phases} (replay: {replay})", file=sys.stderr)
    code, output = schemathesis_run(server.url, seed, phases, max_examples, tmp_path / "report")
    with capsys.disabled():  # each phase's outcome and time, and the count of cases
        summary = [line.strip() for line in output.splitlines() if PHASE_LINE.match(line)]
        print("schemathesis: " + "; ".join(summary), file=sys.stderr)
    assert code == 0, f"schemathesis failed with seed {seed} (replay: {replay}):\n{output[-20000:]}"


def test_every_phase_with_the_fixed_seed(
    database_url: str, start_server: ServerFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = int(os.environ.get(SEED_VARIABLE) or FIXED_SEED)
    fuzz(database_url, start_server, tmp_path, capsys, seed, "examples,coverage,fuzzing,stateful", 15)


def test_fuzzing_and_stateful_with_a_random_seed(
    database_url: str, start_server: ServerFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The coverage phase is deterministic (it walks each schema's boundaries), so the second
    # run spends its time where the seed matters.
    seed = int(os.environ.get(SEED_VARIABLE) or random.SystemRandom().randrange(2**32))
    fuzz(database_url, start_server, tmp_path, capsys, seed, "examples,fuzzing,stateful", 15)
