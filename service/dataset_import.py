"""`timeline import --format ucdp-ged FILE`: a dataset's CSV rows mapped by its importer
(`importers/`), appended in batches, and a report of what was stored, skipped as already
stored, and not mapped, by the dataset's own type of row."""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from events.drafts import draft_from_json
from events.errors import InvalidInput
from events.store import EventStore
from importers import ucdp
from importers.common import Mapped, NotMapped, Outcome

MAPPERS: dict[str, Callable[[Mapping[str, str]], Outcome]] = {"ucdp-ged": ucdp.map_row}
FORMATS = ("ndjson", *MAPPERS)


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
        stored_key = "would_store" if self.dry_run else "stored"
        keys = (stored_key, "already_stored", "not_mapped", "refused")
        return {
            "dry_run": self.dry_run,
            "read": self.read,
            **{key: totals[key] for key in keys},
            "by_source_type": {
                name: {key: found[key] for key in keys} for name, found in sorted(self.counts.items())
            },
            "not_mapped_reasons": dict(self.reasons.most_common()),
        }


def read_rows(path: Path) -> Iterator[tuple[dict[str, str], int]]:
    """Each CSV row, with the bytes of the file read so far (for the progress bar)."""
    read = 0

    def lines(handle: Iterator[str]) -> Iterator[str]:
        nonlocal read
        for line in handle:
            read += len(line.encode("utf-8"))
            yield line

    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(lines(handle)):
            yield row, read


def import_rows(
    store: EventStore,
    rows: Iterator[tuple[dict[str, str], int]],
    mapper: Callable[[Mapping[str, str]], Outcome],
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
            head = store.head()
            before = head.position if head else 0
            result = store.append([draft for _, draft in pending], batch=True)
            for (mapped, _), event in zip(pending, result.events, strict=True):
                report.count(mapped.source_type, "stored" if event.position > before else "already_stored")
        pending.clear()

    done = 0
    for row, done in rows:
        report.read += 1
        outcome = mapper(row)
        if isinstance(outcome, NotMapped):
            report.count(outcome.source_type, "not_mapped")
            report.reasons[outcome.reason] += 1
        else:
            try:
                pending.append((outcome, draft_from_json(outcome.envelope)))
            except InvalidInput as refused:
                report.count(outcome.source_type, "refused")
                report.reasons[f"refused by the catalog: {refused.detail}"] += 1
        if len(pending) >= batch_size:
            flush()
            on_progress(done, report)
    flush()
    on_progress(done, report)
    return report
