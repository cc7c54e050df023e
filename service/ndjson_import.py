"""Reading an NDJSON file for `timeline import`: batches of validated drafts, in order.

Validation (strict JSON, the schema, canonical JSON) is about a third of an import's
time, so where cores are free a worker process validates the next batches while the
importing process appends one; drafts travel back compactly (see `Draft.__reduce__`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from events.drafts import Draft, draft_or_refusal
from events.errors import FieldError, InvalidInput
from events.jsonio import parse_json_noting_form
from service.ordered_pool import ordered_map

Numbered = list[tuple[int, Draft | InvalidInput]]

# Starting a worker process takes about half a second: below this a file is validated
# sooner in line (1,000 events: 1,517 events/s in line against 843 with a worker).
WORKER_WORTH_BYTES = 4 * 1024 * 1024
# On two cores the worker and the importing process slow each other down: 100,000 events
# took 11.9 to 13.1 s with a worker and 12.7 s in line (2026-11-28), so it waits for more.
WORKER_WORTH_CORES = 3


def default_import_workers(path: Path) -> int:
    """One validating worker for a large file on a machine with cores to spare, else none."""
    cores = os.cpu_count() or 1
    return 1 if cores >= WORKER_WORTH_CORES and path.stat().st_size > WORKER_WORTH_BYTES else 0


Lines = list[tuple[int, bytes]]


def _line_batches(path: Path, size: int) -> Iterator[tuple[Lines, int]]:
    """Batches of (line number, line) that are not blank, with the bytes read so far."""
    batch: Lines = []
    done = 0
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            done += len(line)
            if not line.strip():
                continue
            batch.append((number, line))
            if len(batch) == size:
                yield batch, done
                batch = []
    if batch:
        yield batch, done


def _validated(batch: tuple[Lines, int]) -> tuple[Numbered, int]:
    """Each line as a draft, or as the refusal that explains it."""
    lines, done = batch
    found: Numbered = []
    for number, line in lines:
        try:
            obj, fast_form = parse_json_noting_form(line)
            if not isinstance(obj, dict) or "id" not in obj:
                raise InvalidInput(
                    "Every line needs an `id`, so that a re-run stores nothing twice.",
                    [FieldError("/id", "this key is required for import")],
                )
            item: Draft | InvalidInput = draft_or_refusal(obj, fast_form_known=fast_form)
        except InvalidInput as exc:
            item = exc
        found.append((number, item))
    return found, done


def read_batches(path: Path, size: int, workers: int = 0) -> Iterator[tuple[Numbered, int]]:
    """Batches of (line number, draft or refusal), with the bytes read so far: validated by
    `workers` processes a few batches ahead of the append, or in line when there are none."""
    batches = _line_batches(path, size)
    if workers < 1:
        yield from map(_validated, batches)
    else:
        yield from ordered_map(_validated, batches, workers, ahead=2)
