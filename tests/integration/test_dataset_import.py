"""`timeline import --format ucdp-ged|acled`: stored once, reported by type of row, a dry
run stores nothing, the clashes reach the state, and ACLED's edits and deletions become
supersedes and retractions (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from events.envelope import StoredEvent
from events.recorders import make_engine
from service.cli import main
from service.wiring import build_store

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
SAMPLE = SAMPLES / "ucdp_ged.csv"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, (json.loads(out.strip().splitlines()[-1]) if code == 0 else {}), err


def stored_count(url: str) -> int:
    engine = make_engine(url)
    try:
        head = build_store(engine).head()
        return head.position if head else 0
    finally:
        engine.dispose()


def test_an_import_stores_each_row_once_and_reports_by_type(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("--database-url", database_url, "import", "--format", "ucdp-ged", str(SAMPLE))
    code, dry, _ = run(capsys, *args, "--dry-run")
    assert code == 0 and dry["would_store"] == 5 and stored_count(database_url) == 0
    code, first, _ = run(capsys, *args)
    assert code == 0
    assert (first["read"], first["stored"], first["already_stored"], first["not_mapped"]) == (9, 5, 0, 4)
    assert first["by_source_type"] == {
        "one-sided": {"stored": 0, "already_stored": 0, "outdated": 0, "not_mapped": 1, "refused": 0},
        "state-based": {"stored": 5, "already_stored": 0, "outdated": 0, "not_mapped": 3, "refused": 0},
    }
    assert first["not_mapped_reasons"]["actor not in the table: Government of Israel"] == 1
    code, again, _ = run(capsys, *args)
    assert code == 0 and (again["stored"], again["already_stored"]) == (0, 5)
    assert stored_count(database_url) == 5


def test_imported_clashes_reach_the_state(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "--database-url", database_url, "import", "--format", "ucdp-ged", str(SAMPLE))
    code = main(["--database-url", database_url, "state", "--as-of", "2024-08-20"])
    kursk = json.loads(capsys.readouterr().out)["territory"]["areas"]["ru-kursk-oblast"]
    assert code == 0 and [c["deaths"] for c in kursk["clashes"]] == [{"best": 3, "low": 2, "high": 5}]
    main(["--database-url", database_url, "state", "--as-of", "2024-09-10"])  # 31 days on
    assert "ru-kursk-oblast" not in json.loads(capsys.readouterr().out)["territory"]["areas"]


def test_a_missing_file_and_a_dry_run_of_ndjson_are_clear_errors(
    database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = str(tmp_path / "x.csv")
    assert main(["--database-url", database_url, "import", "--format", "ucdp-ged", missing]) != 0
    assert "no file" in capsys.readouterr().err
    assert main(["--database-url", database_url, "import", "--format", "acled", str(SAMPLE)]) != 0
    assert (
        "does not look like a acled export (no column actor1, actor2, admin1, event_date, event_id_cnty,"
        in capsys.readouterr().err
    )
    assert stored_count(database_url) == 0
    assert main(["--database-url", database_url, "import", str(SAMPLE), "--dry-run"]) != 0
    assert "--dry-run is for the dataset formats" in capsys.readouterr().err


def stored(url: str) -> list[StoredEvent]:
    engine = make_engine(url)
    try:
        store = build_store(engine)
        head = store.head()
        return list(store.events_until(head.position)) if head else []
    finally:
        engine.dispose()


def test_acled_edits_supersede_deletions_retract_and_re_runs_store_nothing(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    def acled(name: str) -> dict[str, Any]:
        args = ("--database-url", database_url, "import", "--format", "acled", str(SAMPLES / name))
        code, report, err = run(capsys, *args)
        assert code == 0, err
        return report

    first = acled("acled.csv")
    assert (first["read"], first["stored"], first["not_mapped"]) == (11, 6, 5)
    assert acled("acled.csv")["stored"] == 0 and stored_count(database_url) == 6

    update = acled("acled_update.csv")
    # RUS1001 superseded, RUS1004 retracted (recoded to shelling), UKR2005 retracted and
    # replaced (recoded to a clash), UKR2007 new; RUS1002 the same, RUS1003 older.
    assert (update["stored"], update["already_stored"], update["outdated"]) == (5, 1, 1)
    assert update["by_source_type"]["recoded (retraction)"]["stored"] == 2
    again = acled("acled_update.csv")
    assert (again["stored"], again["already_stored"], again["outdated"]) == (0, 5, 1)

    deletions = acled("acled_deletions.csv")
    assert (deletions["stored"], deletions["not_mapped"], deletions["outdated"]) == (1, 1, 1)
    assert acled("acled_deletions.csv")["stored"] == 0

    log = stored(database_url)
    by_id = {event.id: event for event in log}
    assert [event.position for event in log] == list(range(1, 13))
    edited = [event for event in log if event.supersedes]
    assert len(edited) == 1 and by_id[str(edited[0].supersedes)].data["deaths"] == {"best": 4}
    assert edited[0].data["deaths"] == {"best": 6}
    retracted = [by_id[e.data["target_event_id"]] for e in log if e.type == "event.retracted"]
    targets = {event.data["note"].split(",")[0] for event in retracted}
    assert targets == {"ACLED RUS1004", "ACLED UKR2005", "ACLED RUS1002"}

    code = main(["--database-url", database_url, "state", "--as-of", "2024-08-20"])
    kursk = json.loads(capsys.readouterr().out)["territory"]["areas"]["ru-kursk"]
    assert code == 0 and [c["deaths"] for c in kursk["clashes"]] == [{"best": 6}]
    main(["--database-url", database_url, "state", "--as-of", "2025-03-20"])
    areas = json.loads(capsys.readouterr().out)["territory"]["areas"]
    assert "ru-kursk" not in areas  # the assessment of 2025-03 was deleted


def test_a_row_the_log_refuses_is_counted_and_the_rest_are_stored(
    database_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lines = (SAMPLES / "acled.csv").read_text(encoding="utf-8").splitlines()
    future = lines[1].replace("2024-08-10,2024", "2099-08-10,2099")  # beyond tomorrow
    sample = tmp_path / "future.csv"
    sample.write_text("\n".join([lines[0], future, *lines[2:]]) + "\n", encoding="utf-8")
    args = ("--database-url", database_url, "import", "--format", "acled", str(sample))
    code, report, err = run(capsys, *args)
    assert code == 0, err
    assert (report["stored"], report["refused"]) == (5, 1)
    assert any(reason.startswith("refused by the log:") for reason in report["not_mapped_reasons"])
    assert run(capsys, *args)[1]["stored"] == 0
