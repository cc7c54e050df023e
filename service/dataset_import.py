"""`timeline import --format acled|ucdp-ged FILE`: a dataset's CSV rows mapped by its
importer (`importers/`), appended in batches, and a report of what was stored, skipped as
already stored (or as older than the version stored), and not mapped, by the dataset's
own type of row."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from events.drafts import draft_from_json
from events.envelope import StoredEvent
from events.errors import InvalidInput
from events.store import EventStore
from importers import acled, ucdp
from importers.common import EachRowAlone, Known, Mapped, NotMapped, RowImporter


def acled_importer(store: EventStore) -> RowImporter:
    """ACLED's importer, with the ledger of what earlier runs stored (one pass over the
    log; only events that carry the importer's mark are parsed)."""
    ledger = acled.Ledger()
    for page in store.iter_rows():
        for _, body in page:
            if acled.BODY_MARK in body:
                event = StoredEvent.from_body(body)
                ledger.add(event.id, event.type, event.data)
    return acled.AcledImporter(ledger, lambda event_id: bool(store.correctors(event_id)))


IMPORTERS: dict[str, Callable[[EventStore], RowImporter]] = {
    "acled": acled_importer,
    "ucdp-ged": lambda store: EachRowAlone(ucdp.map_row),
}
FORMATS = ("ndjson", *IMPORTERS)
# The columns without which a file is not the dataset's export at all (any one set).
COLUMNS: dict[str, tuple[frozenset[str], ...]] = {
    "acled": (
        frozenset(
            {"event_id_cnty", "event_date", "time_precision", "event_type", "sub_event_type"}
            | {"actor1", "actor2", "admin1", "location", "timestamp"}
        ),
        frozenset({"event_id_cnty", "deleted_timestamp"}),
    ),
    "ucdp-ged": (frozenset({"id", "side_a", "side_b", "date_start", "date_end"}),),
}
KEYS = ("stored", "already_stored", "outdated", "not_mapped", "refused")


@dataclass
class Report:
    dry_run: bool
    read: int = 0
    counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    reasons: Counter[str] = field(default_factory=Counter)

    def count(self, source_type: str, outcome: str) -> None:
        self.counts[source_type][outcome] += 1

    def as_json(self) -> dict[str, Any]:
        totals: Counter[str] = Counter()
        for by_outcome in self.counts.values():
            totals.update(by_outcome)
        keys = tuple("would_store" if key == "stored" and self.dry_run else key for key in KEYS)
        return {
            "dry_run": self.dry_run,
            "read": self.read,
            **{key: totals[key] for key in keys},
            "by_source_type": {
                name: {key: found[key] for key in keys} for name, found in sorted(self.counts.items())
            },
            "not_mapped_reasons": dict(self.reasons.most_common()),
        }


class NotTheDataset(ValueError):
    """A file whose header lacks the columns of the format asked for."""


def read_rows(path: Path, dataset: str) -> Iterator[tuple[dict[str, str], int]]:
    """Each CSV row, with the bytes of the file read so far (for the progress bar); a
    header without the dataset's columns is refused before any row is read."""
    read = 0

    def lines(handle: Iterator[str]) -> Iterator[str]:
        nonlocal read
        for line in handle:
            read += len(line.encode("utf-8"))
            yield line

    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(lines(handle))
        header = set(reader.fieldnames or ())
        if not any(needed <= header for needed in COLUMNS[dataset]):
            missing = sorted(COLUMNS[dataset][0] - header)
            raise NotTheDataset(
                f"{path} does not look like a {dataset} export (no column {', '.join(missing)})"
            )
        for row in reader:
            yield row, read


def import_rows(
    store: EventStore,
    rows: Iterator[tuple[dict[str, str], int]],
    importer: RowImporter,
    *,
    batch_size: int = 500,
    dry_run: bool = False,
    on_progress: Callable[[int, Report], None] = lambda done, report: None,
) -> Report:
    """Map every row; append the mapped ones in batches (nothing, on a dry run). A mapped
    row the catalog refuses is counted as `refused`, with its reason, and the rest go on."""
    report = Report(dry_run)
    pending: list[tuple[Mapped, Any]] = []

    def flush() -> None:
        if not pending:
            return
        if dry_run:
            for mapped, _ in pending:
                report.count(mapped.source_type, "would_store")
        else:
            while pending:
                head = store.head()
                before = head.position if head else 0
                try:
                    result = store.append([draft for _, draft in pending], batch=True)
                except InvalidInput as refused:
                    # A rule only the store checks (an occurred_at beyond tomorrow, say):
                    # that event is refused and the rest of the batch is tried again,
                    # rather than the whole import stopping on it at every re-run.
                    index = refused.extra.get("index")
                    if not isinstance(index, int) or not 0 <= index < len(pending):
                        raise
                    mapped, _ = pending.pop(index)
                    report.count(mapped.source_type, "refused")
                    report.reasons[f"refused by the log: {refused.detail}"] += 1
                    continue
                for (mapped, _), event in zip(pending, result.events, strict=True):
                    report.count(
                        mapped.source_type, "stored" if event.position > before else "already_stored"
                    )
                break
        pending.clear()

    done = 0
    for row, done in rows:
        report.read += 1
        drafts: list[tuple[Mapped, Any]] = []
        for outcome in importer.map_row(row):
            if isinstance(outcome, NotMapped):
                report.count(outcome.source_type, "not_mapped")
                report.reasons[outcome.reason] += 1
            elif isinstance(outcome, Known):
                report.count(outcome.source_type, outcome.outcome)
            else:
                try:
                    drafts.append((outcome, draft_from_json(outcome.envelope)))
                except InvalidInput as refused:
                    # What a row gives is stored whole or not at all: a retraction
                    # without the event that replaces it would lose the row.
                    report.count(outcome.source_type, "refused")
                    report.reasons[f"refused by the catalog: {refused.detail}"] += 1
                    importer.refused(outcome.row_id)
                    drafts = []
                    break
        pending.extend(drafts)
        if len(pending) >= batch_size:
            flush()
            on_progress(done, report)
    flush()
    on_progress(done, report)
    return report
