"""The ACLED mapping (docs/importers.md), one rule a test, on the sample files in
tests/samples/: acled.csv (a first export), acled_update.csv (the same rows later: recoded,
unchanged, older, and a new one) and acled_deletions.csv."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from events.drafts import draft_from_json
from importers.acled import AcledImporter, Ledger, occurred_at
from importers.common import Known, Mapped, NotMapped, Outcome, event_id

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def rows(name: str) -> list[dict[str, str]]:
    with (SAMPLES / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def run(importer: AcledImporter, name: str) -> dict[str, list[Outcome]]:
    return {row["event_id_cnty"]: importer.map_row(row) for row in rows(name)}


def ledger_of(*envelopes: dict[str, object]) -> Ledger:
    """The ledger a later run builds from the log holding these envelopes."""
    ledger = Ledger()
    for envelope in envelopes:
        ledger.add(str(envelope["id"]), str(envelope["type"]), envelope["data"])  # type: ignore[arg-type]
    return ledger


def only(outcomes: list[Outcome]) -> Mapped:
    assert len(outcomes) == 1 and isinstance(outcomes[0], Mapped), outcomes
    draft_from_json(outcomes[0].envelope)  # the catalog takes it
    return outcomes[0]


def refused(outcomes: list[Outcome]) -> str:
    assert len(outcomes) == 1 and isinstance(outcomes[0], NotMapped), outcomes
    return outcomes[0].reason


@pytest.fixture
def first() -> dict[str, list[Outcome]]:
    return run(AcledImporter(Ledger()), "acled.csv")


def test_an_armed_clash_is_a_clash_by_acled_with_its_fatalities_as_best(
    first: dict[str, list[Outcome]],
) -> None:
    envelope = only(first["RUS1001"]).envelope
    assert envelope["id"] == event_id("acled", "RUS1001", "1723500000")
    assert envelope["type"] == "forces.clash_reported"
    assert envelope["occurred_at"] == "2024-08-10"
    data = envelope["data"]
    assert {key: data[key] for key in ("area", "parties", "claimant", "deaths")} == {
        "area": "ru-kursk",
        "parties": ["ru", "ua"],
        "claimant": "acled",
        "deaths": {"best": 4},
    }
    assert data["note"].startswith("ACLED RUS1001, version 1723500000. At Sudzha.")
    assert "Ukrainska Pravda; Kommersant (National-International)" in data["note"]
    assert envelope["source"]["quote"].startswith("On 10 August 2024")
    assert "supersedes" not in envelope


def test_blank_fatalities_leave_deaths_out(first: dict[str, list[Outcome]]) -> None:
    assert "deaths" not in only(first["RUS1004"]).envelope["data"]
    assert only(first["RUS1004"]).envelope["data"]["parties"] == ["kp", "ua"]


def test_territory_sub_event_types_are_partial_assessments_by_acled(first: dict[str, list[Outcome]]) -> None:
    regained = only(first["RUS1002"]).envelope
    assert regained["type"] == "territory.assessed"
    assert {key: regained["data"][key] for key in ("area", "assessor", "controller", "extent")} == {
        "area": "ru-kursk",
        "assessor": "acled",
        "controller": "ru",
        "extent": "partial",
    }
    transfer = only(first["UKR2005"]).envelope
    assert (transfer["type"], transfer["data"]["area"], transfer["data"]["controller"]) == (
        "territory.assessed",
        "ua-donetsk",
        "ru",
    )


def test_an_agreement_between_parties_is_a_round_of_talks(first: dict[str, list[Outcome]]) -> None:
    envelope = only(first["UKR2004"]).envelope
    assert envelope["type"] == "talks.round_held"
    assert envelope["data"]["parties"] == ["ru", "ua"] and envelope["data"]["place"] == "ua-kyiv"


def test_time_precision_carries_over_honestly() -> None:
    assert occurred_at("2024-08-10", "1") == "2024-08-10"
    assert occurred_at("26 April 2025", "1") == "2025-04-26"  # older exports' dates
    assert occurred_at("2025-03-12", "2") == "2025-03"  # 9..15 March: one month
    assert occurred_at("2025-03-30", "2") == "2025"  # 27 March..2 April: no month holds it
    assert occurred_at("2025-03-04", "2") == "2025-03"  # 1..7 March, the edge
    assert occurred_at("2025-03-03", "2") == "2025"  # 28 February..6 March
    assert occurred_at("2024-09-15", "3") == "2024-09"
    with pytest.raises(ValueError, match="time_precision 4"):
        occurred_at("2024-09-15", "4")


def test_what_does_not_fit_is_reported_never_guessed(first: dict[str, list[Outcome]]) -> None:
    remote = "Explosions/Remote violence / Air/drone strike"
    assert refused(first["UKR2001"]) == f"{remote}: no type in the catalog"
    assert refused(first["UKR2002"]) == "Protests / Peaceful protest: no type in the catalog"
    assert refused(first["UKR2003"]) == "actor not in the table: Unidentified Armed Group (Ukraine)"
    assert refused(first["UKR2006"]).endswith("Headquarters or base established: no type in the catalog")
    assert refused(first["RUS1005"]) == "time_precision 4 is not 1, 2 or 3"


def test_a_row_without_a_timestamp_is_reported() -> None:
    row = dict(rows("acled.csv")[0], timestamp="")
    assert (
        refused(AcledImporter(Ledger()).map_row(row))
        == "no timestamp (the row's version), or one out of range"
    )
    for odd in ("1723500000000000", "-5", "1.5e9"):
        reason = refused(AcledImporter(Ledger()).map_row(dict(row, timestamp=odd)))
        assert reason == "no timestamp (the row's version), or one out of range"
    row = rows("acled.csv")[0]
    assert refused(AcledImporter(Ledger()).map_row(dict(row, event_id_cnty="RUS 1"))).startswith(
        "no event_id_cnty"
    )
    fatalities = refused(AcledImporter(Ledger()).map_row(dict(row, fatalities="\u00b2")))
    assert fatalities.startswith("fatalities is not a whole number")


def stored_first() -> tuple[Ledger, dict[str, list[Outcome]]]:
    """A ledger rebuilt from the log after the first import, as a second run sees it."""
    mapped = run(AcledImporter(Ledger()), "acled.csv")
    envelopes = [o.envelope for found in mapped.values() for o in found if isinstance(o, Mapped)]
    return ledger_of(*envelopes), mapped


def test_a_re_run_maps_nothing_new() -> None:
    ledger, _ = stored_first()
    again = run(AcledImporter(ledger), "acled.csv")
    assert all(isinstance(found[0], (Known, NotMapped)) for found in again.values())
    assert again["RUS1001"] == [Known("RUS1001", "Battles / Armed clash", "already_stored")]


def test_a_newer_version_of_a_row_supersedes_its_event() -> None:
    ledger, first = stored_first()
    update = run(AcledImporter(ledger), "acled_update.csv")
    envelope = only(update["RUS1001"]).envelope
    assert envelope["id"] == event_id("acled", "RUS1001", "1724000000")
    assert envelope["supersedes"] == only(first["RUS1001"]).envelope["id"]
    assert envelope["data"]["deaths"] == {"best": 6}


def test_the_same_version_is_already_stored_and_an_older_one_outdated() -> None:
    ledger, _ = stored_first()
    update = run(AcledImporter(ledger), "acled_update.csv")
    assert update["RUS1002"] == [Known("RUS1002", "Battles / Government regains territory", "already_stored")]
    assert update["RUS1003"] == [Known("RUS1003", "Battles / Armed clash", "outdated")]


def test_a_row_recoded_to_another_type_retracts_and_replaces_its_event() -> None:
    ledger, first = stored_first()
    retraction, clash = run(AcledImporter(ledger), "acled_update.csv")["UKR2005"]
    assert isinstance(retraction, Mapped) and isinstance(clash, Mapped)
    assert retraction.envelope["type"] == "event.retracted"
    assert retraction.envelope["data"]["target_event_id"] == only(first["UKR2005"]).envelope["id"]
    reason = retraction.envelope["data"]["reason"]
    assert reason.startswith("ACLED UKR2005, version 1737000000: recoded as Battles")
    assert clash.envelope["type"] == "forces.clash_reported" and "supersedes" not in clash.envelope
    draft_from_json(retraction.envelope)


def test_a_row_recoded_into_what_is_not_imported_retracts_its_event() -> None:
    ledger, first = stored_first()
    (retraction,) = run(AcledImporter(ledger), "acled_update.csv")["RUS1004"]
    assert isinstance(retraction, Mapped) and retraction.envelope["type"] == "event.retracted"
    assert retraction.envelope["data"]["target_event_id"] == only(first["RUS1004"]).envelope["id"]
    assert "which is not imported" in retraction.envelope["data"]["reason"]


def test_a_deletion_retracts_the_event_in_effect() -> None:
    ledger, first = stored_first()
    deletions = run(AcledImporter(ledger), "acled_deletions.csv")
    retraction = only(deletions["RUS1002"]).envelope
    assert retraction["type"] == "event.retracted" and retraction["occurred_at"] == "2025-04-18"
    assert retraction["data"]["target_event_id"] == only(first["RUS1002"]).envelope["id"]
    assert retraction["id"] == event_id("acled", "RUS1002", "1745000000-deleted")
    assert refused(deletions["UKR2001"]) == "deletes a row that was never imported"
    assert deletions["RUS1001"] == [Known("RUS1001", "deletion", "outdated")]


def test_a_deletion_read_back_from_the_log_is_already_stored() -> None:
    ledger, _ = stored_first()
    importer = AcledImporter(ledger)
    retraction = only(importer.map_row(rows("acled_deletions.csv")[0])).envelope
    ledger, _ = stored_first()
    ledger.add(retraction["id"], retraction["type"], retraction["data"])
    assert AcledImporter(ledger).map_row(rows("acled_deletions.csv")[0]) == [
        Known("RUS1002", "deletion", "already_stored")
    ]


def test_an_event_corrected_by_someone_else_is_left_alone() -> None:
    ledger, first = stored_first()
    corrected = only(first["RUS1001"]).envelope["id"]
    update = run(AcledImporter(ledger, is_corrected=lambda event: event == corrected), "acled_update.csv")
    assert refused(update["RUS1001"]) == "its earlier event was corrected in the log since it was imported"


def test_a_refused_version_is_forgotten_so_the_next_one_does_not_point_at_it() -> None:
    importer = AcledImporter(Ledger())
    first_version = rows("acled.csv")[0]
    only(importer.map_row(first_version))
    importer.refused("RUS1001")
    later = only(importer.map_row(rows("acled_update.csv")[0])).envelope
    assert "supersedes" not in later


def test_events_the_importer_did_not_write_are_not_in_the_ledger() -> None:
    ledger = ledger_of({"id": "x", "type": "forces.clash_reported", "data": {"note": "A clash near Sudzha."}})
    assert ledger.rows == {}


def test_a_hand_correction_that_kept_the_mark_is_not_taken_for_the_importer_s() -> None:
    ledger, first = stored_first()
    original = only(first["RUS1001"]).envelope
    # The viewer's editor starts from the event's data, so a correction keeps the note.
    ledger.add("11111111-1111-4111-8111-111111111111", original["type"], original["data"])
    assert ledger.rows["RUS1001"].live == (original["id"], original["type"])


def test_a_gap_in_the_actor_table_does_not_retract_the_earlier_event() -> None:
    ledger, first = stored_first()
    later = dict(rows("acled_update.csv")[0], actor2="Military Forces of Ukraine (2025-)")
    assert (
        refused(AcledImporter(ledger).map_row(later))
        == "actor not in the table: Military Forces of Ukraine (2025-)"
    )
    assert ledger.rows["RUS1001"].live == (only(first["RUS1001"]).envelope["id"], "forces.clash_reported")
    assert ledger.rows["RUS1001"].version == 1723500000  # the row is taken once the actor is added
