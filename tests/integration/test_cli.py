"""The `timeline` command: migrate from any folder, import (the seed), export and verify."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import rfc8785

from service.cli import main, seed_path
from tests.databases import Databases
from tests.factories import claim


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def reseal(event: dict[str, Any]) -> dict[str, Any]:
    unsealed = {k: v for k, v in event.items() if k != "hash"}
    return {**unsealed, "hash": hashlib.sha256(rfc8785.dumps(unsealed)).hexdigest()}


def write_lines(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_text("".join(rfc8785.dumps(e).decode() + "\n" for e in events))
    return path


def test_migrate_works_from_any_folder(databases: Databases, tmp_path: Path) -> None:
    url = databases.empty_url()
    # The console script that the install put beside this interpreter.
    timeline = shutil.which("timeline", path=str(Path(sys.executable).parent))
    assert timeline, "the package installs the `timeline` command"
    done = subprocess.run(
        [timeline, "--database-url", url, "migrate"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    done = subprocess.run(
        [timeline, "--database-url", url, "import", "--seed"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["stored"] == 16


def test_seed_imported_twice_gives_the_same_log(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--database-url", database_url, "import", str(seed_path()))
    assert code == 0
    assert json.loads(out) == {"read": 16, "stored": 16, "already_stored": 0}
    first = tmp_path / "first.ndjson"
    run(capsys, "--database-url", database_url, "export", str(first))
    code, out, _ = run(capsys, "--database-url", database_url, "import", "--seed")
    assert json.loads(out) == {"read": 16, "stored": 0, "already_stored": 16}
    second = tmp_path / "second.ndjson"
    run(capsys, "--database-url", database_url, "export", str(second))
    assert first.read_text() == second.read_text()
    positions = [json.loads(line)["position"] for line in first.read_text().splitlines()]
    assert positions == list(range(1, 17))


def test_seed_holds_the_articles_developments() -> None:
    events = [json.loads(line) for line in seed_path().read_text().splitlines()]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event)
        assert event["source"]["kind"] == "media"
    incursion = [e for e in by_type["territory.control_claimed"] if e["occurred_at"] == "2024-08"]
    assert incursion[0]["data"] == {
        "area": "ru-kursk-oblast",
        "controller": "ua",
        "extent": "partial",
        "claimant": "ua",
        "area_km2": 1295,
        "note": "About 500 square miles, as the article estimates.",
    }
    ids = [e["id"] for e in events]
    holds = next(
        e for e in by_type["territory.control_claimed"] if e["data"].get("speaker") == "ua-general-staff"
    )
    denial = by_type["territory.claim_denied"][0]
    assert ids.index(holds["id"]) < ids.index(denial["id"])
    assert by_type["talks.offer_made"][0]["data"]["preconditions"] == []
    assert {e["data"]["place"] for e in by_type["diplomacy.meeting_held"]} >= {"va"}


def test_export_verifies_offline_and_tampering_is_found(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "--database-url", database_url, "import", "--seed")
    export = tmp_path / "log.ndjson"
    run(capsys, "--database-url", database_url, "export", str(export))
    code, out, _ = run(capsys, "verify", str(export))
    assert (code, json.loads(out)["ok"], json.loads(out)["count"]) == (0, True, 16)
    code, out, _ = run(capsys, "--database-url", database_url, "verify")
    assert (code, json.loads(out)["count"]) == (0, 16)

    lines = export.read_text().splitlines()
    events = [json.loads(line) for line in lines]

    # One altered byte in the data of position 5.
    altered = lines.copy()
    altered[4] = altered[4].replace('"ru-kursk-oblast"', '"ru-kursk-oblasT"', 1)
    assert altered[4] != lines[4]
    (tmp_path / "altered.ndjson").write_text("\n".join(altered) + "\n")
    code, out, _ = run(capsys, "verify", str(tmp_path / "altered.ndjson"))
    verdict = json.loads(out)
    assert (code, verdict["ok"], verdict["first_bad_position"], verdict["reason"]) == (
        1,
        False,
        5,
        "hash_mismatch",
    )

    gap = write_lines(tmp_path / "gap.ndjson", events[:6] + events[7:])
    code, out, _ = run(capsys, "verify", str(gap))
    assert (code, json.loads(out)["first_bad_position"], json.loads(out)["reason"]) == (1, 7, "position_gap")

    # A rewritten link, re-hashed so that only the link is wrong.
    relinked = events.copy()
    relinked[9] = reseal({**events[9], "prev_hash": "1" * 64})
    code, out, _ = run(capsys, "verify", str(write_lines(tmp_path / "link.ndjson", relinked)))
    assert (json.loads(out)["first_bad_position"], json.loads(out)["reason"]) == (10, "broken_link")

    # A whole chain rebuilt with one id used twice.
    rebuilt, previous = [], "0" * 64
    for event in events:
        if event["position"] == 12:
            event = {**event, "id": events[2]["id"]}
        sealed = reseal({**event, "prev_hash": previous})
        rebuilt.append(sealed)
        previous = sealed["hash"]
    code, out, _ = run(capsys, "verify", str(write_lines(tmp_path / "dup.ndjson", rebuilt)))
    assert (json.loads(out)["first_bad_position"], json.loads(out)["reason"]) == (12, "duplicate_id")


@pytest.mark.parametrize("workers", ["0", "1"])  # validated in line, or by a worker process
def test_import_reports_the_failing_line(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], workers: str
) -> None:
    good, later = claim(), claim(area="elsewhere")
    bad = claim(data_extra={"extent": "most"})
    no_id = claim()
    del no_id["id"]
    path = tmp_path / "in.ndjson"
    path.write_text(json.dumps(good) + "\n\n" + json.dumps(later) + "\n" + json.dumps(bad) + "\n")
    options = ["--workers", workers, "--batch-size", "1"]
    code, _, err = run(capsys, "--database-url", database_url, "import", str(path), *options)
    assert code == 1
    assert "line 4" in err and "/data/extent" in err and "Stored 2 new events" in err
    path.write_text(json.dumps(no_id) + "\n")
    code, _, err = run(capsys, "--database-url", database_url, "import", str(path), *options)
    assert code == 1 and "line 1" in err and "/id" in err
    code, _, err = run(capsys, "--database-url", database_url, "import", str(tmp_path / "missing.ndjson"))
    assert code == 2


def test_state_command_prints_the_same_json_as_the_api(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "--database-url", database_url, "import", "--seed")
    code, out, _ = run(
        capsys,
        "--database-url",
        database_url,
        "state",
        "--as-of",
        "2025-04-26",
        "--area",
        "ru-kursk-oblast",
        "--track",
        "ru-ua",
    )
    assert code == 0
    answer = json.loads(out)
    assert answer["position"] == 16 and answer["as_of"] == "2025-04-26T23:59:59.999999Z"
    assert list(answer["territory"]["areas"]) == ["ru-kursk-oblast"]
    assert answer["territory"]["areas"]["ru-kursk-oblast"]["status"] == "contested"
    assert list(answer["talks"]["tracks"]) == ["ru-ua"]
    code, _, err = run(capsys, "--database-url", database_url, "state", "--as-of", "2025-04")
    assert code == 2 and "as_of" in err


def test_commands_on_a_database_that_is_not_there_explain_themselves(
    databases: Databases, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = f"sqlite:///{tmp_path / 'nothing.db'}"
    for command in (["verify"], ["export"], ["state"], ["import", "--seed"]):
        code, _, err = run(capsys, "--database-url", missing, *command)
        assert code == 2 and "timeline migrate" in err, (command, err)
    assert not (tmp_path / "nothing.db").exists()
    empty = databases.empty_url()
    code, _, err = run(capsys, "--database-url", empty, "verify")
    assert code == 2 and "timeline migrate" in err
    code, _, err = run(capsys, "verify", str(tmp_path / "missing.ndjson"))
    assert code == 2 and "cannot read" in err


def test_verify_reads_standard_input(
    database_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    run(capsys, "--database-url", database_url, "import", "--seed")
    _, exported, _ = run(capsys, "--database-url", database_url, "export")
    monkeypatch.setattr(sys, "stdin", io.StringIO(exported))
    code, out, _ = run(capsys, "verify", "-")
    assert code == 0 and json.loads(out)["count"] == 16


def test_a_command_never_creates_an_sqlite_database_by_accident(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "typo.db"
    code, _, err = run(capsys, "--database-url", f"sqlite:///{path}", "export")
    assert code == 2 and f"no database at {path}: run `timeline migrate` first" in err
    assert not path.exists()
