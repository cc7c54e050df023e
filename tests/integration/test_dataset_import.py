"""`timeline import --format ucdp-ged`: stored once, reported by type of row, a dry run
stores nothing, and the clashes reach the state (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from events.recorders import make_engine
from service.cli import main
from service.wiring import build_store

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "ucdp_ged.csv"


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
        "one-sided": {"stored": 0, "already_stored": 0, "not_mapped": 1, "refused": 0},
        "state-based": {"stored": 5, "already_stored": 0, "not_mapped": 3, "refused": 0},
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
    assert main(["--database-url", database_url, "import", str(SAMPLE), "--dry-run"]) != 0
    assert "--dry-run is for the dataset formats" in capsys.readouterr().err
