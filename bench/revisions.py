"""The same workload on two checkouts of the code, side by side: for a change that must
keep the figures (issue 17's restructuring). Run it from each checkout's root, under
farm-bench, which pairs the runs A B A B and reports the ratio:

    farm-bench -n 7 --vs "sh -c 'cd ../before && exec python -m bench.revisions append'" \\
        -- python -m bench.revisions append

`append`: 6,000 events in batches of 100 through `build_store` on a fresh SQLite database
(or --database-url); `state`: 3,000 events, then 120 state questions through the read
model (whole state and one area, as_of in the past, known_at now or in the past). Each
prints its own rate; the comparison is farm-bench's. Only names both revisions have are
imported, so an older checkout runs it too (copy this file there).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

from bench.append import envelopes
from events.drafts import draft_from_json
from service import state_query
from service.migrate import upgrade
from service.wiring import build_store

try:
    from events.recorders import make_engine
except ImportError:  # before the recorders (issue 17)
    from events.database import make_engine  # type: ignore[no-redef,import-not-found]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("workload", choices=("append", "state"))
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args(argv)
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/revisions.db"
    upgrade(url)
    engine = make_engine(url)
    store = build_store(engine)
    count = 6000 if args.workload == "append" else 3000
    log = envelopes(count, seed=3)
    batches = [[draft_from_json(e) for e in log[i : i + 100]] for i in range(0, count, 100)]
    began = time.perf_counter()
    for batch in batches:
        store.append(batch)
    if args.workload == "append":
        print(f"append: {count / (time.perf_counter() - began):,.0f} events/s")
        return 0
    events = store.read(limit=count).events
    began = time.perf_counter()
    for n in range(120):
        event = events[(n * 37) % len(events)]
        cut = state_query.resolve(store, event.occurred_from, event.recorded_at if n % 2 else None)
        question = (
            state_query.Question("territory", area=event.subject) if n % 4 == 1 else state_query.Question()
        )
        state_query.answer_text(store, cut, question)
    print(f"state: {120 / (time.perf_counter() - began):,.1f} questions/s")
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
