"""The `timeline` command (docs/api.md §12)."""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError

from events.errors import InvalidInput, TimelineError
from events.merkle_store import TreeReader
from events.recorders import make_engine, normalise_url, recorder_class
from events.signing import load_private_key, load_public_key, sign_head
from events.store import EventStore
from events.verify import ChainVerifier
from service.config import Settings
from service.dataset_import import FORMATS, IMPORTERS, NotTheDataset, Report, import_rows, read_rows
from service.ndjson_import import default_import_workers, read_batches
from service.progress import LazyProgress, Progress
from service.verification import verify_database, verify_head
from service.wiring import build_store

SEED_FILE = "seed.ndjson"


def seed_path() -> Path:
    return Path(str(resources.files("events").joinpath(SEED_FILE)))


def seed_article_path() -> Path:
    """The news report the seed's events were taken from (for trying the viewer's intake)."""
    return Path(str(resources.files("events").joinpath("seed_article.txt")))


def _settings(args: argparse.Namespace) -> Settings:
    if args.database_url:
        os.environ["TIMELINE_DATABASE_URL"] = args.database_url  # so worker processes see it
    return Settings()


class CommandError(Exception):
    """A failure to report in one line, with an exit code."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@contextmanager
def _store(settings: Settings) -> Iterator[EventStore]:
    """The store on a migrated database; never creates a database by accident."""
    missing = recorder_class(settings.database_url).missing_database(normalise_url(settings.database_url))
    if missing is not None:
        raise CommandError(f"no database at {missing}: run `timeline migrate` first")
    engine = make_engine(settings.database_url)
    try:
        try:
            migrated = inspect(engine).has_table("events")
        except OperationalError as exc:
            raise CommandError(f"cannot reach the database: {exc.orig}") from None
        if not migrated:
            raise CommandError("the database has no events table: run `timeline migrate` first")
        yield build_store(engine)
    finally:
        engine.dispose()


def cmd_migrate(args: argparse.Namespace) -> int:
    from service.migrate import migrate

    with LazyProgress("events", "building the read model") as bar:
        migrate(_settings(args).database_url, args.revision, bar)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.migrate import migrate

    settings = _settings(args)
    with LazyProgress("events", "building the read model") as bar:
        migrate(settings.database_url, progress=bar)
    made = _metrics_directory() if args.workers > 1 else None
    try:
        uvicorn.run(
            "service.app:app_from_environment",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level=settings.log_level,
            access_log=False,  # the service logs each request itself, as JSON (service/request_log.py)
            # uvicorn kills and restarts a worker that does not answer its health check in time
            # (default 5 s): on a loaded machine a starting worker can take longer, forever.
            timeout_worker_healthcheck=30,
        )
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
    return 0


def _metrics_directory() -> str | None:
    """Several workers add their metrics up through files in PROMETHEUS_MULTIPROC_DIR
    (service/metrics.py): the one given, emptied of a former run's, or a fresh one, removed
    at the end (returned)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        made = tempfile.mkdtemp(prefix="timeline-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = made
        return made
    Path(directory).mkdir(parents=True, exist_ok=True)
    for stale in Path(directory).glob("*.db"):
        stale.unlink()
    return None


def cmd_import_dataset(args: argparse.Namespace, path: Path) -> int:
    """A dataset's CSV export (`--format acled` or `ucdp-ged`; for acled, a deletions
    file too), mapped by its importer."""
    progress = Progress(path.stat().st_size, "bytes")

    def shown(done: int, report: Report) -> None:
        counts = report.as_json()
        stored = counts["would_store"] if report.dry_run else counts["stored"]
        progress.update(done, f"{report.read:,} rows, {stored:,} new, {counts['not_mapped']:,} not mapped")

    try:
        with _store(_settings(args)) as store:
            report = import_rows(
                store,
                read_rows(path, args.format),
                IMPORTERS[args.format](store),
                batch_size=args.batch_size,
                dry_run=args.dry_run,
                on_progress=shown,
            )
    except TimelineError as exc:
        raise CommandError(f"{exc.detail} (what was stored before is kept; a re-run skips it)") from None
    except NotTheDataset as exc:
        raise CommandError(str(exc)) from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CommandError(f"cannot read {path} as CSV: {exc}") from None
    progress.finish(f"{report.read:,} rows")
    print(json.dumps(report.as_json()))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    path = seed_path() if args.seed else Path(args.file)
    if not path.is_file():
        raise CommandError(f"no file {path}")
    if args.format != "ndjson":
        return cmd_import_dataset(args, path)
    if args.dry_run:
        raise CommandError("--dry-run is for the dataset formats (acled, ucdp-ged)")
    settings = _settings(args)
    progress = Progress(path.stat().st_size, "bytes")
    stored = seen = 0
    with _store(settings) as store:
        workers = default_import_workers(path) if args.workers is None else args.workers
        for batch, done in read_batches(path, args.batch_size, workers):
            items = [item for _, item in batch]
            try:
                result = store.append(items, batch=True)
            except TimelineError as exc:
                index = exc.extra.get("index", 0)
                line = batch[index][0]
                print(f"\ntimeline import: line {line}: {exc.detail}", file=sys.stderr)
                for error in exc.errors:
                    path_in_line = (
                        error.path.split("/", 3)[3] if error.path.startswith("/events/") else error.path
                    )
                    print(f"  at /{path_in_line.lstrip('/')}: {error.message}", file=sys.stderr)
                print(
                    f"Stored {stored} new events before line {line}; fix it and run again "
                    "(what is stored is skipped).",
                    file=sys.stderr,
                )
                return 1
            stored += result.stored
            seen += len(items)
            progress.update(done, f"{seen:,} events, {stored:,} new")
    progress.finish(f"{seen:,} events, {stored:,} new")
    print(json.dumps({"read": seen, "stored": stored, "already_stored": seen - stored}))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with _store(settings) as store, _output(args.file) as out:
        last = store.cut(None)
        bar = Progress(last - args.after, "events")
        for page in store.iter_rows(after=args.after, until=last):
            out.write("".join(body + "\n" for _, body in page))
            bar.update(page[-1][0] - args.after, "exporting")
        bar.finish("exported")
    return 0


@contextmanager
def _input(path: str) -> Iterator[TextIO]:
    """A file by path, or standard input for `-`."""
    if path == "-":
        yield sys.stdin
        return
    try:
        lines = open(path, encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    with lines:
        yield lines


@contextmanager
def _output(path: str | None) -> Iterator[TextIO]:
    if path is None:
        yield sys.stdout
        return
    with open(path, "w", encoding="utf-8") as out:
        yield out


def cmd_verify(args: argparse.Namespace) -> int:
    if args.head:
        return _verify_head(args)
    if args.file:
        verifier = ChainVerifier()
        with _input(args.file) as lines:
            for line in lines:
                if line.strip() and not verifier.feed(line):
                    break
        verdict = verifier.verdict().as_dict()
    else:
        with _store(_settings(args)) as store:
            verdict = _verify_with_progress(
                args,
                lambda progress: verify_database(
                    store, TreeReader(store.engine), workers=args.workers, progress=progress
                ),
            )
    print(json.dumps(verdict))
    return 0 if verdict["ok"] else 1


def _verify_with_progress(
    args: argparse.Namespace, run: Callable[[Callable[[int, int], None]], dict[str, Any]]
) -> dict[str, Any]:
    bar: list[Progress] = []

    def progress(done: int, total: int) -> None:
        if not bar:
            bar.append(Progress(total, "events"))
        bar[0].update(done, "checking")

    verdict = run(progress)
    if bar:
        bar[0].finish("checked")
    return verdict


def _verify_head(args: argparse.Namespace) -> int:
    with _input(args.head) as text:
        try:
            head = json.loads(text.read())
        except ValueError:
            raise CommandError(f"{args.head} is not a JSON head (save one with `timeline head`)") from None
    settings = _settings(args)
    public_key = None
    try:
        if args.public_key:
            with _input(args.public_key) as key_text:
                public_key = load_public_key(key_text.read())
        elif settings.signing_key:
            public_key = load_private_key(settings.signing_key).public_key()
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    with _store(settings) as store:
        verdict = _verify_with_progress(
            args,
            lambda progress: verify_head(
                store, TreeReader(store.engine), head, public_key, workers=args.workers, progress=progress
            ),
        )
    print(json.dumps(verdict))
    return 0 if verdict["ok"] else 1


def cmd_head(args: argparse.Namespace) -> int:
    settings = _settings(args)
    with _store(settings) as store:
        reader = TreeReader(store.engine)
        size = reader.size() if args.size is None else args.size
        if size > reader.size() or size < 0:
            raise CommandError(f"the log holds {reader.size()} events")
        head = reader.head(size).as_dict()
    if settings.signing_key:
        try:
            head = sign_head(head, load_private_key(settings.signing_key))
        except ValueError as exc:
            raise CommandError(str(exc)) from None
    print(json.dumps(head))
    return 0


def cmd_state(args: argparse.Namespace) -> int:
    from service.state_query import state

    with _store(_settings(args)) as store:
        try:
            answer = state(store, args.as_of, args.known_at, area=args.area, track=args.track)
        except InvalidInput as exc:
            print(f"timeline state: {exc.detail} {exc.errors[0].message}", file=sys.stderr)
            return 2
    print(json.dumps(answer, ensure_ascii=False, indent=2))
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    from service.read_model import rebuild_read_model

    with _store(_settings(args)) as store:
        bar = Progress(store.cut(None), "events")
        rebuilt = rebuild_read_model(
            store, lambda done, total: bar.update(done, "rebuilding the read model"), workers=args.workers
        )
        bar.finish(f"{rebuilt.events:,} events")
    print(
        f"timeline rebuild: generation {rebuilt.generation} is active: {rebuilt.events:,} events, "
        f"{rebuilt.caught_up:,} of them appended during the rebuild"
    )
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from service.read_model import replay_check

    if not args.check:
        raise CommandError(
            "only `timeline replay --check` is available: it compares the read model with the fold"
        )
    with _store(_settings(args)) as store:
        bar = Progress(args.samples + 1, "questions")
        asked, differences = replay_check(
            store, args.samples, args.seed, lambda done, total: bar.update(done, f"{done}/{total} questions")
        )
        bar.finish(f"{asked} questions")
    for found in differences:
        print(
            json.dumps(
                {"as_of": found.as_of, "position": found.position, "where": found.where,
                 "fold": found.fold, "read_model": found.read_model},
                ensure_ascii=False,
            )
        )  # fmt: skip
    if differences:
        print(f"timeline replay: {len(differences)} differences in {asked} questions", file=sys.stderr)
        return 1
    print(f"timeline replay: the read model agrees with the fold on {asked} questions")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="timeline", description="The event-sourced timeline service.")
    top.add_argument("--database-url", help="overrides TIMELINE_DATABASE_URL")
    commands = top.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="migrate the database, then serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(run=cmd_serve)

    migrate = commands.add_parser("migrate", help="upgrade the database schema")
    migrate.add_argument("--revision", default="head")
    migrate.set_defaults(run=cmd_migrate)

    load = commands.add_parser("import", help="append the events of an NDJSON file or a dataset's CSV")
    source = load.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", help="NDJSON, one envelope with an id per line; or CSV (--format)")
    source.add_argument("--seed", action="store_true", help=f"the shipped seed file ({SEED_FILE})")
    load.add_argument("--batch-size", type=int, default=500, choices=range(1, 1001), metavar="1..1000")
    load.add_argument(
        "--workers",
        type=int,
        help="processes that validate the next batches while one is appended; 0: validate in"
        " line (default: 1 for a file over 4 MB on a machine with 3 cores or more)",
    )
    load.add_argument(
        "--format",
        choices=FORMATS,
        default="ndjson",
        help="ndjson (envelopes with ids), or a dataset's CSV export mapped by docs/importers.md",
    )
    load.add_argument("--dry-run", action="store_true", help="map and check every row; store nothing")
    load.set_defaults(run=cmd_import)

    export = commands.add_parser("export", help="write the log as NDJSON")
    export.add_argument("--after", type=int, default=0)
    export.add_argument("file", nargs="?")
    export.set_defaults(run=cmd_export)

    verify = commands.add_parser("verify", help="check the hash chain of the database or of an export file")
    verify.add_argument(
        "file", nargs="?", help="an export file (- for standard input); default: the database"
    )
    verify.add_argument(
        "--head", metavar="FILE", help="check that the log extends a head saved by `timeline head`"
    )
    verify.add_argument(
        "--public-key",
        metavar="FILE",
        help="the key that signed the head (default: from TIMELINE_SIGNING_KEY)",
    )
    verify.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="processes that re-hash the database's events (default: one per core)",
    )
    verify.set_defaults(run=cmd_verify)

    head = commands.add_parser("head", help="print the Merkle tree head (signed with TIMELINE_SIGNING_KEY)")
    head.add_argument("--size", type=int, help="the tree size (default: the whole log)")
    head.set_defaults(run=cmd_head)

    state = commands.add_parser("state", help="print the state at (as_of, known_at) as JSON")
    state.add_argument("--as-of", help="date or date-time with offset (default: now)")
    state.add_argument("--known-at", help="date or date-time with offset (default: the last event)")
    state.add_argument("--area", help="only this area (territory)")
    state.add_argument("--track", help="only this track (talks)")
    state.set_defaults(run=cmd_state)

    rebuild = commands.add_parser(
        "rebuild", help="rebuild the read model from the log while the service runs, then swap it in"
    )
    rebuild.add_argument(
        "--workers",
        type=int,
        help="processes for the bulk build (default: 1 per core up to 4 on PostgreSQL, 1 on SQLite)",
    )
    rebuild.set_defaults(run=cmd_rebuild)

    replay = commands.add_parser("replay", help="fold the log and compare it with the read model")
    replay.add_argument("--check", action="store_true", help="print differences; exit 1 if any")
    replay.add_argument(
        "--samples", type=int, default=20, help="past (as_of, known_at) to compare (default 20)"
    )
    replay.add_argument("--seed", type=int, default=0, help="picks the sample")
    replay.set_defaults(run=cmd_replay)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except CommandError as exc:
        print(f"timeline {args.command}: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
